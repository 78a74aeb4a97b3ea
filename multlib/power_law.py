"""Power laws ``y = c * x1^w1 * ... * xd^wd``, fitted in log space, where they are linear.

Taking logs turns the power law into a linear model, ``log y = log c + sum_i w_i log x_i``, so two
roads lead to the same answer:

* :func:`fit_power_law` solves that linear model by least squares in float64 (``numpy.linalg.lstsq``)
  and returns a :class:`PowerLawFit`;
* :func:`log_feature_model` is the same model as a Keras network, ``x -> log -> Dense(1) -> exp``,
  and :func:`train_log_feature_model` fits it by gradient descent on the squared error of ``log y``.
  That loss is the least-squares objective of the closed form, so the trained network is its
  float32, gradient-descent twin; :meth:`PowerLawFit.from_model` reads the learned exponents back.

The network centres its log features (it subtracts their training mean, a fixed, non-trainable
vector) and starts its bias at the mean of ``log y``. Neither changes what the model can express:
centring removes the strong correlation between the intercept and the exponents (every ``log x_i``
is near 3.5 on ``[10, 100)``) that otherwise makes gradient descent crawl along a narrow valley, and
with centred features the least-squares bias is the mean of ``log y`` whatever the exponents are.
The exponents themselves start at random and are learned.

A power law needs positive inputs and targets. Bad data raises :class:`ValueError` naming the
column (or the target) and how many rows are at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import keras
import numpy as np
from keras import ops

from multlib.data import check_positive_int

__all__ = [
    "PowerLawFit",
    "fit_power_law",
    "LogFeatures",
    "log_mse",
    "log_feature_model",
    "train_log_feature_model",
]

_DENSE_NAME = "power_law"


# --------------------------------------------------------------------------------------- checks


def _column_name(j: int) -> str:
    return f"column {j} (x{j + 1})"


def _check_inputs(X: Any, y: Any | None = None, n_features: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Return ``X`` as float64 ``(n, d)`` and ``y`` as float64 ``(n,)``, all finite and positive."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        hint = "; use X.reshape(-1, 1) for a single feature" if X.ndim == 1 else ""
        raise ValueError(f"X must be 2-D (rows, features), got shape {X.shape}{hint}")
    n, d = X.shape
    if n <= 0:
        raise ValueError(f"X must have at least one row, got {n}")
    if d <= 0:
        raise ValueError(f"X must have at least one column, got shape {X.shape}")
    if n_features is not None and d != n_features:
        raise ValueError(f"X must have {n_features} column(s), got {d}")
    for j in range(d):
        bad = int(np.sum(~np.isfinite(X[:, j])))
        if bad:
            raise ValueError(f"X {_column_name(j)} has {bad} NaN or infinite value(s) out of {n} rows")
        bad = int(np.sum(X[:, j] <= 0))
        if bad:
            raise ValueError(
                f"X {_column_name(j)} has {bad} non-positive value(s) out of {n} rows "
                f"(min {X[:, j].min():.4g}); a power law needs x > 0, since log x is undefined for x <= 0"
            )
    if y is None:
        return X, None
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (rows,) or (rows, 1), got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"X and y must have as many rows, got {n} and {y.shape[0]}")
    bad = int(np.sum(~np.isfinite(y)))
    if bad:
        raise ValueError(f"y (the target) has {bad} NaN or infinite value(s) out of {n} rows")
    bad = int(np.sum(y <= 0))
    if bad:
        raise ValueError(
            f"y (the target) has {bad} non-positive value(s) out of {n} rows (min {y.min():.4g}); "
            "a power law c * prod x_i^w_i with c > 0 is always positive"
        )
    return X, y


# ----------------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class PowerLawFit:
    """A fitted power law ``y = coefficient * prod_i x_i ** exponents[i]``.

    ``log_residual_rms`` is the root mean square of ``log y - log y_fit`` on the data it was fitted
    to: 0 (to rounding) for an exact monomial, clearly above 0 when the data is no power law. It is
    ``None`` for a fit read from a trained network.
    """

    coefficient: float
    exponents: np.ndarray = field(repr=False)
    log_residual_rms: float | None = None

    def __post_init__(self) -> None:
        exponents = np.array(self.exponents, dtype=np.float64).reshape(-1)
        exponents.setflags(write=False)
        object.__setattr__(self, "exponents", exponents)
        object.__setattr__(self, "coefficient", float(self.coefficient))

    @property
    def n_features(self) -> int:
        return int(self.exponents.size)

    def predict(self, X: Any, dtype: Any = np.float64) -> np.ndarray:
        """Evaluate the power law on ``X`` of shape ``(n, n_features)``; returns ``(n,)`` float64.

        The arithmetic (``exp(log c + log X @ w)``) runs in ``dtype``: ``np.float32`` shows what a
        float32 network with these very weights could at best compute.
        """
        X, _ = _check_inputs(X, n_features=self.n_features)
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise ValueError(f"dtype must be a floating-point type, got {dtype}")
        log_c, w = dtype.type(np.log(self.coefficient)), self.exponents.astype(dtype)
        with np.errstate(over="ignore"):
            return np.exp(log_c + np.log(X.astype(dtype)) @ w).astype(np.float64)

    def formula(self, names: Sequence[str] | None = None, digits: int = 6) -> str:
        """The law as text, e.g. ``'0.01 * x1^1 * x2^1'``, numbers to ``digits`` significant digits."""
        names = list(names) if names is not None else [f"x{i + 1}" for i in range(self.n_features)]
        if len(names) != self.n_features:
            raise ValueError(f"names must hold {self.n_features} name(s), got {len(names)}")
        terms = [f"{self.coefficient:.{digits}g}"]
        terms += [f"{name}^{w:.{digits}g}" for name, w in zip(names, self.exponents)]
        return " * ".join(terms)

    def __str__(self) -> str:
        return self.formula()

    def __repr__(self) -> str:
        exps = ", ".join(f"{w:.6g}" for w in self.exponents)
        return f"PowerLawFit(coefficient={self.coefficient:.6g}, exponents=[{exps}])"

    @classmethod
    def from_model(cls, model: keras.Model) -> PowerLawFit:
        """Read the power law a :func:`log_feature_model` has learned (its weights, in float64)."""
        logs = [layer for layer in model.layers if isinstance(layer, LogFeatures)]
        try:
            dense = model.get_layer(_DENSE_NAME)
        except ValueError:
            dense = None
        if len(logs) != 1 or dense is None:
            raise ValueError(f"model must be built by log_feature_model(), got {model.name!r}")
        kernel, bias = (np.asarray(ops.convert_to_numpy(w), dtype=np.float64) for w in dense.weights)
        exponents = kernel[:, 0]
        centre = np.asarray(ops.convert_to_numpy(logs[0].center), dtype=np.float64)
        return cls(coefficient=np.exp(bias[0] - centre @ exponents), exponents=exponents)


# ----------------------------------------------------------------------------- the closed form


def fit_power_law(X: Any, y: Any) -> PowerLawFit:
    """Fit ``y = c * prod_i x_i^w_i`` by least squares on ``log y`` (float64, ``numpy.linalg.lstsq``).

    ``X`` is ``(n, d)`` and ``y`` is ``(n,)``; both must be finite and positive. Raises
    :class:`ValueError` when they are not, naming the column or the target and how many rows are at
    fault, and when the exponents are not identifiable (fewer than ``d + 1`` rows, a constant or
    repeated column).

    >>> x = np.array([[2.0, 3.0], [4.0, 5.0], [6.0, 1.0]])
    >>> fit_power_law(x, x[:, 0] * x[:, 1] / 10)
    PowerLawFit(coefficient=0.1, exponents=[1, 1])
    """
    X, y = _check_inputs(X, y)
    n, d = X.shape
    if n < d + 1:
        raise ValueError(f"X must have at least {d + 1} rows to fit {d} exponent(s) and a coefficient, got {n}")
    log_x = np.log(X)
    centre = log_x.mean(axis=0)  # centring keeps the problem well conditioned; it changes no result
    design = np.column_stack([np.ones(n), log_x - centre])
    solution, _, rank, _ = np.linalg.lstsq(design, np.log(y), rcond=None)
    if rank < d + 1:
        raise ValueError(
            f"the exponents are not identifiable: log X has rank {rank - 1} of {d} after removing the mean "
            "(a constant column, or columns that are powers of each other)"
        )
    exponents = solution[1:]
    residual = np.log(y) - design @ solution
    return PowerLawFit(
        coefficient=np.exp(solution[0] - centre @ exponents),
        exponents=exponents,
        log_residual_rms=float(np.sqrt(np.mean(residual**2))),
    )


# ------------------------------------------------------------------------- the network version


@keras.saving.register_keras_serializable(package="multlib")
class LogFeatures(keras.layers.Layer):
    """``log(x) - center``: the natural log of positive inputs, minus a fixed centre per feature.

    ``center`` is a non-trainable weight (zeros until :meth:`adapt` sets it to the mean log of the
    training inputs). On the TensorFlow backend a non-positive input stops the computation with an
    ``InvalidArgumentError``. Under XLA (``jit_compile=True``) the check is dropped and, as on other
    backends, such an input gives NaN or -inf.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.center = None

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.center = self.add_weight(shape=(input_shape[-1],), initializer="zeros", trainable=False, name="center")

    def adapt(self, X: Any) -> None:
        """Set the centre to the mean of ``log X`` (``X`` positive, shape ``(n, features)``)."""
        X, _ = _check_inputs(X, n_features=self.center.shape[0] if self.center is not None else None)
        if self.center is None:
            self.build(X.shape)
        self.center.assign(np.log(X).mean(axis=0).astype(self.center.dtype))

    def call(self, x: Any) -> Any:
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.debugging.assert_positive(x, message="LogFeatures needs positive inputs (log x is undefined for x <= 0)")
        return ops.log(x) - self.center


@keras.saving.register_keras_serializable(package="multlib")
def log_mse(y_true: Any, y_pred: Any) -> Any:
    """Mean squared error of ``log y``: the least-squares objective of :func:`fit_power_law`."""
    y_pred = ops.reshape(y_pred, (-1,))
    y_true = ops.cast(ops.reshape(y_true, (-1,)), y_pred.dtype)
    return ops.mean(ops.square(ops.log(y_pred) - ops.log(y_true)))


def log_feature_model(n_features: int, name: str | None = None) -> keras.Model:
    """A power law as a Keras model: ``x -> LogFeatures -> Dense(1, name="power_law") -> exp``.

    Its ``n_features + 1`` trainable weights are the exponents (the Dense kernel) and the log of the
    coefficient (the bias, after undoing the centre). Train it with :func:`train_log_feature_model`
    and read the result with :meth:`PowerLawFit.from_model`.
    """
    n_features = check_positive_int(n_features, "n_features")
    return keras.Sequential(
        [
            keras.Input((int(n_features),)),
            LogFeatures(name="log_features"),
            keras.layers.Dense(1, name=_DENSE_NAME),
            keras.layers.Activation("exponential", name="exp"),
        ],
        name=name or f"log_features_{int(n_features)}",
    )


def train_log_feature_model(
    model: keras.Model,
    X: Any,
    y: Any,
    *,
    epochs: int = 20,
    batch_size: int = 256,
    learning_rate: float = 0.1,
    seed: int = 0,
    data_init: bool = True,
    verbose: int = 0,
) -> keras.callbacks.History:
    """Fit a :func:`log_feature_model` by Adam on :func:`log_mse`, the rate decaying along a cosine.

    The inputs and targets are checked first (positive and finite, with the same messages as
    :func:`fit_power_law`). With ``data_init=True`` (the default) the log features are centred on
    ``X`` and the bias starts at the mean of ``log y``, which is its least-squares value whatever the
    exponents are once the features are centred; the exponents start at Keras's random initial
    values and are left to gradient descent. ``data_init=False`` leaves the centre and the bias at
    0, to show what this buys.
    """
    from multlib import training  # local import: training pulls in nothing from here

    X, y = _check_inputs(X, y, n_features=model.inputs[0].shape[-1] if model.inputs else None)
    if data_init:
        model.get_layer("log_features").adapt(X)
        dense = model.get_layer(_DENSE_NAME)
        dense.bias.assign(np.full(dense.bias.shape, np.log(y).mean(), dtype=dense.bias.dtype))
    schedule = training.cosine_schedule(learning_rate, len(X), batch_size, epochs)
    return training.train(
        model, X, y, epochs=epochs, batch_size=batch_size, learning_rate=schedule, loss=log_mse,
        seed=seed, verbose=verbose,
    )
