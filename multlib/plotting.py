"""One plotting style for the whole book, and its figures: the recurring ones and the studies' own.

Every method of the book keeps one colour in every figure (:data:`METHOD_COLORS`). The figures of
the committed studies take their numbers from :mod:`multlib.summaries` (the comparison's heat map,
Chapter 7's :func:`plot_feynman`) or from rows and fits directly (Chapter 6's :func:`plot_scores`
and :func:`plot_noise`).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from multlib.data import Range, check_positive_int, check_range
from multlib.search import Corpus, Logs

__all__ = ["use_style", "shade_range", "plot_extrapolation", "plot_curves", "plot_curve_family", "plot_histograms",
           "plot_success_heatmap", "plot_scores", "plot_noise", "plot_feynman", "COLORS", "METHOD_COLORS", "method_color"]

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
TRAIN_SHADE = "#f2e6c9"
METHOD_COLORS: dict[str, str] = {
    **dict(zip(("relu_mlp", "paper", "power_law", "improved", "nau_nmu"), COLORS)),
    **dict(zip(("product_unit", "nalu", "npu", "realnpu"), COLORS[5:] + ["#bcbd22"])),
    # Chapter 7's: the improved network's variants in shades of its orange, symbolic regression in ink.
    "improved_select": "#ffbb78", "improved_ratio": "#ad494a", "symbolic_regression": "#393b79",
}
"""One colour per method of :data:`multlib.methods.METHODS`, the same in every figure."""


def method_color(name: str, k: int = 0) -> str:
    """The colour of method ``name``; a name outside :data:`METHOD_COLORS` takes the ``k``-th of :data:`COLORS`."""
    return METHOD_COLORS.get(name, COLORS[k % len(COLORS)])


def use_style() -> None:
    """Apply the book's plot style (call once per notebook)."""
    matplotlib.rcParams.update(
        {
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 96,
            "savefig.dpi": 96,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
            "axes.titleweight": "bold",
            "axes.prop_cycle": matplotlib.cycler(color=COLORS),
            "legend.frameon": False,
            "font.size": 10,
            # Plain SVG-free PNG output with fixed metadata keeps stored notebooks stable.
            "svg.hashsalt": "multlib",
        }
    )


def shade_range(ax: plt.Axes, train_range: Range, label: str = "training range") -> None:
    """Shade ``train_range`` on the x axis of ``ax``."""
    low, high = check_range(train_range, "train_range")
    ax.axvspan(low, high, color=TRAIN_SHADE, alpha=0.8, label=label, zorder=0)


