"""The search behind :func:`multlib.improved.fit`: many restarts of a sum of product terms, trained as one.

This module works on plain arrays (centred ``log|x|``, signs, scaled target, loss weights), not on a
Keras model. :func:`search_terms` trains ``restarts`` copies of the ``K``-term model in one
vectorised ``tf.function``, settles near-integer terms between rounds, rounds every exponent and
keeps the rounded model only where the training data confirm it, and returns the restart with the
lowest training loss. :func:`multlib.improved.fit` builds the :class:`Problem` from its data and
copies the :class:`Found` weights into its Keras model; the docstring of :mod:`multlib.improved`
says why each step is there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from multlib.data import check_positive_int
from multlib.training import TrainingDiverged

__all__ = ["Recipe", "Problem", "Found", "search_terms"]

_EXACT = 1e-10  # a relative RMS error of 1e-5 on the training data: float32 round-off, near enough


# ------------------------------------------------------------------------- settings and results


@dataclass
class Recipe:
    """The settings of :func:`multlib.improved.fit` (it documents each), checked and converted on creation."""

    n_terms: int
    seed: int
    steps: int
    rounds: int
    restarts: int
    batch_size: int
    learning_rate: float
    refit_steps: int
    snap: bool
    snap_tolerance: float
    floor: float
    init_std: float
    loss: str
    simplest_first: bool

    def __post_init__(self) -> None:
        # Checked in this order, so that the error names the first bad argument in it.
        self.n_terms = check_positive_int(self.n_terms, "n_terms")
        self.steps = check_positive_int(self.steps, "steps")
        self.rounds = check_positive_int(self.rounds, "rounds")
        self.restarts = check_positive_int(self.restarts, "restarts")
        self.batch_size = check_positive_int(self.batch_size, "batch_size")
        self.refit_steps = check_positive_int(self.refit_steps, "refit_steps")
        self.learning_rate = _positive_number(self.learning_rate, "learning_rate")
        self.snap_tolerance = _positive_number(self.snap_tolerance, "snap_tolerance")
        if self.snap_tolerance >= 0.5:
            raise ValueError(f"snap_tolerance must be below 0.5, got {self.snap_tolerance!r}")
        self.floor = _positive_number(self.floor, "floor")
        if self.loss not in ("relative", "mae", "mse"):
            raise ValueError(f"loss must be 'relative', 'mae' or 'mse', got {self.loss!r}")
        init_std = self.init_std  # kept as given (not converted): the divergence message quotes it
        if isinstance(init_std, bool) or not isinstance(init_std, (int, float)) or not init_std > 0:
            raise ValueError(f"init_std must be a positive number, got {init_std!r}")
        seed = self.seed  # kept as given too; NumPy and the minibatch seed take any non-negative integer
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")

    @property
    def absolute(self) -> bool:
        """Whether the loss is the mean ``|error|`` (``"mae"``) rather than the mean ``error^2``."""
        return self.loss == "mae"


@dataclass(frozen=True)
class Problem:
    """The training data as the trainer sees them, in float64, one row per sample."""

    log_x: np.ndarray  # (n, d): log|x| minus the layer's centre
    negative: np.ndarray  # (n, d): 1 where x < 0, else 0
    target: np.ndarray  # (n,): y divided by the layer's scale
    weight: np.ndarray  # (n,): each error is multiplied by this before it is squared (or made absolute)


@dataclass(frozen=True)
class Found:
    """The best restart of a search: weights in the layer's terms (centred, scaled) and what it cost."""

    exponents: np.ndarray  # (d, K)
    coefficients: np.ndarray  # (K,)
    loss: float
    snapped: bool  # whether the rounded (integer-exponent) model was kept
    steps: int  # optimiser steps taken, over all restarts at once
    history: dict[str, Any]


def _positive_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not (
        np.isfinite(value) and value > 0
    ):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


# ------------------------------------------------------------------------------------ the search


