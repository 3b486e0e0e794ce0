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
from zoo.train import Config, ConfigError, OptimizerConfig, load_trained, read_metrics, train
from zoo.train.step import train_step

INFO = data.dataset_info('digits')


def test_flow_task_loss_is_the_model_bits_per_dim_and_drops():
    config = Config(
        task='nice', model=dict(num_couplings=2, hidden=16, depth=1), optimizer=OptimizerConfig(lr=1e-2, warmup_steps=0)
    )
    task = build_task(config, INFO)
    batch = {'image': data.digits_images('train')[:32]}
    state = jax.jit(task.init)(jax.random.PRNGKey(0), batch)
    step = jax.jit(lambda s: train_step(task, s, batch))
    state, first = step(state)
    bpd = task.model.apply(
        state.variables('flow', use_ema=False),
        batch['image'],
        jax.random.fold_in(jax.random.PRNGKey(1), 0),
        method=task.model.bits_per_dim,
    )
    assert bpd.shape == (32,)
    for _ in range(30):
        state, metrics = step(state)
    assert int(state.step) == 31 and float(metrics['loss']) < float(first['loss']) - 0.3
    values = task.eval_step(state, batch, jax.random.PRNGKey(2))
    assert values['bpd'].shape == (32,)
    np.testing.assert_allclose(task.summarize(jax.device_get(values))['bpd'], np.mean(values['bpd']), rtol=1e-6)


def test_flow_task_sheets_are_uint8_grids_per_temperature():
    config = Config(
        task='glow',
        model=dict(scales=1, flow_steps=1, hidden=4),
        task_kwargs=dict(temperatures=(0.0, 1.0), num_samples=4),
    )
    task = build_task(config, INFO)
    state = jax.jit(task.init)(jax.random.PRNGKey(0), {'image': data.digits_images('train')[:8]})
    sheets = task.visualize(state, {'image': data.digits_images('test')[:4]}, jax.random.PRNGKey(0))
    assert sorted(sheets) == ['samples_T0.00', 'samples_T1.00']
    assert all(s.dtype == np.uint8 and s.shape == (19, 19, 1) for s in sheets.values())  # 2x2 cells of 8 + pads
    pixels = task.sample(state, jax.random.PRNGKey(1), 3)
    assert pixels.shape == (3, 8, 8, 1) and pixels.dtype == np.uint8 and int(pixels.max()) < INFO.num_levels


def test_flow_task_takes_a_ready_made_model():
    model = FlowTask(INFO, Config(task='nice', model=dict(num_couplings=2, hidden=8, depth=1)), flow='nice').model
    task = FlowTask(INFO, Config(), model=model)
    assert task.model is model
    state = jax.jit(task.init)(jax.random.PRNGKey(0), {'image': data.digits_images('train')[:8]})
    assert task.sample(state, jax.random.PRNGKey(1), 2).shape == (2, 8, 8, 1)


def test_flow_task_errors_name_the_problem():
    with pytest.raises(ConfigError, match="unknown flow 'glw'"):
        FlowTask(INFO, Config(), flow='glw')
    with pytest.raises(ConfigError, match=r'model for Glow: .*divisible by 16'):
        build_task(Config(task='glow', model=dict(scales=4)), INFO)
    with pytest.raises(ConfigError, match=r'task density fits points; digits holds images'):
        build_task(Config(task='density'), INFO)


def test_density_task_fits_a_toy_density():
    info = data.dataset_info('toy2d:eight_gaussians')
    task = DensityTask(
        info,
        Config(optimizer=OptimizerConfig(lr=5e-3, warmup_steps=0)),
        model=DenseFlow(num_layers=4, hidden=32, depth=1),
    )
    points = toy2d.sample('eight_gaussians', jax.random.key(0), 150 * 128).reshape(150, 128, 2)
    state = jax.jit(task.init)(jax.random.PRNGKey(0), {'point': points[0]})

    def body(state, x):
        state, metrics = train_step(task, state, {'point': x})
        return state, metrics['loss']

    state, losses = jax.jit(lambda s: jax.lax.scan(body, s, points))(state)
    assert float(jnp.mean(losses[-20:])) < float(jnp.mean(losses[:5])) - 0.25
    assert task.eval_step(state, {'point': points[0]}, None)['nll'].shape == (128,)
    samples = task.sample(state, jax.random.PRNGKey(3), 5)
    assert samples.shape == (5, 2) and samples.dtype == jnp.float32


def test_density_task_trains_from_the_registry(tmp_path):
    config = Config(
        task='density',
        dataset='toy2d:eight_gaussians',
        model=dict(num_layers=4, hidden=32, depth=1),
        steps=200,
        batch_size=128,
        log_every=10,
        eval_every=0,
        sample_every=0,
        checkpoint_every=0,
        optimizer=OptimizerConfig(lr=5e-3, warmup_steps=0),
    )
    summary = train(config, tmp_path)
    losses = [r['loss'] for r in read_metrics(tmp_path / 'metrics.jsonl') if 'loss' in r]
    assert losses[-1] < losses[0] - 0.25
    assert np.isfinite(summary['test']['nll'])
    trained = load_trained(tmp_path)
    assert trained.task.sample(trained.state, jax.random.PRNGKey(0), 7).shape == (7, 2)
