"""One plotting style for the whole book, and the figures that recur across chapters."""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from multlib.data import Range, check_range

__all__ = ["use_style", "shade_range", "plot_extrapolation", "plot_curves", "plot_curve_family", "plot_histograms",
           "plot_success_heatmap", "COLORS"]

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
TRAIN_SHADE = "#f2e6c9"


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
