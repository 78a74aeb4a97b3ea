"""Symbolic regression with Operon: search formulas, not weights (an optional extra, ``pip install 'multlib[sr]'``).

The networks of this book learn weights and hope that they encode a product. Symbolic regression
searches the space of formulas themselves: genetic programming breeds expression trees over ``+ - * /``,
the inputs and constants, and keeps those that fit the training data with the fewest symbols. A found
law extrapolates because it *is* the law. :func:`fit` runs Operon (Burlacu, Kronberger and Kommenda,
2020), through its scikit-learn interface ``pyoperon.sklearn.SymbolicRegressor``, with :data:`RECIPE`:

* Operon tunes every constant of every candidate by Levenberg-Marquardt (``optimizer_iterations``) and
  fits a scale and an intercept by least squares; a law such as ``G*m1*m2/r**2`` with ``G = 6.674e-11``
  needs both. It is deterministic for a ``random_state`` on one thread.
* The fit is made on ``y / std(y)`` and the expression rescaled back: on raw targets of order ``1e-11``
  the search fails (Operon computes in float32). Operon leaves tiny spurious terms, such as an
  intercept of ``-4.6e-10``; :func:`fit` drops every additive term that is negligible on the training
  data and keeps the pruned expression only if its training error stays at round-off level
  (:data:`PRUNE_TOLERANCE`).
* The predictor evaluates the returned sympy expression in float64 (``sympy.lambdify``), so that
  :attr:`SymbolicFit.expression`, :meth:`SymbolicFit.formula` and :meth:`SymbolicFit.predict` are one model.

Rejected: gplearn (no constant optimisation: ``6.674e-11`` or ``1/(4*pi)`` must be bred from random
constants, and it is not) and PySR (it downloads Julia at import and fails offline, as the book's
builds are).

The budget (about 0.5 s per fit on one core) was chosen by measuring 15 Feynman equations of
:mod:`multlib.feynman`: see :data:`RECIPE`. Deterministic for a seed on one thread.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = ["RECIPE", "PRUNE_TOLERANCE", "INSTALL_HINT", "available", "SymbolicFit", "fit", "same_law"]

INSTALL_HINT = "symbolic regression needs pyoperon and sympy: pip install 'multlib[sr]'"

RECIPE: dict[str, Any] = {
    # Only what a product, a ratio or a sum of products needs: a smaller space is searched faster.
    "allowed_symbols": "add,sub,mul,div,constant,variable",
    # Trees per generation, and the budget: a run stops at the first of generations or evaluations.
    "population_size": 500,
    "generations": 200,
    "max_evaluations": 25_000,
    # Levenberg-Marquardt steps on each candidate's constants: G = 6.674e-11 is tuned, not bred.
    "optimizer_iterations": 10,
    # Two objectives (NSGA-II): fit and size, so that the exact short law beats a long imitation.
    "objectives": ["r2", "length"],
    # Nodes per tree: a monomial of eight factors takes 15, so the laws measured fit; short trees are fast.
    "max_length": 25,
    # One thread: deterministic for a seed, and the studies run one method per core.
    "n_threads": 1,
}
"""The settings of ``pyoperon.sklearn.SymbolicRegressor`` (``random_state`` is the fit's seed).

The budget, measured on 15 Feynman equations (:func:`multlib.feynman.equation_problems`, seed 0, 1,000
training rows; 11 monomials, 2 sums of products, 2 ratios), CPU seconds per fit on one core, and fits
with a mean relative test error below 1e-5 on ``[high, 5*high]``::

    population  evaluations  s/fit  solved  monomials  sums  ratios
           500       25,000   0.49    9/15       7/11   1/2     1/2
          1000       25,000   0.40    6/15       5/11   0/2     1/2
           500       50,000   1.12    9/15       7/11   1/2     1/2
          1000       50,000   0.95   10/15       8/11   1/2     1/2
          1000      100,000   2.25   10/15       8/11   1/2     1/2

(5 LM iterations instead of 10 at 500/25,000: 8/15; 750/35,000: 8/15.) Never solved: larmor_power
and hydrogen_energy (long monomials), sound_speed (a square root, outside ``+ - * /``),
kinetic_energy_3d and center_of_mass. Chosen: 500 and 25,000, half a second per fit, so that 59
equations x 5 seeds x 5 noise levels take about 12 CPU minutes; 1000 and 50,000 solve one more
equation here for twice the time. Every solved fit is also the exact law by :func:`same_law`.
"""

PRUNE_TOLERANCE = 1e-6
"""A pruned expression is kept when its mean relative training error is at most twice the unpruned
one's or below this (float32 round-off, Operon's own precision, is about 1e-7)."""

_OVERRIDABLE = ("allowed_symbols", "population_size", "generations", "max_evaluations", "optimizer_iterations",
                    "objectives", "max_length", "n_threads", "max_time")


def available() -> bool:
    """Whether pyoperon and sympy can be imported (neither imports TensorFlow)."""
    try:
        import pyoperon.sklearn  # noqa: F401
        import sympy  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class SymbolicFit:
    """A formula found by :func:`fit`: ``expression`` (sympy, in the original units of ``x`` and ``y``)."""

    expression: Any
    names: tuple[str, ...]
    seconds: float
    train_error: float
    """The mean relative error on the training data (``inf`` where a target is 0)."""
    _fn: Callable[..., Any] = field(repr=False, compare=False)

    def predict(self, x: Any) -> np.ndarray:
        """The formula on ``x`` ``(n, n_features)``, as a float64 array of shape ``(n,)``."""
        x = _check_x(x, len(self.names))
        return _evaluate(self._fn, x)

    def formula(self, digits: int = 3) -> str:
        """The formula as text with its numbers rounded to ``digits`` significant digits, e.g. ``'2.0*x1*x2/x3'``."""
        if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
            raise ValueError(f"digits must be a positive integer, got {digits!r}")
        import sympy

        def rounded(f: Any) -> Any:
            value = float(f"{float(f):.{digits}g}")
            return sympy.Integer(int(value)) if value.is_integer() else sympy.Float(value)

        return str(self.expression.xreplace({f: rounded(f) for f in self.expression.atoms(sympy.Float)}))


def _check_x(x: Any, d: int | None) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0 or (d is not None and x.shape[1] != d):
        raise ValueError(f"x must be a non-empty (n, {d or 'n_features'}) array, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x must be finite, got {int(np.sum(~np.isfinite(x)))} non-finite value(s)")
    return x


def _evaluate(fn: Callable[..., Any], x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        out = np.asarray(fn(*x.T), dtype=np.float64)
    out = np.broadcast_to(out, (len(x),)).copy()  # a constant formula gives one number
    return np.where(np.isfinite(out), out, np.nan)


def _train_error(fn: Callable[..., Any], x: np.ndarray, y: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        err = float(np.mean(np.abs(_evaluate(fn, x) - y) / np.abs(y)))
    return err if math.isfinite(err) else math.inf


def _prune(expr: Any, symbols: Sequence[Any], x: np.ndarray, y: np.ndarray) -> Any:
    """Drop additive terms that are negligible on the training data while the training error allows it."""
    import sympy

    def error(e: Any) -> float:
        return _train_error(sympy.lambdify(symbols, e, "numpy"), x, y)

    best = error(expr)
    changed = True
    while changed:
        changed = False
        for add in sorted(expr.atoms(sympy.Add), key=sympy.count_ops):
            total = np.abs(_evaluate(sympy.lambdify(symbols, add, "numpy"), x))
            for term in add.args:
                size = np.abs(_evaluate(sympy.lambdify(symbols, term, "numpy"), x))
                if not np.max(size) < 1e-3 * np.max(total):
                    continue
                candidate = expr.xreplace({add: add - term})
                err = error(candidate)
                if err <= max(2 * best, PRUNE_TOLERANCE):
                    expr, best, changed = candidate, min(err, best), True
                    break
            if changed:
                break
    return expr


def fit(x: Any, y: Any, *, seed: int = 0, names: Sequence[str] | None = None,
        recipe: Mapping[str, Any] | None = None) -> SymbolicFit:
    """Search a formula ``y = f(x)`` with Operon and :data:`RECIPE` (entries of ``recipe`` override it).

    ``x`` is ``(n, n_features)``, ``y`` ``(n,)``; ``names`` name the inputs in the expression (default
    ``x1, x2, ...``). Raises ``ImportError`` (:data:`INSTALL_HINT`) when pyoperon or sympy is missing.
    """
    x = _check_x(x, None)
    y = np.asarray(y, dtype=np.float64)
    if y.shape not in ((len(x),), (len(x), 1)):
        raise ValueError(f"y must hold one value per row of x, shape ({len(x)},), got {y.shape}")
    y = y.reshape(-1)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"y must be finite, got {int(np.sum(~np.isfinite(y)))} non-finite value(s)")
    if not np.any(y):
        raise ValueError("y must not be all zeros (there is no scale to fit)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    d = x.shape[1]
    names = tuple(f"x{i + 1}" for i in range(d)) if names is None else tuple(names)
    if len(names) != d or not all(isinstance(n, str) and n for n in names) or len(set(names)) != d:
        raise ValueError(f"names must be {d} distinct non-empty strings, got {names!r}")
    unknown = set(recipe or {}) - set(_OVERRIDABLE)
    if unknown:
        raise ValueError(f"recipe may set {_OVERRIDABLE}, got {sorted(unknown)}")
    if not available():
        raise ImportError(INSTALL_HINT)
    import sympy
    from pyoperon.sklearn import SymbolicRegressor

    t0 = time.perf_counter()
    scale = float(np.std(y)) or float(np.max(np.abs(y)))
    model = SymbolicRegressor(**{**RECIPE, **(recipe or {})}, random_state=int(seed))
    model.fit(x, y / scale)
    # Operon's own names are x1..xd, whatever the user's: names such as lambda or I would not parse.
    internal = [f"x{i + 1}" for i in range(d)]
    text = model.get_model_string(model.model_, precision=20, names=internal)
    parsed = sympy.sympify(text, locals={n: sympy.Symbol(n) for n in internal})
    symbols = [sympy.Symbol(n) for n in names]
    expr = (scale * parsed).xreplace(dict(zip((sympy.Symbol(n) for n in internal), symbols)))
    expr = _prune(expr, symbols, x, y)  # sympy distributes the scale over a sum: an intercept is a term
    fn = sympy.lambdify(symbols, expr, "numpy")
    # A ratio reads best with a monic denominator, -0.529*Y/(-1.06*sigma - 1.06) -> 0.5*Y/(sigma + 1),
    # where that is no longer than Operon's form (a sum over one common denominator would be).
    num, den = sympy.fraction(sympy.cancel(expr))
    if den.is_Add:
        lead = sympy.Poly(den, *symbols).LC()
        tidy = sympy.expand(num / lead) / sympy.expand(den / lead)
        tidy_fn = sympy.lambdify(symbols, tidy, "numpy")
        if sympy.count_ops(tidy) <= sympy.count_ops(expr) and (
                _train_error(tidy_fn, x, y) <= max(2 * _train_error(fn, x, y), PRUNE_TOLERANCE)):
            expr, fn = tidy, tidy_fn
    return SymbolicFit(expr, names, time.perf_counter() - t0, _train_error(fn, x, y), fn)


def same_law(expression: Any, truth: Any, variables: Sequence[str], rtol: float = 1e-6) -> bool:
    """Whether ``expression`` is the law ``truth`` (sympy, or text such as ``"q1*q2/(4*pi*epsilon*r**2)"``).

    Both are written over one fraction, ``expression / truth = N / D``; they are the same law when every
    coefficient of the expanded ``N - D`` is within ``rtol`` of the largest coefficient of ``D``: a
    monomial's constant is then right to ``rtol``, and so is every coefficient of a sum or a ratio.
    """
    import sympy

    if not (isinstance(rtol, (int, float)) and 0 <= rtol < 1):
        raise ValueError(f"rtol must be a number in [0, 1), got {rtol!r}")
    symbols = {v: sympy.Symbol(v) for v in variables}

    def as_expr(e: Any, what: str) -> Any:
        if not isinstance(e, str):
            return sympy.sympify(e)
        # Parse with placeholder names: a variable such as lambda, I or gamma would not parse as itself.
        placeholders = {v: sympy.Symbol(f"_v{k}") for k, v in enumerate(variables)}
        for v in sorted(variables, key=len, reverse=True):
            e = re.sub(rf"(?<![\w.]){re.escape(v)}(?!\w)", f"_v{list(variables).index(v)}", e)
        try:
            parsed = sympy.parse_expr(e, local_dict={**{str(s): s for s in placeholders.values()}, "pi": sympy.pi})
        except (SyntaxError, TypeError, sympy.SympifyError) as err:
            raise ValueError(f"{what} must be a formula over {tuple(variables)}, got {e!r} ({err})") from None
        return parsed.xreplace({s: symbols[v] for v, s in placeholders.items()})

    e, t = as_expr(expression, "expression"), as_expr(truth, "truth")
    stray = (e.free_symbols | t.free_symbols) - set(symbols.values())
    if stray:
        raise ValueError(f"expression and truth must use only {tuple(variables)}, got {sorted(map(str, stray))}")
    if t == 0:
        raise ValueError("truth must not be 0")
    num, den = sympy.fraction(sympy.together(e / t.evalf(30)))
    den = sympy.expand(den)
    diff = sympy.expand(num - den)
    if diff == 0:
        return True
    size = max(abs(complex(c)) for c in den.as_coefficients_dict().values())
    return all(abs(complex(c)) <= rtol * size for c in diff.as_coefficients_dict().values())
