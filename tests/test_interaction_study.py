"""Tests of multlib.interaction_study (Chapter 8's study) and its figures: known answers of short runs,
the CSV round trip, the committed results' coverage, a slice of them re-run, and clear errors."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

pytest.importorskip("tensorflow")

from multlib import interaction_plots as plots  # noqa: E402
from multlib import interaction_study as study  # noqa: E402

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def width_d2() -> list[dict]:
    # Seed 0 of the committed width part at d = 2, with the committed settings (a few seconds).
    return study.run(["width"], seeds=1, dims=[2], progress=False)


@pytest.fixture(scope="module")
def glu_rows() -> list[dict]:
    # Each GLU model is seeded on its own and all see the same batches: a subset re-runs the committed rows.
    return study.run(["glu"], cond_seeds=1, glu_models=["relu_mlp", "bilinear_glu", "log_features"], progress=False)


@pytest.fixture(scope="module")
def committed() -> list[dict]:
    return study.read_results()


def _one(rows: list[dict], **match) -> dict:
    (row,) = [r for r in rows if all(r[k] == v for k, v in match.items())]
    return row


# --------------------------------------------------------------------------------------------------
# known answers
# --------------------------------------------------------------------------------------------------


def test_one_mi_unit_is_exact_on_the_bilinear_target_and_concat_is_not(width_d2) -> None:
    mi = _one(width_d2, model="mi")
    assert mi["error"] < 1e-10 and mi["params"] == 2 * 2 + 2 + 2 + 1
    for w in study.WIDTHS:
        concat = _one(width_d2, model="concat", width=w)
        assert concat["error"] > 1e-6 and concat["error"] > 100 * mi["error"], concat
        assert concat["params"] == 6 * w + 1  # (d + d) w + w hidden, w + 1 read-out, at d = 2


def test_the_bilinear_glu_extrapolates_and_the_relu_mlp_does_not(glu_rows) -> None:
    assert _one(glu_rows, model="bilinear_glu")["error_out"] < 1e-5
    assert _one(glu_rows, model="relu_mlp")["error_out"] > 0.2
    logs = _one(glu_rows, model="log_features")
    assert logs["error"] < 1e-12 and logs["error_out"] < 1e-6 and logs["params"] == 3


def test_mi_is_exact_inside_and_outside_the_context_range_on_the_bilinear_task() -> None:
    rows = study.run(["conditional"], cond_seeds=1, tasks=["bilinear"], cond_sizes=[512], cond_models=["mi", "concat"],
                     progress=False)
    mi, concat = _one(rows, model="mi"), _one(rows, model="concat")
    assert mi["error"] < 1e-8 and mi["error_out"] < 1e-7, mi
    assert concat["error"] > 1e-4 and concat["error_out"] > 10 * concat["error"], concat


def test_the_conditional_targets_are_what_the_docstring_says() -> None:
    x = np.random.default_rng(0).normal(size=(50, study.COND_DX))
    z = np.random.default_rng(1).uniform(*study.Z_TRAIN, size=(50, study.COND_DZ))
    bilinear, gain = study._cond_target("bilinear", 0), study._cond_target("gain", 0)
    # bilinear: linear in z for fixed x (doubling z doubles y), linear in x for fixed z
    np.testing.assert_allclose(bilinear(x, 2 * z), 2 * bilinear(x, z), rtol=1e-12)
    np.testing.assert_allclose(bilinear(3 * x, z), 3 * bilinear(x, z), rtol=1e-12)
    # gain: a tanh, so bounded, and not linear in z
    assert np.all(np.abs(gain(x, z)) < 1) and not np.allclose(gain(x, 2 * z), 2 * gain(x, z))
    np.testing.assert_allclose(study.scale_context(np.array([1.0, 1.5, 2.0, 4.0])), [-1, 0, 1, 5])


# --------------------------------------------------------------------------------------------------
# results on disk
# --------------------------------------------------------------------------------------------------


def test_results_round_trip_through_csv(width_d2, glu_rows, tmp_path) -> None:
    rows = width_d2 + glu_rows
    back = study.read_results(study.write_results(rows, tmp_path / "i.csv"))
    assert len(back) == len(rows)
    for old, new in zip(rows, back):
        assert {k: new[k] for k in study.COLUMNS if k != "error_out"} == {k: old[k] for k in study.COLUMNS
                                                                          if k != "error_out"}
        assert (math.isnan(new["error_out"]) if old["error_out"] is None else new["error_out"] == old["error_out"])
    assert "MI" in study.format_table(back, "width") and "bilinear_glu" in study.format_table(back, "glu")


def test_committed_results_cover_the_design(committed) -> None:
    seeds = range(5)
    keys = {(r["part"], r["task"], r["model"], r["d"], r["width"], r["n_train"], r["seed"]) for r in committed}
    want = {("width", "bilinear", "concat", d, w, 0, s) for d in study.DIMS for w in study.WIDTHS for s in seeds}
    want |= {("width", "bilinear", "mi", d, 0, 0, s) for d in study.DIMS for s in seeds}
    want |= {("data", "bilinear", "concat", 8, w, n, s) for n in study.DATA_SIZES for w in study.WIDTHS for s in seeds}
    want |= {("data", "bilinear", "mi", 8, 0, n, s) for n in study.DATA_SIZES for s in seeds}
    want |= {("conditional", t, m, study.COND_DX, 0, n, s) for t in study.TASKS for m in study.COND_MODELS
             for n in study.COND_SIZES for s in seeds}
    want |= {("glu", "product", m, 2, 0 if m == "log_features" else study.GLU_WIDTH, 0, s) for m in study.GLU_MODELS
             for s in seeds}
    assert keys == want and len(committed) == len(want)
    assert all(r["part_seconds"] > 0 and np.isfinite(r["error"]) for r in committed)
    assert all(np.isfinite(r["error_out"]) == (r["part"] in ("conditional", "glu")) for r in committed)


def test_committed_results_state_the_chapter_claims(committed) -> None:
    # MI at round-off at every d and training-set size; every concatenation MLP 1,000 times worse at least.
    for r in committed:
        if r["part"] in ("width", "data"):
            assert (r["error"] < 1e-8) if r["model"] == "mi" else (r["error"] > 1e-5), r
    # Bilinear GLU and log features exact outside the box, the ReLU MLP off by tens of percent.
    glu = [r for r in committed if r["part"] == "glu"]
    assert all(r["error_out"] < 1e-4 for r in glu if r["model"] in ("bilinear_glu", "log_features"))
    assert all(r["error_out"] > 0.2 for r in glu if r["model"] == "relu_mlp")


def test_a_slice_of_the_committed_results_reproduces(committed, width_d2, glu_rows) -> None:
    # Claims, not digits: the runs are Adam statistics whose last digits change with the CPU.
    for new in width_d2 + glu_rows:
        old = _one(committed, part=new["part"], model=new["model"], d=new["d"], width=new["width"], seed=0)
        assert new["params"] == old["params"]
        if new["model"] in ("mi", "bilinear_glu", "log_features"):
            key = "error" if new["model"] == "mi" else "error_out"
            assert new[key] < 1e-5 and old[key] < 1e-5, (new, old)
        else:
            key = "error" if new["part"] == "width" else "error_out"
            assert old[key] / 3 < new[key] < 3 * old[key], (key, new, old)


# --------------------------------------------------------------------------------------------------
# tables and figures
# --------------------------------------------------------------------------------------------------


def test_tables_and_spreads(committed) -> None:
    med, lo, hi = study.median_spread(committed, part="width", model="mi", d=4)
    assert lo <= med <= hi < 1e-8
    for part in study.PARTS:
        assert len(study.format_table(committed, part).splitlines()) > 3
    with pytest.raises(ValueError, match="no rows match"):
        study.median_spread(committed, model="nope")
    with pytest.raises(ValueError, match="part must be"):
        study.format_table(committed, "nope")


def test_every_figure_draws_from_the_committed_rows(committed) -> None:
    import matplotlib.pyplot as plt

    for fig in (plots.plot_width(committed, title="w"), plots.plot_data(committed, title="d"),
                plots.plot_conditional(committed, title="c"), plots.plot_glu(committed, title="g")):
        assert fig.axes and all(ax.get_ylabel() for ax in fig.axes)
        plt.close(fig)
    ax = plots.plot_context_sweep(np.linspace(0, 4, 5), {"mi": np.full(5, 1e-12)}, title="s")
    assert ax.get_title() == "s"
    with pytest.raises(ValueError, match=r"errors\['mi'\] must have the shape of t"):
        plots.plot_context_sweep(np.linspace(0, 4, 5), {"mi": np.ones(3)}, title="s")
    with pytest.raises(ValueError, match="'glu' rows"):
        plots.plot_glu([r for r in committed if r["part"] == "width"], title="g")
    plt.close("all")


# --------------------------------------------------------------------------------------------------
# bad inputs
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, said", [
    ({"parts": ["nope"]}, "parts must be drawn from"),
    ({"parts": "width"}, "parts must be a non-empty list"),
    ({"seeds": 0}, "seeds must be a positive integer, got 0"),
    ({"cond_seeds": 1.5}, "cond_seeds must be a positive integer, got 1.5"),
    ({"steps": -1}, "steps must be a positive integer, got -1"),
    ({"dims": []}, "dims must be a non-empty list"),
    ({"widths": [8, 0]}, "widths must be a positive integer, got 0"),
    ({"data_sizes": "big"}, "data_sizes must be a non-empty list"),
    ({"cond_sizes": [True]}, "cond_sizes must be a positive integer, got True"),
    ({"tasks": ["sine"]}, "tasks must be drawn from"),
    ({"cond_models": ["transformer"]}, "cond_models must be drawn from"),
    ({"glu_models": []}, "glu_models must be a non-empty list"),
])
def test_bad_inputs_raise_naming_the_parameter(kwargs, said) -> None:
    with pytest.raises(ValueError, match=said):
        study.run(**kwargs, progress=False)


def test_fit_conditional_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="task must be one of"):
        study.fit_conditional("sine", 100)
    with pytest.raises(ValueError, match="n_train must be a positive integer"):
        study.fit_conditional("gain", 0)
    with pytest.raises(ValueError, match="models must be drawn from"):
        study.fit_conditional("gain", 100, models=["rnn"])


def test_main_rejects_an_unknown_part(capsys) -> None:
    with pytest.raises(SystemExit):
        study.main(["--parts", "nope"])
    assert "invalid choice" in capsys.readouterr().err


def test_context_sweep_keeps_the_mi_unit_exact_beyond_the_range() -> None:
    sweep = study.context_sweep("bilinear", [1.5, 3.0], n_train=128, n_test=256)
    assert set(sweep) == set(study.COND_MODELS) and all(v.shape == (2,) for v in sweep.values())
    assert sweep["mi"].max() < 1e-6, sweep["mi"]
    with pytest.raises(ValueError, match="t must"):
        study.context_sweep("bilinear", [])
