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

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from multlib.data import check_positive_int
from multlib.reuse import Memo, digest
from multlib.term_select import refit_coefficients, select_terms
from multlib.term_trainer import drop_negligible, float64_loss, ratio_train_fn, train_fn
from multlib.training import TrainingDiverged

__all__ = ["Recipe", "Problem", "Found", "search_terms"]

_EXACT = 1e-10  # a relative RMS error of 1e-5 on the training data: float32 round-off, near enough
_DEN_INIT = 0.1  # the denominator terms' coefficients start at this sum: 1 + D starts near 1.1, far from a pole


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
    denominator_terms: int = 0
    select: bool = False

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
        j = self.denominator_terms
        if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or j < 0:
            raise ValueError(f"denominator_terms must be a non-negative integer, got {j!r}")
        self.denominator_terms = int(j)
        if not isinstance(self.select, (bool, np.bool_)):
            raise ValueError(f"select must be True or False, got {self.select!r}")
        if self.select and self.loss == "mae":
            raise ValueError("loss must be 'relative' or 'mse' with select=True (its refits are least squares), "
                             f"got {self.loss!r}")
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

    exponents: np.ndarray  # (d, K + J): the numerator's K terms, then the denominator's J
    coefficients: np.ndarray  # (K + J,)
    loss: float
    snapped: bool  # whether the rounded (integer-exponent) model was kept
    steps: int  # optimiser steps taken, over all restarts at once
    history: dict[str, Any]
    n_denominator: int = 0  # J: the last J terms divide, as 1 + sum of them

    @property
    def den(self) -> np.ndarray | None:
        """1 for a denominator term, 0 for a numerator term; None for a plain sum (J = 0)."""
        return _den_mask(self.exponents.shape[1], self.n_denominator)


def _memo_key(problem: Problem, recipe: Recipe) -> str:
    """The data and every setting a search stage depends on (not ``n_terms``, ``rounds``, ``denominator_terms``,
    which the stage's own key adds, nor ``select``, which acts after the search)."""
    settings = {k: v for k, v in vars(recipe).items() if k not in ("n_terms", "rounds", "denominator_terms", "select")}
    return digest(problem.log_x, problem.negative, problem.target, problem.weight, sorted(settings.items()))


def _positive_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not (
        np.isfinite(value) and value > 0
    ):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


# ------------------------------------------------------------------------------------ the search


def search_terms(problem: Problem, recipe: Recipe, memo: Memo | None = None) -> Found:
    """Fit a sum of ``recipe.n_terms`` product terms to ``problem``; the best restart on the training loss.

    With ``recipe.denominator_terms = J > 0`` the full search fits ``N / (1 + D)`` (``J`` terms in
    ``D``); with ``recipe.select`` the result goes through :func:`multlib.term_select.select_terms`.
    Its ``history`` holds each search's own history under ``"single_term"`` and ``"full"``. Raises
    :class:`TrainingDiverged` if every restart of a search ends with a non-finite loss.

    ``memo`` (a :class:`multlib.reuse.Memo`) keeps the one-term search and the full search under
    keys of the data and of every setting they depend on, so that a later search on the same data
    reuses them: with and without ``select`` the full search is the same, and the ratio model's
    one-term search is the sum's. The result is the same as without the memo.
    """
    restarts = _Restarts(problem, recipe)
    history: dict[str, Any] = {}
    steps = 0
    key = None if memo is None else _memo_key(problem, recipe)
    if recipe.simplest_first and recipe.snap and recipe.n_terms > 1:
        # Occam first: one product term, one round, kept only if it fits the training data to
        # round-off (rounded if rounding is confirmed, as learned otherwise, e.g. x1^0.5 * x2). A
        # monomial then costs a quarter of the full search and cannot be imitated by a sum of
        # wrong terms (which a narrow training range allows).
        single = restarts.best_kept(memo, key, n_terms=1, rounds=1)
        history["single_term"], steps = single.history, single.steps
        if single.loss <= 10 * _EXACT:
            unused = recipe.n_terms - 1 + recipe.denominator_terms
            return replace(single, exponents=np.pad(single.exponents, ((0, 0), (0, unused))),
                           coefficients=np.pad(single.coefficients, (0, unused)), history=history,
                           n_denominator=recipe.denominator_terms)
    full = restarts.best_kept(memo, key, n_terms=recipe.n_terms, rounds=recipe.rounds, n_den=recipe.denominator_terms)
    history["full"] = full.history
    found = replace(full, steps=steps + full.steps, history=history)
    if recipe.select:
        p = problem
        found = select_terms(found, restarts.log_x32, p.negative, p.target, p.weight)
    return found


