"""The figures behind the chapters' knobs (sliders in JupyterLab and Colab, one static figure in the book).

**Chapter 1: training range and width.** Chapter 1 trains its 80-unit network for 12,500 Adam steps. A slider that redraws has to answer in a
few seconds, so :func:`fit_on_square` trains on a small budget instead (20,000 pairs, 5 epochs of
128, about 800 steps with the rate decaying from 1e-2), enough to fit the square to about one
percent of its range. Inputs are divided by the top of the training range and targets by its
square, the usual rescaling to order one, so that one learning rate suits every range.

That rescaling has a consequence the chapter's exercise uses: the network trained on ``(0, h)^2``
sees the same numbers whatever ``h`` is, so it is the ``(0, 1)^2`` network stretched,
``f_h(x) = h^2 f_1(x / h)`` (exactly so when ``h`` is a power of two, since scaling by a power of
two is exact in floating point). Widening the range moves the failure outwards; it does not change it.

**Chapter 4: the normalising factor N.** The study (:data:`multlib.sweep.STUDIES`) trained the paper's pair and ``relu_linear`` on
``x1x2/N`` for the five N of :data:`multlib.sweep.NORMALISERS`, five seeds each. A slider over N can
therefore redraw without training anything: :func:`normaliser_view` picks one N out of the stored rows
and loss curves, and :func:`draw_normaliser` draws it next to N = 1.

The training loss of ``x1x2/N`` is an MAE in units of ``x1x2/N``; multiplied by N it is in units of
``x1x2`` at every N, so curves for different N share one axis.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np

from multlib import data, metrics, models, plotting, training
from multlib.plotting import COLORS
from multlib.sweep import NORMALISERS, STUDIES, read_study

__all__ = [
    "DiagonalErrors", "fit_on_square", "diagonal_errors", "draw_range_and_width",
    "NormaliserView", "normaliser_view", "draw_normaliser", "draw_view",
]

Predictor = Callable[[np.ndarray], np.ndarray]
X_GRID = np.arange(0.0, 10.0, 0.01)
"""Chapter 1's evaluation grid along the diagonal a = b = x (0 to 9.99)."""


@dataclass(frozen=True)
class DiagonalErrors:
    """How a multiplier trained on ``(0, high)^2`` does along the diagonal ``a = b = x``."""

    high: float
    rmse_inside: float
    """RMSE against x^2 for 0 <= x < high."""
    relative_error_at_end: float
    """|model - x^2| / x^2 at the grid's last point, x = 9.99 (a fraction, not a percentage)."""

    def __str__(self) -> str:
        return (f"trained on (0, {self.high:g})^2: RMSE {self.rmse_inside:.3f} on the diagonal inside, "
                f"{100 * self.relative_error_at_end:.0f} % off x^2 at x = {X_GRID[-1]:g}")


def _check_high(high: float) -> float:
    if not (isinstance(high, (int, float, np.floating)) and np.isfinite(high) and high > 0):
        raise ValueError(f"high must be a positive number (the top of the training range), got {high!r}")
    return float(high)


def fit_on_square(
    high: float = 1.0,
    hidden_units: int | Sequence[int] = 80,
    *,
    n_samples: int = 20_000,
    epochs: int = 5,
    batch_size: int = 128,
    seed: int = 0,
) -> Predictor:
    """Train ``relu_mlp(2, hidden_units)`` on ``y = ab`` with ``a, b ~ U(0, high)``; returns its predict function.

    The predictor maps an ``(n, 2)`` array to ``(n,)`` in the original units. Results are cached, so
    the static figure at the default setting and the slider's first drawing train one model, not two.
    """
    units = hidden_units if isinstance(hidden_units, (int, np.integer)) else tuple(hidden_units)
    return _fit_cached(_check_high(high), units, n_samples, epochs, batch_size, seed)


