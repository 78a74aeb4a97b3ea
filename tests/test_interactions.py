"""The interaction layers compute their formulas exactly, train, serialise and reject bad inputs clearly."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from multlib.interactions import (  # noqa: E402
    GLU, DiagonalGating, FiLM, Hypernetwork, MultiplicativeInteraction, concat_mlp)

DX, DZ, BATCH = 3, 4, 5
RNG = np.random.default_rng(0)
X = RNG.normal(size=(BATCH, DX)).astype("float32")
Z = RNG.normal(size=(BATCH, DZ)).astype("float32")

PAIR_LAYERS = {
    "mi_full": lambda: MultiplicativeInteraction(2),
    "mi_rank2": lambda: MultiplicativeInteraction(2, rank=2),
    "mi_no_bias": lambda: MultiplicativeInteraction(2, use_bias=False),
    "gating": lambda: DiagonalGating(2, activation="sigmoid"),
    "film": lambda: FiLM(),
    "film_projected": lambda: FiLM(2),
    "hyper_linear": lambda: Hypernetwork(2, hidden=4),
    "hyper_mlp": lambda: Hypernetwork(2, hidden=[4, 3], x_hidden=3),
}


def _set(layer: keras.layers.Layer, **values: np.ndarray) -> None:
    for name, value in values.items():
        getattr(layer, name).assign(np.asarray(value, dtype="float32"))


def _np(t) -> np.ndarray:
    # a keras.Variable through convert_to_numpy warns under NumPy 2; .numpy() does not
    return np.asarray(t.numpy() if hasattr(t, "numpy") else keras.ops.convert_to_numpy(t))


# --------------------------------------------------------------------------------------------------
# shapes
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAIR_LAYERS))
def test_pair_layers_map_x_and_z_to_the_declared_shape(name):
    layer = PAIR_LAYERS[name]()
    out = layer([X, Z])
    width = DX if name == "film" else 2
    assert tuple(out.shape) == (BATCH, width)
    assert layer.compute_output_shape([(None, DX), (None, DZ)]) == (None, width)


def test_weight_shapes_and_counts():
    full = MultiplicativeInteraction(6)
    full([X, Z])
    assert tuple(full.kernel.shape) == (DZ, DX, 6)
    assert full.count_params() == DZ * DX * 6 + DZ * 6 + DX * 6 + 6
    low = MultiplicativeInteraction(6, rank=2)
    low([X, Z])
    assert low.count_params() == 2 * (DZ + DX + 6) + DZ * 6 + DX * 6 + 6
    assert tuple(low.full_kernel().shape) == (DZ, DX, 6)
    assert GLU(7)(X).shape == (BATCH, 7)


def test_concat_mlp_is_a_two_input_model_of_the_given_widths():
    model = concat_mlp(DX, DZ, [8, 5], units=2)
    assert tuple(model([X, Z]).shape) == (BATCH, 2)
    assert [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)] == [8, 5, 2]
    assert concat_mlp(DX, DZ, 8).count_params() == (DX + DZ + 1) * 8 + 8 + 1


# --------------------------------------------------------------------------------------------------
# known weights give the exact operation
# --------------------------------------------------------------------------------------------------


def test_mi_with_a_single_one_in_w_is_exactly_x1_times_z1():
    layer = MultiplicativeInteraction(1)
    layer([X, Z])
    w = np.zeros((DZ, DX, 1))
    w[0, 0, 0] = 1.0
    _set(layer, kernel=w, z_kernel=np.zeros((DZ, 1)), x_kernel=np.zeros((DX, 1)), bias=np.zeros(1))
    np.testing.assert_array_equal(_np(layer([X, Z]))[:, 0], X[:, 0] * Z[:, 0])


def test_mi_computes_every_term_of_its_formula():
    layer = MultiplicativeInteraction(2)
    layer([X, Z])
    w, u, v, b = (RNG.normal(size=s) for s in [(DZ, DX, 2), (DZ, 2), (DX, 2), (2,)])
    _set(layer, kernel=w, z_kernel=u, x_kernel=v, bias=b)
    expected = np.einsum("bi,ijk,bj->bk", Z, w, X) + Z @ u + X @ v + b
    np.testing.assert_allclose(_np(layer([X, Z])), expected, rtol=1e-5, atol=1e-5)


def test_rank_one_mi_is_the_product_of_two_projections():
    layer = MultiplicativeInteraction(1, rank=1, use_bias=False)
    layer([X, Z])
    p, q = np.zeros((DZ, 1)), np.zeros((DX, 1))
    p[1, 0], q[2, 0] = 1.0, 1.0
    _set(layer, z_factor=p, x_factor=q, out_factor=[[1.0]])
    np.testing.assert_array_equal(_np(layer([X, Z]))[:, 0], Z[:, 1] * X[:, 2])
    expected_w = np.zeros((DZ, DX, 1))
    expected_w[1, 2, 0] = 1.0
    np.testing.assert_array_equal(_np(layer.full_kernel()), expected_w)


def test_low_rank_mi_equals_the_full_layer_with_its_kernel():
    low = MultiplicativeInteraction(3, rank=2)
    low([X, Z])
    full = MultiplicativeInteraction(3)
    full([X, Z])
    _set(full, kernel=_np(low.full_kernel()), z_kernel=_np(low.z_kernel), x_kernel=_np(low.x_kernel),
         bias=_np(low.bias))
    np.testing.assert_allclose(_np(low([X, Z])), _np(full([X, Z])), rtol=1e-5, atol=1e-5)


def test_film_with_gamma_z_and_beta_zero_multiplies():
    layer = FiLM()
    x, z = X, Z[:, :DX]  # gamma(z) = z needs dz = dx
    layer([x, z])
    _set(layer, gamma_kernel=np.eye(DX), gamma_bias=np.zeros(DX), beta_kernel=np.zeros((DX, DX)),
         beta_bias=np.zeros(DX))
    np.testing.assert_array_equal(_np(layer([x, z])), x * z)


def test_an_untrained_film_passes_x_through_plus_a_linear_shift():
    layer = FiLM()
    layer([X, Z])
    _set(layer, gamma_kernel=np.zeros((DZ, DX)))
    expected = X + Z @ _np(layer.beta_kernel)
    np.testing.assert_allclose(_np(layer([X, Z])), expected, rtol=1e-6, atol=1e-6)


def test_diagonal_gating_is_a_product_and_a_sigmoid_gate():
    bare = DiagonalGating(1)
    bare([X, Z])
    a, bx = np.zeros((DZ, 1)), np.zeros((DX, 1))
    a[0, 0], bx[0, 0] = 1.0, 1.0
    _set(bare, gate_kernel=a, kernel=bx)
    np.testing.assert_array_equal(_np(bare([X, Z]))[:, 0], Z[:, 0] * X[:, 0])
    gate = DiagonalGating(1, activation="sigmoid")
    gate([X, Z])
    _set(gate, gate_kernel=a, kernel=bx)
    np.testing.assert_allclose(_np(gate([X, Z]))[:, 0], X[:, 0] / (1 + np.exp(-Z[:, 0])), rtol=1e-6)


@pytest.mark.parametrize("activation, gate", [
    (None, lambda t: t),
    ("sigmoid", lambda t: 1 / (1 + np.exp(-t))),
    ("silu", lambda t: t / (1 + np.exp(-t))),
])
def test_glu_gates_one_projection_with_another(activation, gate):
    layer = GLU(1, activation=activation)
    layer(X)
    a, b = np.zeros((DX, 1)), np.zeros((DX, 1))
    a[0, 0], b[1, 0] = 1.0, 1.0
    _set(layer, kernel=a, gate_kernel=b)
    np.testing.assert_allclose(_np(layer(X))[:, 0], X[:, 0] * gate(X[:, 1]), rtol=1e-6, atol=1e-7)


def test_a_hypernetwork_without_hidden_layers_is_the_mi_layer():
    # theta(z) = z T + t, linear in z: f = x A(z) + a(z) is z^T W x + z^T U + V x + b with
    # W[i, j, k] = T[i, j * units + k], V = t[:dx * units], U and b from the bias block.
    hyper, mi = Hypernetwork(2, hidden=[]), MultiplicativeInteraction(2)
    hyper([X, Z]), mi([X, Z])
    theta_k = RNG.normal(size=(DZ, DX * 2 + 2)).astype("float32")
    theta_b = RNG.normal(size=(DX * 2 + 2,)).astype("float32")
    _set(hyper, theta_kernel=theta_k, theta_bias=theta_b)
    _set(mi, kernel=theta_k[:, :DX * 2].reshape(DZ, DX, 2), z_kernel=theta_k[:, DX * 2:],
         x_kernel=theta_b[:DX * 2].reshape(DX, 2), bias=theta_b[DX * 2:])
    np.testing.assert_allclose(_np(hyper([X, Z])), _np(mi([X, Z])), rtol=1e-5, atol=1e-5)


def test_a_hypernetwork_computes_the_network_its_weights_describe():
    layer = Hypernetwork(1, hidden=3, x_hidden=2)
    out = _np(layer([X, Z]))
    h = np.maximum(Z @ _np(layer.z_layers[0][0]) + _np(layer.z_layers[0][1]), 0)
    theta = h @ _np(layer.theta_kernel) + _np(layer.theta_bias)
    a, a0 = theta[:, :DX * 2].reshape(-1, DX, 2), theta[:, DX * 2:DX * 2 + 2]
    b, b0 = theta[:, DX * 2 + 2:DX * 2 + 4].reshape(-1, 2, 1), theta[:, DX * 2 + 4:]
    hidden = np.maximum(np.einsum("bi,bij->bj", X, a) + a0, 0)
    np.testing.assert_allclose(out, np.einsum("bi,bij->bj", hidden, b) + b0, rtol=1e-5, atol=1e-6)
    assert layer.count_params() == (DZ * 3 + 3) + (3 + 1) * (DX * 2 + 2 + 2 + 1)
    assert [tuple(w.shape) for w in layer.weights_of(Z)] == [(BATCH, DX, 2), (BATCH, 2), (BATCH, 2, 1), (BATCH, 1)]


@pytest.mark.parametrize("kwargs, said", [
    ({"hidden": 0}, "hidden must be a positive integer, got 0"),
    ({"hidden": "big"}, "hidden must be a positive integer or a list of them, got 'big'"),
    ({"x_hidden": -2}, "x_hidden must be a positive integer, got -2"),
    ({"scale": 0.0}, "scale must be a positive number, got 0.0"),
])
def test_hypernetwork_rejects_bad_sizes(kwargs, said):
    with pytest.raises(ValueError, match=said):
        Hypernetwork(2, **kwargs)


# --------------------------------------------------------------------------------------------------
# training, serialisation
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAIR_LAYERS))
def test_gradients_are_finite_and_reach_every_weight(name):
    layer = PAIR_LAYERS[name]()
    layer([X, Z])
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(layer([tf.constant(X), tf.constant(Z)]) ** 2)
    grads = tape.gradient(loss, layer.trainable_variables)
    assert grads and all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads)
    assert all(np.any(g.numpy() != 0) for g in grads), [v.name for v, g in zip(layer.trainable_variables, grads)
                                                        if not np.any(g.numpy() != 0)]


@pytest.mark.parametrize("name", sorted(PAIR_LAYERS))
def test_pair_layers_survive_a_saved_model_round_trip(name, tmp_path):
    x_in, z_in = keras.Input((DX,)), keras.Input((DZ,))
    model = keras.Model([x_in, z_in], PAIR_LAYERS[name]()([x_in, z_in]))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(_np(loaded([X, Z])), _np(model([X, Z])))
    assert type(loaded.layers[-1]) is type(model.layers[-1])
    assert loaded.layers[-1].get_config() == model.layers[-1].get_config()


def test_glu_and_concat_mlp_survive_a_saved_model_round_trip(tmp_path):
    x_in = keras.Input((DX,))
    glu = keras.Model(x_in, GLU(4, activation="silu")(x_in))
    mlp = concat_mlp(DX, DZ, 6)
    for model, args in [(glu, X), (mlp, [X, Z])]:
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        np.testing.assert_array_equal(_np(keras.saving.load_model(path)(args)), _np(model(args)))


def test_configs_rebuild_the_same_layers():
    for layer in [MultiplicativeInteraction(3, rank=2, use_bias=False), DiagonalGating(2, "sigmoid"),
                  FiLM(), FiLM(5), GLU(3, activation=None), Hypernetwork(2, hidden=[4], x_hidden=3)]:
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


def test_one_mi_unit_learns_a_bilinear_target_that_it_represents():
    rng = np.random.default_rng(1)
    w_star = rng.normal(size=(DZ, DX))
    x, z = rng.normal(size=(512, DX)).astype("float32"), rng.normal(size=(512, DZ)).astype("float32")
    y = np.einsum("bi,ij,bj->b", z, w_star, x)[:, None]
    keras.utils.set_random_seed(0)
    layer = MultiplicativeInteraction(1)
    layer([x, z])
    optimizer = keras.optimizers.Adam(0.03)

    @tf.function
    def step() -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((layer([x, z]) - y) ** 2)
        optimizer.apply(tape.gradient(loss, layer.trainable_variables), layer.trainable_variables)
        return loss

    for _ in range(300):
        step()
    assert np.mean((_np(layer([x, z])) - y) ** 2) < 1e-6 * np.var(y)
    np.testing.assert_allclose(_np(layer.kernel)[:, :, 0], w_star, atol=1e-3)


# --------------------------------------------------------------------------------------------------
# errors that name the parameter and the value
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda v: MultiplicativeInteraction(v), lambda v: DiagonalGating(v),
                                  lambda v: FiLM(v), lambda v: GLU(v)])
@pytest.mark.parametrize("value", [0, -3, 2.5, True, "4"])
def test_units_must_be_a_positive_integer(make, value):
    with pytest.raises(ValueError, match=rf"units must be a positive integer, got {value!r}"):
        make(value)


@pytest.mark.parametrize("value", [0, -1, 1.5, False])
def test_rank_must_be_a_positive_integer(value):
    with pytest.raises(ValueError, match=rf"rank must be a positive integer, got {value!r}"):
        MultiplicativeInteraction(2, rank=value)


def test_use_bias_must_be_a_bool():
    with pytest.raises(ValueError, match="use_bias must be True or False, got 1"):
        MultiplicativeInteraction(2, use_bias=1)


@pytest.mark.parametrize("make", [lambda: MultiplicativeInteraction(2), lambda: DiagonalGating(2), lambda: FiLM()])
def test_pair_layers_reject_mismatched_batch_sizes(make):
    with pytest.raises(ValueError, match="same batch size, got 5 and 4"):
        make()([X, Z[:4]])


@pytest.mark.parametrize("inputs, said", [([X], "got 1"), ([X, Z, Z], "got 3"), (X, "got a single tensor")])
def test_pair_layers_reject_anything_but_two_inputs(inputs, said):
    with pytest.raises(ValueError, match=f"takes a pair \\[x, z\\] of inputs.*{said}"):
        MultiplicativeInteraction(2)(inputs)
    layer = MultiplicativeInteraction(2)
    layer([X, Z])
    with pytest.raises(ValueError, match=f"takes a pair \\[x, z\\] of inputs, {said}"):
        layer(inputs)


def test_pair_layers_reject_inputs_that_are_not_batches_of_vectors():
    with pytest.raises(ValueError, match=r"needs z of shape \(batch, features\).*got \(5, 2, 2\)"):
        MultiplicativeInteraction(2)([X, Z.reshape(BATCH, 2, 2)])


def test_glu_rejects_a_pair():
    with pytest.raises(ValueError, match="GLU takes one input tensor"):
        GLU(2)([X, X])


@pytest.mark.parametrize("kwargs, said", [
    ({"dx": 0, "dz": 2, "hidden": 4}, "dx must be a positive integer, got 0"),
    ({"dx": 2, "dz": 2, "hidden": [4, 0]}, "hidden must be a positive integer, got 0"),
    ({"dx": 2, "dz": 2, "hidden": "wide"}, "hidden must be a positive integer or a list of them, got 'wide'"),
    ({"dx": 2, "dz": 2, "hidden": 4, "units": -1}, "units must be a positive integer, got -1"),
])
def test_concat_mlp_rejects_bad_sizes(kwargs, said):
    with pytest.raises(ValueError, match=said):
        concat_mlp(**kwargs)
