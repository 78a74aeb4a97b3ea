import numpy as np
import pytest

from multlib import metrics


def test_numpy_metrics_known_values():
    y = np.array([1.0, 2.0, 4.0])
    p = np.array([2.0, 2.0, 2.0])
    assert metrics.mae(y, p) == pytest.approx(1.0)
    assert metrics.rmse(y, p) == pytest.approx(np.sqrt(5 / 3))
    assert metrics.percentage_error(y, p) == pytest.approx(100 * (1 + 0 + 0.5) / 3)
    assert metrics.max_relative_error(y, p) == pytest.approx(1.0)


def test_column_and_flat_shapes_do_not_broadcast():
    y = np.arange(1.0, 6.0)
    p = (y + 1.0).reshape(-1, 1)  # (5, 1) against (5,): a broadcast would compare 25 pairs
    assert metrics.mae(y, p) == pytest.approx(1.0)


def test_mismatched_sizes_and_zero_targets_raise():
    with pytest.raises(ValueError, match=r"shapes \(3,\) and \(4,\)"):
        metrics.rmse(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="1 value"):
        metrics.percentage_error(np.array([0.0, 1.0]), np.ones(2))
    with pytest.raises(ValueError, match="empty"):
        metrics.mae([], [])


@pytest.mark.parametrize("loss", [metrics.keras_mae, metrics.keras_mse, metrics.keras_percentage_error])
def test_keras_losses_reshape_instead_of_broadcasting(loss):
    y_true = np.array([1.0, 2.0, 3.0, 4.0], dtype="float32")  # (batch,)
    y_pred = np.array([[2.0], [3.0], [4.0], [5.0]], dtype="float32")  # (batch, 1)
    # Every prediction is off by exactly 1; a broadcast to (4, 4) would average |i - j - 1| instead.
    expected = {metrics.keras_mae: 1.0, metrics.keras_mse: 1.0,
                metrics.keras_percentage_error: 100 * np.mean(1 / y_true)}[loss]
    assert float(loss(y_true, y_pred)) == pytest.approx(expected, rel=1e-6)
    assert float(loss(y_true.reshape(-1, 1), y_pred)) == pytest.approx(expected, rel=1e-6)


def test_format_error_prints_rounding_level_values_as_their_bound():
    assert metrics.format_error(3.7e-15) == "< 1e-12"
    assert metrics.format_error(-3.7e-15) == "< 1e-12"
    assert metrics.format_error(2.5e-9) == "2.5e-09"
    assert metrics.format_error(111.72, spec=".1f") == "111.7"
    assert metrics.format_error(4e-15, 1e-14) == "< 1e-14"
    assert metrics.format_error(6.4e-8, metrics.ROUNDING_FLOOR["float32"]) == "< 1e-06"
    assert metrics.format_error(0.0) == "< 1e-12"


@pytest.mark.parametrize("value, floor, name", [(float("nan"), 1e-12, "value"), (1.0, 0.0, "floor"), (1.0, -1e-12, "floor")])
def test_format_error_rejects_a_nan_value_or_a_non_positive_floor(value, floor, name):
    with pytest.raises(ValueError, match=name):
        metrics.format_error(value, floor)