@functools.lru_cache(maxsize=32)
def _fit_cached(high: float, hidden_units: int | tuple[int, ...], n_samples: int, epochs: int,
                batch_size: int, seed: int) -> Predictor:
    training.seed_everything(seed)
    x = data.uniform(n_samples, (0.0, high), n_features=2, seed=seed + 1)
    y = x.prod(axis=1)
    net = models.relu_mlp(2, hidden_units)
    training.train(net, x / high, y / high**2, epochs=epochs, batch_size=batch_size, seed=seed,
                   learning_rate=training.cosine_schedule(1e-2, n_samples, batch_size, epochs))
    return lambda z: high**2 * models.predict(net, np.asarray(z, dtype=np.float64) / high)


def diagonal_errors(predict: Predictor, high: float) -> DiagonalErrors:
    """Score ``predict`` as a squarer along :data:`X_GRID`: RMSE inside ``[0, high)``, relative error at 9.99."""
    high = _check_high(high)
    y = np.asarray(predict(np.stack([X_GRID, X_GRID], axis=1)), dtype=np.float64).reshape(-1)
    if y.shape != X_GRID.shape:
        raise ValueError(f"predict must return {X_GRID.size} values for the grid, got shape {y.shape}")
    inside = X_GRID < high
    truth = X_GRID**2
    return DiagonalErrors(high, metrics.rmse(truth[inside], y[inside]), abs(y[-1] - truth[-1]) / truth[-1])


def draw_range_and_width(high: float = 1.0, width: int = 80, *, ax: plt.Axes | None = None,
                         **budget: int) -> DiagonalErrors:
    """The knob figure: a ``width``-unit network trained on ``(0, high)^2`` against x^2 on ``[0, 10)``.

    ``budget`` passes ``n_samples``, ``epochs``, ``batch_size`` or ``seed`` on to :func:`fit_on_square`.
    Returns the errors it puts in the title.
    """
    predict = fit_on_square(high, width, **budget)
    errors = diagonal_errors(predict, high)
    y = predict(np.stack([X_GRID, X_GRID], axis=1))
    side = "below" if y[-1] < X_GRID[-1] ** 2 else "above"
    plotting.plot_extrapolation(
        X_GRID, X_GRID**2, {f"{width} ReLUs": y}, (0.0, high), ax=ax,
        title=f"Trained on (0, {high:g})²: {100 * errors.relative_error_at_end:.0f} % {side} x² at x = 9.99",
        xlabel=f"x  (a = b = x), 0 to 10; trained on 0 to {high:g}", ylabel="y = x²",
    )
    plt.show()
    return errors


# Chapter 4: the normalising factor N, from the committed study


@dataclass(frozen=True)
class NormaliserView:
    """One pair at one N of the normaliser study, next to the same pair at N = 1 (one entry per seed)."""

    n: int
    pair: tuple[str, str]
    loss: np.ndarray  # (seeds, epochs): training MAE x N, in units of x1x2
    reference_loss: np.ndarray  # the same at N = 1
    train_error: np.ndarray  # training percentage error (eq. 3), per seed
    test_error: np.ndarray  # test percentage error, per seed
    reference_train_error: np.ndarray
    reference_test_error: np.ndarray

    @property
    def final_loss_ratio(self) -> float:
        """Mean final training loss (x N) over the mean at N = 1: how much worse N leaves the fit."""
        return float(self.loss[:, -1].mean() / self.reference_loss[:, -1].mean())


def _parse_pair(pair: str | Sequence[str]) -> tuple[str, str]:
    parts = tuple(pair.split("_", 1)) if isinstance(pair, str) else tuple(pair)
    study_pairs = STUDIES["normaliser"].pairs
    if parts not in study_pairs:
        names = ["_".join(p) for p in study_pairs]
        raise ValueError(f"pair must be one of the normaliser study's pairs {names}, got {pair!r}")
    return parts  # type: ignore[return-value]


def _select(rows: Sequence[dict[str, Any]], curves: np.ndarray, n: int, pair: tuple[str, str]) -> list[int]:
    task = STUDIES["normaliser"].tasks[NORMALISERS.index(n)]
    idx = [i for i, r in enumerate(rows) if r["task"] == task and (r["a1"], r["a2"]) == pair]
    if not idx:
        raise ValueError(f"the results hold no run of {'_'.join(pair)} on {task!r}")
    if len(curves) != len(rows):
        raise ValueError(f"rows and curves must align, got {len(rows)} rows and {len(curves)} curves")
    return sorted(idx, key=lambda i: rows[i]["seed"])


