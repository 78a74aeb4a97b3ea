"""Train many independent small Keras models as one computation, each exactly as it would train alone.

A model of a few weights keeps a CPU busy for microseconds per step and spends the rest of each
step in dispatch overhead. :func:`train_parallel` takes ``S`` built Keras models and one data set
per model and runs all ``S`` training steps as one TensorFlow graph, a chunk of steps per call:

* **Vectorised groups.** Models with the same configuration (layer names aside) form a group whose
  weights are stacked along a new first axis; ``tf.vectorized_map`` runs the group's template
  through ``model.stateless_call`` once for all its members. Different architectures are simply
  different groups. Models must have no non-trainable variables (no BatchNormalization).
* **Independence.** The loss is the sum of each member's own loss plus its regularisers
  (``model.losses``) on its own batch. Members share no weights, so a member's gradient is that of
  its own loss, and Adam is element-wise: one Adam over the stacked weights moves every member as
  a separate Adam would (``tests/test_parallel.py`` checks 1e-6 against a model trained alone).
* **Batches.** At step ``t`` member ``s`` draws ``batch_size`` rows with replacement from its own
  data, from row ``s`` of ``tf.random.stateless_uniform([S, batch], seed=(seed, t))``; the row does
  not depend on ``S`` or on the other members. :func:`batch_indices` replays it.
* **Constraints** of the template's weights are applied to every member after every optimiser step;
  the **learning rate** may be a Keras schedule. A group uses its template's regularisers.
* **Divergence is isolated.** A member whose loss or gradient stops being finite is frozen at that
  step (its weights stay as they were before it) and reported; the others train on.
* ``callback(step, models)`` runs every ``eval_every`` steps with the members' weights written back,
  e.g. to keep the step with the lowest training-range error (Madsen and Johansen's rule).

TensorFlow backend only.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import keras
import numpy as np

from multlib.data import check_positive_int
from multlib.metrics import keras_mse

__all__ = ["ParallelResult", "batch_indices", "train_parallel"]


@dataclass
class ParallelResult:
    """What :func:`train_parallel` returns (member axes in the order the models were given).

    Attributes:
        steps: steps trained.
        history_steps: ``(C,)`` the step at the end of each chunk of ``eval_every`` steps.
        loss: ``(C, S)`` each member's mean training loss over each chunk; NaN once it diverged.
        diverged_at: per member, the 1-based step at which its loss or gradient became non-finite
            (it was frozen there), or ``None``.
        evaluations: ``[(step, callback result), ...]``.
        seconds: wall time, graph tracing included.
        groups: how many vectorised groups the members formed.
    """

    steps: int
    history_steps: np.ndarray
    loss: np.ndarray
    diverged_at: list[int | None]
    evaluations: list[tuple[int, Any]] = field(default_factory=list)
    seconds: float = 0.0
    groups: int = 0


def _tf() -> Any:
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"multlib.parallel needs the TensorFlow backend, got {keras.backend.backend()!r}")
    import tensorflow as tf

    return tf


def batch_indices(n: int, batch_size: int, seed: int, step: int, member: int = 0) -> np.ndarray:
    """The rows (of ``n``) that ``member`` trains on at 1-based ``step`` of a run with ``seed``."""
    tf = _tf()
    u = tf.random.stateless_uniform([member + 1, batch_size], seed=[seed, step])[member]
    return tf.minimum(tf.cast(u * float(n), tf.int32), n - 1).numpy()


def _signature(model: keras.Model, x: np.ndarray, y: np.ndarray) -> str:
    def strip(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: strip(v) for k, v in obj.items() if k != "name"}
        return [strip(v) for v in obj] if isinstance(obj, (list, tuple)) else obj

    shapes = [tuple(v.shape) for v in model.trainable_variables] + [x.shape[1:], y.shape[1:]]
    return json.dumps([type(model).__name__, strip(model.get_config()), str(shapes)], sort_keys=True, default=str)


def _check_models_and_data(
    models: Sequence[keras.Model], data: Sequence[tuple[Any, Any]]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each model's ``(x, y)`` as float32, ``y`` with at least two axes."""
    if len(models) == 0 or len(data) != len(models):
        raise ValueError(f"need one (x, y) pair per model, got {len(models)} models and {len(data)} pairs")
    out = []
    for s, (model, (x, y)) in enumerate(zip(models, data)):
        x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
        if x.ndim < 2 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
            raise ValueError(f"data[{s}]: x must be (n, ...) and y (n, ...) with n > 0, got {x.shape} and {y.shape}")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError(f"data[{s}] holds NaN or inf")
        if model.non_trainable_variables or not model.trainable_variables:
            raise ValueError(f"models[{s}] must be built, with trainable and no non-trainable variables")
        out.append((x, y if y.ndim > 1 else y[:, None]))
    ids = [id(v) for m in models for v in m.trainable_variables]
    if len(set(ids)) != len(ids):
        raise ValueError("models must not share variables (the same model twice, or shared layers)")
    return out


