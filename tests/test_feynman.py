"""The Feynman equations: known values worked out by hand, the formula text, the rule's families, the ranges,
the problems' format and the errors."""

from __future__ import annotations

import hashlib
import math
import re

import numpy as np
import pytest

from multlib import feynman, laws
from multlib.feynman import EQUATIONS

KNOWN = {  # database id: (inputs in the database's column order, value worked out by hand)
    # q1 q2 / (4 pi eps r^2) at q1=2, q2=3, eps=1, r=2: 6 / (16 pi) = 3 / (8 pi)
    "I.12.2": ([2.0, 3.0, 1.0, 2.0], 3 / (8 * math.pi)),
    # G m1 m2 / (dx^2 + dy^2 + dz^2) at m1=1, m2=2, G=3, x=(4, 1), y=(3, 1), z=(3, 1): 6 / (9 + 4 + 4)
    "I.9.18": ([1.0, 2.0, 3.0, 4.0, 1.0, 3.0, 1.0, 3.0, 1.0], 6 / 17),
    # m (v^2 + u^2 + w^2) / 2 at m=2, v=1, u=2, w=3: 1 + 4 + 9
    "I.13.4": ([2.0, 1.0, 2.0, 3.0], 14.0),
    # (u + v) / (1 + u v / c^2) at c=2, v=1, u=2: 3 / (1 + 2/4) = 2
    "I.16.6": ([2.0, 1.0, 2.0], 2.0),
    # (m1 r1 + m2 r2) / (m1 + m2) at m1=1, m2=3, r1=2, r2=6: (2 + 18) / 4
    "I.18.4": ([1.0, 3.0, 2.0, 6.0], 5.0),
    # 1 / (1/d1 + n/d2) at d1=2, d2=4, n=2: 1 / (1/2 + 1/2)
    "I.27.6": ([2.0, 4.0, 2.0], 1.0),
    # (eps c Ef^2 / 2)(8 pi r^2 / 3)(w^4 / (w^2 - w0^2)^2) at all ones but w0 = sqrt 2: (1/2)(8 pi/3)(1/1)
    "I.32.17": ([1.0, 1.0, 1.0, 1.0, 1.0, math.sqrt(2)], 4 * math.pi / 3),
    # sqrt(gamma pr / rho) at gamma=2, pr=8, rho=4: sqrt(4)
    "I.47.23": ([2.0, 8.0, 4.0], 2.0),
    # 1 + n alpha / (1 - n alpha / 3) at n=1, alpha=1.5: 1 + 1.5 / 0.5
    "II.11.28": ([1.0, 1.5], 4.0),
    # mom H/(kb T) + mom alpha M/(eps c^2 kb T) at mom=1, H=2, kb=1, T=2, alpha=3, eps=1, c=1, M=2: 1 + 3
    "II.36.38": ([1.0, 2.0, 1.0, 2.0, 3.0, 1.0, 1.0, 2.0], 4.0),
    # -m q^4 / (2 (4 pi eps)^2 (h / 2 pi)^2 n^2) at m=2, q=1, h=2 pi, n=1, eps=1/(4 pi): -2 / 2
    "III.19.51": ([2.0, 1.0, 2 * math.pi, 1.0, 1 / (4 * math.pi)], -1.0),
}


def test_known_values_worked_out_by_hand() -> None:
    for source_id, (inputs, value) in KNOWN.items():
        got = feynman.equation(source_id).fn(np.array([inputs]))
        assert got.shape == (1,) and got[0] == pytest.approx(value, rel=1e-12), source_id


def _evaluate_text(eq: feynman.Equation, x: np.ndarray) -> np.ndarray:
    """The database's formula text itself, evaluated on the columns of ``x``."""
    names = {"sqrt": np.sqrt, "pi": math.pi, **{v: x[:, j] for j, v in enumerate(eq.variables)}}
    return eval(eq.formula, {"__builtins__": {}}, names)  # noqa: S307 - our own formula strings