def plot_extrapolation(
    x: np.ndarray,
    truth: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    train_range: Range,
    *,
    title: str,
    xlabel: str = "x",
    ylabel: str = "y",
    logy: bool = False,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Plot the true curve and each model's prediction against ``x``, with the training range shaded."""
    x = np.asarray(x).reshape(-1)
    truth = np.asarray(truth).reshape(-1)
    if truth.shape != x.shape:
        raise ValueError(f"truth must have the shape of x {x.shape}, got {truth.shape}")
    if ax is None:
        _, ax = plt.subplots()
    shade_range(ax, train_range)
    ax.plot(x, truth, color="black", lw=2.5, label="truth")
    for (name, pred), color in zip(predictions.items(), COLORS):
        pred = np.asarray(pred).reshape(-1)
        if pred.shape != x.shape:
            raise ValueError(f"predictions[{name!r}] must have the shape of x {x.shape}, got {pred.shape}")
        ax.plot(x, pred, color=color, lw=1.5, ls="--", label=name)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend()
    return ax


def plot_curves(
    x: Sequence[float] | np.ndarray,
    curves: Mapping[str, Sequence[float] | np.ndarray],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
    marker: str | None = "o",
    points: Mapping[str, np.ndarray] | None = None,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Plot several named series over the same ``x`` (sweeps, learning curves).

    ``points`` optionally gives, per series, the individual runs behind it as a ``(len(x), runs)``
    array (one column per seed); they are drawn as small dots around the line, so that a reader sees
    the spread a mean hides.
    """
    if ax is None:
        _, ax = plt.subplots()
    for (name, ys), color in zip(curves.items(), COLORS * (1 + len(curves) // len(COLORS))):
        if len(ys) != len(x):
            raise ValueError(f"curves[{name!r}] must have {len(x)} points, got {len(ys)}")
        ax.plot(x, ys, marker=marker, label=name, color=color)
        if points is not None and name in points:
            runs = np.asarray(points[name], dtype=float)
            if runs.ndim != 2 or runs.shape[0] != len(x):
                raise ValueError(f"points[{name!r}] must have shape ({len(x)}, runs), got {runs.shape}")
            xs = np.repeat(np.asarray(x, dtype=float)[:, None], runs.shape[1], axis=1)
            ax.scatter(xs.ravel(), runs.ravel(), s=12, color=color, alpha=0.5, zorder=3)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend()
    return ax


def plot_curve_family(
    x: Sequence[float] | np.ndarray,
    highlighted: Mapping[str, Sequence[float] | np.ndarray],
    others: Sequence[Sequence[float] | np.ndarray] = (),
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    others_label: str = "others",
    logy: bool = False,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """A few named curves in colour over a family of thin grey ones (e.g. one model against many)."""
    if ax is None:
        _, ax = plt.subplots()
    for k, ys in enumerate(others):
        if len(ys) != len(x):
            raise ValueError(f"others[{k}] must have {len(x)} points, got {len(ys)}")
        ax.plot(x, ys, color="0.65", lw=0.8, label=others_label if k == 0 else None)
    for (name, ys), color in zip(highlighted.items(), ["black", *COLORS]):
        if len(ys) != len(x):
            raise ValueError(f"highlighted[{name!r}] must have {len(x)} points, got {len(ys)}")
        ax.plot(x, ys, color=color, lw=2.0, label=name)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    return ax


def plot_histograms(
    samples: Mapping[str, np.ndarray],
    *,
    title: str,
    xlabel: str,
    bins: int | Sequence[float] = 50,
    logx: bool = False,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Overlaid histograms of named samples (log-spaced bins when ``logx``).

    ``bins`` is a count, or explicit bin edges (e.g. edges that fall on a range's boundary, so that no
    bar straddles two ranges).
    """
    if ax is None:
        _, ax = plt.subplots()
    values = [np.asarray(v).reshape(-1) for v in samples.values()]
    if not isinstance(bins, (int, np.integer)):
        edges = np.asarray(bins, dtype=float)
        if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError(f"bins must be a positive count or increasing edges, got {bins!r}")
        if logx:
            ax.set_xscale("log")
    elif logx:
        if any(np.any(v <= 0) for v in values):
            raise ValueError("samples must be positive for logx=True histograms")
        lo = min(v.min() for v in values)
        hi = max(v.max() for v in values)
        edges = np.geomspace(lo, hi, bins + 1)
        ax.set_xscale("log")
    else:
        edges = np.histogram_bin_edges(np.concatenate(values), bins=bins)
    for (name, v), color in zip(zip(samples.keys(), values), COLORS):
        ax.hist(v, bins=edges, alpha=0.55, color=color, label=name)
    ax.set(xlabel=xlabel, ylabel="count", title=title)
    ax.legend()
    return ax


def plot_success_heatmap(
    values: np.ndarray | Sequence[Sequence[float]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str,
    colorbar_label: str,
    annotations: Sequence[Sequence[str]] | None = None,
    fmt: str = "{:.0%}",
    vmin: float = 0.0,
    vmax: float = 1.0,
    cmap: str = "viridis",
    missing_label: str = "n/a",
    xlabel: str | None = None,
    ylabel: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """A methods-by-cells grid coloured by ``values`` (e.g. success rates), every cell written out.

    ``values`` has shape ``(len(row_labels), len(col_labels))``. A NaN cell (a method that cannot take
    that data) is drawn grey and labelled ``missing_label``, so it is not mistaken for a 0 % cell.
    Each cell's text is ``annotations[i][j]`` when given, else ``fmt.format(value)``; it is black on
    light colours and white on dark ones (whichever end of the colour map is dark) so it stays readable.
    """
    grid = np.asarray(values, dtype=float)
    if grid.ndim != 2 or grid.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"values must have shape ({len(row_labels)}, {len(col_labels)}) (rows, columns), "
                         f"got {grid.shape}")
    if not vmin < vmax:
        raise ValueError(f"vmin must be below vmax, got vmin={vmin!r}, vmax={vmax!r}")
    if annotations is not None and (len(annotations) != grid.shape[0]
                                    or any(len(row) != grid.shape[1] for row in annotations)):
        raise ValueError(f"annotations must be {grid.shape[0]} rows of {grid.shape[1]} strings")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(5.0, 0.75 * grid.shape[1] + 2.5), max(2.5, 0.42 * grid.shape[0] + 1.5)))
    colormap = matplotlib.colormaps[cmap].with_extremes(bad="0.85")
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=colormap, vmin=vmin, vmax=vmax, aspect="auto")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = grid[i, j]
            if not np.isfinite(v):
                text, color = missing_label, "0.35"
            else:
                text = annotations[i][j] if annotations is not None else fmt.format(v)
                # White text on dark cells, black on light ones (relative luminance of the cell's colour).
                r, g, b, _ = colormap(image.norm(v))
                color = "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45 else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(grid.shape[1]), col_labels, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(grid.shape[0]), row_labels)
    ax.grid(False)
    ax.set(title=title, xlabel=xlabel or "", ylabel=ylabel or "")
    ax.figure.colorbar(image, ax=ax, label=colorbar_label)
    return ax


