"""A task's functions jitted over the device mesh: init, train step, eval step.

Each is one ``jax.jit`` over the mesh (``zoo.train.mesh``): batches come in
split over ``data``, the state replicated.  Losses are means over the *global*
batch, so ``jax.grad`` of them is the average of the per-device gradients;
XLA's partitioner computes each device's share and inserts the all-reduce
(what ``lax.pmean`` over ``data`` does inside a ``shard_map``).  Writing the
step with global semantics rather than per-device code has two benefits:
random numbers are drawn identically however many devices there are, and
statistics over the batch (ActNorm's data-dependent init) are over the global
batch.  So one device and many give the same result, and a run can resume on a
different device count.
"""

from collections.abc import Callable

import jax

from zoo.train import mesh as mesh_lib
from zoo.train.state import TrainState
from zoo.train.task import Task


def step_rng(state: TrainState) -> jax.Array:
    """The key of the step ``state`` is about to take: ``fold_in(state.rng, state.step)``."""
    return jax.random.fold_in(state.rng, state.step)


def make_init(task: Task, mesh) -> Callable:
    """``init(rng, batch) -> TrainState`` replicated over ``mesh`` (ActNorm sees the global batch)."""
    return jax.jit(
        task.init,
        in_shardings=(mesh_lib.replicated(mesh), mesh_lib.batch_sharding(mesh)),
        out_shardings=mesh_lib.replicated(mesh),
    )


def abstract_state(task: Task, mesh, rng, batch):
    """Shapes, dtypes and shardings of ``task.init``'s state, computed without running it."""
    replicated = mesh_lib.replicated(mesh)
    shapes = jax.eval_shape(task.init, rng, batch)
    return jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=replicated), shapes)


def train_step(task: Task, state: TrainState, batch, rng=None) -> tuple[TrainState, dict]:
    """The task's step with the step's own key (or ``rng``), then the step count advanced (un-jitted)."""
    state, metrics = task.train_step(state, batch, step_rng(state) if rng is None else rng)
    return state.replace(step=state.step + 1), metrics


def make_train_step(task: Task, mesh) -> Callable:
    """``step(state, batch) -> (state, metrics)`` jitted over ``mesh``.

    The state's buffers are donated (updated in place on the device); the
    metrics stay on the device until the loop asks for them.
    """
    replicated = mesh_lib.replicated(mesh)
    return jax.jit(
        lambda state, batch: train_step(task, state, batch),
        in_shardings=(replicated, mesh_lib.batch_sharding(mesh)),
        out_shardings=(replicated, replicated),
        donate_argnums=0,
    )


def make_eval_step(task: Task, mesh) -> Callable:
    """``eval(state, batch, rng) -> {name: (N,) values}``, values split over ``data`` like the batch."""
    return jax.jit(
        task.eval_step,
        in_shardings=(mesh_lib.replicated(mesh), mesh_lib.batch_sharding(mesh), mesh_lib.replicated(mesh)),
        out_shardings=mesh_lib.batch_sharding(mesh),
    )