def _check_run_args(
    steps: int, batch_size: int, eval_every: int | None, learning_rate: Any
) -> tuple[int, int, int]:
    """``(steps, batch_size, chunk)``, the chunk being the steps per graph call."""
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    chunk = check_positive_int(eval_every, "eval_every") if eval_every is not None else min(steps, 1000)
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule) and not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive or a schedule, got {learning_rate!r}")
    return steps, batch_size, chunk


@dataclass
class _Group:
    """Models of one configuration: their weights stacked on a new first axis, their data concatenated."""

    members: Any  # (G,) int32: the members' positions in ``models``
    template: keras.Model  # the first member: its stateless_call, regularisers and constraints serve all
    weights: list[keras.Variable]  # one (G, ...) stack per trainable variable of the template
    constraints: list[Any]  # the template's, one per trainable variable (or None)
    x: Any  # the members' rows, one after the other
    y: Any
    offsets: Any  # (G, 1) int32: the first row of each member in x and y
    sizes: Any  # (G, 1) int32: the number of rows of each member


def _stack_groups(models: Sequence[keras.Model], arrays: list[tuple[np.ndarray, np.ndarray]]) -> list[_Group]:
    """One :class:`_Group` per configuration (layer names aside), in order of first appearance."""
    import tensorflow as tf

    by_key: dict[str, list[int]] = {}
    for s, (x, y) in enumerate(arrays):
        by_key.setdefault(_signature(models[s], x, y), []).append(s)
    groups = []
    for members in by_key.values():
        template = models[members[0]]
        sizes = [arrays[s][0].shape[0] for s in members]
        groups.append(_Group(
            members=tf.constant(members), template=template,
            weights=[keras.Variable(np.stack([models[s].trainable_variables[i].numpy() for s in members]))
                     for i in range(len(template.trainable_variables))],
            constraints=[v.constraint for v in template.trainable_variables],
            x=tf.constant(np.concatenate([arrays[s][0] for s in members])),
            y=tf.constant(np.concatenate([arrays[s][1] for s in members])),
            offsets=tf.constant(np.cumsum([0] + sizes[:-1])[:, None], tf.int32),
            sizes=tf.constant(np.asarray(sizes)[:, None], tf.int32),
        ))
    return groups