class _Restarts:
    """``recipe.restarts`` models trained at once on one problem; one RNG draws all their exponents."""

    def __init__(self, problem: Problem, recipe: Recipe) -> None:
        import tensorflow as tf

        self.problem, self.recipe = problem, recipe
        p = problem
        self._data = [tf.constant(v.astype(np.float32)) for v in (p.log_x, p.negative, p.target, p.weight)]
        self.log_x32 = self._data[0].numpy()  # the trainer's float32 inputs, for the float64 read-back
        self._run = train_fn()
        self._rng = np.random.default_rng(recipe.seed)
        self._batch = min(recipe.batch_size, p.log_x.shape[0])

    def best_kept(self, memo: Memo | None, key: str | None, n_terms: int, rounds: int, n_den: int = 0) -> Found:
        """:meth:`best`, or its result kept in ``memo`` by an earlier search with the same ``key``.

        The generator's state after the search is kept with it, so the next search draws what it
        would have drawn: a kept result leaves the search exactly where computing it would.
        """
        if memo is None:
            return self.best(n_terms, rounds, n_den)

        def compute() -> tuple[Found, dict[str, Any]]:
            return self.best(n_terms, rounds, n_den), self._rng.bit_generator.state

        found, state = memo.get_or_compute((key, n_terms, rounds, n_den), compute)
        self._rng.bit_generator.state = state
        return found

    def best(self, n_terms: int, rounds: int, n_den: int = 0) -> Found:
        """Train and settle ``n_terms``-term models (over ``1 +`` ``n_den`` terms), try rounding them; the best restart."""
        den = _den_mask(n_terms + n_den, n_den)
        w, a, free_loss, rounds_run = self._train_and_settle(n_terms, rounds, den)
        best = _lowest_finite(free_loss)
        if best is None:
            raise TrainingDiverged(
                f"training diverged: all {self.recipe.restarts} restarts ended with a non-finite loss; "
                f"try a smaller learning_rate (got {self.recipe.learning_rate}) "
                f"or init_std (got {self.recipe.init_std})"
            )
        history: dict[str, Any] = {"n_terms": n_terms, "free_losses": free_loss, "rounds": rounds_run}
        found = Found(exponents=w[best], coefficients=a[best], loss=float(free_loss[best]), snapped=False,
                      steps=rounds_run * self.recipe.steps, history=history, n_denominator=n_den)
        if self.recipe.snap:
            w_r, a_r, loss_r = self._refit_rounded(w, a, den)
            history["snapped_losses"] = loss_r
            found = _prefer_rounded(replace(found, steps=found.steps + self.recipe.refit_steps), w_r, a_r, loss_r)
        if found.snapped:
            found = self._without_negligible_terms(found)
        return found

    def _train_and_settle(self, n_terms: int, rounds: int, den: np.ndarray | None
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Up to ``rounds`` rounds of training from fresh exponents, settling near-integer terms in between.

        Returns the last round's exponents ``(R, d, K)``, coefficients ``(R, K)`` and losses ``(R,)``,
        and the number of rounds run.
        """
        recipe = self.recipe
        n_den = 0 if den is None else int(den.sum())
        shape = (recipe.restarts, self.problem.log_x.shape[1], n_terms + n_den)
        w = self._rng.normal(0.0, recipe.init_std, shape)
        a = np.full((recipe.restarts, n_terms), 1.0 / n_terms)
        if den is not None:  # the denominator starts near 1: its terms small, so that 1 + D is far from 0
            a = np.concatenate([a, np.full((recipe.restarts, n_den), _DEN_INIT / n_den)], axis=1)
        mask_w, train_every_a = np.ones_like(w), np.ones_like(a)
        for r in range(rounds):
            w, a, loss = self._train(w, a, mask_w, train_every_a, recipe.steps, recipe.learning_rate,
                                     stream=1000 * r + n_terms + 100 * n_den, den=den)
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

    def _refit_rounded(self, w: np.ndarray, a: np.ndarray, den: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Round every restart's exponents, merge equal terms and refit the coefficients (exponents frozen)."""
        w_r, a_r, mask_a = _merge(np.round(np.where(np.isfinite(w), w, 0.0)), np.where(np.isfinite(a), a, 0.0), den)
        out = self._train(w_r, a_r, np.zeros_like(w_r), mask_a, self.recipe.refit_steps, 0.01, stream=99_999, den=den)
        if den is None or self.recipe.absolute:
            return out
        # A ratio's coefficients converge slowly under gradient steps; Gauss-Newton in float64 finishes them.
        p = self.problem
        w_r, a_r, loss_r = out
        for r in range(w_r.shape[0]):
            start = np.where(np.isfinite(a_r[r]), a_r[r], 0.0)
            a_gn, loss_gn = refit_coefficients(w_r[r], mask_a[r] == 1, den, self.log_x32, p.negative, p.target,
                                               p.weight, start)
            if loss_gn < loss_r[r] or not np.isfinite(loss_r[r]):
                a_r[r], loss_r[r] = a_gn, loss_gn
        return w_r, a_r, loss_r

    def _without_negligible_terms(self, found: Found) -> Found:
        """``found`` with its negligible terms' coefficients zeroed, and its loss recomputed in float64."""
        p, w, den = self.problem, found.exponents, found.den
        a = drop_negligible(w, found.coefficients, self.log_x32, p.negative, p.weight, den=den)
        loss = float64_loss(w, a, self.log_x32, p.negative, p.target, p.weight, self.recipe.absolute, den)
        return replace(found, coefficients=a, loss=loss)

    def _train(self, w: np.ndarray, a: np.ndarray, mask_w: np.ndarray, mask_a: np.ndarray, n_steps: int, lr: float,
               stream: int, den: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run the trainer from ``(w, a)``; the trained ``w``, ``a`` and each restart's loss, in float64.

        ``stream`` and the seed pick the minibatch draws, so each call sees its own. ``den`` (the
        denominator's terms) selects the ratio trainer.
        """
        import tensorflow as tf

        args = [*self._data, *(tf.constant(v.astype(np.float32)) for v in (w, a, mask_w, mask_a)),
                tf.constant(n_steps), tf.constant(lr, tf.float32), tf.constant(self._batch),
                tf.constant([self.recipe.seed % 2**31, stream], tf.int32), tf.constant(self.recipe.absolute)]
        out = self._run(*args) if den is None else ratio_train_fn()(*args, tf.constant(den.astype(np.float32)))
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


def _den_mask(n_all: int, n_den: int) -> np.ndarray | None:
    """``(n_all,)``: 0 for the numerator's terms, 1 for the last ``n_den`` (the denominator's); None if ``n_den`` is 0."""
    return None if n_den == 0 else (np.arange(n_all) >= n_all - n_den).astype(np.float64)


def _merge(w: np.ndarray, a: np.ndarray, den: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge terms with equal (rounded) exponents per member, within the numerator or within the denominator.

    A denominator term with all exponents 0 (a constant ``c`` in ``1 + c + ...``) is divided out: the
    numerator and the other denominator terms are divided by ``1 + c``. Returns ``w, a, mask_a``.
    """
    w, a = w.copy(), a.copy()
    mask_a = np.ones_like(a)
    for r in range(w.shape[0]):
        seen: dict[tuple[float, ...], int] = {}
        for k in range(w.shape[2]):
            key = tuple(w[r, :, k].tolist()) if den is None else (float(den[k]), *w[r, :, k].tolist())
            if key in seen:
                a[r, seen[key]] += a[r, k]
                a[r, k], mask_a[r, k] = 0.0, 0.0
                w[r, :, k] = 0.0
            else:
                seen[key] = k
        if den is not None:
            _divide_out_constant(w[r], a[r], mask_a[r], den)
    return w, a, mask_a


def _divide_out_constant(w: np.ndarray, a: np.ndarray, mask_a: np.ndarray, den: np.ndarray) -> None:
    """In place: fold one member's constant denominator term ``c`` into the exact 1, if ``1 + c`` is not near 0."""
    for k in np.flatnonzero((den == 1) & ~w.any(axis=0) & (mask_a == 1)):
        if abs(1.0 + a[k]) > 1e-3:
            a[den == 0] /= 1.0 + a[k]
            others = (den == 1) & (np.arange(len(a)) != k)
            a[others] /= 1.0 + a[k]
            a[k], mask_a[k] = 0.0, 0.0
