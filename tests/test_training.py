import keras
import numpy as np
import pytest

from multlib import data, metrics, models, training


def _toy(n=2000, seed=0):
    x = data.uniform(n, (0, 1), 2, seed=seed)
    return x, data.target("x1x2", x)


def test_train_learns_a_product_in_range():
    x, y = _toy()
    training.seed_everything(0)
    model = models.relu_mlp(2, 32)
    history = training.train(model, x, y, epochs=30, batch_size=64, learning_rate=1e-2, seed=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 10
    # The mean predictor scores about 0.22 RMSE on a*b; a trained net must beat it clearly.
    assert metrics.rmse(y, models.predict(model, x)) < 0.03


def test_train_is_deterministic():
    x, y = _toy(500)
    weights = []
    for _ in range(2):
        training.seed_everything(3)
        model = models.relu_mlp(2, 8)
        training.train(model, x, y, epochs=2, batch_size=32, seed=3)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_column_targets_train_like_flat_targets():
    # A (n, 1) target against the (n, 1) output and a (n,) target must give the same losses.
    x, y = _toy(256)
    losses = []
    for target in (y, y.reshape(-1, 1)):
        training.seed_everything(1)
        model = models.relu_mlp(2, 4)
        losses.append(training.train(model, x, target, epochs=1, batch_size=32, seed=1).history["loss"])
    assert losses[0] == pytest.approx(losses[1])


def test_divergence_stops_and_says_so():
    x, y = _toy(256)
    y = y * 1e30  # squares of these errors overflow float32 at once
    with pytest.raises(training.TrainingDiverged, match="diverged.*epoch 1"):
        training.train(models.relu_mlp(2, 4), x, y, epochs=3, batch_size=32)


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs must be positive, got 0"),
    ({"epochs": 1, "batch_size": -1}, "batch_size must be positive, got -1"),
    ({"epochs": 1, "learning_rate": 0.0}, "learning_rate must be positive, got 0.0"),
    ({"epochs": 1, "loss": "hinge"}, "loss must be one of"),
])
def test_train_rejects_bad_settings(kwargs, message):
    x, y = _toy(64)
    with pytest.raises(ValueError, match=message):
        training.train(models.relu_mlp(2, 2), x, y, **kwargs)


def test_train_rejects_bad_data():
    x, y = _toy(64)
    with pytest.raises(ValueError, match="as many rows, got 64 and 63"):
        training.train(models.relu_mlp(2, 2), x, y[:-1], epochs=1)
    with pytest.raises(ValueError, match="NaN or inf"):
        training.train(models.relu_mlp(2, 2), x, np.full_like(y, np.nan), epochs=1)
    with pytest.raises(ValueError, match=r"2-D.*\(64,\)"):
        training.train(models.relu_mlp(2, 2), x[:, 0], y, epochs=1)


def test_cosine_schedule_decays_to_zero():
    schedule = training.cosine_schedule(1e-2, n_samples=100, batch_size=10, epochs=3)
    assert float(schedule(0)) == pytest.approx(1e-2)
    assert float(schedule(30)) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="positive number of steps"):
        training.cosine_schedule(1e-2, n_samples=0, batch_size=10, epochs=3)


def test_sweep_returns_results_in_order(capsys):
    assert training.sweep([3, 1, 2], lambda v: v * 10, label="runs") == [30, 10, 20]
    assert "3/3" in capsys.readouterr().out
    with pytest.raises(ValueError, match="values must not be empty"):
        training.sweep([], lambda v: v)
