"""Error measures, in NumPy for reporting and in Keras for training.

Every function flattens ``y_true`` and ``y_pred`` to one shape first: a ``(batch,)`` target
against a ``(batch, 1)`` prediction would otherwise broadcast to ``(batch, batch)`` and quietly
train or score a model against the mean of the batch.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
from keras import ops

__all__ = ["ROUNDING_FLOOR", "format_error", "rmse", "mae", "percentage_error", "max_relative_error",
           "keras_mae", "keras_mse", "keras_percentage_error"]

#: Relative error below which a result is rounding, not model: its digits change with the CPU's kernels
#: (numpy's BLAS, TensorFlow's oneDNN, the thread count). Compare such a number against this absolute
#: ceiling (``math.isclose(a, b, rel_tol=..., abs_tol=ROUNDING_FLOOR["float64"])``), never as a ratio,
#: and print it with :func:`format_error`. float64 rounds at 1.1e-16 and float32 at 6e-8; the floors
#: leave room for the thousands of roundings in a fit.
ROUNDING_FLOOR: dict[str, float] = {"float64": 1e-12, "float32": 1e-6}


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.size != p.size:
        raise ValueError(f"y_true and y_pred must hold as many values, got shapes {t.shape} and {p.shape}")
    if t.size == 0:
        raise ValueError("y_true must not be empty")
    return t.reshape(-1), p.reshape(-1)


def format_error(value: float, floor: float = ROUNDING_FLOOR["float64"], spec: str = ".1e") -> str:
    """``value`` formatted with ``spec``, or ``"< 1e-12"`` (the floor) when it lies below ``floor``.

    A rounding-level error prints as the bound it is under, so that a stored output reads the same on
    every CPU; an error above the floor keeps its digits.
    """
    if not floor > 0:
        raise ValueError(f"floor must be positive, got {floor!r}")
    if math.isnan(value):
        raise ValueError(f"value must be a number, got {value!r}")
    return f"< {floor:.0e}" if abs(value) < floor else f"{value:{spec}}"


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error."""
    t, p = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(np.abs(p - t)))


def percentage_error(y_true: Any, y_pred: Any) -> float:
    """Goel's eq. (3): ``100/n * sum |y_pred - y| / |y|``, in percent. ``y`` must be non-zero."""
    t, p = _pair(y_true, y_pred)
    if np.any(t == 0):
        raise ValueError(f"y_true must be non-zero for a percentage error; {int(np.sum(t == 0))} value(s) are 0")
    return float(100.0 * np.mean(np.abs(p - t) / np.abs(t)))


def max_relative_error(y_true: Any, y_pred: Any) -> float:
    """The worst ``|y_pred - y| / |y|`` over all points (a fraction, not percent)."""
    t, p = _pair(y_true, y_pred)
    if np.any(t == 0):
        raise ValueError(f"y_true must be non-zero for a relative error; {int(np.sum(t == 0))} value(s) are 0")
    return float(np.max(np.abs(p - t) / np.abs(t)))


def _flat(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    y_pred = ops.reshape(y_pred, (-1,))
    y_true = ops.cast(ops.reshape(y_true, (-1,)), y_pred.dtype)
    return y_true, y_pred


@keras.saving.register_keras_serializable(package="multlib")
def keras_mae(y_true: Any, y_pred: Any) -> Any:
    """Mean absolute error as a Keras loss, with both sides reshaped to ``(batch,)``."""
    y_true, y_pred = _flat(y_true, y_pred)
    return ops.mean(ops.abs(y_pred - y_true))


@keras.saving.register_keras_serializable(package="multlib")
def keras_mse(y_true: Any, y_pred: Any) -> Any:
    """Mean squared error as a Keras loss, with both sides reshaped to ``(batch,)``."""
    y_true, y_pred = _flat(y_true, y_pred)
    return ops.mean(ops.square(y_pred - y_true))


@keras.saving.register_keras_serializable(package="multlib")
def keras_percentage_error(y_true: Any, y_pred: Any) -> Any:
    """Eq. (3) as a Keras metric (percent), with both sides reshaped to ``(batch,)``."""
    y_true, y_pred = _flat(y_true, y_pred)
    return 100.0 * ops.mean(ops.abs(y_pred - y_true) / ops.abs(y_true))
