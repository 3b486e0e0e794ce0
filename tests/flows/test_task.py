"""FlowTask and DensityTask: the flows' side of the Task protocol."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo import data
from zoo.data import toy2d
from zoo.flows.dense import DenseFlow
from zoo.flows.task import DensityTask, FlowTask
from zoo.tasks import build_task
from zoo.train import Config, ConfigError, OptimizerConfig
from zoo.train.step import train_step

INFO = data.dataset_info('digits')


def test_flow_task_loss_is_the_model_bits_per_dim_and_drops():
    config = Config(task='nice', model=dict(num_couplings=2, hidden=16, depth=1),
                    optimizer=OptimizerConfig(lr=1e-2, warmup_steps=0))
    task = build_task(config, INFO)
    batch = {'image': data.digits_images('train')[:32]}
    state = jax.jit(task.init)(jax.random.PRNGKey(0), batch)
    step = jax.jit(lambda s: train_step(task, s, batch))
    state, first = step(state)
    bpd = task.model.apply(task.variables(state, use_ema=False), batch['image'],
                           jax.random.fold_in(jax.random.PRNGKey(1), 0), method=task.model.bits_per_dim)
    assert bpd.shape == (32,)
    for _ in range(30):
        state, metrics = step(state)
    assert int(state.step) == 31 and float(metrics['loss']) < float(first['loss']) - 0.3
    values = task.eval_step(state, batch, jax.random.PRNGKey(2))
    assert values['bpd'].shape == (32,)
    np.testing.assert_allclose(task.summarize(jax.device_get(values))['bpd'], np.mean(values['bpd']), rtol=1e-6)


def test_flow_task_sheets_are_uint8_grids_per_temperature():
    config = Config(task='glow', model=dict(levels=1, flow_steps=1, hidden=4),
                    task_kwargs=dict(temperatures=(0.0, 1.0), num_samples=4))
    task = build_task(config, INFO)
    state = jax.jit(task.init)(jax.random.PRNGKey(0), {'image': data.digits_images('train')[:8]})
    sheets = task.visualize(state, jax.random.PRNGKey(0))
    assert sorted(sheets) == ['samples_T0.00', 'samples_T1.00']
    assert all(s.dtype == np.uint8 and s.shape == (19, 19, 1) for s in sheets.values())  # 2x2 cells of 8 + pads


def test_flow_task_errors_name_the_problem():
    with pytest.raises(ConfigError, match="unknown flow 'glw'"):
        FlowTask(INFO, Config(), flow='glw')
    with pytest.raises(ConfigError, match=r'glow on digits: .*divisible by 16'):
        build_task(Config(task='glow', model=dict(levels=4)), INFO)


def test_density_task_fits_a_toy_density():
    task = DensityTask(DenseFlow(num_layers=4, hidden=32, depth=1), Config(
        optimizer=OptimizerConfig(lr=5e-3, warmup_steps=0)))
    points = toy2d.sample('eight_gaussians', jax.random.key(0), 150 * 128).reshape(150, 128, 2)
    state = jax.jit(task.init)(jax.random.PRNGKey(0), {'x': points[0]})

    def body(state, x):
        state, metrics = train_step(task, state, {'x': x})
        return state, metrics['loss']

    state, losses = jax.jit(lambda s: jax.lax.scan(body, s, points))(state)
    assert float(jnp.mean(losses[-20:])) < float(jnp.mean(losses[:5])) - 0.25
    assert task.eval_step(state, {'x': points[0]}, None)['nll'].shape == (128,)
