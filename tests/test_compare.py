"""The comparison's library entry: domains, errors, evaluate() on formulas of our own, result files."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("keras")

from multlib import compare, data, feynman, methods, metrics, problems, summaries  # noqa: E402


def test_sample_draws_from_every_interval_of_a_union() -> None:
    x = problems.sample(problems.domain((-6, -2), (2, 6)), 4000, 3, seed=1)
    assert x.shape == (4000, 3)
    assert np.all((np.abs(x) >= 2) & (np.abs(x) <= 6))
    assert 0.45 < np.mean(x < 0) < 0.55  # the two intervals are equally long
    np.testing.assert_array_equal(x, problems.sample(problems.domain((-6, -2), (2, 6)), 4000, 3, seed=1))


@pytest.mark.parametrize("bad, match", [(((2, 1),), "interval 0 must be finite with low < high"),
                                        (((1, math.inf),), "interval 0"), (("ab",), "interval 0 must be a pair")])
def test_domain_rejects_bad_intervals(bad: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        problems.domain(*bad)


def test_relative_errors_refuse_broadcasting_and_zero_targets() -> None:
    np.testing.assert_allclose(problems.relative_errors([2.0, -4.0], np.array([[3.0], [-2.0]])), [0.5, 0.5])
    with pytest.raises(ValueError, match=r"y_pred must have as many values as y_true \(2\), got 3"):
        problems.relative_errors([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="zero"):
        problems.relative_errors([0.0, 1.0], [0.0, 1.0])
    assert problems.relative_errors([1.0], [np.nan])[0] == np.inf


def test_evaluate_power_law_recovers_a_law_of_our_own() -> None:
    # Kepler's third law in convenient units, T = a^1.5: fractional exponents, extrapolated 5x.
    err = compare.evaluate("power_law", lambda x: x[:, 0] ** 1.5, 1, (1, 5), (5, 25), seed=3)
    assert err.shape == (data.N_TEST,) and err.max() < 1e-12
    # A quotient with a coefficient, G m1 m2 / r^2 with G = 6.674e-11.
    err = compare.evaluate("power_law", lambda x: 6.674e-11 * x[:, 0] * x[:, 1] / x[:, 2] ** 2, 3, (1, 2), (2, 10))
    assert err.max() < 1e-10


def test_evaluate_says_why_it_cannot() -> None:
    with pytest.raises(problems.NotApplicable, match="non-positive"):
        compare.evaluate("power_law", lambda x: x[:, 0] * x[:, 1], 2, (-2, 2), [(-6, -2), (2, 6)])
    with pytest.raises(ValueError, match="method must be one of"):
        compare.evaluate("abacus", lambda x: x[:, 0], 1, (1, 2), (2, 3))
    with pytest.raises(ValueError, match=r"fn must return one value per row, shape \(10,\), got \(10, 2\)"):
        compare.evaluate("power_law", lambda x: x, 2, (1, 2), (2, 3), n_train=10, n_test=10)
    with pytest.raises(ValueError, match="non-finite"):
        compare.evaluate("power_law", lambda x: np.full(len(x), np.nan), 1, (1, 2), (2, 3), n_train=10, n_test=10)
    with pytest.raises(ValueError, match="train_range"):
        compare.evaluate("power_law", lambda x: x[:, 0], 1, (2, 1), (2, 3))


def test_relu_mlp_fits_its_range_and_misses_beyond() -> None:
    # The blog's finding, through the comparison's recipe: a product learned on [1, 2] is roughly right
    # there and tens of percent off on [2, 6].
    fn = lambda x: x[:, 0] * x[:, 1]  # noqa: E731
    inside = compare.evaluate("relu_mlp", fn, 2, (1, 2), (1, 2), n_train=2000, n_test=2000)
    outside = compare.evaluate("relu_mlp", fn, 2, (1, 2), (2, 6), n_train=2000, n_test=2000)
    assert np.mean(inside) < 0.02 < 0.1 < np.mean(outside)


def test_run_comparison_rows_round_trip(tmp_path) -> None:
    cells = [("x1x2", "nmu"), ("x1/x2", "below_one"), ("x1x2", "signed")]
    rows = compare.run(["power_law"], cells, seeds=2, n_train=200, n_test=100, progress=False)
    assert [(r["formula"], r["domain"], r["seed"]) for r in rows] == [(f, d, s) for f, d in cells for s in (0, 1)]
    ok = [r for r in rows if r["domain"] != "signed"]
    assert all(r["status"] == "ok" and r["success"] and r["mean"] < 1e-12 for r in ok)
    signed = [r for r in rows if r["domain"] == "signed"]
    assert all(r["status"] == "not applicable" and not r["success"] for r in signed)
    back = compare.read_results(compare.write_results(rows, tmp_path / "c.csv"))
    assert back == rows
    table = summaries.success_table(rows)
    assert table[("power_law", "x1x2", "nmu")]["successes"] == 2 and table[("power_law", "x1x2", "nmu")]["fits"] == 2
    assert table[("power_law", "x1x2", "signed")]["status"] == "not applicable"
    with pytest.raises(ValueError, match="cells must pair"):
        compare.run(["power_law"], [("x1x2", "moon")], seeds=1)


def test_two_workers_give_the_rows_of_one_in_the_same_order() -> None:
    # Methods trained in two spawned processes come back in the order asked for, with the same fits.
    cells = [("x1x2", "nmu"), ("x1x2", "signed")]
    cell_data = problems.benchmark_problems(cells, seeds=2, n_train=300, n_test=100)
    one = compare.score_fits(["power_law", "relu_mlp"], cell_data, progress=False, workers=1)
    # relu_mlp trains for seconds; shrink nothing, but only compare what does not depend on threads.
    two = compare.score_fits(["power_law", "relu_mlp"], cell_data, progress=False, workers=2)
    key = lambda r: (r["method"], r["formula"], r["domain"], r["seed"], r["status"])  # noqa: E731
    assert [key(r) for r in two] == [key(r) for r in one]
    for a, b in zip(one, two):
        if a["method"] == "power_law" and a["status"] == "ok":
            assert a["mean"] == b["mean"]
        if a["method"] == "relu_mlp":  # the same network to rounding (one thread against two)
            assert abs(a["mean"] - b["mean"]) <= 0.05 * a["mean"] + 1e-6, (a, b)
    with pytest.raises(ValueError, match="workers"):
        compare.score_fits(["power_law"], problems, workers=0)


def _committed(name: str):
    from multlib.results import RESULTS_DIR

    return RESULTS_DIR / name


def test_committed_results_cover_every_method_cell_and_seed() -> None:
    from multlib import laws

    rows = compare.read_results()
    seeds = sorted({r["seed"] for r in rows})
    assert len(seeds) >= 5
    got = {(r["method"], r["formula"], r["domain"], r["seed"]) for r in rows}
    book = compare.COMPARED  # what `python -m multlib.compare` runs
    assert got == {(m, f, d, s) for m in book for f, d in problems.BENCHMARK for s in seeds}
    law_rows = compare.read_results(_committed("laws.csv"))
    assert {(r["method"], r["formula"], r["seed"]) for r in law_rows} == {
        (m, name, s) for m in book for name in laws.LAWS for s in seeds}
    assert all(r["status"] in ("ok", "not applicable", "diverged") for r in rows + law_rows)


def test_committed_results_reproduce_a_slice() -> None:
    # The exact methods reproduce to rounding: the least-squares fit in float64, and the improved network,
    # whose success (a mean relative error below 1e-5) does not hinge on the last bits of its training.
    # Chaotic methods (Adam on MSE for thousands of steps) are not re-run here: their rows are statistics.
    committed = {(r["method"], r["formula"], r["domain"], r["seed"]): r for r in compare.read_results()}
    cells = [("x1x2", "nmu"), ("x1(x2+x3)+x4", "paper"), ("x1/x2", "below_one")]
    redo = compare.run(["power_law", "improved"], cells, seeds=1, progress=False)
    for row in redo:
        old = committed[(row["method"], row["formula"], row["domain"], row["seed"])]
        assert row["status"] == old["status"] and row["success"] == old["success"], row
        if row["method"] == "power_law":
            # x1x2 and x1/x2 are fitted to rounding (~1e-15, digits vary by CPU): an absolute floor there.
            assert math.isclose(row["mean"], old["mean"], rel_tol=1e-6, abs_tol=metrics.ROUNDING_FLOOR["float64"]), (row, old)


def test_success_counts_and_heatmap_grid_from_known_rows() -> None:
    def row(method, formula, domain, seed, status, mean):
        return dict(method=method, formula=formula, domain=domain, seed=seed, status=status, mean=mean,
                    median=mean, max=mean, train_mean=mean, success=status == "ok" and mean < 1e-5, seconds=0.0)

    rows = [row("a", "x1x2", "nmu", 0, "ok", 1e-9), row("a", "x1x2", "nmu", 1, "ok", 1e-3),
            row("a", "x1/x2", "signed", 0, "not applicable", math.inf),
            row("b", "x1x2", "nmu", 0, "diverged", math.inf), row("b", "x1/x2", "signed", 0, "ok", 1e3)]
    assert summaries.count_successes([r for r in rows if r["method"] == "a"]) == "1/2"
    assert summaries.count_successes(rows, lambda f, d: d == "signed") == "0/1"
    assert summaries.count_successes(rows[2:3]) == "n/a"
    values, labels = summaries.heatmap_grid(summaries.success_table(rows), ["a", "b"], [("x1x2", "nmu"), ("x1/x2", "signed")])
    # a on x1x2: the median of the two fits' means, (1e-9 + 1e-3) / 2; b's inf and 1e3 clip to the ceiling 1e2.
    np.testing.assert_allclose(values, [[np.log10(0.5e-3 + 0.5e-9), 2.0], [np.nan, 2.0]])
    assert labels == [["1/2", "0/1"], ["0/0", "0/1"]]
    with pytest.raises(ValueError, match="floor and ceiling"):
        summaries.heatmap_grid({}, [], [], floor=1.0, ceiling=1.0)
    summary = summaries.format_success_summary(rows, {"all": lambda f, d: True, "signed": lambda f, d: d == "signed"})
    assert [line.split() for line in summary.splitlines()] == [
        ["method", "all", "signed", "lowest", "cell", "median"], ["a", "1/2", "n/a", "5e-04"], ["b", "0/2", "0/1", "1e+03"]]
    more = rows + [row("b", "x1x2", "signed", 1, "diverged", math.inf)]
    assert summaries.diverged_counts(more) == {"b": (2, 1)}


# ------------------------------------------------------------------- the units in their own papers' settings


def test_read_own_settings_types_and_errors(tmp_path) -> None:
    path = tmp_path / "own.csv"
    path.write_text(",".join(compare.OWN_SETTINGS_COLUMNS) + "\n"
                    'NMU,3,20000,True,4000,3000,1e-12,2.5e-10,1.7e-09,-1,"{""NMU"":[1.0,0.5]}"\n')
    (row,) = compare.read_own_settings(path)
    assert row["unit"] == "NMU" and row["seed"] == 3 and row["solved"] is True and row["first_solved_step"] == 3000
    assert row["extrap_mse"] == 2.5e-10 and row["weights"] == {"NMU": [1.0, 0.5]}
    with pytest.raises(FileNotFoundError, match="benchmarks/units_own_settings.py"):
        compare.read_own_settings(tmp_path / "missing.csv")
    path.write_text("unit,seed\nNMU,0\n")
    with pytest.raises(ValueError, match="columns"):
        compare.read_own_settings(path)


def test_committed_own_settings_hold_every_unit_and_seed() -> None:
    rows = compare.read_own_settings()
    counts = {u: sum(r["unit"] == u for r in rows) for u in dict.fromkeys(r["unit"] for r in rows)}
    assert counts == {"NMU": 50, "NAU->NMU": 30, "NALU": 30, "NAC-mul": 30, "RealNPU": 30}
    # A seed counts as solved exactly when its extrapolation MSE at the selected step is below its threshold.
    assert all(r["solved"] == (r["extrap_mse"] < r["threshold"]) for r in rows)


def test_score_fits_subsets_fit_each_method_on_its_own_keys() -> None:
    data = problems.benchmark_problems([("x1x2", "paper"), ("x1/x2", "paper")], seeds=2, n_train=50, n_test=50)
    keys = [("x1/x2", "paper", 1)]
    rows = compare.score_fits(["power_law"], data, progress=False, subsets={"power_law": keys})
    assert [(r["formula"], r["domain"], r["seed"]) for r in rows] == keys
    with pytest.raises(ValueError, match="subsets"):
        compare.score_fits(["power_law"], data, progress=False, subsets={"power_law": [("x1x2", "nmu", 0)]})
    with pytest.raises(ValueError, match="subsets"):
        compare.score_fits(["power_law"], data, progress=False, subsets={"improved": keys})


def test_the_paper_predictor_is_its_member_of_the_trained_stack() -> None:
    # The adapter predicts from one member's weights; the stack's own predict must agree with it.
    from multlib.fused import FusedPaperModels

    data = problems.benchmark_problems([("x1x2", "paper"), ("x1(x2+x3)+x4", "paper")], seeds=1, n_train=64, n_test=32)
    cells = list(data.values())
    fits = methods.fit_predictors("paper", [(x, y, 0) for x, y, _, _ in cells])
    d = max(x.shape[1] for x, *_ in cells)
    stack = FusedPaperModels([("symlog", "symexp")] * 2, [x.shape[1] for x, *_ in cells], seeds=[0, 0], input_dim=d)
    xs = np.zeros((2, 64, d), np.float32)
    for k, (x, *_) in enumerate(cells):
        xs[k, :, : x.shape[1]] = x
    stack.fit(xs, np.stack([y for _, y, _, _ in cells]).astype(np.float32), epochs=100, batch_size=32,
              learning_rate=1e-3)
    test = np.zeros((2, 32, d), np.float32)
    for k, (_, _, xt, _) in enumerate(cells):
        test[k, :, : xt.shape[1]] = xt
    expected = stack.predict(test)
    for k, (_, _, xt, _) in enumerate(cells):
        np.testing.assert_allclose(fits[k](xt), expected[k], rtol=1e-5)


def test_tasks_group_sharing_methods_and_split_independent_fits_in_order() -> None:
    keys = [("f", "d", s) for s in range(200)]
    wanted = {"improved": keys, "improved_select": keys[:50], "nalu": keys, "npu": keys, "realnpu": keys,
              "symbolic_regression": keys}
    tasks = compare._tasks(list(wanted), wanted, split=True)
    by_first: dict[str, list] = {}
    for t in tasks:
        by_first.setdefault(t.jobs[0][0], []).append(t)
    assert set(by_first) == {"improved", "nalu", "npu", "symbolic_regression"}
    assert len(by_first["nalu"]) == 1 and len(by_first["npu"]) == 1  # trained as one stack: not split
    assert [m for m, _ in by_first["npu"][0].jobs] == ["npu", "realnpu"]  # they share it: one task
    assert [m for m, _ in by_first["improved"][0].jobs] == ["improved", "improved_select"]
    for first, names in (("improved", ["improved", "improved_select"]), ("symbolic_regression", ["symbolic_regression"])):
        parts = by_first[first]
        assert len(parts) > 1 and [t.part for t in parts] == list(range(1, len(parts) + 1))
        for name in names:  # every key exactly once, in order
            assert [k for t in parts for m, ks in t.jobs if m == name for k in ks] == wanted[name]
    assert [t.index for t in tasks] == list(range(len(tasks)))
    assert len(compare._tasks(list(wanted), wanted, split=False)) == 4  # one worker: nothing to even out


def test_a_method_that_reuses_work_is_charged_for_it() -> None:
    # improved_select reuses improved's search: its seconds are the search's plus its own, not ~0.
    dot_product = feynman.equation_problems(["dot_product"], seeds=1, n_train=300, n_test=100)
    rows = compare.score_fits(["improved", "improved_select"], dot_product, progress=False)
    seconds = {r["method"]: r["seconds"] for r in rows}
    assert seconds["improved_select"] >= 0.8 * seconds["improved"] > 0, seconds
