"""Fixtures for the browser test: the built book served on localhost and one headless Chromium.

The book is read from BOOK_HTML (default: _build/html next to this repository's _config.yml). The
browser is Debian's chromium driven through Debian's chromedriver, both named by path so that
Selenium Manager never runs (it would try to download a browser and a driver). CHROMIUM and
CHROMEDRIVER override the two paths.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")


def book_html() -> Path:
    """The built book's HTML folder: BOOK_HTML, or _build/html of this repository."""
    return Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html")).resolve()


def book_pages(html: Path) -> list[str]:
    """Every page of the built book, as paths relative to html: all .html files but Sphinx's
    search and index pages, _static/ (the theme's and MathJax's files) and redirect stubs
    (index.html, written by jupyter-book to send the reader to the root page)."""
    pages = []
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html).as_posix()
        if rel.startswith(("_static/", "_sources/")) or rel in {"search.html", "genindex.html"}:
            continue
        if re.search(r"<meta[^>]+http-equiv=.refresh", path.read_text(errors="replace")[:2000], re.I):
            continue
        pages.append(rel)
    return pages


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # One test per page and check, so that a failure names the page. Without a built book there are
    # no pages; the html_dir fixture then skips or fails with the reason.
    if "page" in metafunc.fixturenames:
        metafunc.parametrize("page", book_pages(book_html()) or ["(no built book)"])


@pytest.fixture(scope="session")
def html_dir() -> Path:
    path = book_html()
    if not (path / "index.html").is_file():
        message = f"no built book at {path} (build it first: make book-stored)"
        # `make browser` names the folder; there a missing book is an error, not a reason to skip.
        if "BOOK_HTML" in os.environ:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def pages(html_dir: Path) -> list[str]:
    return book_pages(html_dir)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass  # one line per request would bury pytest's output


@pytest.fixture(scope="session")
def server(html_dir: Path) -> Iterator[str]:
    """Serve the book on a free localhost port; yields the base URL, ending in '/'."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def driver() -> Iterator[object]:
    """One headless Chromium for the whole session, with its console and network logs recorded."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        pytest.skip(f"browser test needs Debian's chromium and chromedriver; missing: {', '.join(missing)}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="book-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1366,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    # 'browser' gives the console (SEVERE = errors); 'performance' gives the DevTools network events.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    chrome = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    chrome.set_page_load_timeout(60)
    chrome.set_script_timeout(60)
    # Start from a blank page, so that the first book page's logs hold nothing of the start page's.
    chrome.get("about:blank")
    try:
        yield chrome
    finally:
        chrome.quit()
        shutil.rmtree(profile, ignore_errors=True)
