"""Class-conditional FlowTask (Glow, Kingma & Dhariwal 2018, sec. 5): a few steps lower the
loss of log p(x | y) and train the top-latent classifier; sampling honours labels; one-line
errors for settings that cannot work."""

import jax
import numpy as np
import pytest

from tests.vae import digits
from zoo.tasks import build_task
from zoo.train import Config, ConfigError, OptimizerConfig
from zoo.train.step import train_step


def config(**task_kwargs):
    return Config(
        task='glow',
        model={'scales': 1, 'flow_steps': 2, 'hidden': 8, 'scale_fn': 'tanh', 'conditional_split': False},
        task_kwargs=dict(conditional=True, classifier_weight=1.0, num_samples=10, temperatures=(0.7,), **task_kwargs),
        optimizer=OptimizerConfig(lr=1e-2, warmup_steps=0),
    )


@pytest.fixture(scope='module')
def trained():
    task = build_task(config(), digits.INFO)
    batch = digits.batch(64)
    state = jax.jit(task.init)(jax.random.key(0), batch)
    step = jax.jit(lambda s: train_step(task, s, batch))
    state, first = step(state)
    for _ in range(40):
        state, metrics = step(state)
    return task, state, first, metrics


def test_conditional_loss_and_classifier_cross_entropy_drop(trained):
    task, state, first, metrics = trained
    assert float(metrics['bpd']) < float(first['bpd']) - 0.2
    # The classifier reads 4 numbers here (the spatial mean of a one-level 8x8 Glow's top latent).
    assert float(metrics['classifier_xent']) < float(first['classifier_xent']) - 0.08
    values = jax.jit(task.eval_step)(state, digits.batch(50, 64), jax.random.key(1))
    assert values['bpd'].shape == values['classifier_accuracy'].shape == (50,)


def test_labels_change_the_density_and_the_samples(trained):
    task, state, _, _ = trained
    batch = digits.batch(50, 64)
    right = task.eval_step(state, batch, jax.random.key(1))['bpd']
    wrong = task.eval_step(state, {**batch, 'label': (batch['label'] + 5) % 10}, jax.random.key(1))['bpd']
    assert float(np.mean(wrong)) > float(np.mean(right))  # log p(x | true y) beats a wrong y
    a = task.sample(state, jax.random.key(2), 4, labels=np.array([0, 0, 0, 0]))
    b = task.sample(state, jax.random.key(2), 4, labels=np.array([7, 7, 7, 7]))
    assert a.shape == (4, 8, 8, 1) and a.dtype == np.uint8 and np.any(a != b)
    sheets = task.visualize(state, batch, jax.random.key(3))
    assert sheets['samples_T0.70'].dtype == np.uint8


def test_conditional_settings_are_one_line_errors(trained):
    task, state, _, _ = trained
    with pytest.raises(ValueError, match=r'labels of shape \(4,\)'):
        task.sample(state, jax.random.key(0), 4, labels=np.zeros(3, np.int32))
    with pytest.raises(ConfigError, match='classifier_weight'):
        build_task(Config(task='glow', model={'scales': 1}, task_kwargs={'classifier_weight': 0.1}), digits.INFO)
    unconditional = build_task(Config(task='glow', model={'scales': 1, 'flow_steps': 1, 'hidden': 4}), digits.INFO)
    with pytest.raises(ValueError, match='conditional model'):
        unconditional.sample(None, jax.random.key(0), 2, labels=np.zeros(2, np.int32))
