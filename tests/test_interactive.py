"""multlib.interactive: the controls it builds, and that a released slider redraws."""

import ipywidgets as widgets
import pytest

from multlib.interactive import control, knobs


def test_control_kinds():
    assert isinstance(control("width", (8, 256, 8)), widgets.IntSlider)
    slider = control("high", (0.5, 4.0, 0.5))
    assert isinstance(slider, widgets.FloatSlider)
    assert (slider.min, slider.max, slider.step, slider.continuous_update) == (0.5, 4.0, 0.5, False)
    assert isinstance(control("N", [1, 10, 100]), widgets.Dropdown)
    given = widgets.Checkbox(value=True)
    assert control("flag", given) is given


@pytest.mark.parametrize("spec, words", [((4.0, 1.0, 0.5), "low must be below high"),
                                         ((1, 4, 0), "step must be positive"),
                                         ([], "expected")])
def test_control_rejects_bad_specs(spec, words):
    with pytest.raises(ValueError, match=words) as err:
        control("high", spec)
    assert "'high'" in str(err.value)


def test_knobs_draws_at_defaults_and_on_change():
    calls = []
    ui = knobs(lambda width, high: calls.append((width, high)), defaults={"width": 64},
               width=(8, 256, 8), high=(0.5, 4.0, 0.5))
    assert calls[-1] == (64, 0.5)
    width, high = ui.children[:-1]  # the controls; the last child is the output area
    high.value = 2.0
    assert calls[-1] == (64, 2.0)


def test_knobs_rejects_unknown_default():
    with pytest.raises(ValueError, match="'depth'"):
        knobs(lambda width: None, defaults={"depth": 3}, width=(8, 256, 8))
