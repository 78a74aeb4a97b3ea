"""multlib: the helper library of the book *When should a neural network multiply?*

Modules, in the order the book needs them:

* :mod:`multlib.data` - uniform samples, disjoint train/test ranges, the paper's named tasks;
* :mod:`multlib.activations` - the symmetric log/exp pair as Keras activations;
* :mod:`multlib.models` - the ReLU multiplier, the paper's network, log-space power-law fits;
* :mod:`multlib.training` - seeding and a training helper that stops on divergence;
* :mod:`multlib.metrics` - RMSE, MAE, the paper's percentage error, reshaping Keras losses;
* :mod:`multlib.plotting` - the book's plot style and recurring figures;
* :mod:`multlib.fused` and :mod:`multlib.sweep` - many small models trained as one, for sweeps.
"""

import os

# TensorFlow's C++ start-up and tf.data messages would fill every notebook's stderr; a reader who
# wants them sets TF_CPP_MIN_LOG_LEVEL before importing multlib.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from multlib import activations  # noqa: E402, data, metrics, models, plotting, training

__version__ = "0.1.0"
__all__ = ["activations", "data", "metrics", "models", "plotting", "training", "__version__"]
