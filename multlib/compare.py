"""One benchmark for every way of multiplying in this book: train on one range, test far beyond it.

A *method* learns a function from ``(x, y)`` samples on a training domain; the benchmark scores its
relative error on a disjoint test domain. :data:`METHODS` names every method of the book (the blog's
ReLU network, the paper's symlog/symexp network, the log-feature least-squares fit, the arithmetic
units of :mod:`multlib.units` and the improved network of :mod:`multlib.improved`), each with the
training recipe recommended for it. Anyone can run one on their own formula::

    errors = evaluate("nau_nmu", lambda x: x[:, 0] * x[:, 1], 2, (1, 2), (2, 6), seed=0)

The book's comparison (:data:`BENCHMARK`: the paper's seven tasks, a division and signed inputs, on
four train/test domains in the style of the Primer benchmark of Mistry et al.) is
:func:`run_comparison`; ``python -m multlib.compare`` regenerates its committed results in the
package's results folder, with a progress bar.

Success, as in the field (Madsen and Johansen; Mistry et al.), is an extrapolation error at the level
of a model whose weights are right to about 1e-5: here a mean relative error on the test domain
below :data:`SUCCESS_THRESHOLD`. A float32 model of the exact law sits near 1e-6 (Chapter 2).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from multlib.data import Task, check_positive_int, get_task

__all__ = [
    "Interval",
    "Domain",
    "Extrapolation",
    "Formula",
    "Problem",
    "Method",
    "METHODS",
    "FORMULAS",
    "DOMAINS",
    "BENCHMARK",
    "SUCCESS_THRESHOLD",
    "N_TRAIN",
    "N_TEST",
    "domain",
    "sample",
    "relative_errors",
    "evaluate",
    "run_comparison",
    "score_fits",
    "benchmark_problems",
    "NotApplicable",
    "success_table",
    "count_successes",
    "SUMMARY_GROUPS",
    "format_success_summary",
    "diverged_counts",
    "heatmap_grid",
    "write_rows",
    "read_rows",
    "main",
]

Interval = tuple[float, float]
Domain = tuple[Interval, ...]
"""A union of intervals ``[low, high]``; every input feature is drawn from it independently."""

SUCCESS_THRESHOLD: float = 1e-5
"""A fit succeeds when its mean relative error on the test domain is below this."""
N_TRAIN: int = 10_000
"""Training samples per fit (as in the paper's reproduction, Chapter 4)."""
N_TEST: int = 10_000
"""Test samples per fit."""


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


def _as_domain(value: Any, name: str) -> Domain:
    """Accept ``(low, high)`` or a sequence of such pairs."""
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
    dom = _as_domain(dom, "dom")
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


Predictor = Callable[[np.ndarray], np.ndarray]


class NotApplicable(ValueError):
    """The method cannot represent or even take this data (e.g. a log of a negative input)."""


@dataclass(frozen=True)
class Method:
    """A way to learn a function from samples, with its recommended recipe.

    ``fit_many(problems)`` trains one model per problem (all at once where the method can) and
    returns one predictor per problem, or an exception instance in its place when that fit could not
    be made (:class:`NotApplicable`, or :class:`multlib.training.TrainingDiverged`).
    """

    name: str
    description: str
    fit_many: Callable[[Sequence[Problem]], list[Predictor | Exception]] = field(repr=False)


# ------------------------------------------------------------------------------------------------
# methods
# ------------------------------------------------------------------------------------------------


def _fit_power_law(problems: Sequence[Problem]) -> list[Predictor | Exception]:
    from multlib.power_law import fit_power_law

    out: list[Predictor | Exception] = []
    for p in problems:
        try:
            out.append(fit_power_law(p.x, p.y).predict)
        except ValueError as err:  # a log of a non-positive input or target
            out.append(NotApplicable(str(err)))
    return out


def _fit_relu(problems: Sequence[Problem]) -> list[Predictor | Exception]:
    """The blog's 80-ReLU network on inputs and targets scaled by their largest training magnitude."""
    from multlib.models import relu_mlp
    from multlib.parallel import train_parallel
    from multlib.training import cosine_schedule, seed_everything

    steps, batch = 4000, 128
    nets, data, scales = [], [], []
    for p in problems:
        seed_everything(p.seed)
        nets.append(relu_mlp(p.x.shape[1], 80))
        sx, sy = float(np.max(np.abs(p.x))), float(np.max(np.abs(p.y)))
        scales.append((sx, sy))
        data.append((p.x / sx, p.y / sy))
    # cosine_schedule(lr, n, batch, epochs) decays over n / batch * epochs steps: here exactly `steps`.
    schedule = cosine_schedule(3e-3, steps * batch, batch, 1)
    result = train_parallel(nets, data, steps=steps, batch_size=batch, learning_rate=schedule, seed=problems[0].seed)
    return [_keras_predictor(net, sx, sy) if result.diverged_at[k] is None else _diverged(result.diverged_at[k])
            for k, (net, (sx, sy)) in enumerate(zip(nets, scales))]


def _fit_paper(problems: Sequence[Problem]) -> list[Predictor | Exception]:
    """Goel's symlog/symexp network with the recipe of Chapter 4: MAE, Adam 1e-3, batch 32, 100 epochs."""
    from multlib.fused import FusedPaperModels

    d = max(p.x.shape[1] for p in problems)
    n = min(len(p.x) for p in problems)
    fused = FusedPaperModels([("symlog", "symexp")] * len(problems), [p.x.shape[1] for p in problems],
                             seeds=[p.seed for p in problems], input_dim=d)
    x = np.zeros((len(problems), n, d), np.float32)
    for k, p in enumerate(problems):
        x[k, :, : p.x.shape[1]] = p.x[:n]
    y = np.stack([p.y[:n] for p in problems]).astype(np.float32)
    fused.fit(x, y, epochs=100, batch_size=32, learning_rate=1e-3)
    diverged = fused.diverged

    def predictor(k: int, nf: int) -> Predictor:
        def predict(xs: np.ndarray) -> np.ndarray:
            padded = np.zeros((len(problems), len(xs), d), np.float32)
            padded[k, :, :nf] = xs
            return fused.predict(padded)[k]

        return predict

    return [predictor(k, p.x.shape[1]) if not diverged[k] else _diverged(None) for k, p in enumerate(problems)]


def _unit_network(kind: str, n_features: int) -> Any:
    """The small network each arithmetic unit's own paper uses for arithmetic on a few inputs."""
    import keras

    from multlib import units

    layers = {
        # Durbin and Rumelhart: product units feeding a summing output unit.
        "product_unit": lambda: [units.ProductUnit(2), keras.layers.Dense(1)],
        # Trask et al.'s static arithmetic tests: two stacked NALUs.
        "nalu": lambda: [units.NALU(2), units.NALU(1)],
        # Madsen and Johansen: an NAU selects (and scales) the inputs, an NMU multiplies them.
        "nau_nmu": lambda: [units.NAU(n_features), units.NMU(1)],
        # Heim et al.: an NPU (or RealNPU) layer followed by an NAU.
        "npu": lambda: [units.NPU(2), units.NAU(1)],
        "realnpu": lambda: [units.RealNPU(2), units.NAU(1)],
    }[kind]()
    return keras.Sequential([keras.Input((n_features,)), *layers], name=kind)


UNIT_STEPS = 20_000
"""Adam steps (batch 128, learning rate 1e-3) for every arithmetic unit: the budget of the units' own
settings in ``benchmarks/units_own_settings.py``, where NAU -> NMU solves ``x1 * x2`` in a median
16,000 steps and RealNPU in 15,500 (a lone NMU needs 3,000). The final weights are scored."""


def _fit_unit(kind: str) -> Callable[[Sequence[Problem]], list[Predictor | Exception]]:
    def fit_many(problems: Sequence[Problem]) -> list[Predictor | Exception]:
        from multlib.parallel import train_parallel
        from multlib.training import seed_everything

        nets, data = [], []
        for p in problems:
            seed_everything(p.seed)
            nets.append(_unit_network(kind, p.x.shape[1]))
            # MSE on the raw targets, as in the units' own papers. Dividing the targets by their RMS would
            # suit one learning rate to targets of 1e-11 and 1e8 alike, but it moves the NMU's exact
            # solution off its clamp at W = 1: measured on x1*x2, [1, 2] -> [2, 6], NAU -> NMU went from
            # solving to a 1.9 % error. Large and tiny targets are part of what the units must handle.
            data.append((p.x, p.y))
        result = train_parallel(nets, data, steps=UNIT_STEPS, batch_size=128, learning_rate=1e-3,
                                seed=problems[0].seed)
        return [_keras_predictor(net) if result.diverged_at[k] is None else _diverged(result.diverged_at[k])
                for k, net in enumerate(nets)]

    return fit_many


def _fit_improved(problems: Sequence[Problem]) -> list[Predictor | Exception]:
    """The improved network of Chapter 5a with its recommended recipe (:func:`multlib.improved.fit`)."""
    from multlib import improved
    from multlib.training import TrainingDiverged

    out: list[Predictor | Exception] = []
    for p in problems:
        try:
            out.append(improved.fit(p.x, p.y, seed=p.seed).predict)
        except TrainingDiverged as err:
            out.append(err)
    return out


def _keras_predictor(model: Any, x_scale: float = 1.0, y_scale: float = 1.0) -> Predictor:
    import keras

    def predict(xs: np.ndarray) -> np.ndarray:
        # A direct call in blocks of 4096 rows, not model.predict: predict builds and traces a new
        # tf.function for every model, about 0.1 s each, which made scoring 185 small models cost
        # more than training them.
        x = np.asarray(xs, np.float32) / np.float32(x_scale)
        parts = [keras.ops.convert_to_numpy(model(x[i:i + 4096], training=False)) for i in range(0, len(x), 4096)]
        return y_scale * np.concatenate(parts).astype(np.float64).reshape(-1)

    return predict


def _diverged(step: int | None) -> Exception:
    from multlib.training import TrainingDiverged

    return TrainingDiverged("training diverged" + (f" at step {step}" if step else ""))


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("power_law", "least squares on log features (Chapter 2); positive inputs and targets only",
               _fit_power_law),
        Method("relu_mlp", "the blog's 80 ReLUs, scaled data, MSE, Adam 3e-3 with cosine decay, 4,000 steps of 128",
               _fit_relu),
        Method("paper", "Goel's Dense(16, symlog) -> Dense(12, symexp) -> Dense(1), MAE, Adam 1e-3, 100 epochs of 32",
               _fit_paper),
        Method("improved", "Chapter 5a's sum of product terms, relative loss, restarts and integer settling",
               _fit_improved),
        Method("product_unit", "two product units and a linear output (Durbin and Rumelhart)", _fit_unit("product_unit")),
        Method("nalu", "NALU(2) -> NALU(1) (Trask et al.)", _fit_unit("nalu")),
        Method("nau_nmu", "NAU(d) -> NMU(1) (Madsen and Johansen)", _fit_unit("nau_nmu")),
        Method("npu", "NPU(2) -> NAU(1) (Heim et al.)", _fit_unit("npu")),
        Method("realnpu", "RealNPU(2) -> NAU(1) (Heim et al.)", _fit_unit("realnpu")),
    ]
}
"""Every method of the comparison by name."""


