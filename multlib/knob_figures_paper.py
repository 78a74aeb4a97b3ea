"""Chapter 4's knob: the normalising factor N, drawn from the committed ``normaliser`` study.

The study (:data:`multlib.sweep.STUDIES`) trained the paper's pair and ``relu_linear`` on
``x1x2/N`` for the five N of :data:`multlib.sweep.NORMALISERS`, five seeds each. A slider over N can
therefore redraw without training anything: :func:`normaliser_view` picks one N out of the stored rows
and loss curves, and :func:`draw_normaliser` draws it next to N = 1.

The training loss of ``x1x2/N`` is an MAE in units of ``x1x2/N``; multiplied by N it is in units of
``x1x2`` at every N, so curves for different N share one axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np

from multlib.plotting import COLORS
from multlib.sweep import NORMALISERS, STUDIES, read_study

__all__ = ["NormaliserView", "normaliser_view", "draw_normaliser", "draw_view"]


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
