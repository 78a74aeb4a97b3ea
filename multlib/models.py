"""Model builders: the blog's ReLU multiplier and the paper's two-hidden-layer network."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import keras
import numpy as np

from multlib import activations
from multlib.data import check_positive_int as _check_positive

__all__ = ["relu_mlp", "paper_model", "predict"]

Activation = str | Callable[[Any], Any]


def relu_mlp(n_features: int = 2, hidden_units: int | Sequence[int] = 80, name: str | None = None) -> keras.Model:
    """A plain MLP of ReLU layers and a linear output: the blog's ``DNNRegressor(hidden_units=[80])``."""
    _check_positive(n_features, "n_features")
    widths = [hidden_units] if isinstance(hidden_units, (int, np.integer)) else list(hidden_units)
    if not widths:
        raise ValueError(f"hidden_units must name at least one layer, got {hidden_units!r}")
    for w in widths:
        _check_positive(w, "hidden_units")
    layers: list[keras.layers.Layer] = [keras.Input((n_features,))]
    layers += [keras.layers.Dense(int(w), activation="relu") for w in widths]
    layers.append(keras.layers.Dense(1))
    return keras.Sequential(layers, name=name or f"relu_{'x'.join(map(str, widths))}")


def paper_model(
    n_features: int,
    activations: tuple[Activation, Activation] = ("symlog", "symexp"),
    hidden_units: tuple[int, int] = (16, 12),
    name: str | None = None,
) -> keras.Model:
    """Goel's Fig. 5-6 network: ``Dense(16, a1) -> Dense(12, a2) -> Dense(1)``.

    ``activations`` are names (Keras's own, or ``"symlog"``/``"symexp"``) or callables. With four
    inputs and the default widths the model has 297 parameters, as in the paper's Fig. 6.
    """
    _check_positive(n_features, "n_features")
    if len(activations) != 2:
        raise ValueError(f"activations must be a pair (first, second), got {activations!r}")
    a1, a2 = (_resolve(a) for a in activations)
    h1, h2 = (_check_positive(h, "hidden_units") for h in hidden_units)
    label = name or "paper_" + "_".join(a if isinstance(a, str) else a.__name__ for a in activations)
    return keras.Sequential(
        [keras.Input((n_features,)), keras.layers.Dense(h1, activation=a1), keras.layers.Dense(h2, activation=a2), keras.layers.Dense(1)],
        name=label,
    )


def _resolve(a: Activation) -> Callable[[Any], Any]:
    return activations.get(a)


def predict(model: keras.Model, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Predict and return a flat float64 array of shape ``(n,)``."""
    x = np.asarray(x, dtype=np.float32)
    expected = model.inputs[0].shape[-1] if model.inputs else None
    if x.ndim != 2 or (expected is not None and x.shape[1] != expected):
        raise ValueError(f"x must have shape (n, {expected}), got {x.shape}")
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64).reshape(-1)


# Power laws fitted in log space (closed form and Keras twin) live in their own module.
from multlib.power_law import (  # noqa: E402
    PowerLawFit,
    fit_power_law,
    log_feature_model,
    train_log_feature_model,
)

__all__ += ["PowerLawFit", "fit_power_law", "log_feature_model", "train_log_feature_model"]
