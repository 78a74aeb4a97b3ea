import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from multlib import plotting  # noqa: E402


def test_plot_extrapolation_draws_truth_models_and_shading():
    plotting.use_style()
    x = np.linspace(0, 10, 50)
    ax = plotting.plot_extrapolation(x, x**2, {"model": 2 * x}, (0, 1), title="t", xlabel="x", ylabel="y")
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["truth", "model"]
    assert len(ax.patches) == 1  # the shaded training range
    assert ax.get_title() == "t" and ax.get_xlabel() == "x"
    plt.close("all")


def test_plot_extrapolation_rejects_mismatched_shapes():
    x = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match=r"predictions\['m'\]"):
        plotting.plot_extrapolation(x, x, {"m": x[:3]}, (0, 1), title="t")
    with pytest.raises(ValueError, match="train_range"):
        plotting.plot_extrapolation(x, x, {}, (1, 0), title="t")
    plt.close("all")


def test_plot_curves_and_histograms():
    ax = plotting.plot_curves([1, 2, 3], {"a": [1, 2, 3]}, title="t", xlabel="x", ylabel="y", logy=True)
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match=r"curves\['b'\] must have 3 points"):
        plotting.plot_curves([1, 2, 3], {"b": [1, 2]}, title="t", xlabel="x", ylabel="y")
    ax = plotting.plot_histograms({"p": np.array([1.0, 10.0, 100.0])}, title="t", xlabel="v", logx=True)
    assert ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="positive"):
        plotting.plot_histograms({"p": np.array([0.0, 1.0])}, title="t", xlabel="v", logx=True)
    plt.close("all")
