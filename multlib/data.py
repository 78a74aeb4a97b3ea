"""Synthetic data for learning products: uniform inputs, disjoint ranges, named targets.

Every generator takes an explicit ``seed`` so that a notebook cell gives the same numbers each run.
Bad input raises :class:`ValueError` naming the parameter and the value it got.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = [
    "Range",
    "Split",
    "TARGETS",
    "check_range",
    "check_positive_int",
    "uniform",
    "target",
    "get_task",
    "Task",
    "make_split",
    "PAPER_TRAIN",
    "PAPER_TEST",
    "PAPER_TASKS",
    "PAPER_TABLE_I",
    "PaperResult",
    "N_TRAIN",
    "N_TEST",
]

Range = tuple[float, float]
"""A half-open interval ``[low, high)``."""

PAPER_TRAIN: Range = (10.0, 100.0)
"""Goel's training range for every input: ``U[10, 100)``."""
PAPER_TEST: Range = (100.0, 1000.0)
"""Goel's test range for every input, disjoint from training: ``U[100, 1000)``."""
N_TRAIN: int = 10_000
"""Training points per fit in every study of the book (the paper does not say; 10,000 is the brief's choice)."""
N_TEST: int = 10_000
"""Test points per fit in every study of the book."""


def check_range(value: Range, name: str = "value_range") -> tuple[float, float]:
    """Return ``(low, high)`` as floats, or raise if it is not a finite interval with low < high."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high), got {value!r}") from None
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if not low < high:
        raise ValueError(f"{name} must have low < high, got {value!r}")
    return low, high


def check_positive_int(value: int, name: str) -> int:
    """Return ``value`` as an int, or raise naming ``name`` if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def uniform(n: int, value_range: Range = (0.0, 1.0), n_features: int = 2, seed: int = 0) -> np.ndarray:
    """Draw an ``(n, n_features)`` float64 array, each entry uniform on ``[low, high)``.

    >>> uniform(3, (10, 100), n_features=2, seed=0).shape
    (3, 2)
    """
    n = check_positive_int(n, "n")
    n_features = check_positive_int(n_features, "n_features")
    low, high = check_range(value_range)
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, size=(n, n_features))


def _monomial(divisor: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: np.prod(x, axis=1) / divisor


@dataclass(frozen=True)
class Task:
    """A named target function of ``n_features`` inputs."""

    name: str
    n_features: int
    fn: Callable[[np.ndarray], np.ndarray]
    formula: str


TARGETS: dict[str, Task] = {
    t.name: t
    for t in [
        Task("x1x2", 2, _monomial(1.0), "x1*x2"),
        Task("x1x2/10", 2, _monomial(10.0), "x1*x2/10"),
        Task("x1x2x3", 3, _monomial(1.0), "x1*x2*x3"),
        Task("x1x2x3/100", 3, _monomial(100.0), "x1*x2*x3/100"),
        Task("x1x2x3x4", 4, _monomial(1.0), "x1*x2*x3*x4"),
        Task("x1x2x3x4/1000", 4, _monomial(1000.0), "x1*x2*x3*x4/1000"),
        Task("x1(x2+x3)+x4", 4, lambda x: x[:, 0] * (x[:, 1] + x[:, 2]) + x[:, 3], "x1*(x2+x3)+x4"),
    ]
}
"""The paper's seven tasks by name (the blog's ``a*b`` is ``"x1x2"``)."""

PAPER_TASKS: tuple[str, ...] = tuple(TARGETS)

_MONOMIAL = re.compile(r"^((?:x\d)+)(?:/(\d+))?$")


def get_task(name: str) -> Task:
    """The task called ``name``: one of :data:`TARGETS`, or any product ``"x1x2...xk/N"``.

    The second form lets a study vary the paper's normalising factor ``N`` freely, e.g.
    ``"x1x2/10000"``; its inputs must be ``x1`` to ``xk`` in order.
    """
    if name in TARGETS:
        return TARGETS[name]
    match = _MONOMIAL.match(name) if isinstance(name, str) else None
    if match:
        k = len(match.group(1)) // 2
        divisor = int(match.group(2) or 1)
        if match.group(1) == "".join(f"x{i + 1}" for i in range(k)) and divisor > 0:
            return Task(name, k, _monomial(float(divisor)), name.replace("x", "*x").lstrip("*"))
    raise ValueError(f"task must be one of {sorted(TARGETS)} or a product like 'x1x2/100', got {name!r}")


def target(name: str, x: np.ndarray) -> np.ndarray:
    """Evaluate the named target on ``x`` of shape ``(n, n_features)``; returns shape ``(n,)``."""
    task = get_task(name)
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != task.n_features:
        raise ValueError(f"x must have shape (n, {task.n_features}) for task {name!r}, got {x.shape}")
    return task.fn(x)


@dataclass(frozen=True)
class Split:
    """Training and test data for one task, drawn from two (usually disjoint) ranges."""

    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_range: Range
    test_range: Range


def make_split(
    task: str,
    n_train: int,
    n_test: int,
    train_range: Range = PAPER_TRAIN,
    test_range: Range = PAPER_TEST,
    seed: int = 0,
) -> Split:
    """Sample inputs for ``task``: ``n_train`` rows on ``train_range``, ``n_test`` on ``test_range``.

    The two ranges are the same for every input feature, as in the paper. They may overlap (to
    measure in-range error) or be disjoint (to measure extrapolation).
    """
    d = get_task(task).n_features
    train_range = check_range(train_range, "train_range")
    test_range = check_range(test_range, "test_range")
    x_train = uniform(n_train, train_range, d, seed=seed)
    # A different stream for the test set, so that n_train does not change the test inputs.
    x_test = uniform(n_test, test_range, d, seed=seed + 10_000)
    return Split(task, x_train, target(task, x_train), x_test, target(task, x_test), train_range, test_range)


@dataclass(frozen=True)
class PaperResult:
    """One row of Goel's Table I (test set, inputs in [100, 1000))."""

    percentage_error: float
    mae: float | None
    next_best_pair: tuple[str, str]
    next_best_error: float


PAPER_TABLE_I: dict[str, PaperResult] = {
    "x1x2": PaperResult(15.453791, 47284.32, ("relu", "linear"), 61.191017),
    "x1x2/10": PaperResult(7.801138, 1565.0941, ("relu", "selu"), 69.28548),
    "x1x2x3": PaperResult(16.815907, 27887974.0, ("elu", "elu"), 98.30871),
    "x1x2x3/100": PaperResult(24.82434, 394495.03, ("softplus", "relu"), 93.41624),
    "x1x2x3x4": PaperResult(28.907835, 3.4e10, ("softplus", "selu"), 99.79),
    "x1x2x3x4/1000": PaperResult(39.76962, 34425464.0, ("elu", "linear"), 99.70),
    "x1(x2+x3)+x4": PaperResult(22.794909, None, ("selu", "linear"), 97.09597),
}
"""Goel (2020), Table I and Sec. VI-B: the symlog/symexp model's test error and the best other pair."""
