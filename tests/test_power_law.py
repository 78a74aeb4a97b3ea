"""Power-law fits in log space: the float64 closed form and its Keras gradient-descent twin."""

import keras
import numpy as np
import pytest

from multlib import data, metrics, models, training
from multlib.power_law import LogFeatures, PowerLawFit, log_mse


def _monomial(coefficient, exponents, n=500, value_range=(10.0, 100.0), seed=0):
    x = data.uniform(n, value_range, n_features=len(exponents), seed=seed)
    return x, coefficient * np.prod(x ** np.asarray(exponents, dtype=float), axis=1)


# -------------------------------------------------------------------------------- closed form


@pytest.mark.parametrize("coefficient, exponents", [
    (1.0, [1.0, 1.0]),                 # the blog's a * b
    (0.001, [1.0, 1.0, 1.0, 1.0]),     # x1x2x3x4/1000
    (2.5, [1.0, -1.0]),                # division
    (3.0, [0.5, -2.0, 1.5]),           # roots and inverse squares
    (7.0, [-3.0]),                     # one feature
])
def test_recovers_noiseless_monomials_exactly(coefficient, exponents):
    x, y = _monomial(coefficient, exponents)
    fit = models.fit_power_law(x, y)
    assert isinstance(fit, PowerLawFit) and fit.n_features == len(exponents)
    np.testing.assert_allclose(fit.exponents, exponents, rtol=0, atol=1e-10)
    assert fit.coefficient == pytest.approx(coefficient, rel=1e-10)
    assert fit.log_residual_rms < 1e-12


def test_recovers_the_papers_task_and_extrapolates():
    split = data.make_split("x1x2x3/100", 1000, 1000, seed=3)
    fit = models.fit_power_law(split.x_train, split.y_train)
    np.testing.assert_allclose(fit.exponents, [1.0, 1.0, 1.0], atol=1e-10)
    assert fit.coefficient == pytest.approx(0.01, rel=1e-10)
    # Trained on [10, 100), evaluated on the disjoint [100, 1000): still exact to float64 rounding.
    assert metrics.max_relative_error(split.y_test, fit.predict(split.x_test)) < 1e-10


def test_float32_prediction_shows_the_float32_floor():
    split = data.make_split("x1x2x3x4/1000", 1000, 1000, seed=4)
    fit = models.fit_power_law(split.x_train, split.y_train)
    err32 = metrics.max_relative_error(split.y_test, fit.predict(split.x_test, dtype=np.float32))
    err64 = metrics.max_relative_error(split.y_test, fit.predict(split.x_test))
    assert err64 < 1e-12 < 1e-8 < err32 < 1e-5
    with pytest.raises(ValueError, match="floating-point"):
        fit.predict(split.x_test, dtype=np.int32)


def test_fits_noisy_data_in_the_least_squares_sense():
    x, y = _monomial(2.0, [1.0, 0.5], n=4000, seed=5)
    noisy = y * np.exp(np.random.default_rng(5).normal(0, 0.01, size=y.shape))
    fit = models.fit_power_law(x, noisy)
    np.testing.assert_allclose(fit.exponents, [1.0, 0.5], atol=2e-3)
    assert fit.log_residual_rms == pytest.approx(0.01, rel=0.05)


def test_formula_and_repr():
    fit = PowerLawFit(coefficient=0.01, exponents=[1.0, -1.0])
    assert fit.formula() == "0.01 * x1^1 * x2^-1"
    assert fit.formula(["a", "b"], digits=3) == "0.01 * a^1 * b^-1"
    assert str(fit) == fit.formula()
    assert repr(fit) == "PowerLawFit(coefficient=0.01, exponents=[1, -1])"
    assert not fit.exponents.flags.writeable
    with pytest.raises(ValueError, match="names must hold 2"):
        fit.formula(["a"])


