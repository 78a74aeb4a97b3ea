"""Goel's activation sweep: 122 activation pairs x 7 tasks x seeds, trained fused.

Run it as ``python -m multlib.sweep --study sweep`` (or ``--study all``). Every member is the
paper's network ``Dense(16, a1) -> Dense(12, a2) -> Dense(1)`` trained alone in effect (see
:mod:`multlib.fused`) on MAE with Adam for 100 epochs, on ``n_train`` points drawn from U[10, 100)
and tested on ``n_test`` points from U[100, 1000) (:func:`multlib.data.make_split`).

Each study (:data:`STUDIES`: the main sweep and Chapter 4's learning-rate and normalising-factor
studies) writes two files into the package's own results folder (:data:`multlib.results.RESULTS_DIR`), which is
where :func:`read_study` reads them, in a source checkout and in an installed wheel alike:

* ``OUT`` (CSV), one row per (task, a1, a2, seed), columns :data:`COLUMNS`;
* ``OUT`` with ``_curves.npz`` in place of ``.csv``: ``loss`` ``(rows, epochs)``, the training loss
  per epoch in the CSV's row order (NaN after a divergence), with ``task``, ``a1``, ``a2``, ``seed``
  arrays to align by, and ``meta`` (a JSON string of the settings, versions and wall time).

What a seed fixes. ``seed`` draws the training and test inputs (``make_split(..., seed=seed)``) and
the initial weights; all 122 pairs of one (task, seed) start from the *same* initial weights
(common random numbers: within a seed, pairs differ only by their activations). The batch order
is the same for every member (:data:`SHUFFLE_SEED`), so the layout (which members train together)
changes the speed but, up to an ulp of rounding, not the numbers. A slice re-run reproduces the
full sweep's rows bit for bit only on some machines (seen on the AVX-512 CPU that made the committed
sweep; :func:`multlib.results.machine_signature` is stored in ``meta``). Elsewhere, or on another CPU, 100 epochs of
Adam on MAE amplify one-ulp differences, so a single run's final test error moves by a few points
(as much as the seed-to-seed spread); compare means over seeds.

Hyperparameters the paper leaves open (REFERENCE.md): ``n_train = 10,000``, batch 32, 100 epochs,
Adam at the Keras default ``learning_rate = 1e-3`` (see :data:`LEARNING_RATE` for the measurement
behind that choice).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from multlib import activations
from multlib.activations import PAPER_BASELINES
from multlib.data import N_TEST, N_TRAIN, PAPER_TASKS, TARGETS, check_positive_int, get_task, make_split
from multlib.fused import FusedPaperModels
from multlib.metrics import mae, percentage_error
from multlib.results import RESULTS_DIR, curves_path, read_csv, read_curves, run_meta, write_csv, write_curves
from multlib.training import EpochProgress

__all__ = [
    "PAPER_PAIR",
    "SWEEP_PAIRS",
    "COLUMNS",
    "N_TRAIN",
    "N_TEST",
    "BATCH_SIZE",
    "EPOCHS",
    "LEARNING_RATE",
    "SHUFFLE_SEED",
    "LAYOUTS",
    "init_seed",
    "parse_pair",
    "run_sweep",
    "write_results",
    "read_results",
    "STUDIES",
    "Study",
    "NORMALISERS",
    "STUDY_RATES",
    "study_path",
    "read_study",
    "run",
    "main",
]

SWEEP_PAIRS: tuple[tuple[str, str], ...] = tuple((a, b) for a in PAPER_BASELINES for b in PAPER_BASELINES) + (
    ("symlog", "symexp"),
)
"""The 121 ordered pairs of the paper's baselines, then the paper's ``("symlog", "symexp")``."""

BATCH_SIZE: int = 32
"""Keras's default batch size (the paper does not say)."""
EPOCHS: int = 100
"""The paper's 100 epochs."""
LEARNING_RATE: float = 1e-3
"""Adam's step size, shared by all members: the Keras default, kept after a measurement.

Chosen on the *training* loss only, so that the test range plays no part in the choice. The
paper's pair, ``n_train = 10,000``, batch 32, 100 epochs, 7 tasks x 3 seeds; final training MAE
as a percentage of mean ``|y|``, mean over seeds:

=============  ======  ======  ======  ======
task           3e-4    1e-3    3e-3    1e-2
=============  ======  ======  ======  ======
x1x2           0.27    0.54    1.38    3.24
x1x2/10        0.31    0.64    1.31    3.18
x1x2x3         0.75    0.81    1.92    4.92
x1x2x3/100     1.04    0.85    2.18    5.88
x1x2x3x4       1.32    1.26    2.64    6.22
x1x2x3x4/1000  1.89    1.42    2.69    5.85
x1(x2+x3)+x4   0.45    0.52    1.54    4.10
=============  ======  ======  ======  ======

3e-4 and 1e-3 tie (each best on some tasks; 1e-3 on the three- and four-factor ones); 3e-3 and
1e-2 end two to five times higher (no decay, so the last epochs bounce). Four baselines (relu/linear,
elu/elu, softplus/relu, selu/linear) train better with larger rates (their outputs must grow to
1e4..1e8) and 1e-3 is a fair middle. Noted, not used: the paper pair's *test* error falls with the
larger rates (x1x2x3x4/1000: 48 % at 3e-4, 21 % at 1e-3, 13 % at 3e-3), so the extrapolation
numbers depend on this unstated hyperparameter.
"""
SHUFFLE_SEED: int = 0
"""Seed of the batch order shared by every member (:func:`multlib.fused.epoch_order`)."""

