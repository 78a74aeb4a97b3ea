"""A network that multiplies and extrapolates: a sum of learned product terms.

Goel's network (Goel, 2020) multiplies through ``symexp(W2 symlog(W1 x))``; chapter 4 shows it
misses the test range by 7-28 % (8-40 % in the paper). This module keeps the paper's idea
(multiplication happens inside the network, and the network learns it end to end from ``(x, y)``
samples, with no formula given) and changes the four things that stop the pair short:

* **The layer multiplies exactly.** :class:`ProductSum` computes

  .. math:: y = s \\sum_k a_k \\prod_i |x_i|^{w_{ik}} \\cos\\big(\\pi \\sum_i w_{ik} [x_i < 0]\\big)

  as ``exp(W^T log|x|)``: a product unit (Durbin and Rumelhart, 1989) per term, with no ``+1`` offset
  (symlog's ``log(1 + x)`` turns a product into ``(1 + x1)(1 + x2) - 1``). The cosine is the sign of
  the product for integer exponents, as in the real NPU (Heim et al., 2020): ``cos(pi * n)`` is
  ``(-1)^n`` with ``n`` the number of negative inputs taken to an odd power, so ``x1 * x2`` keeps its
  sign where symexp(symlog) cannot. A sum of ``K`` terms covers polynomials such as
  ``x1 (x2 + x3) + x4 = x1 x2 + x1 x3 + x4`` and ratios (negative exponents).
* **The loss is scale-free.** Targets span seven decades between the training and the test range.
  MAE weights the largest targets most; :func:`relative_mse`, the mean of
  ``((y_pred - y) / (|y| + floor))^2``, weights every sample by its relative error, which is what
  the paper's percentage error measures. The small ``floor`` (1 % of the median ``|y|`` in
  :func:`fit`) keeps targets that cross zero (mixed-sign inputs) from dominating.
* **The parameters are conditioned.** The layer subtracts the mean of ``log|x|`` over the training
  data (a fixed, non-trainable centre) and divides the target by its geometric mean (a fixed scale),
  so the coefficients ``a_k`` are of order one and decoupled from the exponents, as
  :mod:`multlib.power_law` does for one term.
* **A recipe that finds the exact law.** :func:`fit` first tries the simplest model, one product
  term, and keeps it if it fits the training data to float32 round-off (rounded to integer
  exponents as below where that is confirmed, as learned otherwise): a monomial is then found in a
  fraction of the time, and a narrow training range cannot let a sum of wrong terms imitate it.
  Otherwise it trains ``restarts`` copies of the ``K``-term model at once (one vectorised
  computation) with Adam and a cosine-decaying rate on minibatches. It then *settles* every term
  whose exponents are all within ``snap_tolerance`` of integers (rounds them and freezes them),
  re-draws the other terms' exponents and trains again, for up to ``rounds`` rounds: the small
  terms of a sum (``x4`` is about 1 % of ``x1 (x2 + x3) + x4`` on the training range) are found
  once the large ones are fixed. Finally it rounds all exponents, merges terms with equal
  exponents, refits the coefficients (gradient steps, exponents frozen) and keeps the rounded model
  only if its training loss is no worse than the unrounded one's (times 2, or below ``1e-9``):
  rounding is a hypothesis the training data must confirm, not a formula given to the network.
  The restart with the lowest training loss wins; the test range is never looked at. The search
  itself (the vectorised trainer, settling, rounding) is in :mod:`multlib.term_search`.

Cost, measured by ``benchmarks/improved_model.py`` on one CPU core with 10,000 samples: about
0.2-0.4 s for a monomial, about 1.5 s for ``x1 (x2 + x3) + x4``, plus about 1 s once per process
to trace the training loop.

Two options, both off by default (and then the results are bit-for-bit those without them):

* **Ratios** (``denominator_terms=J``): the model becomes ``N(x) / (1 + D(x))``, ``N`` the usual sum
  of ``n_terms`` product terms and ``D`` a sum of ``J`` more (:class:`ProductRatio`; the 1 is exact,
  so any ratio of sums of products whose denominator has a term ``m0`` is covered, divided through
  by ``m0``). It is trained, settled and rounded like the sum (own ``tf.function``); terms merge only
  within ``N`` or within ``D``, a constant term of ``D`` is divided out, and the rounded model's
  coefficients are finished by float64 Gauss-Newton. ``D``'s coefficients start at ``0.1`` in all
  and are not constrained: restarts that cross a pole end with a non-finite or large loss and lose.
  On the Feynman ratios (1,000 samples, 2 seeds), ``n_terms=4, denominator_terms=2`` recovers 13 of
  14 fits of the 7 equations without a pole on the test box (the sum: 0 of 14, 3-85 % error) and
  2 of 14 of those with one, at about 2-6 s a fit (a shared two-core machine); monomials still take the simplest-first path.
  Its failure: a restart whose coefficients all grow (1e10 and up) so that the 1 stops mattering.
* **Selection** (``select=True``): backward elimination by BIC on the search's model, each removal
  refitting the other coefficients to their float64 optimum (:mod:`multlib.term_select` says why
  BIC). It keeps ``x4`` in ``x1 (x2 + x3) + x4`` without noise and drops the spurious small terms
  the search keeps under 1 % noise on sums of products (3.9 -> 2.9 terms on average, Feynman, 1,000
  samples); at 10 % noise, and on monomials whose targets span decades, the search's own terms are
  already wrong (the relative loss weights the noisiest small targets most) and selection cannot help.
  Its refits are float64 least squares, a small cost next to the search.

What it cannot do: exponents that are not integers are learned but not rounded; a single term such
as ``x1^0.5 * x2`` is still found to float32 round-off, but in a sum such exponents are only as good
as gradient descent gets. On a narrow training range such as ``[1.1, 1.2]``, sums of fractional
powers imitate a plain ``x2`` closely (``0.54 x2^0.5 + 0.47 x2^1.5`` is within 0.016 % of ``x2`` there
and 36 % off on ``[1.2, 6]``, Chapter 5a), so a *sum* can be imitated by several wrong terms that fit
the training data closely and extrapolate badly (``x1 x2 + x3`` there is missed on every
seed). :attr:`ImprovedFit.snapped` (False) and :attr:`ImprovedFit.train_loss` say when the law was
not recovered as integer exponents. Inputs equal to 0 are read as ``1e-30`` (``log 0`` is
``-inf``): fine for positive exponents, wrong for negative ones.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import keras
import numpy as np
from keras import ops

from multlib.data import check_positive_int
from multlib.reuse import Memo
from multlib.term_search import Problem, Recipe, search_terms
from multlib.training import TrainingDiverged  # noqa: F401  (fit raises it; kept importable from here)

__all__ = [
    "ProductSum",
    "ProductRatio",
    "build_model",
    "relative_mse",
    "Term",
    "ImprovedFit",
    "fit",
]

_TINY = 1e-30  # |x| below this is read as this: log(0) = -inf would poison the gradients
_LAYER_NAME = "product_sum"


# ------------------------------------------------------------------------------------ the layer


@keras.saving.register_keras_serializable(package="multlib")
class ProductSum(keras.layers.Layer):
    """``scale * sum_k a_k * prod_i |x_i|^w_ik * cos(pi * sum_i w_ik [x_i < 0])``; output ``(batch, 1)``.

    Weights: ``exponents`` ``(n_features, n_terms)`` and ``coefficients`` ``(n_terms,)`` are
    trainable; ``center`` ``(n_features,)`` (subtracted from ``log|x|``) and ``scale`` (multiplies
    the output) are fixed, set by :meth:`adapt` from the training data. They change how the weights
    are conditioned, not what the layer can express.
    """

    def __init__(self, n_terms: int = 4, init_std: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_terms = check_positive_int(n_terms, "n_terms")
        if not (isinstance(init_std, (int, float)) and init_std >= 0):
            raise ValueError(f"init_std must be a non-negative number, got {init_std!r}")
        self.init_std = float(init_std)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        d = input_shape[-1]
        k = self.n_terms
        self.exponents = self.add_weight(
            shape=(d, k), initializer=keras.initializers.RandomNormal(0.0, self.init_std), name="exponents"
        )
        self.coefficients = self.add_weight(
            shape=(k,), initializer=keras.initializers.Constant(1.0 / k), name="coefficients"
        )
        self.center = self.add_weight(shape=(d,), initializer="zeros", trainable=False, name="center")
        self.scale = self.add_weight(shape=(), initializer="ones", trainable=False, name="scale")

    def adapt(self, x: Any, y: Any) -> None:
        """Set ``center`` to the mean of ``log|x|`` and ``scale`` to the geometric mean of ``|y|``."""
        x, y = _check_xy(x, y, self.center.shape[0] if self.built else None)
        if not self.built:
            self.build(x.shape)
        log_x, _ = _log_sign(x)
        self.center.assign(log_x.mean(axis=0).astype(np.float32))
        self.scale.assign(np.float32(_geometric_scale(y)))

    def call(self, x: Any) -> Any:
        x = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        log_x = ops.log(ops.maximum(ops.abs(x), _TINY)) - self.center
        negative = ops.cast(x < 0, x.dtype)
        return self.scale * _sum_of_terms(log_x, negative, self.exponents, self.coefficients)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, int]:
        return (input_shape[0], 1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_terms": self.n_terms, "init_std": self.init_std}


def _sum_of_terms(log_x: Any, negative: Any, w: Any, a: Any) -> Any:
    """``sum_k a_k exp(log_x . w_k) cos(pi negative . w_k)`` as ``(batch, 1)``."""
    z = ops.matmul(log_x, w)
    sign = ops.cos(math.pi * ops.matmul(negative, w))
    return ops.matmul(ops.exp(z) * sign, ops.reshape(a, (-1, 1)))


@keras.saving.register_keras_serializable(package="multlib")
class ProductRatio(ProductSum):
    """``scale * N(x) / (1 + D(x))``: ``N`` is :class:`ProductSum`'s sum of ``n_terms`` product terms, ``D``
    a sum of ``denominator_terms`` more (weights ``den_exponents`` ``(n_features, J)`` and
    ``den_coefficients`` ``(J,)``, on the same centred ``log|x|``; not multiplied by ``scale``).

    The 1 is exact, so any ratio of two sums of products whose denominator has a term ``m0`` is
    covered (divide through by ``m0``). The denominator's coefficients start at 0: the layer then
    computes what :class:`ProductSum` does.
    """

    def __init__(self, n_terms: int = 4, denominator_terms: int = 1, init_std: float = 0.5, **kwargs: Any) -> None:
        super().__init__(n_terms, init_std, **kwargs)
        self.denominator_terms = check_positive_int(denominator_terms, "denominator_terms")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        super().build(input_shape)
        self.den_exponents = self.add_weight(
            shape=(input_shape[-1], self.denominator_terms),
            initializer=keras.initializers.RandomNormal(0.0, self.init_std), name="den_exponents")
        self.den_coefficients = self.add_weight(shape=(self.denominator_terms,), initializer="zeros",
                                                name="den_coefficients")

    def call(self, x: Any) -> Any:
        x = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        log_x = ops.log(ops.maximum(ops.abs(x), _TINY)) - self.center
        negative = ops.cast(x < 0, x.dtype)
        num = _sum_of_terms(log_x, negative, self.exponents, self.coefficients)
        return self.scale * num / (1.0 + _sum_of_terms(log_x, negative, self.den_exponents, self.den_coefficients))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "denominator_terms": self.denominator_terms}


def build_model(n_features: int, n_terms: int = 4, name: str | None = None, denominator_terms: int = 0) -> keras.Model:
    """A Keras model ``x -> ProductSum(n_terms)``: ``n_terms`` product terms of ``n_features`` inputs.

    With ``denominator_terms = J > 0`` the layer is a :class:`ProductRatio`, ``sum of n_terms terms /
    (1 + sum of J terms)``. Use it on your own data with :func:`relative_mse` as the loss after calling
    ``model.get_layer("product_sum").adapt(x, y)``; :func:`fit` does all that with the recipe that
    recovers exact laws. Output shape ``(batch, 1)``.
    """
    n_features = check_positive_int(n_features, "n_features")
    n_terms = check_positive_int(n_terms, "n_terms")
    j = denominator_terms
    if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or j < 0:
        raise ValueError(f"denominator_terms must be a non-negative integer, got {j!r}")
    layer = ProductRatio(n_terms, int(j), name=_LAYER_NAME) if j else ProductSum(n_terms, name=_LAYER_NAME)
    return keras.Sequential([keras.Input((n_features,)), layer],
                            name=name or f"product_sum_{n_features}x{n_terms}" + (f"_over_{j}" if j else ""))


@keras.saving.register_keras_serializable(package="multlib")
def relative_mse(y_true: Any, y_pred: Any, floor: float = 0.0) -> Any:
    """Mean of ``((y_pred - y) / (|y| + floor))^2``, both sides reshaped to ``(batch,)`` first.

    Scale-free: multiplying ``y`` and ``y_pred`` by any constant leaves it unchanged (with
    ``floor = 0``). ``y`` must be non-zero where ``floor`` is 0.
    """
    y_pred = ops.reshape(y_pred, (-1,))
    y_true = ops.cast(ops.reshape(y_true, (-1,)), y_pred.dtype)
    return ops.mean(ops.square((y_pred - y_true) / (ops.abs(y_true) + floor)))


# ------------------------------------------------------------------------------- the read-back


@dataclass(frozen=True)
class Term:
    """One product term: ``coefficient * prod_i x_i ** exponents[i]``."""

    coefficient: float
    exponents: tuple[float, ...]

    def format(self, names: Sequence[str], digits: int = 3) -> str:
        factors = [f"{n}^{w:.{digits}g}" for n, w in zip(names, self.exponents) if round(w, 12) != 0]
        return " * ".join([f"{self.coefficient:.{digits}g}", *factors])


@dataclass(eq=False)
class ImprovedFit:
    """The result of :func:`fit`: the trained Keras model and what its weights say.

    ``train_loss`` is the fit's loss on the training data (:func:`relative_mse` with the fit's
    floor, for the recommended ``loss="relative"``); ``snapped`` tells whether the integer-exponent
    model was kept; ``seconds`` is the wall time of the fit and ``steps`` the number of optimiser
    steps it took; ``history`` holds the per-restart training losses of each search.
    """

    model: keras.Model
    seconds: float
    steps: int
    train_loss: float
    snapped: bool
    restarts: int
    history: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_features(self) -> int:
        return int(self.model.inputs[0].shape[-1])

    @property
    def terms(self) -> list[Term]:
        """The non-zero (numerator) terms read from the weights, largest coefficient first (see :func:`read_terms`)."""
        return read_terms(self.model)

    @property
    def denominator(self) -> list[Term]:
        """The non-zero terms ``D`` of a ratio ``N / (1 + D)``; empty for a sum (see :func:`read_denominator`)."""
        return read_denominator(self.model)

    def formula(self, digits: int = 3, names: Sequence[str] | None = None) -> str:
        """The learned law as text, e.g. ``'1 * x1^1 * x2^1 + 1 * x4^1'`` or ``'(0.5 * x1^1) / (1 + 1 * x2^1)'``."""
        num = format_terms(self.terms, self.n_features, digits, names)
        den = self.denominator
        return f"({num}) / (1 + {format_terms(den, self.n_features, digits, names)})" if den else num

    def predict(self, x: Any) -> np.ndarray:
        """The model's output on ``x`` ``(n, n_features)``, as a float64 array of shape ``(n,)``."""
        return predict(self.model, x)


