"""multlib: the helper library of the book *When should a neural network multiply?*

The modules form layers; each imports only from the layers below it, so the package reads bottom-up
(the design note is in the README's library section):

1. **Building blocks**, which know nothing of the studies: :mod:`~multlib.data` (samples, ranges, the
   paper's tasks), :mod:`~multlib.activations` (symlog/symexp), :mod:`~multlib.metrics` (errors and
   the rounding floor), :mod:`~multlib.power_law` and :mod:`~multlib.models`, :mod:`~multlib.training`,
   :mod:`~multlib.fused` (with :mod:`~multlib.fused_stack`, the stacked networks it trains) and
   :mod:`~multlib.parallel` (many small models trained as one),
   :mod:`~multlib.improved` with :mod:`~multlib.term_search`, :mod:`~multlib.term_trainer` and
   :mod:`~multlib.term_select` (Chapter 5a's model, its search, trainer and model selection),
   :mod:`~multlib.units` (Chapter 5b), :mod:`~multlib.interactions` (Chapter 8's MI, gating, FiLM,
   GLU and hypernetwork layers), and the problems the studies pose: :mod:`~multlib.problems` (domains, formulas, the benchmark), :mod:`~multlib.laws`
   (ten laws of physics), :mod:`~multlib.search` (a simulated search engine, Chapter 6),
   :mod:`~multlib.feynman` (the Feynman database's multiplicative equations), and
   :mod:`~multlib.symbolic` (symbolic regression with Operon, an optional extra).
2. **Committed results**: :mod:`~multlib.results` (paths in the package, CSV and metadata, the
   machine signature).
3. **Methods**: :mod:`~multlib.methods`, every way of multiplying with its recipe, by name.
4. **Studies**, one per experiment, each with ``run``, a reader of its committed rows and ``main``
   (its command): :mod:`~multlib.sweep` (Chapter 4), :mod:`~multlib.compare` (Chapter 5b),
   :mod:`~multlib.ranking` (Chapter 6), :mod:`~multlib.feynman_study` (Chapter 7),
   :mod:`~multlib.interaction_study` (Chapter 8).
5. **What the chapters show**: :mod:`~multlib.summaries` (tables from the studies' rows),
   :mod:`~multlib.plotting` (the book's style and figures), :mod:`~multlib.interactive` and
   :mod:`~multlib.knob_figures` (sliders and the figures they redraw), :mod:`~multlib.interaction_plots`
   (Chapter 8's figures).
"""

import os
from importlib import metadata

MIN_VERSIONS: dict[str, tuple[int, int]] = {"tensorflow": (2, 18), "keras": (3, 10), "numpy": (1, 26)}
"""The oldest releases multlib is tested on (``make test-min``); pyproject.toml declares the same."""


def _installed_version(package: str) -> str | None:
    """The installed version of ``package``; TensorFlow also ships as tensorflow-cpu and tf-nightly."""
    names = ("tensorflow", "tensorflow-cpu", "tf-nightly") if package == "tensorflow" else (package,)
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def _check_versions() -> None:
    """Fail at import with the fix, not later with an obscure error inside Keras."""
    for package, floor in MIN_VERSIONS.items():
        found = _installed_version(package)
        if found is None:
            continue  # a missing package fails at its import below, with Python's own message
        major_minor = tuple(int(part) for part in found.split(".")[:2] if part.isdigit())
        if major_minor < floor:
            raise ImportError(f"multlib needs {package} >= {floor[0]}.{floor[1]}, found {found}; "
                              f"upgrade it with: pip install -U {package}")


_check_versions()
# TensorFlow's C++ start-up and tf.data messages would fill every notebook's stderr; a reader who
# wants them sets TF_CPP_MIN_LOG_LEVEL before importing multlib.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from multlib import activations, data, metrics, models, plotting, training  # noqa: E402

__version__ = "0.1.0"
__all__ = ["MIN_VERSIONS", "activations", "data", "metrics", "models", "plotting", "training", "__version__"]
