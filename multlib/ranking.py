"""The blog's motivating case made concrete: a ranking model trained on first-page logs.

Haldar's blog post warns that a search-ranking model is trained on what the first results page
logged, yet scores about 100 times as many documents, most of them unlike anything in the logs,
and that a train/test split of the logged data will not show the difference. This module builds that
situation synthetically, so that every method of the book can be scored on it:

* **A corpus** (:func:`make_corpus`): ``n_queries`` queries with ``per_query`` candidate documents
  each. Every document has three positive features, all in ``(0, 1]``: *relevance* to its query
  (bounded by how well the index covers that query, so that rare queries have only weak
  candidates), *quality* (log-uniform over two decades, like a link-based authority score) and
  *freshness*, an exponential decay ``2 ** (-age / 30 days)`` of an age uniform over a year. The true
  score is their product (:func:`true_score`), spanning about seven decades.
* **The logs** (:func:`log_first_pages`): the documents each query's first results page showed,
  i.e. its ``page_size`` (10) best candidates by true score: 1 % of the corpus, and a narrow,
  high-score slice of the feature space. Every query has its first page in the logs. The logged
  scores may carry multiplicative noise (:func:`add_noise`), as clicks or dwell times would.
  :func:`logged_split` holds out part of the logs, which is all that an offline evaluation sees.
* **Scoring** (:func:`score_method`): fit a method of :data:`multlib.compare.METHODS` on the logs
  (:func:`fit_predictors`), predict the whole corpus and report the held-out error on the logs, the
  relative error on the corpus and the ranking quality per query (:func:`ndcg_at_k`,
  :func:`top_k_overlap`), over all candidates and over the candidates beyond the first page, the
  99 % that the logs never showed.

``python -m multlib.ranking`` runs the full study (:func:`run_study`: every method, three noise
levels, three seeds) and writes ``ranking.csv`` into the package's results folder, which Chapter 6
reads with :func:`read_results`.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from multlib.data import check_positive_int

__all__ = [
    "FEATURES",
    "HALF_LIFE_DAYS",
    "METHOD_ORDER",
    "NOISE_LEVELS",
    "Corpus",
    "Logs",
    "make_corpus",
    "true_score",
    "PAGE_SIZE",
    "log_first_pages",
    "add_noise",
    "logged_split",
    "ndcg_at_k",
    "top_k_overlap",
    "query_metrics",
    "fit_predictors",
    "score_method",
    "run_study",
    "summarise",
    "format_table",
    "format_spread",
    "write_results",
    "read_results",
    "plot_scores",
    "plot_noise",
    "main",
]

FEATURES: tuple[str, ...] = ("relevance", "quality", "freshness")
"""The document features, in column order."""
HALF_LIFE_DAYS: float = 30.0
"""Freshness halves every 30 days of a document's age."""
METHOD_ORDER: tuple[str, ...] = ("relu_mlp", "paper", "power_law", "improved", "nau_nmu")
"""The methods of Chapter 6: the blog's ReLU network, Goel's symlog/symexp network, log features,
the improved network of Chapter 5a and the best arithmetic unit of Chapter 5b."""
PAGE_SIZE: int = 10
"""Documents on a first results page: what the logs keep of every query."""
NOISE_LEVELS: tuple[float, ...] = (0.0, 0.1, 0.5)
"""Standard deviations of the log-normal noise on the logged scores in the study."""

Predictor = Callable[[np.ndarray], np.ndarray]


# ------------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """Every candidate document of every query.

    Attributes:
        x: ``(n, 3)`` features (:data:`FEATURES`), all in ``(0, 1]``.
        score: ``(n,)`` the true score, the product of the features.
        query: ``(n,)`` the query id of each document; documents of a query are contiguous.
        coverage: ``(n_queries,)`` how well the index covers each query (the ceiling of relevance).
    """

    x: np.ndarray
    score: np.ndarray
    query: np.ndarray
    coverage: np.ndarray

    @property
    def n_queries(self) -> int:
        return len(self.coverage)

    @property
    def per_query(self) -> int:
        return len(self.score) // self.n_queries


def true_score(x: Any) -> np.ndarray:
    """The score a perfect ranker would use: ``relevance * quality * freshness`` per row of ``x``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(FEATURES):
        raise ValueError(f"x must have shape (n, {len(FEATURES)}) (columns {FEATURES}), got {x.shape}")
    return np.prod(x, axis=1)


