"""Tests of Chapter 7's study: noise on the targets, the Feynman study's design, its committed rows and
the tables and figure made from them."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

from multlib import feynman, feynman_study, methods, plotting, problems, summaries

matplotlib.use("Agg")


# ------------------------------------------------------------------------------------------ noise


def test_gaussian_noise_is_scaled_by_the_targets_root_mean_square() -> None:
    y = np.full(200_000, 3.0)
    y[::2] = -4.0  # rms = sqrt((9 + 16) / 2) = 3.5355, while std = 3.5
    noisy = problems.add_noise(y, "gaussian", 0.01, seed=1)
    assert np.std(noisy - y) == pytest.approx(0.01 * math.sqrt(12.5), rel=0.01)
    assert abs(np.mean(noisy - y)) < 1e-3


def test_multiplicative_noise_is_log_normal_and_keeps_signs() -> None:
    y = np.linspace(-5, 5, 100_001)
    y = y[y != 0]
    noisy = problems.add_noise(y, "multiplicative", 0.1, seed=2)
    assert np.all(np.sign(noisy) == np.sign(y))
    assert np.std(np.log(noisy / y)) == pytest.approx(0.1, rel=0.02)


def test_zero_noise_is_an_exact_copy_and_a_seed_repeats() -> None:
    y = np.array([1.0, 2.0, 3.0])
    out = problems.add_noise(y, "gaussian", 0, seed=0)
    assert out is not y and np.array_equal(out, y)
    assert np.array_equal(problems.add_noise(y, "gaussian", 0.1, 5), problems.add_noise(y, "gaussian", 0.1, 5))
    assert not np.array_equal(problems.add_noise(y, "gaussian", 0.1, 5), problems.add_noise(y, "gaussian", 0.1, 6))


@pytest.mark.parametrize("kwargs, name", [
    (dict(kind="uniform"), "kind"), (dict(level=-0.1), "level"), (dict(level=math.nan), "level"),
    (dict(level=True), "level"), (dict(seed=-1), "seed"), (dict(seed=1.5), "seed"), (dict(y=[1.0, math.inf]), "y"),
])
def test_noise_input_errors_name_the_parameter(kwargs: dict, name: str) -> None:
    args = dict(y=[1.0, 2.0], kind="gaussian", level=0.1, seed=0) | kwargs
    with pytest.raises(ValueError, match=name):
        problems.add_noise(**args)


def test_equation_problems_add_noise_to_the_training_targets_only() -> None:
    clean = feynman.equation_problems(["coulomb_force"], seeds=2, n_train=50, n_test=40)
    noisy = feynman.equation_problems(["coulomb_force"], seeds=2, n_train=50, n_test=40, noise=("gaussian", 0.01))
    for key in clean:
        (x, y, xt, yt), (nx, ny, nxt, nyt) = clean[key], noisy[key]
        assert np.array_equal(x, nx) and np.array_equal(xt, nxt) and np.array_equal(yt, nyt)
        assert not np.array_equal(y, ny)
        assert np.max(np.abs(ny - y)) < 0.1 * np.sqrt(np.mean(y**2))
    with pytest.raises(ValueError, match="noise"):
        feynman.equation_problems(["coulomb_force"], noise=0.01)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ the study


def test_problems_are_keyed_by_equation_noise_and_seed() -> None:
    data = feynman_study.problems(["I.12.2", "heat_flow"], seeds=2, noise="1%", n_train=30, n_test=20)
    assert list(data) == [("coulomb_force", "1%", 0), ("coulomb_force", "1%", 1), ("heat_flow", "1%", 0),
                          ("heat_flow", "1%", 1)]
    assert data[("heat_flow", "1%", 0)][0].shape == (30, 5)
    with pytest.raises(ValueError, match="noise"):
        feynman_study.problems(noise="5%")


def test_run_fits_noisy_levels_only_for_the_noisy_methods_and_their_families() -> None:
    rows = feynman_study.run(["power_law"], ["coulomb_force", "heat_flow"], seeds=2, noises=["none", "10%", "x10%"],
                             noisy_methods={"power_law": ("sum of products",)}, n_train=200, n_test=100, progress=False)
    got = [(r["method"], r["noise"], r["equation"], r["seed"]) for r in rows]
    assert got == [("power_law", "none", "coulomb_force", 0), ("power_law", "none", "coulomb_force", 1),
                   ("power_law", "none", "heat_flow", 0), ("power_law", "none", "heat_flow", 1),
                   ("power_law", "10%", "heat_flow", 0), ("power_law", "10%", "heat_flow", 1),
                   ("power_law", "x10%", "heat_flow", 0), ("power_law", "x10%", "heat_flow", 1)]
    assert {r["family"] for r in rows} == {"monomial", "sum of products"}
    by = {(r["noise"], r["equation"], r["seed"]): r for r in rows}
    assert by[("none", "coulomb_force", 0)]["success"]  # a monomial: log features are exact
    assert by[("none", "heat_flow", 0)]["status"] == "not applicable"  # its targets change sign


@pytest.mark.parametrize("kwargs, name", [
    (dict(methods=["magic"]), "methods"), (dict(noises=["5%"]), "noises"), (dict(noises=[]), "noises"),
    (dict(seeds=0), "seeds"), (dict(names=["no_such_law"]), "key"),
])
def test_run_input_errors_name_the_parameter(kwargs: dict, name: str) -> None:
    args = dict(methods=["power_law"], names=["coulomb_force"], seeds=1, progress=False) | kwargs
    with pytest.raises(ValueError, match=name):
        feynman_study.run(**args)


def test_rows_round_trip_through_csv(tmp_path) -> None:
    rows = feynman_study.run(["power_law"], ["friction_force"], seeds=1, noises=["none"], n_train=50, n_test=50,
                             progress=False)
    path = feynman_study.write_results(rows, tmp_path / "f.csv")
    back = feynman_study.read_results(path)
    assert [r["mean"] for r in back] == [r["mean"] for r in rows]
    assert back[0]["success"] is True and back[0]["seed"] == 0
    with pytest.raises(FileNotFoundError, match="multlib.feynman_study"):
        feynman_study.read_results(tmp_path / "missing.csv")


# ------------------------------------------------------------------------------------------ committed


@pytest.fixture(scope="module")
def committed() -> list[dict]:
    return feynman_study.read_results()


def test_committed_results_cover_the_design(committed: list[dict]) -> None:
    got = {(r["method"], r["noise"], r["equation"], r["seed"]) for r in committed}
    assert len(got) == len(committed)
    seeds = range(5)
    want = {(m, "none", e, s) for m in methods.METHODS for e in feynman.EQUATIONS for s in seeds}
    for m, families in feynman_study.NOISY_METHODS.items():
        want |= {(m, n, e, s) for n in feynman_study.NOISE_LEVELS if n != "none" for e, eq in feynman.EQUATIONS.items()
                 if eq.family in families for s in seeds}
    assert got == want
    assert all(r["status"] in ("ok", "not applicable", "diverged") for r in committed)
    assert all(r["family"] == feynman.EQUATIONS[r["equation"]].family for r in committed)


def test_committed_results_reproduce_a_slice(committed: list[dict]) -> None:
    # Log features in closed form: every noise level of three equations, one per family, all seeds.
    names = ["coulomb_force", "dot_product", "shear_modulus"]
    redo = feynman_study.run(["power_law"], names, seeds=5, noisy_methods={"power_law": feynman.FAMILIES},
                             progress=False)
    stored = {(r["noise"], r["equation"], r["seed"]): r for r in committed if r["method"] == "power_law"}
    assert len(redo) == 3 * 5 * 5
    for r in redo:
        old = stored[(r["noise"], r["equation"], r["seed"])]
        assert r["status"] == old["status"]
        if r["status"] == "ok":
            assert math.isclose(r["mean"], old["mean"], rel_tol=1e-6, abs_tol=1e-12), (r, old)
            assert r["success"] == old["success"]


# ------------------------------------------------------------------------------------------ summaries


def _row(method: str, noise: str, family: str, mean: float, status: str = "ok", seconds: float = 1.0) -> dict:
    return dict(method=method, noise=noise, family=family, equation=f"{family}-eq", seed=0, status=status,
                mean=mean, success=status == "ok" and mean < 1e-5, seconds=seconds)


def test_feynman_counts_and_table_known_answer() -> None:
    rows = [_row("a", "none", "monomial", 1e-9), _row("a", "none", "monomial", 1e-3), _row("a", "none", "ratio", 0.5),
            _row("a", "1%", "monomial", 1e-3, seconds=3.0), _row("b", "none", "ratio", math.inf, "not applicable")]
    counts = summaries.feynman_counts(rows)
    assert counts[("a", "none", "monomial")] == (1, 2)
    assert counts[("a", "none", "all")] == (1, 3)
    assert counts[("b", "none", "ratio")] == (0, 1)
    assert summaries.feynman_counts(rows, 1e-2)[("a", "none", "all")] == (2, 3)
    table = summaries.format_feynman_table(rows)
    lines = table.splitlines()
    assert lines[2].split() == ["a", "none", "1/2", "0/0", "0/1", "1/3", "2/3", "1.00"]
    assert lines[3].split() == ["a", "1%", "0/1", "0/0", "0/0", "0/1", "1/1", "1.00"]
    assert summaries.seconds_per_fit(rows) == {"a": 1.0, "b": 1.0}
    assert summaries.solved_equations(rows, "a") == {"monomial-eq": (1, 2), "ratio-eq": (0, 1)}
    with pytest.raises(ValueError, match="method 'c'"):
        summaries.solved_equations(rows, "c")
    with pytest.raises(ValueError, match="rows"):
        summaries.format_feynman_table([])


def test_plot_feynman_draws_both_panels(committed: list[dict]) -> None:
    fig = plotting.plot_feynman(committed, title="test")
    left, right = fig.axes
    assert len(left.patches) == len(methods.METHODS) * len(feynman.FAMILIES)
    assert len(right.lines) == 2 * len(feynman_study.NOISY_METHODS)
    with pytest.raises(ValueError, match="rows"):
        plotting.plot_feynman([], title="x")
    with pytest.raises(ValueError, match="magic"):
        plotting.plot_feynman(committed, title="x", methods=["magic"])
