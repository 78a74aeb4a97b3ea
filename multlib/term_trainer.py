"""The vectorised trainers of :mod:`multlib.term_search`, and the float64 read-back of their models.

Two ``tf.function`` loops, each traced once per process: :func:`train_fn` for a sum of product terms
(Chapter 5a's model) and :func:`ratio_train_fn` for a ratio ``N(x) / (1 + D(x))`` of two such sums.
They are separate functions, not one with a flag, so the sum's graph is the same as before the ratio
existed and its results are bit-for-bit the same. Both train ``R`` restarts at once: every term of
restart ``r`` has exponents ``W[r, :, k]`` and a coefficient ``a[r, k]``; in the ratio model a 0/1
vector ``den`` (one entry per term) says which terms are the denominator's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["train_fn", "ratio_train_fn", "term_values", "predict64", "float64_loss", "drop_negligible"]

_CACHE: dict[str, Any] = {}


def _spec(ratio: bool) -> list[Any]:
    import tensorflow as tf

    f32 = tf.float32
    spec = [
        tf.TensorSpec((None, None), f32), tf.TensorSpec((None, None), f32),  # log|x| - centre, [x < 0]
        tf.TensorSpec((None,), f32), tf.TensorSpec((None,), f32),  # target / scale, 1 / (|t| + floor)
        tf.TensorSpec((None, None, None), f32), tf.TensorSpec((None, None), f32),  # W, a
        tf.TensorSpec((None, None, None), f32), tf.TensorSpec((None, None), f32),  # masks
        tf.TensorSpec((), tf.int32), tf.TensorSpec((), f32), tf.TensorSpec((), tf.int32),  # steps, lr, batch
        tf.TensorSpec((2,), tf.int32),  # seed of the minibatch draws
        tf.TensorSpec((), tf.bool),  # mean |error| instead of mean error^2
    ]
    return spec + [tf.TensorSpec((None,), f32)] if ratio else spec  # den: 1 for a denominator term


def _build(ratio: bool) -> Any:
    """The training loop; see :func:`train_fn`. ``ratio`` adds the ``den`` input and divides by ``1 + D``."""
    import tensorflow as tf

    def terms(log_x: Any, neg: Any, w: Any) -> Any:
        z = tf.einsum("nd,rdk->rnk", log_x, w)
        sign = tf.cos(math.pi * tf.einsum("nd,rdk->rnk", neg, w))
        return tf.exp(z) * sign

    def forward(log_x: Any, neg: Any, w: Any, a: Any, den: Any) -> Any:
        if not ratio:
            return tf.einsum("rnk,rk->rn", terms(log_x, neg, w), a)
        v = terms(log_x, neg, w)
        return tf.einsum("rnk,rk->rn", v, a * (1.0 - den)) / (1.0 + tf.einsum("rnk,rk->rn", v, a * den))

    def losses(log_x: Any, neg: Any, t: Any, inv: Any, w: Any, a: Any, absolute: Any, den: Any) -> Any:
        err = (forward(log_x, neg, w, a, den) - t) * inv
        return tf.reduce_mean(tf.where(absolute, tf.abs(err), tf.square(err)), axis=1)

    f32 = tf.float32

    def run(log_x, neg, t, inv, w, a, mask_w, mask_a, steps, lr0, batch, seed, absolute, den=None):  # type: ignore
        n = tf.shape(log_x)[0]
        m_w, v_w, m_a, v_a = tf.zeros_like(w), tf.zeros_like(w), tf.zeros_like(a), tf.zeros_like(a)
        b1, b2, eps = 0.9, 0.999, 1e-8
        total = tf.cast(steps, f32)
        for s in tf.range(steps):
            idx = tf.random.stateless_uniform((batch,), seed=seed + tf.stack([0, s]), maxval=n, dtype=tf.int32)
            xb, nb, tb, ib = (tf.gather(v, idx) for v in (log_x, neg, t, inv))
            with tf.GradientTape() as tape:
                tape.watch([w, a])
                loss = tf.reduce_sum(losses(xb, nb, tb, ib, w, a, absolute, den))
            g_w, g_a = tape.gradient(loss, [w, a])
            g_w, g_a = g_w * mask_w, g_a * mask_a
            k = tf.cast(s, f32) + 1.0
            lr = lr0 * 0.5 * (1.0 + tf.cos(math.pi * (k - 1.0) / total))  # cosine decay to 0
            m_w, v_w = b1 * m_w + (1 - b1) * g_w, b2 * v_w + (1 - b2) * g_w * g_w
            m_a, v_a = b1 * m_a + (1 - b1) * g_a, b2 * v_a + (1 - b2) * g_a * g_a
            c1, c2 = 1 - tf.pow(b1, k), 1 - tf.pow(b2, k)
            w = w - lr * (m_w / c1) / (tf.sqrt(v_w / c2) + eps)
            a = a - lr * (m_a / c1) / (tf.sqrt(v_a / c2) + eps)
        return w, a, losses(log_x, neg, t, inv, w, a, absolute, den)

    if ratio:
        return tf.function(run, input_signature=_spec(True))

    def run_sum(log_x, neg, t, inv, w, a, mask_w, mask_a, steps, lr0, batch, seed, absolute):  # type: ignore
        return run(log_x, neg, t, inv, w, a, mask_w, mask_a, steps, lr0, batch, seed, absolute)

    return tf.function(run_sum, input_signature=_spec(False))


def train_fn() -> Any:
    """The sum model's training loop as one ``tf.function``, traced once per process for every shape.

    Trains ``R`` independent models at once: ``W`` is ``(R, d, K)`` and ``a`` is ``(R, K)``; the
    loss is the sum of the members' losses, so each member gets its own gradient, and Adam (written
    out, so that its state lives in loop variables and nothing is retraced) is element-wise.
    ``mask_w``/``mask_a`` are 1 where a weight trains and 0 where it is frozen.
    """
    if "sum" not in _CACHE:
        _CACHE["sum"] = _build(ratio=False)
    return _CACHE["sum"]


def ratio_train_fn() -> Any:
    """As :func:`train_fn` for the ratio model; its last argument ``den`` ``(K,)`` marks the denominator terms."""
    if "ratio" not in _CACHE:
        _CACHE["ratio"] = _build(ratio=True)
    return _CACHE["ratio"]


# ------------------------------------------------------------------------ float64 read-back


def term_values(w: np.ndarray, a: np.ndarray, log_x: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """The ``(n, K)`` term values ``a_k exp(log_x . w_k) cos(pi neg . w_k)`` in float64."""
    return a * np.exp(log_x @ w) * np.cos(np.pi * (neg @ w))


def predict64(w: np.ndarray, a: np.ndarray, log_x: np.ndarray, neg: np.ndarray, den: np.ndarray | None) -> np.ndarray:
    """One model's output ``(n,)`` in float64: the sum of its terms, or ``N / (1 + D)`` where ``den`` is given."""
    v = term_values(w, a, log_x, neg)
    if den is None:
        return v.sum(axis=1)
    return v[:, den == 0].sum(axis=1) / (1.0 + v[:, den == 1].sum(axis=1))


