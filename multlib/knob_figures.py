"""The figure behind Chapter 1's knobs: a quickly trained ReLU multiplier, seen along the diagonal.

Chapter 1 trains its 80-unit network for 12,500 Adam steps. A slider that redraws has to answer in a
few seconds, so :func:`fit_on_square` trains on a small budget instead (20,000 pairs, 5 epochs of
128, about 800 steps with the rate decaying from 1e-2), enough to fit the square to about one
percent of its range. Inputs are divided by the top of the training range and targets by its
square, the usual rescaling to order one, so that one learning rate suits every range.

That rescaling has a consequence the chapter's exercise uses: the network trained on ``(0, h)^2``
sees the same numbers whatever ``h`` is, so it is the ``(0, 1)^2`` network stretched,
``f_h(x) = h^2 f_1(x / h)`` (exactly so when ``h`` is a power of two, since scaling by a power of
two is exact in floating point). Widening the range moves the failure outwards; it does not change it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np

from multlib import data, metrics, models, plotting, training

__all__ = ["DiagonalErrors", "fit_on_square", "diagonal_errors", "draw_range_and_width"]

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
