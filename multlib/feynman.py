"""The Feynman Symbolic Regression Database as extrapolation tasks: the equations a network could multiply.

**Source.** The 100 equations of ``FeynmanEquations.csv`` (Udrescu and Tegmark 2020, *AI Feynman: a
physics-inspired method for symbolic regression*, Science Advances; the "Feynman" set of SRBench, La Cava
et al. 2021; published at https://space.mit.edu/home/tegmark/aifeynman.html, which ``SJ001/AI-Feynman``
does not mirror). Formulas, variable order and ranges are copied from the copy in the GitHub repository
``bjbcjwsq/PSRN_baseline``, path ``FeynmanEquations.csv`` (commit 72fbd994fb1f66537c4cc8154e409107bc7bd16d).
They agree value for value with the ``FeynmanEquations.csv`` of ``KenWuqianghao/Transformer-SR-Benchmarks``
(7a5889315ffd) and ``edfink234/Alpha-Zero-Symbolic-Regression`` (b5c9a8e81dc9) and with the
``datasets/feynman_*/metadata.yaml`` of ``EpistasisLab/pmlb`` (7c1f4bdc0013), which all spell ``gamma``
where the cited copy writes ``Gamma``; ``gamma`` it is here. The 20 "bonus" equations are not included.

**Rule.** An equation is kept when its right-hand side is built from its variables and positive or
negative constants (numbers, pi) by ``+ - * /`` and powers, where a non-integer power (``sqrt``) applies
only to a product; it is left out when it holds exp or log (10), a trigonometric, hyperbolic or inverse
trigonometric function (19), or a non-integer power of a sum, such as ``sqrt(1 - v**2/c**2)`` (12):
:data:`EXCLUDED`. That keeps 59 of the 100, in three families:

* ``monomial`` (38): a constant times a product of powers, e.g. ``q1*q2*r/(4*pi*epsilon*r**3)``; a
  ratio whose denominator is a single product is a monomial, and so is ``sqrt(gamma*pr/rho)``;
* ``sum of products`` (7): a sum or difference of monomials with no sum in a denominator, also when
  written factored, e.g. ``kappa*(T2-T1)*A/d``;
* ``ratio`` (14): a sum, or an integer power of one, in a denominator, e.g. ``(m1*r1+m2*r2)/(m1+m2)``.

**Protocol.** As for the laws of :mod:`multlib.laws`: train on the published ranges ``[low, high]``, test
on ``[high, 5*high]`` for every variable (:meth:`Equation.sample` with ``scale=5``). Every published range
is non-negative; a few start at 0 (``n`` and ``alpha`` of II.11.27 and II.11.28), whose test range is then
``[1, 5]``.

**Caveats.** On the test box the denominator of :data:`TEST_POLES` vanishes (e.g. ``omega = omega_0`` in
II.11.3, ``v = c`` at a corner in I.34.1), so test targets there can be arbitrarily large and change sign.
The targets of :data:`SIGN_CHANGES` pass through zero already on the training ranges, where a relative
error is ill-conditioned. III.19.51 and III.21.20 are negative everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from math import pi
from typing import Callable, Sequence

import numpy as np

from multlib.data import N_TEST, N_TRAIN, check_positive_int
from multlib.problems import CellData, add_noise, targets

__all__ = ["Equation", "EQUATIONS", "FAMILIES", "EXCLUDED", "TEST_POLES", "SIGN_CHANGES", "EXTRAPOLATION",
           "equation", "equation_problems"]

FAMILIES: tuple[str, ...] = ("monomial", "sum of products", "ratio")
EXTRAPOLATION: float = 5.0
"""The test ranges reach this many times the published upper end: ``[high, 5*high]``."""


@dataclass(frozen=True)
class Equation:
    """One equation of the database: its id, formula text, variables in column order, ranges and family."""

    source_id: str
    name: str
    formula: str
    variables: tuple[str, ...]
    ranges: tuple[tuple[float, float], ...]
    family: str
    fn: Callable[[np.ndarray], np.ndarray]

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")
        if len(self.ranges) != len(self.variables):
            raise ValueError(f"ranges must give one (low, high) per variable of {self.source_id}, got {self.ranges!r}")
        for low, high in self.ranges:
            if not 0 <= low < high < math.inf:
                raise ValueError(f"ranges must hold finite 0 <= low < high, got {(low, high)!r}")

    def ranges_at(self, scale: float = 1.0) -> tuple[tuple[float, float], ...]:
        """The published ranges for ``scale=1``; ``[high, scale*high]`` per variable for ``scale > 1``."""
        numeric = isinstance(scale, (int, float, np.integer, np.floating)) and not isinstance(scale, bool)
        if not numeric or not 1 <= scale < math.inf:
            raise ValueError(f"scale must be a finite number >= 1, got {scale!r}")
        if scale == 1:
            return self.ranges
        return tuple((high, scale * high) for _, high in self.ranges)

    def sample(self, n: int, seed: int, scale: float = 1.0) -> np.ndarray:
        """``(n, d)`` float64 inputs, each variable uniform on its range of :meth:`ranges_at` ``(scale)``."""
        n = check_positive_int(n, "n")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        bounds = np.array(self.ranges_at(scale))
        u = np.random.default_rng(int(seed)).random((n, len(self.variables)))
        return bounds[:, 0] + u * (bounds[:, 1] - bounds[:, 0])


def _columns(f: Callable[..., np.ndarray], d: int, source_id: str) -> Callable[[np.ndarray], np.ndarray]:
    """``f`` of ``d`` column arguments as a function of one ``(n, d)`` array, checking its shape."""

    def fn(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != d:
            raise ValueError(f"x must be an (n, {d}) array for {source_id}, got shape {x.shape}")
        return np.asarray(f(*x.T), dtype=np.float64)

    return fn


def _eq(source_id: str, name: str, family: str, formula: str, spec: str, f: Callable[..., np.ndarray]) -> Equation:
    """An :class:`Equation` from the database's ``formula`` and ``spec``, ``"name low high, ..."``."""
    parts = [item.split() for item in spec.split(",")]
    variables = tuple(p[0] for p in parts)
    ranges = tuple((float(p[1]), float(p[2])) for p in parts)
    return Equation(source_id, name, formula, variables, ranges, family, _columns(f, len(variables), source_id))


