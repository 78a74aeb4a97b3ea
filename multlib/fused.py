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
  see :func:`_bias_add`). On the AVX-512 machine that made the committed sweep this held bit for bit;
  on an AVX2 machine, and with TensorFlow 2.18, the kernels still round a member differently by one
  ulp among other members (``tests/test_fused.py`` allows a few). This matters: 100 epochs of Adam on
  MAE amplify a one-ulp difference into training curves that differ by tens of percent from epoch 2
  on, so a slice re-run of a sweep agrees with it statistically, not digit for digit.

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
from keras import ops

from multlib import activations as _activations
from multlib.data import check_positive_int as _positive_int

__all__ = ["FusedPaperModels", "FusedHistory", "epoch_order", "glorot_uniform"]


# --------------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------------




def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


def epoch_order(n: int, epoch: int, seed: int = 0, shuffle: bool = True) -> np.ndarray:
    """The order in which the ``n`` samples are visited in epoch ``epoch`` (0-based).

    A permutation of ``range(n)`` drawn from ``numpy.random.default_rng([seed, epoch])``, the same
    for every member and independent of how many members train together; ``shuffle=False`` gives
    ``arange(n)``. To replay epoch ``e`` for one model alone, call
    ``model.fit(x[order], y[order], shuffle=False, ...)`` with ``order = epoch_order(n, e, seed)``.
    """
    n = _positive_int(n, "n")
    epoch = _int(epoch, "epoch")
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch!r}")
    seed = _int(seed, "seed")
    if not shuffle:
        return np.arange(n, dtype=np.int64)
    return np.random.default_rng([seed & 0xFFFFFFFF, epoch]).permutation(n)


def glorot_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """A ``(fan_in, fan_out)`` float32 kernel drawn like Keras's ``GlorotUniform``.

    Uniform on ``[-limit, limit)`` with ``limit = sqrt(6 / (fan_in + fan_out))``, the distribution
    of Keras's default ``Dense`` kernel initializer (drawn here with NumPy, so the numbers differ
    from Keras's own draws but not their law).
    """
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)


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


# --------------------------------------------------------------------------------------------------
# the fused model
# --------------------------------------------------------------------------------------------------


