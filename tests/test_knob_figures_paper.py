"""multlib.knob_figures_paper: Chapter 4's N knob picks the right runs and draws them."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from multlib import knob_figures_paper as kf  # noqa: E402


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
    from multlib.interactive import _options, knobs
    from multlib.sweep import NORMALISERS

    titles = []
    monkeypatch.setattr(plt, "show", lambda: (titles.append(plt.gcf().axes[1].get_title()), plt.close("all")))
    ui = knobs(kf.draw_normaliser, defaults={"n": 10_000}, n=list(NORMALISERS), pair=["symlog_symexp", "relu_linear"])
    assert "57.6 %" in titles[-1]
    n_control, pair_control = _options(ui)
    n_control.value = 1
    assert "10.2 % (mean) against 10.2 %" in titles[-1]
