"""Multiplicative interactions inside ordinary networks, as Keras 3 layers (Chapter 8).

Jayakumar et al.'s multiplicative interaction (MI) layer {cite:p}`jayakumar2020mi` combines two
inputs ``x`` (``dx`` features) and ``z`` (``dz`` features) as

``f(x, z) = z^T W x + z^T U + V x + b``,

with ``W`` a 3-tensor of shape ``(dz, dx, units)``: for every context ``z`` the layer is a linear map
of ``x`` whose weights ``z^T W + V`` and bias ``z^T U + b`` are themselves linear in ``z`` (a
hypernetwork). The familiar motifs are restrictions of ``W``:

* :class:`MultiplicativeInteraction` - the full layer, or ``W`` of rank ``r`` (a sum of ``r`` outer
  products of three vectors).
* :class:`DiagonalGating` - ``f = act(A z + a) * (B x + c)``, element-wise: a sigmoid gate with
  ``act="sigmoid"``, a plain product of two projections with ``act=None``.
* :class:`FiLM` - ``f = gamma(z) * x + beta(z)`` {cite:p}`perez2018film`.
* :class:`GLU` - one input gating itself, ``f = (A x + a) * act(B x + c)`` {cite:p}`dauphin2017glu`;
  ``activation="silu"`` is SwiGLU {cite:p}`shazeer2020glu`.
* :class:`Hypernetwork` - the general case: an MLP of ``z`` produces all the weights of a small
  network of ``x`` (linear, or one hidden layer), so ``f`` may be nonlinear in both.
* :func:`concat_mlp` - the baseline the paper argues against: an MLP on ``[x, z]``.

The pair layers take ``[x, z]`` (a list or tuple of two tensors of shape ``(batch, features)``).
"""

from __future__ import annotations

from typing import Any, Sequence

import keras
import numpy as np
from keras import ops

from multlib.data import check_positive_int

__all__ = ["MultiplicativeInteraction", "DiagonalGating", "FiLM", "GLU", "Hypernetwork", "concat_mlp"]


# --------------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------------


def _feature_count(shape: Sequence[int | None], name: str, layer: str) -> int:
    if len(shape) != 2 or not isinstance(shape[-1], (int, np.integer)):
        raise ValueError(f"{layer} needs {name} of shape (batch, features) with a known feature count, got {tuple(shape)}")
    return int(shape[-1])


def _pair_shapes(input_shape: Any, layer: str) -> tuple[int, int]:
    """``(dx, dz)`` from the shapes of ``[x, z]``, or an error that says what came instead."""
    shapes = list(input_shape) if isinstance(input_shape, (list, tuple)) else []
    if not shapes or not all(isinstance(s, (list, tuple)) for s in shapes):
        raise ValueError(f"{layer} takes a pair [x, z] of inputs, got a single tensor of shape {input_shape!r}")
    if len(shapes) != 2:
        raise ValueError(f"{layer} takes a pair [x, z] of inputs, got {len(shapes)}: shapes {[tuple(s) for s in shapes]}")
    x_shape, z_shape = (tuple(s) for s in shapes)
    dx, dz = _feature_count(x_shape, "x", layer), _feature_count(z_shape, "z", layer)
    if x_shape[0] is not None and z_shape[0] is not None and x_shape[0] != z_shape[0]:
        raise ValueError(f"{layer}: x and z must have the same batch size, got {x_shape[0]} and {z_shape[0]}")
    return dx, dz


def _pair(inputs: Any, layer: str) -> tuple[Any, Any]:
    if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
        count = len(inputs) if isinstance(inputs, (list, tuple)) else "a single tensor"
        raise ValueError(f"{layer} takes a pair [x, z] of inputs, got {count}")
    x, z = inputs
    _pair_shapes([tuple(x.shape), tuple(z.shape)], layer)
    return x, z


