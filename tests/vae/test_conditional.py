"""The conditional VAE (Sohn et al. 2015): training lowers -ELBO of log p(x | y), samples
follow the requested labels, label swaps keep z, and the label really enters both networks."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.vae import digits
from zoo.train import Config, ConfigError
from zoo.train.config import OptimizerConfig
from zoo.train.step import train_step
from zoo.vae.conditional import ConditionalVAE, label_channels
from zoo.vae.conditional_task import ConditionalVAETask


@pytest.fixture(scope='module')
def trained():
    config = Config(task='cvae', model={'hidden': 32, 'latents': 4}, optimizer=OptimizerConfig(lr=3e-3, warmup_steps=0))
    task = ConditionalVAETask(digits.INFO, config, iwae_samples=8, iwae_chunk=4, num_samples=20)
    batch = digits.batch(64)
    state = task.init(jax.random.key(0), batch)
    step = jax.jit(lambda s: train_step(task, s, batch))
    evaluate = jax.jit(task.eval_step)
    before = evaluate(state, digits.batch(100, 1000), jax.random.key(5))
    for _ in range(40):
        state, _ = step(state)
    after = evaluate(state, digits.batch(100, 1000), jax.random.key(5))
    return task, state, before, after


def test_training_lowers_the_conditional_negative_elbo(trained):
    _, _, before, after = trained
    assert float(np.mean(after['neg_elbo'])) < float(np.mean(before['neg_elbo'])) - 5.0
    assert after['iwae_nll'].shape == (100,)


def test_samples_follow_labels_and_label_swaps_keep_the_code(trained):
    task, state, _, _ = trained
    a = task.sample(state, jax.random.key(1), 3, labels=np.array([1, 1, 1]))
    b = task.sample(state, jax.random.key(1), 3, labels=np.array([8, 8, 8]))
    assert a.shape == (3, 8, 8, 1) and a.dtype == np.uint8 and np.any(a != b)
    swapped = task.swap_labels(state, digits.batch(2)['image'], digits.batch(2)['label'], jax.random.key(2))
    assert swapped.shape == (2, 10, 8, 8, 1)
    sheets = task.visualize(state, digits.batch(16), jax.random.key(3))
    assert sheets['samples'].dtype == sheets['label_swap'].dtype == np.uint8
    with pytest.raises(ValueError, match=r'labels of shape \(3,\)'):
        task.sample(state, jax.random.key(1), 3, labels=np.zeros(2, np.int32))


def test_the_label_enters_encoder_and_decoder():
    model = ConditionalVAE(image_shape=(8, 8, 1), hidden=16, latents=3, num_classes=10)
    x = jnp.ones((2, 8, 8, 1)) * 0.5
    y0, y1 = jax.nn.one_hot(jnp.array([0, 0]), 10), jax.nn.one_hot(jnp.array([1, 1]), 10)
    v = model.init(jax.random.key(0), x, y0)
    assert label_channels(x, y0).shape == (2, 8, 8, 11)
    enc = lambda y: model.apply(v, x, y, method=model.encode)[0]
    dec = lambda y: model.apply(v, jnp.zeros((2, 3)), y, method=model.decode)
    assert float(jnp.max(jnp.abs(enc(y0) - enc(y1)))) > 0 and float(jnp.max(jnp.abs(dec(y0) - dec(y1)))) > 0


def test_unlabelled_data_is_a_config_error():
    info = dataclasses.replace(digits.INFO, num_classes=None)
    with pytest.raises(ConfigError, match='needs labels'):
        ConditionalVAETask(info, Config(task='cvae'))