def float64_loss(w: np.ndarray, a: np.ndarray, log_x: np.ndarray, neg: np.ndarray, t: np.ndarray, inv: np.ndarray,
                 absolute: bool, den: np.ndarray | None = None) -> float:
    """The trainer's loss for one model, computed in float64."""
    err = (predict64(w, a, log_x, neg, den) - t) * inv
    return float(np.mean(np.abs(err) if absolute else np.square(err)))


def drop_negligible(w: np.ndarray, a: np.ndarray, log_x: np.ndarray, neg: np.ndarray, inv: np.ndarray,
                    tol: float = 1e-6, den: np.ndarray | None = None) -> np.ndarray:
    """Zero the coefficients of terms that never contribute more than ``tol`` of the target.

    In a ratio a numerator term's share is its value over ``1 + D`` (its part of the output), a
    denominator term's share is its part of ``1 + D``.
    """
    if den is None:
        share = np.max(np.abs(term_values(w, a, log_x, neg)) * inv[:, None], axis=0)
        return np.where(share < tol, 0.0, a)
    v = term_values(w, a, log_x, neg)
    one_plus_d = np.abs(1.0 + v[:, den == 1].sum(axis=1))[:, None]
    share = np.max(np.abs(v) / one_plus_d * np.where(den == 1, 1.0, inv[:, None]), axis=0)
    return np.where(share < tol, 0.0, a)
