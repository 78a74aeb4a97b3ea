"""Summaries of the committed studies: what the chapters print and draw from the rows.

Each study module (:mod:`multlib.sweep`, :mod:`multlib.compare`, :mod:`multlib.ranking`) only runs
its experiment and reads its committed rows; this module turns rows into the numbers a chapter
shows, one section per study:

* Chapter 4 (the sweep): :func:`summarize` (mean and spread over seeds per task and pair),
  :func:`best_pairs`, :func:`loss_curves` and :func:`table_one` (the paper's Table I rebuilt);
* Chapter 5b (the comparison): :func:`success_table`, :func:`count_successes`,
  :func:`format_success_summary`, :func:`diverged_counts` and :func:`heatmap_grid` (what
  :func:`multlib.plotting.plot_success_heatmap` draws);
* Chapter 6 (the ranking study): :func:`summarise_ranking`, :func:`format_ranking_table` and
  :func:`format_ranking_spread`;
* Chapter 7 (the Feynman study): :func:`feynman_counts`, :func:`format_feynman_table`,
  :func:`solved_equations` and :func:`seconds_per_fit`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from multlib.data import PAPER_TABLE_I, PAPER_TASKS, PaperResult
from multlib.feynman import FAMILIES
from multlib.feynman_study import CLOSE
from multlib.ranking import METRICS as RANKING_METRICS
from multlib.sweep import PAPER_PAIR
from multlib.units import wilson_interval

__all__ = [
    "PairSummary",
    "summarize",
    "best_pairs",
    "loss_curves",
    "TableRow",
    "table_one",
    "success_table",
    "count_successes",
    "SUMMARY_GROUPS",
    "format_success_summary",
    "diverged_counts",
    "heatmap_grid",
    "summarise_ranking",
    "format_ranking_table",
    "format_ranking_spread",
    "feynman_counts",
    "format_feynman_table",
    "solved_equations",
    "seconds_per_fit",
]


# --------------------------------------------------------------------------------------------------
# Chapter 4: the sweep
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairSummary:
    """One (task, pair) over seeds: mean and spread of a metric, and how many seeds diverged."""

    task: str
    pair: tuple[str, str]
    mean: float
    std: float
    n_seeds: int
    n_failed: int

    @property
    def label(self) -> str:
        return "_".join(self.pair)


def summarize(rows: Sequence[dict[str, Any]], metric: str = "test_percentage_error") -> dict[tuple[str, str, str], PairSummary]:
    """Mean and standard deviation over seeds of ``metric`` for every (task, a1, a2).

    A seed whose value is NaN or infinite (a diverged member, an overflowing ``symexp``) counts as
    failed; the mean of a pair with any failed seed is ``inf``, so it never ranks as a best pair.
    """
    if not rows:
        raise ValueError("rows must not be empty")
    if metric not in rows[0]:
        raise ValueError(f"metric must be a column of the results, got {metric!r}")
    groups: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        groups.setdefault((r["task"], r["a1"], r["a2"]), []).append(float(r[metric]))
    out = {}
    for (task, a1, a2), values in groups.items():
        v = np.asarray(values)
        ok = np.isfinite(v)
        failed = int(np.sum(~ok))
        mean = float(np.mean(v)) if failed == 0 else math.inf
        std = float(np.std(v, ddof=1)) if failed == 0 and len(v) > 1 else (0.0 if failed == 0 else math.nan)
        out[(task, a1, a2)] = PairSummary(task, (a1, a2), mean, std, len(v), failed)
    return out


def best_pairs(
    summary: dict[tuple[str, str, str], PairSummary], task: str, k: int = 1, exclude: Sequence[tuple[str, str]] = (PAPER_PAIR,)
) -> list[PairSummary]:
    """The ``k`` pairs with the lowest mean on ``task`` (the paper's pair left out by default)."""
    candidates = [s for (t, a1, a2), s in summary.items() if t == task and (a1, a2) not in set(exclude)]
    if not candidates:
        raise ValueError(f"task {task!r} has no results")
    return sorted(candidates, key=lambda s: (s.mean, s.label))[:k]


def loss_curves(
    rows: Sequence[dict[str, Any]], curves: np.ndarray, task: str, pairs: Sequence[tuple[str, str]]
) -> dict[str, np.ndarray]:
    """Training loss per epoch, averaged over seeds, for each of ``pairs`` on ``task``."""
    if len(rows) != len(curves):
        raise ValueError(f"rows and curves must align, got {len(rows)} rows and {len(curves)} curves")
    out = {}
    for pair in pairs:
        idx = [i for i, r in enumerate(rows) if r["task"] == task and (r["a1"], r["a2"]) == tuple(pair)]
        if not idx:
            raise ValueError(f"no results for pair {pair!r} on task {task!r}")
        out["_".join(pair)] = np.mean(curves[idx], axis=0)
    return out


@dataclass(frozen=True)
class TableRow:
    """One task of Table I, rebuilt: our numbers next to the paper's."""

    task: str
    ours: PairSummary
    paper: PaperResult
    best_baseline: PairSummary
    papers_baseline: PairSummary

    def ratio_to_paper(self) -> float:
        """Our mean test error for the paper's model divided by the paper's reported value."""
        return self.ours.mean / self.paper.percentage_error


def table_one(summary: dict[tuple[str, str, str], PairSummary], tasks: Sequence[str] = PAPER_TASKS) -> list[TableRow]:
    """Table I of the paper rebuilt from :func:`summarize` of test errors, one row per task."""
    out = []
    for task in tasks:
        if (task, *PAPER_PAIR) not in summary:
            raise ValueError(f"the results hold no {PAPER_PAIR} run for task {task!r}")
        paper = PAPER_TABLE_I[task]
        out.append(TableRow(task, summary[(task, *PAPER_PAIR)], paper, best_pairs(summary, task, 1)[0],
                            summary[(task, *paper.next_best_pair)]))
    return out


# --------------------------------------------------------------------------------------------------
# Chapter 5b: the comparison
# --------------------------------------------------------------------------------------------------


def success_table(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Per (method, formula, domain): fits, successes, the Wilson 95 % interval, median error, status."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for key in dict.fromkeys((r["method"], r["formula"], r["domain"]) for r in rows):
        group = [r for r in rows if (r["method"], r["formula"], r["domain"]) == key]
        applicable = [r for r in group if r["status"] != "not applicable"]
        wins = sum(bool(r["success"]) for r in applicable)
        out[key] = dict(
            fits=len(applicable), successes=wins,
            rate=wins / len(applicable) if applicable else math.nan,
            interval=wilson_interval(wins, len(applicable)) if applicable else (math.nan, math.nan),
            median=float(np.median([r["mean"] for r in applicable])) if applicable else math.nan,
            status="not applicable" if not applicable else (
                "diverged" if all(r["status"] == "diverged" for r in applicable) else "ok"),
        )
    return out


def count_successes(rows: Sequence[dict[str, Any]], keep: Callable[[str, str], bool] = lambda f, d: True) -> str:
    """``"k/n"``: successes among the applicable rows whose ``(formula, domain)`` ``keep`` accepts;
    ``"n/a"`` when the method could take none of them."""
    applicable = [r for r in rows if keep(r["formula"], r["domain"]) and r["status"] != "not applicable"]
    return f"{sum(bool(r['success']) for r in applicable)}/{len(applicable)}" if applicable else "n/a"


SUMMARY_GROUPS: dict[str, Callable[[str, str], bool]] = {
    "all": lambda f, d: True,
    "paper range": lambda f, d: d == "paper",
    "[1,2]->[2,6]": lambda f, d: d == "nmu",
    "below one": lambda f, d: d == "below_one",
    "signed": lambda f, d: d == "signed",
    "division": lambda f, d: f == "x1/x2",
    "sum x1(x2+x3)+x4": lambda f, d: f == "x1(x2+x3)+x4",
}
"""Groups of benchmark cells, ``(formula, domain) -> bool``, that Chapter 5b counts successes over."""


def format_success_summary(
    rows: Sequence[dict[str, Any]], groups: dict[str, Callable[[str, str], bool]] = SUMMARY_GROUPS
) -> str:
    """A text table: per method (in the rows' order), its successes ``"k/n"`` in each group of cells
    (:func:`count_successes`) and the lowest median error of any one cell (:func:`success_table`)."""
    table = success_table(rows)
    lines = [f"{'method':12s} " + " ".join(f"{g:>16s}" for g in groups) + "  lowest cell median"]
    for m in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == m]
        medians = [t["median"] for (mm, _, _), t in table.items() if mm == m and t["status"] != "not applicable"]
        lowest = min(medians, default=math.nan)
        lines.append(f"{m:12s} " + " ".join(f"{count_successes(mine, keep):>16s}" for keep in groups.values())
                     + f"  {lowest:18.0e}")
    return "\n".join(lines)


def diverged_counts(rows: Sequence[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Per method with a diverged fit (in the rows' order): its diverged fits, all and on the signed domain."""
    out: dict[str, tuple[int, int]] = {}
    for m in dict.fromkeys(r["method"] for r in rows):
        gone = [r for r in rows if r["method"] == m and r["status"] == "diverged"]
        if gone:
            out[m] = (len(gone), sum(r["domain"] == "signed" for r in gone))
    return out


def heatmap_grid(
    table: dict[tuple[str, str, str], dict[str, Any]],
    methods: Sequence[str],
    cells: Sequence[tuple[str, str]],
    floor: float = 1e-8,
    ceiling: float = 1e2,
) -> tuple[np.ndarray, list[list[str]]]:
    """What :func:`multlib.plotting.plot_success_heatmap` draws from a :func:`success_table`.

    Returns the ``(cells, methods)`` grid of log10 median test errors, clipped to
    ``[log10 floor, log10 ceiling]`` so that round-off and blow-ups share one colour scale (NaN where
    the method cannot take the data), and the matching ``"k/n"`` success labels.
    """
    if not 0 < floor < ceiling:
        raise ValueError(f"floor and ceiling must satisfy 0 < floor < ceiling, got {floor!r} and {ceiling!r}")
    values = np.full((len(cells), len(methods)), np.nan)
    labels = []
    for i, (f, d) in enumerate(cells):
        row = []
        for j, m in enumerate(methods):
            t = table[(m, f, d)]
            if t["status"] != "not applicable":
                values[i, j] = np.log10(np.clip(t["median"], floor, ceiling))
            row.append(f"{t['successes']}/{t['fits']}")
        labels.append(row)
    return values, labels


# --------------------------------------------------------------------------------------------------
# Chapter 6: the ranking study
# --------------------------------------------------------------------------------------------------


def summarise_ranking(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, float], dict[str, float]]:
    """Per ``(method, sigma)``: the median over seeds of every metric (:data:`multlib.ranking.METRICS`), and ``fits``."""
    out: dict[tuple[str, float], dict[str, float]] = {}
    for key in dict.fromkeys((r["method"], float(r["sigma"])) for r in rows):
        group = [r for r in rows if (r["method"], float(r["sigma"])) == key]
        out[key] = {m: float(np.median([r[m] for r in group])) for m in RANKING_METRICS}
        out[key]["fits"] = len(group)
    return out


def _num(x: float, digits: int = 2) -> str:
    # Errors span decades: ``digits`` significant digits, thousands separated (1,800, not 1.8e+03).
    return f"{float(f'{x:.{digits}g}'):,g}"


def format_ranking_table(rows: Sequence[dict[str, Any]], digits: int = 2) -> str:
    """A plain-text table of :func:`summarise_ranking` (errors with ``digits`` significant digits, NDCG to 3 places)."""
    table = summarise_ranking(rows)
    head = f"{'method':10s} {'noise':>5s} {'held-out err':>12s} {'corpus err':>10s} {'NDCG@10':>7s} " \
           f"{'top-10':>6s} {'beyond p1':>9s} {'worst':>6s}"
    lines = [head, "-" * len(head)]
    for (method, sigma), t in table.items():
        lines.append(f"{method:10s} {sigma:5.1f} {_num(t['heldout_error'], digits):>12s} "
                     f"{_num(t['corpus_error'], digits):>10s} {t['ndcg']:7.3f} {t['overlap']:6.2f} {t['ndcg_deep']:9.3f} {t['deep_worst']:6.3f}")
    return "\n".join(lines)


def format_ranking_spread(rows: Sequence[dict[str, Any]], metrics: Sequence[str] = ("corpus_error", "ndcg_deep")) -> str:
    """A plain-text table of the lowest and highest value over seeds of each of ``metrics``, per
    ``(method, sigma)``: what the medians of :func:`format_ranking_table` hide."""
    if not rows:
        raise ValueError("rows must hold at least one study row, got none")
    unknown = [m for m in metrics if m not in RANKING_METRICS]
    if unknown:
        raise ValueError(f"metrics must be names in {RANKING_METRICS}, got {unknown}")
    label = {"heldout_error": "held-out err", "corpus_error": "corpus err", "ndcg": "NDCG@10", "overlap": "top-10",
             "ndcg_deep": "beyond p1", "deep_worst": "worst"}
    head = f"{'method':10s} {'noise':>5s}" + "".join(f" {label[m] + ', seeds':>22s}" for m in metrics)
    lines = [head, "-" * len(head)]
    for key in dict.fromkeys((r["method"], float(r["sigma"])) for r in rows):
        group = [r for r in rows if (r["method"], float(r["sigma"])) == key]
        cells = []
        for m in metrics:
            lo, hi = min(r[m] for r in group), max(r[m] for r in group)
            # Errors span decades (two significant digits); NDCG lives in [0, 1] (three places).
            if m.startswith(("ndcg", "deep", "overlap")):
                cells.append(f"{lo:.3f} to {hi:.3f}")
            else:
                cells.append(f"{_num(lo)} to {_num(hi)}")
        lines.append(f"{key[0]:10s} {key[1]:5.1f}" + "".join(f" {c:>22s}" for c in cells))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Chapter 7: the Feynman study
# --------------------------------------------------------------------------------------------------


def _below(row: dict[str, Any], threshold: float | None) -> bool:
    """Whether a fit succeeded (``threshold`` None: the study's own ``success``) or came within ``threshold``."""
    return bool(row["success"]) if threshold is None else row["status"] == "ok" and row["mean"] < threshold


def feynman_counts(
    rows: Sequence[dict[str, Any]], threshold: float | None = None
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """Per ``(method, noise, family)`` and ``(method, noise, "all")``: fits below the threshold and fits.

    ``threshold`` None counts successes (the book's threshold, 1e-5); a number counts fits whose mean
    relative test error is below it, e.g. :data:`multlib.feynman_study.CLOSE`. A fit the method could
    not make (``not applicable``, ``diverged``) counts as a fit that failed.
    """
    out: dict[tuple[str, str, str], list[int]] = {}
    for r in rows:
        for family in (r["family"], "all"):
            cell = out.setdefault((r["method"], r["noise"], family), [0, 0])
            cell[0] += _below(r, threshold)
            cell[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def format_feynman_table(
    rows: Sequence[dict[str, Any]],
    methods: Sequence[str] | None = None,
    noises: Sequence[str] | None = None,
    threshold: float | None = None,
) -> str:
    """A text table: per method and noise level (in the rows' order), its successes ``"k/n"`` by family and
    over all equations, the fits within :data:`multlib.feynman_study.CLOSE`, and its median seconds per fit.

    ``threshold`` as in :func:`feynman_counts`; ``methods`` and ``noises`` pick and order the rows.
    """
    if not rows:
        raise ValueError("rows must hold at least one study row, got none")
    methods = list(dict.fromkeys(r["method"] for r in rows)) if methods is None else list(methods)
    noises = list(dict.fromkeys(r["noise"] for r in rows)) if noises is None else list(noises)
    counts, close = feynman_counts(rows, threshold), feynman_counts(rows, CLOSE)
    seconds = seconds_per_fit(rows)
    columns = [*FAMILIES, "all"]
    head = f"{'method':20s} {'noise':>5s}" + "".join(f" {c:>15s}" for c in columns) + f" {'within 1 %':>10s} {'s/fit':>6s}"
    lines = [head, "-" * len(head)]
    for m in methods:
        for n in noises:
            if (m, n, "all") not in counts:
                continue
            cells = "".join(f" {'%d/%d' % counts.get((m, n, c), (0, 0)):>15s}" for c in columns)
            lines.append(f"{m:20s} {n:>5s}{cells} {'%d/%d' % close[(m, n, 'all')]:>10s} {seconds[m]:6.2f}")
    return "\n".join(lines)


def solved_equations(
    rows: Sequence[dict[str, Any]], method: str, noise: str = "none", threshold: float | None = None
) -> dict[str, tuple[int, int]]:
    """Per equation (in the rows' order): how many of ``method``'s seeds succeeded at ``noise``, and how many ran."""
    out: dict[str, list[int]] = {}
    for r in rows:
        if r["method"] == method and r["noise"] == noise:
            cell = out.setdefault(r["equation"], [0, 0])
            cell[0] += _below(r, threshold)
            cell[1] += 1
    if not out:
        raise ValueError(f"rows hold no fit of method {method!r} at noise {noise!r}")
    return {k: (v[0], v[1]) for k, v in out.items()}


def seconds_per_fit(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Per method (in the rows' order): the median of its rows' ``seconds`` (wall time per fit, scoring included)."""
    out: dict[str, list[float]] = {}
    for r in rows:
        out.setdefault(r["method"], []).append(float(r["seconds"]))
    return {m: float(np.median(v)) for m, v in out.items()}
