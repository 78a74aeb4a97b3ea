"""Chapter 8's study: when a layer that multiplies two inputs beats concatenating them.

Four parts, each a set of small Keras models trained together (one ``tf.function`` step sums the
models' mean squared errors; Adam is element-wise, so each model gets exactly its own update):

* ``width``: the bilinear target ``y = z^T W* x`` (``x, z ~ N(0, I_d)``, ``W* ~ N(0, 1/d^2)``,
  a fresh batch each step): concatenation MLPs of :data:`WIDTHS` hidden units against one MI unit
  (:class:`multlib.interactions.MultiplicativeInteraction`) at every ``d`` of :data:`DIMS`;
* ``data``: the same at ``d = 8`` on fixed training sets of :data:`DATA_SIZES` rows;
* ``conditional``: a context ``z`` changes the function of ``x`` (:data:`TASKS`): ``bilinear``
  (``y = (A z) . (B x)``, multiplicative in ``z``) and ``gain`` (``y = tanh((a . z)(b . x))``,
  not). ``z`` is uniform on ``[1, 2]^2`` in training; the error is measured inside that range and
  outside it (``[2, 4]^2``), for the models of :data:`COND_MODELS` on :data:`COND_SIZES` rows;
* ``glu``: ``y = x1 x2`` trained on ``(0, 1)^2`` and tested on ``(1, 5)^2`` for a ReLU MLP, the GLU
  family (:class:`multlib.interactions.GLU`) and log features (:func:`multlib.power_law.fit_power_law`).

``python -m multlib.interaction_study`` runs every part and writes ``interactions.csv`` into the
package's results folder, which Chapter 8 reads with :func:`read_results`.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from multlib.data import check_positive_int
from multlib.power_law import fit_power_law
from multlib.results import RESULTS_DIR, read_csv, write_csv
from multlib.training import seed_everything

__all__ = [
    "PARTS", "DIMS", "WIDTHS", "DATA_SIZES", "TASKS", "COND_MODELS", "COND_SIZES", "GLU_MODELS", "COLUMNS",
    "Z_TRAIN", "Z_OUT", "scale_context", "GLU_TRAIN", "GLU_TEST", "fit_conditional", "context_sweep", "run", "write_results",
    "read_results", "median_spread", "format_table", "main",
]

PARTS: tuple[str, ...] = ("width", "data", "conditional", "glu")
DIMS: tuple[int, ...] = (2, 4, 8, 16)
"""The sizes ``d`` of ``x`` and ``z`` in the width part."""
WIDTHS: tuple[int, ...] = (8, 32, 128, 512)
"""Hidden widths of the concatenation MLPs (one ReLU layer) in the width and data parts."""
DATA_SIZES: tuple[int, ...] = (256, 1024, 4096)
"""Training-set sizes of the data part (``d = 8``)."""
DATA_D = 8
TASKS: tuple[str, ...] = ("bilinear", "gain")
"""The conditional-computation tasks: multiplicative in ``z``, and not."""
COND_MODELS: tuple[str, ...] = ("concat", "film", "gating", "mi", "hypernet")
"""The conditional-computation models, with hidden width :data:`COND_HIDDEN` where they have a hidden layer,
except the hypernetwork's network of ``x``, which has 8 units (its network of ``z`` has :data:`COND_HIDDEN`)."""
COND_SIZES: tuple[int, ...] = (128, 512, 2048)
COND_DX, COND_DZ, COND_HIDDEN = 4, 2, 32
Z_TRAIN, Z_OUT = (1.0, 2.0), (2.0, 4.0)
"""Each context feature is uniform on ``Z_TRAIN`` in training and on ``Z_OUT`` in the far test."""


def scale_context(z: np.ndarray) -> np.ndarray:
    """What the models see of the context: ``2 (z - 1.5)``, so ``[1, 2]`` becomes ``[-1, 1]`` (and ``[2, 4]``,
    ``[1, 5]``). Centring matters: on raw ``z`` near 1.5 the MI layer's ``z_i x_j`` features are almost
    collinear with its ``V x`` term; measured while the study was designed, an MI unit on raw ``z``
    stopped near a relative MSE of 6e-3 in the study's 2,000 steps instead of reaching round-off."""
    return 2.0 * (np.asarray(z) - 1.5)