# ------------------------------------------------------------------------------------------------
# evaluation
# ------------------------------------------------------------------------------------------------


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


def _targets(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, name: str) -> np.ndarray:
    y = np.asarray(fn(x), dtype=np.float64)
    if y.shape not in ((len(x),), (len(x), 1)):
        raise ValueError(f"fn must return one value per row, shape ({len(x)},), got {y.shape} on {name} inputs")
    y = y.reshape(-1)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"fn returned {int(np.sum(~np.isfinite(y)))} non-finite value(s) on the {name} inputs")
    return y


def evaluate(
    method: str,
    fn: Callable[[np.ndarray], np.ndarray],
    n_features: int,
    train_range: Any,
    test_range: Any,
    seed: int = 0,
    *,
    n_train: int = N_TRAIN,
    n_test: int = N_TEST,
) -> np.ndarray:
    """Train ``method`` on ``fn`` over ``train_range`` and return its relative errors on ``test_range``.

    ``train_range``/``test_range`` are ``(low, high)`` or lists of such intervals (a union); each of the
    ``n_features`` inputs is drawn from them independently. Raises :class:`NotApplicable` when the
    method cannot take the data and :class:`multlib.training.TrainingDiverged` when its training blew up.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    n_features = check_positive_int(n_features, "n_features")
    train, test = _as_domain(train_range, "train_range"), _as_domain(test_range, "test_range")
    x = sample(train, n_train, n_features, seed)
    x_test = sample(test, n_test, n_features, seed + 10_000)
    y, y_test = _targets(fn, x, "training"), _targets(fn, x_test, "test")
    (fit,) = METHODS[method].fit_many([Problem(x, y, seed)])
    if isinstance(fit, Exception):
        raise fit
    return relative_errors(y_test, fit(x_test))


def run_comparison(
    methods: Sequence[str] | None = None,
    cells: Sequence[tuple[str, str]] = BENCHMARK,
    seeds: int = 5,
    *,
    n_train: int = N_TRAIN,
    n_test: int = N_TEST,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Every method on every (formula, domain) cell and seed; one row per fit (see :func:`score_fits`)."""
    return score_fits(methods, benchmark_problems(cells, seeds, n_train=n_train, n_test=n_test), progress=progress)