_M, _S, _R = FAMILIES  # monomial, sum of products, ratio
_ALL = [
    _eq("I.9.18", "gravitation_xyz", _R, "G*m1*m2/((x2-x1)**2+(y2-y1)**2+(z2-z1)**2)",
        "m1 1 2, m2 1 2, G 1 2, x1 3 4, x2 1 2, y1 3 4, y2 1 2, z1 3 4, z2 1 2",
        lambda m1, m2, G, x1, x2, y1, y2, z1, z2: G * m1 * m2 / ((x2 - x1) ** 2 + (y2 - y1) ** 2 + (z2 - z1) ** 2)),
    _eq("I.11.19", "dot_product", _S, "x1*y1+x2*y2+x3*y3", "x1 1 5, x2 1 5, x3 1 5, y1 1 5, y2 1 5, y3 1 5",
        lambda x1, x2, x3, y1, y2, y3: x1 * y1 + x2 * y2 + x3 * y3),
    _eq("I.12.1", "friction_force", _M, "mu*Nn", "mu 1 5, Nn 1 5", lambda mu, nn: mu * nn),
    _eq("I.12.2", "coulomb_force", _M, "q1*q2*r/(4*pi*epsilon*r**3)", "q1 1 5, q2 1 5, epsilon 1 5, r 1 5",
        lambda q1, q2, eps, r: q1 * q2 / (4 * pi * eps * r**2)),
    _eq("I.12.4", "coulomb_field", _M, "q1*r/(4*pi*epsilon*r**3)", "q1 1 5, epsilon 1 5, r 1 5",
        lambda q1, eps, r: q1 / (4 * pi * eps * r**2)),
    _eq("I.12.5", "electric_force", _M, "q2*Ef", "q2 1 5, Ef 1 5", lambda q2, ef: q2 * ef),
    _eq("I.13.4", "kinetic_energy_3d", _S, "1/2*m*(v**2+u**2+w**2)", "m 1 5, v 1 5, u 1 5, w 1 5",
        lambda m, v, u, w: 0.5 * m * v**2 + 0.5 * m * u**2 + 0.5 * m * w**2),
    _eq("I.13.12", "gravitational_work", _S, "G*m1*m2*(1/r2-1/r1)", "m1 1 5, m2 1 5, r1 1 5, r2 1 5, G 1 5",
        lambda m1, m2, r1, r2, G: G * m1 * m2 / r2 - G * m1 * m2 / r1),
    _eq("I.14.3", "potential_energy", _M, "m*g*z", "m 1 5, g 1 5, z 1 5", lambda m, g, z: m * g * z),
    _eq("I.14.4", "spring_energy", _M, "1/2*k_spring*x**2", "k_spring 1 5, x 1 5", lambda k, x: k * x**2 / 2),
    _eq("I.16.6", "velocity_addition", _R, "(u+v)/(1+u*v/c**2)", "c 1 5, v 1 5, u 1 5",
        lambda c, v, u: c**2 * (u + v) / (c**2 + u * v)),
    _eq("I.18.4", "center_of_mass", _R, "(m1*r1+m2*r2)/(m1+m2)", "m1 1 5, m2 1 5, r1 1 5, r2 1 5",
        lambda m1, m2, r1, r2: (m1 * r1 + m2 * r2) / (m1 + m2)),
    _eq("I.24.6", "oscillator_energy", _S, "1/2*m*(omega**2+omega_0**2)*1/2*x**2",
        "m 1 3, omega 1 3, omega_0 1 3, x 1 3", lambda m, w, w0, x: m * w**2 * x**2 / 4 + m * w0**2 * x**2 / 4),
    _eq("I.25.13", "capacitor_voltage", _M, "q/C", "q 1 5, C 1 5", lambda q, C: q / C),
    _eq("I.27.6", "focal_length", _R, "1/(1/d1+n/d2)", "d1 1 5, d2 1 5, n 1 5",
        lambda d1, d2, n: d1 * d2 / (d2 + n * d1)),
    _eq("I.29.4", "wave_number", _M, "omega/c", "omega 1 10, c 1 10", lambda w, c: w / c),
    _eq("I.32.5", "larmor_power", _M, "q**2*a**2/(6*pi*epsilon*c**3)", "q 1 5, a 1 5, epsilon 1 5, c 1 5",
        lambda q, a, eps, c: q**2 * a**2 / (6 * pi * eps * c**3)),
    _eq("I.32.17", "driven_dipole_power", _R,
        "(1/2*epsilon*c*Ef**2)*(8*pi*r**2/3)*(omega**4/(omega**2-omega_0**2)**2)",
        "epsilon 1 2, c 1 2, Ef 1 2, r 1 2, omega 1 2, omega_0 3 5",
        lambda eps, c, ef, r, w, w0: 4 * pi * eps * c * ef**2 * r**2 * w**4 / (3 * (w**2 - w0**2) ** 2)),
    _eq("I.34.8", "cyclotron_frequency", _M, "q*v*B/p", "q 1 5, v 1 5, B 1 5, p 1 5",
        lambda q, v, B, p: q * v * B / p),
    _eq("I.34.1", "doppler_frequency", _R, "omega_0/(1-v/c)", "c 3 10, v 1 2, omega_0 1 5",
        lambda c, v, w0: c * w0 / (c - v)),
    _eq("I.34.27", "photon_energy", _M, "(h/(2*pi))*omega", "omega 1 5, h 1 5", lambda w, h: h * w / (2 * pi)),
    _eq("I.38.12", "bohr_radius", _M, "4*pi*epsilon*(h/(2*pi))**2/(m*q**2)", "m 1 5, q 1 5, h 1 5, epsilon 1 5",
        lambda m, q, h, eps: eps * h**2 / (pi * m * q**2)),
    _eq("I.39.1", "monatomic_gas_energy", _M, "3/2*pr*V", "pr 1 5, V 1 5", lambda p, V: 1.5 * p * V),
    _eq("I.39.11", "gas_internal_energy", _R, "1/(gamma-1)*pr*V", "gamma 2 5, pr 1 5, V 1 5",
        lambda gm, p, V: p * V / (gm - 1)),
    _eq("I.39.22", "ideal_gas_pressure", _M, "n*kb*T/V", "n 1 5, T 1 5, V 1 5, kb 1 5",
        lambda n, T, V, kb: n * kb * T / V),
    _eq("I.43.16", "drift_velocity", _M, "mu_drift*q*Volt/d", "mu_drift 1 5, q 1 5, Volt 1 5, d 1 5",
        lambda mu, q, U, d: mu * q * U / d),
    _eq("I.43.31", "einstein_diffusion", _M, "mob*kb*T", "mob 1 5, T 1 5, kb 1 5", lambda mob, T, kb: mob * kb * T),
    _eq("I.43.43", "gas_heat_conductivity", _R, "1/(gamma-1)*kb*v/A", "gamma 2 5, kb 1 5, A 1 5, v 1 5",
        lambda gm, kb, A, v: kb * v / (A * (gm - 1))),
    _eq("I.47.23", "sound_speed", _M, "sqrt(gamma*pr/rho)", "gamma 1 5, pr 1 5, rho 1 5",
        lambda gm, p, rho: gm**0.5 * p**0.5 * rho**-0.5),
    _eq("II.2.42", "heat_flow", _S, "kappa*(T2-T1)*A/d", "kappa 1 5, T1 1 5, T2 1 5, A 1 5, d 1 5",
        lambda k, T1, T2, A, d: k * T2 * A / d - k * T1 * A / d),
    _eq("II.3.24", "flux_density", _M, "Pwr/(4*pi*r**2)", "Pwr 1 5, r 1 5", lambda P, r: P / (4 * pi * r**2)),
    _eq("II.4.23", "point_charge_potential", _M, "q/(4*pi*epsilon*r)", "q 1 5, epsilon 1 5, r 1 5",
        lambda q, eps, r: q / (4 * pi * eps * r)),
    _eq("II.8.7", "charged_sphere_energy", _M, "3/5*q**2/(4*pi*epsilon*d)", "q 1 5, epsilon 1 5, d 1 5",
        lambda q, eps, d: 3 * q**2 / (20 * pi * eps * d)),
    _eq("II.8.31", "field_energy_density", _M, "epsilon*Ef**2/2", "epsilon 1 5, Ef 1 5",
        lambda eps, ef: eps * ef**2 / 2),
    _eq("II.10.9", "dielectric_field", _R, "sigma_den/epsilon*1/(1+chi)", "sigma_den 1 5, epsilon 1 5, chi 1 5",
        lambda s, eps, chi: s / (eps + eps * chi)),
    _eq("II.11.3", "driven_oscillator_amplitude", _R, "q*Ef/(m*(omega_0**2-omega**2))",
        "q 1 3, Ef 1 3, m 1 3, omega_0 3 5, omega 1 2", lambda q, ef, m, w0, w: q * ef / (m * w0**2 - m * w**2)),
    _eq("II.11.20", "orientation_polarization", _M, "n_rho*p_d**2*Ef/(3*kb*T)",
        "n_rho 1 5, p_d 1 5, Ef 1 5, kb 1 5, T 1 5", lambda n, p, ef, kb, T: n * p**2 * ef / (3 * kb * T)),
    _eq("II.11.27", "clausius_mossotti_polarization", _R, "n*alpha/(1-(n*alpha/3))*epsilon*Ef",
        "n 0 1, alpha 0 1, epsilon 1 2, Ef 1 2", lambda n, a, eps, ef: 3 * n * a * eps * ef / (3 - n * a)),
    _eq("II.11.28", "clausius_mossotti_permittivity", _R, "1+n*alpha/(1-(n*alpha/3))", "n 0 1, alpha 0 1",
        lambda n, a: (3 + 2 * n * a) / (3 - n * a)),
    _eq("II.13.17", "wire_magnetic_field", _M, "1/(4*pi*epsilon*c**2)*2*I/r", "epsilon 1 5, c 1 5, I 1 5, r 1 5",
        lambda eps, c, i, r: i / (2 * pi * eps * c**2 * r)),
    _eq("II.21.32", "moving_charge_potential", _R, "q/(4*pi*epsilon*r*(1-v/c))",
        "q 1 5, epsilon 1 5, r 1 5, v 1 2, c 3 10", lambda q, eps, r, v, c: q * c / (4 * pi * eps * r * (c - v))),
    _eq("II.27.16", "poynting_flux", _M, "epsilon*c*Ef**2", "epsilon 1 5, c 1 5, Ef 1 5",
        lambda eps, c, ef: eps * c * ef**2),
    _eq("II.27.18", "wave_energy_density", _M, "epsilon*Ef**2", "epsilon 1 5, Ef 1 5", lambda eps, ef: eps * ef**2),
    _eq("II.34.2a", "loop_current", _M, "q*v/(2*pi*r)", "q 1 5, v 1 5, r 1 5", lambda q, v, r: q * v / (2 * pi * r)),
    _eq("II.34.2", "loop_magnetic_moment", _M, "q*v*r/2", "q 1 5, v 1 5, r 1 5", lambda q, v, r: q * v * r / 2),
    _eq("II.34.11", "larmor_frequency", _M, "g_*q*B/(2*m)", "g_ 1 5, q 1 5, B 1 5, m 1 5",
        lambda g, q, B, m: g * q * B / (2 * m)),
    _eq("II.34.29a", "bohr_magneton", _M, "q*h/(4*pi*m)", "q 1 5, h 1 5, m 1 5", lambda q, h, m: q * h / (4 * pi * m)),
    _eq("II.34.29b", "zeeman_energy", _M, "g_*mom*B*Jz/(h/(2*pi))", "g_ 1 5, h 1 5, Jz 1 5, mom 1 5, B 1 5",
        lambda g, h, jz, mom, B: 2 * pi * g * mom * B * jz / h),
    _eq("II.36.38", "local_field_alignment", _S, "mom*H/(kb*T)+(mom*alpha)/(epsilon*c**2*kb*T)*M",
        "mom 1 3, H 1 3, kb 1 3, T 1 3, alpha 1 3, epsilon 1 3, c 1 3, M 1 3",
        lambda mom, H, kb, T, a, eps, c, Mz: mom * H / (kb * T) + mom * a * Mz / (eps * c**2 * kb * T)),
    _eq("II.37.1", "magnetized_energy", _S, "mom*(1+chi)*B", "mom 1 5, B 1 5, chi 1 5",
        lambda mom, B, chi: mom * B + mom * chi * B),
    _eq("II.38.3", "elastic_force", _M, "Y*A*x/d", "Y 1 5, A 1 5, d 1 5, x 1 5", lambda Y, A, d, x: Y * A * x / d),
    _eq("II.38.14", "shear_modulus", _R, "Y/(2*(1+sigma))", "Y 1 5, sigma 1 5", lambda Y, s: Y / (2 + 2 * s)),
    _eq("III.7.38", "spin_precession_frequency", _M, "2*mom*B/(h/(2*pi))", "mom 1 5, B 1 5, h 1 5",
        lambda mom, B, h: 4 * pi * mom * B / h),
    _eq("III.12.43", "quantized_angular_momentum", _M, "n*(h/(2*pi))", "n 1 5, h 1 5", lambda n, h: n * h / (2 * pi)),
    _eq("III.13.18", "band_velocity", _M, "2*E_n*d**2*k/(h/(2*pi))", "E_n 1 5, d 1 5, k 1 5, h 1 5",
        lambda E, d, k, h: 4 * pi * E * d**2 * k / h),
    _eq("III.15.14", "effective_mass", _M, "(h/(2*pi))**2/(2*E_n*d**2)", "h 1 5, E_n 1 5, d 1 5",
        lambda h, E, d: h**2 / (8 * pi**2 * E * d**2)),
    _eq("III.15.27", "lattice_wave_number", _M, "2*pi*alpha/(n*d)", "alpha 1 5, n 1 5, d 1 5",
        lambda a, n, d: 2 * pi * a / (n * d)),
    _eq("III.19.51", "hydrogen_energy", _M, "-m*q**4/(2*(4*pi*epsilon)**2*(h/(2*pi))**2)*(1/n**2)",
        "m 1 5, q 1 5, h 1 5, n 1 5, epsilon 1 5", lambda m, q, h, n, eps: -m * q**4 / (8 * eps**2 * h**2 * n**2)),
    _eq("III.21.20", "probability_current", _M, "-rho_c_0*q*A_vec/m", "rho_c_0 1 5, q 1 5, A_vec 1 5, m 1 5",
        lambda rho, q, A, m: -rho * q * A / m),
]
EQUATIONS: dict[str, Equation] = {e.name: e for e in _ALL}
"""The 59 kept equations by name, in the database's order."""

