"""How much faster is the fused trainer than ``model.fit`` one model at a time?

Runs the sweep's workload (paper model, 10,000 samples, batch 32, Adam, MAE) both ways:

* **sequential**: a few ``paper_model``s trained by ``model.fit`` for a few epochs each; the time per
  epoch is taken from the epochs after the first (tracing excluded, which flatters this side);
* **fused**: the sweep's members (122 pairs x 7 tasks x ``--seeds``) in one or several
  :class:`multlib.fused.FusedPaperModels`, one per group of the chosen ``--layouts``; again the
  epochs after the first.

Prints model-epochs per second for each, their ratio, and the full sweep's projected wall time
(122 x 7 x 3 members x 100 epochs). Timings on a shared 2-core machine are noisy: run it twice.

    python benchmarks/sweep_speed.py                     # defaults: 3 sequential models, 3 epochs
    python benchmarks/sweep_speed.py --layouts joint per_seed per_task per_task_seed
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from multlib.data import PAPER_TASKS, TARGETS, make_split  # noqa: E402
from multlib.fused import FusedPaperModels  # noqa: E402
from multlib.models import paper_model  # noqa: E402
from multlib.data import N_TRAIN  # noqa: E402
from multlib.sweep import BATCH_SIZE, LAYOUTS, LEARNING_RATE, SWEEP_PAIRS, init_seed  # noqa: E402

FULL_MEMBERS = len(SWEEP_PAIRS) * len(PAPER_TASKS) * 3
FULL_EPOCHS = 100


class _EpochTimer(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.times.append(time.perf_counter() - self._t)


def sequential(n_models: int, epochs: int, n_train: int) -> float:
    """Steady-state seconds per model-epoch of ``model.fit`` on the paper model."""
    pairs = [("symlog", "symexp"), ("relu", "linear"), ("tanh", "softmax"), ("elu", "selu")][:n_models]
    per_epoch = []
    for k, pair in enumerate(pairs):
        task = PAPER_TASKS[k % len(PAPER_TASKS)]
        split = make_split(task, n_train, 10, seed=0)
        model = paper_model(TARGETS[task].n_features, pair)
        model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mae")
        timer = _EpochTimer()
        model.fit(split.x_train.astype(np.float32), split.y_train.astype(np.float32), batch_size=BATCH_SIZE,
                  epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])
        steady = timer.times[1:] or timer.times
        per_epoch.append(float(np.mean(steady)))
        print(f"  sequential {pair[0]}/{pair[1]} on {task}: first epoch {timer.times[0]:.2f} s, "
              f"then {per_epoch[-1]:.2f} s/epoch", flush=True)
    return float(np.mean(per_epoch))


def fused(layout: str, seeds: int, epochs: int, n_train: int) -> tuple[int, float, float]:
    """(members, steady-state seconds per epoch summed over the layout's runs, setup+first epochs)."""
    keys = [(t, s) for t in PAPER_TASKS for s in range(seeds)]
    splits = {k: make_split(k[0], n_train, 10, seed=k[1]) for k in keys}
    if layout == "joint":
        groups = [keys]
    elif layout == "per_seed":
        groups = [[k for k in keys if k[1] == s] for s in range(seeds)]
    elif layout == "per_task":
        groups = [[k for k in keys if k[0] == t] for t in PAPER_TASKS]
    else:
        groups = [[k] for k in keys]
    steady = overhead = 0.0
    members = 0
    for group in groups:
        x = np.zeros((len(group), n_train, 4), np.float32)
        for i, k in enumerate(group):
            x[i, :, : TARGETS[k[0]].n_features] = splits[k].x_train
        y = np.stack([splits[k].y_train for k in group]).astype(np.float32)
        spec = [(p, i, k) for i, k in enumerate(group) for p in SWEEP_PAIRS]
        d = max(TARGETS[k[0]].n_features for k in group)
        t0 = time.perf_counter()
        model = FusedPaperModels([p for p, _, _ in spec], [TARGETS[k[0]].n_features for _, _, k in spec],
                                 [init_seed(*k) for _, _, k in spec], input_dim=d)
        hist = model.fit(x[:, :, :d], y, epochs=epochs, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                         data_index=np.array([i for _, i, _ in spec]))
        total = time.perf_counter() - t0
        s = float(np.mean(hist.epoch_seconds[1:])) if epochs > 1 else float(hist.epoch_seconds[0])
        steady += s
        overhead += total - s * epochs
        members += len(spec)
    return members, steady, overhead


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seq-models", type=int, default=3)
    parser.add_argument("--seq-epochs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="fused epochs per layout")
    parser.add_argument("--seeds", type=int, default=3, help="seeds in the fused workload")
    parser.add_argument("--n-train", type=int, default=N_TRAIN)
    parser.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=["joint"])
    args = parser.parse_args()
    print(f"workload: paper model, n_train={args.n_train}, batch {BATCH_SIZE}, Adam {LEARNING_RATE}, MAE; "
          f"{os.cpu_count()} CPUs, keras {keras.__version__} ({keras.backend.backend()})", flush=True)

    seq = sequential(args.seq_models, args.seq_epochs, args.n_train)
    seq_rate = 1.0 / seq
    print(f"sequential model.fit: {seq_rate:.2f} model-epochs/s "
          f"(full sweep projected {FULL_MEMBERS * FULL_EPOCHS * seq / 3600:.1f} h)", flush=True)
    for layout in args.layouts:
        members, steady, overhead = fused(layout, args.seeds, args.epochs, args.n_train)
        rate = members / steady
        full = FULL_MEMBERS * FULL_EPOCHS / rate + overhead * FULL_MEMBERS / members
        print(f"fused [{layout}]: {members} members, {steady:.2f} s/epoch, {rate:.0f} model-epochs/s, "
              f"{rate / seq_rate:.0f}x sequential; full sweep projected {full / 60:.1f} min "
              f"(setup+tracing {overhead:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