def benchmark_problems(
    cells: Sequence[tuple[str, str]] = BENCHMARK, seeds: int = 5, *, n_train: int = N_TRAIN, n_test: int = N_TEST
) -> dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
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
            problems[(f, d, s)] = (x, _targets(formula.fn, x, "training"), x_test, _targets(formula.fn, x_test, "test"))
    return problems


def score_fits(
    methods: Sequence[str] | None,
    problems: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    *,
    progress: bool = True,
    workers: int = 1,
) -> list[dict[str, Any]]:
    """Fit every method on every problem ``(formula, domain, seed) -> (x, y, x_test, y_test)`` and score it.

    A method trains all its fits at once (:attr:`Method.fit_many`). Rows hold the method, formula,
    domain and seed, the mean, median and largest relative test error, ``train_mean`` (the mean
    relative error on the training data, to tell a method that fits its range but does not extrapolate
    from one that does not fit at all), ``success`` (test mean below :data:`SUCCESS_THRESHOLD`),
    ``status`` (``ok``, ``not applicable`` or ``diverged``) and the method's wall time divided by its
    number of fits. ``progress`` prints a bar over the methods.

    ``workers > 1`` trains that many methods at a time, each in its own process with one TensorFlow
    thread. A method's step is a long chain of small operations that keeps one core busy and a second
    thread mostly idle, so two single-threaded processes on two cores finish the comparison in about
    half the time of one process with two threads. The numbers then carry one-thread rounding.
    """
    names = list(METHODS) if methods is None else list(methods)
    for name in names:
        if name not in METHODS:
            raise ValueError(f"methods must name entries of METHODS {sorted(METHODS)}, got {name!r}")
    workers = check_positive_int(workers, "workers")
    began = time.perf_counter()
    by_method: dict[str, list[dict[str, Any]]] = {}

    def report(name: str, rows: list[dict[str, Any]]) -> None:
        by_method[name] = rows
        if progress:
            done = len(by_method)
            bar = "#" * (20 * done // len(names))
            spent = rows[0]["seconds"] * len(rows) if rows else 0.0
            print(f"[{bar:20s}] {done}/{len(names)} methods: {name}, {len(rows)} fits in {spent:.0f} s "
                  f"({time.perf_counter() - began:.0f} s elapsed)", flush=True)

    if workers == 1 or len(names) == 1:
        for name in names:
            report(name, _score_method(name, problems))
    else:
        import multiprocessing
        import os

        # The slowest methods first, so that no worker is left with a long one at the end.
        order = sorted(names, key=lambda m: -_RELATIVE_COST.get(m, 1.0))
        # Spawned workers read these when they start TensorFlow (one thread each, no log noise).
        saved = {k: os.environ.get(k) for k in _WORKER_ENV}
        os.environ.update(_WORKER_ENV)
        try:
            context = multiprocessing.get_context("spawn")
            with context.Pool(min(workers, len(names)), initializer=_init_worker, initargs=(problems,)) as pool:
                for name, rows in pool.imap_unordered(_score_in_worker, order):
                    report(name, rows)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return [r for name in names for r in by_method[name]]


_WORKER_ENV = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
_RELATIVE_COST = {"paper": 6.0, "nau_nmu": 3.0, "nalu": 3.0, "product_unit": 2.5, "npu": 2.5, "realnpu": 2.5,
                  "improved": 2.0, "relu_mlp": 1.5, "power_law": 0.1}
"""Rough wall time of each method on the book's comparison, to schedule the slowest first."""
_WORKER_PROBLEMS: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}


