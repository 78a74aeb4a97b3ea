"""The built book as a reader's browser shows it, with no network beyond localhost.

Every page of _build/html (or BOOK_HTML) is loaded once in headless Chromium from a local server;
the tests below then read what that load recorded: the console, every network request, the images,
the rendered math, the launch buttons, the citations and the links. `make browser` runs this file
after `make book-stored`; `make unit` leaves it out.
"""

from __future__ import annotations

import html.parser
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# Resolves once MathJax has typeset the page (if the page loads it), every image has loaded or
# failed, and every web font in use has loaded or failed; returns an error text or null.
WAIT_JS = """
const done = arguments[arguments.length - 1];
const mj = window.MathJax;
const typeset = (mj && mj.startup && mj.startup.promise) ? mj.startup.promise : Promise.resolve();
const images = [...document.images].map(img => img.complete ? null :
    new Promise(ok => { img.addEventListener('load', ok); img.addEventListener('error', ok); }));
// Two frames after typesetting the browser has laid the formulas out and so asked for their fonts.
const frames = () => new Promise(ok => requestAnimationFrame(() => requestAnimationFrame(ok)));
typeset.then(frames).then(() => Promise.all(images)).then(() => document.fonts.ready)
    .then(() => done(null), err => done(String(err)));
"""

# What the tests need from the rendered page. "prose" is the text of every text node outside code,
# scripts and MathJax's own output: hidden dropdowns (exercise solutions) count too, so a formula
# there that MathJax left as TeX is caught even though innerText would not show it.
COLLECT_JS = """
const skip = new Set(['PRE', 'CODE', 'SCRIPT', 'STYLE', 'TEXTAREA', 'TEMPLATE', 'NOSCRIPT', 'MJX-CONTAINER']);
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode(node) {
    for (let el = node.parentElement; el; el = el.parentElement)
        if (skip.has(el.tagName)) return NodeFilter.FILTER_REJECT;
    return NodeFilter.FILTER_ACCEPT;
}});
const prose = [];
while (walker.nextNode()) prose.push(walker.currentNode.nodeValue);
const math = [...document.querySelectorAll('.math')];
return {
    prose: prose.join(' '),
    images: [...document.images].map(img => ({
        src: img.getAttribute('src'), alt: img.getAttribute('alt'),
        width: img.naturalWidth, complete: img.complete})),
    math: math.length,
    math_unrendered: math.filter(m => !m.querySelector('mjx-container'))
        .map(m => m.textContent.trim().slice(0, 80)),
    mjx_containers: document.querySelectorAll('mjx-container').length,
    mjx_errors: [...document.querySelectorAll('mjx-merror')]
        .map(e => e.getAttribute('data-mjx-error') || e.textContent),
    mathjax_scripts: [...document.scripts].map(s => s.src).filter(src => /mathjax/i.test(src)),
    fonts: [...document.fonts].map(f => [f.family.replace(/["']/g, ''), f.status]),
    links: [...document.querySelectorAll('a[href]')].map(a => ({
        href: a.getAttribute('href'), url: a.href, text: a.textContent.trim().slice(0, 60)})),
    // sphinxcontrib-bibtex writes each {cite:p} as a span.bibtex-citation of links to entries.
    citations: [...document.querySelectorAll('.bibtex-citation')].map(span => ({
        text: span.textContent.trim().slice(0, 80),
        urls: [...span.querySelectorAll('a[href]')].map(a => a.href)})),
};
"""

CHAPTER = "notebooks/04_reproducing_the_paper.html"  # the screenshot's chapter: formulas, a table, figures
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$")
FILE_NAME = re.compile(r"(^|[\\/])[\w.-]+\.(png|jpe?g|gif|svg|webp)$|^[0-9a-f]{16,}$", re.I)
# Sphinx 7.4 (the newest jupyter-book 1 allows) writes every inline script that an extension adds
# after the builder starts twice (sphinx-doc/sphinx#13402, fixed in Sphinx 8.2); sphinx-thebe's
# declares `const THEBE_JS_URL`, so the second copy stops with a SyntaxError. The first copy has
# already run, so nothing is lost; any other console error fails the test.
KNOWN_CONSOLE_ERRORS = re.compile(r"Identifier 'THEBE_JS_URL' has already been declared")
# Schemes a page may use without asking the network for anything.
INLINE_SCHEMES = {"data", "blob", "about"}


