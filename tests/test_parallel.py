"""Models trained together by train_parallel end where each would end trained alone on the same batches."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from multlib.metrics import keras_mse  # noqa: E402
from multlib.parallel import batch_indices, train_parallel  # noqa: E402
from multlib.units import NAU, NMU, RealNPU, SparsityRegularizer  # noqa: E402

STEPS = 150
BATCH = 16
SEED = 3


def _nau_nmu(strength: float = 0.0) -> keras.Model:
    return keras.Sequential([
        keras.Input((2,)),
        NAU(2, kernel_regularizer=SparsityRegularizer(strength)),
        NMU(1, kernel_regularizer=SparsityRegularizer(strength)),
    ])


def _dense() -> keras.Model:
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(seed).uniform(1, 2, (n, 2)).astype(np.float32)
    return x, x[:, 0] * x[:, 1]


def _train_alone(model: keras.Model, x: np.ndarray, y: np.ndarray, member: int, lr) -> None:
    """The reference: a plain eager loop, Adam, this member's batches, its regularisers."""
    opt = keras.optimizers.Adam(lr)
    opt.build(model.trainable_variables)

    @tf.function
    def step(xb: tf.Tensor, yb: tf.Tensor) -> None:
        with tf.GradientTape() as tape:
            loss = keras_mse(yb, model(xb, training=True)) + sum(model.losses)
        opt.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)

    for t in range(1, STEPS + 1):
        idx = batch_indices(len(x), BATCH, SEED, t, member)
        step(tf.constant(x[idx]), tf.constant(y[idx]))


def _weights(model: keras.Model) -> list[np.ndarray]:
    return [v.numpy().copy() for v in model.trainable_variables]


def test_members_train_exactly_as_alone() -> None:
    keras.utils.set_random_seed(0)
    # Mixed architectures (four groups), data sets of different sizes, a regulariser, the NMU clamp
    # (lr 0.05 drives weights onto the bounds) and a learning-rate schedule.
    models = [_nau_nmu(0.1), _dense(), _nau_nmu(0.1), keras.Sequential([keras.Input((2,)), RealNPU(1)]),
              keras.Sequential([keras.Input((2,)), NMU(1)])]
    data = [_data(300 + 50 * s, s) for s in range(5)]
    lr = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=50, decay_rate=0.5)
    clones = []
    for m in models:
        c = keras.models.clone_model(m)
        c.set_weights(m.get_weights())
        clones.append(c)
    result = train_parallel(models, data, steps=STEPS, batch_size=BATCH, learning_rate=lr, seed=SEED, eval_every=50)
    assert result.groups == 4
    assert result.diverged_at == [None] * 5
    assert result.loss.shape == (3, 5) and np.all(np.isfinite(result.loss))
    for s, (c, (x, y)) in enumerate(zip(clones, data)):
        _train_alone(c, x, y, s, lr)
        for a, b in zip(_weights(models[s]), _weights(c)):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    # The lone NMU has solved x1 * x2 and sits on the clamp's bound, exactly, in both runs.
    np.testing.assert_array_equal(models[4].layers[0].kernel.numpy(), np.ones((2, 1)))
    np.testing.assert_array_equal(clones[4].layers[0].kernel.numpy(), np.ones((2, 1)))


def test_diverging_member_is_frozen_and_others_unaffected() -> None:
    keras.utils.set_random_seed(1)
    good = [_nau_nmu(), _nau_nmu()]
    bad = _nau_nmu()
    start_bad = _weights(bad)
    twins = []
    for m in good:
        c = keras.models.clone_model(m)
        c.set_weights(m.get_weights())
        twins.append(c)
    x, y = _data(200, 0)
    huge = (x, np.full(200, 1e30, np.float32))  # squared error overflows float32: loss inf at step 1
    result = train_parallel(good + [bad], [(x, y), (x, y), huge], steps=40, batch_size=BATCH, seed=SEED)
    assert result.diverged_at == [None, None, 1]
    assert np.all(np.isnan(result.loss[:, 2])) and np.all(np.isfinite(result.loss[:, :2]))
    for a, b in zip(_weights(bad), start_bad):
        np.testing.assert_array_equal(a, b)
    train_parallel(twins, [(x, y), (x, y)], steps=40, batch_size=BATCH, seed=SEED)
    for m, c in zip(good, twins):
        for a, b in zip(_weights(m), _weights(c)):
            np.testing.assert_array_equal(a, b)


def test_callback_sees_current_weights_every_k_steps() -> None:
    keras.utils.set_random_seed(2)
    models = [_nau_nmu() for _ in range(3)]
    x, y = _data(500, 1)
    seen = []

    def callback(step: int, ms) -> float:
        seen.append(step)
        return float(keras_mse(y, ms[0](x)))

    result = train_parallel(models, [(x, y)] * 3, steps=250, batch_size=64, learning_rate=0.01,
                            eval_every=100, callback=callback, progress=True)
    assert seen == [100, 200, 250] and list(result.history_steps) == seen
    assert [s for s, _ in result.evaluations] == seen
    assert result.evaluations[-1][1] < result.evaluations[0][1]  # it learns
    assert result.evaluations[-1][1] == pytest.approx(float(keras_mse(y, models[0](x))))


def test_batch_indices_are_a_per_member_stream() -> None:
    a = batch_indices(100, 32, seed=5, step=7, member=3)
    assert a.shape == (32,) and a.min() >= 0 and a.max() < 100
    np.testing.assert_array_equal(a, batch_indices(100, 32, seed=5, step=7, member=3))
    assert not np.array_equal(a, batch_indices(100, 32, seed=5, step=8, member=3))
    assert not np.array_equal(a, batch_indices(100, 32, seed=5, step=7, member=2))


def test_bad_arguments_raise() -> None:
    m = _nau_nmu()
    x, y = _data(50, 0)
    with pytest.raises(ValueError, match="pair per model"):
        train_parallel([m], [(x, y), (x, y)], steps=1)
    with pytest.raises(ValueError, match="share variables"):
        train_parallel([m, m], [(x, y), (x, y)], steps=1)
    with pytest.raises(ValueError, match="steps"):
        train_parallel([m], [(x, y)], steps=0)
    with pytest.raises(ValueError, match="data\\[0\\]"):
        train_parallel([m], [(x, y[:10])], steps=1)
    with pytest.raises(ValueError, match="NaN"):
        train_parallel([m], [(x * np.nan, y)], steps=1)
    with pytest.raises(ValueError, match="learning_rate"):
        train_parallel([m], [(x, y)], steps=1, learning_rate=0.0)


@pytest.mark.parametrize("schedule", [False, True])
def test_the_flat_adam_is_keras_adam_to_the_bit(schedule: bool) -> None:
    from multlib.parallel import _FlatAdam

    rng = np.random.default_rng(0)
    shapes = [(3, 2), (2,), (4, 1, 2)]
    lr = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5) if schedule else 1e-3
    ours = [tf.Variable(rng.normal(size=s).astype(np.float32)) for s in shapes]
    theirs = [keras.Variable(v.numpy()) for v in ours]
    flat, adam = _FlatAdam(ours, lr), keras.optimizers.Adam(lr)
    adam.build(theirs)
    for _ in range(7):
        grads = [tf.constant((rng.normal(size=s) * 10.0 ** rng.integers(-6, 3)).astype(np.float32)) for s in shapes]
        for w, step in zip(ours, flat.steps(grads)):
            w.assign(w - step)
        adam.apply(grads, theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
