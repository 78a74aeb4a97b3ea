"""The fused trainer trains each member exactly as ``model.fit`` would train it alone."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from multlib.data import make_split  # noqa: E402
from multlib.fused import FusedPaperModels, epoch_order  # noqa: E402
from multlib.models import paper_model  # noqa: E402

# Company-independence: a member's float operations are meant not to depend on the members beside it.
# Bit for bit on the AVX-512 machine (TensorFlow 2.21) that made the committed sweep; on an AVX2 machine
# with TensorFlow 2.21, and with TensorFlow 2.18, a member's rounding differs by one ulp among others
# (measured: losses to 1.1e-7 relative, weights after a few Adam steps to 1.6e-9 absolute). So the checks
# allow 2e-6 relative plus 1e-7 of the largest value, which still catches any leak between members: a
# leak shows at the size of an Adam step (the learning rate, 1e-3), four orders of magnitude above it.
def _same(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-7 * float(np.max(np.abs(b))))


N = 1000  # 31 full batches of 32 and a last one of 8, as Keras would cut them
BATCH = 32
LR = 1e-3
EPOCHS = 2
SHUFFLE_SEED = 7

# (activations, task, n_features); the third is a 2-feature task zero-padded to 4 inputs, the
# fourth only sits in another activation group so that grouping and permuting are exercised.
MEMBERS = [
    (("symlog", "symexp"), "x1x2x3x4/1000", 4),
    (("relu", "linear"), "x1(x2+x3)+x4", 4),
    (("symlog", "symexp"), "x1x2/10", 2),
    (("elu", "swish"), "x1x2x3/100", 3),
]


def _data(members: list, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    x = np.zeros((len(members), n, 4), np.float32)
    y = np.zeros((len(members), n), np.float32)
    for i, (_, task, nf) in enumerate(members):
        split = make_split(task, n, 10, seed=i)
        x[i, :, :nf] = split.x_train
        y[i] = split.y_train
    return x, y


def _close(a: np.ndarray, b: np.ndarray, rel: float) -> bool:
    """``max |a - b| <= rel * max |a|``: relative to the tensor's scale, not element by element."""
    return float(np.max(np.abs(a - b))) <= rel * max(float(np.max(np.abs(a))), 1e-30)


@pytest.fixture(scope="module")
def trained() -> dict:
    x, y = _data(MEMBERS)
    fused = FusedPaperModels([m[0] for m in MEMBERS], [m[2] for m in MEMBERS], seeds=[11, 12, 13, 14])
    initial = [fused.get_member_weights(i) for i in range(len(MEMBERS))]
    padded_before = fused._theta1.numpy().copy()  # internal layout, to check the padded rows
    history = fused.fit(x, y, epochs=EPOCHS, batch_size=BATCH, learning_rate=LR, shuffle_seed=SHUFFLE_SEED)
    return {"x": x, "y": y, "fused": fused, "initial": initial, "history": history, "theta1_before": padded_before}