@dataclass
class Load:
    """What loading one page recorded."""

    url: str
    console_errors: list[str]
    requests: list[str]  # every URL the page asked for, in order
    failed: dict[str, str]  # URL -> Chromium's error text (net::ERR_...)
    status: dict[str, int]  # URL -> HTTP status
    dom: dict = field(default_factory=dict)


def _network(entries: list[dict]) -> tuple[list[str], dict[str, str], dict[str, int]]:
    """The DevTools network events of Chromium's performance log, as requests, failures and statuses."""
    urls: dict[str, str] = {}
    requests, failed, status = [], {}, {}
    for entry in entries:
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            url = params["request"]["url"]
            urls[params["requestId"]] = url
            requests.append(url)
        elif message["method"] == "Network.responseReceived":
            status[params["response"]["url"]] = params["response"]["status"]
        elif message["method"] == "Network.loadingFailed" and params["requestId"] in urls:
            failed[urls[params["requestId"]]] = params.get("errorText", "?")
    return requests, failed, status


@dataclass
class Source:
    """The folder the book was built from (its _config.yml, _toc.yml, notebooks, .bib files)."""

    root: Path
    config: dict
    toc: dict


@pytest.fixture(scope="session")
def source(html_dir) -> Source:
    # A book built elsewhere (a copy in a temporary folder) is checked against its own sources.
    root = html_dir.parents[1]
    if not (root / "_config.yml").is_file() or not (root / "_toc.yml").is_file():
        root = ROOT
    config, toc = (yaml.safe_load((root / name).read_text()) for name in ("_config.yml", "_toc.yml"))
    return Source(root, config, toc)


@pytest.fixture(scope="session")
def visit(driver, server):
    """Load a page once (memoised); later tests read what the load recorded."""
    loads: dict[str, Load] = {}

    def load(page: str) -> Load:
        if page not in loads:
            if driver.current_url.startswith(server):
                # Each page is a reader's first visit: nothing stored by the pages before it.
                driver.execute_script("localStorage.clear(); sessionStorage.clear();")
            driver.get_log("browser"), driver.get_log("performance")  # drop what the last page left
            driver.get(server + page)
            waited = driver.execute_async_script(WAIT_JS)
            assert waited is None, f"{page}: waiting for MathJax, images and fonts failed: {waited}"
            dom = driver.execute_script(COLLECT_JS)
            console = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            requests, failed, status = _network(driver.get_log("performance"))
            loads[page] = Load(driver.current_url, console, requests, failed, status, dom)
        return loads[page]

    return load