def make_corpus(n_queries: int = 200, per_query: int = 1000, seed: int = 0) -> Corpus:
    """A synthetic corpus of ``n_queries * per_query`` documents spanning the whole feature space.

    A query's coverage is log-uniform on ``[10**-1.5, 1]``; a document's relevance is its query's
    coverage times a uniform draw on ``[0.05, 1]``. Quality is log-uniform on ``[0.01, 1]``; age is
    uniform on ``[0, 365]`` days, so freshness ``2 ** (-age / 30)`` is log-uniform on about
    ``[2e-4, 1]``.
    """
    n_queries = check_positive_int(n_queries, "n_queries")
    per_query = check_positive_int(per_query, "per_query")
    rng = np.random.default_rng(seed)
    n = n_queries * per_query
    coverage = 10.0 ** rng.uniform(-1.5, 0.0, n_queries)
    relevance = np.repeat(coverage, per_query) * rng.uniform(0.05, 1.0, n)
    quality = 10.0 ** rng.uniform(-2.0, 0.0, n)
    freshness = 2.0 ** (-rng.uniform(0.0, 365.0, n) / HALF_LIFE_DAYS)
    x = np.stack([relevance, quality, freshness], axis=1)
    return Corpus(x, true_score(x), np.repeat(np.arange(n_queries), per_query), coverage)


def log_first_pages(corpus: Corpus, page_size: int = PAGE_SIZE) -> np.ndarray:
    """Indices (ascending) of the documents the first results pages showed: each query's top
    ``page_size`` by true score.

    Every issued query shows a first page, so every query is in the logs; a rare query (low
    coverage) logs its weak best candidates, which gives the logs their lowest scores.
    """
    page_size = check_positive_int(page_size, "page_size")
    if page_size >= corpus.per_query:
        raise ValueError(f"page_size must be below the {corpus.per_query} candidates per query, got {page_size}")
    m = corpus.per_query
    # A stable sort per query: ties (none in practice) keep a reproducible order.
    top = np.argsort(-corpus.score.reshape(corpus.n_queries, m), axis=1, kind="stable")[:, :page_size]
    return np.sort((top + m * np.arange(corpus.n_queries)[:, None]).reshape(-1))