LAYOUTS: tuple[str, ...] = ("joint", "per_seed", "per_task", "per_task_seed")
"""Which members train together: all at once (fastest measured), or one run per seed/task/both."""

COLUMNS: tuple[str, ...] = (
    "task", "a1", "a2", "seed", "n_features", "n_train", "n_test", "epochs", "batch_size", "learning_rate",
    "train_loss_final", "train_loss_min", "train_percentage_error", "test_percentage_error", "test_mae",
    "test_finite_fraction", "diverged", "diverged_epoch",
)
"""CSV columns. ``train_loss_final`` is the last epoch's Keras-style training loss (MAE);
``train_percentage_error`` is eq. (3) on the training inputs after training; ``test_*`` are on the
test range; ``test_finite_fraction`` is the share of finite test predictions (an overflowing
``symexp`` gives inf); ``diverged_epoch`` is 1-based, empty when the member never diverged."""


@dataclass(frozen=True)
class Study:
    """One committed experiment: the same seeds, tasks and pairs trained at each learning rate."""

    name: str
    tasks: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    seeds: int = 3
    learning_rates: tuple[float, ...] = (LEARNING_RATE,)
    description: str = ""


PAPER_PAIR: tuple[str, str] = ("symlog", "symexp")
"""The paper's activation pair."""
NORMALISERS: tuple[int, ...] = (1, 10, 100, 1000, 10_000)
"""The divisors N of Chapter 4's normalising-factor study on ``x1x2/N``."""
STUDY_RATES: tuple[float, ...] = (3e-4, 1e-3, 3e-3)
"""The learning rates of Chapter 4's learning-rate study."""

STUDIES: dict[str, Study] = {
    s.name: s
    for s in (
        Study("sweep", tuple(PAPER_TASKS), SWEEP_PAIRS,
              description="Table I rebuilt: 122 pairs x 7 tasks x 3 seeds (about 6 minutes on 2 cores)"),
        Study("learning_rate", ("x1x2x3x4/1000", "x1x2"), (PAPER_PAIR,), learning_rates=STUDY_RATES,
              description="the paper's pair at three learning rates (about 1 minute)"),
        Study("normaliser", tuple(f"x1x2/{n}" if n > 1 else "x1x2" for n in NORMALISERS),
              (PAPER_PAIR, ("relu", "linear")), seeds=5,
              description="x1x2/N for five N, the paper's pair and relu/linear (about 1 minute)"),
    )
}
"""Every committed study, by name; ``python -m multlib.sweep --study NAME`` regenerates one."""


def study_path(name: str, directory: str | os.PathLike[str] | None = None) -> Path:
    """The CSV of study ``name`` in ``directory`` (default: the packaged :data:`RESULTS_DIR`)."""
    if name not in STUDIES:
        raise ValueError(f"name must be one of {sorted(STUDIES)}, got {name!r}")
    return Path(RESULTS_DIR if directory is None else directory) / f"{name}.csv"


def read_study(name: str) -> tuple[list[dict[str, Any]], np.ndarray]:
    """The committed rows and loss curves of study ``name`` (:func:`read_results` on its packaged CSV)."""
    path = study_path(name)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: regenerate it with `python -m multlib.sweep --study {name}`")
    return read_results(path)


