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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_ends_with_exercises_whose_solutions_are_gated(path):
    # Two or three exercises before the take-away; each solution sits between solution-start and
    # solution-end, so its code cells stay ordinary cells that nbval executes and compares.
    markdown = ["".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown"]
    headings = [text.splitlines()[0] for text in markdown if text.startswith("## ")]
    assert headings[-2:] == ["## Exercises", "## What to take away"], headings[-2:]
    labels = [m for text in markdown for m in re.findall(r"```\{exercise\}\n:label: (\S+)", text)]
    starts = [m for text in markdown for m in re.findall(r"```\{solution-start\} (\S+)", text)]
    ends = sum(text.count("```{solution-end}") for text in markdown)
    assert 2 <= len(labels) <= 3 and starts == labels and ends == len(labels), (labels, starts, ends)
    assert all(label.startswith(f"ex-{path.stem.split('_')[0]}-") for label in labels), labels


def test_exercise_labels_are_unique_across_the_book():
    labels = [m for p in NOTEBOOKS for m in re.findall(r":label: (ex-\S+?)\\n", p.read_text())]
    assert labels and len(labels) == len(set(labels)), labels


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_has_alt_text_and_sliders_stay_out_of_the_comparison(path):
    nb = json.loads(path.read_text())
    assert "widgets" not in nb["metadata"], "stored widget state makes the book load scripts from CDNs"
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        tags = cell["metadata"].get("tags", [])
        if "remove-output" not in tags and any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
            alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
            assert len(alt) > 20, f"{cell['id']}: a figure needs alt text that states what it shows"
        if re.search(r"\bknobs\(", source):
            assert source.startswith("# NBVAL_IGNORE_OUTPUT") and "remove-output" in tags, cell["id"]