EXCLUDED: dict[str, tuple[str, ...]] = {
    "exp or log": ("I.6.2a", "I.6.2", "I.6.2b", "I.40.1", "I.41.16", "I.44.4", "II.35.18", "III.4.32", "III.4.33",
                   "III.14.14"),
    "trigonometric, hyperbolic or inverse trigonometric function": (
        "I.12.11", "I.18.12", "I.18.14", "I.26.2", "I.29.16", "I.30.3", "I.30.5", "I.37.4", "I.50.26", "II.6.11",
        "II.6.15b", "II.11.17", "II.15.4", "II.15.5", "II.35.21", "III.8.54", "III.9.52", "III.15.12", "III.17.37"),
    "non-integer power of a sum": ("I.8.14", "I.10.7", "I.15.3x", "I.15.3t", "I.15.1", "I.34.14", "I.48.2",
                                   "II.6.15a", "II.13.23", "II.13.34", "II.24.17", "III.10.19"),
}
"""The 41 ids left out, by the reason the rule gives."""

TEST_POLES: tuple[str, ...] = ("gravitation_xyz", "driven_dipole_power", "doppler_frequency",
                               "driven_oscillator_amplitude", "clausius_mossotti_polarization",
                               "clausius_mossotti_permittivity", "moving_charge_potential")
