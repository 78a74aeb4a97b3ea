"""multlib.knob_figures: Chapter 1's quickly trained multiplier, and Chapter 4's N knob picks the right runs and draws them."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from multlib import knob_figures  # noqa: E402
from multlib import knob_figures as kf  # noqa: E402

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


# Chapter 4's N knob


def fake_study():
    """Two pairs, N = 1 and N = 10, two seeds; loss curves and errors encode where each row came from."""
    rows, curves = [], []
    for task, n in (("x1x2", 1), ("x1x2/10", 10)):
        for a1, a2 in (("symlog", "symexp"), ("relu", "linear")):
            for seed in (1, 0):  # stored out of seed order on purpose
                rows.append(dict(task=task, a1=a1, a2=a2, seed=seed, train_percentage_error=n + seed + 0.5 * (a1 == "relu"),
                                 test_percentage_error=10 * n + seed))
                curves.append(np.full(3, 2.0 / n) if a1 == "symlog" else np.full(3, 5.0 / n))
    return rows, np.array(curves)


def test_view_selects_pair_and_n_and_scales_loss_to_x1x2_units():
    view = kf.normaliser_view(10, "symlog_symexp", fake_study())
    assert view.pair == ("symlog", "symexp")
    np.testing.assert_allclose(view.test_error, [100, 101])  # seeds in order 0, 1
    np.testing.assert_allclose(view.train_error, [10, 11])
    np.testing.assert_allclose(view.reference_test_error, [10, 11])
    np.testing.assert_allclose(view.loss, 2.0)  # 0.2 in units of x1x2/10, times 10
    assert view.final_loss_ratio == pytest.approx(1.0)
    relu = kf.normaliser_view(10, ("relu", "linear"), fake_study())
    np.testing.assert_allclose(relu.train_error, [10.5, 11.5])


@pytest.mark.parametrize("kwargs, words", [(dict(n=7), "n must be one of"), (dict(n=10, pair="relu_selu"), "pair must be")])
def test_view_rejects_unknown_settings(kwargs, words):
    with pytest.raises(ValueError, match=words):
        kf.normaliser_view(study=fake_study(), **kwargs)


def test_view_rejects_missing_runs():
    with pytest.raises(ValueError, match="no run"):
        kf.normaliser_view(100, "symlog_symexp", fake_study())


def test_committed_study_matches_chapter_4():
    # Chapter 4 prints a mean test error of 10.2 % at N = 1 and 57.6 % at N = 10,000 for the paper's pair.
    view = kf.normaliser_view(10_000)
    assert view.test_error.shape == (5,) and view.loss.shape == (5, 100)
    assert view.reference_test_error.mean() == pytest.approx(10.2, abs=0.05)
    assert view.test_error.mean() == pytest.approx(57.6, abs=0.05)


def test_draw_states_the_numbers_in_its_titles(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda: None)
    kf.draw_view(kf.normaliser_view(10, "symlog_symexp", fake_study()))
    fig = plt.gcf()
    loss_ax, err_ax = fig.axes
    assert "1.0x" in loss_ax.get_title()
    assert "100.5 %" in err_ax.get_title() and "10.5 % at N = 1" in err_ax.get_title()
    assert len(loss_ax.get_lines()) == 4  # two seeds at N = 1, two at N = 10
    plt.close("all")


def test_draw_normaliser_works_as_a_knob(monkeypatch):
    # Every parameter of draw_normaliser must be a knob: interactive() makes a control for each.
    from multlib.interactive import knobs
    from multlib.sweep import NORMALISERS

    titles = []
    monkeypatch.setattr(plt, "show", lambda: (titles.append(plt.gcf().axes[1].get_title()), plt.close("all")))
    ui = knobs(kf.draw_normaliser, defaults={"n": 10_000}, n=list(NORMALISERS), pair=["symlog_symexp", "relu_linear"])
    assert "57.6 %" in titles[-1]
    n_control, pair_control = ui.children[:-1]  # the controls; the last child is the output area
    n_control.value = 1
    assert "10.2 % (mean) against 10.2 %" in titles[-1]
