"""The symmetric logarithm and exponential of Goel (2020), eq. (1) and (2), as Keras activations.

``symlog(x) = sign(x) * log(1 + |x|)`` and ``symexp(x) = sign(x) * (exp(|x|) - 1)`` are inverses of
each other on the whole real line. Both are registered as Keras serializable objects, so a model that
uses them saves to ``.keras`` and loads back with no ``custom_objects`` once :mod:`multlib` is
imported, and :func:`get` resolves them by name beside Keras's own activations.

Two autodiff traps are avoided here on purpose:

* ``sign(x) * log1p(abs(x))`` has gradient 0 at ``x = 0`` under autodiff (``sign'`` is 0 and
  ``abs'(0)`` is 0), although the true derivative is 1 from both sides;
* ``where(x >= 0, f(x), g(x))`` back-propagates ``0 * g'(x)`` through the branch it does not take,
  and ``0 * inf`` is NaN. Each branch therefore sees only inputs of its own sign ("double where").

Overflow: ``symexp`` of ``|x|`` above ``log(max float)`` (about 88.7 in float32, 709.8 in float64)
returns ``+-inf`` with an infinite gradient; it never returns NaN for a finite input.
"""

from __future__ import annotations

from typing import Any, Callable

import keras
import numpy as np
from keras import ops

__all__ = ["symlog", "symexp", "product_offset", "get", "CUSTOM_ACTIVATIONS", "PAPER_BASELINES"]


def _is_numpy(x: Any) -> bool:
    return isinstance(x, (np.ndarray, np.generic, float, int))


@keras.saving.register_keras_serializable(package="multlib")
def symlog(x: Any) -> Any:
    """Symmetric logarithm, eq. (1): ``log(1 + x)`` for ``x >= 0``, ``-log(1 - x)`` for ``x < 0``.

    Accepts a NumPy array (returns NumPy, same shape and dtype) or a Keras/TensorFlow tensor.
    """
    if _is_numpy(x):
        x = np.asarray(x)
        return (np.sign(x) * np.log1p(np.abs(x))).astype(x.dtype if x.dtype.kind == "f" else float)
    x = ops.convert_to_tensor(x)
    positive = x >= 0
    zero = ops.zeros_like(x)
    x_pos = ops.where(positive, x, zero)  # each branch only ever sees its own sign
    x_neg = ops.where(positive, zero, x)
    return ops.where(positive, ops.log1p(x_pos), -ops.log1p(-x_neg))


@keras.saving.register_keras_serializable(package="multlib")
def symexp(x: Any) -> Any:
    """Symmetric exponential, eq. (2): ``e^x - 1`` for ``x >= 0``, ``1 - e^(-x)`` for ``x < 0``.

    The inverse of :func:`symlog`. Overflows to ``+-inf`` (never NaN) for ``|x| > log(max float)``.
    """
    if _is_numpy(x):
        x = np.asarray(x)
        with np.errstate(over="ignore"):
            return (np.sign(x) * np.expm1(np.abs(x))).astype(x.dtype if x.dtype.kind == "f" else float)
    x = ops.convert_to_tensor(x)
    positive = x >= 0
    zero = ops.zeros_like(x)
    x_pos = ops.where(positive, x, zero)
    x_neg = ops.where(positive, zero, x)
    return ops.where(positive, ops.expm1(x_pos), -ops.expm1(-x_neg))


def product_offset(x: np.ndarray, scale: float = 1.0, dtype: Any = np.float64) -> np.ndarray:
    """How far the pair is from multiplying: ``symexp(sum_i symlog(s x_i)) / s^d / prod_i x_i - 1``.

    ``x`` is ``(n, d)`` with positive entries; returns the relative offset per row. With ``s = 1``
    and two inputs this is ``((1 + x1)(1 + x2) - 1) / (x1 x2) - 1 = 1/x1 + 1/x2``; scaling the
    inputs by ``s`` (and the output by ``s^-d``) divides it by ``s`` for two inputs, until rounding
    in ``dtype`` takes over.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (rows, inputs), got shape {x.shape}")
    if np.any(x <= 0):
        raise ValueError(f"x must be positive; {int(np.sum(x <= 0))} value(s) are not")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    scaled = (scale * x).astype(dtype)
    unit = symexp(np.sum(symlog(scaled), axis=1, dtype=dtype)).astype(np.float64) / scale ** x.shape[1]
    return unit / np.prod(x, axis=1) - 1


CUSTOM_ACTIVATIONS: dict[str, Callable[[Any], Any]] = {"symlog": symlog, "symexp": symexp}

PAPER_BASELINES: tuple[str, ...] = (
    "elu",
    "hard_sigmoid",
    "linear",
    "relu",
    "selu",
    "sigmoid",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
)
"""The eleven Keras activations Goel compares against (121 ordered pairs)."""


def get(name: str | Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Resolve an activation by name: ``"symlog"``, ``"symexp"`` or any Keras activation name."""
    if callable(name):
        return name
    if name in CUSTOM_ACTIVATIONS:
        return CUSTOM_ACTIVATIONS[name]
    try:
        return keras.activations.get(name)
    except (ValueError, TypeError):
        known = sorted(CUSTOM_ACTIVATIONS) + ["relu", "tanh", "..."]
        raise ValueError(f"activation must be a Keras activation name or one of {known}, got {name!r}") from None