GLU_MODELS: tuple[str, ...] = ("relu_mlp", "relu_mlp_2layer", "glu_sigmoid", "glu_tanh", "swiglu", "bilinear_glu",
                               "log_features")
GLU_WIDTH = 64
GLU_TRAIN, GLU_TEST = (0.0, 1.0), (1.0, 5.0)
N_TEST = 8192
BATCH = 256

COLUMNS = ("part", "task", "model", "d", "width", "n_train", "seed", "params", "metric", "error", "error_out",
           "part_seconds")
"""One row per trained model. ``width`` is the concatenation MLP's hidden width (0 for the others);
``n_train`` the training-set size (0: a fresh batch every step); ``error`` the relative test MSE
(MSE over the variance of ``y``) where the model was trained, ``error_out`` the error outside
(``conditional``: relative MSE at ``z`` in :data:`Z_OUT`; ``glu``: the mean relative error
``|f - y| / y`` on :data:`GLU_TEST`, as ``metric`` says; empty where there is none);
``part_seconds`` the wall time of the whole part the row belongs to."""


# --------------------------------------------------------------------------------------------------
# training many models at once
# --------------------------------------------------------------------------------------------------


def _train_together(models: Sequence[tuple[Any, Any]], sample: Callable[[Any], dict[Any, tuple[list, Any]]],
                    steps: int, lr: float) -> None:
    """Train ``(group, model)`` pairs together: ``sample(step)`` gives each group's ``(inputs, y)`` batch.

    The loss is the sum of the models' MSEs; Adam with a cosine decay from ``lr`` to 0 over ``steps``.
    Every caller in this module passes ``lr = 1e-2`` and batches of :data:`BATCH` (256) rows; the study
    trains ``steps = 2000``.
    """
    import keras
    import tensorflow as tf

    variables = [v for _, m in models for v in m.trainable_variables]
    opt = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(lr, steps))
    opt.build(variables)

    @tf.function
    def step(i: Any) -> Any:
        batches = sample(i)
        with tf.GradientTape() as tape:
            losses = []
            for group, m in models:
                inputs, y = batches[group]
                losses.append(tf.reduce_mean((m(inputs, training=True)[:, 0] - y) ** 2))
            loss = tf.add_n(losses)
        opt.apply(tape.gradient(loss, variables), variables)
        return loss

    for i in range(steps):
        step(tf.constant(i))


def _predict(model: Any, inputs: Any) -> np.ndarray:
    return np.asarray(model(inputs)).reshape(-1).astype(np.float64)


def _rel_mse(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((pred - y) ** 2) / np.var(y))


def _pool_sampler(pools: dict[Any, tuple[list[np.ndarray], np.ndarray]], salt: int) -> Callable[[Any], dict]:
    """Minibatches of ``min(BATCH, n)`` rows (``n`` the pool's size) drawn with replacement from fixed pools.

    Each step draws ``min(256, n)`` indices uniformly with replacement, so even a pool smaller than
    :data:`BATCH` is resampled, not used whole."""
    import tensorflow as tf

    const = {g: ([tf.constant(a, tf.float32) for a in ins], tf.constant(y, tf.float32)) for g, (ins, y) in pools.items()}

    @tf.autograph.experimental.do_not_convert
    def sample(i: Any) -> dict:
        out = {}
        for k, (g, (ins, y)) in enumerate(const.items()):
            n = int(y.shape[0])
            idx = tf.random.stateless_uniform((min(BATCH, n),), seed=tf.stack([salt + k, i]), maxval=n, dtype=tf.int32)
            out[g] = ([tf.gather(a, idx) for a in ins], tf.gather(y, idx))
        return out

    return sample


# --------------------------------------------------------------------------------------------------
# parts a and b: width and data on y = z^T W* x
# --------------------------------------------------------------------------------------------------


