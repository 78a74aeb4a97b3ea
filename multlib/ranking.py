"""Chapter 6's study: every method ranking a search corpus it only saw the first pages of.

The simulated search engine is :mod:`multlib.search`: a corpus whose true score is a product of
three features, and logs that keep each query's first results page. :func:`score_method` fits
nothing; it scores one fitted predictor on what the logs show (the held-out error of an offline
split) and on what the corpus shows (the error on every document, and the ranking quality per
query beyond the first page). :func:`run` fits every method of :data:`METHOD_ORDER`
(:mod:`multlib.methods`) at every noise level and seed.

``python -m multlib.ranking`` runs the full study and writes ``ranking.csv`` into the package's
results folder, which Chapter 6 reads with :func:`read_results`.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from multlib.data import check_positive_int
from multlib.methods import METHODS, Predictor, fit_predictors
from multlib.problems import relative_errors
from multlib.results import RESULTS_DIR, read_csv, write_csv
from multlib.search import Corpus, Logs, logged_split, make_corpus, query_metrics

__all__ = [
    "METHOD_ORDER",
    "NOISE_LEVELS",
    "COLUMNS",
    "METRICS",
    "score_method",
    "run",
    "write_results",
    "read_results",
    "main",
]

METHOD_ORDER: tuple[str, ...] = ("relu_mlp", "paper", "power_law", "improved", "nau_nmu")
"""The methods of Chapter 6: the blog's ReLU network, Goel's symlog/symexp network, log features,
the improved network of Chapter 5a and the best arithmetic unit of Chapter 5b."""
NOISE_LEVELS: tuple[float, ...] = (0.0, 0.1, 0.5)
"""Standard deviations of the log-normal noise on the logged scores in the study."""
METRICS = ("heldout_error", "corpus_error", "ndcg", "overlap", "ndcg_deep", "deep_worst")
"""What :func:`score_method` measures, in the columns' order."""


def _median_relative(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.median(relative_errors(y_true, y_pred)))


def score_method(predict: Predictor | Exception, corpus: Corpus, logs: Logs, k: int = 10) -> dict[str, Any]:
    """Score one fitted predictor: what the logs show and what the corpus shows.

    Keys: ``heldout_error`` (median relative error on the held-out logs, against the *logged*, possibly
    noisy scores: what an offline split measures), ``corpus_error`` (median relative error against the
    true score over the whole corpus), ``ndcg`` and ``overlap`` (means over queries of NDCG@k and of
    the top-k overlap over all candidates), ``ndcg_deep`` (mean over queries of NDCG@k over the
    candidates beyond the first page, i.e. with the logged documents removed: how the model orders
    what the logs never showed), ``deep_worst`` (the lowest of those per-query values) and ``status``.
    """
    if isinstance(predict, Exception):
        nan = math.nan
        return dict(status=type(predict).__name__, heldout_error=nan, corpus_error=nan, ndcg=nan, overlap=nan,
                    ndcg_deep=nan, deep_worst=nan)
    pred = np.asarray(predict(corpus.x), dtype=np.float64).reshape(-1)
    ndcg, overlap = query_metrics(corpus, pred, k)
    deep, _ = query_metrics(corpus, pred, k, exclude=np.concatenate([logs.index_train, logs.index_heldout]))
    return dict(
        status="ok",
        heldout_error=_median_relative(logs.y_heldout, predict(logs.x_heldout)),
        corpus_error=_median_relative(corpus.score, pred),
        ndcg=float(ndcg.mean()),
        overlap=float(overlap.mean()),
        ndcg_deep=float(deep.mean()),
        deep_worst=float(deep.min()),
    )


COLUMNS = ("method", "sigma", "seed", "status", "heldout_error", "corpus_error", "ndcg", "overlap",
           "ndcg_deep", "deep_worst", "seconds")


def run(
    methods: Sequence[str] = METHOD_ORDER,
    sigmas: Sequence[float] = NOISE_LEVELS,
    seeds: int = 3,
    *,
    n_queries: int = 200,
    per_query: int = 1000,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Every method at every noise level and seed; one row per fit (keys :data:`COLUMNS`).

    Seed ``s`` draws the corpus, the noise, the held-out split and the method's own randomness, so
    every method sees the same data. Each method trains all its fits at once; ``seconds`` is its wall
    time divided by its number of fits. ``progress`` prints a bar over the methods.
    """
    seeds = check_positive_int(seeds, "seeds")
    if not sigmas:
        raise ValueError("sigmas must name at least one noise level, got none")
    corpora = [make_corpus(n_queries, per_query, seed=s) for s in range(seeds)]
    jobs = [(sigma, s, logged_split(corpora[s], sigma, seed=s)) for sigma in sigmas for s in range(seeds)]
    rows: list[dict[str, Any]] = []
    began = time.perf_counter()
    for i, method in enumerate(methods):
        t0 = time.perf_counter()
        fits = fit_predictors(method, [(logs.x_train, logs.y_train, s) for _, s, logs in jobs])
        per_fit = (time.perf_counter() - t0) / len(jobs)
        for (sigma, s, logs), fit in zip(jobs, fits):
            rows.append(dict(method=method, sigma=float(sigma), seed=s, seconds=per_fit,
                             **score_method(fit, corpora[s], logs)))
        if progress:
            bar = "#" * (20 * (i + 1) // len(methods))
            print(f"[{bar:20s}] {i + 1}/{len(methods)} methods: {method}, {len(jobs)} fits in "
                  f"{time.perf_counter() - t0:.0f} s ({time.perf_counter() - began:.0f} s elapsed)", flush=True)
    return rows


def write_results(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write study rows as CSV (floats as ``repr``, so they read back exactly)."""
    return write_csv(rows, path, COLUMNS)


def read_results(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Read study rows back; by default the committed ``ranking.csv`` shipped in the package."""
    return read_csv(RESULTS_DIR / "ranking.csv" if path is None else path, command="python -m multlib.ranking",
                    ints=("seed",), floats=("sigma", "seconds", *METRICS))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m multlib.ranking``: regenerate the committed ``ranking.csv`` (with a progress bar)."""
    parser = argparse.ArgumentParser(prog="python -m multlib.ranking", description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=list(METHOD_ORDER), choices=sorted(METHODS))
    parser.add_argument("--sigmas", nargs="+", type=float, default=list(NOISE_LEVELS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS_DIR / "ranking.csv"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        rows = run(args.methods, args.sigmas, args.seeds)
    except ValueError as err:
        parser.error(str(err))
    print(f"wrote {write_results(rows, args.out)} ({len(rows)} rows) in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
