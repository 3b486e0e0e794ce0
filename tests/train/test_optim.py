"""Optimizers from their config: schedules, clipping, weight decay, groups, accumulation, IGR."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from zoo.train import Config, OptimizerConfig, build_optimizers, learning_rate, make_optimizer
from zoo.train.optim import param_labels

PARAMS = {'coupling': {'kernel': jnp.ones((3, 2))}, 'actnorm': {'bias': jnp.zeros((2,))}}


def loss_fn(params):
    return sum(jnp.sum(jnp.square(x - 0.5)) for x in jax.tree.leaves(params))


def one_step(optimizer, params=PARAMS, state=None, loss=loss_fn):
    state = optimizer.init(params) if state is None else state
    updates, state = optimizer.update(jax.grad(loss)(params), state, params)
    return optax.apply_updates(params, updates), state


def optim(**changes):
    return make_optimizer(OptimizerConfig(**{'lr': 0.1, 'warmup_steps': 0, **changes}), total_steps=10)


@pytest.mark.parametrize(
    'changes',
    [
        dict(name='adam'),
        dict(name='adamax', schedule='cosine', final_lr_fraction=0.1),
        dict(clip_grad_norm=0.5),
        dict(weight_decay=0.1),
        dict(lr_groups={'coupling': 0.1}),
    ],
)
def test_optimizer_options_construct_and_lower_the_loss(changes):
    new, _ = jax.jit(one_step, static_argnums=0)(optim(**changes))
    assert loss_fn(new) < loss_fn(PARAMS)


def test_clipping_acts_on_the_gradient_adam_sees():
    # Adam's first moment after one step is (1 - b1) g; with clipping, g has norm clip_grad_norm.
    grad_norm = float(optax.tree.norm(jax.grad(loss_fn)(PARAMS)))
    assert grad_norm > 0.5
    _, state = one_step(optim(clip_grad_norm=0.5))
    mu = optax.tree.get(state, 'mu')
    np.testing.assert_allclose(float(optax.tree.norm(mu)), 0.1 * 0.5, rtol=1e-5)
    _, unclipped = one_step(optim())
    np.testing.assert_allclose(float(optax.tree.norm(optax.tree.get(unclipped, 'mu'))), 0.1 * grad_norm, rtol=1e-5)


def test_weight_decay_shrinks_parameters_without_gradient():
    # Decoupled decay: theta <- theta - lr * wd * theta even where the loss is flat.
    new, _ = one_step(optim(weight_decay=0.5), loss=lambda p: 0.0 * loss_fn(p))
    np.testing.assert_allclose(new['coupling']['kernel'], 1 - 0.1 * 0.5, rtol=1e-6)
    unchanged, _ = one_step(optim(), loss=lambda p: 0.0 * loss_fn(p))
    np.testing.assert_allclose(unchanged['coupling']['kernel'], 1.0)


def test_lr_groups_scale_each_group():
    # Adam's first step moves every coordinate by lr * sign(grad); a group at 0.1 moves a tenth as far.
    new, _ = one_step(optim(lr_groups={'coupling': 0.1}))
    np.testing.assert_allclose(new['actnorm']['bias'], 0.1, rtol=1e-4)
    np.testing.assert_allclose(new['coupling']['kernel'], 1 - 0.01, rtol=1e-4)
    assert param_labels(PARAMS, {'coupling': 0.1}) == {
        'coupling': {'kernel': 'coupling'},
        'actnorm': {'bias': 'default'},
    }


def test_gradient_accumulation_updates_every_k_steps():
    optimizer = optim(grad_accum_steps=2)
    once, state = one_step(optimizer)
    jax.tree.map(np.testing.assert_array_equal, once, PARAMS)
    twice, _ = one_step(optimizer, once, state)
    assert loss_fn(twice) < loss_fn(PARAMS)


def test_adam_epsilon_is_passed_through():
    # With eps much larger than |g|, Adam's step is about lr * g / eps instead of lr * sign(g).
    new, _ = one_step(optim(eps=100.0))
    step = np.asarray(PARAMS['coupling']['kernel'] - new['coupling']['kernel'])
    np.testing.assert_allclose(step, 0.1 * 1.0 / (1.0 + 100.0), rtol=1e-3)


def test_schedules():
    warm = learning_rate(OptimizerConfig(lr=1.0, warmup_steps=10, schedule='constant'), 100)
    np.testing.assert_allclose([warm(0), warm(5), warm(10), warm(99)], [0, 0.5, 1, 1], atol=1e-6)
    cosine = learning_rate(OptimizerConfig(lr=1.0, warmup_steps=10, schedule='cosine', final_lr_fraction=0.1), 100)
    np.testing.assert_allclose([cosine(10), cosine(55), cosine(100)], [1, 0.55, 0.1], atol=1e-6)


def test_build_optimizers_per_network():
    config = Config(
        optimizer=OptimizerConfig(lr=0.1, warmup_steps=0),
        optimizers={'critic': {'lr': 0.4, 'ema_decay': 0.0}, 'generator': {'ema_decay': 0.99}},
    )
    built = build_optimizers(config, ('generator', 'critic'))
    assert built['generator'].ema_decay == 0.99 and built['critic'].ema_decay == 0.0
    g, _ = one_step(built['generator'].tx)
    c, _ = one_step(built['critic'].tx)
    np.testing.assert_allclose(
        np.asarray(PARAMS['actnorm']['bias'] - c['actnorm']['bias']),
        4 * np.asarray(PARAMS['actnorm']['bias'] - g['actnorm']['bias']),
        rtol=1e-5,
    )
    with pytest.raises(ValueError, match=r"config.optimizers names \['critic'\], but this task trains \['flow'\]"):
        build_optimizers(config.__class__(optimizers={'critic': {}}), ('flow',))