def _bilinear_models(d: int, widths: Sequence[int], seeds: int) -> list[tuple[int, str, int, Any]]:
    import keras

    from multlib.interactions import MultiplicativeInteraction, concat_mlp

    out = []
    for s in range(seeds):
        seed_everything(s)
        for w in widths:
            out.append((s, "concat", w, concat_mlp(d, d, w)))
        xin, zin = keras.Input((d,)), keras.Input((d,))
        out.append((s, "mi", 0, keras.Model([xin, zin], MultiplicativeInteraction(1)([xin, zin]))))
    return out


def _bilinear_part(part: str, d: int, widths: Sequence[int], seeds: int, steps: int, n_train: int) -> list[dict]:
    import tensorflow as tf

    rng = np.random.default_rng(1000 + d)
    targets = np.stack([rng.normal(0, 1.0 / d, (d, d)) for _ in range(seeds)]).astype("float32")
    models = _bilinear_models(d, widths, seeds)
    w_t = tf.constant(targets)
    if n_train:
        x_pool, z_pool = rng.normal(size=(2, n_train, d)).astype("float32")
        y_pool = np.einsum("bi,sij,bj->sb", z_pool, targets, x_pool)
        sample = _pool_sampler({s: ([x_pool, z_pool], y_pool[s]) for s in range(seeds)}, salt=10 * d)
    else:
        @tf.autograph.experimental.do_not_convert
        def sample(i: Any) -> dict:
            x = tf.random.stateless_normal((BATCH, d), seed=tf.stack([d, 2 * i]))
            z = tf.random.stateless_normal((BATCH, d), seed=tf.stack([d, 2 * i + 1]))
            y = tf.einsum("bi,sij,bj->sb", z, w_t, x)
            return {s: ([x, z], y[s]) for s in range(seeds)}
    _train_together([(s, m) for s, _, _, m in models], sample, steps, 1e-2)
    xt, zt = rng.normal(size=(2, N_TEST, d)).astype("float32")
    yt = np.einsum("bi,sij,bj->sb", zt, targets, xt).astype(np.float64)
    return [dict(part=part, task="bilinear", model=kind, d=d, width=w, n_train=n_train, seed=s,
                 params=int(m.count_params()), metric="rel_mse", error=_rel_mse(_predict(m, [xt, zt]), yt[s]),
                 error_out=None)
            for s, kind, w, m in models]


# --------------------------------------------------------------------------------------------------
# part c: conditional computation
# --------------------------------------------------------------------------------------------------


