"""Every way of multiplying in this book, as a method with its recommended recipe.

A *method* learns a function from ``(x, y)`` samples: ``METHODS[name].fit_many(problems)`` trains one
model per :class:`~multlib.problems.Problem` (all at once where the method can) and returns one
predictor ``x -> y`` per problem, or the exception that stopped that fit in its place
(:class:`~multlib.problems.NotApplicable`, :class:`~multlib.training.TrainingDiverged`). The
studies (:mod:`multlib.compare`, :mod:`multlib.ranking`) and :func:`multlib.compare.evaluate` all
train through this registry, so a method is defined once:

* ``power_law``: least squares on log features (Chapter 2);
* ``relu_mlp``: the blog's 80-ReLU network (Chapter 1);
* ``paper``: Goel's symlog/symexp network with Chapter 4's recipe;
* ``improved``: Chapter 5a's sum of product terms (:mod:`multlib.improved`); ``improved_select`` adds
  model selection (the fewest terms the training data justify, for noisy data) and ``improved_ratio``
  learns a ratio of two sums of product terms (Chapter 7);
* ``product_unit``, ``nalu``, ``nau_nmu``, ``npu``, ``realnpu``: the arithmetic units of
  :mod:`multlib.units`, each in the small network of its own paper (Chapter 5b);
* ``symbolic_regression``: Operon's search over formulas (:mod:`multlib.symbolic`), an optional extra
  (``pip install 'multlib[sr]'``); without pyoperon every fit is :class:`NotApplicable`.

A new method is one adapter ``fit_many(problems) -> predictors`` and one entry in :data:`METHODS`.
Methods that do the same work on the same data do it once per process (:mod:`multlib.reuse`): the
improved network's variants share its search, and ``npu`` on inputs that are all ``>= 0`` is trained
as, and shares the stack of, ``realnpu``. :attr:`Method.shares` and :attr:`Method.independent` tell
:func:`multlib.compare.score_fits` which methods to run together and which to split across workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import keras
import numpy as np

from multlib import activations, improved, reuse, symbolic, units
from multlib.fused import FusedPaperModels
from multlib.models import relu_mlp
from multlib.parallel import train_parallel
from multlib.power_law import fit_power_law
from multlib.problems import NotApplicable, Problem
from multlib.training import TrainingDiverged, cosine_schedule, seed_everything

__all__ = ["Predictor", "Method", "METHODS", "UNIT_STEPS", "fit_predictors"]

Predictor = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Method:
    """A way to learn a function from samples, with its recommended recipe.

    ``fit_many(problems)`` trains one model per problem (all at once where the method can) and
    returns one predictor per problem, or an exception instance in its place when that fit could not
    be made (:class:`NotApplicable`, or :class:`multlib.training.TrainingDiverged`).
    """

    name: str
    description: str
    fit_many: Callable[[Sequence[Problem]], list[Predictor | Exception]] = field(repr=False)
    independent: bool = False
    """Whether each fit depends on its own problem alone (one after another, not trained as one
    stack), so that :func:`multlib.compare.score_fits` may split the problems across workers."""
    shares: str = ""
    """Methods with the same non-empty label reuse each other's work in one process
    (:mod:`multlib.reuse`), so :func:`multlib.compare.score_fits` runs them together."""


def _keras_predictor(model: Any, x_scale: float = 1.0, y_scale: float = 1.0) -> Predictor:
    def predict(xs: np.ndarray) -> np.ndarray:
        # A direct call in blocks of 4096 rows, not model.predict: predict builds and traces a new
        # tf.function for every model, about 0.1 s each, which made scoring 185 small models cost
        # more than training them.
        x = np.asarray(xs, np.float32) / np.float32(x_scale)
        parts = [keras.ops.convert_to_numpy(model(x[i:i + 4096], training=False)) for i in range(0, len(x), 4096)]
        return y_scale * np.concatenate(parts).astype(np.float64).reshape(-1)

    return predict


def _diverged(step: int | None) -> Exception:
    return TrainingDiverged("training diverged" + (f" at step {step}" if step else ""))


def _fit_power_law(problems: Sequence[Problem]) -> list[Predictor | Exception]:
    out: list[Predictor | Exception] = []
    for p in problems:
        try:
            out.append(fit_power_law(p.x, p.y).predict)
        except ValueError as err:  # a log of a non-positive input or target
            out.append(NotApplicable(str(err)))
    return out


def _fit_relu(problems: Sequence[Problem]) -> list[Predictor | Exception]:
    """The blog's 80-ReLU network on inputs and targets scaled by their largest training magnitude."""
    steps, batch = 4000, 128
    nets, data, scales = [], [], []
    for p in problems:
        seed_everything(p.seed)
        nets.append(relu_mlp(p.x.shape[1], 80))
        sx, sy = float(np.max(np.abs(p.x))), float(np.max(np.abs(p.y)))
        scales.append((sx, sy))
        data.append((p.x / sx, p.y / sy))
    # cosine_schedule(lr, n, batch, epochs) decays over n / batch * epochs steps: here exactly `steps`.
    schedule = cosine_schedule(3e-3, steps * batch, batch, 1)
    result = train_parallel(nets, data, steps=steps, batch_size=batch, learning_rate=schedule, seed=problems[0].seed)
    return [_keras_predictor(net, sx, sy) if result.diverged_at[k] is None else _diverged(result.diverged_at[k])
            for k, (net, (sx, sy)) in enumerate(zip(nets, scales))]


