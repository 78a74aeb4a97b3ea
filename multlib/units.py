"""Neural arithmetic units from the literature, as Keras 3 layers, and the scoring rules used to judge them.

Every layer maps inputs of shape ``(..., in)`` to ``(..., units)``, keeps its kernel in the Keras
convention ``(in, units)`` and serialises through ``get_config``. In the formulas below ``x`` is one
input row, ``W[i, j]`` connects input ``i`` to output ``j``.

* :class:`ProductUnit` - ``y_j = prod_i x_i ** W_ij`` {cite:p}`durbin1989product`.
* :class:`NAC` and :class:`NALU` - the neural accumulator and arithmetic logic unit
  {cite:p}`trask2018nalu`.
* :class:`NAU` and :class:`NMU` - the neural addition and multiplication units, with their clamp
  (:class:`Clip`) and sparsity regulariser (:class:`SparsityRegularizer`) {cite:p}`madsen2020nau`.
* :class:`NPU` and :class:`RealNPU` - the neural power units {cite:p}`heim2020npu`.

Scoring: :func:`wilson_interval` (a success rate's 95 % interval) and :func:`perturbed_solution_mse` /
:func:`nmu_success_threshold` (Madsen and Johansen's "solved" threshold).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Sequence

import keras
import numpy as np
from keras import ops

__all__ = [
    "check_positive_inputs",
    "safe_log",
    "Clip",
    "sparsity_penalty",
    "SparsityRegularizer",
    "linear_ramp",
    "set_sparsity_strength",
    "nau_init_limit",
    "ProductUnit",
    "NAC",
    "NALU",
    "NAU",
    "NMU",
    "NPU",
    "RealNPU",
    "wilson_interval",
    "perturbed_solution_mse",
    "nmu_success_threshold",
]

_F32_EPS = float(np.finfo(np.float32).eps)


# --------------------------------------------------------------------------------------------------
# argument checks and numerics
# --------------------------------------------------------------------------------------------------


def _check_units(units: Any) -> int:
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
        raise ValueError(f"units must be a positive integer, got {units!r}")
    return int(units)


def _check_eps(eps: Any, name: str = "eps") -> float:
    try:
        value = float(eps)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {eps!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {eps!r}")
    return value


def _input_dim(input_shape: Sequence[int | None], layer: str) -> int:
    if len(input_shape) < 2 or input_shape[-1] is None:
        raise ValueError(f"{layer} needs inputs of shape (batch, features) with a known feature count, got {input_shape}")
    return int(input_shape[-1])


def check_positive_inputs(x: Any, name: str = "x") -> np.ndarray:
    """Return ``x`` as a float array, or raise if any entry is not a positive finite number.

    A product unit takes ``log x``: call this on NumPy data before feeding a :class:`ProductUnit`,
    so that a zero or negative feature is reported instead of being clamped silently in the graph.
    """
    arr = np.asarray(x, dtype=np.float64)
    bad = ~(np.isfinite(arr) & (arr > 0))
    if np.any(bad):
        raise ValueError(
            f"{name} must be positive and finite for a product unit's log; {int(bad.sum())} value(s) are not "
            f"(smallest {np.nanmin(arr)!r})"
        )
    return arr


def safe_log(x: Any, eps: float) -> Any:
    """``log(max(x, eps))``: a log that stays finite (and has a finite gradient) at and below zero.

    Inputs below ``eps`` are read as ``eps``; their gradient is zero. Meant for the graph, where a
    ValueError cannot be raised per batch; check NumPy data with :func:`check_positive_inputs`.
    """
    return ops.log(ops.maximum(x, eps))


# --------------------------------------------------------------------------------------------------
# constraint, regulariser
# --------------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="multlib")
class Clip(keras.constraints.Constraint):
    """Clamp every weight to ``[low, high]``.

    Keras 3 applies a variable's constraint inside ``optimizer.apply``, right after the update, so a
    kernel with this constraint is projected back after every optimiser step - the NMU/NAU rule of
    {cite:p}`madsen2020nau` - while the forward pass uses the weights as they are.
    """

    def __init__(self, low: float, high: float) -> None:
        low, high = float(low), float(high)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"Clip needs finite low < high, got low={low!r}, high={high!r}")
        self.low = low
        self.high = high

    def __call__(self, w: Any) -> Any:
        return ops.clip(w, self.low, self.high)

    def get_config(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}


def sparsity_penalty(w: Any) -> Any:
    """Madsen and Johansen's sparsity error ``mean(min(|W|, |1 - |W||))``.

    Zero exactly when every weight is -1, 0 or 1, largest (0.5) at +-0.5: it pushes a solved unit's
    weights onto the discrete values that extrapolate {cite:p}`madsen2020nau`.
    """
    a = ops.abs(w)
    return ops.mean(ops.minimum(a, ops.abs(1.0 - a)))


@keras.saving.register_keras_serializable(package="multlib")
class SparsityRegularizer(keras.regularizers.Regularizer):
    """``lambda * sparsity_penalty(W)`` as a Keras kernel regulariser, with ``lambda`` adjustable.

    ``lambda`` lives in a non-trainable variable (:attr:`strength`), so a compiled training step reads
    its current value: ramp it with :func:`set_sparsity_strength` and :func:`linear_ramp`.
    Keras sums the regularisers of a model's layers, so a NAU -> NMU network pays the sum of the
    two layers' means (the authors average each layer's weights, then add the layers' terms).
    """

    def __init__(self, strength: float = 0.0) -> None:
        strength = float(strength)
        if not (math.isfinite(strength) and strength >= 0):
            raise ValueError(f"strength must be a finite number >= 0, got {strength!r}")
        self.strength = keras.Variable(strength, trainable=False, dtype="float32", name="sparsity_strength")

    def __call__(self, w: Any) -> Any:
        return ops.cast(self.strength, w.dtype) * sparsity_penalty(w)

    def get_config(self) -> dict[str, Any]:
        return {"strength": float(self.strength.numpy())}


def linear_ramp(step: int, start: int, end: int, final: float) -> float:
    """``0`` up to ``start``, ``final`` from ``end`` on, linear in between (the authors' lambda schedule)."""
    if not (0 <= start < end):
        raise ValueError(f"linear_ramp needs 0 <= start < end, got start={start!r}, end={end!r}")
    return float(final) * min(1.0, max(0.0, (step - start) / (end - start)))


def set_sparsity_strength(models: keras.Model | Iterable[keras.Model], value: float) -> int:
    """Set lambda of every :class:`SparsityRegularizer` in ``models``; returns how many were set."""
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"value must be a finite number >= 0, got {value!r}")
    if isinstance(models, keras.Model):
        models = [models]
    count = 0
    for layer in _walk_layers(models):
        reg = getattr(layer, "kernel_regularizer", None)
        if isinstance(reg, SparsityRegularizer):
            reg.strength.assign(value)
            count += 1
    return count