@pytest.mark.parametrize("name", sorted(EQUATIONS))
def test_fn_is_finite_on_its_range_and_agrees_with_the_formula_text(name: str) -> None:
    eq = EQUATIONS[name]
    for scale in (1.0, feynman.EXTRAPOLATION):
        x = eq.sample(300, 3, scale)
        y = eq.fn(x)
        assert y.shape == (300,) and y.dtype == np.float64 and np.all(np.isfinite(y)), (name, scale)
        np.testing.assert_allclose(y, _evaluate_text(eq, x), rtol=1e-9, err_msg=f"{name} at scale {scale}")


def _family_from_text(formula: str) -> str:
    """The rule applied to the text: no sum is a monomial; a sum inside a parenthesised divisor is a ratio."""
    body = formula.lstrip("-")
    if not re.search(r"[+-]", body):
        return "monomial"
    for start in (m.end() for m in re.finditer(r"/\(", body)):
        depth, end = 1, start
        while depth:
            depth += {"(": 1, ")": -1}.get(body[end], 0)
            end += 1
        if re.search(r"[+-]", body[start:end]):
            return "ratio"
    return "sum of products"


def test_the_rule_holds_for_every_kept_equation() -> None:
    assert len(EQUATIONS) == 59 and sum(len(ids) for ids in feynman.EXCLUDED.values()) == 41
    kept_ids = [e.source_id for e in EQUATIONS.values()]
    excluded = [i for ids in feynman.EXCLUDED.values() for i in ids]
    assert len(set(kept_ids) | set(excluded)) == 100 and not set(kept_ids) & set(excluded)
    for eq in EQUATIONS.values():
        assert not re.search(r"\b(exp|ln|log|sin|cos|tan|tanh|arcsin)\(", eq.formula), eq.source_id
        for arg in re.findall(r"sqrt\(([^()]*)\)", eq.formula):
            assert not re.search(r"[+-]", arg), eq.source_id  # a root of a product only
        assert "sqrt((" not in eq.formula, eq.source_id
        assert eq.family == _family_from_text(eq.formula), eq.source_id
    counts = {f: sum(e.family == f for e in EQUATIONS.values()) for f in feynman.FAMILIES}
    assert counts == {"monomial": 38, "sum of products": 7, "ratio": 14}


@pytest.mark.parametrize("source_id, family", [
    ("I.12.2", "monomial"), ("I.47.23", "monomial"), ("III.19.51", "monomial"), ("I.38.12", "monomial"),
    ("I.11.19", "sum of products"), ("II.2.42", "sum of products"), ("I.13.12", "sum of products"),
    ("I.18.4", "ratio"), ("II.10.9", "ratio"), ("I.27.6", "ratio"), ("I.39.11", "ratio"),
])
def test_named_families(source_id: str, family: str) -> None:
    assert feynman.equation(source_id).family == family
    assert _family_from_text(feynman.equation(source_id).formula) == family


def test_the_family_rule_on_texts_of_our_own() -> None:  # the checker above must be able to say no
    assert _family_from_text("a*b/(c*d)") == "monomial"
    assert _family_from_text("a*(b-c)/d") == "sum of products"
    assert _family_from_text("a/(b*(c-d))") == "ratio"


def test_ranges_are_the_published_ones_and_samples_stay_inside() -> None:
    coulomb = feynman.equation("I.12.2")
    assert coulomb.variables == ("q1", "q2", "epsilon", "r") and coulomb.ranges == ((1, 5),) * 4
    assert feynman.equation("I.9.18").ranges[3:5] == ((3.0, 4.0), (1.0, 2.0))  # x1 in [3, 4], x2 in [1, 2]
    assert feynman.equation("II.11.27").ranges[:2] == ((0.0, 1.0), (0.0, 1.0))
    for name, eq in EQUATIONS.items():
        low, high = np.array(eq.ranges).T
        x, x_test = eq.sample(2000, 0), eq.sample(2000, 0, scale=5)
        assert np.all((x >= low) & (x <= high)), name
        assert np.all((x_test >= high) & (x_test <= 5 * high)) and np.all(x_test.max(axis=0) > 4.9 * high), name
        assert np.all(x_test.min(axis=0) < 1.04 * high) and np.all(x.min(axis=0) < low + 0.01 * (high - low)), name
    assert coulomb.ranges_at(5) == ((5.0, 25.0),) * 4
    np.testing.assert_array_equal(coulomb.sample(10, 4), coulomb.sample(10, 4))
    assert not np.array_equal(coulomb.sample(10, 4), coulomb.sample(10, 5))


