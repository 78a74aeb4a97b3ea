"""Each arithmetic unit on its own paper's multiplication setting, many seeds trained at once.

The setting is Madsen and Johansen's (ICLR 2020, REFERENCE.md "The NMU's own setting"): t = x1 * x2,
10,000 fixed training samples from U[1, 2], an interpolation validation set from U[1, 2] and an
extrapolation set from U[2, 6] (10,000 each, fresh per seed), Adam 1e-3, batch 128, MSE plus the
sparsity regulariser with lambda ramped from 0 to 10 between steps 1e6 and 2e6 (so 0 within a
20,000-step run, exactly as in the authors' schedule). Every 1,000 steps each seed is scored; the
step with the lowest interpolation MSE is kept and the seed counts as solved if its extrapolation
MSE there is below the MSE of the exact solution with its selection weights perturbed by 1e-5
(multlib.units.nmu_success_threshold, computed on that seed's extrapolation set).

All units and seeds train together through multlib.parallel.train_parallel. A short timing at the
end compares that with training one model alone.

The per-seed results (solved or not, the selected step, its errors, the unit's weights there) go to
``--out`` (default: the package's results folder, ``units_own_settings.csv``), which Chapter 5b reads
with multlib.compare.read_own_settings. The committed file comes from

    TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 python benchmarks/units_own_settings.py \
        --seeds 50 --other-seeds 30 --steps 20000
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from multlib.data import uniform  # noqa: E402
from multlib.compare import OWN_SETTINGS_COLUMNS  # noqa: E402
from multlib.results import RESULTS_DIR, write_csv  # noqa: E402
from multlib.parallel import train_parallel  # noqa: E402
from multlib.units import (  # noqa: E402
    NAC, NALU, NAU, NMU, RealNPU, SparsityRegularizer, linear_ramp, nmu_success_threshold,
    set_sparsity_strength, wilson_interval,
)

N = 10_000
TRAIN, EXTRAP = (1.0, 2.0), (2.0, 6.0)


def build(unit: str) -> keras.Model:
    """The network each paper uses for a two-input product."""
    layers = {
        "NMU": lambda: [NMU(1, kernel_regularizer=SparsityRegularizer())],
        "NAU->NMU": lambda: [NAU(2, kernel_regularizer=SparsityRegularizer()),
                             NMU(1, kernel_regularizer=SparsityRegularizer())],
        "NALU": lambda: [NALU(1)],
        "NAC-mul": lambda: [NAC(1, mode="mul")],
        "RealNPU": lambda: [RealNPU(1)],
    }[unit]()
    return keras.Sequential([keras.Input((2,)), *layers])


PUBLISHED = {
    "NMU": "paper: 98% [93,99] (NAU 100->2 ->NMU, 5e6 steps); REF: 30/30, median 3,000",
    "NAU->NMU": "REF: 9/10 in 20k steps (paper's 4-input simple task: 94% [88,97])",
    "NALU": "Madsen & Johansen: 0% (100 seeds, their arithmetic task)",
    "NAC-mul": "Madsen & Johansen: 31% (100 seeds, their arithmetic task)",
    "RealNPU": "none found for this task in its paper",
}


def weights(model: keras.Model) -> dict[str, list[float]]:
    """The weights that decide what a unit computes, by readable name (effective NAC kernels, not W_hat)."""
    out: dict[str, list[float]] = {}
    for layer in model.layers:
        if isinstance(layer, NAC):  # NALU included
            out["W"] = np.asarray(layer.nac_weights()).ravel().tolist()
            if isinstance(layer, NALU):
                out["G"] = layer.gate_kernel.numpy().ravel().tolist()
        elif isinstance(layer, RealNPU):
            out["W"] = layer.real_kernel.numpy().ravel().tolist()
            out["g"] = layer.gate.numpy().ravel().tolist()
        else:
            out[type(layer).__name__] = layer.kernel.numpy().ravel().tolist()
    return {k: [round(float(v), 7) for v in vs] for k, vs in out.items()}


def split(seed: int) -> dict[str, np.ndarray]:
    """Training, interpolation-validation and extrapolation sets for one seed."""
    sets = {"train": uniform(N, TRAIN, 2, seed=seed), "valid": uniform(N, TRAIN, 2, seed=seed + 50_000),
            "extrap": uniform(N, EXTRAP, 2, seed=seed + 100_000)}
    return {k: v.astype(np.float32) for k, v in sets.items()}


def mse(model: keras.Model, x: np.ndarray) -> float:
    pred = np.asarray(model(x, training=False), np.float64).reshape(-1)
    target = x[:, 0].astype(np.float64) * x[:, 1].astype(np.float64)
    return float(np.mean((pred - target) ** 2))


def run(args: argparse.Namespace) -> list[tuple]:
    members: list[tuple[str, int]] = [("NMU", s) for s in range(args.seeds)]
    members += [(u, s) for u in ("NAU->NMU", "NALU", "NAC-mul", "RealNPU") for s in range(args.other_seeds)]
    models, data, sets = [], [], []
    for unit, seed in members:
        keras.utils.set_random_seed(seed)
        models.append(build(unit))
        d = split(seed)
        sets.append(d)
        data.append((d["train"], d["train"][:, 0] * d["train"][:, 1]))
    thresholds = np.array([nmu_success_threshold(d["extrap"]) for d in sets])

    snapshots: list[list[dict[str, list[float]]]] = []

    def evaluate(step: int, ms) -> np.ndarray:
        # Set lambda for the next chunk (piecewise constant at eval_every resolution).
        set_sparsity_strength(ms, linear_ramp(step, args.reg_start, args.reg_end, 10.0))
        snapshots.append([weights(m) for m in ms])
        return np.array([[mse(m, d["valid"]), mse(m, d["extrap"])] for m, d in zip(ms, sets)])

    set_sparsity_strength(models, linear_ramp(0, args.reg_start, args.reg_end, 10.0))
    began = time.perf_counter()
    result = train_parallel(models, data, steps=args.steps, batch_size=128, learning_rate=1e-3, seed=args.seed,
                            eval_every=args.eval_every, callback=evaluate, progress=args.progress)
    seconds = time.perf_counter() - began
    steps = np.array([s for s, _ in result.evaluations])
    scores = np.stack([e for _, e in result.evaluations])  # (evals, members, [valid, extrap])
    valid = np.where(np.isfinite(scores[:, :, 0]), scores[:, :, 0], np.inf)
    best = np.argmin(valid, axis=0)
    extrap_at_best = scores[best, np.arange(len(members)), 1]
    solved = extrap_at_best < thresholds
    below = scores[:, :, 1] < thresholds[None, :]
    first = np.where(below.any(0), steps[np.argmax(below, axis=0)], -1)
    print(f"{len(members)} models ({result.groups} groups), {args.steps} steps, trained in {seconds:.0f} s; "
          f"{sum(d is not None for d in result.diverged_at)} diverged; "
          f"threshold median {np.median(thresholds):.2e} (eps = 1e-5)")
    per_seed = [
        dict(unit=unit, seed=seed, steps=args.steps, solved=bool(solved[i]), best_step=int(steps[best[i]]),
             first_solved_step=int(first[i]), valid_mse=float(scores[best[i], i, 0]),
             extrap_mse=float(extrap_at_best[i]), threshold=float(thresholds[i]),
             diverged_at=-1 if result.diverged_at[i] is None else int(result.diverged_at[i]),
             weights=json.dumps(snapshots[best[i]][i], separators=(",", ":")))
        for i, (unit, seed) in enumerate(members)
    ]
    write(per_seed, Path(args.out))
    print(f"wrote {args.out}")
    rows = []
    for unit in PUBLISHED:
        idx = [i for i, (u, _) in enumerate(members) if u == unit]
        if not idx:
            continue
        k, n = int(solved[idx].sum()), len(idx)
        lo, hi = wilson_interval(k, n)
        med = f"{int(np.median(first[idx][solved[idx]])):,}" if k else "-"
        rows.append((unit, n, k, f"{100 * k / n:.0f}%", f"[{100 * lo:.0f}, {100 * hi:.0f}]", med, PUBLISHED[unit],
                     f"{np.median(extrap_at_best[idx]):.1e}"))
    return rows


def write(rows: list[dict], path: Path) -> None:
    """One CSV row per (unit, seed); floats as repr so they read back exactly."""
    write_csv(rows, path, OWN_SETTINGS_COLUMNS)


def timing(steps: int, wide: int) -> None:
    """Wall time of ``wide`` NMU models trained together vs one alone (train_parallel and model.fit)."""
    d = split(0)
    x, y = d["train"], d["train"][:, 0] * d["train"][:, 1]
    times = {}
    for s in (1, wide):
        ms = [build("NMU") for _ in range(s)]
        t0 = time.perf_counter()
        train_parallel(ms, [(x, y)] * s, steps=steps, eval_every=steps)
        times[s] = time.perf_counter() - t0
    m = build("NMU")
    m.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    reps = -(-steps * 128 // N)
    t0 = time.perf_counter()
    m.fit(np.tile(x, (reps, 1)), np.tile(y, reps), batch_size=128, epochs=1, steps_per_epoch=steps, verbose=0)
    fit = time.perf_counter() - t0
    print(f"timing, {steps} steps (tracing included): 1 NMU via train_parallel {times[1]:.1f} s, "
          f"{wide} NMUs via train_parallel {times[wide]:.1f} s, 1 NMU via model.fit {fit:.1f} s; "
          f"{wide} together cost {times[wide] / fit:.1f} model.fit runs or {times[wide] / times[1]:.1f} lone "
          f"train_parallel runs")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=50, help="seeds for the lone NMU")
    p.add_argument("--other-seeds", type=int, default=30, help="seeds for each other unit")
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--eval-every", type=int, default=1_000)
    p.add_argument("--seed", type=int, default=0, help="batch-sampling seed")
    p.add_argument("--reg-start", type=int, default=1_000_000, help="step where lambda starts rising from 0")
    p.add_argument("--reg-end", type=int, default=2_000_000, help="step where lambda reaches 10")
    p.add_argument("--timing-steps", type=int, default=2_000, help="0 skips the timing")
    p.add_argument("--timing-models", type=int, default=50)
    p.add_argument("--progress", action="store_true")
    p.add_argument("--out", default=str(RESULTS_DIR / "units_own_settings.csv"), help="per-seed results (CSV)")
    args = p.parse_args()
    if args.seeds < 1 or args.other_seeds < 0 or args.steps < 1:
        p.error("--seeds must be >= 1, --other-seeds >= 0, --steps >= 1")
    rows = run(args)
    head = ("unit", "seeds", "solved", "rate", "Wilson 95% CI", "median steps", "published", "median extrap MSE")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    order = [0, 1, 2, 3, 4, 5, 7, 6]
    for r in [head] + rows:
        print("  ".join(str(r[i]).ljust(widths[i]) for i in order).rstrip())
    if args.timing_steps:
        timing(args.timing_steps, args.timing_models)


if __name__ == "__main__":
    main()