def search_terms(problem: Problem, recipe: Recipe) -> Found:
    """Fit a sum of ``recipe.n_terms`` product terms to ``problem``; the best restart on the training loss.

    Its ``history`` holds each search's own history under ``"single_term"`` and ``"full"``. Raises
    :class:`TrainingDiverged` if every restart of a search ends with a non-finite loss.
    """
    restarts = _Restarts(problem, recipe)
    history: dict[str, Any] = {}
    steps = 0
    if recipe.simplest_first and recipe.snap and recipe.n_terms > 1:
        # Occam first: one product term, one round, kept only if it fits the training data to
        # round-off (rounded if rounding is confirmed, as learned otherwise, e.g. x1^0.5 * x2). A
        # monomial then costs a quarter of the full search and cannot be imitated by a sum of
        # wrong terms (which a narrow training range allows).
        single = restarts.best(n_terms=1, rounds=1)
        history["single_term"], steps = single.history, single.steps
        if single.loss <= 10 * _EXACT:
            unused = recipe.n_terms - 1
            return replace(single, exponents=np.pad(single.exponents, ((0, 0), (0, unused))),
                           coefficients=np.pad(single.coefficients, (0, unused)), history=history)
    full = restarts.best(n_terms=recipe.n_terms, rounds=recipe.rounds)
    history["full"] = full.history
    return replace(full, steps=steps + full.steps, history=history)


