"""Chapter 8's figures, from the rows of :mod:`multlib.interaction_study` (or, for the context sweep,
from models trained in the notebook): medians over seeds as lines, every seed as a dot."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import NullLocator
import numpy as np

from multlib.data import Range
from multlib.interaction_study import COND_MODELS, GLU_MODELS, GLU_TEST, TASKS, Z_OUT, Z_TRAIN
from multlib.plotting import COLORS, shade_range

__all__ = ["plot_width", "plot_data", "plot_conditional", "plot_glu", "plot_context_sweep", "MODEL_COLORS"]

MODEL_COLORS: dict[str, str] = dict(zip(COND_MODELS, COLORS))
"""One colour per conditional-computation model, the same in every figure of the chapter."""


def _part(rows: Sequence[dict[str, Any]], part: str) -> list[dict[str, Any]]:
    sub = [r for r in rows if r["part"] == part]
    if not sub:
        raise ValueError(f"rows must hold {part!r} rows of the interaction study, got none")
    return sub


def _line_and_dots(ax: plt.Axes, xs: Sequence[float], values: Sequence[Sequence[float]], color: str, label: str,
                   ls: str = "-", marker: str = "o") -> None:
    ax.plot(xs, [np.median(v) for v in values], ls=ls, marker=marker, color=color, label=label, ms=4)
    for x, v in zip(xs, values):
        ax.scatter([x] * len(v), v, color=color, s=10, alpha=0.5, zorder=3)


def plot_width(rows: Sequence[dict[str, Any]], *, title: str) -> Any:
    """Relative test MSE of the concatenation MLPs against their hidden width, one line per ``d``;
    the MI layer (one width only) as a dashed line of the same colour at its median."""
    sub = _part(rows, "width")
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    widths = sorted({r["width"] for r in sub if r["model"] == "concat"})
    for k, d in enumerate(sorted({r["d"] for r in sub})):
        color = COLORS[k % len(COLORS)]
        concat = [[r["error"] for r in sub if (r["model"], r["d"], r["width"]) == ("concat", d, w)] for w in widths]
        mi = [r for r in sub if (r["model"], r["d"]) == ("mi", d)]
        _line_and_dots(ax, widths, concat, color, f"concat MLP, d = {d}")
        ax.axhline(np.median([r["error"] for r in mi]), color=color, ls="--", lw=1.2,
                   label=f"MI layer, d = {d} ({mi[0]['params']} weights)")
    ax.set(xscale="log", yscale="log", xlabel="hidden width of the concatenation MLP (one ReLU layer)",
           ylabel="relative test MSE (MSE / var y)", title=title)
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    return fig


def plot_data(rows: Sequence[dict[str, Any]], *, title: str) -> Any:
    """Relative test MSE against the size of a fixed training set (``d = 8``): concatenation MLPs by
    width and the MI layer."""
    sub = _part(rows, "data")
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    sizes = sorted({r["n_train"] for r in sub})
    series = [("concat", w, f"concat MLP, width {w}") for w in sorted({r["width"] for r in sub if r["model"] == "concat"})]
    for k, (model, w, label) in enumerate(series + [("mi", 0, "MI layer")]):
        values = [[r["error"] for r in sub if (r["model"], r["width"], r["n_train"]) == (model, w, n)] for n in sizes]
        _line_and_dots(ax, sizes, values, "black" if model == "mi" else COLORS[k % len(COLORS)], label,
                       ls="--" if model == "mi" else "-")
    ax.set(xscale="log", yscale="log", xlabel="training rows (fixed set, d = 8)",
           ylabel="relative test MSE (MSE / var y)", title=title)
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    return fig


def plot_conditional(rows: Sequence[dict[str, Any]], *, title: str, tasks: Sequence[str] = TASKS) -> Any:
    """For each task (a row of panels): left, the error with ``z`` inside its training range against
    the training rows; right, at the largest training set, each model's error inside (circles) and
    outside (triangles) the training range of ``z``, one dot per seed."""
    sub = _part(rows, "conditional")
    fig, axes = plt.subplots(len(tasks), 2, figsize=(12, 3.6 * len(tasks)), squeeze=False)
    for (ax_n, ax_io), task in zip(axes, tasks):
        mine = [r for r in sub if r["task"] == task]
        if not mine:
            raise ValueError(f"tasks names {task!r}, which has no rows")
        sizes = sorted({r["n_train"] for r in mine})
        models = [m for m in COND_MODELS if any(r["model"] == m for r in mine)]
        for m in models:
            values = [[r["error"] for r in mine if (r["model"], r["n_train"]) == (m, n)] for n in sizes]
            _line_and_dots(ax_n, sizes, values, MODEL_COLORS[m], m)
        ax_n.set(xscale="log", yscale="log", xlabel="training rows", ylabel=f"relative MSE, z in {list(Z_TRAIN)}",
                 title=f"{task}: error inside the training range of z")
        ax_n.set_xticks(sizes, [f"{n:,}" for n in sizes])
        ax_n.xaxis.set_minor_locator(NullLocator())
        ax_n.legend(fontsize=8)
        big = [r for r in mine if r["n_train"] == sizes[-1]]
        for k, m in enumerate(models):
            for key, dx, marker, label in (("error", -0.15, "o", f"z in {list(Z_TRAIN)} (training range)"),
                                           ("error_out", 0.15, "^", f"z in {list(Z_OUT)}")):
                v = [r[key] for r in big if r["model"] == m]
                ax_io.scatter(np.full(len(v), k + dx), v, marker=marker, color=MODEL_COLORS[m], s=22,
                              facecolors="none" if marker == "^" else MODEL_COLORS[m],
                              label=label if k == 0 else None)
        ax_io.set_xticks(range(len(models)), models)
        ax_io.set(yscale="log", ylabel="relative MSE", xlim=(-0.6, len(models) - 0.4),
                  title=f"{task}: inside and outside, {sizes[-1]:,} training rows")
        ax_io.legend(fontsize=8)
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


def plot_glu(rows: Sequence[dict[str, Any]], *, title: str) -> Any:
    """The GLU box: each model's mean relative error on ``(1, 5)^2`` after training on ``(0, 1)^2``,
    one dot per seed and a bar at the median (log axis; round-off shown at ``1e-12``)."""
    sub = _part(rows, "glu")
    models = [m for m in GLU_MODELS if any(r["model"] == m for r in sub)]
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for k, m in enumerate(models):
        v = np.maximum([r["error_out"] for r in sub if r["model"] == m], 1e-12)
        ax.bar(k, np.median(v), color=COLORS[k % len(COLORS)], alpha=0.35)
        ax.scatter(np.full(len(v), k), v, color=COLORS[k % len(COLORS)], s=14, zorder=3)
    ax.set_xticks(range(len(models)), [m.replace("_", "\n", 1) for m in models], fontsize=8)
    ax.set(yscale="log", ylabel=f"mean |f - y| / y on {list(GLU_TEST)}$^2$", title=title)
    fig.tight_layout()
    return fig


def plot_context_sweep(t: np.ndarray, errors: Mapping[str, np.ndarray], train_range: Range = Z_TRAIN, *,
                       title: str, xlabel: str = "context z1 = z2 = t", ylabel: str = "relative MSE over x",
                       ax: plt.Axes | None = None) -> plt.Axes:
    """Each model's error against a context value ``t`` (log axis), the training range shaded."""
    t = np.asarray(t, dtype=float).reshape(-1)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.0))
    shade_range(ax, train_range, label="training range of z")
    for k, (name, err) in enumerate(errors.items()):
        err = np.asarray(err, dtype=float).reshape(-1)
        if err.shape != t.shape:
            raise ValueError(f"errors[{name!r}] must have the shape of t {t.shape}, got {err.shape}")
        ax.plot(t, np.maximum(err, 1e-14), color=MODEL_COLORS.get(name, COLORS[k % len(COLORS)]), label=name)
    ax.set(yscale="log", xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return ax