class _PairLayer(keras.layers.Layer):
    """Shared bookkeeping of the layers on ``[x, z]``: ``units``, the output shape, the config."""

    units_optional = False

    def __init__(self, units: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = None if units is None and self.units_optional else check_positive_int(units, "units")

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        _pair_shapes(input_shape, type(self).__name__)
        return (input_shape[0][0], self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


# --------------------------------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="multlib")
class MultiplicativeInteraction(_PairLayer):
    """The MI layer ``f(x, z) = z^T W x + z^T U + V x + b`` {cite:p}`jayakumar2020mi`.

    ``rank=None`` keeps the full ``W`` (``kernel``, shape ``(dz, dx, units)``, ``dz * dx * units``
    weights). ``rank=r`` stores it as ``W[i, j, k] = sum_r P[i, r] Q[j, r] R[r, k]`` (``z_factor``,
    ``x_factor``, ``out_factor``): ``z^T W x = ((z P) * (x Q)) R``, ``r (dz + dx + units)`` weights.
    ``U`` (``z_kernel``, ``(dz, units)``), ``V`` (``x_kernel``, ``(dx, units)``, in the Keras
    convention) and ``b`` (``bias``) are the lower-order terms; ``use_bias=False`` drops all three,
    leaving the pure bilinear form. Every kernel starts Glorot-uniform (for ``W`` Keras counts
    ``dz * dx`` inputs), ``b`` at zero.
    """

    def __init__(self, units: int, rank: int | None = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.rank = None if rank is None else check_positive_int(rank, "rank")
        if not isinstance(use_bias, bool):
            raise ValueError(f"use_bias must be True or False, got {use_bias!r}")
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def _weight(self, shape: tuple[int, ...], name: str, initializer: Any = None) -> Any:
        return self.add_weight(shape=shape, initializer=initializer or self.kernel_initializer, name=name)

    def build(self, input_shape: Any) -> None:
        dx, dz = _pair_shapes(input_shape, "MultiplicativeInteraction")
        if self.rank is None:
            self.kernel = self._weight((dz, dx, self.units), "kernel")
        else:
            self.z_factor = self._weight((dz, self.rank), "z_factor")
            self.x_factor = self._weight((dx, self.rank), "x_factor")
            self.out_factor = self._weight((self.rank, self.units), "out_factor")
        if self.use_bias:
            self.z_kernel = self._weight((dz, self.units), "z_kernel")
            self.x_kernel = self._weight((dx, self.units), "x_kernel")
            self.bias = self._weight((self.units,), "bias", "zeros")

    def full_kernel(self) -> Any:
        """``W`` as a ``(dz, dx, units)`` tensor, built from the factors when ``rank`` is set."""
        if self.rank is None:
            return self.kernel
        return ops.einsum("ir,jr,rk->ijk", self.z_factor, self.x_factor, self.out_factor)

    def call(self, inputs: Any) -> Any:
        x, z = _pair(inputs, "MultiplicativeInteraction")
        if self.rank is None:
            out = ops.einsum("bi,bj,ijk->bk", z, x, self.kernel)
        else:
            out = ops.matmul(ops.matmul(z, self.z_factor) * ops.matmul(x, self.x_factor), self.out_factor)
        if self.use_bias:
            out = out + ops.matmul(z, self.z_kernel) + ops.matmul(x, self.x_kernel) + self.bias
        return out

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rank": self.rank, "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


def _projection(layer: keras.layers.Layer, d: int, units: int, name: str, bias_init: str = "zeros") -> tuple[Any, Any]:
    kernel = layer.add_weight(shape=(d, units), initializer="glorot_uniform", name=f"{name}_kernel")
    bias = layer.add_weight(shape=(units,), initializer=bias_init, name=f"{name}_bias")
    return kernel, bias


@keras.saving.register_keras_serializable(package="multlib")
class DiagonalGating(_PairLayer):
    """Element-wise gating ``f = act(A z + a) * (B x + c)``: MI with ``W[i, j, k] = A[i, k] B[j, k]``.

    Each output is one product of a projection of ``z`` and a projection of ``x`` (a rank-``units``
    ``W`` whose output factor is the identity). ``activation="sigmoid"`` makes ``z`` a gate in
    ``(0, 1)``; ``None`` leaves the bare product. Weights: ``gate_kernel``/``gate_bias`` (``A``, ``a``),
    ``kernel``/``bias`` (``B``, ``c``).
    """

    def __init__(self, units: int, activation: Any = None, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape: Any) -> None:
        dx, dz = _pair_shapes(input_shape, "DiagonalGating")
        self.gate_kernel, self.gate_bias = _projection(self, dz, self.units, "gate")
        self.kernel, self.bias = _projection(self, dx, self.units, "value")

    def call(self, inputs: Any) -> Any:
        x, z = _pair(inputs, "DiagonalGating")
        gate = self.activation(ops.matmul(z, self.gate_kernel) + self.gate_bias)
        return gate * (ops.matmul(x, self.kernel) + self.bias)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": keras.activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package="multlib")
class FiLM(_PairLayer):
    """Feature-wise linear modulation ``f = gamma(z) * h + beta(z)`` {cite:p}`perez2018film`.

    ``gamma(z) = z G + g`` and ``beta(z) = z H + h0`` are linear in ``z``; ``h`` is ``x`` itself when
    ``units`` is None (the output has ``x``'s width), or its projection ``x V`` (no bias: ``beta``
    is one) when ``units`` is given. As an MI layer: ``W[i, j, k] = G[i, j]`` on the diagonal
    ``j = k`` (times ``V`` when projected), ``U = H``. ``gamma`` starts near 1 (``g = 1``), ``beta``
    near 0, so an untrained layer passes ``h`` through. Weights: ``gamma_kernel``, ``gamma_bias``,
    ``beta_kernel``, ``beta_bias`` and, with ``units``, ``kernel``.
    """

    units_optional = True

    def __init__(self, units: int | None = None, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        dx, _ = _pair_shapes(input_shape, "FiLM")
        return (input_shape[0][0], dx if self.units is None else self.units)

    def build(self, input_shape: Any) -> None:
        dx, dz = _pair_shapes(input_shape, "FiLM")
        width = dx if self.units is None else self.units
        if self.units is not None:
            self.kernel = self.add_weight(shape=(dx, width), initializer="glorot_uniform", name="kernel")
        self.gamma_kernel, self.gamma_bias = _projection(self, dz, width, "gamma", bias_init="ones")
        self.beta_kernel, self.beta_bias = _projection(self, dz, width, "beta")

    def call(self, inputs: Any) -> Any:
        x, z = _pair(inputs, "FiLM")
        h = x if self.units is None else ops.matmul(x, self.kernel)
        gamma = ops.matmul(z, self.gamma_kernel) + self.gamma_bias
        return gamma * h + ops.matmul(z, self.beta_kernel) + self.beta_bias


@keras.saving.register_keras_serializable(package="multlib")
class GLU(keras.layers.Layer):
    """A gated linear unit on one input, ``f = (x A + a) * act(x B + c)`` {cite:p}`dauphin2017glu`.

    ``activation="sigmoid"`` is Dauphin et al.'s GLU, ``"silu"`` SwiGLU and ``None`` the bilinear
    layer of Shazeer's variants {cite:p}`shazeer2020glu`. It is an MI layer with ``x`` in both roles
    (``z = x``), so a single unit can represent ``x1 * x2`` exactly when ``act`` is the identity.
    Weights: ``kernel``/``bias`` (``A``, ``a``) and ``gate_kernel``/``gate_bias`` (``B``, ``c``).
    """

    def __init__(self, units: int, activation: Any = "sigmoid", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = check_positive_int(units, "units")
        self.activation = keras.activations.get(activation)

    def build(self, input_shape: Sequence[int | None]) -> None:
        if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f"GLU takes one input tensor, got a list of {len(input_shape)}")
        d = _feature_count(tuple(input_shape), "inputs", "GLU")
        self.kernel, self.bias = _projection(self, d, self.units, "value")
        self.gate_kernel, self.gate_bias = _projection(self, d, self.units, "gate")

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return tuple(input_shape[:-1]) + (self.units,)

    def call(self, inputs: Any) -> Any:
        if isinstance(inputs, (list, tuple)):
            raise ValueError(f"GLU takes one input tensor, got a list of {len(inputs)}")
        value = ops.matmul(inputs, self.kernel) + self.bias
        return value * self.activation(ops.matmul(inputs, self.gate_kernel) + self.gate_bias)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package="multlib")
class Hypernetwork(_PairLayer):
    """An MLP of ``z`` that writes the weights of a small network of ``x``: ``f(x, z) = net_{theta(z)}(x)``.

    ``theta(z) = Dense(P)(act(Dense(hidden)(... z)))`` (``hidden``: one width or a list, ReLU by
    default) holds every weight of the network of ``x``: with ``x_hidden=None`` the linear map
    ``x A(z) + a(z)`` (``P = (dx + 1) units``), otherwise one hidden layer,
    ``act(x A(z) + a(z)) B(z) + c(z)`` with ``x_hidden`` units. With ``hidden=[]`` and
    ``x_hidden=None``, ``theta`` is linear in ``z`` and the layer is exactly the MI layer
    (:class:`MultiplicativeInteraction`); hidden layers in ``theta`` make the weights nonlinear in ``z``.
    The output layer of ``theta`` starts with small weights (``scale`` times Glorot), so the
    generated network starts near zero rather than with weights of order one.
    """

    def __init__(self, units: int, hidden: int | Sequence[int] = 32, x_hidden: int | None = None,
                 activation: Any = "relu", scale: float = 0.3, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        widths = [hidden] if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool) else hidden
        if not isinstance(widths, (list, tuple)):
            raise ValueError(f"hidden must be a positive integer or a list of them, got {hidden!r}")
        self.hidden = [check_positive_int(w, "hidden") for w in widths]
        self.x_hidden = None if x_hidden is None else check_positive_int(x_hidden, "x_hidden")
        self.activation = keras.activations.get(activation)
        if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not scale > 0:
            raise ValueError(f"scale must be a positive number, got {scale!r}")
        self.scale = float(scale)

    def build(self, input_shape: Any) -> None:
        dx, dz = _pair_shapes(input_shape, "Hypernetwork")
        self.dx = dx
        if self.x_hidden is None:
            self.shapes = [(dx, self.units), (self.units,)]
        else:
            self.shapes = [(dx, self.x_hidden), (self.x_hidden,), (self.x_hidden, self.units), (self.units,)]
        n_out = sum(int(np.prod(s)) for s in self.shapes)
        self.z_layers = []
        width_in = dz
        for i, width in enumerate(self.hidden):
            self.z_layers.append(_projection(self, width_in, width, f"z_hidden{i}"))
            width_in = width
        init = keras.initializers.VarianceScaling(self.scale ** 2, mode="fan_avg", distribution="uniform")
        self.theta_kernel = self.add_weight(shape=(width_in, n_out), initializer=init, name="theta_kernel")
        self.theta_bias = self.add_weight(shape=(n_out,), initializer=init, name="theta_bias")

    def weights_of(self, z: Any) -> list[Any]:
        """The generated weights for each row of ``z``: tensors of shapes ``(batch, *shape)``."""
        h = z
        for kernel, bias in self.z_layers:
            h = self.activation(ops.matmul(h, kernel) + bias)
        theta = ops.matmul(h, self.theta_kernel) + self.theta_bias
        out, start = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            out.append(ops.reshape(theta[:, start:start + size], (-1, *shape)))
            start += size
        return out

    def call(self, inputs: Any) -> Any:
        x, z = _pair(inputs, "Hypernetwork")
        weights = self.weights_of(z)
        h = ops.einsum("bi,bij->bj", x, weights[0]) + weights[1]
        if self.x_hidden is not None:
            h = ops.einsum("bi,bij->bj", self.activation(h), weights[2]) + weights[3]
        return h

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "hidden": self.hidden, "x_hidden": self.x_hidden, "scale": self.scale,
                "activation": keras.activations.serialize(self.activation)}


# --------------------------------------------------------------------------------------------------
# the baseline
# --------------------------------------------------------------------------------------------------


def concat_mlp(dx: int, dz: int, hidden: int | Sequence[int], units: int = 1, activation: Any = "relu",
               name: str = "concat_mlp") -> keras.Model:
    """The concatenation baseline: ``Dense(units)(act(Dense(hidden)(... [x, z])))`` as a two-input model.

    ``hidden`` is one width or a list of widths (one hidden layer each; an empty list is the linear
    model on ``[x, z]``). Call it as ``model([x, z])``, like the pair layers.
    """
    dx, dz, units = check_positive_int(dx, "dx"), check_positive_int(dz, "dz"), check_positive_int(units, "units")
    widths = [hidden] if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool) else hidden
    if not isinstance(widths, (list, tuple)):
        raise ValueError(f"hidden must be a positive integer or a list of them, got {hidden!r}")
    widths = [check_positive_int(w, "hidden") for w in widths]
    x, z = keras.Input((dx,), name="x"), keras.Input((dz,), name="z")
    h = keras.layers.Concatenate()([x, z])
    for width in widths:
        h = keras.layers.Dense(width, activation=activation)(h)
    return keras.Model([x, z], keras.layers.Dense(units)(h), name=name)
