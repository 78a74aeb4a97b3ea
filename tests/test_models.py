import keras
import numpy as np
import pytest

from multlib import models


def test_relu_mlp_is_the_blog_network():
    model = models.relu_mlp(2, 80)
    assert model.count_params() == 2 * 80 + 80 + 80 + 1
    assert model.layers[0].activation is keras.activations.relu
    deep = models.relu_mlp(3, [8, 4])
    assert [layer.units for layer in deep.layers] == [8, 4, 1]


@pytest.mark.parametrize("kwargs, message", [
    ({"n_features": 0}, "n_features must be a positive integer, got 0"),
    ({"hidden_units": 0}, "hidden_units must be a positive integer, got 0"),
    ({"hidden_units": []}, "hidden_units must name at least one layer"),
])
def test_relu_mlp_rejects_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.relu_mlp(**kwargs)


def test_paper_model_has_297_parameters_with_four_inputs():
    model = models.paper_model(4)
    assert model.count_params() == 297
    assert [layer.units for layer in model.layers] == [16, 12, 1]


def test_paper_model_accepts_keras_names_and_rejects_unknown():
    model = models.paper_model(2, activations=("relu", "tanh"))
    assert model.layers[1].activation is keras.activations.tanh
    with pytest.raises(ValueError, match="'relux'"):
        models.paper_model(2, activations=("relux", "tanh"))
    with pytest.raises(ValueError, match="pair"):
        models.paper_model(2, activations=("relu",))


def test_predict_returns_flat_array_and_checks_width():
    model = models.relu_mlp(2, 4)
    out = models.predict(model, np.ones((7, 2)))
    assert out.shape == (7,) and out.dtype == np.float64
    with pytest.raises(ValueError, match=r"shape \(n, 2\), got \(7, 3\)"):
        models.predict(model, np.ones((7, 3)))