# The SHA-256 of the kept rows of FeynmanEquations.csv, computed from the file itself, not from multlib (the
# KenWuqianghao/Transformer-SR-Benchmarks copy, which spells gamma as the module does; the cited copy differs
# only in writing Gamma): one line per kept id in the file's order,
# "id;formula;name:low:high,..." with the floats in Python's repr, joined by newlines.
TABLE_SHA256 = "5b981d74fdf12491c092b8b94fe67d1810d806fb19a8139773116338b2b21cdc"


def test_ids_formulas_and_ranges_are_those_of_the_database_file() -> None:
    text = "\n".join(f"{e.source_id};{e.formula};" + ",".join(f"{v}:{lo!r}:{hi!r}" for v, (lo, hi) in
                                                           zip(e.variables, e.ranges)) for e in EQUATIONS.values())
    assert hashlib.sha256(text.encode()).hexdigest() == TABLE_SHA256


POLES = {  # a point of the test box [high, 5 high] where the denominator is zero
    "gravitation_xyz": [2.0, 2.0, 2.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0],  # x1 = x2, y1 = y2, z1 = z2
    "driven_dipole_power": [2.0, 2.0, 2.0, 2.0, 6.0, 6.0],  # omega = omega_0
    "doppler_frequency": [10.0, 10.0, 5.0],  # v = c, the corner of c in [10, 50] and v in [2, 10]
    "driven_oscillator_amplitude": [3.0, 3.0, 3.0, 6.0, 6.0],  # omega = omega_0
    "clausius_mossotti_polarization": [1.5, 2.0, 2.0, 2.0],  # n alpha = 3
    "clausius_mossotti_permittivity": [1.5, 2.0],
    "moving_charge_potential": [5.0, 5.0, 5.0, 10.0, 10.0],  # v = c
}


def test_the_test_poles_lie_in_the_test_box() -> None:
    assert set(POLES) == set(feynman.TEST_POLES)
    for name, point in POLES.items():
        eq = EQUATIONS[name]
        assert all(lo <= v <= hi for v, (lo, hi) in zip(point, eq.ranges_at(5))), name
        with np.errstate(divide="ignore", invalid="ignore"):
            assert not np.isfinite(eq.fn(np.array([point]))[0]), name
    # On the training ranges the same denominators stay away from zero.
    for name in feynman.TEST_POLES:
        y = np.abs(EQUATIONS[name].fn(EQUATIONS[name].sample(5000, 1)))
        assert y.max() < 1e3, name
    zeros = {"gravitational_work": [1.0, 2.0, 3.0, 3.0, 1.0], "heat_flow": [1.0, 2.0, 2.0, 3.0, 4.0]}  # r1 = r2, T1 = T2
    for name, point in zeros.items():
        assert name in feynman.SIGN_CHANGES and EQUATIONS[name].fn(np.array([point]))[0] == 0.0


