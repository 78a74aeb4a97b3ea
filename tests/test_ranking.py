"""Tests of multlib.ranking: the synthetic search-ranking problem of Chapter 6."""

from __future__ import annotations

import math

import numpy as np
import pytest

from multlib import methods, metrics, ranking, search, summaries


@pytest.fixture(scope="module")
def corpus() -> search.Corpus:
    return search.make_corpus(n_queries=20, per_query=100, seed=0)


# --------------------------------------------------------------------------------------- NDCG


def test_ndcg_of_a_perfect_ranking_is_one() -> None:
    gains = np.array([0.5, 3.0, 1.0, 2.0])
    assert search.ndcg_at_k(gains, gains, k=3) == pytest.approx(1.0)
    # Any monotone transform of the gains ranks the same way.
    assert search.ndcg_at_k(np.log(gains), gains, k=4) == pytest.approx(1.0)


def test_ndcg_of_a_reversed_ranking_known_answer() -> None:
    # Gains 3, 2, 1 ranked 1, 2, 3: DCG = 1/log2(2) + 2/log2(3) + 3/log2(4) = 1 + 1.26186 + 1.5
    # = 3.76186; the ideal DCG is 3 + 1.26186 + 0.5 = 4.76186; NDCG = 0.78999.
    gains = np.array([3.0, 2.0, 1.0])
    assert search.ndcg_at_k(-gains, gains, k=3) == pytest.approx(0.789998, abs=1e-6)
    # At k = 1 only the first document counts: 1 / 3.
    assert search.ndcg_at_k(-gains, gains, k=1) == pytest.approx(1 / 3)


def test_ndcg_k_larger_than_the_list_and_all_zero_gains() -> None:
    assert search.ndcg_at_k([2.0, 1.0], [1.0, 0.0], k=10) == pytest.approx(1.0)
    assert search.ndcg_at_k([1.0, 2.0], [0.0, 0.0], k=2) == 1.0


def test_ndcg_accepts_column_vectors_without_broadcasting() -> None:
    # (n, 1) predictions against (n,) gains must not broadcast to (n, n).
    gains = np.array([3.0, 2.0, 1.0])
    assert search.ndcg_at_k((-gains).reshape(-1, 1), gains, k=3) == pytest.approx(0.789998, abs=1e-6)


def test_top_k_overlap_known_answer() -> None:
    gains = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    scores = np.array([5.0, 1.0, 3.0, 4.0, 2.0])  # top 2: documents 0 and 3; true top 2: 0 and 1
    assert search.top_k_overlap(scores, gains, k=2) == 0.5
    assert search.top_k_overlap(gains, gains, k=3) == 1.0