def _init_worker(problems: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> None:
    _WORKER_PROBLEMS.update(problems)


def _score_in_worker(name: str) -> tuple[str, list[dict[str, Any]]]:
    return name, _score_method(name, _WORKER_PROBLEMS)


def _score_method(
    name: str, problems: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
) -> list[dict[str, Any]]:
    """One method on every problem: the rows of :func:`score_fits`."""
    from multlib.training import TrainingDiverged

    jobs = list(problems)
    t0 = time.perf_counter()
    fits = METHODS[name].fit_many([Problem(problems[j][0], problems[j][1], j[2]) for j in jobs])
    rows: list[dict[str, Any]] = []
    for (f, d, s), fit in zip(jobs, fits):
        row: dict[str, Any] = dict(method=name, formula=f, domain=d, seed=s)
        if isinstance(fit, Exception):
            status = "not applicable" if isinstance(fit, NotApplicable) else (
                "diverged" if isinstance(fit, TrainingDiverged) else f"error: {fit}")
            row.update(status=status, mean=math.inf, median=math.inf, max=math.inf, train_mean=math.inf,
                       success=False)
        else:
            x, y, x_test, y_test = problems[(f, d, s)]
            err = relative_errors(y_test, fit(x_test))
            row.update(status="ok", mean=float(np.mean(err)), median=float(np.median(err)),
                       max=float(np.max(err)), train_mean=float(np.mean(relative_errors(y, fit(x)))),
                       success=bool(np.mean(err) < SUCCESS_THRESHOLD))
        rows.append(row)
    per_fit = (time.perf_counter() - t0) / len(jobs)  # training and scoring, per fit
    return [dict(row, seconds=per_fit) for row in rows]


def success_table(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Per (method, formula, domain): fits, successes, the Wilson 95 % interval, median error, status."""
    from multlib.units import wilson_interval

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


COLUMNS = ("method", "formula", "domain", "seed", "status", "mean", "median", "max", "train_mean", "success",
           "seconds")


def write_rows(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write comparison rows as CSV (floats as ``repr``, so they read back exactly)."""
    from multlib.sweep import write_csv

    return write_csv(rows, path, COLUMNS)


def read_rows(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Read comparison rows back; by default the committed ``comparison.csv`` shipped in the package
    (``read_rows(RESULTS_DIR / "laws.csv")`` for the laws)."""
    from multlib.sweep import RESULTS_DIR, read_csv

    return read_csv(RESULTS_DIR / "comparison.csv" if path is None else path, command="python -m multlib.compare",
                    ints=("seed",), floats=("mean", "median", "max", "train_mean", "seconds"), bools=("success",))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m multlib.compare``: regenerate the committed comparison and laws results (with progress)."""
    from multlib import laws
    from multlib.sweep import RESULTS_DIR

    parser = argparse.ArgumentParser(prog="python -m multlib.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", help=f"default: all of {list(METHODS)}")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", choices=["benchmark", "laws"], help="default: both")
    parser.add_argument("--out-dir", default=str(RESULTS_DIR), help="where comparison.csv and laws.csv go")
    parser.add_argument("--workers", type=int, default=2,
                        help="methods trained at a time, one process and one TensorFlow thread each (default 2)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        # One fit_many per method over the benchmark and the laws together: a method's cost is mostly
        # per step, not per member, so training both sets at once costs about what one of them costs.
        problems = {} if args.only == "laws" else benchmark_problems(seeds=args.seeds)
        if args.only != "benchmark":
            problems.update(laws.law_problems(seeds=args.seeds))
        print(f"{len(problems)} fits per method ({len(BENCHMARK)} benchmark cells and {len(laws.LAWS)} laws, "
              f"{args.seeds} seeds)")
        rows = score_fits(args.methods, problems, workers=args.workers)
    except ValueError as err:
        parser.error(str(err))
    for name, part in (("comparison.csv", [r for r in rows if r["domain"] != "laws"]),
                       ("laws.csv", [r for r in rows if r["domain"] == "laws"])):
        if part:
            print(f"wrote {write_rows(part, Path(args.out_dir) / name)} ({len(part)} rows)")
    print(f"{time.perf_counter() - t0:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