def test_equation_problems_have_the_format_of_law_problems() -> None:
    got = feynman.equation_problems(["coulomb_force", "I.18.4"], seeds=2, n_train=7, n_test=5)
    ref = laws.law_problems(["kinetic_energy"], seeds=2, n_train=7, n_test=5)
    assert list(got) == [(n, "feynman", s) for n in ("coulomb_force", "center_of_mass") for s in (0, 1)]
    assert [type(k) for k in next(iter(got))] == [type(k) for k in next(iter(ref))]
    for key, (x, y, x_test, y_test) in got.items():
        d = len(EQUATIONS[key[0]].variables)
        assert (x.shape, y.shape, x_test.shape, y_test.shape) == ((7, d), (7,), (5, d), (5,)), key
        assert all(a.dtype == np.float64 for a in (x, y, x_test, y_test))
        np.testing.assert_array_equal(y, EQUATIONS[key[0]].fn(x))
        assert np.all(x_test >= np.array(EQUATIONS[key[0]].ranges)[:, 1])
    _, y_ref, _, _ = ref[("kinetic_energy", "laws", 0)]
    assert y_ref.shape == (7,)
    assert len(feynman.equation_problems(seeds=1, n_train=3, n_test=3)) == 59
    again = feynman.equation_problems(["coulomb_force"], seeds=1, n_train=7, n_test=5)
    np.testing.assert_array_equal(again[("coulomb_force", "feynman", 0)][2], got[("coulomb_force", "feynman", 0)][2])


@pytest.mark.parametrize("call, match", [
    (lambda: feynman.equation("hooke"), "key must be a name of EQUATIONS or a kept database id, got 'hooke'"),
    (lambda: feynman.equation("I.6.2a"), "got 'I.6.2a'"),  # in the database, but left out by the rule
    (lambda: feynman.equation_problems(["coulomb_force", "nope"]), "names must hold .* got 'nope'"),
    (lambda: feynman.equation(12), "key must be .* got 12"),
    (lambda: feynman.equation_problems("coulomb_force"), "names must be a list of names or ids, got the string"),
    (lambda: feynman.equation_problems(seeds=0), "seeds must be a positive integer, got 0"),
    (lambda: feynman.equation_problems(n_train=0), "n_train must be a positive integer, got 0"),
    (lambda: feynman.equation_problems(n_test=2.5), "n_test must be a positive integer, got 2.5"),
    (lambda: EQUATIONS["coulomb_force"].sample(0, 1), "n must be a positive integer, got 0"),
    (lambda: EQUATIONS["coulomb_force"].sample(5, -1), "seed must be a non-negative integer, got -1"),
    (lambda: EQUATIONS["coulomb_force"].sample(5, 1, scale=0.5), "scale must be a finite number >= 1, got 0.5"),
    (lambda: EQUATIONS["coulomb_force"].sample(5, 1, scale=math.inf), "scale must be a finite number >= 1"),
    (lambda: EQUATIONS["coulomb_force"].fn(np.ones((3, 2))), r"x must be an \(n, 4\) array for I.12.2"),
    (lambda: feynman.Equation("X", "x", "a", ("a",), ((1.0, 2.0),), "polynomial", abs), "family must be one of"),
    (lambda: feynman.Equation("X", "x", "a", ("a",), ((2.0, 1.0),), "monomial", abs), "ranges must hold"),
])
def test_bad_input_raises_value_error_naming_it(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_least_squares_recovers_the_positive_monomials_through_score_fits() -> None:
    compare = pytest.importorskip("multlib.compare")
    names = [n for n, e in EQUATIONS.items() if e.family == "monomial"] + ["center_of_mass", "heat_flow"]
    rows = compare.score_fits(["power_law"], feynman.equation_problems(names, seeds=1, n_train=200, n_test=200),
                              progress=False)
    by_name = {r["formula"]: r for r in rows}
    assert set(by_name) == set(names) and {r["domain"] for r in rows} == {"feynman"}
    for name in names:
        if name in ("hydrogen_energy", "probability_current", "heat_flow"):  # negative targets: no log to fit
            assert by_name[name]["status"] == "not applicable", name
        elif EQUATIONS[name].family == "monomial":
            assert by_name[name]["success"] and by_name[name]["mean"] < 1e-10, name
        else:
            assert by_name[name]["mean"] > 0.01, name  # one monomial cannot fit a ratio