def run(name: str, verbose: int = 1) -> list[dict[str, Any]]:
    """Train study ``name`` (:data:`STUDIES`): one :func:`run_sweep` per learning rate, rows concatenated."""
    study = STUDIES[study_path(name).stem]
    rows: list[dict[str, Any]] = []
    for lr in study.learning_rates:
        rows += run_sweep(study.seeds, study.tasks, study.pairs, learning_rate=lr, verbose=verbose)
    return rows


def init_seed(task: str, seed: int) -> int:
    """The initial-weight seed shared by all pairs of one (task, seed): a stable hash of both."""
    return zlib.crc32(f"{task}|{seed}".encode())


def parse_pair(text: str) -> tuple[str, str]:
    """``"symlog:symexp"`` -> ``("symlog", "symexp")``; raises ValueError for anything else."""
    parts = text.split(":")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"pair must look like 'a1:a2' (e.g. 'symlog:symexp'), got {text!r}")
    return parts[0], parts[1]


def _check_args(
    seeds: int | Sequence[int],
    tasks: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    epochs: int,
    n_train: int,
    n_test: int,
    batch_size: int,
    learning_rate: float,
    layout: str,
) -> tuple[list[int], list[str], list[tuple[str, str]]]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds <= 0:
            raise ValueError(f"seeds must be a positive count or a list of seeds, got {seeds!r}")
        seed_list = list(range(int(seeds)))
    else:
        seed_list = [int(s) for s in seeds]
        if not seed_list:
            raise ValueError(f"seeds must not be empty, got {seeds!r}")
        if len(set(seed_list)) != len(seed_list):
            raise ValueError(f"seeds must be distinct, got {seeds!r}")
    task_list = list(tasks)
    if not task_list:
        raise ValueError("tasks must name at least one task")
    for i, t in enumerate(task_list):
        try:
            get_task(t)
        except ValueError as err:
            raise ValueError(f"tasks[{i}]: {err}") from None
    pair_list = [tuple(p) for p in pairs]
    if not pair_list:
        raise ValueError("pairs must name at least one (a1, a2) pair")
    for p in pair_list:
        if len(p) != 2:
            raise ValueError(f"pairs must hold (a1, a2) pairs, got {p!r}")
        for a in p:
            activations.get(a)  # raises ValueError naming the activation
    for name, value in (("epochs", epochs), ("n_train", n_train), ("n_test", n_test), ("batch_size", batch_size)):
        check_positive_int(value, name)
    if isinstance(learning_rate, bool) or not (
        isinstance(learning_rate, (int, float)) and math.isfinite(learning_rate) and learning_rate > 0
    ):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    return seed_list, task_list, pair_list  # type: ignore[return-value]


def run_sweep(
    seeds: int | Sequence[int] = 3,
    tasks: Sequence[str] = PAPER_TASKS,
    pairs: Sequence[tuple[str, str]] = SWEEP_PAIRS,
    *,
    epochs: int = EPOCHS,
    n_train: int = N_TRAIN,
    n_test: int = N_TEST,
    batch_size: int = BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
    layout: str = "joint",
    verbose: int = 1,
) -> list[dict[str, Any]]:
    """Train every (task, pair, seed) member and score it; returns one dict per member.

    Args:
        seeds: a count ``k`` (seeds ``0..k-1``) or an explicit list of seeds.
        tasks: task names from :data:`multlib.data.PAPER_TASKS`, or other products such as
            ``"x1x2/10000"`` (:func:`multlib.data.get_task`).
        pairs: ``(a1, a2)`` activation pairs.
        epochs, n_train, n_test, batch_size, learning_rate: training settings.
        layout: one of :data:`LAYOUTS`; changes the speed, not the numbers.
        verbose: 1 prints a progress bar over the epochs of all runs.

    Each row holds the :data:`COLUMNS` plus ``"train_loss"``, the ``(epochs,)`` loss curve.
    Rows come ordered by task, then seed, then pair, in the order given.
    """
    seed_list, task_list, pair_list = _check_args(
        seeds, tasks, pairs, epochs, n_train, n_test, batch_size, learning_rate, layout
    )
    keys = [(t, s) for t in task_list for s in seed_list]
    splits = {k: make_split(k[0], n_train, n_test, seed=k[1]) for k in keys}
    members = [(t, s, p) for t, s in keys for p in pair_list]
    groups = _layout_groups(members, layout, seed_list, task_list, keys)
    settings = dict(n_train=n_train, n_test=n_test, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate)
    bar = EpochProgress(epochs * len(groups)) if verbose else None
    results: dict[tuple[str, int, tuple[str, str]], dict[str, Any]] = {}
    t_start = time.perf_counter()
    for g, group in enumerate(groups):
        if verbose:
            n_sets = len({(t, s) for t, s, _ in group})
            print(f"run {g + 1}/{len(groups)}: {len(group)} members, {n_sets} data sets", flush=True)
        results.update(_train_group(group, keys, splits, settings, bar))
    if verbose:
        print(f"sweep: {len(members)} members x {epochs} epochs in {time.perf_counter() - t_start:.1f} s", flush=True)
    return [results[m] for m in members]