def normaliser_view(
    n: int,
    pair: str | Sequence[str] = "symlog_symexp",
    study: tuple[Sequence[dict[str, Any]], np.ndarray] | None = None,
) -> NormaliserView:
    """The runs of ``pair`` at normalising factor ``n`` and at N = 1, from ``study`` (rows, curves).

    ``study`` defaults to the committed ``read_study("normaliser")``. ``n`` must be one of
    :data:`multlib.sweep.NORMALISERS`; ``pair`` is ``"symlog_symexp"``, ``"relu_linear"`` or a tuple.
    """
    if n not in NORMALISERS:
        raise ValueError(f"n must be one of the study's normalising factors {NORMALISERS}, got {n!r}")
    parts = _parse_pair(pair)
    rows, curves = study if study is not None else read_study("normaliser")
    at_n, at_1 = _select(rows, curves, n, parts), _select(rows, curves, 1, parts)
    column = lambda idx, key: np.array([rows[i][key] for i in idx], dtype=float)  # noqa: E731
    return NormaliserView(
        n=n, pair=parts,
        loss=np.asarray(curves)[at_n] * n, reference_loss=np.asarray(curves)[at_1],
        train_error=column(at_n, "train_percentage_error"), test_error=column(at_n, "test_percentage_error"),
        reference_train_error=column(at_1, "train_percentage_error"),
        reference_test_error=column(at_1, "test_percentage_error"),
    )


def draw_normaliser(n: int = 10_000, pair: str = "symlog_symexp") -> None:
    """Draw ``pair`` at normalising factor ``n`` against N = 1 from the committed study (:func:`draw_view`).

    Its only parameters are the knobs, as :func:`multlib.interactive.knobs` makes a control for every
    parameter; it returns nothing, so that a slider shows only the figure.
    """
    draw_view(normaliser_view(n, pair))


def draw_view(view: NormaliserView) -> None:
    """Two panels for one :class:`NormaliserView`, its N against N = 1.

    Left: the training loss (x N, so in units of x1x2 at every N) per epoch, one line per seed.
    Right: each seed's training error against its test error. The titles state the finding in numbers.
    """
    n = view.n
    label, color = "_".join(view.pair), COLORS[1]
    fig, (ax_loss, ax_err) = plt.subplots(1, 2, figsize=(12, 4.2))
    epochs = np.arange(1, view.loss.shape[1] + 1)
    for k, (ref, mine) in enumerate(zip(view.reference_loss, view.loss)):
        ax_loss.plot(epochs, ref, color="0.6", lw=1, label="N = 1" if k == 0 else None)
        ax_loss.plot(epochs, mine, color=color, lw=1.5, label=f"N = {n:,}" if k == 0 else None)
    ax_loss.set(yscale="log", xlabel="epoch", ylabel="training MAE × N (units of x1·x2)",
                title=f"Training loss, {len(view.loss)} seeds: ends {view.final_loss_ratio:.1f}x its value at N = 1")
    ax_loss.legend()
    ax_err.scatter(view.reference_train_error, view.reference_test_error, color="0.5", s=40, label="N = 1")
    ax_err.scatter(view.train_error, view.test_error, color=color, s=40, label=f"N = {n:,}")
    ax_err.set(xscale="log", xlabel="training % error (log scale)", ylabel="test % error on [100, 1000)",
               title=f"Per seed: test error {view.test_error.mean():.1f} % (mean) against "
                     f"{view.reference_test_error.mean():.1f} % at N = 1")
    ax_err.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))  # 0.2, 0.5, 1, 2, 5, ...
    ax_err.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax_err.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax_err.set_ylim(0, max(view.test_error.max(), view.reference_test_error.max()) * 1.15)
    ax_err.legend()
    fig.suptitle(f"{label} on x1x2/N with N = {n:,}, against N = 1 (committed study, no training)", fontweight="bold")
    fig.tight_layout()
    plt.show()