def add_noise(y: Any, sigma: float, seed: int = 0) -> np.ndarray:
    """``y * exp(sigma * z)`` with ``z`` standard normal: multiplicative (log-normal) noise.

    The noisy score keeps its sign and its median (``y``); ``sigma = 0.5`` spreads it by a factor of
    about 1.65 either way (one standard deviation). ``sigma = 0`` returns a copy of ``y``.
    """
    if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma!r}")
    y = np.asarray(y, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return y * np.exp(sigma * rng.standard_normal(y.shape))


@dataclass(frozen=True)
class Logs:
    """The logged first-page documents, split into training and held-out parts.

    ``y_*`` are the logged (possibly noisy) scores: the held-out part is all an offline evaluation
    can check a model against. ``index_*`` locate the rows in the corpus.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_heldout: np.ndarray
    y_heldout: np.ndarray
    index_train: np.ndarray
    index_heldout: np.ndarray
    sigma: float


def logged_split(corpus: Corpus, sigma: float = 0.0, seed: int = 0, heldout: float = 0.2,
                 page_size: int = PAGE_SIZE) -> Logs:
    """Log the first pages (:func:`log_first_pages`), add noise ``sigma`` and hold out a random
    ``heldout`` share of the logged documents (the offline split)."""
    if not (isinstance(heldout, (int, float)) and 0 < heldout < 1):
        raise ValueError(f"heldout must be a number in (0, 1), got {heldout!r}")
    logged = log_first_pages(corpus, page_size)
    y = add_noise(corpus.score[logged], sigma, seed=seed + 1)
    order = np.random.default_rng(seed + 2).permutation(len(logged))
    n_out = max(1, int(round(heldout * len(logged))))
    out, keep = order[:n_out], order[n_out:]
    if len(keep) == 0:
        raise ValueError(f"heldout={heldout!r} leaves no logged document to train on ({len(logged)} logged)")
    return Logs(corpus.x[logged[keep]], y[keep], corpus.x[logged[out]], y[out], logged[keep], logged[out],
                float(sigma))


# ------------------------------------------------------------------------------------------------
# ranking metrics
# ------------------------------------------------------------------------------------------------


def _check_scores(scores: Any, gains: Any, k: int) -> tuple[np.ndarray, np.ndarray, int]:
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    g = np.asarray(gains, dtype=np.float64).reshape(-1)
    if s.shape != g.shape:
        raise ValueError(f"scores and gains must have one value per document, got {s.size} and {g.size}")
    if s.size == 0:
        raise ValueError("scores must hold at least one document, got none")
    if not np.all(np.isfinite(g)) or np.any(g < 0):
        raise ValueError("gains must be finite and non-negative")
    k = check_positive_int(k, "k")
    return s, g, k


def _top(s: np.ndarray, k: int) -> np.ndarray:
    # NaN predictions rank last; ties go to the earlier document, so the result is reproducible.
    s = np.where(np.isnan(s), -np.inf, s)
    return np.argsort(-s, kind="stable")[:k]


def ndcg_at_k(scores: Any, gains: Any, k: int = 10) -> float:
    """Normalised discounted cumulative gain of the top ``k`` documents ranked by ``scores``.

    ``DCG@k = sum_{i=1..k} gain(i-th ranked) / log2(i + 1)``, divided by the DCG of the ideal
    ranking (by ``gains`` themselves), so a perfect ranking scores 1. Gains here are the true scores
    (linear gains). If every gain is 0 the ranking cannot be wrong and the result is 1. Only the
    order of ``scores`` matters: multiplying them by any positive number leaves NDCG unchanged.
    """
    s, g, k = _check_scores(scores, gains, k)
    k = min(k, s.size)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = float(np.sum(np.sort(g)[::-1][:k] * discount))
    if ideal == 0.0:
        return 1.0
    return float(np.sum(g[_top(s, k)] * discount) / ideal)


def top_k_overlap(scores: Any, gains: Any, k: int = 10) -> float:
    """The share of the true top ``k`` (by ``gains``) that ``scores`` also puts in its top ``k``."""
    s, g, k = _check_scores(scores, gains, k)
    k = min(k, s.size)
    return len(set(_top(s, k).tolist()) & set(_top(g, k).tolist())) / k


def query_metrics(corpus: Corpus, predicted: Any, k: int = 10,
                  exclude: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Per query: NDCG@k and top-k overlap of ``predicted`` (one score per corpus document).

    ``exclude`` (corpus indices, e.g. the logged first pages) drops those documents before ranking,
    so the metrics judge the order of the remaining candidates among themselves.
    """
    p = np.asarray(predicted, dtype=np.float64).reshape(-1)
    if p.size != corpus.score.size:
        raise ValueError(f"predicted must have one score per document ({corpus.score.size}), got {p.size}")
    keep = np.ones(p.size, bool)
    if exclude is not None:
        drop = np.asarray(exclude).reshape(-1)
        if drop.size and (drop.dtype.kind not in "iu" or drop.min() < 0 or drop.max() >= p.size):
            raise ValueError(f"exclude must hold corpus indices in [0, {p.size}), got {drop[:5]}...")
        keep[drop] = False
    m = corpus.per_query
    blocks = [(p[sl][keep[sl]], corpus.score[sl][keep[sl]])
              for sl in (slice(i * m, (i + 1) * m) for i in range(corpus.n_queries))]
    if any(s.size == 0 for s, _ in blocks):
        raise ValueError("exclude leaves a query with no document to rank")
    ndcg = np.array([ndcg_at_k(s, g, k) for s, g in blocks])
    overlap = np.array([top_k_overlap(s, g, k) for s, g in blocks])
    return ndcg, overlap


# ------------------------------------------------------------------------------------------------
# methods
# ------------------------------------------------------------------------------------------------


def fit_predictors(method: str, data: Sequence[tuple[np.ndarray, np.ndarray, int]]) -> list[Predictor | Exception]:
    """Fit ``method`` (a name in :data:`multlib.compare.METHODS`) on each ``(x, y, seed)``, all at once.

    Returns one predictor (``x -> scores``) per data set, or the exception that stopped that fit
    (:class:`multlib.compare.NotApplicable`, :class:`multlib.training.TrainingDiverged`). Each method
    trains with the recipe :mod:`multlib.compare` recommends for it.
    """
    from multlib.compare import METHODS, Problem

    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    if not data:
        raise ValueError("data must hold at least one (x, y, seed) triple, got none")
    return METHODS[method].fit_many([Problem(np.asarray(x, np.float64), np.asarray(y, np.float64), int(s))
                                     for x, y, s in data])


def _median_relative(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from multlib.compare import relative_errors

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


# ------------------------------------------------------------------------------------------------
# the study
# ------------------------------------------------------------------------------------------------


COLUMNS = ("method", "sigma", "seed", "status", "heldout_error", "corpus_error", "ndcg", "overlap",
           "ndcg_deep", "deep_worst", "seconds")


def run_study(
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


METRICS = ("heldout_error", "corpus_error", "ndcg", "overlap", "ndcg_deep", "deep_worst")


def summarise(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, float], dict[str, float]]:
    """Per ``(method, sigma)``: the median over seeds of every metric (:data:`METRICS`), and ``fits``."""
    out: dict[tuple[str, float], dict[str, float]] = {}
    for key in dict.fromkeys((r["method"], float(r["sigma"])) for r in rows):
        group = [r for r in rows if (r["method"], float(r["sigma"])) == key]
        out[key] = {m: float(np.median([r[m] for r in group])) for m in METRICS}
        out[key]["fits"] = len(group)
    return out


def _num(x: float, digits: int = 2) -> str:
    # Errors span decades: ``digits`` significant digits, thousands separated (1,800, not 1.8e+03).
    return f"{float(f'{x:.{digits}g}'):,g}"


def format_table(rows: Sequence[dict[str, Any]], digits: int = 2) -> str:
    """A plain-text table of :func:`summarise` (errors with ``digits`` significant digits, NDCG to 3 places)."""
    table = summarise(rows)
    head = f"{'method':10s} {'noise':>5s} {'held-out err':>12s} {'corpus err':>10s} {'NDCG@10':>7s} " \
           f"{'top-10':>6s} {'beyond p1':>9s} {'worst':>6s}"
    lines = [head, "-" * len(head)]
    for (method, sigma), t in table.items():
        lines.append(f"{method:10s} {sigma:5.1f} {_num(t['heldout_error'], digits):>12s} "
                     f"{_num(t['corpus_error'], digits):>10s} {t['ndcg']:7.3f} {t['overlap']:6.2f} {t['ndcg_deep']:9.3f} {t['deep_worst']:6.3f}")
    return "\n".join(lines)


def format_spread(rows: Sequence[dict[str, Any]], metrics: Sequence[str] = ("corpus_error", "ndcg_deep")) -> str:
    """A plain-text table of the lowest and highest value over seeds of each of ``metrics``, per
    ``(method, sigma)``: what the medians of :func:`format_table` hide."""
    if not rows:
        raise ValueError("rows must hold at least one study row, got none")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"metrics must be names in {METRICS}, got {unknown}")
    label = {"heldout_error": "held-out err", "corpus_error": "corpus err", "ndcg": "NDCG@10", "overlap": "top-10",
             "ndcg_deep": "beyond p1", "deep_worst": "worst"}
    head = f"{'method':10s} {'noise':>5s}" + "".join(f" {label[m] + ', seeds':>22s}" for m in metrics)
    lines = [head, "-" * len(head)]
    for key in dict.fromkeys((r["method"], float(r["sigma"])) for r in rows):
        group = [r for r in rows if (r["method"], float(r["sigma"])) == key]
        cells = []
        for m in metrics:
            lo, hi = min(r[m] for r in group), max(r[m] for r in group)
            # Errors span decades (two significant digits); NDCG lives in [0, 1] (three places).
            if m.startswith(("ndcg", "deep", "overlap")):
                cells.append(f"{lo:.3f} to {hi:.3f}")
            else:
                cells.append(f"{_num(lo)} to {_num(hi)}")
        lines.append(f"{key[0]:10s} {key[1]:5.1f}" + "".join(f" {c:>22s}" for c in cells))
    return "\n".join(lines)


def write_results(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write study rows as CSV (floats as ``repr``, so they read back exactly)."""
    from multlib.sweep import write_csv

    return write_csv(rows, path, COLUMNS)


def read_results(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Read study rows back; by default the committed ``ranking.csv`` shipped in the package."""
    from multlib.sweep import RESULTS_DIR, read_csv

    return read_csv(RESULTS_DIR / "ranking.csv" if path is None else path, command="python -m multlib.ranking",
                    ints=("seed",), floats=("sigma", "seconds", *METRICS))


# ------------------------------------------------------------------------------------------------
# figure
# ------------------------------------------------------------------------------------------------


def plot_scores(corpus: Corpus, logs: Logs, predictions: dict[str, np.ndarray], *, title: str,
                n_points: int = 4000, seed: int = 0) -> Any:
    """Predicted against true score on a sample of the corpus, one panel per method, log-log axes.

    The score range of the logs is shaded and the logged documents are drawn in black, so the
    reader sees each method inside and outside what it was trained on. Predictions at or below zero
    (a ReLU network's extrapolation) are drawn at the bottom edge and their share of the corpus is
    given in the panel's title.
    """
    import matplotlib.pyplot as plt

    from multlib.plotting import COLORS, TRAIN_SHADE

    if not predictions:
        raise ValueError("predictions must name at least one method, got none")
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(corpus.score), size=min(check_positive_int(n_points, "n_points"), len(corpus.score)),
                      replace=False)
    logged = np.concatenate([logs.index_train, logs.index_heldout])
    low = float(corpus.score.min())
    lo, hi = low / 3, 3.0
    fig, axes = plt.subplots(1, len(predictions), figsize=(3.3 * len(predictions), 3.4), sharey=True,
                             squeeze=False)
    for k, (ax, (name, pred)) in enumerate(zip(axes[0], predictions.items())):
        # A method keeps its colour of plot_noise, so the two figures read together.
        color = COLORS[METHOD_ORDER.index(name) if name in METHOD_ORDER else k % len(COLORS)]
        pred = np.asarray(pred, dtype=np.float64).reshape(-1)
        if pred.size != corpus.score.size:
            raise ValueError(f"predictions[{name!r}] must have one score per document, got {pred.size}")
        ax.axvspan(float(corpus.score[logged].min()), hi, color=TRAIN_SHADE, alpha=0.8, zorder=0,
                   label="logged score range")
        ax.plot([lo, hi], [lo, hi], color="black", lw=1, ls="--", label="exact")
        shown = np.clip(pred[pick], lo * 1.01, hi)
        ax.scatter(corpus.score[pick], shown, s=3, color=color, alpha=0.5, rasterized=True,
                   label="corpus sample")
        ax.scatter(corpus.score[logged], np.clip(pred[logged], lo * 1.01, hi), s=3, color="black", alpha=0.4,
                   rasterized=True, label="logged documents")
        below = int(np.sum(pred <= 0))
        ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi), xlabel="true score",
               title=f"{name}" + (f" ({100 * below / pred.size:.0f} % <= 0)" if below else ""))
    axes[0][0].set_ylabel("predicted score")
    axes[0][0].legend(loc="upper left", fontsize=7, markerscale=3)
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


