"""VAETask: a few steps lower the loss, evaluation and sheets have the right shapes, bad settings are named."""

import jax
import numpy as np
import pytest

from tests.vae import digits
from zoo.train import Config, ConfigError
from zoo.train.config import OptimizerConfig
from zoo.train.step import train_step
from zoo.vae.task import VAETask


def tiny_config(**model):
    return Config(
        task='vae',
        model={'hidden': 32, 'latents': 4, **model},
        batch_size=64,
        steps=50,
        optimizer=OptimizerConfig(lr=3e-3, warmup_steps=0),
    )


def run_steps(task, n, batch):
    state = task.init(jax.random.PRNGKey(0), batch)
    step = jax.jit(lambda s, b: train_step(task, s, b))
    evaluate = jax.jit(task.eval_step)
    before = evaluate(state, digits.eval_batch(200, 1000), jax.random.PRNGKey(5))
    for _ in range(n):
        state, metrics = step(state, batch)
    after = evaluate(state, digits.eval_batch(200, 1000), jax.random.PRNGKey(5))
    return state, metrics, before, after


@pytest.fixture(scope='module')
def trained():
    task = VAETask(digits.INFO, tiny_config(), iwae_samples=32, iwae_chunk=8, num_samples=9)
    return (task, *run_steps(task, 40, digits.batch(64)))


def test_training_lowers_the_held_out_negative_elbo(trained):
    _, _, metrics, before, after = trained
    assert np.mean(after['neg_elbo']) < np.mean(before['neg_elbo']) - 5.0
    assert set(metrics) >= {'loss', 'kl', 'reconstruction', 'mutual_information', 'marginal_kl'}


def test_evaluation_is_per_example_and_iwae_is_the_tighter_bound(trained):
    _, _, _, _, after = trained
    assert {k: v.shape for k, v in after.items()} == {
        k: (200,) for k in ('neg_elbo', 'reconstruction', 'kl', 'iwae_nll')
    }
    np.testing.assert_allclose(after['neg_elbo'], after['reconstruction'] + after['kl'], rtol=1e-4)
    assert np.mean(after['iwae_nll']) < np.mean(after['neg_elbo'])


def test_sheets_and_samples(trained):
    task, state, *_ = trained
    sheets = task.visualize(state, digits.batch(20), jax.random.PRNGKey(0))
    assert sheets['samples'].dtype == np.uint8 and sheets['samples'].shape == (3 * 9 + 1, 3 * 9 + 1, 1)
    assert sheets['reconstructions'].shape == (2 * 9 + 1, 16 * 9 + 1, 1)
    samples = task.sample(state, jax.random.PRNGKey(1), 5)
    assert samples.shape == (5, 8, 8, 1) and samples.dtype == np.uint8 and int(samples.max()) <= 16
    # Samples are the decoder's means of prior codes: different codes, different images.
    assert len({np.asarray(s).tobytes() for s in samples}) > 1


def test_a_trained_vae_reconstructs_better_than_its_prior_samples_match(trained):
    """Reconstructions of held-out digits sit closer to them than random samples do."""
    task, state, *_ = trained
    pixels = digits.batch(100, 1200)['image']
    error = lambda a: float(np.mean(np.abs(np.asarray(a, np.float32) - pixels)))
    assert error(task.reconstruct(state, pixels, jax.random.PRNGKey(0))) < error(
        task.sample(state, jax.random.PRNGKey(0), 100)
    )


def test_conv_variant_with_logistic_likelihood_trains():
    task = VAETask(
        digits.INFO, tiny_config(architecture='conv', channels=(4, 8)), likelihood='logistic', iwae_samples=4
    )
    _, metrics, before, after = run_steps(task, 5, digits.batch(32))
    assert np.isfinite(float(metrics['loss']))
    assert np.mean(after['neg_elbo']) < np.mean(before['neg_elbo'])


def test_bad_settings_are_named():
    with pytest.raises(ConfigError, match='unknown likelihood'):
        VAETask(digits.INFO, tiny_config(), likelihood='poisson')
    with pytest.raises(ConfigError, match="no settings \\['depth'\\]"):
        VAETask(digits.INFO, tiny_config(depth=3))
    with pytest.raises(ConfigError, match='must divide'):
        VAETask(digits.INFO, tiny_config(), iwae_samples=10, iwae_chunk=3)
    with pytest.raises(ConfigError, match='divisible by 16'):
        VAETask(digits.INFO, tiny_config(architecture='conv', channels=(4, 8, 16, 32)))
    with pytest.raises(ConfigError, match='unknown architecture'):
        VAETask(digits.INFO, tiny_config(architecture='resnet'))
