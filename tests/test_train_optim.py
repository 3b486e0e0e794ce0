"""Optimizer construction from the config, schedules, and the SPEC 8 training tools."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from zoo.train import Config, gradient_penalty, learning_rate, make_optimizer, param_labels
from zoo.train.optim import ema_update

PARAMS = {'coupling': {'kernel': jnp.ones((3, 2))}, 'actnorm': {'bias': jnp.zeros((2,))}}


def loss_fn(params):
    return sum(jnp.sum(jnp.square(x - 0.5)) for x in jax.tree.leaves(params))


def one_step(optimizer, params=PARAMS, state=None):
    state = optimizer.init(params) if state is None else state
    updates, state = optimizer.update(jax.grad(loss_fn)(params), state, params)
    return optax.apply_updates(params, updates), state


@pytest.mark.parametrize('changes', [
    dict(optimizer='adam'),
    dict(optimizer='adamax', schedule='cosine', final_lr_fraction=0.1),
    dict(clip_grad_norm=0.5),
    dict(weight_decay=0.1),
    dict(lr_groups={'coupling': 0.1}),
])
def test_optimizer_options_construct_and_step(changes):
    config = Config(lr=0.1, warmup_steps=0, steps=10, **changes)
    new, _ = jax.jit(one_step, static_argnums=0)(make_optimizer(config))
    assert loss_fn(new) < loss_fn(PARAMS)


def test_lr_groups_scale_each_group():
    # Adam's first step moves every coordinate by lr * sign(grad); a group at 0.1 moves a tenth as far.
    new, _ = one_step(make_optimizer(Config(lr=0.1, warmup_steps=0, lr_groups={'coupling': 0.1})))
    np.testing.assert_allclose(new['actnorm']['bias'], 0.1, rtol=1e-4)
    np.testing.assert_allclose(new['coupling']['kernel'], 1 - 0.01, rtol=1e-4)
    assert param_labels(PARAMS, {'coupling': 0.1}) == {'coupling': {'kernel': 'coupling'},
                                                       'actnorm': {'bias': 'default'}}


def test_gradient_accumulation_updates_every_k_steps():
    optimizer = make_optimizer(Config(lr=0.1, warmup_steps=0, grad_accum_steps=2))
    once, state = one_step(optimizer)
    jax.tree.map(np.testing.assert_array_equal, once, PARAMS)
    twice, _ = one_step(optimizer, once, state)
    assert loss_fn(twice) < loss_fn(PARAMS)


def test_schedules():
    warm = learning_rate(Config(lr=1.0, warmup_steps=10, steps=100, schedule='constant'))
    np.testing.assert_allclose([warm(0), warm(5), warm(10), warm(99)], [0, 0.5, 1, 1], atol=1e-6)
    cosine = learning_rate(Config(lr=1.0, warmup_steps=10, steps=100, schedule='cosine', final_lr_fraction=0.1))
    np.testing.assert_allclose([cosine(10), cosine(55), cosine(100)], [1, 0.55, 0.1], atol=1e-6)
    with pytest.raises(ValueError, match='unknown optimizer'):
        make_optimizer(Config(optimizer='sgdx'))


def test_gradient_penalty_is_lr_over_four_times_squared_gradient_norm():
    # L = |theta - 1/2|^2 has gradient 2 (theta - 1/2), so the penalty is h/4 * 4 |theta - 1/2|^2.
    wrapped = gradient_penalty(lambda p: (loss_fn(p), {}), step_size=0.2)
    value, metrics = wrapped(PARAMS)
    np.testing.assert_allclose(metrics['igr_penalty'], 0.2 * loss_fn(PARAMS), rtol=1e-6)
    np.testing.assert_allclose(value, 1.2 * loss_fn(PARAMS), rtol=1e-6)
    grads = jax.grad(lambda p: wrapped(p)[0])(PARAMS)  # double backprop works
    jax.tree.map(lambda g, p: np.testing.assert_allclose(g, 1.2 * 2 * (p - 0.5), rtol=1e-6), grads, PARAMS)


def test_ema_update():
    ema = ema_update({'w': jnp.zeros(2)}, {'w': jnp.ones(2)}, decay=0.9)
    np.testing.assert_allclose(ema['w'], 0.1)


def test_ema_warms_up():
    # At step 0 the decay is min(0.999, 1/10): the average moves most of the way to the parameters.
    ema = ema_update({'w': jnp.zeros(2)}, {'w': jnp.ones(2)}, decay=0.999, step=0)
    np.testing.assert_allclose(ema['w'], 0.9, rtol=1e-6)
