"""The ``M`` paper networks that :class:`multlib.fused.FusedPaperModels` trains, in two stacked weights.

:class:`StackedPaperModels` checks the constructor's arguments, lays the members' weights out (one
row per member; layer 1 in one variable, layers 2-3 in another), draws each member's initial weights
from its own seed, reads and writes one member's weights in Keras's layout and runs all members'
forward pass at once; :func:`check_data` checks what ``fit`` and ``predict`` receive. The member
orders, the padding and :func:`_bias_add` are explained in :mod:`multlib.fused`, which trains them.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import keras
import numpy as np
from keras import ops

from multlib import activations as _activations
from multlib.data import check_positive_int

__all__ = ["StackedPaperModels", "check_data", "check_int", "glorot_uniform"]

_ActivationRuns = list[tuple[Callable[[Any], Any] | None, int]]
"""Consecutive members that share an activation, as ``(activation or None for linear, count)``."""


# --------------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------------


def check_int(value: Any, name: str) -> int:
    """Return ``value`` as an int, or raise naming ``name`` if it is not an integer.

    Zero and negative values pass: an epoch, a seed or a member index may be 0 and a seed may be
    negative, so :func:`multlib.data.check_positive_int` does not fit them.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


def _check_activation_pairs(activations: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    pairs = list(activations)
    if not pairs:
        raise ValueError(f"activations must name at least one (a1, a2) pair, got {activations!r}")
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
    return [(str(a), str(b)) for a, b in pairs]


def _per_member_ints(value: int | Sequence[int], m: int, name: str, positive: bool) -> np.ndarray:
    """``(m,)`` int64 from one integer for all members or one per member; ``positive`` for sizes."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = [value] * m
    else:
        values = list(value)  # type: ignore[arg-type]
        if len(values) != m:
            raise ValueError(f"{name} must be one integer or one per member ({m}), got {len(values)} values")
    check = check_positive_int if positive else check_int
    return np.asarray([check(v, f"{name}[{i}]") for i, v in enumerate(values)], dtype=np.int64)


def _check_hidden_units(hidden_units: tuple[int, int]) -> tuple[int, int]:
    if len(hidden_units) != 2:
        raise ValueError(f"hidden_units must be a pair (h1, h2), got {hidden_units!r}")
    h1, h2 = (check_positive_int(h, "hidden_units") for h in hidden_units)
    return h1, h2


def _check_input_dim(input_dim: int | None, n_features: np.ndarray) -> int:
    d_max = int(n_features.max())
    if input_dim is None:
        input_dim = d_max
    input_dim = check_positive_int(input_dim, "input_dim")
    if input_dim < d_max:
        raise ValueError(f"input_dim must be at least max(n_features) = {d_max}, got {input_dim}")
    return input_dim


def check_data(
    x: Any, y: Any | None, data_index: Any | None, n_features: np.ndarray, input_dim: int
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Check the data of ``M = len(n_features)`` members for ``fit`` or ``predict``.

    Args:
        x: ``(M, N, input_dim)`` inputs, or ``(D, N, input_dim)`` read through ``data_index``.
        y: ``(M, N)`` or ``(M, N, 1)`` targets (``D`` rows with ``data_index``), or ``None``.
        data_index: optional ``(M,)`` ints, the data set each member reads.
        n_features: ``(M,)`` the members' own input counts; the features beyond are padding.
        input_dim: the padded width.

    Returns:
        ``x`` as float32, ``y`` as float32 ``(rows, N)`` (or ``None``), and each member's data set
        ``(M,)`` (``arange(M)`` without ``data_index``).
    """
    x = _check_x_shape(np.asarray(x), input_dim)
    index = _check_data_index(data_index, x.shape, len(n_features))
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite; found NaN or inf")
    _check_padding(x, index, n_features)
    return x, None if y is None else _check_y(y, x.shape), index


def _check_x_shape(x: np.ndarray, d: int) -> np.ndarray:
    if x.ndim != 3:
        raise ValueError(f"x must have shape (members or data sets, n, {d}), got shape {x.shape}")
    if x.shape[2] != d:
        raise ValueError(f"x must have {d} features on its last axis (input_dim), got shape {x.shape}")
    if x.shape[1] == 0:
        raise ValueError(f"x must hold at least one sample, got shape {x.shape}")
    return x


def _check_data_index(data_index: Any | None, x_shape: tuple[int, ...], m: int) -> np.ndarray:
    if data_index is None:
        if x_shape[0] != m:
            raise ValueError(
                f"x must have one data set per member ({m}) on its first axis, or pass data_index; "
                f"got shape {x_shape}"
            )
        return np.arange(m)
    index = np.asarray(data_index)
    if index.shape != (m,) or index.dtype.kind not in "iu":
        raise ValueError(f"data_index must be {m} integers, got dtype {index.dtype} shape {index.shape}")
    if index.min() < 0 or index.max() >= x_shape[0]:
        raise ValueError(f"data_index must lie in [0, {x_shape[0]}), got values in [{index.min()}, {index.max()}]")
    return index


def _check_padding(x: np.ndarray, index: np.ndarray, n_features: np.ndarray) -> None:
    # Padded features must be exactly zero, or they would train the padded kernel rows.
    d = x.shape[2]
    for k in np.unique(index):
        nf_min = int(n_features[index == k].min())
        if nf_min < d and np.any(x[k, :, nf_min:] != 0):
            members = np.flatnonzero((index == k) & (n_features == nf_min))[:3].tolist()
            raise ValueError(
                f"x[{k}] must be zero beyond feature {nf_min} (members {members} have "
                f"n_features={nf_min}, the rest is padding); found non-zero values"
            )


def _check_y(y: Any, x_shape: tuple[int, ...]) -> np.ndarray:
    yy = np.asarray(y)
    if yy.ndim == 3 and yy.shape[2] == 1:
        yy = yy[..., 0]
    if yy.shape != x_shape[:2]:
        raise ValueError(f"y must have shape {x_shape[:2]} to match x, got shape {np.asarray(y).shape}")
    yy = yy.astype(np.float32, copy=False)
    if not np.all(np.isfinite(yy)):
        raise ValueError("y must be finite; found NaN or inf")
    return yy


# --------------------------------------------------------------------------------------------------
# stacked kernels
# --------------------------------------------------------------------------------------------------


def glorot_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """A ``(fan_in, fan_out)`` float32 kernel drawn like Keras's ``GlorotUniform``.

    Uniform on ``[-limit, limit)`` with ``limit = sqrt(6 / (fan_in + fan_out))``, the distribution
    of Keras's default ``Dense`` kernel initializer (drawn here with NumPy, so the numbers differ
    from Keras's own draws but not their law).
    """
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)