def plot_scores(corpus: Corpus, logs: Logs, predictions: dict[str, np.ndarray], *, title: str,
                n_points: int = 4000, seed: int = 0) -> Any:
    """Predicted against true score on a sample of the corpus, one panel per method, log-log axes.

    The score range of the logs is shaded and the logged documents are drawn in black, so the
    reader sees each method inside and outside what it was trained on. Predictions at or below zero
    (a ReLU network's extrapolation) are drawn at the bottom edge and their share of the corpus is
    given in the panel's title.
    """
    if not predictions:
        raise ValueError("predictions must name at least one method, got none")
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(corpus.score), size=min(check_positive_int(n_points, "n_points"), len(corpus.score)),
                      replace=False)
    logged = np.concatenate([logs.index_train, logs.index_heldout])
    low = float(corpus.score.min())
    lo, hi = low / 3, 3.0
    fig, axes = plt.subplots(1, len(predictions), figsize=(3.3 * len(predictions), 3.4), sharey=True,
                             squeeze=False)
    for k, (ax, (name, pred)) in enumerate(zip(axes[0], predictions.items())):
        color = method_color(name, k)
        pred = np.asarray(pred, dtype=np.float64).reshape(-1)
        if pred.size != corpus.score.size:
            raise ValueError(f"predictions[{name!r}] must have one score per document, got {pred.size}")
        ax.axvspan(float(corpus.score[logged].min()), hi, color=TRAIN_SHADE, alpha=0.8, zorder=0,
                   label="logged score range")
        ax.plot([lo, hi], [lo, hi], color="black", lw=1, ls="--", label="exact")
        shown = np.clip(pred[pick], lo * 1.01, hi)
        ax.scatter(corpus.score[pick], shown, s=3, color=color, alpha=0.5, rasterized=True,
                   label="corpus sample")
        ax.scatter(corpus.score[logged], np.clip(pred[logged], lo * 1.01, hi), s=3, color="black", alpha=0.4,
                   rasterized=True, label="logged documents")
        below = int(np.sum(pred <= 0))
        ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi), xlabel="true score",
               title=f"{name}" + (f" ({100 * below / pred.size:.0f} % <= 0)" if below else ""))
    axes[0][0].set_ylabel("predicted score")
    axes[0][0].legend(loc="upper left", fontsize=7, markerscale=3)
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


def plot_noise(rows: Sequence[dict[str, Any]], *, title: str, methods: Sequence[str] | None = None,
               random_ndcg: float | None = None) -> Any:
    """Two panels against the noise level: the median relative error over the corpus (log axis) and
    the mean NDCG@10 beyond the first page; a line through the medians over seeds and one dot per
    seed, for each of ``methods`` (default: every method of the rows, in their order). ``random_ndcg``,
    if given, draws what a random order scores on the right panel."""
    if not rows:
        raise ValueError("rows must hold at least one study row, got none")
    methods = list(dict.fromkeys(r["method"] for r in rows)) if methods is None else list(methods)
    fig, (ax_err, ax_ndcg) = plt.subplots(1, 2, figsize=(12, 4))
    for k, method in enumerate(methods):
        color = method_color(method, k)
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            raise ValueError(f"methods names {method!r}, which has no rows")
        sigmas = sorted({float(r["sigma"]) for r in mine})
        for ax, metric in ((ax_err, "corpus_error"), (ax_ndcg, "ndcg_deep")):
            values = [[r[metric] for r in mine if float(r["sigma"]) == s] for s in sigmas]
            ax.plot(sigmas, [np.median(v) for v in values], "-o", color=color, label=method, ms=4)
            for s, v in zip(sigmas, values):
                ax.scatter([s] * len(v), v, color=color, s=10, alpha=0.5)
    ax_err.set(yscale="log", xlabel="noise on the logged scores (sigma of log-normal)",
               ylabel="median relative error, whole corpus")
    if random_ndcg is not None:
        ax_ndcg.axhline(random_ndcg, color="grey", ls=":", lw=1.5, label="random order")
    ax_ndcg.set(xlabel="noise on the logged scores (sigma of log-normal)",
                ylabel="mean NDCG@10 beyond the first page")
    # Outside the axes: inside, the legend would hide some of the seeds' dots.
    ax_ndcg.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


