"""symlog and symexp: values, gradients, round trips, dtypes, and use inside saved Keras models."""

import math

import keras
import numpy as np
import pytest

from multlib import activations, models
from multlib.activations import symexp, symlog

tf = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="gradients use tf.GradientTape")

DTYPES = [np.float32, np.float64]
EPS = {np.float32: np.finfo(np.float32).eps, np.float64: np.finfo(np.float64).eps}

# Points for symlog: zeros of both signs, tiny, ordinary and huge magnitudes, up to the float32 maximum.
LOG_POINTS = [0.0, -0.0, 1e-30, -1e-30, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 3.0, -7.5,
              1e3, -1e6, 1e30, -1e30, 3e38, -3e38]
# Points for symexp: up to and past the overflow of float32 (88.7) and float64 (709.8).
EXP_POINTS = [0.0, -0.0, 1e-30, -1e-30, 1e-8, -0.5, 0.5, 1.0, -1.0, 10.0, -20.0, 80.0, -88.0,
              100.0, -100.0, 700.0, -710.0]


def _symlog_ref(x: float) -> float:
    return math.log1p(x) if x >= 0 else -math.log1p(-x)


def _symexp_ref(x: float) -> float:
    try:
        return math.expm1(x) if x >= 0 else -math.expm1(-x)
    except OverflowError:
        return math.copysign(math.inf, x)


def _reference(fn, points, dtype):
    with np.errstate(over="ignore"):
        return np.array([fn(float(dtype(p))) for p in points]).astype(dtype)


def _as_numpy(value) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


def _gradient(fn, x: np.ndarray) -> np.ndarray:
    t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        out = fn(t)
    return tape.gradient(out, t).numpy()


# ----------------------------------------------------------------------------------------- values


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("as_tensor", [False, True], ids=["numpy", "tensor"])
@pytest.mark.parametrize("fn, ref, points", [(symlog, _symlog_ref, LOG_POINTS), (symexp, _symexp_ref, EXP_POINTS)],
                         ids=["symlog", "symexp"])
def test_values_match_the_formulas(fn, ref, points, dtype, as_tensor):
    x = np.array(points, dtype=dtype)
    got = _as_numpy(fn(keras.ops.convert_to_tensor(x) if as_tensor else x))
    expected = _reference(ref, points, dtype)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=4 * EPS[dtype], atol=0)
    assert not np.any(np.isnan(got))


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_tiny_and_overflow(dtype):
    assert symlog(dtype(0.0)) == 0 and symlog(dtype(-0.0)) == 0
    assert symexp(dtype(0.0)) == 0 and symexp(dtype(-0.0)) == 0
    # Near 0 both functions are the identity to first order; log1p/expm1 keep tiny inputs exact.
    assert symlog(dtype(1e-30)) == dtype(1e-30) and symexp(dtype(-1e-30)) == dtype(-1e-30)
    big = 100.0 if dtype is np.float32 else 1000.0
    assert _as_numpy(symexp(np.array([big, -big], dtype))).tolist() == [math.inf, -math.inf]