def _activation_runs(names: list[str]) -> _ActivationRuns:
    """Runs of equal names as ``(activation or None for linear, length)``."""
    runs: _ActivationRuns = []
    start = 0
    for k in range(1, len(names) + 1):
        if k == len(names) or names[k] != names[start]:
            fn = None if names[start] == "linear" else _activations.get(names[start])
            runs.append((fn, k - start))
            start = k
    return runs


def _apply_activation_runs(z: Any, runs: _ActivationRuns) -> Any:
    """Each run's activation on its block of members (the member axis is the first)."""
    if len(runs) == 1:
        fn = runs[0][0]
        return z if fn is None else fn(z)
    parts = ops.split(z, np.cumsum([n for _, n in runs])[:-1].tolist(), axis=0)
    return ops.concatenate([p if fn is None else fn(p) for p, (fn, _) in zip(parts, runs)], axis=0)


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


# --------------------------------------------------------------------------------------------------
# the stacked networks
# --------------------------------------------------------------------------------------------------


class StackedPaperModels:
    """The weights and forward pass of :class:`multlib.fused.FusedPaperModels`, which documents the arguments."""

    def __init__(
        self,
        activations: Sequence[tuple[str, str]],
        n_features: int | Sequence[int],
        seeds: int | Sequence[int] = 0,
        hidden_units: tuple[int, int] = (16, 12),
        input_dim: int | None = None,
    ) -> None:
        self.activations: list[tuple[str, str]] = _check_activation_pairs(activations)
        m = len(self.activations)
        self.n_features: np.ndarray = _per_member_ints(n_features, m, "n_features", positive=True)
        self.seeds: np.ndarray = _per_member_ints(seeds, m, "seeds", positive=False)
        self.hidden_units: tuple[int, int] = _check_hidden_units(hidden_units)
        self.input_dim: int = _check_input_dim(input_dim, self.n_features)
        self.n_members: int = m
        self._set_member_orders()
        self._set_initial_weights()
        self._diverged_mask = np.zeros(m, bool)

    # ---------------------------------------------------------------- construction helpers

    def _set_member_orders(self) -> None:
        """Sort the members so that each activation runs once, on one contiguous block of members.

        Layer 1 works in "order 1" (members sorted by a1), layers 2-3 in "order 2" (sorted by a2).
        """
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
        self._groups1 = _activation_runs([self.activations[i][0] for i in self._order1])
        self._groups2 = _activation_runs([self.activations[i][1] for i in self._order2])

    def _set_initial_weights(self) -> None:
        """Stack every member's initial weights into the two variables, in their members' orders."""
        m, d, (h1, h2) = self.n_members, self.input_dim, self.hidden_units
        self._sizes1 = [d * h1, h1]
        self._sizes2 = [h1 * h2, h2, h2, 1]
        theta1 = np.zeros((m, sum(self._sizes1)), np.float32)
        theta2 = np.zeros((m, sum(self._sizes2)), np.float32)
        for i in range(m):
            w = self._initial_weights(i)
            theta1[self._pos1[i]], theta2[self._pos2[i]] = self._pack(w, int(self.n_features[i]))
        self._theta1 = keras.Variable(theta1, dtype="float32", name="fused_layer1")
        self._theta2 = keras.Variable(theta2, dtype="float32", name="fused_layers23")

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
        """A Keras-style weight list as the member's rows of the two stacks, its kernel zero-padded to ``d``."""
        w1 = np.zeros((self.input_dim, self.hidden_units[0]), np.float32)
        w1[:nf] = weights[0]
        row1 = np.concatenate([w1.ravel(), np.asarray(weights[1], np.float32).ravel()])
        row2 = np.concatenate([np.asarray(w, np.float32).ravel() for w in weights[2:]])
        return row1, row2

    def _check_member(self, i: Any) -> int:
        i = check_int(i, "member")
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
        """``(M,)`` bool: members that diverged in any :meth:`~multlib.fused.FusedPaperModels.fit` so far."""
        return self._diverged_mask.copy()

    # ---------------------------------------------------------------- the computation

    def _forward(self, xb: Any, theta1: Any, theta2: Any) -> Any:
        """``xb``: ``(M, B, d)`` in order 1. Returns predictions ``(M, B)`` in order 2."""
        import tensorflow as tf

        m, d, (h1, h2) = self.n_members, self.input_dim, self.hidden_units
        w1, b1 = tf.split(theta1, self._sizes1, axis=1)
        w2, b2, w3, b3 = tf.split(theta2, self._sizes2, axis=1)
        z1 = _bias_add(tf.matmul(xb, tf.reshape(w1, (m, d, h1))), tf.reshape(b1, (m, 1, h1)))
        a1 = _apply_activation_runs(z1, self._groups1)
        a1 = _permute(a1, self._perm12_t, self._perm12_inv_t)
        z2 = _bias_add(tf.matmul(a1, tf.reshape(w2, (m, h1, h2))), tf.reshape(b2, (m, 1, h2)))
        a2 = _apply_activation_runs(z2, self._groups2)
        out = _bias_add(tf.matmul(a2, tf.reshape(w3, (m, h2, 1))), tf.reshape(b3, (m, 1, 1)))
        return tf.reshape(out, (m, -1))

    def _build_permutations(self) -> None:
        """The member permutations as tensors for :meth:`_forward` (TensorFlow is imported only when needed)."""
        import tensorflow as tf

        self._perm12_t = tf.constant(self._perm12)
        self._perm12_inv_t = tf.constant(np.argsort(self._perm12).astype(np.int32))  # inverse of perm12
        self._perm21_t = tf.constant(self._perm21)