def read_terms(model: keras.Model) -> list[Term]:
    """Coefficients and exponents of a :func:`build_model` model, in float64, zero terms dropped.

    The coefficient of term ``k`` is ``scale * a_k * exp(-w_k . center)``: the centre is folded back
    so that the term reads ``c_k * prod_i x_i^w_ik`` on the raw inputs.
    """
    layer = _layer(model)
    return _terms(layer.exponents, layer.coefficients, layer.center, float(layer.scale.numpy()))


def read_denominator(model: keras.Model) -> list[Term]:
    """The denominator terms ``D`` of a ratio model (``y = N / (1 + D)``), as :func:`read_terms` reads ``N``.

    Their coefficients fold the centre back in but not the scale (the 1 has none); ``[]`` for a sum.
    """
    layer = _layer(model)
    if not isinstance(layer, ProductRatio):
        return []
    return _terms(layer.den_exponents, layer.den_coefficients, layer.center, 1.0)


def _terms(exponents: Any, coefficients: Any, center: Any, scale: float) -> list[Term]:
    w = np.asarray(exponents.numpy(), dtype=np.float64)
    a = np.asarray(coefficients.numpy(), dtype=np.float64)
    center = np.asarray(center.numpy(), dtype=np.float64)
    coef = scale * a * np.exp(-(center @ w))
    terms = [Term(float(c), tuple(float(v) for v in w[:, k])) for k, c in enumerate(coef) if a[k] != 0]
    # Largest first; equal coefficients (to 6 digits) in the order x1 before x2 before x3.
    return sorted(terms, key=lambda t: (-float(f"{abs(t.coefficient):.6g}"), tuple(-e for e in t.exponents)))