def plot_noise(rows: Sequence[dict[str, Any]], *, title: str, methods: Sequence[str] = METHOD_ORDER,
               random_ndcg: float | None = None) -> Any:
    """Two panels against the noise level: the median relative error over the corpus (log axis) and
    the mean NDCG@10 beyond the first page; a line through the medians over seeds and one dot per
    seed. ``random_ndcg``, if given, draws what a random order scores on the right panel."""
    import matplotlib.pyplot as plt

    from multlib.plotting import COLORS

    if not rows:
        raise ValueError("rows must hold at least one study row, got none")
    fig, (ax_err, ax_ndcg) = plt.subplots(1, 2, figsize=(12, 4))
    for color, method in zip(COLORS, methods):
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            raise ValueError(f"methods names {method!r}, which has no rows")
        sigmas = sorted({float(r["sigma"]) for r in mine})
        for ax, metric in ((ax_err, "corpus_error"), (ax_ndcg, "ndcg_deep")):
            values = [[r[metric] for r in mine if float(r["sigma"]) == s] for s in sigmas]
            ax.plot(sigmas, [np.median(v) for v in values], "-o", color=color, label=method, ms=4)
            for s, v in zip(sigmas, values):
                ax.scatter([s] * len(v), v, color=color, s=10, alpha=0.5)
    ax_err.set(yscale="log", xlabel="noise on the logged scores (sigma of log-normal)",
               ylabel="median relative error, whole corpus")
    if random_ndcg is not None:
        ax_ndcg.axhline(random_ndcg, color="grey", ls=":", lw=1.5, label="random order")
    ax_ndcg.set(xlabel="noise on the logged scores (sigma of log-normal)",
                ylabel="mean NDCG@10 beyond the first page")
    # Outside the axes: inside, the legend would hide some of the seeds' dots.
    ax_ndcg.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m multlib.ranking``: regenerate the committed ``ranking.csv`` (with a progress bar)."""
    from multlib.compare import METHODS
    from multlib.sweep import RESULTS_DIR

    parser = argparse.ArgumentParser(prog="python -m multlib.ranking", description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=list(METHOD_ORDER), choices=sorted(METHODS))
    parser.add_argument("--sigmas", nargs="+", type=float, default=list(NOISE_LEVELS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS_DIR / "ranking.csv"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        rows = run_study(args.methods, args.sigmas, args.seeds)
    except ValueError as err:
        parser.error(str(err))
    print(format_table(rows))
    print(f"wrote {write_results(rows, args.out)} ({len(rows)} rows) in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
