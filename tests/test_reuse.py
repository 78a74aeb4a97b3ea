"""multlib.reuse, and the work the methods share through it: the same fits, computed once, their cost charged to both."""

from __future__ import annotations

import time

import numpy as np
import pytest

from multlib import improved, methods, reuse
from multlib.problems import Problem


def test_a_memo_computes_once_and_charges_the_reuse() -> None:
    memo = reuse.Memo(capacity=2)
    calls: list[int] = []

    def compute() -> list[int]:
        calls.append(1)
        time.sleep(0.05)
        return [1, 2]

    first = memo.get_or_compute("a", compute)
    before = reuse.seconds_reused()
    again = memo.get_or_compute("a", compute)
    assert again is first and len(calls) == 1 and (memo.hits, memo.misses) == (1, 1)
    assert 0.04 < reuse.seconds_reused() - before < 1.0  # the 0.05 s the result first took
    memo.get_or_compute("b", lambda: 2)
    memo.get_or_compute("c", lambda: 3)  # over capacity: "a", the least recently used, goes
    assert len(memo) == 2
    memo.get_or_compute("a", compute)
    assert len(calls) == 2
    with pytest.raises(ValueError, match="capacity must be a positive integer, got 0"):
        reuse.Memo(capacity=0)


def test_digest_tells_arrays_apart_by_values_dtype_and_shape() -> None:
    x = np.arange(6.0)
    assert reuse.digest(x, 1) == reuse.digest(x.copy(), 1)
    others = [reuse.digest(x + 1e-12, 1), reuse.digest(x.astype(np.float32), 1), reuse.digest(x.reshape(2, 3), 1),
              reuse.digest(x, 2), reuse.digest(x[::-1], 1)]
    assert len({reuse.digest(x, 1), *others}) == 6


def _weights(fit: improved.ImprovedFit) -> list[np.ndarray]:
    return [np.asarray(v.numpy()) for v in fit.model.weights]


def test_the_improved_variants_reuse_the_search_and_fit_exactly_as_without_it() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 2, (300, 3))
    y = x[:, 0] * x[:, 1] + x[:, 2]  # a sum: the one-term search fails and the full search runs
    quick = dict(steps=150, rounds=2, restarts=4, refit_steps=50)
    memo = reuse.Memo()
    plain = improved.fit(x, y, seed=1, memo=memo, **quick)
    assert (memo.hits, memo.misses) == (0, 2)  # the one-term search and the full one, kept
    selected = improved.fit(x, y, seed=1, select=True, memo=memo, **quick)
    assert memo.hits == 2  # both reused: selection acts after the search
    ratio = improved.fit(x, y, seed=1, n_terms=2, denominator_terms=1, memo=memo, **quick)
    assert (memo.hits, memo.misses) == (3, 3)  # the ratio reuses the one-term search only
    for with_memo, options in [(plain, {}), (selected, dict(select=True)),
                               (ratio, dict(n_terms=2, denominator_terms=1))]:
        alone = improved.fit(x, y, seed=1, **quick, **options)
        for a, b in zip(_weights(with_memo), _weights(alone)):
            np.testing.assert_array_equal(a, b)
    other_seed = improved.fit(x, y, seed=2, memo=memo, **quick)
    assert memo.hits == 3 and other_seed.formula() != ""  # another seed is another search


def test_npu_on_inputs_of_one_sign_is_trained_as_the_realnpu_to_the_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(methods, "UNIT_STEPS", 200)
    monkeypatch.setattr(methods, "_UNIT_RUNS", reuse.Memo(capacity=2))
    rng = np.random.default_rng(0)
    xs = [rng.uniform(0.5, 2, (200, 2)), rng.uniform(0.5, 2, (200, 3))]
    problems = [Problem(x, np.prod(x, axis=1), seed) for seed, x in enumerate(xs)]
    probe = rng.uniform(-3, 3, (50, 3))  # negative inputs too: the two networks are one function
    as_npu = [np.asarray(f(probe[:, :x.shape[1]])) for f, x in zip(methods._train_units("npu", problems), xs)]
    fits = methods.METHODS["npu"].fit_many(problems)
    for f, x, expected in zip(fits, xs, as_npu):
        np.testing.assert_array_equal(f(probe[:, :x.shape[1]]), expected)
    assert methods._UNIT_RUNS.misses == 1
    again = methods.METHODS["realnpu"].fit_many(problems)
    assert methods._UNIT_RUNS.hits == 1 and again is fits
    signed = [Problem(-p.x, np.prod(-p.x, axis=1), p.seed) for p in problems]
    methods.METHODS["npu"].fit_many(signed)  # negative inputs: the NPU itself, its own stack
    assert methods._UNIT_RUNS.misses == 2