class _Anchors(html.parser.HTMLParser):
    """Every id and name in a page, and the ids of its bibliography entries."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.entries: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for key in ("id", "name"):
            if attributes.get(key):
                self.ids.add(attributes[key])
        if attributes.get("role") == "doc-biblioentry" and attributes.get("id"):
            self.entries.append(attributes["id"])


@cache
def _anchors(path: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(path.read_text(errors="replace"))
    return parser


def _local_target(url: str, server: str, html_dir: Path) -> tuple[Path, str] | None:
    """The file and fragment a URL on the local server points at; None for any other URL."""
    if not url.startswith(server):
        return None
    parts = urlsplit(url)
    path = html_dir / unquote(parts.path).lstrip("/")
    if parts.path.endswith("/"):
        path = path / "index.html"
    return path, unquote(parts.fragment)


def _bibliography_page(html_dir: Path) -> Path:
    pages = [p for p in html_dir.rglob("*.html") if _anchors(p).entries]
    assert len(pages) == 1, f"expected one page with bibliography entries, found {pages}"
    return pages[0]


def _source_notebook(page: str, html_dir: Path) -> str | None:
    """The repository path of the notebook a page was built from, or None for a Markdown page."""
    stem = page.removesuffix(".html")
    return f"{stem}.ipynb" if (html_dir / "_sources" / f"{stem}.ipynb").is_file() else None


# --- the book's structure --------------------------------------------------------------------------


def test_every_toc_entry_is_a_built_page(pages, source):
    toc = source.toc
    entries = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part.get("chapters", [])]
    missing = [e for e in entries if f"{e}.html" not in pages]
    assert not missing, f"table-of-contents entries with no page in the built book: {missing}"


def test_index_redirects_to_the_root_page(driver, server, source):
    from selenium.webdriver.support.ui import WebDriverWait

    root = f"{source.toc['root']}.html"
    driver.get(server + "index.html")
    WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith(root))
    assert driver.title, "the root page has no title"


# --- each page, as loaded -----------------------------------------------------------------------


def test_page_loads_without_console_errors(page, visit, server):
    # The browser asks every server for /favicon.ico by itself when a page names no icon; that 404
    # is not a request of the book's.
    errors = [
        e
        for e in visit(page).console_errors
        if not KNOWN_CONSOLE_ERRORS.search(e) and not e.startswith(server + "favicon.ico ")
    ]
    assert not errors, f"{page}: console errors:\n" + "\n".join(errors)


def test_page_loads_nothing_from_outside_the_book(page, visit, server):
    # The book must work offline: every script, style sheet, font and image comes from the book.
    load = visit(page)
    external = [
        u for u in load.requests if not u.startswith(server) and urlsplit(u).scheme not in INLINE_SCHEMES
    ]
    assert not external, f"{page}: requests outside the book at load time:\n" + "\n".join(external)
    ours = [u for u in load.requests if u.startswith(server) and u != server + "favicon.ico"]
    broken = {u: load.failed[u] for u in ours if u in load.failed}
    broken.update({u: load.status[u] for u in ours if load.status.get(u, 200) >= 400})
    assert not broken, f"{page}: resources of the book that failed to load: {broken}"


def test_images_load(page, visit):
    bad = [img["src"] for img in visit(page).dom["images"] if not (img["complete"] and img["width"] > 0)]
    assert not bad, f"{page}: images that did not load: {bad}"


def test_images_have_alt_text(page, visit):
    # myst-nb writes a figure's file name as its alt text unless the cell sets
    # metadata.mystnb.image.alt; a file name tells a screen-reader user nothing.
    bad = [
        img["src"]
        for img in visit(page).dom["images"]
        if not (img["alt"] or "").strip() or FILE_NAME.search(img["alt"].strip())
    ]
    assert not bad, f"{page}: {len(bad)} image(s) without a real alt text: {bad}"


def test_math_renders_offline(page, visit, server):
    dom = visit(page).dom
    text = dom["prose"]
    raw = sorted({text[max(0, m.start() - 30) : m.end() + 30] for m in RAW_TEX.finditer(text)})
    assert not raw, f"{page}: TeX left unrendered in the text: {raw}"
    if not dom["math"]:
        return
    assert dom["mathjax_scripts"], f"{page}: has math but loads no MathJax"
    for src in dom["mathjax_scripts"]:
        assert src.startswith(server + "_static/mathjax/"), f"{page}: MathJax not from the book: {src}"
    assert not dom["math_unrendered"], f"{page}: math MathJax did not typeset: {dom['math_unrendered']}"
    assert dom["mjx_containers"] >= dom["math"]
    assert not dom["mjx_errors"], f"{page}: MathJax errors: {dom['mjx_errors']}"
    # CHTML output draws with MathJax's own web fonts (families MJXTEX*, MJXZERO); without them the
    # formulas would silently fall back to system fonts.
    fonts = [(family, status) for family, status in dom["fonts"] if family.startswith("MJX")]
    assert any(status == "loaded" for _, status in fonts), f"{page}: no MathJax font loaded: {fonts}"
    assert not [f for f in fonts if f[1] == "error"], f"{page}: MathJax fonts failed: {fonts}"


def test_launch_links_open_this_pages_notebook(page, visit, html_dir, source):
    links = [link["url"] for link in visit(page).dom["links"]]
    launch = source.config["launch_buttons"]
    colab = [u for u in links if u.startswith(launch["colab_url"])]
    binder = [u for u in links if u.startswith(launch["binderhub_url"])]
    notebook = _source_notebook(page, html_dir)
    if notebook is None:
        assert not colab and not binder, f"{page} is not a notebook but offers launch links: {colab + binder}"
        return
    assert (source.root / notebook).is_file(), f"{page}: its notebook {notebook} is not in the sources"
    repo = source.config["repository"]
    owner_name = urlsplit(repo["url"]).path.strip("/")
    path = "/".join(p for p in (repo.get("path_to_book", "").strip("/"), notebook) if p)
    tree = {"jupyterlab": "lab/tree", "classic": "tree"}[launch.get("notebook_interface", "classic")]
    assert colab == [f"{launch['colab_url']}/github/{owner_name}/blob/{repo['branch']}/{path}"]
    assert binder == [f"{launch['binderhub_url']}/v2/gh/{owner_name}/{repo['branch']}?urlpath={tree}/{path}"]


def test_citations_point_at_bibliography_entries(page, visit, server, html_dir):
    bibliography = _bibliography_page(html_dir)
    entries = set(_anchors(bibliography).entries)
    dom = visit(page).dom
    assert "{cite" not in dom["prose"], f"{page}: a citation role was printed instead of resolved"
    bad = []
    for citation in dom["citations"]:
        targets = [_local_target(url, server, html_dir) for url in citation["urls"]]
        if not targets or not all(t and t[0] == bibliography and t[1] in entries for t in targets):
            bad.append(citation["text"])
    assert not bad, f"{page}: citations that do not point at bibliography entries: {bad}"


def test_internal_links_resolve(page, visit, server, html_dir):
    bad = []
    for link in visit(page).dom["links"]:
        if link["href"] == "#" or not (target := _local_target(link["url"], server, html_dir)):
            continue
        path, fragment = target
        if not path.is_file():
            bad.append(f"{link['href']} (no file)")
        elif fragment and path.suffix == ".html" and fragment not in _anchors(path).ids:
            bad.append(f"{link['href']} (no anchor #{fragment})")
    assert not bad, f"{page}: broken links: {bad}"


# --- the book as a whole -----------------------------------------------------------------------


def test_bibliography_lists_every_reference(html_dir, source):
    # book/bibliography.md uses {bibliography} with :all:, so it lists every entry of the .bib file.
    bibliography = _bibliography_page(html_dir)
    bib = "\n".join((source.root / f).read_text() for f in source.config["bibtex_bibfiles"])
    keys = re.findall(r"^@(?!comment|string|preamble)\w+\{", bib, re.M | re.I)
    assert len(_anchors(bibliography).entries) == len(keys) > 0


def test_screenshots(driver, server, html_dir, source):
    # For a person to look at: the root page and one chapter, as a reader's window shows them.
    folder = html_dir.parent / "screenshots"  # _build/screenshots next to _build/html
    folder.mkdir(parents=True, exist_ok=True)
    shots = [(f"{source.toc['root']}.html", None, "intro.png"), (CHAPTER, None, "chapter.png")]
    shots.append((CHAPTER, ".cell_output img", "chapter-figure.png"))  # the chapter's first figure
    for page, element, name in shots:
        driver.get(server + page)
        assert driver.execute_async_script(WAIT_JS) is None
        if element:
            driver.execute_script(f"document.querySelector('{element}').scrollIntoView();")
        assert driver.save_screenshot(str(folder / name))
        assert (folder / name).stat().st_size > 10_000