def _walk_layers(layers: Iterable[Any]) -> Iterable[Any]:
    for layer in layers:
        yield layer
        yield from _walk_layers(getattr(layer, "layers", []))


def nau_init_limit(fan_in: int, fan_out: int) -> float:
    """``r = min(0.5, sqrt(3) * sqrt(2 / (in + out)))``: NAU weights start on ``U[-r, r]``."""
    return min(0.5, math.sqrt(3.0) * math.sqrt(2.0 / (fan_in + fan_out)))


# --------------------------------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------------------------------


class _Unit(keras.layers.Layer):
    """Shared bookkeeping: ``units``, the output shape, the config."""

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = _check_units(units)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="multlib")
class ProductUnit(_Unit):
    """Durbin and Rumelhart's product unit {cite:p}`durbin1989product`, for positive inputs.

    ``y_j = prod_i x_i ** W_ij = exp(sum_i W_ij log x_i)``. Inputs must be positive: the graph takes
    :func:`safe_log` (``log max(x, eps)``), so a zero or negative input is read as ``eps`` rather than
    producing NaN; check data with :func:`check_positive_inputs` first. A negative weight on an input
    near ``eps`` makes ``y`` huge (``eps ** W``), as the formula says.
    """

    def __init__(self, units: int, eps: float = 1e-7, kernel_initializer: Any = "glorot_uniform", **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.eps = _check_eps(eps)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape: Sequence[int | None]) -> None:
        d = _input_dim(input_shape, "ProductUnit")
        self.kernel = self.add_weight(shape=(d, self.units), initializer=self.kernel_initializer, name="kernel")

    def call(self, inputs: Any) -> Any:
        return ops.exp(ops.matmul(safe_log(inputs, self.eps), self.kernel))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "eps": self.eps,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