# -------------------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", [symlog, symexp])
def test_gradient_at_zero_is_one_from_both_sides(fn, dtype):
    x = np.array([0.0, -0.0, 1e-30, -1e-30, 1e-12, -1e-12], dtype=dtype)
    np.testing.assert_allclose(_gradient(fn, x), 1.0, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_symlog_gradient_matches_the_derivative_and_is_never_nan(dtype):
    x = np.array(LOG_POINTS, dtype=dtype)
    grad = _gradient(symlog, x)
    expected = (1.0 / (1.0 + np.abs(x.astype(np.float64)))).astype(dtype)
    tiny = np.finfo(dtype).tiny  # TensorFlow on CPU flushes subnormal results (1 / 3e38 in float32) to 0
    np.testing.assert_allclose(grad, expected, rtol=4 * EPS[dtype], atol=tiny)
    assert not np.any(np.isnan(grad))


@pytest.mark.parametrize("dtype", DTYPES)
def test_symexp_gradient_matches_the_derivative_and_is_never_nan(dtype):
    x = np.array(EXP_POINTS, dtype=dtype)
    grad = _gradient(symexp, x)
    with np.errstate(over="ignore"):
        expected = np.exp(np.abs(x.astype(np.float64))).astype(dtype)
    np.testing.assert_allclose(grad, expected, rtol=4 * EPS[dtype])
    assert not np.any(np.isnan(grad))
    # Past the overflow the value is +-inf (documented) and so is the gradient: never NaN.
    assert np.isinf(grad[np.isinf(_as_numpy(symexp(x)))]).all()


def test_each_branch_stays_finite_in_a_loss():
    # A naive where() would back-propagate 0 * inf = NaN from the branch it does not take.
    x = tf.constant([-100.0, -50.0, 0.0, 50.0], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(symexp(symlog(x)))
    grad = tape.gradient(loss, x).numpy()
    np.testing.assert_allclose(grad, 1.0, rtol=1e-5)


# ------------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize("dtype", DTYPES)
def test_symexp_inverts_symlog_to_float_precision(dtype):
    x = np.concatenate([np.array(LOG_POINTS[:-2]), np.geomspace(1e-6, 1e20, 200), -np.geomspace(1e-6, 1e20, 200)])
    x = x.astype(dtype)
    back = _as_numpy(symexp(symlog(x)))
    # symexp amplifies the rounding of symlog(x) by |symlog(x)|: the condition number of exp at that point.
    rtol = 4 * EPS[dtype] * np.maximum(1.0, np.abs(np.log1p(np.abs(x.astype(np.float64)))))
    assert np.all(np.abs(back - x) <= rtol * np.abs(x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_symlog_inverts_symexp(dtype):
    y = np.linspace(-60, 60, 241).astype(dtype)
    np.testing.assert_allclose(_as_numpy(symlog(symexp(y))), y, rtol=8 * EPS[dtype], atol=8 * EPS[dtype])


# ------------------------------------------------------------------------------- dtypes and shapes


@pytest.mark.parametrize("fn", [symlog, symexp])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_and_shape_are_preserved(fn, dtype):
    x = np.linspace(-3, 3, 24, dtype=dtype).reshape(2, 3, 4)
    out = fn(x)
    assert isinstance(out, np.ndarray) and out.shape == x.shape and out.dtype == dtype
    tensor_out = fn(keras.ops.convert_to_tensor(x))
    assert tuple(tensor_out.shape) == x.shape
    assert keras.backend.standardize_dtype(tensor_out.dtype) == np.dtype(dtype).name
    np.testing.assert_allclose(_as_numpy(tensor_out), out, rtol=4 * EPS[dtype])


def test_integer_and_scalar_inputs_give_floats():
    assert symlog(np.array([0, 1, -3])).dtype == np.float64
    assert symlog(np.float32(2.0)).dtype == np.float32
    assert float(symexp(1)) == pytest.approx(math.e - 1)


# --------------------------------------------------------------------------------- inside models


def test_dense_layer_accepts_symlog():
    layer = keras.layers.Dense(16, activation=symlog)
    out = layer(np.ones((5, 3), np.float32))
    assert tuple(out.shape) == (5, 16) and layer.activation is symlog


def test_model_saves_and_loads_without_custom_objects(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((3,)),
        keras.layers.Dense(8, activation=symlog),
        keras.layers.Dense(6, activation=activations.get("symexp")),
        keras.layers.Dense(1),
    ])
    x = np.random.default_rng(0).uniform(-5, 5, size=(32, 3)).astype(np.float32)
    path = tmp_path / "symlog_symexp.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects: multlib registered both functions
    assert loaded.layers[0].activation is symlog and loaded.layers[1].activation is symexp
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_paper_model_round_trips_through_a_keras_file(tmp_path):
    keras.utils.set_random_seed(1)
    model = models.paper_model(4, activations=("symlog", "symexp"))
    x = np.random.default_rng(1).uniform(10, 100, size=(16, 4)).astype(np.float32)
    model.save(tmp_path / "paper.keras")
    loaded = keras.saving.load_model(tmp_path / "paper.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_paper_model_accepts_the_names():
    model = models.paper_model(2, activations=("symlog", "symexp"))
    assert model.layers[0].activation is symlog and model.layers[1].activation is symexp
    assert activations.get("symlog") is symlog and activations.get(symexp) is symexp


@pytest.mark.parametrize("bad", ["symlogg", "Symexp", "log"])
def test_bad_names_raise_value_error_naming_the_value(bad):
    with pytest.raises(ValueError, match=repr(bad)):
        activations.get(bad)
    with pytest.raises(ValueError, match=repr(bad)):
        models.paper_model(2, activations=("symlog", bad))


def test_product_offset_known_values_and_scaling():
    from multlib.activations import product_offset

    x = np.array([[10.0, 10.0], [1.0, 4.0]])
    # ((1 + x1)(1 + x2) - 1) / (x1 x2) - 1 = 1/x1 + 1/x2
    np.testing.assert_allclose(product_offset(x), [0.2, 1.25], rtol=1e-12)
    # Scaled inputs, output divided by s^2: the offset becomes (1/x1 + 1/x2) / s
    np.testing.assert_allclose(product_offset(x, 1e3), [0.2e-3, 1.25e-3], rtol=1e-9)
    assert product_offset(np.array([[20.0, 30.0, 40.0]]))[0] == pytest.approx((21 * 31 * 41 - 1) / 24000 - 1)
    with pytest.raises(ValueError, match="1 value"):
        product_offset(np.array([[0.0, 2.0]]))
    with pytest.raises(ValueError, match=r"2-D.*\(2,\)"):
        product_offset(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="scale must be positive, got 0"):
        product_offset(x, 0)