class _ParallelTrainer:
    """One Adam over every group's stacked weights, the graph of one step of all members, and its state.

    ``active`` ``(S,)`` says who still trains; ``diverged`` ``(S,)`` holds the 1-based step at which a
    member stopped (0 while it trains).
    """

    def __init__(
        self, groups: list[_Group], n_members: int, batch_size: int, loss: Callable[[Any, Any], Any],
        learning_rate: float | keras.optimizers.schedules.LearningRateSchedule, seed: int,
    ) -> None:
        import tensorflow as tf

        self.groups, self.loss = groups, loss
        self.n_members, self.batch_size, self.seed = n_members, batch_size, seed
        self.all_weights = [w for g in groups for w in g.weights]
        self._adam = _FlatAdam(self.all_weights, learning_rate)
        self.active = tf.Variable(tf.ones([n_members], tf.bool), trainable=False)
        self.diverged = tf.Variable(tf.zeros([n_members], tf.int32), trainable=False)
        self._run_chunk = tf.function(self._chunk, reduce_retracing=True)

    def run(self, done: int, length: int) -> np.ndarray:
        """Train steps ``done + 1 .. done + length``; each member's mean loss, NaN from the chunk it diverged in."""
        import tensorflow as tf

        sums = self._run_chunk(tf.constant(done, tf.int32), tf.constant(length, tf.int32)).numpy()
        return np.where(self.active.numpy(), sums / length, np.nan)

    def write_back(self, models: Sequence[keras.Model]) -> None:
        """Copy every member's trained weights into its Keras model."""
        for g in self.groups:
            for i, w in enumerate(g.weights):
                values = w.numpy()
                for j, s in enumerate(g.members.numpy()):
                    models[s].trainable_variables[i].assign(values[j])

    def diverged_at(self) -> list[int | None]:
        """Per member, the 1-based step it was frozen at, or ``None``."""
        return [int(d) if d > 0 else None for d in self.diverged.numpy()]

    # ---------------------------------------------------------------- the graph

    def _chunk(self, start: Any, length: Any) -> Any:
        import tensorflow as tf

        total = tf.zeros([self.n_members])
        for t in tf.range(start + 1, start + length + 1):
            total += self._step(t)
        return total

    def _step(self, t: Any) -> Any:
        """Step ``t`` of every member; returns the ``(S,)`` losses (0 for members that do not train)."""
        import tensorflow as tf

        u = tf.random.stateless_uniform([self.n_members, self.batch_size], seed=tf.stack([self.seed, t]))
        parts = [self._group_step(g, u) for g in self.groups]
        members = [g.members[:, None] for g in self.groups]
        ok = tf.scatter_nd(tf.concat(members, 0), tf.concat([p[1] for p in parts], 0), [self.n_members])
        values = tf.scatter_nd(tf.concat(members, 0), tf.concat([p[0] for p in parts], 0), [self.n_members])
        self.diverged.assign(tf.where(tf.logical_and(self.active, tf.logical_not(ok)), t, self.diverged))
        self.active.assign(ok)
        self._apply_gradients([d for p in parts for d in p[2]], [p[1] for p in parts])
        return values

    def _group_step(self, g: _Group, u: Any) -> tuple[Any, Any, list]:
        """A group's losses, whether each member may step, and the gradients (zero where it may not)."""
        import tensorflow as tf

        rows = tf.gather(u, g.members)
        idx = g.offsets + tf.minimum(tf.cast(rows * tf.cast(g.sizes, tf.float32), tf.int32), g.sizes - 1)
        xb, yb = tf.gather(g.x, idx), tf.gather(g.y, idx)
        template, loss = g.template, self.loss

        def member(args: tuple) -> tuple:
            params, xm, ym = args
            with tf.GradientTape() as tape:
                tape.watch(params)
                pred, _, reg = template.stateless_call(params, [], xm, training=True, return_losses=True)
                value = tf.reshape(loss(tf.reshape(ym, tf.shape(pred)), pred), [])
                value += sum((tf.reshape(r, []) for r in reg), tf.constant(0.0))
            grads = tape.gradient(value, params, unconnected_gradients=tf.UnconnectedGradients.ZERO)
            finite = tf.reduce_all([tf.math.is_finite(value)] + [tf.reduce_all(tf.math.is_finite(d)) for d in grads])
            return value, grads, finite

        values, grads, finite = tf.vectorized_map(member, ([tf.convert_to_tensor(w) for w in g.weights], xb, yb))
        ok = tf.logical_and(tf.gather(self.active, g.members), finite)
        grads = [tf.where(tf.reshape(ok, [-1] + [1] * (d.shape.rank - 1)), d, tf.zeros_like(d)) for d in grads]
        return tf.where(ok, values, 0.0), ok, grads

    def _apply_gradients(self, grads: list, group_ok: list) -> None:
        """One Adam step, then the template's constraints; a frozen member keeps its weights."""
        import tensorflow as tf

        steps = iter(self._adam.steps(grads))
        for g, ok in zip(self.groups, group_ok):
            for w, c in zip(g.weights, g.constraints):
                moved = tf.convert_to_tensor(w) - next(steps)
                new = tf.vectorized_map(c, moved) if c is not None else moved
                # A frozen member keeps its weights (Adam's momentum alone would still move them).
                w.assign(tf.where(tf.reshape(ok, [-1] + [1] * (w.shape.rank - 1)), new, w))