@pytest.mark.parametrize("member", [0, 1, 2])
def test_member_matches_model_fit(trained: dict, member: int) -> None:
    acts, _, nf = MEMBERS[member]
    x, y = trained["x"][member, :, :nf], trained["y"][member]
    model = paper_model(nf, acts)
    model.set_weights(trained["initial"][member])
    model.compile(optimizer=keras.optimizers.Adam(LR), loss="mae")
    losses = []
    for epoch in range(EPOCHS):  # one fit per epoch, fed in the fused trainer's order
        order = epoch_order(N, epoch, SHUFFLE_SEED)
        hist = model.fit(x[order], y[order], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        losses.append(hist.history["loss"][0])
    fused_loss = trained["history"].loss[member]
    np.testing.assert_allclose(fused_loss, losses, rtol=1e-5)
    for k, (want, got) in enumerate(zip(model.get_weights(), trained["fused"].get_member_weights(member))):
        assert want.shape == got.shape
        assert _close(want, got, 1e-5), f"weight {k}: max diff {np.max(np.abs(want - got))}"


def test_padded_rows_stay_zero_and_others_move(trained: dict) -> None:
    fused = trained["fused"]
    d, h1 = fused.input_dim, fused.hidden_units[0]
    before, after = trained["theta1_before"], fused._theta1.numpy()
    row = fused._pos1[2]  # the 2-feature member
    w_before = before[row, : d * h1].reshape(d, h1)
    w_after = after[row, : d * h1].reshape(d, h1)
    assert np.all(w_before[2:] == 0) and np.all(w_after[2:] == 0)  # exactly: zero gradient, zero Adam step
    assert not np.array_equal(w_before[:2], w_after[:2])
    assert trained["history"].loss[2, 1] < trained["history"].loss[2, 0]


def test_predict_matches_keras_model(trained: dict) -> None:
    fused = trained["fused"]
    x_test = np.zeros((len(MEMBERS), 50, 4), np.float32)
    for i, (_, task, nf) in enumerate(MEMBERS):
        x_test[i, :, :nf] = make_split(task, 10, 50, seed=i).x_test
    pred = fused.predict(x_test, batch_size=16)
    assert pred.shape == (len(MEMBERS), 50) and pred.dtype == np.float64
    for i, (_, _, nf) in enumerate(MEMBERS):
        alone = fused.to_keras(i).predict(x_test[i, :, :nf], verbose=0).reshape(-1)
        np.testing.assert_allclose(pred[i], alone, rtol=1e-5, atol=1e-6 * np.max(np.abs(alone)))
    # Data sets reached through data_index give the same as the data laid out per member.
    via_index = fused.predict(x_test[::-1], data_index=[3, 2, 1, 0])
    _same(via_index, pred)


def test_weights_round_trip_and_initialisation() -> None:
    fused = FusedPaperModels([("relu", "tanh"), ("symlog", "symexp")], [3, 2], seeds=[5, 6])
    w = fused.get_member_weights(1)
    assert [a.shape for a in w] == [a.shape for a in paper_model(2).get_weights()]
    limit = np.sqrt(6 / (2 + 16))  # Glorot uniform for the member's own fan-in
    assert np.all(np.abs(w[0]) <= limit) and np.max(np.abs(w[0])) > 0.5 * limit
    assert not np.any(w[1]) and not np.any(w[3]) and not np.any(w[5])
    # Initial weights depend on the member's seed only, not on the company it keeps.
    alone = FusedPaperModels([("tanh", "elu")], 2, seeds=6)
    for a, b in zip(alone.get_member_weights(0), w):
        np.testing.assert_array_equal(a, b)
    new = [a + 1 for a in w]
    fused.set_member_weights(1, new)
    for a, b in zip(fused.get_member_weights(1), new):
        np.testing.assert_array_equal(a, b)
    other = FusedPaperModels([("relu", "tanh")], 3, 5)
    np.testing.assert_array_equal(fused.get_member_weights(0)[0], other.get_member_weights(0)[0])


def test_epoch_order() -> None:
    a, b = epoch_order(100, 0, 3), epoch_order(100, 1, 3)
    assert sorted(a) == list(range(100)) and not np.array_equal(a, b)
    np.testing.assert_array_equal(a, epoch_order(100, 0, 3))
    np.testing.assert_array_equal(epoch_order(5, 4, 3, shuffle=False), np.arange(5))


def test_divergence_is_isolated() -> None:
    x, y = _data([MEMBERS[1], MEMBERS[1]], n=200)
    healthy = MEMBERS[1][0]
    both = FusedPaperModels([("symexp", "symexp"), healthy], 4, seeds=[1, 2])
    alone = FusedPaperModels([healthy], 4, seeds=2)
    blown = both.get_member_weights(0)
    blown[0] = np.full_like(blown[0], 10.0)  # symexp(10 * sum(x)) overflows to inf at once
    both.set_member_weights(0, blown)
    h2 = both.fit(x, y, epochs=2, batch_size=BATCH, shuffle_seed=1)
    h1 = alone.fit(x[1:], y[1:], epochs=2, batch_size=BATCH, shuffle_seed=1)
    assert h2.diverged.tolist() == [True, False]
    assert h2.diverged_members() == [(0, 0, 0)]
    assert np.all(np.isnan(h2.loss[0]))
    _same(h2.loss[1], h1.loss[0])  # nothing leaks across members
    for a, b in zip(both.get_member_weights(1), alone.get_member_weights(0)):
        _same(a, b)
    assert all(np.all(np.isfinite(w)) for w in both.get_member_weights(0))  # frozen, no NaN inside
    pred = both.predict(x[:1], data_index=[0, 0])
    assert np.all(np.isnan(pred[0])) and np.all(np.isfinite(pred[1]))
    assert both.diverged.tolist() == [True, False]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"activations": [("symlog", "nope")], "n_features": 2}, "nope"),
        ({"activations": [], "n_features": 2}, "activations"),
        ({"activations": [("relu",)], "n_features": 2}, r"activations\[0\]"),
        ({"activations": [("relu", "relu")], "n_features": 0}, "n_features"),
        ({"activations": [("relu", "relu")] * 2, "n_features": [2]}, "n_features"),
        ({"activations": [("relu", "relu")], "n_features": 2, "seeds": [1, 2]}, "seeds"),
        ({"activations": [("relu", "relu")], "n_features": 2, "hidden_units": (16, 0)}, "hidden_units"),
        ({"activations": [("relu", "relu")], "n_features": 3, "input_dim": 2}, "input_dim"),
    ],
)
def test_bad_construction(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FusedPaperModels(**kwargs)


def test_bad_fit_and_predict_input() -> None:
    fused = FusedPaperModels([("relu", "linear"), ("symlog", "symexp")], [2, 4])
    x = np.ones((2, 10, 4), np.float32)
    x[0, :, 2:] = 0
    y = np.ones((2, 10), np.float32)
    cases = [
        (dict(x=x[:, :, :3], y=y), "x must have 4 features"),
        (dict(x=x[0], y=y), "x must have shape"),
        (dict(x=x[:1], y=y[:1]), "one data set per member"),
        (dict(x=x, y=y[:, :9]), "y must have shape"),
        (dict(x=np.ones((2, 10, 4)), y=y), r"x\[0\] must be zero beyond feature 2"),
        (dict(x=x, y=y, data_index=[0, 2]), "data_index"),
        (dict(x=x, y=y, epochs=0), "epochs"),
        (dict(x=x, y=y, batch_size=-1), "batch_size"),
        (dict(x=x, y=y, learning_rate=0.0), "learning_rate"),
        (dict(x=x, y=np.full((2, 10), np.nan)), "finite"),
    ]
    for kwargs, match in cases:
        kwargs.setdefault("epochs", 1)
        with pytest.raises(ValueError, match=match):
            fused.fit(**kwargs)
    with pytest.raises(ValueError, match="batch_size"):
        fused.predict(x, batch_size=0)
    with pytest.raises(ValueError, match="member"):
        fused.get_member_weights(2)
    with pytest.raises(ValueError, match="shapes"):
        fused.set_member_weights(0, paper_model(4).get_weights())
    with pytest.raises(ValueError, match="n must be"):
        epoch_order(0, 0)


def test_member_does_not_depend_on_company() -> None:
    """Bit for bit the same alone as among other groups, tasks and widths: slices reproduce sweeps."""
    company = [MEMBERS[2], MEMBERS[0], MEMBERS[1], MEMBERS[3], (("tanh", "symexp"), "x1x2", 2)]
    x, y = _data(company, n=300)
    crowd = FusedPaperModels([m[0] for m in company], [m[2] for m in company], seeds=[3, 4, 5, 6, 7])
    alone = FusedPaperModels([company[0][0]], [2], seeds=3, input_dim=4)
    h_crowd = crowd.fit(x, y, epochs=2, shuffle_seed=5)
    h_alone = alone.fit(x[:1], y[:1], epochs=2, shuffle_seed=5)
    _same(h_crowd.loss[0], h_alone.loss[0])
    for a, b in zip(crowd.get_member_weights(0), alone.get_member_weights(0)):
        _same(a, b)