def _fit_paper(problems: Sequence[Problem]) -> list[Predictor | Exception]:
    """Goel's symlog/symexp network with the recipe of Chapter 4: MAE, Adam 1e-3, batch 32, 100 epochs."""
    d = max(p.x.shape[1] for p in problems)
    n = min(len(p.x) for p in problems)
    fused = FusedPaperModels([("symlog", "symexp")] * len(problems), [p.x.shape[1] for p in problems],
                             seeds=[p.seed for p in problems], input_dim=d)
    x = np.zeros((len(problems), n, d), np.float32)
    for k, p in enumerate(problems):
        x[k, :, : p.x.shape[1]] = p.x[:n]
    y = np.stack([p.y[:n] for p in problems]).astype(np.float32)
    fused.fit(x, y, epochs=100, batch_size=32, learning_rate=1e-3)
    diverged = fused.diverged

    def predictor(k: int) -> Predictor:
        # Member k alone, from its own weights: the stack's predict runs every member on every call,
        # which made scoring M fits cost M times M forward passes (most of this method's time).
        w1, b1, w2, b2, w3, b3 = fused.get_member_weights(k)

        def predict(xs: np.ndarray) -> np.ndarray:
            h = activations.symlog(np.asarray(xs, np.float32) @ w1 + b1)
            h = activations.symexp(h @ w2 + b2)
            return (h @ w3 + b3).astype(np.float64).reshape(-1)

        return predict

    return [predictor(k) if not diverged[k] else _diverged(None) for k in range(len(problems))]


def _unit_network(kind: str, n_features: int) -> Any:
    """The small network each arithmetic unit's own paper uses for arithmetic on a few inputs."""
    layers = {
        # Durbin and Rumelhart: product units feeding a summing output unit.
        "product_unit": lambda: [units.ProductUnit(2), keras.layers.Dense(1)],
        # Trask et al.'s static arithmetic tests: two stacked NALUs.
        "nalu": lambda: [units.NALU(2), units.NALU(1)],
        # Madsen and Johansen: an NAU selects (and scales) the inputs, an NMU multiplies them.
        "nau_nmu": lambda: [units.NAU(n_features), units.NMU(1)],
        # Heim et al.: an NPU (or RealNPU) layer followed by an NAU.
        "npu": lambda: [units.NPU(2), units.NAU(1)],
        "realnpu": lambda: [units.RealNPU(2), units.NAU(1)],
    }[kind]()
    return keras.Sequential([keras.Input((n_features,)), *layers], name=kind)


UNIT_STEPS = 20_000
"""Adam steps (batch 128, learning rate 1e-3) for every arithmetic unit: the budget of the units' own
settings in ``benchmarks/units_own_settings.py``, where NAU -> NMU solves ``x1 * x2`` in a median
16,000 steps and RealNPU in 15,500 (a lone NMU needs 3,000). The final weights are scored."""


_UNIT_RUNS = reuse.Memo(capacity=2)
"""The last trained stacks of units, so that ``npu`` reuses ``realnpu``'s (see :func:`_fit_unit`)."""


def _fit_unit(kind: str) -> Callable[[Sequence[Problem]], list[Predictor | Exception]]:
    def fit_many(problems: Sequence[Problem]) -> list[Predictor | Exception]:
        trained = kind
        if kind == "npu" and all(np.all(p.x >= 0) for p in problems):
            # With no negative input the NPU is the RealNPU, to the bit: its imaginary weights start at 0
            # and their gradient, -sin(log_r . W_im) log_r, is 0 there, so they stay 0 and every other
            # weight gets the RealNPU's gradient. Train (or reuse) that smaller network.
            trained = "realnpu"
        key = reuse.digest(trained, UNIT_STEPS, *[v for p in problems for v in (p.x, p.y, p.seed)])
        return _UNIT_RUNS.get_or_compute(key, lambda: _train_units(trained, problems))

    return fit_many