_NAC_MODES = ("add", "mul")


@keras.saving.register_keras_serializable(package="multlib")
class NAC(_Unit):
    """Trask et al.'s neural accumulator {cite:p}`trask2018nalu`.

    ``W = tanh(W_hat) * sigmoid(M_hat)`` (pushed towards -1, 0, 1), then

    * ``mode="add"`` (NAC_+): ``y = W x``;
    * ``mode="mul"`` (NAC_*): ``y = exp(W log(|x| + eps))``, a product of powers of ``|x|`` that
      loses the inputs' signs.

    ``W_hat`` and ``M_hat`` start Glorot-uniform.
    """

    def __init__(self, units: int, mode: str = "add", eps: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        if mode not in _NAC_MODES:
            raise ValueError(f"mode must be one of {_NAC_MODES}, got {mode!r}")
        self.mode = mode
        self.eps = _check_eps(eps)

    def build(self, input_shape: Sequence[int | None]) -> None:
        d = _input_dim(input_shape, type(self).__name__)
        self.w_hat = self.add_weight(shape=(d, self.units), initializer="glorot_uniform", name="w_hat")
        self.m_hat = self.add_weight(shape=(d, self.units), initializer="glorot_uniform", name="m_hat")

    def nac_weights(self) -> Any:
        """The effective kernel ``tanh(W_hat) * sigmoid(M_hat)``, in ``(-1, 1)``."""
        return ops.tanh(self.w_hat) * ops.sigmoid(self.m_hat)

    def _mul(self, inputs: Any, w: Any) -> Any:
        return ops.exp(ops.matmul(ops.log(ops.abs(inputs) + self.eps), w))

    def call(self, inputs: Any) -> Any:
        w = self.nac_weights()
        return ops.matmul(inputs, w) if self.mode == "add" else self._mul(inputs, w)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode, "eps": self.eps}


@keras.saving.register_keras_serializable(package="multlib")
class NALU(NAC):
    """Trask et al.'s neural arithmetic logic unit {cite:p}`trask2018nalu`.

    With the NAC kernel ``W = tanh(W_hat) * sigmoid(M_hat)`` shared by both paths:
    ``a = W x``, ``m = exp(W log(|x| + eps))``, ``g = sigmoid(G x)``, ``y = g * a + (1 - g) * m``.
    ``G`` starts Glorot-uniform and has no bias, as in the paper.
    """

    def __init__(self, units: int, eps: float = 1e-7, **kwargs: Any) -> None:
        kwargs.pop("mode", None)  # a NALU has both paths; "mode" comes back only from NAC's config
        super().__init__(units, mode="add", eps=eps, **kwargs)

    def build(self, input_shape: Sequence[int | None]) -> None:
        super().build(input_shape)
        d = _input_dim(input_shape, "NALU")
        self.gate_kernel = self.add_weight(shape=(d, self.units), initializer="glorot_uniform", name="gate_kernel")

    def call(self, inputs: Any) -> Any:
        w = self.nac_weights()
        g = ops.sigmoid(ops.matmul(inputs, self.gate_kernel))
        return g * ops.matmul(inputs, w) + (1.0 - g) * self._mul(inputs, w)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("mode")
        return config


class _MadsenUnit(_Unit):
    """A kernel with a paper initialiser, a clamp applied after each optimiser step, an optional regulariser."""

    low: float
    high: float

    def __init__(self, units: int, kernel_regularizer: Any = None, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def _initializer(self, fan_in: int) -> keras.initializers.Initializer:
        raise NotImplementedError

    def build(self, input_shape: Sequence[int | None]) -> None:
        d = _input_dim(input_shape, type(self).__name__)
        self.kernel = self.add_weight(
            shape=(d, self.units), initializer=self._initializer(d), name="kernel",
            constraint=Clip(self.low, self.high), regularizer=self.kernel_regularizer,
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer)}


