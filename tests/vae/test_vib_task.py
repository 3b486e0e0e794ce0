"""VIBTask: training lowers the loss and beats chance; evaluation without noise; labels required."""

import jax
import numpy as np
import pytest

from tests.vae import digits
from zoo.train import Config
from zoo.train.config import OptimizerConfig
from zoo.train.step import train_step
from zoo.vae.vib_task import VIBTask


@pytest.fixture(scope='module')
def trained():
    config = Config(
        task='vib',
        model=dict(hidden=(64,), latents=8),
        batch_size=128,
        steps=60,
        optimizer=OptimizerConfig(lr=3e-3, warmup_steps=0),
    )
    task = VIBTask(digits.INFO, config, beta=1e-3, eval_samples=4)
    state = task.init(jax.random.PRNGKey(0), digits.batch(128))
    step = jax.jit(lambda s, b: train_step(task, s, b))
    losses = []
    for i in range(60):
        state, metrics = step(state, digits.batch(128, 128 * (i % 10)))
        losses.append(float(metrics['loss']))
    return task, state, losses


def test_training_lowers_the_loss_and_classifies_held_out_digits(trained):
    task, state, losses = trained
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    values = jax.jit(task.eval_step)(state, digits.eval_batch(200, 1400), jax.random.PRNGKey(0))
    summary = task.summarize({k: np.asarray(v) for k, v in values.items()})
    assert summary['accuracy'] > 0.6 and summary['accuracy_sampled'] > 0.6  # chance is 0.1


def test_noise_off_evaluation_ignores_the_key(trained):
    task, state, _ = trained
    a = task.eval_step(state, digits.eval_batch(50), jax.random.PRNGKey(1))
    b = task.eval_step(state, digits.eval_batch(50), jax.random.PRNGKey(2))
    np.testing.assert_array_equal(a['correct'], b['correct'])


def test_unlabelled_batches_are_refused():
    task = VIBTask(digits.INFO, Config(task='vib', model=dict(hidden=(8,), latents=2)))
    with pytest.raises(ValueError, match='trains on labels'):
        task.init(jax.random.PRNGKey(0), {'image': digits.batch(4)['image']})