def format_terms(terms: Sequence[Term], n_features: int, digits: int = 3, names: Sequence[str] | None = None) -> str:
    """``terms`` as ``'c1 * x1^w11 * ... + c2 * ...'`` (``'0'`` for none); zero exponents are left out."""
    digits = check_positive_int(digits, "digits")
    names = list(names) if names is not None else [f"x{i + 1}" for i in range(n_features)]
    if len(names) != n_features:
        raise ValueError(f"names must hold {n_features} name(s), got {len(names)}")
    return " + ".join(t.format(names, digits) for t in terms) or "0"


def predict(model: keras.Model, x: Any, batch_size: int = 65536) -> np.ndarray:
    """Run a :func:`build_model` model on ``x``; returns float64 ``(n,)`` (no ``model.predict`` overhead)."""
    layer = _layer(model)
    x = _check_x(x, int(layer.center.shape[0]))
    out = [np.asarray(ops.convert_to_numpy(model(x[i : i + batch_size])), dtype=np.float64).reshape(-1)
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out)


def _layer(model: keras.Model) -> ProductSum:
    try:
        layer = model.get_layer(_LAYER_NAME)
    except ValueError:
        layer = None
    if not isinstance(layer, ProductSum):
        raise ValueError(f"model must be built by build_model(), got {getattr(model, 'name', model)!r}")
    return layer