def _train_units(kind: str, problems: Sequence[Problem]) -> list[Predictor | Exception]:
    """Every problem's network of unit ``kind`` (:func:`_unit_network`), trained as one stack."""
    nets, data = [], []
    for p in problems:
        seed_everything(p.seed)
        nets.append(_unit_network(kind, p.x.shape[1]))
        # MSE on the raw targets, as in the units' own papers. Dividing the targets by their RMS would
        # suit one learning rate to targets of 1e-11 and 1e8 alike, but it moves the NMU's exact
        # solution off its clamp at W = 1: measured on x1*x2, [1, 2] -> [2, 6], NAU -> NMU went from
        # solving to a 1.9 % error. Large and tiny targets are part of what the units must handle.
        data.append((p.x, p.y))
    result = train_parallel(nets, data, steps=UNIT_STEPS, batch_size=128, learning_rate=1e-3, seed=problems[0].seed)
    return [_keras_predictor(net) if result.diverged_at[k] is None else _diverged(result.diverged_at[k])
            for k, net in enumerate(nets)]


_SEARCHES = reuse.Memo(capacity=4096)
"""The improved network's searches, shared by its three methods (see :func:`multlib.improved.fit`'s ``memo``)."""


def _fit_improved(**options: Any) -> Callable[[Sequence[Problem]], list[Predictor | Exception]]:
    """The improved network of Chapter 5a (:func:`multlib.improved.fit`), with ``options`` on its recommended recipe."""

    def fit_many(problems: Sequence[Problem]) -> list[Predictor | Exception]:
        out: list[Predictor | Exception] = []
        for p in problems:
            try:
                out.append(improved.fit(p.x, p.y, seed=p.seed, memo=_SEARCHES, **options).predict)
            except TrainingDiverged as err:
                out.append(err)
        return out

    return fit_many


def _fit_symbolic(problems: Sequence[Problem]) -> list[Predictor | Exception]:
    """Operon's symbolic regression with :data:`multlib.symbolic.RECIPE`, one problem after another."""
    if not symbolic.available():
        return [NotApplicable(symbolic.INSTALL_HINT) for _ in problems]
    out: list[Predictor | Exception] = []
    for p in problems:
        try:
            out.append(symbolic.fit(p.x, p.y, seed=p.seed).predict)
        except ValueError as err:  # e.g. targets that are all zero
            out.append(NotApplicable(str(err)))
    return out


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("power_law", "least squares on log features (Chapter 2); positive inputs and targets only",
               _fit_power_law, independent=True),
        Method("relu_mlp", "the blog's 80 ReLUs, scaled data, MSE, Adam 3e-3 with cosine decay, 4,000 steps of 128",
               _fit_relu),
        Method("paper", "Goel's Dense(16, symlog) -> Dense(12, symexp) -> Dense(1), MAE, Adam 1e-3, 100 epochs of 32",
               _fit_paper),
        Method("improved", "Chapter 5a's sum of product terms, relative loss, restarts and integer settling",
               _fit_improved(), independent=True, shares="improved"),
        Method("improved_select", "the improved network, then backward elimination of its terms by BIC (Chapter 7)",
               _fit_improved(select=True), independent=True, shares="improved"),
        Method("improved_ratio", "the improved network as a ratio: 4 product terms over 1 + 2 product terms (Chapter 7)",
               _fit_improved(n_terms=4, denominator_terms=2), independent=True, shares="improved"),
        Method("product_unit", "two product units and a linear output (Durbin and Rumelhart)", _fit_unit("product_unit")),
        Method("nalu", "NALU(2) -> NALU(1) (Trask et al.)", _fit_unit("nalu")),
        Method("nau_nmu", "NAU(d) -> NMU(1) (Madsen and Johansen)", _fit_unit("nau_nmu")),
        Method("npu", "NPU(2) -> NAU(1) (Heim et al.)", _fit_unit("npu"), shares="npu"),
        Method("realnpu", "RealNPU(2) -> NAU(1) (Heim et al.)", _fit_unit("realnpu"), shares="npu"),
        Method("symbolic_regression", "Operon's genetic programming over + - * / with tuned constants, "
               "fit and length as objectives (multlib.symbolic.RECIPE)", _fit_symbolic, independent=True),
    ]
}
"""Every method of the book by name."""


def fit_predictors(method: str, data: Sequence[tuple[np.ndarray, np.ndarray, int]]) -> list[Predictor | Exception]:
    """Fit ``method`` (a name in :data:`METHODS`) on each ``(x, y, seed)``, all at once.

    Returns one predictor (``x -> y``) per data set, or the exception that stopped that fit
    (:class:`NotApplicable`, :class:`multlib.training.TrainingDiverged`), each trained with the
    method's recipe.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    if not data:
        raise ValueError("data must hold at least one (x, y, seed) triple, got none")
    return METHODS[method].fit_many([Problem(np.asarray(x, np.float64), np.asarray(y, np.float64), int(s))
                                     for x, y, s in data])
