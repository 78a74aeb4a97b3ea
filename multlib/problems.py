"""Extrapolation problems as plain records: domains, formulas, and the book's benchmark cells.

A *problem* is a formula, a training domain and a disjoint test domain; every method of
:mod:`multlib.methods` learns from the training samples and is scored on the test samples
(:mod:`multlib.compare`, Chapter 5b). This module only describes and samples problems; it trains
nothing, so the laws of physics (:mod:`multlib.laws`), the methods and the studies all build on it.

The benchmark (:data:`BENCHMARK`: the paper's seven tasks and a division, on four train/test
domains in the style of the Primer benchmark of Mistry et al.) is :func:`benchmark_problems`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from multlib.data import N_TEST, N_TRAIN, Task, check_positive_int, get_task

__all__ = [
    "Interval",
    "Domain",
    "domain",
    "as_domain",
    "sample",
    "Formula",
    "Extrapolation",
    "FORMULAS",
    "DOMAINS",
    "BENCHMARK",
    "Problem",
    "NotApplicable",
    "CellData",
    "targets",
    "relative_errors",
    "NOISE_KINDS",
    "add_noise",
    "benchmark_problems",
]

Interval = tuple[float, float]
Domain = tuple[Interval, ...]
"""A union of intervals ``[low, high]``; every input feature is drawn from it independently."""


def domain(*intervals: Sequence[float]) -> Domain:
    """A validated union of intervals, e.g. ``domain((-6, -2), (2, 6))``."""
    if not intervals:
        raise ValueError("domain needs at least one interval (low, high)")
    out = []
    for k, interval in enumerate(intervals):
        try:
            low, high = (float(v) for v in interval)
        except (TypeError, ValueError):
            raise ValueError(f"interval {k} must be a pair (low, high), got {interval!r}") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"interval {k} must be finite with low < high, got {interval!r}")
        out.append((low, high))
    return tuple(out)


def as_domain(value: Any, name: str) -> Domain:
    """Accept ``(low, high)`` or a sequence of such pairs; a ValueError names ``name`` otherwise."""
    try:
        if len(value) == 2 and all(isinstance(v, (int, float, np.integer, np.floating)) for v in value):
            return domain(value)
        return domain(*value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be (low, high) or a list of such intervals, got {value!r} ({err})") from None


def sample(dom: Domain, n: int, n_features: int, seed: int) -> np.ndarray:
    """``(n, n_features)`` float64 inputs, each drawn uniformly from the union ``dom``."""
    n = check_positive_int(n, "n")
    n_features = check_positive_int(n_features, "n_features")
    dom = as_domain(dom, "dom")
    rng = np.random.default_rng(seed)
    lengths = np.array([high - low for low, high in dom])
    piece = rng.choice(len(dom), size=(n, n_features), p=lengths / lengths.sum())
    lows = np.array([low for low, _ in dom])[piece]
    return lows + rng.random((n, n_features)) * lengths[piece]


Formula = Task
"""A target law: ``fn`` maps ``(n, n_features)`` inputs to ``(n,)`` targets (the same record as the
paper's tasks in :mod:`multlib.data`)."""


@dataclass(frozen=True)
class Extrapolation:
    """A training domain and the disjoint test domain the fit is scored on."""

    name: str
    train: Domain
    test: Domain

    @property
    def signed(self) -> bool:
        return any(low < 0 for low, _ in self.train + self.test)


FORMULAS: dict[str, Formula] = {
    f.name: f
    for f in [
        *(get_task(name) for name in ("x1x2", "x1x2/10", "x1x2x3", "x1x2x3/100", "x1x2x3x4",
                                      "x1x2x3x4/1000", "x1(x2+x3)+x4")),
        Formula("x1/x2", 2, lambda x: x[:, 0] / x[:, 1], "x1/x2"),
    ]
}
"""The paper's seven tasks and a division."""

DOMAINS: dict[str, Extrapolation] = {
    e.name: e
    for e in [
        Extrapolation("paper", domain((10, 100)), domain((100, 1000))),
        Extrapolation("nmu", domain((1, 2)), domain((2, 6))),
        Extrapolation("below_one", domain((0.1, 0.2)), domain((0.2, 2))),
        Extrapolation("signed", domain((-2, 2)), domain((-6, -2), (2, 6))),
    ]
}
"""Train/test domains in the style of the Primer benchmark (Mistry et al.): the paper's, the NMU
paper's ``U[1,2] -> U[2,6]``, one below 1, and one with both signs."""

BENCHMARK: tuple[tuple[str, str], ...] = tuple(
    [(f, d) for d in ("paper", "nmu", "below_one") for f in FORMULAS]
    # Signs: the division is left out, since x2 in [-2, 2] comes arbitrarily close to 0.
    + [(f, "signed") for f in ("x1x2", "x1x2x3", "x1(x2+x3)+x4")]
)
"""The (formula, domain) cells of the book's comparison."""


@dataclass(frozen=True)
class Problem:
    """One fit: training inputs and targets, and the seed of the method's own randomness."""

    x: np.ndarray
    y: np.ndarray
    seed: int


class NotApplicable(ValueError):
    """The method cannot represent or even take this data (e.g. a log of a negative input)."""


CellData = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""``(x, y, x_test, y_test)`` of one benchmark cell and seed."""


def targets(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, name: str) -> np.ndarray:
    """``fn(x)`` as a flat float64 array, checked: one finite value per row of the ``name`` inputs."""
    y = np.asarray(fn(x), dtype=np.float64)
    if y.shape not in ((len(x),), (len(x), 1)):
        raise ValueError(f"fn must return one value per row, shape ({len(x)},), got {y.shape} on {name} inputs")
    y = y.reshape(-1)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"fn returned {int(np.sum(~np.isfinite(y)))} non-finite value(s) on the {name} inputs")
    return y


def relative_errors(y_true: Any, y_pred: Any) -> np.ndarray:
    """``|y_pred - y_true| / |y_true|`` elementwise, on flat arrays of one length (no broadcasting)."""
    t = np.asarray(y_true, dtype=np.float64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_pred must have as many values as y_true ({t.size}), got {p.size}")
    if np.any(t == 0):
        raise ValueError(f"y_true holds {int(np.sum(t == 0))} zero(s); a relative error is undefined there")
    with np.errstate(over="ignore", invalid="ignore"):
        err = np.abs(p - t) / np.abs(t)
    return np.where(np.isfinite(err), err, np.inf)


NOISE_KINDS: tuple[str, ...] = ("gaussian", "multiplicative")
"""How :func:`add_noise` corrupts a target: additively, as SRBench does, or by a factor, as Chapter 6's logs."""


def add_noise(y: Any, kind: str, level: float, seed: int) -> np.ndarray:
    """``y`` with noise drawn from ``np.random.default_rng(seed)``; ``level = 0`` returns an exact copy.

    * ``"gaussian"``: ``y + level * rms(y) * N(0, 1)`` with ``rms(y) = sqrt(mean(y**2))``, SRBench's
      noise (La Cava et al. 2021, levels 0.001, 0.01 and 0.1; its code, ``experiment/evaluate_model.py``
      at v2.0, scales by the root mean square of the training targets, which the paper calls their
      standard deviation); a small target can change sign;
    * ``"multiplicative"``: ``y * exp(level * N(0, 1))``, the log-normal noise of Chapter 6, which
      keeps every sign and is the same size at every scale.
    """
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind must be one of {NOISE_KINDS}, got {kind!r}")
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating, np.integer)) or not (
        math.isfinite(level) and level >= 0
    ):
        raise ValueError(f"level must be a finite number >= 0, got {level!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"y must be finite; {int(np.sum(~np.isfinite(y)))} value(s) are NaN or infinite")
    if level == 0:
        return y.copy()
    eps = np.random.default_rng(int(seed)).standard_normal(y.shape)
    if kind == "gaussian":
        return y + float(level) * float(np.sqrt(np.mean(np.square(y)))) * eps
    return y * np.exp(float(level) * eps)


def benchmark_problems(
    cells: Sequence[tuple[str, str]] = BENCHMARK, seeds: int = 5, *, n_train: int = N_TRAIN, n_test: int = N_TEST
) -> dict[tuple[str, str, int], CellData]:
    """The data of every (formula, domain) cell and seed: ``(x, y, x_test, y_test)`` by ``(formula, domain, seed)``."""
    seeds = check_positive_int(seeds, "seeds")
    for f, d in cells:
        if f not in FORMULAS or d not in DOMAINS:
            raise ValueError(f"cells must pair a FORMULAS name with a DOMAINS name, got {(f, d)!r}")
    problems = {}
    for f, d in cells:
        formula, dom = FORMULAS[f], DOMAINS[d]
        for s in range(seeds):
            x = sample(dom.train, n_train, formula.n_features, s)
            x_test = sample(dom.test, n_test, formula.n_features, s + 10_000)
            problems[(f, d, s)] = (x, targets(formula.fn, x, "training"), x_test, targets(formula.fn, x_test, "test"))
    return problems