def _cond_target(task: str, seed: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The task's ``y(x, z)`` for seed ``seed`` (its own random ``A, B`` or ``a, b``), float64."""
    rng = np.random.default_rng(500 + seed)
    if task == "bilinear":
        a, b = rng.normal(size=(3, COND_DZ)), rng.normal(size=(3, COND_DX)) / np.sqrt(3 * COND_DX)
        return lambda x, z: np.sum((z @ a.T) * (x @ b.T), axis=1) / 1.5
    if task == "gain":
        a, b = np.abs(rng.normal(size=COND_DZ)) + 0.2, rng.normal(size=COND_DX)
        a, b = a / a.sum(), b / np.linalg.norm(b)  # the gain a . z lies in Z_TRAIN when z does
        return lambda x, z: np.tanh((z @ a) * (x @ b))
    raise ValueError(f"task must be one of {TASKS}, got {task!r}")


def _cond_model(kind: str) -> Any:
    import keras

    from multlib.interactions import DiagonalGating, FiLM, Hypernetwork, MultiplicativeInteraction, concat_mlp

    if kind == "concat":
        return concat_mlp(COND_DX, COND_DZ, [COND_HIDDEN, COND_HIDDEN])
    x, z = keras.Input((COND_DX,)), keras.Input((COND_DZ,))
    h = keras.layers.Dense(COND_HIDDEN, activation="relu")(x)
    if kind == "film":
        out = keras.layers.Dense(1)(FiLM()([h, z]))
    elif kind == "gating":
        out = keras.layers.Dense(1)(DiagonalGating(COND_HIDDEN, activation="sigmoid")([h, z]))
    elif kind == "mi":
        out = MultiplicativeInteraction(1)([x, z])
    elif kind == "hypernet":
        out = Hypernetwork(1, hidden=COND_HIDDEN, x_hidden=8)([x, z])
    else:
        raise ValueError(f"models must be among {COND_MODELS}, got {kind!r}")
    return keras.Model([x, z], out)


def _conditional_part(task: str, sizes: Sequence[int], models: Sequence[str], seeds: int, steps: int) -> list[dict]:
    rng = np.random.default_rng({"bilinear": 71, "gain": 72}[task])
    fns = [_cond_target(task, s) for s in range(seeds)]
    trained, pools = [], {}
    for n in sizes:
        for s in range(seeds):
            x, z = rng.normal(size=(n, COND_DX)), rng.uniform(*Z_TRAIN, size=(n, COND_DZ))
            pools[(n, s)] = ([x.astype("float32"), scale_context(z).astype("float32")], fns[s](x, z).astype("float32"))
            for kind in models:
                seed_everything(1000 * s + n + COND_MODELS.index(kind))
                trained.append(((n, s), kind, _cond_model(kind)))
    _train_together([(g, m) for g, _, m in trained], _pool_sampler(pools, salt=3), steps, 1e-2)
    xt = rng.normal(size=(N_TEST, COND_DX))
    z_in, z_out = rng.uniform(*Z_TRAIN, size=(N_TEST, COND_DZ)), rng.uniform(*Z_OUT, size=(N_TEST, COND_DZ))
    rows = []
    for (n, s), kind, m in trained:
        err = [_rel_mse(_predict(m, [xt.astype("float32"), scale_context(zz).astype("float32")]), fns[s](xt, zz))
               for zz in (z_in, z_out)]
        rows.append(dict(part="conditional", task=task, model=kind, d=COND_DX, width=0, n_train=n, seed=s,
                         params=int(m.count_params()), metric="rel_mse", error=err[0], error_out=err[1]))
    return rows


def fit_conditional(task: str, n_train: int, seed: int = 0, models: Sequence[str] = COND_MODELS,
                    steps: int = 2000) -> tuple[dict[str, Any], Callable[[np.ndarray, np.ndarray], np.ndarray]]:
    """One seed of the conditional part, for a notebook: ``({model: trained Keras model}, y(x, z))``.

    The models take ``[x, scale_context(z)]``; the target takes raw ``z``. Draws its own training set
    (seeded by ``seed``), so the numbers are close to, not equal to, the study's row of that seed.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    n_train, steps = check_positive_int(n_train, "n_train"), check_positive_int(steps, "steps")
    models = _check_names(models, COND_MODELS, "models")
    fn = _cond_target(task, seed)
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=(n_train, COND_DX)), rng.uniform(*Z_TRAIN, size=(n_train, COND_DZ))
    trained = {}
    for kind in models:
        seed_everything(1000 * seed + n_train + COND_MODELS.index(kind))
        trained[kind] = _cond_model(kind)
    pools = {0: ([x.astype("float32"), scale_context(z).astype("float32")], fn(x, z).astype("float32"))}
    _train_together([(0, m) for m in trained.values()], _pool_sampler(pools, salt=3), steps, 1e-2)
    return trained, fn


def context_sweep(task: str, t: Sequence[float], n_train: int = 512, seed: int = 0,
                  n_test: int = 2048) -> dict[str, np.ndarray]:
    """Train the models of :func:`fit_conditional` on ``task`` and return, per model, its relative test MSE
    along the diagonal ``z1 = z2 = t`` of the context, one value per ``t`` (the same ``n_test``
    standard-normal rows of ``x`` at every ``t``): where each model breaks as the context leaves ``Z_TRAIN``."""
    values = np.asarray(t, dtype=np.float64).reshape(-1)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"t must hold at least one finite context value, got {t!r}")
    n_test = check_positive_int(n_test, "n_test")
    models, target = fit_conditional(task, n_train, seed=seed)
    x = np.random.default_rng(1).normal(size=(n_test, COND_DX))
    out = {}
    for name, model in models.items():
        errors = []
        for tv in values:
            z = np.full((n_test, COND_DZ), tv)
            errors.append(_rel_mse(_predict(model, [x.astype("float32"), scale_context(z).astype("float32")]), target(x, z)))
        out[name] = np.array(errors)
    return out


# --------------------------------------------------------------------------------------------------
# part d: the GLU box
# --------------------------------------------------------------------------------------------------


def _glu_model(kind: str) -> Any:
    import keras

    from multlib.interactions import GLU

    x = keras.Input((2,))
    if kind == "relu_mlp":
        h = keras.layers.Dense(GLU_WIDTH, "relu")(x)
    elif kind == "relu_mlp_2layer":
        h = keras.layers.Dense(GLU_WIDTH, "relu")(keras.layers.Dense(GLU_WIDTH, "relu")(x))
    else:
        act = {"glu_sigmoid": "sigmoid", "glu_tanh": "tanh", "swiglu": "silu", "bilinear_glu": None}[kind]
        h = GLU(GLU_WIDTH, activation=act)(x)
    return keras.Model(x, keras.layers.Dense(1)(h))


def _glu_part(models: Sequence[str], seeds: int, steps: int) -> list[dict]:
    import tensorflow as tf

    rng = np.random.default_rng(5)
    x_in, x_out = rng.uniform(*GLU_TRAIN, (N_TEST, 2)), rng.uniform(*GLU_TEST, (N_TEST, 2))
    y_in, y_out = x_in.prod(1), x_out.prod(1)
    rows = []
    nets = [(s, k) for s in range(seeds) for k in models if k != "log_features"]
    trained = []
    for s, kind in nets:
        seed_everything(100 * s + GLU_MODELS.index(kind))
        trained.append((0, kind, s, _glu_model(kind)))

    @tf.autograph.experimental.do_not_convert
    def sample(i: Any) -> dict:
        x = tf.random.stateless_uniform((BATCH, 2), seed=tf.stack([7, i]), minval=GLU_TRAIN[0], maxval=GLU_TRAIN[1])
        return {0: (x, x[:, 0] * x[:, 1])}

    if trained:
        _train_together([(0, m) for *_, m in trained], sample, steps, 1e-2)
    for _, kind, s, m in trained:
        rows.append(dict(model=kind, seed=s, params=int(m.count_params()), error=_rel_mse(_predict(m, x_in), y_in),
                         error_out=float(np.mean(np.abs(_predict(m, x_out) - y_out) / y_out))))
    if "log_features" in models:
        for s in range(seeds):  # the book's log/exp answer: least squares on log x (closed form)
            x_train = np.random.default_rng(s).uniform(*GLU_TRAIN, (BATCH, 2))
            fit = fit_power_law(x_train, x_train.prod(1))
            rows.append(dict(model="log_features", seed=s, params=3, error=_rel_mse(fit.predict(x_in), y_in),
                             error_out=float(np.mean(np.abs(fit.predict(x_out) - y_out) / y_out))))
    return [dict(part="glu", task="product", d=2, width=GLU_WIDTH if r["model"] != "log_features" else 0, n_train=0,
                 metric="mean_abs_rel", **r) for r in rows]


# --------------------------------------------------------------------------------------------------
# the study
# --------------------------------------------------------------------------------------------------


def _check_ints(values: Sequence[int], name: str) -> list[int]:
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"{name} must be a non-empty list of positive integers, got {values!r}")
    return [check_positive_int(v, name) for v in values]


def _check_names(values: Sequence[str], allowed: Sequence[str], name: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"{name} must be a non-empty list drawn from {tuple(allowed)}, got {values!r}")
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(f"{name} must be drawn from {tuple(allowed)}, got {bad}")
    return list(values)


def run(
    parts: Sequence[str] = PARTS,
    *,
    seeds: int = 5,
    cond_seeds: int = 5,
    steps: int = 2000,
    dims: Sequence[int] = DIMS,
    widths: Sequence[int] = WIDTHS,
    data_sizes: Sequence[int] = DATA_SIZES,
    tasks: Sequence[str] = TASKS,
    cond_models: Sequence[str] = COND_MODELS,
    cond_sizes: Sequence[int] = COND_SIZES,
    glu_models: Sequence[str] = GLU_MODELS,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Train every model of the chosen ``parts``; one row per model (keys :data:`COLUMNS`).

    ``seeds`` seeds for the width and data parts, ``cond_seeds`` for the conditional and GLU parts;
    every model trains ``steps`` Adam steps (default 2,000), the learning rate ``1e-2`` decaying to 0 on
    a cosine over those steps, on batches of :data:`BATCH` (256) rows. Seed ``s`` draws the target
    (``W*``, ``A, B``...) and the model's initial weights. ``progress`` prints a bar line per finished piece.
    """
    parts = _check_names(parts, PARTS, "parts")
    seeds, cond_seeds = check_positive_int(seeds, "seeds"), check_positive_int(cond_seeds, "cond_seeds")
    steps = check_positive_int(steps, "steps")
    dims, widths = _check_ints(dims, "dims"), _check_ints(widths, "widths")
    data_sizes, cond_sizes = _check_ints(data_sizes, "data_sizes"), _check_ints(cond_sizes, "cond_sizes")
    tasks = _check_names(tasks, TASKS, "tasks")
    cond_models = _check_names(cond_models, COND_MODELS, "cond_models")
    glu_models = _check_names(glu_models, GLU_MODELS, "glu_models")
    jobs: list[tuple[str, str, Callable[[], list[dict]]]] = []
    for part in parts:
        if part == "width":
            jobs += [(part, f"d={d}", lambda d=d: _bilinear_part("width", d, widths, seeds, steps, 0)) for d in dims]
        elif part == "data":
            jobs += [(part, f"{n} rows", lambda n=n: _bilinear_part("data", DATA_D, widths, seeds, steps, n))
                     for n in data_sizes]
        elif part == "conditional":
            jobs += [(part, t, lambda t=t: _conditional_part(t, cond_sizes, cond_models, cond_seeds, steps)) for t in tasks]
        else:
            jobs.append((part, "box", lambda: _glu_part(glu_models, cond_seeds, steps)))
    rows: list[dict[str, Any]] = []
    began = time.perf_counter()
    part_rows: dict[str, list[dict]] = {}
    part_time: dict[str, float] = {}
    for i, (part, label, job) in enumerate(jobs):
        t0 = time.perf_counter()
        new = job()
        part_time[part] = part_time.get(part, 0.0) + time.perf_counter() - t0
        part_rows.setdefault(part, []).extend(new)
        rows.extend(new)
        if progress:
            bar = "#" * (20 * (i + 1) // len(jobs))
            print(f"[{bar:20s}] {i + 1}/{len(jobs)} {part}: {label}, {len(new)} models in "
                  f"{time.perf_counter() - t0:.0f} s ({time.perf_counter() - began:.0f} s elapsed)", flush=True)
    for part, new in part_rows.items():
        for r in new:
            r["part_seconds"] = part_time[part]
    return rows


def write_results(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write study rows as CSV (floats as ``repr``, so they read back exactly)."""
    return write_csv(rows, path, COLUMNS)


def read_results(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Read study rows back; by default the committed ``interactions.csv`` shipped in the package.

    ``error_out`` is ``nan`` where the part has none (width and data)."""
    rows = read_csv(RESULTS_DIR / "interactions.csv" if path is None else path,
                    command="python -m multlib.interaction_study",
                    ints=("d", "width", "n_train", "seed", "params"), floats=("error", "part_seconds"))
    for r in rows:
        r["error_out"] = float(r["error_out"]) if r["error_out"] else math.nan
    return rows


# --------------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------------


def median_spread(rows: Sequence[dict[str, Any]], key: str = "error", **match: Any) -> tuple[float, float, float]:
    """``(median, min, max)`` over seeds of ``key`` in the rows matching every ``match`` item."""
    values = [r[key] for r in rows if all(r[k] == v for k, v in match.items())]
    if not values:
        raise ValueError(f"no rows match {match}")
    return float(np.median(values)), float(np.min(values)), float(np.max(values))


def _cell(stats: tuple[float, float, float], pct: bool = False) -> str:
    med, lo, hi = stats
    if pct:
        return f"{100 * med:5.1f} % [{100 * lo:.1f}, {100 * hi:.1f}]"
    return f"{med:8.1e} [{lo:.0e}, {hi:.0e}]"


def format_table(rows: Sequence[dict[str, Any]], part: str) -> str:
    """A text table of one part: median [min, max] over seeds, and parameter counts."""
    sub = [r for r in rows if r["part"] == part]
    if not sub:
        raise ValueError(f"part must be one of the parts in rows, got {part!r}")
    lines = []
    if part in ("width", "data"):
        axis, label = ("d", "d") if part == "width" else ("n_train", "rows")
        cols = sorted({r["width"] for r in sub if r["model"] == "concat"})
        head = [f"concat {w}" for w in cols] + ["MI"]
        lines.append(f"{label:>5s} " + "".join(f"{h:>28s}" for h in head))
        for v in sorted({r[axis] for r in sub}):
            cells = [_cell(median_spread(sub, model="concat", width=w, **{axis: v})) for w in cols]
            cells.append(_cell(median_spread(sub, model="mi", **{axis: v})))
            lines.append(f"{v:5d} " + "".join(f"{c:>28s}" for c in cells))
        params = {(r["d"], r["model"], r["width"]): r["params"] for r in sub}
        lines.append("parameters: " + "; ".join(
            f"d={d}: " + ", ".join(str(params[(d, "concat", w)]) for w in cols) + f", MI {params[(d, 'mi', 0)]}"
            for d in sorted({r["d"] for r in sub})))
    elif part == "conditional":
        models = [m for m in COND_MODELS if any(r["model"] == m for r in sub)]
        lines.append(f"{'task':9s}{'rows':>5s} {'model':9s}{'params':>7s}{'z in [1, 2]':>26s}{'z in [2, 4]':>26s}")
        for task in [t for t in TASKS if any(r["task"] == t for r in sub)]:
            for n in sorted({r["n_train"] for r in sub}):
                for m in models:
                    match = dict(task=task, n_train=n, model=m)
                    p = next(r["params"] for r in sub if all(r[k] == v for k, v in match.items()))
                    lines.append(f"{task:9s}{n:5d} {m:9s}{p:7d}{_cell(median_spread(sub, **match)):>26s}"
                                 f"{_cell(median_spread(sub, 'error_out', **match)):>26s}")
    elif part == "glu":
        lines.append(f"{'model':16s}{'params':>7s}{'rel MSE on (0,1)^2':>26s}{'mean |rel err| on (1,5)^2':>30s}")
        for m in [m for m in GLU_MODELS if any(r["model"] == m for r in sub)]:
            p = next(r["params"] for r in sub if r["model"] == m)
            lines.append(f"{m:16s}{p:7d}{_cell(median_spread(sub, model=m)):>26s}"
                         f"{_cell(median_spread(sub, 'error_out', model=m), pct=True):>30s}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m multlib.interaction_study``: regenerate the committed ``interactions.csv``."""
    parser = argparse.ArgumentParser(prog="python -m multlib.interaction_study", description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--cond-seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--out", default=str(RESULTS_DIR / "interactions.csv"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        rows = run(args.parts, seeds=args.seeds, cond_seeds=args.cond_seeds, steps=args.steps)
    except ValueError as err:
        parser.error(str(err))
    print(f"wrote {write_results(rows, args.out)} ({len(rows)} rows) in {time.perf_counter() - t0:.0f} s")
    for part in args.parts:
        print(f"\n{part} ({rows[[r['part'] for r in rows].index(part)]['part_seconds']:.0f} s)")
        print(format_table(rows, part))
    return 0


if __name__ == "__main__":
    sys.exit(main())
