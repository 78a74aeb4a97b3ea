"""multlib: the helper library of the book *When should a neural network multiply?*

Modules, in the order the book needs them:

* :mod:`multlib.data` - uniform samples, disjoint train/test ranges, the paper's named tasks;
* :mod:`multlib.activations` - the symmetric log/exp pair as Keras activations;
* :mod:`multlib.models` - the ReLU multiplier, the paper's network, log-space power-law fits;
* :mod:`multlib.training` - seeding and a training helper that stops on divergence;
* :mod:`multlib.metrics` - RMSE, MAE, the paper's percentage error, reshaping Keras losses;
* :mod:`multlib.plotting` - the book's plot style and recurring figures;
* :mod:`multlib.fused` and :mod:`multlib.sweep` - many small models trained as one, for sweeps;
* :mod:`multlib.improved` - a network of learned product terms that extrapolates (Chapter 5a);
* :mod:`multlib.units` - the arithmetic units of the literature as Keras layers (Chapter 5b);
* :mod:`multlib.parallel` - many independent Keras models trained as one computation;
* :mod:`multlib.compare` and :mod:`multlib.laws` - every method on one extrapolation benchmark,
  and on ten laws of physics;
* :mod:`multlib.ranking` - a search-ranking score learned from first-page logs (Chapter 6);
* :mod:`multlib.interactive` and :mod:`multlib.knob_figures` - sliders for the chapters' knobs, and
  the figures they redraw.
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

from multlib import activations  # noqa: E402, data, metrics, models, plotting, training

__version__ = "0.1.0"
__all__ = ["MIN_VERSIONS", "activations", "data", "metrics", "models", "plotting", "training", "__version__"]