class _FlatAdam:
    """Keras's Adam (its defaults, its arithmetic, operation for operation) on all weights as one vector.

    ``keras.optimizers.Adam`` updates each variable with its own chain of about twenty small
    operations; a unit's stack has dozens of variables, so per step that bookkeeping cost as much as
    a tenth of the training. The update is element-wise, so doing Keras's operations once on the
    concatenated gradients gives every weight the value Keras would, to the bit
    (``tests/test_parallel.py`` checks it against ``keras.optimizers.Adam``).
    """

    beta_1, beta_2, epsilon = 0.9, 0.999, 1e-7  # keras.optimizers.Adam's defaults

    def __init__(self, weights: list[keras.Variable],
                 learning_rate: float | keras.optimizers.schedules.LearningRateSchedule) -> None:
        import tensorflow as tf

        self.shapes = [tuple(w.shape) for w in weights]
        self.sizes = [int(np.prod(shape)) for shape in self.shapes]
        self.learning_rate = learning_rate
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.m = tf.Variable(tf.zeros([sum(self.sizes)]), trainable=False)
        self.v = tf.Variable(tf.zeros([sum(self.sizes)]), trainable=False)

    def steps(self, grads: list) -> list:
        """Advance Adam by one step on ``grads`` (one per weight); the amount to subtract from each weight."""
        import tensorflow as tf

        f32 = tf.float32
        if isinstance(self.learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            lr = tf.cast(self.learning_rate(self.iterations), f32)
        else:
            lr = tf.constant(self.learning_rate, f32)
        local_step = tf.cast(self.iterations + 1, f32)
        beta_1_power = tf.pow(tf.constant(self.beta_1, f32), local_step)
        beta_2_power = tf.pow(tf.constant(self.beta_2, f32), local_step)
        alpha = lr * tf.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        g = tf.concat([tf.reshape(d, [-1]) for d in grads], 0)
        self.m.assign_add(tf.multiply(g - self.m, 1 - self.beta_1))
        self.v.assign_add(tf.multiply(tf.square(g) - self.v, 1 - self.beta_2))
        delta = (self.m * alpha) / (tf.sqrt(self.v) + self.epsilon)
        self.iterations.assign_add(1)
        return [tf.reshape(part, shape) for part, shape in zip(tf.split(delta, self.sizes), self.shapes)]


def train_parallel(
    models: Sequence[keras.Model],
    data: Sequence[tuple[Any, Any]],
    *,
    steps: int,
    batch_size: int = 128,
    loss: Callable[[Any, Any], Any] = keras_mse,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
    seed: int = 0,
    eval_every: int | None = None,
    callback: Callable[[int, Sequence[keras.Model]], Any] | None = None,
    progress: bool = False,
) -> ParallelResult:
    """Train every ``models[s]`` on ``data[s] = (x_s, y_s)`` with Adam for ``steps`` steps, all at once.

    ``loss(y_true, y_pred)`` returns a scalar; ``y_true`` is reshaped to ``y_pred``'s shape before
    the call (a ``(batch,)`` target never broadcasts against a ``(batch, 1)`` output). Steps run in
    chunks of ``eval_every`` (default ``min(steps, 1000)``) per graph call; after each chunk the
    trained weights are written back into ``models`` and ``callback(step, models)`` is called.
    ``progress=True`` shows a Keras progress bar. The models hold the final weights on return.
    """
    _tf()  # the TensorFlow backend, or a clear error
    steps, batch_size, chunk = _check_run_args(steps, batch_size, eval_every, learning_rate)
    arrays = _check_models_and_data(models, data)
    trainer = _ParallelTrainer(_stack_groups(models, arrays), len(models), batch_size, loss, learning_rate, seed)
    bar = keras.utils.Progbar(steps, unit_name="step") if progress else None
    history_steps, history, evaluations = [], [], []
    began, done = time.perf_counter(), 0
    while done < steps:
        length = min(chunk, steps - done)
        mean = trainer.run(done, length)
        done += length
        history_steps.append(done)
        history.append(mean)
        trainer.write_back(models)
        if callback is not None:
            evaluations.append((done, callback(done, models)))
        if bar is not None:
            live = mean[np.isfinite(mean)]
            bar.update(done, values=[("mean loss", float(np.mean(live)) if live.size else float("nan"))])
    return ParallelResult(
        steps=steps, history_steps=np.asarray(history_steps), loss=np.asarray(history),
        diverged_at=trainer.diverged_at(), evaluations=evaluations,
        seconds=time.perf_counter() - began, groups=len(trainer.groups),
    )
