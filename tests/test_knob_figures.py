"""multlib.knob_figures: Chapter 1's quickly trained multiplier and its knob figure."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from multlib import knob_figures  # noqa: E402

TINY = {"n_samples": 256, "epochs": 1, "batch_size": 64}  # a budget that trains in well under a second


@pytest.mark.parametrize("high", [0.0, -1.0, float("nan"), "1"])
def test_fit_on_square_rejects_a_bad_range(high):
    with pytest.raises(ValueError, match="high must be a positive number") as err:
        knob_figures.fit_on_square(high, 4, **TINY)
    assert repr(high) in str(err.value)


def test_fit_on_square_rejects_a_bad_width():
    with pytest.raises(ValueError, match="hidden_units"):
        knob_figures.fit_on_square(1.0, 0, **TINY)


def test_a_wider_range_is_the_same_network_stretched():
    # Inputs are divided by high and targets by high^2, so training on (0, 4)^2 sees exactly the numbers
    # of (0, 1)^2 (scaling by a power of two is exact): f_4(x) = 16 f_1(x / 4), bit for bit.
    f1 = knob_figures.fit_on_square(1.0, 4, **TINY)
    f4 = knob_figures.fit_on_square(4.0, 4, **TINY)
    x = np.array([[0.5, 0.25], [2.5, 2.5], [10.0, 3.0]])
    np.testing.assert_array_equal(f4(x), 16 * f1(x / 4))
    assert knob_figures.fit_on_square(1.0, 4, **TINY) is f1  # cached: the knob's first drawing trains nothing


def test_diagonal_errors_known_answers():
    exact = knob_figures.diagonal_errors(lambda x: x[:, 0] * x[:, 1], high=1.0)
    assert exact.rmse_inside == 0.0 and exact.relative_error_at_end == 0.0
    # The tangent of x^2 at x = 1, 2x - 1: off by (x - 1)^2 everywhere, 8.9801^2 / 9.99^2 at the end.
    tangent = knob_figures.diagonal_errors(lambda x: 2 * x[:, 0] - 1, high=1.0)
    assert tangent.relative_error_at_end == pytest.approx(8.99**2 / 9.99**2, rel=1e-12)
    inside = np.arange(0.0, 1.0, 0.01)
    assert tangent.rmse_inside == pytest.approx(np.sqrt(np.mean((inside - 1) ** 4)), rel=1e-12)
    assert "90 %" not in str(tangent) and "81 %" in str(tangent)


def test_diagonal_errors_rejects_a_predictor_of_the_wrong_shape():
    with pytest.raises(ValueError, match="predict must return 1000 values"):
        knob_figures.diagonal_errors(lambda x: x, high=1.0)


def test_draw_range_and_width_titles_and_shades_what_it_returns():
    fig, ax = plt.subplots()
    errors = knob_figures.draw_range_and_width(2.0, 4, ax=ax, **TINY)
    assert errors.high == 2.0
    assert f"{100 * errors.relative_error_at_end:.0f} %" in ax.get_title()
    assert "(0, 2)" in ax.get_title()
    shaded = [p for p in ax.patches if p.get_label() == "training range"]
    assert len(shaded) == 1
    patch = shaded[0]  # a Polygon or a Rectangle, depending on matplotlib's version
    xs = patch.get_patch_transform().transform(patch.get_path().vertices)[:, 0]
    assert (xs.min(), xs.max()) == (0.0, 2.0)
    plt.close(fig)
