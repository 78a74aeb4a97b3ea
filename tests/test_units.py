"""The arithmetic units compute their papers' formulas, train safely at the domain's edges, and score right."""

from __future__ import annotations

import math

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from multlib.units import (  # noqa: E402
    NAC,
    NALU,
    NAU,
    NMU,
    NPU,
    Clip,
    ProductUnit,
    RealNPU,
    SparsityRegularizer,
    check_positive_inputs,
    linear_ramp,
    nau_init_limit,
    nmu_success_threshold,
    perturbed_solution_mse,
    set_sparsity_strength,
    sparsity_penalty,
    wilson_interval,
)

LAYERS = [ProductUnit, NAC, NALU, NAU, NMU, NPU, RealNPU]
Z = 1.959963984540054


def _built(layer: keras.layers.Layer, d: int = 2) -> keras.layers.Layer:
    layer.build((None, d))
    return layer


def _set(layer: keras.layers.Layer, **weights: list) -> keras.layers.Layer:
    for name, value in weights.items():
        getattr(layer, name).assign(np.asarray(value, np.float32))
    return layer


# ----------------------------------------------------------------------------------------------- shapes, config


@pytest.mark.parametrize("cls", LAYERS)
def test_output_shape_and_config_round_trip(cls: type, tmp_path) -> None:
    x = np.random.default_rng(0).uniform(1, 2, (5, 3)).astype(np.float32)
    model = keras.Sequential([keras.Input((3,)), cls(4)])
    assert model(x).shape == (5, 4)
    assert model.layers[0].compute_output_shape((None, 3)) == (None, 4)
    path = tmp_path / f"{cls.__name__}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.layers[0]) is cls
    assert loaded.layers[0].get_config() == model.layers[0].get_config()
    np.testing.assert_array_equal(loaded(x), model(x))


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("units", [0, -1, 2.5, True, "3"])
def test_bad_units_raise(cls: type, units) -> None:
    with pytest.raises(ValueError, match="units"):
        cls(units)


@pytest.mark.parametrize("make", [
    lambda: ProductUnit(1, eps=0.0), lambda: NAC(1, eps=-1e-7), lambda: NALU(1, eps=float("nan")),
    lambda: NPU(1, eps=0), lambda: NAC(1, mode="div"), lambda: Clip(1.0, 0.0),
    lambda: SparsityRegularizer(-1.0), lambda: linear_ramp(5, 10, 10, 1.0),
])
def test_bad_constructor_args_raise(make) -> None:
    with pytest.raises(ValueError):
        make()


def test_unknown_feature_count_raises() -> None:
    with pytest.raises(ValueError, match="feature count"):
        NMU(1).build((None, None))


# ----------------------------------------------------------------------------------------------- known weights


X = np.array([[3.0, -4.0], [2.0, 5.0], [-1.5, -2.0], [0.5, 4.0]], np.float32)
XPOS = np.abs(X)


def test_product_unit_powers_and_positive_check() -> None:
    layer = _set(_built(ProductUnit(1)), kernel=[[2.0], [-1.0]])
    np.testing.assert_allclose(layer(XPOS)[:, 0], XPOS[:, 0] ** 2 / XPOS[:, 1], rtol=1e-6)
    np.testing.assert_array_equal(check_positive_inputs(XPOS), XPOS)
    for bad in ([[1.0, 0.0]], [[1.0, -2.0]], [[np.nan, 1.0]]):
        with pytest.raises(ValueError, match="positive"):
            check_positive_inputs(bad)


def test_nac_add_and_mul_with_saturated_weights() -> None:
    # tanh(20) and sigmoid(20) round to 1 in float32: W = [1, -1] and [1, 1] exactly.
    add = _set(_built(NAC(1)), w_hat=[[20.0], [-20.0]], m_hat=[[20.0], [20.0]])
    np.testing.assert_allclose(add(X)[:, 0], X[:, 0] - X[:, 1], rtol=1e-6)
    mul = _set(_built(NAC(1, mode="mul")), w_hat=[[20.0], [20.0]], m_hat=[[20.0], [20.0]])
    np.testing.assert_allclose(mul(X)[:, 0], np.abs(X[:, 0] * X[:, 1]), rtol=1e-5)  # NAC_* loses the sign


def test_nalu_gate_selects_path() -> None:
    layer = _set(_built(NALU(1)), w_hat=[[20.0], [20.0]], m_hat=[[20.0], [20.0]])
    layer.gate_kernel.assign(np.full((2, 1), 40.0, np.float32))  # g = sigmoid(40 (x1 + x2)) = 1: sum
    np.testing.assert_allclose(layer(XPOS)[:, 0], XPOS.sum(1), rtol=1e-6)
    layer.gate_kernel.assign(np.full((2, 1), -40.0, np.float32))  # g = 0: product of |x|
    np.testing.assert_allclose(layer(XPOS)[:, 0], XPOS.prod(1), rtol=1e-5)


