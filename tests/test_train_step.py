"""The data-parallel step: four devices give what one device gives on the same global batch."""

import jax
import numpy as np

from zoo import data
from zoo.flows import Glow
from zoo.train import Config, flow_loss, init_state, make_mesh, make_optimizer, make_train_step, shard_batch, to_host
from tests.test_train_loop import assert_trees_close


def train_a_few_steps(devices, model, pixels, steps=3):
    config = Config(lr=1e-3, warmup_steps=0, ema_decay=0.9)
    optimizer = make_optimizer(config)
    mesh = make_mesh(devices)
    batch = shard_batch(mesh, pixels)
    assert len(batch.sharding.device_set) == len(devices)
    state = init_state(model, optimizer, config, batch, mesh)  # ActNorm init on the global batch
    initial = to_host(state.params)
    step = make_train_step(flow_loss(model), optimizer, mesh, ema_decay=config.ema_decay)
    for _ in range(steps):
        state, metrics = step(state, batch)
    assert int(to_host(state.step)) == steps
    return initial, to_host(state.params), to_host(state.ema_params), to_host(metrics)


def test_four_devices_match_one_device():
    assert jax.device_count() == 4, 'tests/conftest.py should give four CPU devices'
    model = Glow(image_shape=(8, 8, 1), num_levels=17, levels=2, flow_steps=1, hidden=8)
    pixels = data.digits_images('train')[:16]
    many = train_a_few_steps(jax.devices(), model, pixels)
    one = train_a_few_steps(jax.devices()[:1], model, pixels)
    for a, b in zip(many, one):
        assert_trees_close(a, b, rtol=1e-4, atol=1e-5)
    initial, final = many[0], many[1]
    assert not all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(initial), jax.tree.leaves(final)))