class FusedPaperModels:
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
    """

    def __init__(
        self,
        activations: Sequence[tuple[str, str]],
        n_features: int | Sequence[int],
        seeds: int | Sequence[int] = 0,
        hidden_units: tuple[int, int] = (16, 12),
        input_dim: int | None = None,
    ) -> None:
        pairs = list(activations)
        if not pairs:
            raise ValueError(f"activations must name at least one (a1, a2) pair, got {activations!r}")
        m = len(pairs)
        for i, pair in enumerate(pairs):
            if isinstance(pair, str) or len(pair) != 2 or not all(isinstance(a, str) for a in pair):
                raise ValueError(f"activations[{i}] must be a pair of activation names, got {pair!r}")
            for a in pair:
                try:
                    _activations.get(a)
                except ValueError:
                    raise ValueError(
                        f"activations[{i}] names an unknown activation {a!r}; use a Keras activation name, "
                        f"'symlog' or 'symexp'"
                    ) from None
        self.activations: list[tuple[str, str]] = [(str(a), str(b)) for a, b in pairs]
        self.n_features: np.ndarray = self._per_member(n_features, m, "n_features", positive=True)
        self.seeds: np.ndarray = self._per_member(seeds, m, "seeds", positive=False)
        if len(hidden_units) != 2:
            raise ValueError(f"hidden_units must be a pair (h1, h2), got {hidden_units!r}")
        h1, h2 = (_positive_int(h, "hidden_units") for h in hidden_units)
        self.hidden_units: tuple[int, int] = (h1, h2)
        d_max = int(self.n_features.max())
        if input_dim is None:
            input_dim = d_max
        input_dim = _positive_int(input_dim, "input_dim")
        if input_dim < d_max:
            raise ValueError(f"input_dim must be at least max(n_features) = {d_max}, got {input_dim}")
        self.input_dim: int = input_dim
        self.n_members: int = m

        # Member orders: layer 1 works in "order 1" (sorted by a1), layers 2-3 in "order 2" (by a2).
        names1 = sorted({a for a, _ in self.activations})
        names2 = sorted({b for _, b in self.activations})
        key1 = np.array([names1.index(a) for a, _ in self.activations])
        key2 = np.array([names2.index(b) for _, b in self.activations])
        self._order1 = np.argsort(key1, kind="stable")  # row r of layer 1 is member _order1[r]
        self._order2 = np.argsort(key2, kind="stable")
        self._pos1 = np.argsort(self._order1)  # member i sits at row _pos1[i] of layer 1
        self._pos2 = np.argsort(self._order2)
        self._perm12 = self._pos1[self._order2].astype(np.int32)  # order-1 rows, listed in order 2
        self._perm21 = self._pos2[self._order1].astype(np.int32)
        self._groups1 = self._groups([self.activations[i][0] for i in self._order1])
        self._groups2 = self._groups([self.activations[i][1] for i in self._order2])

        d, (h1, h2) = self.input_dim, self.hidden_units
        self._sizes1 = [d * h1, h1]
        self._sizes2 = [h1 * h2, h2, h2, 1]
        theta1 = np.zeros((m, sum(self._sizes1)), np.float32)
        theta2 = np.zeros((m, sum(self._sizes2)), np.float32)
        for i in range(m):
            w = self._initial_weights(i)
            theta1[self._pos1[i]], theta2[self._pos2[i]] = self._pack(w, int(self.n_features[i]))
        self._theta1 = keras.Variable(theta1, dtype="float32", name="fused_layer1")
        self._theta2 = keras.Variable(theta2, dtype="float32", name="fused_layers23")
        self._diverged_mask = np.zeros(m, bool)
        self._predict_fn: Callable[..., Any] | None = None

    # ---------------------------------------------------------------- construction helpers

    @staticmethod
    def _per_member(value: int | Sequence[int], m: int, name: str, positive: bool) -> np.ndarray:
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            values = [value] * m
        else:
            values = list(value)  # type: ignore[arg-type]
            if len(values) != m:
                raise ValueError(f"{name} must be one integer or one per member ({m}), got {len(values)} values")
        out = []
        for i, v in enumerate(values):
            if positive:
                out.append(_positive_int(v, f"{name}[{i}]"))
            else:
                out.append(_int(v, f"{name}[{i}]"))
        return np.asarray(out, dtype=np.int64)

    @staticmethod
    def _groups(names: list[str]) -> list[tuple[Callable[[Any], Any] | None, int]]:
        """Runs of equal names as ``(activation or None for linear, length)``."""
        groups: list[tuple[Callable[[Any], Any] | None, int]] = []
        start = 0
        for k in range(1, len(names) + 1):
            if k == len(names) or names[k] != names[start]:
                fn = None if names[start] == "linear" else _activations.get(names[start])
                groups.append((fn, k - start))
                start = k
        return groups

    def _initial_weights(self, i: int) -> list[np.ndarray]:
        (h1, h2), nf = self.hidden_units, int(self.n_features[i])
        rng = np.random.default_rng(int(self.seeds[i]) & 0xFFFFFFFFFFFFFFFF)
        return [
            glorot_uniform(nf, h1, rng),
            np.zeros(h1, np.float32),
            glorot_uniform(h1, h2, rng),
            np.zeros(h2, np.float32),
            glorot_uniform(h2, 1, rng),
            np.zeros(1, np.float32),
        ]

    def _pack(self, weights: list[np.ndarray], nf: int) -> tuple[np.ndarray, np.ndarray]:
        w1 = np.zeros((self.input_dim, self.hidden_units[0]), np.float32)
        w1[:nf] = weights[0]
        row1 = np.concatenate([w1.ravel(), np.asarray(weights[1], np.float32).ravel()])
        row2 = np.concatenate([np.asarray(w, np.float32).ravel() for w in weights[2:]])
        return row1, row2

    def _check_member(self, i: Any) -> int:
        i = _int(i, "member")
        if not 0 <= i < self.n_members:
            raise ValueError(f"member must be in [0, {self.n_members}), got {i}")
        return i

    # ---------------------------------------------------------------- weights in and out

    def weight_shapes(self, member: int) -> list[tuple[int, ...]]:
        """The shapes of ``paper_model(n_features[member], ...).get_weights()``."""
        member = self._check_member(member)
        (h1, h2), nf = self.hidden_units, int(self.n_features[member])
        return [(nf, h1), (h1,), (h1, h2), (h2,), (h2, 1), (1,)]

    def get_member_weights(self, member: int) -> list[np.ndarray]:
        """One member's weights as a list matching ``paper_model(...).get_weights()`` (float32)."""
        member = self._check_member(member)
        (h1, h2), d, nf = self.hidden_units, self.input_dim, int(self.n_features[member])
        row1 = np.asarray(self._theta1.numpy()[self._pos1[member]])
        row2 = np.asarray(self._theta2.numpy()[self._pos2[member]])
        w1 = row1[: d * h1].reshape(d, h1)[:nf].copy()
        b1 = row1[d * h1 :].copy()
        parts = np.split(row2, np.cumsum(self._sizes2)[:-1])
        w2, b2, w3, b3 = parts[0].reshape(h1, h2), parts[1], parts[2].reshape(h2, 1), parts[3]
        return [w1, b1, w2.copy(), b2.copy(), w3.copy(), b3.copy()]

    def set_member_weights(self, member: int, weights: Sequence[np.ndarray]) -> None:
        """Load one member's weights from a ``paper_model(...).get_weights()``-style list.

        Also clears the member's diverged flag (it has fresh weights).
        """
        member = self._check_member(member)
        shapes = self.weight_shapes(member)
        weights = [np.asarray(w, np.float32) for w in weights]
        got = [w.shape for w in weights]
        if got != shapes:
            raise ValueError(f"weights must have shapes {shapes} for member {member}, got {got}")
        row1, row2 = self._pack(weights, int(self.n_features[member]))
        theta1, theta2 = self._theta1.numpy(), self._theta2.numpy()
        theta1[self._pos1[member]], theta2[self._pos2[member]] = row1, row2
        self._theta1.assign(theta1)
        self._theta2.assign(theta2)
        self._diverged_mask[member] = False

    def to_keras(self, member: int) -> keras.Model:
        """A standalone ``paper_model`` holding one member's current weights."""
        from multlib.models import paper_model

        member = self._check_member(member)
        model = paper_model(int(self.n_features[member]), self.activations[member], self.hidden_units)
        model.set_weights(self.get_member_weights(member))
        return model

    @property
    def diverged(self) -> np.ndarray:
        """``(M,)`` bool: members that diverged in any :meth:`fit` so far."""
        return self._diverged_mask.copy()

    # ---------------------------------------------------------------- the computation

    @staticmethod
    def _apply_groups(z: Any, groups: list[tuple[Callable[[Any], Any] | None, int]]) -> Any:
        if len(groups) == 1:
            fn = groups[0][0]
            return z if fn is None else fn(z)
        parts = ops.split(z, np.cumsum([n for _, n in groups])[:-1].tolist(), axis=0)
        return ops.concatenate([p if fn is None else fn(p) for p, (fn, _) in zip(parts, groups)], axis=0)

    def _forward(self, xb: Any, theta1: Any, theta2: Any) -> Any:
        """``xb``: ``(M, B, d)`` in order 1. Returns predictions ``(M, B)`` in order 2."""
        import tensorflow as tf

        m, d, (h1, h2) = self.n_members, self.input_dim, self.hidden_units
        w1, b1 = tf.split(theta1, self._sizes1, axis=1)
        w2, b2, w3, b3 = tf.split(theta2, self._sizes2, axis=1)
        z1 = _bias_add(tf.matmul(xb, tf.reshape(w1, (m, d, h1))), tf.reshape(b1, (m, 1, h1)))
        a1 = self._apply_groups(z1, self._groups1)
        a1 = _permute(a1, self._perm12_t, self._perm12_inv_t)
        z2 = _bias_add(tf.matmul(a1, tf.reshape(w2, (m, h1, h2))), tf.reshape(b2, (m, 1, h2)))
        a2 = self._apply_groups(z2, self._groups2)
        out = _bias_add(tf.matmul(a2, tf.reshape(w3, (m, h2, 1))), tf.reshape(b3, (m, 1, 1)))
        return tf.reshape(out, (m, -1))

    def _constants(self) -> None:
        import tensorflow as tf

        self._perm12_t = tf.constant(self._perm12)
        self._perm12_inv_t = tf.constant(np.argsort(self._perm12).astype(np.int32))  # inverse of perm12
        self._perm21_t = tf.constant(self._perm21)

    # ---------------------------------------------------------------- data checks

    def _check_data(
        self, x: Any, y: Any | None, data_index: Any | None, what: str = "x"
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        x = np.asarray(x)
        m, d = self.n_members, self.input_dim
        if x.ndim != 3:
            raise ValueError(f"{what} must have shape (members or data sets, n, {d}), got shape {x.shape}")
        if x.shape[2] != d:
            raise ValueError(f"{what} must have {d} features on its last axis (input_dim), got shape {x.shape}")
        if x.shape[1] == 0:
            raise ValueError(f"{what} must hold at least one sample, got shape {x.shape}")
        if data_index is None:
            if x.shape[0] != m:
                raise ValueError(
                    f"{what} must have one data set per member ({m}) on its first axis, or pass data_index; "
                    f"got shape {x.shape}"
                )
            index = np.arange(m)
        else:
            index = np.asarray(data_index)
            if index.shape != (m,) or index.dtype.kind not in "iu":
                raise ValueError(f"data_index must be {m} integers, got dtype {index.dtype} shape {index.shape}")
            if index.min() < 0 or index.max() >= x.shape[0]:
                raise ValueError(
                    f"data_index must lie in [0, {x.shape[0]}), got values in [{index.min()}, {index.max()}]"
                )
        x = x.astype(np.float32, copy=False)
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{what} must be finite; found NaN or inf")
        # Padded features must be exactly zero, or they would train the padded kernel rows.
        for k in np.unique(index):
            nf_min = int(self.n_features[index == k].min())
            if nf_min < d and np.any(x[k, :, nf_min:] != 0):
                members = np.flatnonzero((index == k) & (self.n_features == nf_min))[:3].tolist()
                raise ValueError(
                    f"{what}[{k}] must be zero beyond feature {nf_min} (members {members} have "
                    f"n_features={nf_min}, the rest is padding); found non-zero values"
                )
        yy = None
        if y is not None:
            yy = np.asarray(y)
            if yy.ndim == 3 and yy.shape[2] == 1:
                yy = yy[..., 0]
            if yy.shape != x.shape[:2]:
                raise ValueError(f"y must have shape {x.shape[:2]} to match x, got shape {np.asarray(y).shape}")
            yy = yy.astype(np.float32, copy=False)
            if not np.all(np.isfinite(yy)):
                raise ValueError("y must be finite; found NaN or inf")
        return x, yy, index

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

        epochs = _positive_int(epochs, "epochs")
        batch_size = _positive_int(batch_size, "batch_size")
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.floating)) or not (
            np.isfinite(learning_rate) and learning_rate > 0
        ):
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
        shuffle_seed = _int(shuffle_seed, "shuffle_seed")
        x, yy, index = self._check_data(x, y, data_index)
        if yy is None:
            raise ValueError("y must be given")
        n = x.shape[1]
        m = self.n_members
        self._constants()

        # Data in the member orders the two halves of the network work in.
        if data_index is None:
            x_t = tf.constant(x[self._order1])
            y_t = tf.constant(yy[self._order2])
            idx1 = idx2 = None
        else:
            x_t, y_t = tf.constant(x), tf.constant(yy)
            idx1 = tf.constant(index[self._order1].astype(np.int32))
            idx2 = tf.constant(index[self._order2].astype(np.int32))

        optimizer = keras.optimizers.Adam(learning_rate=float(learning_rate))
        variables = [self._theta1, self._theta2]
        optimizer.build(variables)
        theta1_tf, theta2_tf = self._theta1.value, self._theta2.value
        perm21 = self._perm21_t

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
                ok2 = tf.math.is_finite(loss) & tf.reduce_all(tf.math.is_finite(g2), axis=1)
                ok1 = tf.reduce_all(tf.math.is_finite(g1), axis=1)
                new_alive = alive & ok2 & tf.gather(ok1, self._perm12_t)  # order 2
                alive1 = tf.gather(new_alive, perm21)
                g1 = tf.where(alive1[:, None], g1, tf.zeros_like(g1))
                g2 = tf.where(new_alive[:, None], g2, tf.zeros_like(g2))
                optimizer.apply([g1, g2], variables)
                dead_at = tf.where(alive & ~new_alive, s, dead_at)
                alive = new_alive
                acc = acc + loss * bsz
            return acc, alive, dead_at

        # One trace serves the full batches and the last, smaller one.
        step_fn = tf.function(
            run_batches,
            input_signature=[tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((m,), tf.bool)],
        )

        alive = tf.constant(~self._diverged_mask[self._order2])
        was_dead = self._diverged_mask.copy()
        loss_hist = np.full((m, epochs), np.nan)
        div_epoch = np.full(m, -1, np.int64)
        div_batch = np.full(m, -1, np.int64)
        n_full, rest = divmod(n, batch_size)
        epoch_seconds = np.zeros(epochs)
        bar = None
        if verbose:
            bar = keras.utils.Progbar(epochs, unit_name="epoch", stateful_metrics=["median_loss", "diverged"])
        t_start = time.perf_counter()
        for e in range(epochs):
            t0 = time.perf_counter()
            order = epoch_order(n, e, shuffle_seed, shuffle).astype(np.int32)
            acc = tf.zeros((m,), tf.float32)
            dead_at_all = np.full(m, -1, np.int64)
            if n_full:
                full = order[: n_full * batch_size].reshape(n_full, batch_size)
                acc, alive, dead_at = step_fn(tf.constant(full), alive)
                dead_at_all = np.where(dead_at.numpy() >= 0, dead_at.numpy(), dead_at_all)
            if rest:
                last = order[n_full * batch_size :].reshape(1, rest)
                acc_r, alive, dead_at = step_fn(tf.constant(last), alive)
                acc = acc + acc_r  # Keras sums batch losses in the same order
                dead_at_all = np.where(dead_at.numpy() >= 0, n_full, dead_at_all)
            epoch_loss = (acc.numpy().astype(np.float32) / np.float32(n)).astype(np.float64)[self._pos2]
            alive_np = alive.numpy()[self._pos2]
            newly = ~alive_np & ~was_dead & (div_epoch < 0)
            div_epoch[newly] = e
            div_batch[newly] = dead_at_all[self._pos2][newly]
            epoch_loss[~alive_np] = np.nan
            loss_hist[:, e] = epoch_loss
            epoch_seconds[e] = time.perf_counter() - t0
            if bar is not None:
                finite = epoch_loss[np.isfinite(epoch_loss)]
                bar.update(e + 1, [("median_loss", float(np.median(finite)) if finite.size else np.nan),
                                   ("diverged", int((~alive_np).sum()))], finalize=e + 1 == epochs)
            if on_epoch_end is not None:
                on_epoch_end(e, epoch_loss)
        self._diverged_mask = ~alive.numpy()[self._pos2]
        return FusedHistory(
            loss=loss_hist,
            diverged=self._diverged_mask.copy(),
            diverged_epoch=div_epoch,
            diverged_batch=div_batch,
            seconds=time.perf_counter() - t_start,
            epoch_seconds=epoch_seconds,
            params={"epochs": epochs, "batch_size": batch_size, "learning_rate": float(learning_rate),
                    "shuffle_seed": shuffle_seed, "shuffle": shuffle, "n": n},
        )

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

        batch_size = _positive_int(batch_size, "batch_size")
        x, _, index = self._check_data(x, None, data_index)
        self._constants()
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


