import re

import numpy as np
import pytest

from multlib import data


def test_uniform_shape_range_and_seed():
    x = data.uniform(1000, (10, 100), n_features=3, seed=5)
    assert x.shape == (1000, 3)
    assert x.min() >= 10 and x.max() < 100
    np.testing.assert_array_equal(x, data.uniform(1000, (10, 100), n_features=3, seed=5))
    assert not np.array_equal(x, data.uniform(1000, (10, 100), n_features=3, seed=6))


@pytest.mark.parametrize("n", [0, -5, 2.5, True])
def test_uniform_rejects_bad_count(n):
    with pytest.raises(ValueError, match=rf"n must be a positive integer, got {n!r}"):
        data.uniform(n)


@pytest.mark.parametrize("bad", [(1, 0), (5, 5), (0, np.inf), (1,), "ab"])
def test_uniform_rejects_bad_range(bad):
    with pytest.raises(ValueError, match="value_range"):
        data.uniform(10, bad)


def test_reversed_range_message_names_value():
    with pytest.raises(ValueError, match=r"value_range must have low < high, got \(100, 10\)"):
        data.uniform(10, (100, 10))


def test_targets_compute_the_paper_formulas():
    x = np.array([[2.0, 3.0, 5.0, 7.0]])
    assert data.target("x1x2x3x4/1000", x)[0] == pytest.approx(0.21)
    assert data.target("x1(x2+x3)+x4", x)[0] == pytest.approx(2 * 8 + 7)
    assert data.target("x1x2x3/100", x[:, :3])[0] == pytest.approx(0.3)
    assert data.target("x1x2/10", x[:, :2])[0] == pytest.approx(0.6)
    assert len(data.PAPER_TASKS) == 7


def test_target_rejects_unknown_name_and_wrong_width():
    with pytest.raises(ValueError, match="'x1x5'"):
        data.target("x1x5", np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"shape \(n, 2\).*\(4, 3\)"):
        data.target("x1x2", np.ones((4, 3)))


def test_make_split_is_disjoint_and_consistent():
    s = data.make_split("x1x2x3", 500, 200, seed=1)
    assert s.x_train.shape == (500, 3) and s.x_test.shape == (200, 3)
    assert s.x_train.max() < 100 <= s.x_test.min()
    np.testing.assert_allclose(s.y_train, np.prod(s.x_train, axis=1))
    # The test inputs do not depend on how many training rows were drawn.
    np.testing.assert_array_equal(s.x_test, data.make_split("x1x2x3", 50, 200, seed=1).x_test)


def test_make_split_rejects_bad_input():
    with pytest.raises(ValueError, match="task must be one of"):
        data.make_split("nope", 10, 10)
    with pytest.raises(ValueError, match="train_range"):
        data.make_split("x1x2", 10, 10, train_range=(100, 10))
    with pytest.raises(ValueError, match="n must be a positive integer, got 0"):
        data.make_split("x1x2", 0, 10)


def test_paper_table_covers_every_task():
    assert set(data.PAPER_TABLE_I) == set(data.PAPER_TASKS)
    assert data.PAPER_TABLE_I["x1x2/10"].percentage_error == pytest.approx(7.801138)
    assert data.PAPER_TABLE_I["x1(x2+x3)+x4"].mae is None


def test_get_task_accepts_any_normalised_product():
    task = data.get_task("x1x2/10000")
    assert task.n_features == 2
    x = np.array([[200.0, 300.0]])
    assert data.target("x1x2/10000", x)[0] == pytest.approx(6.0)
    assert data.get_task("x1x2x3").fn is data.TARGETS["x1x2x3"].fn
    split = data.make_split("x1x2x3/7", 5, 5)
    np.testing.assert_allclose(split.y_train, np.prod(split.x_train, axis=1) / 7)
    for bad in ["x2x1", "x1x2/0", "x1x3", "x1*x2", "x1x2/-5"]:
        with pytest.raises(ValueError, match=f"got '{re.escape(bad)}'"):
            data.get_task(bad)


def test_check_positive_int():
    assert data.check_positive_int(np.int64(3), "k") == 3
    for bad in [0, -1, 1.5, True, "2"]:
        with pytest.raises(ValueError, match=f"k must be a positive integer, got {re.escape(repr(bad))}"):
            data.check_positive_int(bad, "k")
