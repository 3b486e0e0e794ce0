"""The data-parallel step: four devices give what one device gives on the same global batch."""

import jax
import numpy as np

from tests.train.tiny import assert_trees_close
from zoo import data
from zoo.tasks import build_task
from zoo.train import Config, OptimizerConfig, make_init, make_mesh, make_train_step, replicate, shard_batch, to_host


def train_a_few_steps(devices, task, pixels, steps=3):
    mesh = make_mesh(devices)
    batch = shard_batch(mesh, {'image': pixels})
    assert len(batch['image'].sharding.device_set) == len(devices)
    state = make_init(task, mesh)(replicate(mesh, jax.random.PRNGKey(0)), batch)  # ActNorm: global batch
    initial = to_host(state.params)
    step = make_train_step(task, mesh)
    for _ in range(steps):
        state, metrics = step(state, batch)
    assert int(to_host(state.step)) == steps
    return initial, to_host(state.params), to_host(state.ema), to_host(metrics)


def test_four_devices_match_one_device():
    assert jax.device_count() == 4, 'tests/conftest.py should give four CPU devices'
    config = Config(
        task='glow',
        model=dict(scales=2, flow_steps=1, hidden=8),
        optimizer=OptimizerConfig(lr=1e-3, warmup_steps=0, ema_decay=0.9),
    )
    task = build_task(config, data.open_dataset('digits').info)
    pixels = data.digits_images('train')[:16]
    many = train_a_few_steps(jax.devices(), task, pixels)
    one = train_a_few_steps(jax.devices()[:1], task, pixels)
    for a, b in zip(many, one):
        assert_trees_close(a, b, rtol=1e-4, atol=1e-5)
    initial, final = many[0], many[1]
    assert not all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(initial), jax.tree.leaves(final)))
