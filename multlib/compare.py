"""Chapter 5b's study: every method of the book, trained on one range and tested far beyond it.

A method (:data:`multlib.methods.METHODS`) learns a function from ``(x, y)`` samples on a training
domain; this study scores its relative error on a disjoint test domain
(:mod:`multlib.problems`). Anyone can run one method on their own formula::

    errors = evaluate("nau_nmu", lambda x: x[:, 0] * x[:, 1], 2, (1, 2), (2, 6), seed=0)

The book's comparison (:data:`multlib.problems.BENCHMARK`) is :func:`run`; the ten laws of
physics (:mod:`multlib.laws`) are :func:`run_laws`; :func:`read_own_settings` reads the units in
their own papers' settings (``benchmarks/units_own_settings.py``). ``python -m multlib.compare`` regenerates both
committed results (``comparison.csv``, ``laws.csv``) in the package's results folder, with a
progress bar.

Success, as in the field (Madsen and Johansen; Mistry et al.), is an extrapolation error at the level
of a model whose weights are right to about 1e-5: here a mean relative error on the test domain
below :data:`SUCCESS_THRESHOLD`. A float32 model of the exact law sits near 1e-6 (Chapter 2).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from multlib import laws
from multlib.data import N_TEST, N_TRAIN, check_positive_int
from multlib.methods import METHODS
from multlib.problems import (
    BENCHMARK,
    CellData,
    NotApplicable,
    Problem,
    as_domain,
    benchmark_problems,
    relative_errors,
    sample,
    targets,
)
from multlib.results import RESULTS_DIR, read_csv, write_csv
from multlib.training import TrainingDiverged

__all__ = [
    "SUCCESS_THRESHOLD",
    "COMPARED",
    "COLUMNS",
    "evaluate",
    "run",
    "run_laws",
    "score_fits",
    "write_results",
    "read_results",
    "OWN_SETTINGS_COLUMNS",
    "read_own_settings",
    "main",
]

SUCCESS_THRESHOLD: float = 1e-5
"""A fit succeeds when its mean relative error on the test domain is below this."""

COMPARED: tuple[str, ...] = ("power_law", "relu_mlp", "paper", "improved", "product_unit", "nalu", "nau_nmu", "npu",
                             "realnpu")
"""The methods of the committed comparison and laws (Chapter 5b), which :func:`score_fits` and
``python -m multlib.compare`` run by default; Chapter 7's methods (symbolic regression, the improved
network's variants) run when named."""

COLUMNS = ("method", "formula", "domain", "seed", "status", "mean", "median", "max", "train_mean", "success",
           "seconds")
"""The columns of a row of :func:`score_fits`, as committed."""


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
    train, test = as_domain(train_range, "train_range"), as_domain(test_range, "test_range")
    x = sample(train, n_train, n_features, seed)
    x_test = sample(test, n_test, n_features, seed + 10_000)
    y, y_test = targets(fn, x, "training"), targets(fn, x_test, "test")
    (fit,) = METHODS[method].fit_many([Problem(x, y, seed)])
    if isinstance(fit, Exception):
        raise fit
    return relative_errors(y_test, fit(x_test))


