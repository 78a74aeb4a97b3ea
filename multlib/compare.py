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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from multlib import laws, reuse
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
    :data:`SUCCESS_THRESHOLD`), ``status`` (``ok``, ``not applicable`` or ``diverged``) and
    ``seconds``: the method's time (training and scoring, plus any work it reused from a method that
    shares it, :mod:`multlib.reuse`) divided by its number of fits. ``progress`` prints a bar.

    ``workers > 1`` runs that many tasks at a time, each in its own process with one TensorFlow
    thread. A method's step is a long chain of small operations that keeps one core busy and a second
    thread mostly idle, so two single-threaded processes on two cores finish in about half the time of
    one process with two threads; the numbers then carry one-thread rounding. A task is one method,
    or the methods that share work (:attr:`multlib.methods.Method.shares`) together; the problems of
    methods whose fits are independent (:attr:`multlib.methods.Method.independent`) are split into
    tasks of about :data:`_TASK_SECONDS`, so that no core waits for one long method at the end. The
    rows are the same whatever the number of workers.
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
    chosen = {name: set(subsets.get(name, problems)) for name in names}
    wanted = {name: [k for k in problems if k in chosen[name]] for name in names}
    tasks = _tasks(names, wanted, split=workers > 1)
    report = _Progress(tasks, progress)
    if workers == 1 or len(tasks) == 1:
        done = [report(task, *_run_task(task, problems)) for task in tasks]
    else:
        done = _run_in_workers(tasks, problems, workers, report)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    seconds = dict.fromkeys(names, 0.0)
    for task, results in sorted(done, key=lambda d: d[0].index):
        for name, method_rows, spent in results:
            rows[name] += method_rows
            seconds[name] += spent
    per_fit = {name: seconds[name] / max(len(rows[name]), 1) for name in names}
    return [dict(row, seconds=per_fit[name]) for name in names for row in rows[name]]


@dataclass(frozen=True)
class _Task:
    """Methods run one after another in one process, each on its own keys; ``part`` of ``parts`` of its group."""

    index: int
    jobs: tuple[tuple[str, tuple[tuple[str, str, int], ...]], ...]
    part: int = 1
    parts: int = 1

    @property
    def fits(self) -> int:
        return sum(len(keys) for _, keys in self.jobs)

    @property
    def cost(self) -> float:
        return sum(_SECONDS_PER_FIT.get(name, 0.5) * len(keys) for name, keys in self.jobs)

    def label(self) -> str:
        names = " + ".join(name for name, _ in self.jobs)
        return names if self.parts == 1 else f"{names} (part {self.part}/{self.parts})"


_SECONDS_PER_FIT = {"power_law": 0.001, "relu_mlp": 0.18, "paper": 0.08, "improved": 0.52, "improved_select": 0.03,
                    "improved_ratio": 0.36, "product_unit": 0.33, "nalu": 0.6, "nau_nmu": 0.57, "npu": 0.62,
                    "realnpu": 0.51, "symbolic_regression": 0.54}
"""Wall seconds per fit of each method, to plan the tasks (measured in Chapter 7's study on one core;
``improved_select`` and ``improved_ratio`` after ``improved`` has run on the same problems)."""

_TASK_SECONDS = 20.0
"""About how long a task of a split method should take: short enough to even out the workers' loads
at the end, long enough that starting a task costs nothing."""


def _tasks(names: list[str], wanted: dict[str, list[tuple[str, str, int]]], split: bool) -> list[_Task]:
    """The methods grouped by what they share, each group one task or, if its fits are independent, several."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(METHODS[name].shares or name, []).append(name)
    tasks: list[_Task] = []
    for members in groups.values():
        jobs = [(m, tuple(wanted[m])) for m in members if wanted[m]]
        if not jobs:
            continue
        union = list(dict.fromkeys(k for _, keys in jobs for k in keys))
        cost = _Task(0, tuple(jobs)).cost
        parts = 1
        if split and all(METHODS[m].independent for m, _ in jobs):
            parts = max(1, min(len(union), round(cost / _TASK_SECONDS)))
        for p in range(parts):
            chunk = set(union[p * len(union) // parts:(p + 1) * len(union) // parts])
            part_jobs = tuple((m, tuple(k for k in keys if k in chunk)) for m, keys in jobs)
            tasks.append(_Task(len(tasks), tuple((m, keys) for m, keys in part_jobs if keys), p + 1, parts))
    return tasks


def _run_task(task: _Task, problems: dict[tuple[str, str, int], CellData]
              ) -> tuple[list[tuple[str, list[dict[str, Any]], float]], float]:
    """Each method of ``task`` on its keys, ``(method, rows without seconds, seconds charged)``, and the task's wall time."""
    t0 = time.perf_counter()
    results = [(name, *_score_method(name, problems, keys)) for name, keys in task.jobs]
    return results, time.perf_counter() - t0


class _Progress:
    """A bar over the fits, one line as each task finishes (or nothing when ``enabled`` is false)."""

    def __init__(self, tasks: list[_Task], enabled: bool) -> None:
        self.total, self.enabled, self.done, self.began = sum(t.fits for t in tasks), enabled, 0, time.perf_counter()

    def __call__(self, task: _Task, results: Any, wall: float) -> tuple[_Task, Any]:
        self.done += task.fits
        if self.enabled:
            bar = "#" * (20 * self.done // max(self.total, 1))
            print(f"[{bar:20s}] {self.done}/{self.total} fits: {task.label()}, {task.fits} fits in {wall:.0f} s "
                  f"({time.perf_counter() - self.began:.0f} s elapsed)", flush=True)
        return task, results


_WORKER_ENV = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
_WORKER_PROBLEMS: dict[tuple[str, str, int], CellData] = {}


def _run_in_workers(
    tasks: list[_Task], problems: dict[tuple[str, str, int], CellData], workers: int, report: _Progress,
) -> list[tuple[_Task, Any]]:
    """:func:`_run_task` for every task, ``workers`` at a time in spawned processes."""
    # The longest first, so that the short ones fill in at the end.
    order = sorted(tasks, key=lambda t: -t.cost)
    # Spawned workers read these when they start TensorFlow (one thread each, no log noise).
    saved = {k: os.environ.get(k) for k in _WORKER_ENV}
    os.environ.update(_WORKER_ENV)
    try:
        context = multiprocessing.get_context("spawn")
        with context.Pool(min(workers, len(tasks)), initializer=_init_worker, initargs=(problems,)) as pool:
            return [report(*done) for done in pool.imap_unordered(_run_in_worker, order)]
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _init_worker(problems: dict[tuple[str, str, int], CellData]) -> None:
    _WORKER_PROBLEMS.update(problems)


def _run_in_worker(task: _Task) -> tuple[_Task, list[tuple[str, list[dict[str, Any]], float]], float]:
    return (task, *_run_task(task, _WORKER_PROBLEMS))


def _score_method(name: str, problems: dict[tuple[str, str, int], CellData],
                  keys: Sequence[tuple[str, str, int]]) -> tuple[list[dict[str, Any]], float]:
    """One method on the problems ``keys``: the rows of :func:`score_fits` (without ``seconds``) and the
    seconds they took, reused work included (see :mod:`multlib.reuse`)."""
    t0, reused0 = time.perf_counter(), reuse.seconds_reused()
    fits = METHODS[name].fit_many([Problem(problems[j][0], problems[j][1], j[2]) for j in keys])
    rows: list[dict[str, Any]] = []
    for (f, d, s), fit in zip(keys, fits):
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
    return rows, time.perf_counter() - t0 + reuse.seconds_reused() - reused0


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