Member = tuple[str, int, tuple[str, str]]
"""``(task, seed, (a1, a2))``: one network of the sweep."""


def _layout_groups(members: list[Member], layout: str, seeds: list[int], tasks: list[str],
                   keys: list[tuple[str, int]]) -> list[list[Member]]:
    """The members that train together in one fused run, for each layout of :data:`LAYOUTS`."""
    if layout == "joint":
        return [members]
    if layout == "per_seed":
        return [[m for m in members if m[1] == s] for s in seeds]
    if layout == "per_task":
        return [[m for m in members if m[0] == t] for t in tasks]
    return [[m for m in members if (m[0], m[1]) == k] for k in keys]


def _padded(a: np.ndarray) -> np.ndarray:
    """``a`` zero-padded to the widest task's features, in float32.

    Always the widest task, whatever the selection, so that a member runs the very same float
    operations in a slice as in the full sweep (100 epochs of Adam on MAE amplify one ulp).
    """
    out = np.zeros((a.shape[0], max(task.n_features for task in TARGETS.values())), np.float32)
    out[:, : a.shape[1]] = a
    return out


def _train_group(group: list[Member], keys: list[tuple[str, int]], splits: dict[tuple[str, int], Any],
                 settings: dict[str, Any], bar: EpochProgress | None) -> dict[Member, dict[str, Any]]:
    """Train one fused run of ``group`` and return each member's row."""
    gkeys = sorted({(t, s) for t, s, _ in group}, key=keys.index)
    data_index = np.array([gkeys.index((t, s)) for t, s, _ in group])
    x_train = np.stack([_padded(splits[k].x_train) for k in gkeys])
    y_train = np.stack([splits[k].y_train for k in gkeys]).astype(np.float32)
    x_test = np.stack([_padded(splits[k].x_test) for k in gkeys])
    model = FusedPaperModels(
        [p for _, _, p in group],
        [get_task(t).n_features for t, _, _ in group],
        [init_seed(t, s) for t, s, _ in group],
        input_dim=x_train.shape[2],
    )

    def tick(epoch: int, loss: np.ndarray) -> None:
        if bar is not None:
            bar.update(bar.done + 1, loss)

    hist = model.fit(
        x_train, y_train, epochs=settings["epochs"], batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"], shuffle_seed=SHUFFLE_SEED, data_index=data_index, on_epoch_end=tick,
    )
    pred_test = model.predict(x_test, data_index=data_index)
    pred_train = model.predict(x_train, data_index=data_index)
    return {m: _member_row(m, splits[(m[0], m[1])], settings, hist.loss[i], pred_train[i], pred_test[i],
                           bool(hist.diverged[i]), int(hist.diverged_epoch[i]))
            for i, m in enumerate(group)}


def _member_row(member: Member, split: Any, settings: dict[str, Any], curve: np.ndarray, pred_train: np.ndarray,
                pred_test: np.ndarray, diverged: bool, diverged_epoch: int) -> dict[str, Any]:
    """One row of :data:`COLUMNS` (and ``train_loss``, the curve) for a trained member."""
    t, s, p = member
    return {
        "task": t, "a1": p[0], "a2": p[1], "seed": s, "n_features": get_task(t).n_features,
        "n_train": settings["n_train"], "n_test": settings["n_test"], "epochs": settings["epochs"],
        "batch_size": settings["batch_size"], "learning_rate": settings["learning_rate"],
        "train_loss_final": float(curve[-1]),
        "train_loss_min": float(np.nanmin(curve)) if np.any(np.isfinite(curve)) else math.nan,
        "train_percentage_error": _score(percentage_error, split.y_train, pred_train),
        "test_percentage_error": _score(percentage_error, split.y_test, pred_test),
        "test_mae": _score(mae, split.y_test, pred_test),
        "test_finite_fraction": float(np.isfinite(pred_test).mean()),
        "diverged": diverged,
        "diverged_epoch": diverged_epoch + 1 if diverged else None,
        "train_loss": curve.copy(),
    }


