"""Seeding and a small training helper that stops loudly when training diverges."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, Callable, Sequence, TypeVar

import keras
import numpy as np

__all__ = ["seed_everything", "train", "cosine_schedule", "sweep", "EpochProgress", "TrainingDiverged", "StopOnDivergence"]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the backend, and make TensorFlow's kernels deterministic.

    Called before building a model, it fixes the initial weights and the shuffling order, so a
    notebook prints the same numbers on every run on the same machine.
    """
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


class TrainingDiverged(RuntimeError):
    """Raised when the training loss stops being a finite number."""


class StopOnDivergence(keras.callbacks.Callback):
    """Stop at the first batch whose loss is NaN or infinite, remembering where it happened."""

    def __init__(self) -> None:
        super().__init__()
        self.epoch = 0
        self.diverged_at: tuple[int, int, float] | None = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self.epoch, batch, float(loss))
            self.model.stop_training = True


def _check_xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (samples, features), got shape {x.shape}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have as many rows, got {x.shape[0]} and {y.shape[0]}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite; found NaN or inf in the data")
    return x, y


def train(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 32,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
    loss: str | Callable[[Any, Any], Any] = "mse",
    seed: int = 0,
    verbose: int = 0,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
) -> keras.callbacks.History:
    """Compile ``model`` with Adam and fit it; returns the Keras ``History``.

    ``learning_rate`` is a number or a Keras schedule (see :func:`cosine_schedule`).

    Targets are reshaped to ``(n,)`` and the model's ``(n, 1)`` output is compared against them
    through :mod:`multlib.metrics`'s reshaping losses, never by broadcasting. Raises
    :class:`TrainingDiverged` if the loss becomes NaN or infinite.
    """
    if epochs <= 0:
        raise ValueError(f"epochs must be positive, got {epochs!r}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size!r}")
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule) and not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    from multlib import metrics  # local import keeps module import order simple

    losses = {"mse": metrics.keras_mse, "mae": metrics.keras_mae}
    if isinstance(loss, str):
        if loss not in losses:
            raise ValueError(f"loss must be one of {sorted(losses)} or a callable, got {loss!r}")
        loss = losses[loss]
    x, y = _check_xy(x, y)
    if validation_data is not None:
        validation_data = _check_xy(*validation_data)
    keras.utils.set_random_seed(seed)  # fixes the shuffling order
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    guard = StopOnDivergence()
    history = model.fit(
        x, y, epochs=epochs, batch_size=batch_size, verbose=verbose, callbacks=[guard],
        validation_data=validation_data, shuffle=True,
    )
    if guard.diverged_at is not None:
        epoch, batch, value = guard.diverged_at
        raise TrainingDiverged(
            f"training diverged: loss became {value} at epoch {epoch + 1}, batch {batch + 1}; "
            f"try a smaller learning_rate (got {learning_rate}) or rescale the targets"
        )
    return history


def cosine_schedule(
    peak: float, n_samples: int, batch_size: int, epochs: int
) -> keras.optimizers.schedules.LearningRateSchedule:
    """A learning rate that decays from ``peak`` to 0 along a cosine over the whole run.

    Adam at a fixed rate stalls at a noise floor; decaying the rate lets a small budget of steps
    reach the accuracy that a long fixed-rate run (like the blog's 100,000 steps) reaches.
    """
    steps = epochs * -(-n_samples // batch_size)
    if steps <= 0:
        raise ValueError(f"the schedule needs a positive number of steps, got {steps} from n_samples={n_samples!r}, "
                         f"batch_size={batch_size!r}, epochs={epochs!r}")
    return keras.optimizers.schedules.CosineDecay(peak, decay_steps=steps)


T = TypeVar("T")
R = TypeVar("R")


def sweep(values: Sequence[T], run: Callable[[T], R], label: str = "runs") -> list[R]:
    """Call ``run(v)`` for every value in order, showing a progress bar; returns the results.

    The bar is printed on stdout, so a notebook cell that calls this starts with
    ``# NBVAL_IGNORE_OUTPUT`` and prints its results in the next cell.
    """
    values = list(values)
    if not values:
        raise ValueError("values must not be empty")
    bar = keras.utils.Progbar(len(values), unit_name=label)
    results = []
    for i, value in enumerate(values, start=1):
        results.append(run(value))
        bar.update(i)
    return results


class EpochProgress:
    """Progress over the epochs of a long run: a Keras progress bar on a terminal, and on a log file
    (CI, ``make results > log``) one plain line every 5 % of the epochs.

    ``update(done, loss)`` takes the epochs done so far and the members' current losses (NaN or inf for
    a diverged member), and shows how many diverged and the median loss of the others.
    """

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self.tty = sys.stdout.isatty()
        self.every = max(1, total // 20)
        self.start = time.perf_counter()
        self.bar = (
            keras.utils.Progbar(total, unit_name="epoch", stateful_metrics=["diverged", "median_loss"])
            if self.tty
            else None
        )

    def update(self, done: int, loss: np.ndarray) -> None:
        self.done = done
        finite = loss[np.isfinite(loss)]
        median = float(np.median(finite)) if finite.size else math.nan
        diverged = int(np.sum(~np.isfinite(loss)))
        if self.bar is not None:
            self.bar.update(done, [("diverged", diverged), ("median_loss", median)])
        elif done % self.every == 0 or done == self.total:
            elapsed = time.perf_counter() - self.start
            eta = elapsed / done * (self.total - done)
            print(f"epoch {done}/{self.total} ({100 * done / self.total:.0f} %), {elapsed:.0f} s elapsed, "
                  f"ETA {eta:.0f} s; this run: {diverged} diverged, median loss {median:.4g}", flush=True)
