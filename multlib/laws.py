"""Ten laws of physics as extrapolation tasks: learn on one range, predict five to twenty-five times beyond.

Each law keeps its real constant (G, k, R, g), so a method must learn the coefficient as well as the
exponents; inputs are in SI units and drawn from ``[1, 5]`` for training and ``[5, 25]`` for testing
(charges from both signs). Products, quotients, powers (including square roots) and two sums of
products are represented. :func:`multlib.compare.run_laws` scores every method of the book on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from multlib.data import N_TEST, N_TRAIN, check_positive_int
from multlib.problems import CellData, Domain, Formula, domain, sample

__all__ = ["Law", "LAWS", "TRAIN", "TEST", "SIGNED_TRAIN", "SIGNED_TEST", "law_problems"]

G = 6.674e-11  # gravitational constant, N m^2 / kg^2
K = 8.988e9  # Coulomb's constant, N m^2 / C^2
R = 8.314  # gas constant, J / (mol K)
g = 9.81  # standard gravity, m / s^2

TRAIN: Domain = domain((1, 5))
TEST: Domain = domain((5, 25))
SIGNED_TRAIN: Domain = domain((-5, -1), (1, 5))
SIGNED_TEST: Domain = domain((-25, -5), (5, 25))


@dataclass(frozen=True)
class Law:
    """A physical law: its formula over named variables, and which variables may be negative."""

    name: str
    formula: Formula
    variables: tuple[str, ...]
    signed: tuple[bool, ...]
    kind: str

    def sample(self, n: int, seed: int, test: bool) -> np.ndarray:
        """Inputs on the training (``test=False``) or test range; signed variables take both signs."""
        x = sample(TEST if test else TRAIN, n, len(self.variables), seed)
        signs = np.random.default_rng(seed + 7).choice([-1.0, 1.0], size=x.shape)
        return np.where(np.array(self.signed), x * signs, x)


def _law(name: str, text: str, variables: Sequence[str], fn: Callable[[np.ndarray], np.ndarray], kind: str,
         signed: Sequence[str] = ()) -> Law:
    for v in signed:
        if v not in variables:
            raise ValueError(f"signed must name variables of {name!r}, got {v!r}")
    return Law(name, Formula(name, len(variables), fn, text), tuple(variables),
               tuple(v in signed for v in variables), kind)


LAWS: dict[str, Law] = {
    law.name: law
    for law in [
        _law("gravitation", "G m1 m2 / r^2", ("m1", "m2", "r"), lambda x: G * x[:, 0] * x[:, 1] / x[:, 2] ** 2,
             "quotient"),
        _law("coulomb", "k q1 q2 / r^2", ("q1", "q2", "r"), lambda x: K * x[:, 0] * x[:, 1] / x[:, 2] ** 2,
             "quotient, signed", signed=("q1", "q2")),
        _law("lorentz", "q v B", ("q", "v", "B"), lambda x: x[:, 0] * x[:, 1] * x[:, 2], "product, signed",
             signed=("q",)),
        _law("kinetic_energy", "m v^2 / 2", ("m", "v"), lambda x: 0.5 * x[:, 0] * x[:, 1] ** 2, "power"),
        _law("ideal_gas", "n R T / V", ("n", "T", "V"), lambda x: x[:, 0] * R * x[:, 1] / x[:, 2], "quotient"),
        _law("electric_power", "V^2 / R", ("V", "R"), lambda x: x[:, 0] ** 2 / x[:, 1], "quotient, power"),
        _law("pendulum", "2 pi sqrt(L / g)", ("L", "g"), lambda x: 2 * math.pi * np.sqrt(x[:, 0] / x[:, 1]),
             "square root"),
        _law("kepler", "2 pi sqrt(a^3 / (G M))", ("a", "M"),
             lambda x: 2 * math.pi * np.sqrt(x[:, 0] ** 3 / (G * x[:, 1])), "fractional powers"),
        _law("mechanical_energy", "m g h + m v^2 / 2", ("m", "h", "v"),
             lambda x: x[:, 0] * g * x[:, 1] + 0.5 * x[:, 0] * x[:, 2] ** 2, "sum of products"),
        _law("two_body_energy", "m1 v1^2 / 2 + m2 v2^2 / 2", ("m1", "v1", "m2", "v2"),
             lambda x: 0.5 * x[:, 0] * x[:, 1] ** 2 + 0.5 * x[:, 2] * x[:, 3] ** 2, "sum of products"),
    ]
}
"""The ten laws by name."""


def law_problems(
    laws: Sequence[str] | None = None, seeds: int = 5, *, n_train: int = N_TRAIN, n_test: int = N_TEST
) -> dict[tuple[str, str, int], CellData]:
    """The data of every law and seed, keyed ``(law, "laws", seed)`` as :func:`multlib.compare.score_fits` wants."""
    names = list(LAWS) if laws is None else list(laws)
    for name in names:
        if name not in LAWS:
            raise ValueError(f"laws must name entries of LAWS {sorted(LAWS)}, got {name!r}")
    problems = {}
    for name in names:
        law = LAWS[name]
        for s in range(check_positive_int(seeds, "seeds")):
            x, x_test = law.sample(n_train, s, test=False), law.sample(n_test, s + 10_000, test=True)
            problems[(name, "laws", s)] = (x, law.formula.fn(x), x_test, law.formula.fn(x_test))
    return problems

