"""The physical laws: known values, signed sampling, and the least-squares fit recovering the monomials."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("keras")

from multlib import compare, laws  # noqa: E402

KNOWN = {  # law: (inputs, value), worked out by hand
    "gravitation": ([2.0, 3.0, 2.0], 6.674e-11 * 6 / 4),
    "coulomb": ([-1.0, 2.0, 2.0], -8.988e9 * 2 / 4),
    "lorentz": ([-2.0, 3.0, 4.0], -24.0),
    "kinetic_energy": ([2.0, 3.0], 9.0),
    "ideal_gas": ([2.0, 300.0, 4.0], 2 * 8.314 * 300 / 4),
    "electric_power": ([3.0, 2.0], 4.5),
    "pendulum": ([9.81, 9.81], 2 * math.pi),
    "kepler": ([1.0, 1 / 6.674e-11], 2 * math.pi),
    "mechanical_energy": ([2.0, 1.0, 3.0], 2 * 9.81 + 9.0),
    "two_body_energy": ([2.0, 3.0, 4.0, 1.0], 9.0 + 2.0),
}


def test_there_are_ten_laws_with_known_values() -> None:
    assert set(KNOWN) == set(laws.LAWS)
    for name, (inputs, value) in KNOWN.items():
        got = laws.LAWS[name].formula.fn(np.array([inputs]))
        assert got.shape == (1,) and got[0] == pytest.approx(value, rel=1e-12), name


def test_test_range_is_at_least_five_times_beyond_training() -> None:
    for name, law in laws.LAWS.items():
        train, test = law.sample(2000, 0, test=False), law.sample(2000, 0, test=True)
        assert np.abs(train).max() <= 5 and np.abs(test).min() >= 5 and np.abs(test).max() > 24, name
        for j, signed in enumerate(law.signed):
            assert (train[:, j].min() < 0) == signed and (test[:, j].min() < 0) == signed, (name, j)


def test_least_squares_recovers_the_monomial_laws_and_not_the_sums() -> None:
    rows = compare.run_laws(["power_law"], seeds=1, n_train=500, n_test=500, progress=False)
    by_law = {r["formula"]: r for r in rows}
    for name, law in laws.LAWS.items():
        if "signed" in law.kind:
            assert by_law[name]["status"] == "not applicable", name
        elif law.kind == "sum of products":
            assert by_law[name]["mean"] > 0.05, name  # one monomial cannot fit a sum
        else:
            assert by_law[name]["success"] and by_law[name]["mean"] < 1e-10, name
    with pytest.raises(ValueError, match="laws must name entries of LAWS"):
        compare.run_laws(["power_law"], ["hooke"], seeds=1)