def _permute(h: Any, perm: Any, inverse: Any) -> Any:
    """``gather(h, perm)`` along the member axis, whose gradient is the inverse gather (exact)."""
    import tensorflow as tf

    @tf.custom_gradient
    def fn(t: Any) -> Any:
        def grad(dy: Any) -> Any:
            return tf.gather(dy, inverse)

        return tf.gather(t, perm), grad

    return fn(h)


def _bias_add(z: Any, b: Any) -> Any:
    """``z + b`` for ``z`` ``(M, B, h)`` and ``b`` ``(M, 1, h)``, with the bias gradient as a matmul.

    The plain broadcast's gradient, ``reduce_sum(dz, axis=1)``, is vectorised across the flattened
    ``(M, h)`` outputs, so its rounding depends on where a member sits in the stack (found with
    ``h = 12``): a member would train differently, by an ulp that 100 epochs amplify, in a subset
    run than in the full sweep. ``ones(1, B) @ dz`` per member rounds the same wherever it sits.
    """
    import tensorflow as tf

    @tf.custom_gradient
    def fn(z_: Any, b_: Any) -> Any:
        def grad(dy: Any) -> Any:
            ones = tf.ones(tf.stack([tf.shape(dy)[0], 1, tf.shape(dy)[1]]), dy.dtype)
            return dy, tf.matmul(ones, dy)

        return z_ + b_, grad

    return fn(z, b)