"""Equations whose denominator vanishes inside or on the edge of the test box ``[high, 5*high]``."""
SIGN_CHANGES: tuple[str, ...] = ("gravitational_work", "heat_flow")
"""Equations whose targets pass through zero on the published (training) ranges."""


def _find(key: object) -> Equation | None:
    """The kept equation with this name or database id, or None."""
    return next((e for e in _ALL if key in (e.name, e.source_id)), None) if isinstance(key, str) else None


def equation(key: str) -> Equation:
    """The equation named ``key``, by :data:`EQUATIONS` name (``"coulomb_force"``) or database id (``"I.12.2"``)."""
    found = _find(key)
    if found is None:
        raise ValueError(f"key must be a name of EQUATIONS or a kept database id, got {key!r}")
    return found


def equation_problems(
    names: Sequence[str] | None = None,
    seeds: int = 5,
    *,
    n_train: int = N_TRAIN,
    n_test: int = N_TEST,
    noise: tuple[str, float] = ("gaussian", 0.0),
) -> dict[tuple[str, str, int], CellData]:
    """The data of every equation and seed, keyed ``(name, "feynman", seed)`` as :func:`multlib.compare.score_fits`
    wants: training inputs on the published ranges (seed ``s``), test inputs on ``[high, 5*high]`` (``s + 10_000``).
    ``names`` takes :data:`EQUATIONS` names or database ids; the keys use the names. ``noise`` is a
    ``(kind, level)`` of :func:`multlib.problems.add_noise`, applied to the training targets only
    (seed ``s + 20_000``): the test targets are the law itself, which is what a method should recover."""
    if isinstance(names, str):
        raise ValueError(f"names must be a list of names or ids, got the string {names!r}")
    found = list(EQUATIONS.values()) if names is None else [_find(k) for k in names]
    bad = [k for k, e in zip(names or (), found) if e is None]
    if bad:
        raise ValueError(f"names must hold names of EQUATIONS or kept database ids, got {bad[0]!r}")
    chosen = [e for e in found if e is not None]
    seeds = check_positive_int(seeds, "seeds")
    n_train, n_test = check_positive_int(n_train, "n_train"), check_positive_int(n_test, "n_test")
    try:
        kind, level = noise
    except (TypeError, ValueError):
        raise ValueError(f"noise must be a pair (kind, level), got {noise!r}") from None
    add_noise(np.ones(1), kind, level, 0)  # checks kind and level before any sampling
    problems = {}
    for e in chosen:
        for s in range(seeds):
            x, x_test = e.sample(n_train, s), e.sample(n_test, s + 10_000, scale=EXTRAPOLATION)
            y = add_noise(targets(e.fn, x, "training"), kind, level, s + 20_000)
            problems[(e.name, "feynman", s)] = (x, y, x_test, targets(e.fn, x_test, "test"))
    return problems