# ------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("x, y, message", [
    ([[1.0, 2.0], [3.0, 0.0], [5.0, 6.0], [7.0, -8.0]], [1.0, 2.0, 3.0, 4.0],
     r"X column 1 \(x2\) has 2 non-positive value\(s\) out of 4 rows"),
    ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [1.0, -2.0, 0.0],
     r"y \(the target\) has 2 non-positive value\(s\) out of 3 rows"),
    ([[1.0, np.nan], [3.0, 4.0], [5.0, 6.0]], [1.0, 2.0, 3.0],
     r"X column 1 \(x2\) has 1 NaN or infinite value\(s\) out of 3 rows"),
    ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [1.0, np.inf, 3.0],
     r"y \(the target\) has 1 NaN or infinite value\(s\) out of 3 rows"),
    ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [1.0, 2.0],
     r"X and y must have as many rows, got 3 and 2"),
    (np.ones((0, 2)), np.ones(0), r"X must have at least one row, got 0"),
    ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], r"X must be 2-D .* got shape \(3,\); use X.reshape\(-1, 1\)"),
    ([[1.0, 2.0], [3.0, 4.0]], [1.0, 2.0], r"at least 3 rows to fit 2 exponent\(s\) and a coefficient, got 2"),
    ([[1.0, 2.0], [1.0, 4.0], [1.0, 6.0]], [1.0, 2.0, 3.0], r"not identifiable"),
    ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], r"y must be 1-D"),
])
def test_bad_input_is_rejected_with_a_message_that_names_it(x, y, message):
    with pytest.raises(ValueError, match=message):
        models.fit_power_law(x, y)


def test_predict_checks_its_input():
    fit = PowerLawFit(coefficient=1.0, exponents=[1.0, 1.0])
    with pytest.raises(ValueError, match=r"X must have 2 column\(s\), got 3"):
        fit.predict(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"X column 0 \(x1\) has 1 non-positive value\(s\) out of 2 rows"):
        fit.predict([[-1.0, 2.0], [3.0, 4.0]])


# --------------------------------------------------------------------------- the Keras twin


def test_keras_log_feature_model_learns_the_exponents():
    split = data.make_split("x1x2/10", 2000, 1000, seed=6)
    training.seed_everything(6)
    model = models.log_feature_model(2)
    assert model.count_params() == 2 + 1 + 2  # exponents, bias, and the non-trainable centre
    models.train_log_feature_model(model, split.x_train, split.y_train, epochs=10, batch_size=64, seed=6)
    learned = PowerLawFit.from_model(model)
    np.testing.assert_allclose(learned.exponents, [1.0, 1.0], atol=1e-4)
    assert learned.coefficient == pytest.approx(0.1, rel=1e-3)
    assert metrics.percentage_error(split.y_test, models.predict(model, split.x_test)) < 0.01


def test_log_feature_model_saves_and_loads(tmp_path):
    keras.utils.set_random_seed(7)
    model = models.log_feature_model(3)
    x, y = _monomial(0.5, [1.0, 2.0, -1.0], n=256, seed=7)
    models.train_log_feature_model(model, x, y, epochs=1, batch_size=64)
    model.save(tmp_path / "power_law.keras")
    loaded = keras.saving.load_model(tmp_path / "power_law.keras")  # LogFeatures and log_mse are registered
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_array_equal(PowerLawFit.from_model(loaded).exponents, PowerLawFit.from_model(model).exponents)


def test_log_features_layer_refuses_non_positive_inputs():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the in-graph check uses TensorFlow")
    model = models.log_feature_model(2)
    with pytest.raises(Exception, match="LogFeatures needs positive inputs"):
        model.predict(np.array([[1.0, -2.0]], np.float32), verbose=0)


def test_training_checks_the_data_first():
    model = models.log_feature_model(2)
    x, y = _monomial(1.0, [1.0, 1.0], n=10)
    x[3, 0] = 0.0
    with pytest.raises(ValueError, match=r"X column 0 \(x1\) has 1 non-positive value\(s\) out of 10 rows"):
        models.train_log_feature_model(model, x, y, epochs=1)
    with pytest.raises(ValueError, match=r"X must have 2 column\(s\), got 3"):
        models.train_log_feature_model(model, np.ones((5, 3)), np.ones(5), epochs=1)


def test_from_model_and_builder_reject_bad_arguments():
    with pytest.raises(ValueError, match="log_feature_model"):
        PowerLawFit.from_model(models.relu_mlp(2, 4))
    with pytest.raises(ValueError, match="n_features must be a positive integer, got 0"):
        models.log_feature_model(0)


def test_log_mse_is_the_squared_error_of_logs():
    y_true = np.array([1.0, 10.0, 100.0], np.float32)
    y_pred = np.array([[np.e], [10.0], [100.0 * np.e]], np.float32)
    assert float(log_mse(y_true, y_pred)) == pytest.approx(2.0 / 3.0, rel=1e-6)
    assert isinstance(models.log_feature_model(2).layers[0], LogFeatures)
