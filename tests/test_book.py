"""The book's structure: every chapter in the table of contents, titled, installable in Colab."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))  # 01_..., 05a_...
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [c["file"] for part in toc["parts"] for c in part.get("chapters", [])]


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def test_every_notebook_is_in_the_toc_in_order():
    chapters = [f for f in _toc_files() if f.startswith("notebooks/")]
    assert chapters == [f"notebooks/{p.stem}" for p in NOTEBOOKS]
    assert NOTEBOOKS, "no chapters found"


def test_toc_has_the_three_parts():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    captions = [part["caption"] for part in toc["parts"]]
    assert captions[:3] == ["The question", "The paper", "Beyond the paper"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_with_colab_install_and_one_title(path):
    cells = _cells(path)
    install = "".join(cells[0]["source"])
    # The install cell runs in Colab and Jupyter; the book leaves it out (tag remove-cell).
    assert cells[0]["cell_type"] == "code" and "remove-cell" in cells[0]["metadata"].get("tags", [])
    # It looks for multlib without importing it (so no TensorFlow start-up log) and prints nothing,
    # not even on stderr, where multlib is installed.
    assert "find_spec" in install and "import multlib" not in install
    assert not cells[0].get("outputs"), "the install cell's stored output must be empty"
    url = CONFIG["repository"]["url"]
    assert f"git+{url}" in install, "the Colab install cell must point at _config.yml's repository"
    markdown = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    titles = [line for text in markdown for line in text.splitlines() if re.match(r"# \S", line)]
    assert len(titles) == 1 and markdown[0].startswith("# ")
    assert "take away" in markdown[-1].splitlines()[0].lower()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_executed_in_order(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code]
    assert None not in counts and counts == sorted(counts)
    for cell in code:
        assert not re.search(r"plt\.\w+\(.*\);\s*$", "".join(cell["source"]), re.M)


def test_citations_exist_in_the_bibliography():
    bib = (ROOT / "book" / "references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    sources = [p.read_text() for p in NOTEBOOKS] + [p.read_text() for p in (ROOT / "book").glob("*.md")]
    cited = {k.strip() for text in sources for group in re.findall(r"\{cite:[pt]\}`([^`]+)`", text)
             for k in group.split(",")}
    assert cited and cited <= keys, f"unknown citation keys: {sorted(cited - keys)}"
