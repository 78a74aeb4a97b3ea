"""Train many small paper models at once, each exactly as it would train alone.

Goel's comparison trains one network per (activation pair, task, seed): 122 pairs x 7 tasks x a few
seeds is thousands of networks of 297 parameters each, far too small to keep a CPU busy one at a
time (``model.fit`` spends almost all its time on per-step overhead). :class:`FusedPaperModels`
stacks the weights of ``M`` members of the architecture ``Dense(16, a1) -> Dense(12, a2) -> Dense(1)``
(:func:`multlib.models.paper_model`) and trains them as one computation:

* **One loss, independent members.** The loss is the *sum* over members of each member's mean
  absolute error on the batch. A member's weights enter only its own term, so the gradient each
  member receives is the gradient of its own MAE, and Adam is element-wise: one
  ``keras.optimizers.Adam`` over the stacked variables updates every member exactly as a separate
  ``Adam`` would. Given the same initial weights and the same batch order, a member ends where
  ``paper_model(...)`` trained alone by ``model.fit(..., shuffle=False)`` ends, up to float32
  round-off (``tests/test_fused.py`` checks 1e-5).
* **Mixed activations.** Members may use different activation pairs. Members are kept sorted by
  their first activation for layer 1 and by their second for layers 2-3, so each activation is
  applied once to one contiguous block of members; one gather (whose gradient is the inverse
  gather) moves the hidden activations from the first order to the second. No member computes an
  activation it does not use.
* **Mixed data.** Every member may have its own data set: ``x`` of shape ``(M, N, d)``, or a few
  data sets ``(D, N, d)`` shared through ``data_index`` (member ``m`` reads ``x[data_index[m]]``),
  which is what a sweep wants (122 pairs read the same task and seed). Tasks with fewer than ``d``
  features are zero-padded; a zero input gives an exactly zero gradient to its row of the first
  kernel, and Adam leaves a weight with zero gradients exactly where it is (``m = v = 0`` gives an
  update of ``0 / (0 + eps) = 0``), so padded rows stay zero and are dropped on export.
* **Shared batch order.** All members see the same permutation of the ``N`` sample positions each
  epoch, given by :func:`epoch_order`. Feed ``x[epoch_order(N, 0, seed)]`` to
  ``model.fit(..., shuffle=False)`` to replay one member's first epoch alone.
* **Divergence is isolated.** A member whose batch loss or gradient stops being finite is marked
  diverged at that batch: its gradients are zeroed from then on (so no NaN enters its weights) and
  its losses and predictions are reported as NaN from that epoch. Nothing in the computation mixes
  members, so the others train on unchanged.
* **Keras-style bookkeeping.** The training loss recorded per member and epoch is what
  ``History.history["loss"]`` holds: the mean of the batch losses weighted by batch size, the last
  partial batch included.
* **Rounding (almost) does not depend on the company.** A member's float operations are meant to be
  the same whichever and however many members train beside it (bias gradients are taken as matmuls,
  see :func:`multlib.fused_stack._bias_add`). On the AVX-512 machine that made the committed sweep
  this held bit for bit; on an AVX2 machine, and with TensorFlow 2.18, the kernels still round a
  member differently by one ulp among other members (``tests/test_fused.py`` allows a few). This
  matters: 100 epochs of Adam on MAE amplify a one-ulp difference into training curves that differ
  by tens of percent from epoch 2 on, so a slice re-run of a sweep agrees with it statistically, not
  digit for digit.

How close to ``model.fit``? Bit-identical weights in the tests for ``symlog/symexp`` and
``relu/linear``; about 1e-7 relative for ``elu/swish``; up to 1e-3 relative on first-layer weights
of *saturated* ``tanh`` units: their gradients are ~1e-10, Adam divides by ``sqrt(v)`` so their step
is ``lr`` times the gradient's sign, and a one-ulp difference in a matmul's summation order flips it.

One epoch (a loop over the batches) runs as one ``tf.function`` on the TensorFlow backend;
:mod:`benchmarks.sweep_speed` measures the gain over ``model.fit`` one model at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import keras
import numpy as np

from multlib.data import check_positive_int
from multlib.fused_stack import StackedPaperModels, check_data, check_int, glorot_uniform  # glorot_uniform is re-exported

__all__ = ["FusedPaperModels", "FusedHistory", "epoch_order", "glorot_uniform"]


def epoch_order(n: int, epoch: int, seed: int = 0, shuffle: bool = True) -> np.ndarray:
    """The order in which the ``n`` samples are visited in epoch ``epoch`` (0-based).

    A permutation of ``range(n)`` drawn from ``numpy.random.default_rng([seed, epoch])``, the same
    for every member and independent of how many members train together; ``shuffle=False`` gives
    ``arange(n)``. To replay epoch ``e`` for one model alone, call
    ``model.fit(x[order], y[order], shuffle=False, ...)`` with ``order = epoch_order(n, e, seed)``.
    """
    n = check_positive_int(n, "n")
    epoch = check_int(epoch, "epoch")
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch!r}")
    seed = check_int(seed, "seed")
    if not shuffle:
        return np.arange(n, dtype=np.int64)
    return np.random.default_rng([seed & 0xFFFFFFFF, epoch]).permutation(n)


@dataclass
class FusedHistory:
    """What :meth:`FusedPaperModels.fit` returns; member axes are in the members' original order.

    Attributes:
        loss: ``(M, epochs)`` float64 training loss per member and epoch, as Keras reports it (mean
            of batch MAEs weighted by batch size). NaN from the epoch a member diverged in.
        diverged: ``(M,)`` bool, whether the member's loss or gradient became NaN or infinite.
        diverged_epoch: ``(M,)`` int, 0-based epoch of the divergence, ``-1`` if none.
        diverged_batch: ``(M,)`` int, 0-based batch within that epoch, ``-1`` if none.
        seconds: wall time of the whole fit, first-epoch tracing included.
        epoch_seconds: ``(epochs,)`` wall time of each epoch.
    """

    loss: np.ndarray
    diverged: np.ndarray
    diverged_epoch: np.ndarray
    diverged_batch: np.ndarray
    seconds: float
    epoch_seconds: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    def diverged_members(self) -> list[tuple[int, int, int]]:
        """``[(member, epoch, batch), ...]`` for every diverged member, all 0-based."""
        return [
            (int(m), int(self.diverged_epoch[m]), int(self.diverged_batch[m])) for m in np.flatnonzero(self.diverged)
        ]


class _FitLog:
    """The per-member record of one fit, filled epoch by epoch (members in their original order)."""

    def __init__(self, diverged_before: np.ndarray, epochs: int) -> None:
        m = len(diverged_before)
        self.diverged_before = diverged_before.copy()  # frozen by an earlier fit: no new divergence
        self.loss = np.full((m, epochs), np.nan)
        self.diverged_epoch = np.full(m, -1, np.int64)
        self.diverged_batch = np.full(m, -1, np.int64)
        self.epoch_seconds = np.zeros(epochs)

    def record(self, epoch: int, loss: np.ndarray, alive: np.ndarray, dead_at: np.ndarray, seconds: float) -> None:
        """Store one epoch: ``loss`` ``(M,)``, who is ``alive`` after it and the batch each one died at."""
        newly = ~alive & ~self.diverged_before & (self.diverged_epoch < 0)
        self.diverged_epoch[newly] = epoch
        self.diverged_batch[newly] = dead_at[newly]
        self.loss[:, epoch] = loss
        self.epoch_seconds[epoch] = seconds

    def history(self, diverged: np.ndarray, seconds: float, params: dict[str, Any]) -> FusedHistory:
        return FusedHistory(loss=self.loss, diverged=diverged, diverged_epoch=self.diverged_epoch,
                            diverged_batch=self.diverged_batch, seconds=seconds, epoch_seconds=self.epoch_seconds,
                            params=params)


def _progress_bar(epochs: int, verbose: int) -> keras.utils.Progbar | None:
    if not verbose:
        return None
    return keras.utils.Progbar(epochs, unit_name="epoch", stateful_metrics=["median_loss", "diverged"])


def _show_progress(bar: keras.utils.Progbar, epoch: int, epochs: int, loss: np.ndarray, alive: np.ndarray) -> None:
    finite = loss[np.isfinite(loss)]
    bar.update(epoch + 1, [("median_loss", float(np.median(finite)) if finite.size else np.nan),
                           ("diverged", int((~alive).sum()))], finalize=epoch + 1 == epochs)


def _check_fit_args(
    epochs: int, batch_size: int, learning_rate: float, shuffle_seed: int
) -> tuple[int, int, float, int]:
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.floating)) or not (
        np.isfinite(learning_rate) and learning_rate > 0
    ):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    return epochs, batch_size, float(learning_rate), check_int(shuffle_seed, "shuffle_seed")


# --------------------------------------------------------------------------------------------------
# the fused model
# --------------------------------------------------------------------------------------------------


class FusedPaperModels(StackedPaperModels):
    """``M`` independent ``Dense(h1, a1) -> Dense(h2, a2) -> Dense(1)`` networks with stacked weights.

    Args:
        activations: one ``(a1, a2)`` pair of activation names per member: Keras names or
            ``"symlog"``/``"symexp"`` (resolved by :func:`multlib.activations.get`).
        n_features: the number of inputs of each member (one int for all, or one per member).
        seeds: the seed of each member's initial weights (one int for all, or one per member).
            A member's initial weights depend only on its seed, ``n_features`` and
            ``hidden_units``, not on the other members, so a subset re-run starts from the same
            weights: Glorot-uniform kernels for the member's own fan-in, zero biases.
        hidden_units: the widths ``(h1, h2)`` of the two hidden layers, ``(16, 12)`` in the paper.
        input_dim: the width ``d`` of the (zero-padded) inputs; defaults to ``max(n_features)``.

    Raises:
        ValueError: for an empty member list, an unknown activation name, a non-positive size,
            or per-member lists of the wrong length.

    The weights, their layout and the forward pass are :class:`multlib.fused_stack.StackedPaperModels`'s;
    this class adds training and prediction.
    """

    _predict_fn: Callable[..., Any] | None = None  # traced on the first predict

    # ---------------------------------------------------------------- training

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        shuffle_seed: int = 0,
        shuffle: bool = True,
        data_index: Sequence[int] | np.ndarray | None = None,
        verbose: int = 0,
        on_epoch_end: Callable[[int, np.ndarray], None] | None = None,
    ) -> FusedHistory:
        """Train every member on MAE with one ``keras.optimizers.Adam(learning_rate)``.

        Args:
            x: ``(M, N, d)`` inputs, one data set per member, zero-padded to ``d = input_dim``;
                or ``(D, N, d)`` with ``data_index``.
            y: ``(M, N)`` (or ``(D, N)``) targets.
            epochs: the number of passes over the ``N`` samples.
            batch_size: samples per step; the last batch of an epoch may be smaller, as in Keras.
            learning_rate: Adam's step size, shared by all members (Keras defaults otherwise).
            shuffle_seed: seeds :func:`epoch_order`; epoch ``e`` visits ``epoch_order(N, e, shuffle_seed)``.
            shuffle: ``False`` visits the samples in their stored order every epoch.
            data_index: optional ``(M,)`` ints; member ``m`` trains on ``x[data_index[m]]``.
            verbose: 1 shows a ``keras.utils.Progbar`` over epochs.
            on_epoch_end: called as ``on_epoch_end(epoch, loss)`` with the ``(M,)`` epoch losses.

        Each call starts a fresh Adam (like compiling a Keras model anew) from the current weights.
        Members that diverged in an earlier call stay frozen and report NaN.
        """
        import tensorflow as tf

        epochs, batch_size, learning_rate, shuffle_seed = _check_fit_args(
            epochs, batch_size, learning_rate, shuffle_seed
        )
        x, yy, index = check_data(x, y, data_index, self.n_features, self.input_dim)
        if yy is None:
            raise ValueError("y must be given")
        n = x.shape[1]
        self._build_permutations()
        run_batches = self._batch_trainer(*self._training_tensors(x, yy, index, data_index is not None), learning_rate)
        alive = tf.constant(~self._diverged_mask[self._order2])
        log = _FitLog(self._diverged_mask, epochs)
        bar = _progress_bar(epochs, verbose)
        t_start = time.perf_counter()
        for e in range(epochs):
            t0 = time.perf_counter()
            order = epoch_order(n, e, shuffle_seed, shuffle).astype(np.int32)
            acc, alive, dead_at = self._train_epoch(run_batches, order, batch_size, alive)
            epoch_loss, alive_np = self._epoch_losses(acc, alive, n)
            log.record(e, epoch_loss, alive_np, dead_at[self._pos2], time.perf_counter() - t0)
            if bar is not None:
                _show_progress(bar, e, epochs, epoch_loss, alive_np)
            if on_epoch_end is not None:
                on_epoch_end(e, epoch_loss)
        self._diverged_mask = ~alive.numpy()[self._pos2]
        params = {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
                  "shuffle_seed": shuffle_seed, "shuffle": shuffle, "n": n}
        return log.history(self._diverged_mask.copy(), time.perf_counter() - t_start, params)

    def _training_tensors(
        self, x: np.ndarray, y: np.ndarray, index: np.ndarray, shared: bool
    ) -> tuple[Any, Any, Any | None, Any | None]:
        """The data in the member orders of the two halves of the network: ``x`` in order 1, ``y`` in order 2.

        Shared data sets (``data_index``) stay as given, with the data set of each row of order 1 and
        of order 2; each batch is then gathered through them.
        """
        import tensorflow as tf

        if not shared:
            return tf.constant(x[self._order1]), tf.constant(y[self._order2]), None, None
        x_t, y_t = tf.constant(x), tf.constant(y)
        idx1 = tf.constant(index[self._order1].astype(np.int32))
        idx2 = tf.constant(index[self._order2].astype(np.int32))
        return x_t, y_t, idx1, idx2

    def _batch_trainer(self, x_t: Any, y_t: Any, idx1: Any | None, idx2: Any | None, learning_rate: float) -> Any:
        """A fresh Adam and a ``tf.function`` ``run_batches(batches, alive) -> (acc, alive, dead_at)``.

        ``batches`` is ``(steps, batch)`` sample positions, trained on one after the other; ``alive``
        ``(M,)`` bool in order 2. Returns, in order 2, each member's sum of batch loss times batch
        size, who is still alive, and the step each member died at (``-1`` if it did not).
        """
        import tensorflow as tf

        m = self.n_members
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
        variables = [self._theta1, self._theta2]
        optimizer.build(variables)
        theta1_tf, theta2_tf = self._theta1.value, self._theta2.value

        def run_batches(batches: Any, alive: Any) -> tuple[Any, Any, Any]:
            bsz = tf.cast(tf.shape(batches)[1], tf.float32)
            acc = tf.zeros((m,), tf.float32)
            dead_at = tf.fill((m,), tf.constant(-1, tf.int32))
            for s in tf.range(tf.shape(batches)[0]):
                idx = batches[s]
                xb = tf.gather(x_t, idx, axis=1)
                yb = tf.gather(y_t, idx, axis=1)
                if idx1 is not None:
                    xb = tf.gather(xb, idx1)
                    yb = tf.gather(yb, idx2)
                with tf.GradientTape() as tape:
                    pred = self._forward(xb, theta1_tf, theta2_tf)
                    loss = tf.reduce_mean(tf.abs(pred - yb), axis=1)  # (M,) in order 2
                    total = tf.reduce_sum(loss)
                g1, g2 = tape.gradient(total, [theta1_tf, theta2_tf])
                new_alive, g1, g2 = self._freeze_diverged(alive, loss, g1, g2)
                optimizer.apply([g1, g2], variables)
                dead_at = tf.where(alive & ~new_alive, s, dead_at)
                alive = new_alive
                acc = acc + loss * bsz
            return acc, alive, dead_at

        # One trace serves the full batches and the last, smaller one.
        return tf.function(
            run_batches,
            input_signature=[tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((m,), tf.bool)],
        )

    def _freeze_diverged(self, alive: Any, loss: Any, g1: Any, g2: Any) -> tuple[Any, Any, Any]:
        """Who stays alive after this batch (order 2), and the gradients with the dead members' rows zeroed.

        A member dies when its loss or any of its gradients is not finite; a zero gradient leaves its
        weights where they are (Adam with ``m = v = 0``), so no NaN ever enters them.
        """
        import tensorflow as tf

        ok2 = tf.math.is_finite(loss) & tf.reduce_all(tf.math.is_finite(g2), axis=1)
        ok1 = tf.reduce_all(tf.math.is_finite(g1), axis=1)
        new_alive = alive & ok2 & tf.gather(ok1, self._perm12_t)  # order 2
        alive1 = tf.gather(new_alive, self._perm21_t)
        g1 = tf.where(alive1[:, None], g1, tf.zeros_like(g1))
        g2 = tf.where(new_alive[:, None], g2, tf.zeros_like(g2))
        return new_alive, g1, g2

    def _train_epoch(
        self, run_batches: Any, order: np.ndarray, batch_size: int, alive: Any
    ) -> tuple[Any, Any, np.ndarray]:
        """One epoch over the sample positions ``order``: the full batches in one call, then the last one.

        Returns, in order 2, the summed batch losses times batch sizes, who is alive, and the 0-based
        batch each member died at in this epoch (``-1`` if it did not).
        """
        import tensorflow as tf

        n_full, rest = divmod(len(order), batch_size)
        acc = tf.zeros((self.n_members,), tf.float32)
        dead_at_all = np.full(self.n_members, -1, np.int64)
        if n_full:
            full = order[: n_full * batch_size].reshape(n_full, batch_size)
            acc, alive, dead_at = run_batches(tf.constant(full), alive)
            dead_at_all = np.where(dead_at.numpy() >= 0, dead_at.numpy(), dead_at_all)
        if rest:
            last = order[n_full * batch_size :].reshape(1, rest)
            acc_r, alive, dead_at = run_batches(tf.constant(last), alive)
            acc = acc + acc_r  # Keras sums batch losses in the same order
            dead_at_all = np.where(dead_at.numpy() >= 0, n_full, dead_at_all)
        return acc, alive, dead_at_all

    def _epoch_losses(self, acc: Any, alive: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Keras's epoch loss (float64, NaN once diverged) and who is alive, in the original member order."""
        epoch_loss = (acc.numpy().astype(np.float32) / np.float32(n)).astype(np.float64)[self._pos2]
        alive_np = alive.numpy()[self._pos2]
        epoch_loss[~alive_np] = np.nan
        return epoch_loss, alive_np

    # ---------------------------------------------------------------- inference

    def predict(
        self,
        x: np.ndarray,
        data_index: Sequence[int] | np.ndarray | None = None,
        batch_size: int = 1024,
        mask_diverged: bool = True,
    ) -> np.ndarray:
        """Predict for every member: ``x`` ``(M, n, d)`` (or ``(D, n, d)`` with ``data_index``) -> ``(M, n)``.

        Returns float64 in the members' original order; rows of diverged members are NaN unless
        ``mask_diverged=False``. ``batch_size`` bounds the samples evaluated at once.
        """
        import tensorflow as tf

        batch_size = check_positive_int(batch_size, "batch_size")
        x, _, index = check_data(x, None, data_index, self.n_features, self.input_dim)
        self._build_permutations()
        if self._predict_fn is None:
            self._predict_fn = tf.function(
                lambda xb: self._forward(xb, self._theta1.value, self._theta2.value),
                input_signature=[tf.TensorSpec((self.n_members, None, self.input_dim), tf.float32)],
            )
        rows = index[self._order1]  # member data sets in order 1
        n = x.shape[1]
        out = np.empty((self.n_members, n), np.float64)
        for s in range(0, n, batch_size):
            pred = self._predict_fn(tf.constant(x[rows, s : s + batch_size]))
            out[:, s : s + batch_size] = pred.numpy()[self._pos2]
        if mask_diverged:
            out[self._diverged_mask] = np.nan
        return out
