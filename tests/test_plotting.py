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


def test_plot_curves_draws_each_run_behind_the_mean():
    runs = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # 2 x-values, 3 seeds
    ax = plotting.plot_curves([1, 2], {"a": runs.mean(axis=1)}, points={"a": runs}, title="t", xlabel="x", ylabel="y")
    offsets = ax.collections[0].get_offsets()
    assert offsets.shape == (6, 2) and sorted(offsets[:, 1]) == [1, 2, 3, 4, 5, 6]
    with pytest.raises(ValueError, match=r"points\['a'\] must have shape \(2, runs\)"):
        plotting.plot_curves([1, 2], {"a": [1, 2]}, points={"a": np.ones((3, 2))}, title="t", xlabel="x", ylabel="y")
    plt.close("all")


def test_plot_curve_family_greys_the_others():
    ax = plotting.plot_curve_family([1, 2], {"ours": [1, 1], "best other": [2, 2]}, [[3, 3], [4, 4]],
                                    title="t", xlabel="x", ylabel="y", others_label="rest", logy=True)
    lines = ax.get_lines()
    labels = [line.get_label() for line in lines]
    assert len(lines) == 4 and [label for label in labels if not label.startswith("_")] == ["rest", "ours", "best other"]
    assert lines[0].get_color() == "0.65" and lines[2].get_color() == "black" and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match=r"others\[1\] must have 2 points"):
        plotting.plot_curve_family([1, 2], {}, [[1, 1], [1]], title="t", xlabel="x", ylabel="y")
    plt.close("all")


def test_histogram_edges_can_be_given():
    ax = plotting.plot_histograms({"a": np.array([10.0, 50.0, 99.0]), "b": np.array([100.0, 500.0])},
                                  bins=np.linspace(10, 1000, 56), title="t", xlabel="x")
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 2 * 55 and sum(heights) == 5
    with pytest.raises(ValueError, match="bins must be a positive count or increasing edges"):
        plotting.plot_histograms({"a": np.array([1.0])}, bins=[3.0, 1.0], title="t", xlabel="x")
    plt.close("all")