def run(
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


def run_laws(
    methods: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    seeds: int = 5,
    *,
    n_train: int = N_TRAIN,
    n_test: int = N_TEST,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Every method on every law of :data:`multlib.laws.LAWS` (or those ``names``) and seed; rows as
    :func:`run` makes them, with ``domain`` set to ``"laws"``."""
    problems = laws.law_problems(names, seeds, n_train=n_train, n_test=n_test)
    return score_fits(methods, problems, progress=progress)


def score_fits(
    methods: Sequence[str] | None,
    problems: dict[tuple[str, str, int], CellData],
    *,
    progress: bool = True,
    workers: int = 1,
    subsets: dict[str, Sequence[tuple[str, str, int]]] | None = None,
) -> list[dict[str, Any]]:
    """Fit every method on every problem ``(formula, domain, seed) -> (x, y, x_test, y_test)`` and score it.

    ``subsets`` maps a method to the keys of ``problems`` it fits instead of all of them (rows in the
    order of ``problems``), so that one call, and one pool of workers, serves methods fitted on
    different problems.

    ``methods=None`` runs the methods of :data:`COMPARED`.

    A method trains all its fits at once (:attr:`multlib.methods.Method.fit_many`). Rows hold the
    method, formula, domain and seed, the mean, median and largest relative test error, ``train_mean``
    (the mean relative error on the training data, to tell a method that fits its range but does not
    extrapolate from one that does not fit at all), ``success`` (test mean below
    :data:`SUCCESS_THRESHOLD`), ``status`` (``ok``, ``not applicable`` or ``diverged``) and the
    method's wall time divided by its number of fits. ``progress`` prints a bar over the methods.

    ``workers > 1`` trains that many methods at a time, each in its own process with one TensorFlow
    thread. A method's step is a long chain of small operations that keeps one core busy and a second
    thread mostly idle, so two single-threaded processes on two cores finish the comparison in about
    half the time of one process with two threads. The numbers then carry one-thread rounding.
    """
    names = list(COMPARED) if methods is None else list(methods)
    for name in names:
        if name not in METHODS:
            raise ValueError(f"methods must name entries of METHODS {sorted(METHODS)}, got {name!r}")
    workers = check_positive_int(workers, "workers")
    subsets = dict(subsets or {})
    for name, keys in subsets.items():
        missing = [k for k in keys if k not in problems]
        if name not in names or missing:
            raise ValueError(f"subsets must map methods of this call to keys of problems, got {name!r}: "
                             f"{missing[:1] or 'not a method of this call'}")
    report = _Progress(len(names), progress)
    if workers == 1 or len(names) == 1:
        by_method = {name: report(name, _score_method(name, problems, subsets.get(name))) for name in names}
    else:
        by_method = dict(_score_in_workers(names, problems, workers, report, subsets))
    return [r for name in names for r in by_method[name]]


class _Progress:
    """A bar over the methods, one line as each method finishes (or nothing when ``enabled`` is false)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.done, self.began = total, enabled, 0, time.perf_counter()

    def __call__(self, name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.done += 1
        if self.enabled:
            bar = "#" * (20 * self.done // self.total)
            spent = rows[0]["seconds"] * len(rows) if rows else 0.0
            print(f"[{bar:20s}] {self.done}/{self.total} methods: {name}, {len(rows)} fits in {spent:.0f} s "
                  f"({time.perf_counter() - self.began:.0f} s elapsed)", flush=True)
        return rows


_WORKER_ENV = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
_RELATIVE_COST = {"paper": 1.0, "nau_nmu": 3.0, "nalu": 3.0, "product_unit": 2.5, "npu": 2.5, "realnpu": 2.5,
                  "improved": 2.0, "improved_select": 2.0, "improved_ratio": 4.0, "relu_mlp": 1.5, "power_law": 0.1,
                  "symbolic_regression": 10.0}
"""Rough relative wall time of each method, to schedule the slowest first. Symbolic regression is
measured at 3.8 CPU seconds per fit on 10,000 training rows; the paper's network fell from 6.0 to 1.0
when its predictor stopped running the whole stack for every fit (22 s for Chapter 7's 295 fits)."""
_WORKER_PROBLEMS: dict[tuple[str, str, int], CellData] = {}
_WORKER_SUBSETS: dict[str, Sequence[tuple[str, str, int]]] = {}


def _score_in_workers(
    names: list[str], problems: dict[tuple[str, str, int], CellData], workers: int, report: _Progress,
    subsets: dict[str, Sequence[tuple[str, str, int]]],
) -> list[tuple[str, list[dict[str, Any]]]]:
    """:func:`_score_method` for every method, ``workers`` at a time in spawned processes."""
    # The slowest methods first, so that no worker is left with a long one at the end.
    order = sorted(names, key=lambda m: -_RELATIVE_COST.get(m, 1.0))
    # Spawned workers read these when they start TensorFlow (one thread each, no log noise).
    saved = {k: os.environ.get(k) for k in _WORKER_ENV}
    os.environ.update(_WORKER_ENV)
    try:
        context = multiprocessing.get_context("spawn")
        with context.Pool(min(workers, len(names)), initializer=_init_worker, initargs=(problems, subsets)) as pool:
            return [(name, report(name, rows)) for name, rows in pool.imap_unordered(_score_in_worker, order)]
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _init_worker(problems: dict[tuple[str, str, int], CellData],
                 subsets: dict[str, Sequence[tuple[str, str, int]]]) -> None:
    _WORKER_PROBLEMS.update(problems)
    _WORKER_SUBSETS.update(subsets)


def _score_in_worker(name: str) -> tuple[str, list[dict[str, Any]]]:
    return name, _score_method(name, _WORKER_PROBLEMS, _WORKER_SUBSETS.get(name))


def _score_method(name: str, problems: dict[tuple[str, str, int], CellData],
                  keys: Sequence[tuple[str, str, int]] | None = None) -> list[dict[str, Any]]:
    """One method on every problem (or those ``keys``, in the order of ``problems``): the rows of :func:`score_fits`."""
    wanted = set(problems if keys is None else keys)
    jobs = [k for k in problems if k in wanted]
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


def write_results(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write comparison rows as CSV (floats as ``repr``, so they read back exactly)."""
    return write_csv(rows, path, COLUMNS)


def read_results(name: str | Path = "comparison") -> list[dict[str, Any]]:
    """The committed rows shipped in the package: ``"comparison"`` (the benchmark) or ``"laws"``,
    or the path of a CSV that :func:`write_results` wrote."""
    path = RESULTS_DIR / f"{name}.csv" if name in ("comparison", "laws") else Path(name)
    return read_csv(path, command="python -m multlib.compare", ints=("seed",),
                    floats=("mean", "median", "max", "train_mean", "seconds"), bools=("success",))


OWN_SETTINGS_COLUMNS: tuple[str, ...] = (
    "unit", "seed", "steps", "solved", "best_step", "first_solved_step", "valid_mse", "extrap_mse", "threshold",
    "diverged_at", "weights",
)
"""Columns of ``units_own_settings.csv``: one row per (unit, seed). ``best_step`` is the evaluation with
the lowest interpolation MSE (``valid_mse``), where ``extrap_mse`` is compared with ``threshold``;
``first_solved_step`` and ``diverged_at`` are -1 when it never happened; ``weights`` is a JSON object
of the unit's deciding weights at ``best_step`` (effective NAC kernels ``W``, NALU gate ``G``,
RealNPU ``W`` and gate ``g``, NAU/NMU kernels by layer name)."""


def read_own_settings(path: Any = None) -> list[dict[str, Any]]:
    """Read the per-seed rows written by ``benchmarks/units_own_settings.py`` (default: the committed file).

    Integers, floats, ``solved`` (a bool) and ``weights`` (a dict of name -> list of floats) come back
    typed. Raises ``FileNotFoundError`` naming the command that regenerates a missing file and
    ``ValueError`` when the header is not :data:`OWN_SETTINGS_COLUMNS`.
    """
    path = Path(path) if path is not None else RESULTS_DIR / "units_own_settings.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: regenerate it with `python benchmarks/units_own_settings.py`")
    rows = []
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != OWN_SETTINGS_COLUMNS:
            raise ValueError(f"path must be a CSV with columns {OWN_SETTINGS_COLUMNS}, got {reader.fieldnames}")
        for raw in reader:
            if raw["solved"] not in ("True", "False"):
                raise ValueError(f"solved must be True or False, got {raw['solved']!r} in {path}")
            rows.append(dict(
                raw, solved=raw["solved"] == "True", weights=json.loads(raw["weights"]),
                **{k: int(raw[k]) for k in ("seed", "steps", "best_step", "first_solved_step", "diverged_at")},
                **{k: float(raw[k]) for k in ("valid_mse", "extrap_mse", "threshold")},
            ))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m multlib.compare``: regenerate the committed comparison and laws results (with progress)."""
    parser = argparse.ArgumentParser(prog="python -m multlib.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+",
                        help=f"default: {list(COMPARED)}; any of {list(METHODS)} by name")
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
            print(f"wrote {write_results(part, Path(args.out_dir) / name)} ({len(part)} rows)")
    print(f"{time.perf_counter() - t0:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