def _score(fn: Any, y: np.ndarray, pred: np.ndarray) -> float:
    """A metric, or NaN when the prediction holds NaN (a diverged member); inf stays inf."""
    if np.any(np.isnan(pred)):
        return math.nan
    with np.errstate(over="ignore", invalid="ignore"):
        return fn(y, pred)


_TEXT, _INTS, _OPTIONAL_INTS, _BOOLS = ("task", "a1", "a2"), ("seed", "n_features", "n_train", "n_test", "epochs",
                                                           "batch_size"), ("diverged_epoch",), ("diverged",)


def write_results(
    rows: Sequence[dict[str, Any]], out: str | os.PathLike[str], meta: dict[str, Any] | None = None
) -> Path:
    """Write ``rows`` to the CSV ``out`` and their loss curves to :func:`multlib.results.curves_path` (``out``)."""
    out = Path(out)
    if not rows:
        raise ValueError("rows must not be empty")
    write_csv(rows, out, COLUMNS)
    keys = {k: np.array([r[k] for r in rows]) for k in ("task", "a1", "a2", "seed")}
    write_curves(out, np.stack([np.asarray(r["train_loss"], np.float64) for r in rows]), keys, meta)
    return out


def read_results(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Read a sweep CSV back as typed rows, and its ``(rows, epochs)`` loss curves (if present)."""
    floats = [c for c in COLUMNS if c not in (*_TEXT, *_INTS, *_OPTIONAL_INTS, *_BOOLS)]
    rows = read_csv(path, command="python -m multlib.sweep", ints=_INTS, floats=floats, bools=_BOOLS,
                    optional_ints=_OPTIONAL_INTS)
    return rows, read_curves(path, len(rows))


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``python -m multlib.sweep --study all`` regenerates every committed study.

    Without ``--study`` it runs the sweep the other flags describe and writes it to ``--out``.
    """
    parser = argparse.ArgumentParser(prog="python -m multlib.sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("--study", choices=[*STUDIES, "all"],
                        help="regenerate a committed study into the package's results folder (or --out-dir)")
    parser.add_argument("--out-dir", help="with --study: write the study files here instead")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0..k-1), default 3")
    parser.add_argument("--seed-list", type=int, nargs="+", help="explicit seeds (overrides --seeds)")
    parser.add_argument("--tasks", nargs="+", default=list(PAPER_TASKS), help="task names (default: all 7)")
    parser.add_argument("--pairs", nargs="+", help="pairs as a1:a2 (default: all 122)")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--n-train", type=int, default=N_TRAIN)
    parser.add_argument("--n-test", type=int, default=N_TEST)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--layout", choices=LAYOUTS, default="joint")
    parser.add_argument("--out", help="CSV path for a sweep given by the flags; curves go beside it")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    verbose = 0 if args.quiet else 1
    if args.study:
        for name in STUDIES if args.study == "all" else [args.study]:
            print(f"study {name}: {STUDIES[name].description}")
            t0 = time.perf_counter()
            rows = run(name, verbose=verbose)
            meta = run_meta(argv, t0, shuffle_seed=SHUFFLE_SEED, layout=args.layout)
            out = write_results(rows, study_path(name, args.out_dir), meta)
            print(f"wrote {out} and {curves_path(out)} ({len(rows)} rows, {time.perf_counter() - t0:.0f} s)")
        return 0
    if not args.out:
        parser.error("--out is required without --study")
    try:
        pairs = [parse_pair(p) for p in args.pairs] if args.pairs else list(SWEEP_PAIRS)
        seeds: int | list[int] = args.seed_list if args.seed_list else args.seeds
        t0 = time.perf_counter()
        rows = run_sweep(
            seeds, args.tasks, pairs, epochs=args.epochs, n_train=args.n_train, n_test=args.n_test,
            batch_size=args.batch_size, learning_rate=args.learning_rate, layout=args.layout, verbose=verbose,
        )
    except ValueError as err:
        parser.error(str(err))
    meta = run_meta(argv, t0, shuffle_seed=SHUFFLE_SEED, layout=args.layout)
    out = write_results(rows, args.out, meta)
    print(f"wrote {out} and {curves_path(out)} ({len(rows)} rows, {meta['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