def test_nau_adds_and_nmu_multiplies_exactly() -> None:
    nau = _set(_built(NAU(2)), kernel=[[1.0, 1.0], [1.0, -1.0]])
    np.testing.assert_array_equal(nau(X), np.stack([X[:, 0] + X[:, 1], X[:, 0] - X[:, 1]], 1))
    nmu = _set(_built(NMU(3)), kernel=[[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(nmu(X), np.stack([X[:, 0] * X[:, 1], X[:, 0], np.ones(4)], 1))


def test_nmu_uses_unclamped_weights_in_forward_pass() -> None:
    nmu = _set(_built(NMU(1)), kernel=[[1.5], [0.0]])  # the clamp acts after optimiser steps only
    np.testing.assert_allclose(nmu(np.array([[2.0, 7.0]], np.float32)), [[1.5 * 2 - 0.5]])


def test_npu_is_the_real_part_of_a_complex_power() -> None:
    rng = np.random.default_rng(1)
    re, im = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    layer = _set(_built(NPU(3)), real_kernel=re, imag_kernel=im, gate=[1.0, 1.0])
    logs = np.log(X.astype(np.complex128))  # log|x| + i pi for negative x
    expected = np.real(np.exp(logs @ (re + 1j * im)))
    np.testing.assert_allclose(layer(X), expected, rtol=1e-4, atol=1e-6)
    layer.gate.assign(np.zeros(2, np.float32))  # both inputs irrelevant: every output is 1
    np.testing.assert_array_equal(layer(X), np.ones((4, 3)))


def test_npu_gate_clamp_is_optional_and_acts_after_the_step() -> None:
    assert _built(RealNPU(1)).gate.constraint is None  # the authors clip in the forward pass only
    layer = _built(RealNPU(1, clamp_gate=True))
    assert layer.get_config()["clamp_gate"] is True
    layer.gate.assign([0.995, 0.005])
    keras.optimizers.Adam(0.01).apply([tf.constant([-1.0, 1.0])], [layer.gate])
    np.testing.assert_array_equal(layer.gate.numpy(), [1.0, 0.0])
    with pytest.raises(ValueError, match="clamp_gate"):
        NPU(1, clamp_gate="yes")


def test_real_npu_divides_with_signs() -> None:
    layer = _set(_built(RealNPU(2)), real_kernel=[[1.0, 1.0], [-1.0, 1.0]], gate=[1.0, 1.0])
    np.testing.assert_allclose(layer(X), np.stack([X[:, 0] / X[:, 1], X[:, 0] * X[:, 1]], 1), rtol=1e-6)


# ----------------------------------------------------------------------------------------------- gradients at edges


EDGE_X = np.array([[0.0, 2.0], [-3.0, 0.0], [-1.0, -2.0], [0.0, 0.0]], np.float32)


@pytest.mark.parametrize("make, weights", [
    (lambda: ProductUnit(1), {"kernel": [[1.0], [0.5]]}),
    (lambda: NAC(1, mode="mul"), {}),
    (lambda: NALU(1), {}),
    (lambda: NAU(1), {"kernel": [[-1.0], [1.0]]}),
    (lambda: NMU(2), {"kernel": [[0.0, 1.0], [1.0, 1.0]]}),
    (lambda: NPU(1), {"gate": [0.0, 1.0]}),
    (lambda: RealNPU(1), {"real_kernel": [[1.0], [-1.0]], "gate": [1.0, 0.0]}),
])
def test_gradients_finite_at_domain_edges(make, weights) -> None:
    layer = _set(_built(make()), **weights)
    x = tf.constant(np.abs(EDGE_X) if isinstance(layer, ProductUnit) else EDGE_X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layer(x))
    grads = tape.gradient(y, [x] + layer.trainable_weights)
    assert np.isfinite(y.numpy())
    for g in grads:
        assert np.all(np.isfinite(g.numpy())), f"{type(layer).__name__}: non-finite gradient {g.numpy()}"


# ----------------------------------------------------------------------------------------------- clamp, regulariser


def test_keras_applies_the_clamp_after_the_optimizer_update() -> None:
    nmu = _set(_built(NMU(1)), kernel=[[0.999], [0.5]])
    nau = _set(_built(NAU(1)), kernel=[[-0.999], [0.5]])
    opt = keras.optimizers.Adam(0.01)  # first Adam step moves each weight by ~lr against the gradient's sign
    opt.apply([tf.constant([[-1.0], [1.0]]), tf.constant([[1.0], [-1.0]])], [nmu.kernel, nau.kernel])
    np.testing.assert_allclose(nmu.kernel.numpy().ravel(), [1.0, 0.49], rtol=1e-6)
    np.testing.assert_allclose(nau.kernel.numpy().ravel(), [-1.0, 0.51], rtol=1e-6)
    assert nmu.kernel.numpy()[0, 0] == 1.0 and nau.kernel.numpy()[0, 0] == -1.0  # exactly on the bound


def test_initialisers_follow_the_papers() -> None:
    assert nau_init_limit(2, 2) == 0.5
    assert math.isclose(nau_init_limit(100, 2), math.sqrt(3) * math.sqrt(2 / 102))
    keras.utils.set_random_seed(0)
    nmu, nau = _built(NMU(50), 40), _built(NAU(50), 40)
    assert 0.25 <= nmu.kernel.numpy().min() and nmu.kernel.numpy().max() <= 0.75
    r = nau_init_limit(40, 50)
    assert -r <= nau.kernel.numpy().min() and nau.kernel.numpy().max() <= r and nau.kernel.numpy().max() > 0.9 * r
    npu = _built(NPU(3))
    np.testing.assert_array_equal(npu.gate.numpy(), [0.5, 0.5])
    np.testing.assert_array_equal(npu.imag_kernel.numpy(), np.zeros((2, 3)))


def test_sparsity_penalty_and_rampable_regularizer() -> None:
    w = np.array([0.0, 1.0, -1.0, 0.5, 0.25], np.float32)  # distances to {-1, 0, 1}: 0, 0, 0, 0.5, 0.25
    assert math.isclose(float(sparsity_penalty(w)), 0.15, rel_tol=1e-6)
    reg = SparsityRegularizer(2.0)
    assert math.isclose(float(reg(w)), 0.3, rel_tol=1e-6)
    model = keras.Sequential([keras.Input((2,)), NAU(2, kernel_regularizer=reg), NMU(1, kernel_regularizer="l2")])
    assert set_sparsity_strength(model, 10.0) == 1
    nau = model.layers[0]
    expected = 10.0 * float(sparsity_penalty(nau.kernel))
    assert math.isclose(float(model.losses[0]), expected, rel_tol=1e-6)
    assert nau.get_config()["kernel_regularizer"]["config"] == {"strength": 10.0}
    assert [linear_ramp(s, 100, 200, 10.0) for s in (0, 100, 150, 200, 999)] == [0.0, 0.0, 5.0, 10.0, 10.0]


def test_regularizer_strength_is_read_inside_a_compiled_function() -> None:
    reg = SparsityRegularizer(0.0)
    f = tf.function(lambda w: reg(w))
    w = tf.constant([0.5])
    assert float(f(w)) == 0.0
    reg.strength.assign(4.0)
    assert float(f(w)) == 2.0  # not baked in at trace time


# ----------------------------------------------------------------------------------------------- scoring


def test_wilson_interval_known_answers() -> None:
    z2 = Z * Z
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and math.isclose(hi, z2 / (10 + z2))  # 0.2775
    lo, hi = wilson_interval(10, 10)
    assert math.isclose(lo, 10 / (10 + z2)) and hi == 1.0
    lo, hi = wilson_interval(5, 10)
    half = Z * math.sqrt(0.25 / 10 + z2 / 400) / (1 + z2 / 10)
    assert math.isclose(lo, 0.5 - half) and math.isclose(hi, 0.5 + half)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    lo, hi = wilson_interval(98, 100)  # Madsen and Johansen's NMU: 98 % [93, 99]
    assert (round(100 * lo), round(100 * hi)) == (93, 99)
    for bad in ((11, 10), (-1, 10), (1, 0), (1.5, 10)):
        with pytest.raises(ValueError):
            wilson_interval(*bad)


def test_success_threshold_known_answers() -> None:
    eps = 1e-5
    # One row (2, 6): a = 2 + 4 eps, b = 6 - 4 eps, a b - 12 = 16 eps - 16 eps^2.
    assert math.isclose(nmu_success_threshold([[2.0, 6.0]], eps), (16 * eps - 16 * eps**2) ** 2, rel_tol=1e-6)
    # On U[2, 6]^2 the error is ~ eps (x1 - x2)^2, so the MSE is eps^2 E[(x1 - x2)^4] = eps^2 * 256 / 15.
    x = np.random.default_rng(0).uniform(2, 6, (200_000, 2))
    assert math.isclose(nmu_success_threshold(x, eps), eps**2 * 256 / 15, rel_tol=0.02)
    assert perturbed_solution_mse(x, np.eye(2), "add", eps) < 1e-20  # a + b is unchanged by the perturbation
    with pytest.raises(ValueError, match="shape"):
        nmu_success_threshold(np.ones((3, 3)))
    with pytest.raises(ValueError, match="operation"):
        perturbed_solution_mse(x, np.eye(2), "pow")
    with pytest.raises(ValueError, match="0 and 1"):
        perturbed_solution_mse(x, 0.5 * np.eye(2))
