"""FVAETask: a few steps lower the bits/dim bound; sheets: samples, reconstructions, interpolations."""

import jax
import numpy as np
import pytest

from tests.vae import digits
from zoo.train import Config, ConfigError
from zoo.train.config import OptimizerConfig
from zoo.train.step import train_step
from zoo.vae.fvae_task import FVAETask


@pytest.fixture(scope='module')
def trained():
    config = Config(
        task='fvae',
        model=dict(blocks=1, hidden=16, flow_steps=1, flow_hidden=16),
        batch_size=64,
        optimizer=OptimizerConfig(lr=2e-3, warmup_steps=0),
    )
    task = FVAETask(digits.INFO, config, temperatures=(0.5,), num_samples=9)
    state = task.init(jax.random.PRNGKey(0), digits.batch(64))
    step = jax.jit(lambda s, b: train_step(task, s, b))
    evaluate = jax.jit(task.eval_step)
    before = evaluate(state, digits.eval_batch(200, 1400), jax.random.PRNGKey(1))
    for i in range(30):
        state, metrics = step(state, digits.batch(64, 64 * (i % 20)))
    return task, state, before, evaluate(state, digits.eval_batch(200, 1400), jax.random.PRNGKey(1)), metrics


def test_training_lowers_the_bound(trained):
    _, _, before, after, metrics = trained
    assert after['bpd'].shape == (200,)
    assert np.mean(after['bpd']) < np.mean(before['bpd']) - 0.1
    assert {'sigma1', 'sigma2', 'prior_nll', 'reconstruction_nll'} <= set(metrics)


def test_sheets(trained):
    task, state, *_ = trained
    sheets = task.visualize(state, digits.batch(16), jax.random.PRNGKey(0))
    assert sheets['samples_T0.50'].shape == (3 * 9 + 1, 3 * 9 + 1, 1)
    assert sheets['interpolation'].shape == (4 * 9 + 1, 8 * 9 + 1, 1)
    assert sheets['interpolation_grid'].shape == (6 * 9 + 1, 6 * 9 + 1, 1)
    assert sheets['reconstructions'].shape == (2 * 9 + 1, 16 * 9 + 1, 1)


def test_bad_settings_are_named():
    with pytest.raises(ConfigError, match='divisible by 16'):
        FVAETask(digits.INFO, Config(task='fvae', model=dict(scales=2, flow_scales=2)))
    with pytest.raises(ConfigError, match="no settings \\['depth'\\]"):
        FVAETask(digits.INFO, Config(task='fvae', model=dict(depth=2)))