def plot_feynman(rows: Sequence[dict[str, Any]], *, title: str, methods: Sequence[str] | None = None,
                 noisy_methods: Sequence[str] | None = None) -> Any:
    """Chapter 7's study in two panels: left, each method's share of successful fits without noise, one bar
    per equation family; right, for ``noisy_methods``, the share of successes (solid) and of fits within
    :data:`multlib.feynman_study.CLOSE` (dashed) at each noise level, over the families the method is
    fitted on with noise (:data:`multlib.feynman_study.NOISY_METHODS`). Defaults: every method (noisy: every method
    with a noisy row), in the rows' order."""
    # Here, not at the top: `import multlib` imports this module, and the study imports TensorFlow.
    from multlib.feynman import FAMILIES
    from multlib.feynman_study import CLOSE
    from multlib.summaries import feynman_counts

    if not rows:
        raise ValueError("rows must hold at least one study row, got none")
    methods = list(dict.fromkeys(r["method"] for r in rows)) if methods is None else list(methods)
    if noisy_methods is None:
        noisy_methods = list(dict.fromkeys(r["method"] for r in rows if r["noise"] != "none"))
    noises = list(dict.fromkeys(r["noise"] for r in rows))
    counts, close = feynman_counts(rows), feynman_counts(rows, CLOSE)
    for m in [*methods, *noisy_methods]:
        if (m, "none", "all") not in counts:
            raise ValueError(f"methods names {m!r}, which has no rows without noise")

    def share(table: dict[tuple[str, str, str], tuple[int, int]], key: tuple[str, str, str]) -> float:
        k, n = table.get(key, (0, 0))
        return k / n if n else np.nan

    fig, (ax_fam, ax_noise) = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [1.1, 1]})
    y = np.arange(len(methods))
    height = 0.8 / len(FAMILIES)
    for j, family in enumerate(FAMILIES):
        ax_fam.barh(y + (j - 1) * height, [share(counts, (m, "none", family)) for m in methods], height,
                    color=COLORS[j], label=family)
    ax_fam.set(yticks=y, yticklabels=methods, xlim=(0, 1), xlabel="share of fits that extrapolate (error < 1e-5)")
    ax_fam.invert_yaxis()
    ax_fam.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)
    ax_fam.set_title("no noise, by family", fontsize=10)
    x = np.arange(len(noises))
    for k, m in enumerate(noisy_methods):
        # At every level, over the families the method is fitted on with noise, so that a line's
        # denominator does not change between its first point and the others.
        families = {r["family"] for r in rows if r["method"] == m and r["noise"] != "none"} or set(FAMILIES)

        def share_of(table: dict[tuple[str, str, str], tuple[int, int]], n: str) -> float:
            k_n = [table.get((m, n, f), (0, 0)) for f in families]
            total = sum(t for _, t in k_n)
            return sum(h for h, _ in k_n) / total if total else np.nan

        color = method_color(m, k)
        ax_noise.plot(x, [share_of(counts, n) for n in noises], "-o", color=color, ms=4, label=m)
        ax_noise.plot(x, [share_of(close, n) for n in noises], "--", color=color, lw=1)
    ax_noise.set(xticks=x, xticklabels=noises, ylim=(-0.02, 1.02), xlabel="noise on the training targets",
                 ylabel="share of fits (families fitted with noise)")
    ax_noise.set_title("solid: error < 1e-5; dashed: within 1 %", fontsize=10)
    ax_noise.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig
