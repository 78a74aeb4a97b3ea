"""Chapter 7's study: every method on the Feynman equations, trained on the published ranges and tested
five times beyond them, with and without noise.

The problems are :mod:`multlib.feynman`'s 59 equations (monomials, sums of products, ratios); the
methods are :data:`multlib.methods.METHODS`, symbolic regression included; a fit is scored as in
Chapter 5b (:func:`multlib.compare.score_fits`): the mean relative error on the test box
``[high, 5*high]``, a success below :data:`multlib.compare.SUCCESS_THRESHOLD`.

**Noise.** SRBench (La Cava et al. 2021) adds Gaussian noise to the training targets, with a standard
deviation of 0.001, 0.01 or 0.1 times their root mean square; Chapter 6's logs carry log-normal
(multiplicative) noise.
:data:`NOISE_LEVELS` holds both, applied to the training targets only: the test targets are the law
itself, which is what a method should recover. Under noise no fit is exact, so the study also counts
fits within :data:`CLOSE` (1 %) of the law: a method that keeps the law's form but loses its constants
to the noise lands between the two.

**Design.** Every method fits every equation and seed without noise. The noisy levels are fitted by
:data:`NOISY_METHODS` only, the methods that recover laws without noise: the networks that rarely or
never extrapolate a law without noise (the ReLU network, Goel's pair, the arithmetic units) cannot
gain from noise, and they are most of the cost. Training data are :data:`N_TRAIN_FEYNMAN`
(1,000) samples, a table of measurements rather than a simulation.

``python -m multlib.feynman_study`` regenerates the committed ``feynman.csv`` with a progress bar, on
two worker processes; :func:`read_results` reads it back. Its 6,180 fits took 825 s (13.8 minutes) on an
idle 2-core machine, against 1,196 s before the three changes that keep it within the book's 15 minutes:

* work done once: the improved network with selection, and its ratio variant, reuse the plain
  network's search on the same data, and the NPU on inputs that are all positive is the RealNPU
  (:mod:`multlib.reuse`); a method is still charged the seconds of what it reused;
* both cores busy to the end: symbolic regression's 1,475 fits and the improved network's are split
  into tasks of about 20 s, which fill the gaps the one-stack methods (the units, the ReLU network,
  Goel's pair) leave (:func:`multlib.compare.score_fits`);
* a leaner Adam step for the stacked networks, Keras's arithmetic on one vector (:mod:`multlib.parallel`).

The rows are the same to the bit as before these changes; only the seconds moved.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from multlib import feynman
from multlib.compare import score_fits
from multlib.data import N_TEST, check_positive_int
from multlib.methods import METHODS
from multlib.problems import CellData
from multlib.results import RESULTS_DIR, read_csv, write_csv

__all__ = [
    "NOISE_LEVELS",
    "NOISY_METHODS",
    "N_TRAIN_FEYNMAN",
    "CLOSE",
    "COLUMNS",
    "problems",
    "run",
    "write_results",
    "read_results",
    "main",
]

NOISE_LEVELS: dict[str, tuple[str, float]] = {
    "none": ("gaussian", 0.0),
    "0.1%": ("gaussian", 0.001),
    "1%": ("gaussian", 0.01),
    "10%": ("gaussian", 0.1),
    "x10%": ("multiplicative", 0.1),
}
"""The study's noise levels by label: SRBench's Gaussian noise at 0.1, 1 and 10 % of the targets' root
mean square, and log-normal noise of 10 % (``y * exp(0.1 * N(0, 1))``, Chapter 6's smaller
level); ``(kind, level)`` as :func:`multlib.problems.add_noise` takes them."""

NOISY_METHODS: dict[str, tuple[str, ...]] = {
    "power_law": feynman.FAMILIES,
    "symbolic_regression": feynman.FAMILIES,
    "improved": ("sum of products",),
    "improved_select": ("sum of products",),
}
"""The methods fitted at the noisy levels too, each on the equation families named: every family for
log features and symbolic regression, under half a second a fit each; the sums of products, where model
selection has terms to remove, for the improved network with and without it (a noisy fit of it costs
about 0.65 s, three times a monomial's: the search no longer stops early at an exact single term)."""

N_TRAIN_FEYNMAN: int = 1000
"""Training samples per equation and seed (the test box gets :data:`multlib.data.N_TEST`)."""

CLOSE: float = 1e-2
"""A fit within 1 % of the law on the test box (mean relative error) counts as *close*."""

COLUMNS: tuple[str, ...] = ("method", "equation", "family", "noise", "seed", "status", "mean", "median", "max",
                            "train_mean", "success", "seconds")
"""The columns of a row: :data:`multlib.compare.COLUMNS` with ``equation``, its ``family`` and the ``noise`` label."""


def problems(
    names: Sequence[str] | None = None,
    seeds: int = 5,
    noise: str = "none",
    *,
    n_train: int = N_TRAIN_FEYNMAN,
    n_test: int = N_TEST,
) -> dict[tuple[str, str, int], CellData]:
    """The data of every equation (or those ``names``) and seed at one noise level, keyed
    ``(equation, noise, seed)`` for :func:`multlib.compare.score_fits`."""
    if noise not in NOISE_LEVELS:
        raise ValueError(f"noise must be one of {list(NOISE_LEVELS)}, got {noise!r}")
    data = feynman.equation_problems(names, seeds, n_train=n_train, n_test=n_test, noise=NOISE_LEVELS[noise])
    return {(name, noise, s): cell for (name, _, s), cell in data.items()}


def run(
    methods: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    seeds: int = 5,
    noises: Sequence[str] = tuple(NOISE_LEVELS),
    *,
    noisy_methods: dict[str, tuple[str, ...]] = NOISY_METHODS,
    n_train: int = N_TRAIN_FEYNMAN,
    n_test: int = N_TEST,
    progress: bool = True,
    workers: int = 1,
) -> list[dict[str, Any]]:
    """Every method (default: all of :data:`multlib.methods.METHODS`) on every equation (or those
    ``names``) and seed without noise, and those of ``noisy_methods`` among them at the other ``noises``
    too, on the families it names; one row per fit (keys :data:`COLUMNS`), ordered by method, noise,
    equation and seed.

    ``workers`` trains that many methods at a time (see :func:`multlib.compare.score_fits`).
    """
    chosen = list(METHODS) if methods is None else list(methods)
    unknown = [m for m in [*chosen, *noisy_methods] if m not in METHODS]
    if unknown:
        raise ValueError(f"methods must name entries of METHODS {sorted(METHODS)}, got {unknown[0]!r}")
    bad = [n for n in noises if n not in NOISE_LEVELS]
    if bad or not noises:
        raise ValueError(f"noises must name levels of NOISE_LEVELS {list(NOISE_LEVELS)}, got {list(noises)!r}")
    seeds = check_positive_int(seeds, "seeds")
    everything = list(feynman.EQUATIONS) if names is None else [feynman.equation(k).name for k in names]
    levels = [n for n in NOISE_LEVELS if n in noises]
    data = {k: v for n in levels for k, v in problems(everything, seeds, n, n_train=n_train, n_test=n_test).items()}
    # One call, so that one pool of workers trains every method, two at a time: each method fits the
    # problems without noise and, if it is a noisy method, the noisy ones of its families.
    subsets = {m: [k for k in data if k[1] == "none" or (m in noisy_methods and
                                                          feynman.EQUATIONS[k[0]].family in noisy_methods[m])]
               for m in chosen}
    fitted = [m for m in chosen if subsets[m]]
    if progress:
        print(f"{len(fitted)} methods, {sum(len(v) for v in subsets.values())} fits "
              f"(noise: {', '.join(levels)})", flush=True)
    rows = [_study_row(r) for r in score_fits(fitted, data, progress=progress, workers=workers,
                                              subsets={m: subsets[m] for m in fitted})]
    order = {"method": {m: k for k, m in enumerate(chosen)}, "noise": {n: k for k, n in enumerate(NOISE_LEVELS)},
             "equation": {e: k for k, e in enumerate(feynman.EQUATIONS)}}
    return sorted(rows, key=lambda r: (order["method"][r["method"]], order["noise"][r["noise"]],
                                       order["equation"][r["equation"]], r["seed"]))


def _study_row(row: dict[str, Any]) -> dict[str, Any]:
    """A :func:`multlib.compare.score_fits` row as a row of this study."""
    out = {k: v for k, v in row.items() if k not in ("formula", "domain")}
    return dict(out, equation=row["formula"], family=feynman.EQUATIONS[row["formula"]].family, noise=row["domain"])


def write_results(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write study rows as CSV (floats as ``repr``, so they read back exactly)."""
    return write_csv(rows, path, COLUMNS)


def read_results(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Read study rows back; by default the committed ``feynman.csv`` shipped in the package."""
    return read_csv(RESULTS_DIR / "feynman.csv" if path is None else path, command="python -m multlib.feynman_study",
                    ints=("seed",), floats=("mean", "median", "max", "train_mean", "seconds"), bools=("success",))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m multlib.feynman_study``: regenerate the committed ``feynman.csv`` (with progress)."""
    parser = argparse.ArgumentParser(prog="python -m multlib.feynman_study", description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", help=f"default: all of {list(METHODS)}")
    parser.add_argument("--equations", nargs="+", help="names or database ids (default: all 59)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--noises", nargs="+", default=list(NOISE_LEVELS), help=f"of {list(NOISE_LEVELS)}")
    parser.add_argument("--workers", type=int, default=2,
                        help="methods trained at a time, one process and one TensorFlow thread each (default 2)")
    parser.add_argument("--out", default=str(RESULTS_DIR / "feynman.csv"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        rows = run(args.methods, args.equations, args.seeds, args.noises, workers=args.workers)
    except ValueError as err:
        parser.error(str(err))
    print(f"wrote {write_results(rows, args.out)} ({len(rows)} rows) in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
