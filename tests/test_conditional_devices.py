"""Class-conditional tasks train the same on 4 devices as on 1 (issue 25): the labels are
sharded with their images, and what the models reduce over the batch (ActNorm's data
initialisation, conditional batch normalisation, the classifier's and the game's means) is
global under the mesh, so parameters, EMA copies, auxiliary state and metrics agree."""

import jax
import numpy as np
import pytest

from tests.train.tiny import assert_trees_close
from tests.vae import digits
from zoo.tasks import build_task
from zoo.train import Config, OptimizerConfig, make_init, make_mesh, make_train_step, replicate, shard_batch, to_host

# Adam's eps as in tests/gan/test_task.py: a gradient that is 0 in exact arithmetic but
# rounding noise on one device count must not become a +-lr step.
OPTIMIZER = OptimizerConfig(lr=1e-3, eps=1e-4, warmup_steps=0, ema_decay=0.9)

CONFIGS = {
    # the label in the top prior, the split prior and every coupling, and the auxiliary classifier
    'glow': Config(
        task='glow',
        model={
            'scales': 2,
            'flow_steps': 1,
            'hidden': 8,
            'scale_fn': 'tanh',
            'conditional_split': True,
            'conditional_couplings': True,
        },
        task_kwargs=dict(conditional=True, classifier_weight=1.0),
        optimizer=OPTIMIZER,
    ),
    # projection critic (spectral vectors in aux), class-conditional batch norm in the generator
    'cgan': Config(
        task='cgan',
        model={'generator': {'channels': 4}, 'critic': {'channels': 4}},
        task_kwargs=dict(latent_dim=8),
        optimizer=OPTIMIZER,
    ),
}


def train_two_steps(task, batch, devices):
    mesh = make_mesh(devices)
    sharded = shard_batch(mesh, batch)
    state = make_init(task, mesh)(replicate(mesh, jax.random.PRNGKey(0)), sharded)
    initial = to_host(state.params)
    step = make_train_step(task, mesh)
    for _ in range(2):
        state, metrics = step(state, sharded)
    return initial, to_host(state.params), to_host(state.ema), to_host(state.aux), to_host(metrics)


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_four_devices_train_a_conditional_task_like_one(name):
    assert jax.device_count() == 4
    task = build_task(CONFIGS[name], digits.INFO)
    batch = digits.batch(16)
    four = train_two_steps(task, batch, jax.devices())
    one = train_two_steps(task, batch, jax.devices()[:1])
    for a, b in zip(four, one):
        assert_trees_close(a, b, rtol=1e-4, atol=1e-5)
    assert all(np.isfinite(float(v)) for v in four[-1].values())
    moved = [not np.array_equal(x, y) for x, y in zip(jax.tree.leaves(four[0]), jax.tree.leaves(four[1]))]
    assert sum(moved) > len(moved) // 2  # the two steps trained most parameters
