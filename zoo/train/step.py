"""The train state and the data-parallel train step.

The step is one ``jax.jit`` over the mesh (``zoo.train.mesh``): the batch comes
in split over ``data``, parameters and optimizer state replicated.  The loss is
the mean over the *global* batch, so ``jax.grad`` of it is the average of the
per-device gradients; XLA's partitioner computes each device's share and
inserts the all-reduce (what ``lax.pmean`` over ``data`` does inside a
``shard_map``).  Writing the step with global semantics rather than per-device
code has two benefits here: random numbers (dequantisation noise) are drawn
identically however many devices there are, and statistics a model computes
over the batch (ActNorm's data-dependent init) are over the global batch.  So
one device and many give the same result, and a run can resume on a
different device count.
"""

from typing import Any, Callable

import flax
import jax
import jax.numpy as jnp
import optax

from zoo.train import mesh as mesh_lib
from zoo.train.optim import ema_update

# (params, other_variables, batch, rng) -> (scalar loss, dict of scalar metrics)
LossFn = Callable[[Any, Any, Any, jax.Array], tuple[jax.Array, dict]]


@flax.struct.dataclass
class TrainState:
    """Everything that changes during training; all of it is checkpointed.

    ``other`` holds the model's non-trained variable collections (fixed
    permutations and the like), passed to ``apply`` unchanged.  ``lr_scale``
    multiplies every update; the divergence guard lowers it, and keeping it
    here makes the lowered rate survive a restart.  ``rng`` is a raw uint32 key;
    step t uses ``fold_in(rng, t)``, so a resumed run draws the same noise.
    """
    step: jax.Array
    params: Any
    opt_state: Any
    other: Any
    ema_params: Any
    lr_scale: jax.Array
    rng: jax.Array

    def variables(self, use_ema: bool = True) -> dict:
        """The model's variables: ``{'params': ..., **other}`` (EMA params when kept)."""
        params = self.ema_params if (use_ema and self.ema_params is not None) else self.params
        return {'params': params, **self.other}


def create_train_state(variables: dict, optimizer: optax.GradientTransformation, rng: jax.Array,
                       ema: bool = False) -> TrainState:
    """Fresh state from ``model.init``'s variables: step 0, lr scale 1."""
    params = variables['params']
    other = {k: v for k, v in variables.items() if k != 'params'}
    return TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=optimizer.init(params),
                      other=other, ema_params=jax.tree.map(jnp.copy, params) if ema else None,
                      lr_scale=jnp.ones((), jnp.float32), rng=rng)


def train_step(state: TrainState, batch, *, loss_fn: LossFn, optimizer: optax.GradientTransformation,
               ema_decay: float = 0.0) -> tuple[TrainState, dict]:
    """One optimizer step on ``batch`` (un-jitted; see ``make_train_step``).

    theta <- theta + lr_scale * update(grad L(theta)), with the EMA of theta
    advanced when kept.  Metrics: the loss function's plus ``loss`` and the
    global gradient norm.
    """
    rng = jax.random.fold_in(state.rng, state.step)
    (loss, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        state.params, state.other, batch, rng)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    updates = jax.tree.map(lambda u: state.lr_scale.astype(u.dtype) * u, updates)
    params = optax.apply_updates(state.params, updates)
    ema = state.ema_params
    if ema is not None:
        ema = ema_update(ema, params, ema_decay, state.step)
    metrics = {**metrics, 'loss': loss, 'grad_norm': optax.tree.norm(grads)}
    state = state.replace(step=state.step + 1, params=params, opt_state=opt_state, ema_params=ema)
    return state, metrics


def make_train_step(loss_fn: LossFn, optimizer: optax.GradientTransformation, mesh,
                    ema_decay: float = 0.0) -> Callable:
    """``step(state, batch) -> (state, metrics)`` jitted over ``mesh``.

    The state's buffers are donated (updated in place on the device); the
    metrics stay on the device until the loop asks for them.
    """
    replicated = mesh_lib.replicated(mesh)

    def step(state, batch):
        return train_step(state, batch, loss_fn=loss_fn, optimizer=optimizer, ema_decay=ema_decay)

    return jax.jit(step, in_shardings=(replicated, mesh_lib.batch_sharding(mesh)),
                   out_shardings=(replicated, replicated), donate_argnums=0)


def make_eval_step(per_example_fn: Callable, mesh) -> Callable:
    """``eval(variables, batch, mask, rng) -> (sum of values over unmasked examples, count)``.

    ``per_example_fn(variables, batch, rng) -> (N,)``; ``mask`` (N,) marks real
    examples in a padded final batch.
    """
    def evaluate(variables, batch, mask, rng):
        values = per_example_fn(variables, batch, rng)
        return jnp.sum(jnp.where(mask, values, 0.0)), jnp.sum(mask)

    return jax.jit(evaluate, in_shardings=(mesh_lib.replicated(mesh), mesh_lib.batch_sharding(mesh),
                                           mesh_lib.batch_sharding(mesh), mesh_lib.replicated(mesh)),
                   out_shardings=mesh_lib.replicated(mesh))
