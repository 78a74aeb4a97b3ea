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


def test_success_heatmap_writes_every_cell_and_greys_missing_ones():
    values = np.array([[1.0, 0.0, np.nan], [0.4, 0.6, 1.0]])
    ax = plotting.plot_success_heatmap(values, ["a", "b"], ["c1", "c2", "c3"], title="t", colorbar_label="rate",
                                       missing_label="n/a")
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["100%", "0%", "n/a", "40%", "60%", "100%"]
    colors = [t.get_color() for t in ax.texts]
    assert colors[:2] == ["black", "white"]  # readable on the light (1.0) and dark (0.0) ends of viridis
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["c1", "c2", "c3"]
    assert np.ma.is_masked(ax.images[0].get_array()[0, 2])  # drawn in the "bad" grey, not as a value
    plt.close("all")


def test_success_heatmap_annotations_and_bad_shapes():
    ax = plotting.plot_success_heatmap([[-6.0, -1.0]], ["m"], ["x", "y"], title="t", colorbar_label="log10 error",
                                       annotations=[["1e-6", "0.1"]], vmin=-7, vmax=0, cmap="viridis_r")
    assert [t.get_text() for t in ax.texts] == ["1e-6", "0.1"]
    assert [t.get_color() for t in ax.texts] == ["black", "white"]  # viridis_r: -6 is light yellow, -1 dark
    with pytest.raises(ValueError, match=r"values must have shape \(1, 3\)"):
        plotting.plot_success_heatmap([[1.0, 0.0]], ["m"], ["x", "y", "z"], title="t", colorbar_label="r")
    with pytest.raises(ValueError, match="annotations must be 1 rows of 2 strings"):
        plotting.plot_success_heatmap([[1.0, 0.0]], ["m"], ["x", "y"], title="t", colorbar_label="r",
                                      annotations=[["a"]])
    with pytest.raises(ValueError, match="vmin must be below vmax"):
        plotting.plot_success_heatmap([[1.0]], ["m"], ["x"], title="t", colorbar_label="r", vmin=1, vmax=0)
    plt.close("all")


def test_a_method_keeps_its_colour_in_every_figure():
    from multlib import methods, search

    assert set(plotting.METHOD_COLORS) == set(methods.METHODS)
    assert len(set(plotting.METHOD_COLORS.values())) == len(plotting.METHOD_COLORS)
    rows = [dict(method=m, sigma=s, seed=0, corpus_error=e, ndcg_deep=0.5)
            for m, e in (("power_law", 1e-15), ("relu_mlp", 10.0)) for s in (0.0, 0.5)]
    fig = plotting.plot_noise(rows, title="t")
    # Default order: the rows' (power_law first), yet each line takes its method's own colour.
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["power_law", "relu_mlp"]
    assert [line.get_color() for line in lines] == [plotting.METHOD_COLORS["power_law"], plotting.METHOD_COLORS["relu_mlp"]]
    corpus = search.make_corpus(4, 30, seed=0)
    logs = search.logged_split(corpus, seed=0, page_size=3)
    fig = plotting.plot_scores(corpus, logs, {"improved": corpus.score, "mine": 2 * corpus.score}, title="t", n_points=50)
    assert [ax.get_title() for ax in fig.axes] == ["improved", "mine"]
    with pytest.raises(ValueError, match="predictions\\['short'\\]"):
        plotting.plot_scores(corpus, logs, {"short": corpus.score[:5]}, title="t")
    with pytest.raises(ValueError, match="methods names 'paper'"):
        plotting.plot_noise(rows, title="t", methods=["paper"])
    plt.close("all")
