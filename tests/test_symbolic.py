"""multlib.symbolic: Operon's symbolic regression finds exact laws, and says so when it is not installed.

The tests that run Operon skip where pyoperon is missing (``make test-min``); the input checks, the
known answers of ``same_law`` (which needs sympy alone) and the missing path run everywhere they can.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from multlib import methods, symbolic
from multlib.problems import NotApplicable, relative_errors


def _law(x: np.ndarray) -> np.ndarray:
    return 2 * x[:, 0] * x[:, 1] / x[:, 2]


def _data(seed: int = 0, low: float = 1.0, high: float = 5.0, n: int = 500) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(seed).uniform(low, high, (n, 3))
    return x, _law(x)


@pytest.fixture(scope="module")
def law_fit() -> symbolic.SymbolicFit:
    pytest.importorskip("pyoperon")
    x, y = _data()
    return symbolic.fit(x, y, seed=0)


def test_recovers_a_law_exactly_and_extrapolates(law_fit) -> None:
    assert symbolic.same_law(law_fit.expression, "2*x1*x2/x3", ["x1", "x2", "x3"])
    assert law_fit.formula() == "2*x1*x2/x3"
    assert law_fit.train_error < 1e-6 and law_fit.seconds > 0
    x_test, y_test = _data(seed=1, low=5.0, high=25.0)
    pred = law_fit.predict(x_test)
    assert pred.dtype == np.float64 and pred.shape == (len(x_test),) and np.all(np.isfinite(pred))
    assert np.mean(relative_errors(y_test, pred)) < 1e-5


def test_a_seed_gives_the_same_formula(law_fit) -> None:
    x, y = _data()
    again = symbolic.fit(x, y, seed=0)
    assert str(again.expression) == str(law_fit.expression)


def test_tiny_targets_are_fitted_rescaled_and_named() -> None:
    pytest.importorskip("pyoperon")
    x = np.random.default_rng(2).uniform(1, 5, (500, 3))
    y = 6.674e-11 * x[:, 0] * x[:, 1] / x[:, 2] ** 2
    found = symbolic.fit(x, y, seed=0, names=["m1", "lambda", "I"])
    assert symbolic.same_law(found.expression, "6.674e-11*m1*lambda/I**2", ["m1", "lambda", "I"])
    assert found.formula() == "6.67e-11*lambda*m1/I**2"
    assert found.train_error < 1e-6  # no spurious intercept left to spoil the relative error


def test_the_method_trains_through_the_registry() -> None:
    pytest.importorskip("pyoperon")
    x, y = _data(seed=3)
    x_test, y_test = _data(seed=4, low=5.0, high=25.0)
    fit, zero = methods.fit_predictors("symbolic_regression", [(x, y, 0), (x, np.zeros(len(x)), 0)])
    assert np.mean(relative_errors(y_test, fit(x_test))) < 1e-5
    assert isinstance(zero, NotApplicable) and "all zeros" in str(zero)


def test_without_pyoperon_fit_says_how_to_install_and_the_method_is_not_applicable(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pyoperon", None)
    monkeypatch.setitem(sys.modules, "pyoperon.sklearn", None)
    assert not symbolic.available()
    x, y = _data()
    with pytest.raises(ImportError, match=r"pip install 'multlib\[sr\]'"):
        symbolic.fit(x, y)
    (out,) = methods.fit_predictors("symbolic_regression", [(x, y, 0)])
    assert isinstance(out, NotApplicable) and "multlib[sr]" in str(out)


@pytest.mark.parametrize("expression, truth, variables, expected", [
    # a monomial with pi in the truth, and a constant off by 1e-8 (inside rtol) or by 0.5 % (outside)
    ("0.0795774715459477*q1*q2/(epsilon*r**2)", "q1*q2*r/(4*pi*epsilon*r**3)", ["q1", "q2", "epsilon", "r"], True),
    ("0.0795774723*q1*q2/(epsilon*r**2)", "q1*q2*r/(4*pi*epsilon*r**3)", ["q1", "q2", "epsilon", "r"], True),
    ("0.08*q1*q2/(epsilon*r**2)", "q1*q2*r/(4*pi*epsilon*r**3)", ["q1", "q2", "epsilon", "r"], False),
    ("0.0795774715459477*q1*q2/(epsilon*r)", "q1*q2*r/(4*pi*epsilon*r**3)", ["q1", "q2", "epsilon", "r"], False),
    # a sum of products: every coefficient must be right, and no term may be missing
    ("0.5*m*v**2 + 0.50000000001*m*u**2 + 0.5*m*w**2", "1/2*m*(v**2+u**2+w**2)", ["m", "v", "u", "w"], True),
    ("0.5*m*v**2 + 0.5*m*u**2", "1/2*m*(v**2+u**2+w**2)", ["m", "v", "u", "w"], False),
    ("0.5*m*v**2 + 0.51*m*u**2 + 0.5*m*w**2", "1/2*m*(v**2+u**2+w**2)", ["m", "v", "u", "w"], False),
    # a ratio, also with numerator and denominator scaled by one factor as Operon writes them
    ("-0.529*Y/(-1.058*sigma - 1.058)", "Y/(2*(1+sigma))", ["Y", "sigma"], True),
    ("-0.53*Y/(-1.058*sigma - 1.058)", "Y/(2*(1+sigma))", ["Y", "sigma"], False),
    ("0.5*Y/(sigma + 1)", "Y/(2*(1+sigma))", ["Y", "sigma"], True),
    ("0.5*Y/(sigma + 1.01)", "Y/(2*(1+sigma))", ["Y", "sigma"], False),
    # names that are Python keywords or sympy constants in text
    ("2*gamma*I/lambda", "gamma*I*2/lambda", ["gamma", "I", "lambda"], True),
    ("2*gamma*I/lambda", "gamma*I/lambda", ["gamma", "I", "lambda"], False),
])
def test_same_law_known_answers(expression, truth, variables, expected) -> None:
    pytest.importorskip("sympy")
    assert symbolic.same_law(expression, truth, variables) is expected


def test_same_law_on_sympy_expressions_and_its_tolerance() -> None:
    sympy = pytest.importorskip("sympy")
    x, y = sympy.symbols("x y")
    assert symbolic.same_law(1.0000001 * x * y, "x*y", ["x", "y"])
    assert not symbolic.same_law(1.0000001 * x * y, "x*y", ["x", "y"], rtol=1e-8)
    with pytest.raises(ValueError, match="must use only"):
        symbolic.same_law(x * y, "x*z", ["x", "y"])
    with pytest.raises(ValueError, match="rtol"):
        symbolic.same_law(x, "x", ["x"], rtol=-1)


@pytest.mark.parametrize("change, message", [
    (dict(x=np.ones(5)), r"x must be a non-empty \(n, n_features\) array, got shape \(5,\)"),
    (dict(y=np.ones(4)), r"y must hold one value per row of x, shape \(5,\), got \(4,\)"),
    (dict(x=np.full((5, 2), np.nan)), "x must be finite, got 10 non-finite"),
    (dict(y=np.array([1, 2, np.inf, 4, 5])), "y must be finite, got 1 non-finite"),
    (dict(y=np.zeros(5)), "y must not be all zeros"),
    (dict(seed=-1), "seed must be a non-negative integer, got -1"),
    (dict(seed=True), "seed must be a non-negative integer, got True"),
    (dict(seed=1.5), "seed must be a non-negative integer, got 1.5"),
    (dict(names=["a"]), r"names must be 2 distinct non-empty strings, got \('a',\)"),
    (dict(names=["a", "a"]), "names must be 2 distinct"),
    (dict(recipe={"generation": 5}), r"recipe may set .*got \['generation'\]"),
])
def test_fit_names_the_bad_input(change, message) -> None:
    args = dict(x=np.ones((5, 2)) + np.arange(5)[:, None], y=np.arange(1.0, 6.0), seed=0, names=None, recipe=None)
    args.update(change)
    with pytest.raises(ValueError, match=message):
        symbolic.fit(args.pop("x"), args.pop("y"), **args)


def test_predict_and_formula_check_their_arguments(law_fit) -> None:
    with pytest.raises(ValueError, match=r"x must be a non-empty \(n, 3\) array, got shape \(4, 2\)"):
        law_fit.predict(np.ones((4, 2)))
    with pytest.raises(ValueError, match="digits must be a positive integer, got 0"):
        law_fit.formula(digits=0)
    assert law_fit.formula(digits=8).startswith("2")
