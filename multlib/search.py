"""A search engine in miniature: a corpus of documents, the logs of its first results pages, NDCG.

Haldar's blog post warns that a search-ranking model is trained on what the first results page
logged, yet scores about 100 times as many documents, most of them unlike anything in the logs.
This module builds that situation synthetically (Chapter 6); :mod:`multlib.ranking` scores every
method of the book on it.

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
* **Ranking quality** per query (:func:`ndcg_at_k`, :func:`top_k_overlap`, :func:`query_metrics`),
  over all candidates or over those beyond the first page, the 99 % that the logs never showed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from multlib.data import check_positive_int

__all__ = [
    "FEATURES",
    "HALF_LIFE_DAYS",
    "PAGE_SIZE",
    "Corpus",
    "Logs",
    "make_corpus",
    "true_score",
    "log_first_pages",
    "add_noise",
    "logged_split",
    "ndcg_at_k",
    "top_k_overlap",
    "query_metrics",
]

FEATURES: tuple[str, ...] = ("relevance", "quality", "freshness")
"""The document features, in column order."""
HALF_LIFE_DAYS: float = 30.0
"""Freshness halves every 30 days of a document's age."""
PAGE_SIZE: int = 10
"""Documents on a first results page: what the logs keep of every query."""


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