# -------------------------------------------------------------------------------------- checks


def _check_x(x: Any, n_features: int | None = None) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"x must be 2-D (samples, features) with at least one row, got shape {x.shape}")
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(f"x must have {n_features} column(s), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x must be finite; {int(np.sum(~np.isfinite(x)))} value(s) are NaN or infinite")
    return x.astype(np.float32)


def _check_xy(x: Any, y: Any, n_features: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    x = _check_x(x, n_features)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have shape ({x.shape[0]},) to match x, got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"y must be finite; {int(np.sum(~np.isfinite(y)))} value(s) are NaN or infinite")
    if not np.any(y != 0):
        raise ValueError("y must not be all zero (a relative error needs a scale)")
    return x, y


def _log_sign(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = x.astype(np.float64)
    return np.log(np.maximum(np.abs(x), _TINY)), (x < 0).astype(np.float64)


def _geometric_scale(y: np.ndarray) -> float:
    nonzero = np.abs(y[y != 0])
    return float(np.exp(np.mean(np.log(nonzero))))


# ----------------------------------------------------------------------------------- the recipe


def fit(
    x: Any,
    y: Any,
    *,
    n_terms: int = 4,
    seed: int = 0,
    steps: int = 800,
    rounds: int = 3,
    restarts: int = 8,
    batch_size: int = 256,
    learning_rate: float = 0.05,
    refit_steps: int = 300,
    snap: bool = True,
    snap_tolerance: float = 0.1,
    floor: float = 0.01,
    init_std: float = 0.5,
    loss: str = "relative",
    simplest_first: bool = True,
    denominator_terms: int = 0,
    select: bool = False,
    memo: Memo | None = None,
) -> ImprovedFit:
    """Fit a sum of ``n_terms`` product terms to ``(x, y)`` with the recipe in the module docstring.

    Args:
        x: ``(n, d)`` inputs, any sign; ``y``: ``(n,)`` targets, not all zero.
        n_terms: product terms per model (more than the law needs is fine: unused ones go to 0).
        seed: seeds the initial exponents and the minibatch draws.
        steps: Adam steps per round; ``rounds``: at most this many train-and-settle rounds
            (one round only when ``snap`` is False).
        restarts: models trained at once from different initial exponents; the best on the
            training loss is kept.
        batch_size, learning_rate: minibatch size and Adam's peak rate (cosine decay each round).
        refit_steps: steps to refit the coefficients once the exponents are rounded.
        snap: try integer exponents at all; ``snap_tolerance``: how close to an integer an
            exponent must be to settle its term between rounds.
        floor: the loss's denominator is ``|y| + floor * median|y|`` (in units of the scale).
        init_std: standard deviation of the initial exponents.
        loss: ``"relative"`` (the recipe: :func:`relative_mse` with the floor), or, to measure what
            the loss buys, ``"mae"`` (mean absolute error, the paper's loss) or ``"mse"`` (mean
            squared error), both on the target divided by its geometric mean.
        simplest_first: first try a single product term (one round); keep it if it fits the
            training data to round-off, else run the full ``n_terms`` search.
        denominator_terms: ``J``; with ``J > 0`` the full search fits ``(sum of n_terms terms) /
            (1 + sum of J terms)``, a :class:`ProductRatio` (0: the sum, exactly as without it).
        select: after the search, remove terms by backward elimination while the BIC does not
            rise (:mod:`multlib.term_select`); for noisy data. Needs a squared loss.
        memo: a :class:`multlib.reuse.Memo` in which the searches are kept and from which an earlier
            fit's searches on the same data and settings are reused (with or without ``select``,
            with or without a denominator); the fit is the same as without it.

    Raises ``ValueError`` naming a bad argument, and :class:`TrainingDiverged` if every restart's
    training loss ends NaN or infinite.
    """
    t_start = time.perf_counter()
    recipe = Recipe(n_terms=n_terms, seed=seed, steps=steps, rounds=rounds, restarts=restarts, batch_size=batch_size,
                    learning_rate=learning_rate, refit_steps=refit_steps, snap=snap, snap_tolerance=snap_tolerance,
                    floor=floor, init_std=init_std, loss=loss, simplest_first=simplest_first,
                    denominator_terms=denominator_terms, select=select)
    x, y = _check_xy(x, y)
    model = build_model(x.shape[1], recipe.n_terms, denominator_terms=recipe.denominator_terms)
    layer = _layer(model)
    layer.adapt(x, y)
    found = search_terms(_training_problem(x, y, layer, recipe), recipe, memo)
    k = recipe.n_terms
    layer.exponents.assign(found.exponents[:, :k].astype(np.float32))
    layer.coefficients.assign(found.coefficients[:k].astype(np.float32))
    if isinstance(layer, ProductRatio):
        layer.den_exponents.assign(found.exponents[:, k:].astype(np.float32))
        layer.den_coefficients.assign(found.coefficients[k:].astype(np.float32))
    return ImprovedFit(model=model, seconds=time.perf_counter() - t_start, steps=found.steps, train_loss=found.loss,
                       snapped=found.snapped, restarts=recipe.restarts, history=found.history)


def _training_problem(x: np.ndarray, y: np.ndarray, layer: ProductSum, recipe: Recipe) -> Problem:
    """The data as the trainer sees them: centred ``log|x|``, signs, ``y / scale``, the loss's weights."""
    center = np.asarray(layer.center.numpy(), dtype=np.float64)
    scale = float(layer.scale.numpy())
    log_x, negative = _log_sign(x)
    target = y / scale
    if recipe.loss == "relative":
        weight = 1.0 / (np.abs(target) + recipe.floor * np.median(np.abs(target)))
    else:  # absolute errors of the scaled target: every sample weighs the same
        weight = np.ones_like(target)
    return Problem(log_x=log_x - center, negative=negative, target=target, weight=weight)
