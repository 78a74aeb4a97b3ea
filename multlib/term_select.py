"""Model selection for :func:`multlib.improved.fit` (``select=True``): backward elimination of product terms.

Under noise the search keeps small spurious terms: with exponents free to fit the noise, an extra
term always lowers the training loss a little. :func:`select_terms` takes the search's model (its
exponents fixed) and repeatedly tries removing each term, refitting the others' coefficients to
their float64 optimum (:func:`refit_coefficients`); it removes the term whose removal raises the
training loss least, as long as the Bayesian information criterion

.. math:: \\mathrm{BIC} = n \\log L + p \\log n

(``L`` the training loss, ``p`` the number of non-zero terms, ``n`` the number of samples) does not
rise, i.e. while ``L_new <= L_old * n^(1/n)`` (``1 + 0.69 %`` for ``n = 1000``). Why BIC: for a
Gaussian error with a common variance, ``n log L`` is the log-likelihood up to a constant, and
``log n`` per term is a penalty that grows with ``n``, so a spurious term survives with a
probability that falls with the sample size (a chi-square with one degree of freedom above
``log n``: about 1 % at ``n = 1000``), while a true term, even one worth 1 % of ``y``, raises the
loss of a noiseless fit by orders of magnitude when it is removed. (AIC's fixed penalty of 2 keeps a
spurious term about 16 % of the time at any ``n``.) A relative loss is not a Gaussian likelihood
exactly; the criterion is used for what it measures, not as a probability.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from multlib.term_trainer import float64_loss, term_values

__all__ = ["select_terms", "refit_coefficients", "bic"]

_GN_STEPS = 20  # Gauss-Newton steps for a ratio's coefficients (the sum's are one least-squares solve)


def bic(loss: float, p: int, n: int) -> float:
    """``n log(loss) + p log(n)`` (``loss`` floored at ``1e-300`` so that an exact fit stays finite)."""
    return n * math.log(max(loss, 1e-300)) + p * math.log(n)


def refit_coefficients(w: np.ndarray, active: np.ndarray, den: np.ndarray | None, log_x: np.ndarray, neg: np.ndarray,
                       t: np.ndarray, inv: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, float]:
    """The coefficients of the ``active`` terms that minimise the squared weighted loss, and that loss.

    A sum is linear in its coefficients: one float64 weighted least-squares solve gives the optimum.
    A ratio ``N / (1 + D)`` is not: Gauss-Newton from ``start``, each step kept only if it lowers the
    loss (halved otherwise). Inactive terms get coefficient 0. The loss is ``inf`` where the refit's
    ``1 + D`` changes sign on the training data (a pole inside the training range).
    """
    v = term_values(w, np.ones(w.shape[1]), log_x, neg)
    is_den = np.zeros(w.shape[1], bool) if den is None else den == 1
    num, dd = active & ~is_den, active & is_den
    a = np.zeros(w.shape[1])
    sol, *_ = np.linalg.lstsq(inv[:, None] * v[:, num], inv * t, rcond=None)
    a[num] = sol
    if not dd.any():
        return a, float64_loss(w, a, log_x, neg, t, inv, False)

    def residual(c: np.ndarray) -> np.ndarray:
        one_plus_d = 1.0 + v[:, dd] @ c[dd]
        return np.where(np.all(one_plus_d > 0) | np.all(one_plus_d < 0), inv * (v[:, num] @ c[num] / one_plus_d - t),
                        np.inf)

    a = np.where(active, start, 0.0)
    best = float(np.mean(np.square(residual(a))))
    for _ in range(_GN_STEPS):
        one_plus_d = 1.0 + v[:, dd] @ a[dd]
        pred = v[:, num] @ a[num] / one_plus_d
        jac = inv[:, None] * np.concatenate([v[:, num] / one_plus_d[:, None], -pred[:, None] * v[:, dd]
                                             / one_plus_d[:, None]], axis=1)
        step, *_ = np.linalg.lstsq(jac, -residual(a), rcond=None)
        full = np.zeros_like(a)
        full[num], full[dd] = step[: num.sum()], step[num.sum():]
        for scale in (1.0, 0.5, 0.25, 0.125):
            trial = a + scale * full
            loss = float(np.mean(np.square(residual(trial))))
            if np.isfinite(loss) and loss < best:
                a, best = trial, loss
                break
        else:
            break
    return a, best


def select_terms(found: Any, log_x: np.ndarray, neg: np.ndarray, t: np.ndarray, inv: np.ndarray) -> Any:
    """Backward elimination by BIC on ``found`` (a :class:`multlib.term_search.Found`), exponents fixed.

    Starts from the optimal coefficients of ``found``'s non-zero terms, keeps at least one numerator
    term, and records the steps in ``history["selection"]`` (the loss and term count after each).
    """
    w, den, n = found.exponents, found.den, len(t)
    is_den = np.zeros(w.shape[1], bool) if den is None else den == 1
    active = found.coefficients != 0
    a, loss = refit_coefficients(w, active, den, log_x, neg, t, inv, found.coefficients)
    if not loss <= found.loss:  # the refit can only help; a ratio's Gauss-Newton may stall
        a, loss = np.where(active, found.coefficients, 0.0), found.loss
    steps = [(int(active.sum()), loss)]
    while True:
        tries = []
        for k in np.flatnonzero(active):
            fewer = active.copy()
            fewer[k] = False
            if not (fewer & ~is_den).any():
                continue
            tries.append((k, fewer, *refit_coefficients(w, fewer, den, log_x, neg, t, inv, a)))
        if not tries:
            break
        k, fewer, a_new, loss_new = min(tries, key=lambda c: c[3])
        if not bic(loss_new, int(fewer.sum()), n) <= bic(loss, int(active.sum()), n):
            break
        active, a, loss = fewer, a_new, loss_new
        steps.append((int(active.sum()), loss))
    history = {**found.history, "selection": steps}
    return replace(found, coefficients=np.where(active, a, 0.0), loss=float(loss), history=history)