@keras.saving.register_keras_serializable(package="multlib")
class NAU(_MadsenUnit):
    """Madsen and Johansen's neural addition unit {cite:p}`madsen2020nau`.

    ``z = W x`` with ``W`` clamped to ``[-1, 1]`` after every optimiser step and initialised on
    ``U[-r, r]``, ``r = min(0.5, sqrt(3) * sqrt(2 / (in + out)))`` (:func:`nau_init_limit`). Pass
    ``kernel_regularizer=SparsityRegularizer(...)`` for the paper's loss.
    """

    low, high = -1.0, 1.0

    def _initializer(self, fan_in: int) -> keras.initializers.Initializer:
        r = nau_init_limit(fan_in, self.units)
        return keras.initializers.RandomUniform(-r, r)

    def call(self, inputs: Any) -> Any:
        return ops.matmul(inputs, self.kernel)


@keras.saving.register_keras_serializable(package="multlib")
class NMU(_MadsenUnit):
    """Madsen and Johansen's neural multiplication unit {cite:p}`madsen2020nau`.

    ``z_j = prod_i (W_ij x_i + 1 - W_ij)``: each input is either multiplied in (``W = 1``) or replaced
    by 1 (``W = 0``), for inputs of any sign. ``W`` starts on ``U[0.25, 0.75]`` and is clamped to
    ``[0, 1]`` after every optimiser step (not in the forward pass). It cannot divide.
    """

    low, high = 0.0, 1.0

    def _initializer(self, fan_in: int) -> keras.initializers.Initializer:
        return keras.initializers.RandomUniform(0.25, 0.75)

    def call(self, inputs: Any) -> Any:
        # (..., in, 1) against (in, units): every input gated for every output, then multiplied out.
        w = self.kernel
        return ops.prod(ops.expand_dims(inputs, -1) * w + (1.0 - w), axis=-2)


@keras.saving.register_keras_serializable(package="multlib")
class NPU(_Unit):
    """Heim, Pevny and Smidl's neural power unit {cite:p}`heim2020npu`.

    A product unit taken in complex log space. With the relevance gate ``g`` clipped to ``[0, 1]``
    in the forward pass, an input is relaxed towards 1 as ``g -> 0``:

    ``r_i = g_i (|x_i| + eps) + 1 - g_i``, ``k_i = g_i * pi * [x_i < 0]`` (the gated phase of ``x_i``),

    ``y_j = exp(sum_i W_re_ij log r_i - W_im_ij k_i) * cos(sum_i W_re_ij k_i + W_im_ij log r_i)``,

    which for ``g = 1`` is the real part of ``prod_i x_i ** (W_re_ij + i W_im_ij)``. It handles
    negative inputs (``(-2) ** 1 * 3 ** 1 = -6``) and division (negative exponents). ``W_re``
    starts Glorot-uniform, ``W_im`` at 0 and ``g`` at 0.5, as in the authors' code; ``eps`` is
    float32's machine epsilon.

    The gate is clipped in the forward pass only, as in the authors' code: a gate pushed below 0
    gets no gradient again (the input is switched off for good). ``clamp_gate=True`` clamps it to
    ``[0, 1]`` after every optimiser step instead (the option Mistry et al.'s benchmark code offers),
    which keeps the gradient alive at the bound.
    """

    use_imaginary = True

    def __init__(self, units: int, eps: float = _F32_EPS, clamp_gate: bool = False, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.eps = _check_eps(eps)
        if not isinstance(clamp_gate, bool):
            raise ValueError(f"clamp_gate must be True or False, got {clamp_gate!r}")
        self.clamp_gate = clamp_gate

    def build(self, input_shape: Sequence[int | None]) -> None:
        d = _input_dim(input_shape, type(self).__name__)
        self.real_kernel = self.add_weight(shape=(d, self.units), initializer="glorot_uniform", name="real_kernel")
        if self.use_imaginary:
            self.imag_kernel = self.add_weight(shape=(d, self.units), initializer="zeros", name="imag_kernel")
        self.gate = self.add_weight(
            shape=(d,), initializer=keras.initializers.Constant(0.5), name="gate",
            constraint=Clip(0.0, 1.0) if self.clamp_gate else None,
        )

    def _log_and_phase(self, inputs: Any) -> tuple[Any, Any]:
        g = ops.clip(self.gate, 0.0, 1.0)
        r = g * (ops.abs(inputs) + self.eps) + (1.0 - g)
        k = g * math.pi * ops.cast(inputs < 0, inputs.dtype)
        return ops.log(r), k

    def call(self, inputs: Any) -> Any:
        log_r, k = self._log_and_phase(inputs)
        re, im = self.real_kernel, self.imag_kernel
        magnitude = ops.exp(ops.matmul(log_r, re) - ops.matmul(k, im))
        return magnitude * ops.cos(ops.matmul(k, re) + ops.matmul(log_r, im))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "eps": self.eps, "clamp_gate": self.clamp_gate}