class _Restarts:
    """``recipe.restarts`` models trained at once on one problem; one RNG draws all their exponents."""

    def __init__(self, problem: Problem, recipe: Recipe) -> None:
        import tensorflow as tf

        self.problem, self.recipe = problem, recipe
        p = problem
        self._data = [tf.constant(v.astype(np.float32)) for v in (p.log_x, p.negative, p.target, p.weight)]
        self._log_x32 = self._data[0].numpy()  # the trainer's float32 inputs, for the float64 read-back
        self._run = _train_fn()
        self._rng = np.random.default_rng(recipe.seed)
        self._batch = min(recipe.batch_size, p.log_x.shape[0])

    def best(self, n_terms: int, rounds: int) -> Found:
        """Train and settle ``n_terms``-term models, try rounding them; the restart with the lowest loss."""
        w, a, free_loss, rounds_run = self._train_and_settle(n_terms, rounds)
        best = _lowest_finite(free_loss)
        if best is None:
            raise TrainingDiverged(
                f"training diverged: all {self.recipe.restarts} restarts ended with a non-finite loss; "
                f"try a smaller learning_rate (got {self.recipe.learning_rate}) "
                f"or init_std (got {self.recipe.init_std})"
            )
        history: dict[str, Any] = {"n_terms": n_terms, "free_losses": free_loss, "rounds": rounds_run}
        found = Found(exponents=w[best], coefficients=a[best], loss=float(free_loss[best]), snapped=False,
                      steps=rounds_run * self.recipe.steps, history=history)
        if self.recipe.snap:
            w_r, a_r, loss_r = self._refit_rounded(w, a)
            history["snapped_losses"] = loss_r
            found = _prefer_rounded(replace(found, steps=found.steps + self.recipe.refit_steps), w_r, a_r, loss_r)
        if found.snapped:
            found = self._without_negligible_terms(found)
        return found

    def _train_and_settle(self, n_terms: int, rounds: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Up to ``rounds`` rounds of training from fresh exponents, settling near-integer terms in between.

        Returns the last round's exponents ``(R, d, K)``, coefficients ``(R, K)`` and losses ``(R,)``,
        and the number of rounds run.
        """
        recipe = self.recipe
        w = self._rng.normal(0.0, recipe.init_std, (recipe.restarts, self.problem.log_x.shape[1], n_terms))
        a = np.full((recipe.restarts, n_terms), 1.0 / n_terms)
        mask_w, train_every_a = np.ones_like(w), np.ones_like(a)
        for r in range(rounds):
            w, a, loss = self._train(w, a, mask_w, train_every_a, recipe.steps, recipe.learning_rate,
                                     stream=1000 * r + n_terms)
            settled = (np.abs(w - np.round(w)) < recipe.snap_tolerance).all(axis=1) & np.isfinite(loss)[:, None]
            if not recipe.snap or r == rounds - 1 or settled.all() or np.nanmin(loss) < _EXACT:
                break  # nothing left to settle, or some restart already fits to float32 round-off
            w, a, mask_w = self._settle(w, a, settled)
        return w, a, loss, r + 1

    def _settle(self, w: np.ndarray, a: np.ndarray, settled: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Settled terms (``settled`` ``(R, K)``) keep their rounded exponents, frozen; the others start again, small.

        Returns the next round's ``w``, ``a`` and ``mask_w``; non-finite weights are replaced too.
        """
        k = w.shape[2]
        redraw = self._rng.normal(0.0, self.recipe.init_std, w.shape)
        w = np.where(settled[:, None, :], np.round(w), redraw)
        a = np.where(settled, a, 0.1 / k)
        a = np.where(np.isfinite(a), a, 1.0 / k)
        w = np.where(np.isfinite(w), w, redraw)
        return w, a, np.where(settled[:, None, :], 0.0, 1.0)

    def _refit_rounded(self, w: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Round every restart's exponents, merge equal terms and refit the coefficients (exponents frozen)."""
        w_r, a_r, mask_a = _merge(np.round(np.where(np.isfinite(w), w, 0.0)), np.where(np.isfinite(a), a, 0.0))
        return self._train(w_r, a_r, np.zeros_like(w_r), mask_a, self.recipe.refit_steps, 0.01, stream=99_999)

    def _without_negligible_terms(self, found: Found) -> Found:
        """``found`` with its negligible terms' coefficients zeroed, and its loss recomputed in float64."""
        p, w = self.problem, found.exponents
        a = _drop_negligible(w, found.coefficients, self._log_x32, p.negative, p.weight)
        loss = _float64_loss(w, a, self._log_x32, p.negative, p.target, p.weight, self.recipe.absolute)
        return replace(found, coefficients=a, loss=loss)

    def _train(self, w: np.ndarray, a: np.ndarray, mask_w: np.ndarray, mask_a: np.ndarray, n_steps: int, lr: float,
               stream: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run the trainer from ``(w, a)``; the trained ``w``, ``a`` and each restart's loss, in float64.

        ``stream`` and the seed pick the minibatch draws, so each call sees its own.
        """
        import tensorflow as tf

        out = self._run(*self._data, *(tf.constant(v.astype(np.float32)) for v in (w, a, mask_w, mask_a)),
                        tf.constant(n_steps), tf.constant(lr, tf.float32), tf.constant(self._batch),
                        tf.constant([self.recipe.seed % 2**31, stream], tf.int32), tf.constant(self.recipe.absolute))
        return tuple(np.asarray(v.numpy(), dtype=np.float64) for v in out)  # type: ignore[return-value]


def _lowest_finite(losses: np.ndarray) -> int | None:
    """The index of the lowest finite loss; None if every loss is NaN or infinite."""
    finite = np.isfinite(losses)
    if not finite.any():
        return None
    return int(np.argmin(np.where(finite, losses, np.inf)))


def _prefer_rounded(free: Found, w_r: np.ndarray, a_r: np.ndarray, loss_r: np.ndarray) -> Found:
    """The best rounded restart if its loss is no worse than ``free``'s (times 2, or below ``10 * _EXACT``).

    Rounding is a hypothesis the training data must confirm, so otherwise ``free`` stays.
    """
    best = _lowest_finite(loss_r)
    if best is not None and loss_r[best] <= max(2.0 * free.loss, 10 * _EXACT):
        return replace(free, exponents=w_r[best], coefficients=a_r[best], loss=float(loss_r[best]), snapped=True)
    return free


# --------------------------------------------------------------------------------- the trainer

_TRAIN_FN: Any = None


def _train_fn() -> Any:
    """The training loop as one ``tf.function``, traced once per process for every shape.

    Trains ``R`` independent models at once: ``W`` is ``(R, d, K)`` and ``a`` is ``(R, K)``; the
    loss is the sum of the members' losses, so each member gets its own gradient, and Adam (written
    out, so that its state lives in loop variables and nothing is retraced) is element-wise.
    ``mask_w``/``mask_a`` are 1 where a weight trains and 0 where it is frozen.
    """
    global _TRAIN_FN
    if _TRAIN_FN is not None:
        return _TRAIN_FN
    import tensorflow as tf

    def forward(log_x: Any, neg: Any, w: Any, a: Any) -> Any:
        z = tf.einsum("nd,rdk->rnk", log_x, w)
        sign = tf.cos(math.pi * tf.einsum("nd,rdk->rnk", neg, w))
        return tf.einsum("rnk,rk->rn", tf.exp(z) * sign, a)

    def losses(log_x: Any, neg: Any, t: Any, inv: Any, w: Any, a: Any, absolute: Any) -> Any:
        err = (forward(log_x, neg, w, a) - t) * inv
        return tf.reduce_mean(tf.where(absolute, tf.abs(err), tf.square(err)), axis=1)

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

    @tf.function(input_signature=spec)
    def run(log_x, neg, t, inv, w, a, mask_w, mask_a, steps, lr0, batch, seed, absolute):  # type: ignore
        n = tf.shape(log_x)[0]
        m_w, v_w, m_a, v_a = tf.zeros_like(w), tf.zeros_like(w), tf.zeros_like(a), tf.zeros_like(a)
        b1, b2, eps = 0.9, 0.999, 1e-8
        total = tf.cast(steps, f32)
        for s in tf.range(steps):
            idx = tf.random.stateless_uniform((batch,), seed=seed + tf.stack([0, s]), maxval=n, dtype=tf.int32)
            xb, nb, tb, ib = (tf.gather(v, idx) for v in (log_x, neg, t, inv))
            with tf.GradientTape() as tape:
                tape.watch([w, a])
                loss = tf.reduce_sum(losses(xb, nb, tb, ib, w, a, absolute))
            g_w, g_a = tape.gradient(loss, [w, a])
            g_w, g_a = g_w * mask_w, g_a * mask_a
            k = tf.cast(s, f32) + 1.0
            lr = lr0 * 0.5 * (1.0 + tf.cos(math.pi * (k - 1.0) / total))  # cosine decay to 0
            m_w, v_w = b1 * m_w + (1 - b1) * g_w, b2 * v_w + (1 - b2) * g_w * g_w
            m_a, v_a = b1 * m_a + (1 - b1) * g_a, b2 * v_a + (1 - b2) * g_a * g_a
            c1, c2 = 1 - tf.pow(b1, k), 1 - tf.pow(b2, k)
            w = w - lr * (m_w / c1) / (tf.sqrt(v_w / c2) + eps)
            a = a - lr * (m_a / c1) / (tf.sqrt(v_a / c2) + eps)
        return w, a, losses(log_x, neg, t, inv, w, a, absolute)

    _TRAIN_FN = run
    return run


def _merge(w: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge terms with equal (rounded) exponents per member; returns ``w, a, mask_a``."""
    w, a = w.copy(), a.copy()
    mask_a = np.ones_like(a)
    for r in range(w.shape[0]):
        seen: dict[tuple[float, ...], int] = {}
        for k in range(w.shape[2]):
            key = tuple(w[r, :, k].tolist())
            if key in seen:
                a[r, seen[key]] += a[r, k]
                a[r, k], mask_a[r, k] = 0.0, 0.0
                w[r, :, k] = 0.0
            else:
                seen[key] = k
    return w, a, mask_a


def _term_values(w: np.ndarray, a: np.ndarray, log_x: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """The ``(n, K)`` term values ``a_k exp(log_x . w_k) cos(pi neg . w_k)`` in float64."""
    return a * np.exp(log_x @ w) * np.cos(np.pi * (neg @ w))


def _float64_loss(w: np.ndarray, a: np.ndarray, log_x: np.ndarray, neg: np.ndarray, t: np.ndarray, inv: np.ndarray,
                  absolute: bool) -> float:
    """The trainer's loss for one model, computed in float64."""
    err = (_term_values(w, a, log_x, neg).sum(axis=1) - t) * inv
    return float(np.mean(np.abs(err) if absolute else np.square(err)))


def _drop_negligible(w: np.ndarray, a: np.ndarray, log_x: np.ndarray, neg: np.ndarray, inv: np.ndarray,
                     tol: float = 1e-6) -> np.ndarray:
    """Zero the coefficients of terms that never contribute more than ``tol`` of the target."""
    share = np.max(np.abs(_term_values(w, a, log_x, neg)) * inv[:, None], axis=0)
    return np.where(share < tol, 0.0, a)
