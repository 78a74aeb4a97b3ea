"""The library's design, checked: modules form layers, each imports only from the layers below it
(or beside it, within the building blocks), and the import graph has no cycle."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "multlib"

LAYERS: dict[str, int] = {
    # 1. building blocks
    **dict.fromkeys(["data", "activations", "metrics", "power_law", "models", "training", "fused", "fused_stack", "parallel",
                     "improved", "term_search", "term_trainer", "term_select", "units", "problems", "laws", "search", "feynman", "symbolic", "interactions", "reuse"], 1),
    # 2. committed results, 3. methods, 4. studies, 5. what the chapters show
    "results": 2,
    "methods": 3,
    **dict.fromkeys(["sweep", "compare", "ranking", "feynman_study", "interaction_study"], 4),
    **dict.fromkeys(["summaries", "plotting", "interactive", "knob_figures", "interaction_plots"], 5),
}


def imports(module: str) -> set[str]:
    """The multlib modules that ``module`` imports, at the top or inside a function."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("multlib"):
            if node.module == "multlib":
                found |= {alias.name for alias in node.names}
            else:
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("multlib.")}
    return found - {module}


def test_every_module_has_a_layer() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert modules == set(LAYERS), (modules - set(LAYERS), set(LAYERS) - modules)


@pytest.mark.parametrize("module", sorted(LAYERS))
def test_imports_point_down(module: str) -> None:
    upward = {m for m in imports(module) if LAYERS[m] > LAYERS[module]}
    assert not upward, f"multlib.{module} (layer {LAYERS[module]}) imports higher layers: {sorted(upward)}"


def test_the_import_graph_has_no_cycle() -> None:
    graph = {m: imports(m) for m in LAYERS}
    state: dict[str, str] = {}

    def visit(m: str, path: list[str]) -> None:
        if state.get(m) == "done":
            return
        assert state.get(m) != "open", f"import cycle: {' -> '.join(path + [m])}"
        state[m] = "open"
        for n in sorted(graph[m]):
            visit(n, path + [m])
        state[m] = "done"

    for m in sorted(graph):
        visit(m, [])


def test_the_check_sees_an_import_inside_a_function(tmp_path, monkeypatch) -> None:
    # A known answer for imports(): a function-local import counts as much as one at the top.
    (tmp_path / "a.py").write_text("from multlib import data\n\ndef f():\n    from multlib.sweep import run\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    assert imports("a") == {"data", "sweep"}