@keras.saving.register_keras_serializable(package="multlib")
class RealNPU(NPU):
    """The NPU without imaginary weights {cite:p}`heim2020npu`.

    ``y_j = exp(sum_i W_ij log r_i) * cos(sum_i W_ij k_i)``, with ``r`` and ``k`` as in :class:`NPU`:
    for ``g = 1`` that is ``prod_i |x_i| ** W_ij`` times ``cos(pi * sum of W_ij over the negative x_i)``,
    the sign for integer exponents, so ``W = [1, -1]`` gives ``x1 / x2`` with its sign.
    """

    use_imaginary = False

    def call(self, inputs: Any) -> Any:
        log_r, k = self._log_and_phase(inputs)
        return ops.exp(ops.matmul(log_r, self.real_kernel)) * ops.cos(ops.matmul(k, self.real_kernel))


# --------------------------------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------------------------------


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a success rate ``successes / n`` (default 95 %), as fractions.

    ``(p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``; unlike ``p +- z se`` it stays in
    ``[0, 1]`` and is not empty at 0/n or n/n. Madsen and Johansen report their rates this way.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(successes, bool) or not isinstance(successes, (int, np.integer)) or not 0 <= successes <= n:
        raise ValueError(f"successes must be an integer in [0, n={n}], got {successes!r}")
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At 0/n and n/n one end is exactly 0 or 1; say so rather than leave it to rounding.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


_OPERATIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
}


def perturbed_solution_mse(x: Any, selection: Any, operation: str = "mul", eps: float = 1e-5) -> float:
    """MSE of the exact solution whose selection weights are all off by ``eps``, on inputs ``x``.

    Madsen and Johansen's task computes ``a = x @ S[:, 0]``, ``b = x @ S[:, 1]`` for a 0/1 selection
    matrix ``S`` and the target ``a (op) b``. Their "solved" threshold is the MSE of the same
    computation with ``S`` replaced by ``S(1 - eps) + (1 - S) eps`` (every weight ``eps`` away from its
    exact value, towards the other) {cite:p}`madsen2020nau`. Computed in float64.
    """
    x = np.asarray(x, dtype=np.float64)
    s = np.asarray(selection, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (samples, features), got shape {x.shape}")
    if s.shape != (x.shape[1], 2):
        raise ValueError(f"selection must have shape ({x.shape[1]}, 2) for x with {x.shape[1]} features, got {s.shape}")
    if not np.all((s == 0) | (s == 1)):
        raise ValueError("selection must hold only 0 and 1")
    if operation not in _OPERATIONS:
        raise ValueError(f"operation must be one of {sorted(_OPERATIONS)}, got {operation!r}")
    eps = _check_eps(eps)
    op = _OPERATIONS[operation]
    exact = x @ s
    perturbed = x @ (s * (1 - eps) + (1 - s) * eps)
    return float(np.mean((op(perturbed[:, 0], perturbed[:, 1]) - op(exact[:, 0], exact[:, 1])) ** 2))


def nmu_success_threshold(x_extrapolation: Any, eps: float = 1e-5) -> float:
    """The "solved" MSE threshold for ``t = x1 * x2`` on the given extrapolation inputs.

    :func:`perturbed_solution_mse` with ``a = x1``, ``b = x2``: the error is about
    ``eps * (x1 - x2)^2``, so on ``U[2, 6]^2`` the threshold is ``eps^2 * E[(x1 - x2)^4] = eps^2 * 256/15``
    (1.7e-9 for ``eps = 1e-5``).
    """
    x = np.asarray(x_extrapolation, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x_extrapolation must have shape (n, 2), got {x.shape}")
    return perturbed_solution_mse(x, np.eye(2), "mul", eps)