def test_nan_predictions_rank_last() -> None:
    gains = np.array([1.0, 2.0, 3.0])
    assert search.ndcg_at_k([np.nan, 2.0, 3.0], gains, k=2) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(scores=[1.0, 2.0], gains=[1.0], k=1), "scores and gains"),
        (dict(scores=[], gains=[], k=1), "scores"),
        (dict(scores=[1.0, 2.0], gains=[1.0, -1.0], k=1), "gains"),
        (dict(scores=[1.0], gains=[1.0], k=0), "k"),
    ],
)
def test_ndcg_input_validation_names_the_parameter(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        search.ndcg_at_k(**kwargs)


# --------------------------------------------------------------------------------------- data


def test_corpus_shapes_ranges_and_score(corpus: search.Corpus) -> None:
    assert corpus.x.shape == (2000, 3)
    assert corpus.score.shape == corpus.query.shape == (2000,)
    assert corpus.n_queries == 20 and corpus.per_query == 100
    assert np.all(corpus.x > 0) and np.all(corpus.x <= 1)
    np.testing.assert_allclose(corpus.score, corpus.x[:, 0] * corpus.x[:, 1] * corpus.x[:, 2])
    # Relevance never exceeds the coverage of its query; queries are contiguous blocks.
    assert np.all(corpus.x[:, 0] <= corpus.coverage[corpus.query])
    assert np.array_equal(corpus.query[:100], np.zeros(100)) and corpus.query[-1] == 19


def test_corpus_is_reproducible_from_its_seed() -> None:
    a, b = search.make_corpus(3, 10, seed=4), search.make_corpus(3, 10, seed=4)
    assert np.array_equal(a.x, b.x)
    assert not np.array_equal(a.x, search.make_corpus(3, 10, seed=5).x)


def test_logged_first_pages_are_each_querys_top_page(corpus: search.Corpus) -> None:
    logged = search.log_first_pages(corpus, 3)
    assert len(logged) == 60 and np.all(np.diff(logged) > 0)
    # Every query logs exactly its own 3 best candidates, however weak they are.
    assert np.array_equal(np.bincount(corpus.query[logged], minlength=20), np.full(20, 3))
    for q in range(20):
        docs = np.flatnonzero(corpus.query == q)
        mine = np.intersect1d(docs, logged)
        rest = np.setdiff1d(docs, logged)
        assert corpus.score[mine].min() >= corpus.score[rest].max()
    # Per query, not corpus-wide: some logged page is weaker than the corpus's global top 60.
    assert corpus.score[logged].min() < np.sort(corpus.score)[-60]


def test_logged_split_partitions_the_logs(corpus: search.Corpus) -> None:
    logs = search.logged_split(corpus, sigma=0.0, seed=0, heldout=0.25, page_size=2)
    assert len(logs.index_train) == 30 and len(logs.index_heldout) == 10
    assert not set(logs.index_train) & set(logs.index_heldout)
    np.testing.assert_array_equal(logs.y_train, corpus.score[logs.index_train])  # no noise: exact scores
    np.testing.assert_array_equal(logs.x_heldout, corpus.x[logs.index_heldout])


def test_noise_is_multiplicative_and_log_normal() -> None:
    y = np.full(20_000, 2.0)
    noisy = search.add_noise(y, 0.5, seed=1)
    assert np.all(noisy > 0)
    log_ratio = np.log(noisy / y)
    assert abs(log_ratio.mean()) < 0.02 and log_ratio.std() == pytest.approx(0.5, abs=0.02)
    np.testing.assert_array_equal(search.add_noise(y, 0.0), y)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: search.make_corpus(0, 10), "n_queries"),
        (lambda: search.make_corpus(2, -1), "per_query"),
        (lambda: search.add_noise([1.0], -0.1), "sigma"),
        (lambda: search.add_noise([1.0], math.nan), "sigma"),
        (lambda: search.log_first_pages(search.make_corpus(2, 10), 0), "page_size"),
        (lambda: search.log_first_pages(search.make_corpus(2, 10), 10), "page_size"),
        (lambda: search.logged_split(search.make_corpus(2, 10), heldout=0.0), "heldout"),
        (lambda: search.true_score(np.ones((4, 2))), "x must have shape"),
        (lambda: methods.fit_predictors("nope", [(np.ones((2, 3)), np.ones(2), 0)]), "method"),
        (lambda: methods.fit_predictors("power_law", []), "data"),
    ],
)
def test_input_validation_names_the_parameter(call, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        call()


# --------------------------------------------------------------------------------------- scoring


def test_power_law_recovers_the_score_and_ranks_perfectly(corpus: search.Corpus) -> None:
    logs = search.logged_split(corpus, sigma=0.0, seed=0, page_size=5)
    (fit,) = methods.fit_predictors("power_law", [(logs.x_train, logs.y_train, 0)])
    row = ranking.score_method(fit, corpus, logs)
    assert row["status"] == "ok"
    assert row["heldout_error"] < 1e-9 and row["corpus_error"] < 1e-9
    assert row["ndcg"] == pytest.approx(1.0) and row["overlap"] == 1.0
    assert row["ndcg_deep"] == pytest.approx(1.0) and row["deep_worst"] == pytest.approx(1.0)


def test_ndcg_is_blind_to_a_per_query_rescaling(corpus: search.Corpus) -> None:
    # NDCG sees only the order within a query: a factor per query (1, 10 or 100) leaves every query's
    # ranking ideal, over all candidates and beyond the first page, while the scale is off by up to 99x.
    factor = 10.0 ** (corpus.query % 3)
    ndcg, overlap = search.query_metrics(corpus, corpus.score * factor)
    deep, _ = search.query_metrics(corpus, corpus.score * factor, exclude=search.log_first_pages(corpus, 5))
    assert np.allclose(ndcg, 1.0) and np.all(overlap == 1.0) and np.allclose(deep, 1.0)


def test_deep_metrics_ignore_the_logged_first_page() -> None:
    # One query, gains 5 > 4 > 3 > 2 > 1; the first page (k = 1) holds document 0. A model that gets
    # the logged document right but reverses the rest scores 1 over all candidates at k = 1, and the
    # reversed order's NDCG beyond the first page.
    c = search.Corpus(np.ones((5, 3)), np.array([5.0, 4.0, 3.0, 2.0, 1.0]), np.zeros(5, int), np.ones(1))
    pred = np.array([10.0, 1.0, 2.0, 3.0, 4.0])
    all_ndcg, _ = search.query_metrics(c, pred, k=1)
    deep, overlap = search.query_metrics(c, pred, k=1, exclude=[0])
    assert all_ndcg[0] == 1.0 and deep[0] == pytest.approx(1 / 4) and overlap[0] == 0.0
    with pytest.raises(ValueError, match="exclude"):
        search.query_metrics(c, pred, exclude=[7])
    with pytest.raises(ValueError, match="exclude"):
        search.query_metrics(c, pred, exclude=np.arange(5))


def test_a_failed_fit_scores_as_nan(corpus: search.Corpus) -> None:
    logs = search.logged_split(corpus, seed=0, page_size=5)
    row = ranking.score_method(ValueError("could not fit"), corpus, logs)
    assert row["status"] == "ValueError" and math.isnan(row["ndcg"])


def test_query_metrics_shapes_and_mismatch(corpus: search.Corpus) -> None:
    ndcg, overlap = search.query_metrics(corpus, corpus.score)
    assert ndcg.shape == overlap.shape == (20,)
    assert np.allclose(ndcg, 1.0) and np.all(overlap == 1.0)
    with pytest.raises(ValueError, match="predicted"):
        search.query_metrics(corpus, corpus.score[:-1])


def test_study_rows_table_and_csv_round_trip(tmp_path) -> None:
    rows = ranking.run(["power_law"], sigmas=[0.0, 0.5], seeds=2, n_queries=10, per_query=100,
                             progress=False)
    assert len(rows) == 4 and {r["sigma"] for r in rows} == {0.0, 0.5}
    back = ranking.read_results(ranking.write_results(rows, tmp_path / "r.csv"))
    assert [r["ndcg"] for r in back] == [r["ndcg"] for r in rows]
    summary = summaries.summarise_ranking(back)
    assert summary[("power_law", 0.0)]["fits"] == 2
    assert summary[("power_law", 0.0)]["corpus_error"] < 1e-9
    assert "power_law" in summaries.format_ranking_table(back)
    # The spread table gives each (method, noise) its lowest and highest value over the seeds.
    lines = summaries.format_ranking_spread(back).splitlines()
    assert len(lines) == 4 and "1.000 to 1.000" in lines[2]
    with pytest.raises(ValueError, match="metrics"):
        summaries.format_ranking_spread(back, metrics=["nope"])


def test_committed_results_cover_every_method_noise_and_seed() -> None:
    rows = ranking.read_results()
    keys = {(r["method"], r["sigma"], r["seed"]) for r in rows}
    assert keys == {(m, s, k) for m in ranking.METHOD_ORDER for s in ranking.NOISE_LEVELS for k in range(3)}


def test_committed_results_reproduce_a_slice() -> None:
    # Log features are a closed-form fit: the committed rows come back to rounding at every noise level
    # (seed 0). The networks' rows are statistics of Adam runs and are not re-run here.
    committed = {(r["method"], r["sigma"], r["seed"]): r for r in ranking.read_results()}
    redo = ranking.run(["power_law"], ranking.NOISE_LEVELS, seeds=1, progress=False)
    assert len(redo) == len(ranking.NOISE_LEVELS)
    for row in redo:
        old = committed[(row["method"], row["sigma"], row["seed"])]
        assert row["status"] == old["status"] == "ok"
        for metric in ("ndcg", "ndcg_deep", "overlap"):
            assert abs(row[metric] - old[metric]) < 1e-9, (metric, row, old)
        # At sigma = 0 the error is float64 rounding (~1e-15), whose digits change with the BLAS kernel.
        assert math.isclose(row["corpus_error"], old["corpus_error"], rel_tol=1e-6,
                            abs_tol=metrics.ROUNDING_FLOOR["float64"]), (row, old)
