"""TrainState: named networks, one optimizer state each, EMA where asked, lr scale."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from zoo.train import Config, ConfigError, Optimizer, TrainState, build_optimizers, ema_update

PARAMS = {'g': {'w': jnp.ones(3)}, 'd': {'w': jnp.zeros(2)}}
OPTIMIZERS = {'g': Optimizer(optax.sgd(0.1), ema_decay=0.5), 'd': Optimizer(optax.sgd(1.0))}


def test_create_keeps_an_ema_only_where_asked_and_checks_optimizers():
    state = TrainState.create(jnp.zeros(2, jnp.uint32), PARAMS, OPTIMIZERS, aux={'buffer': jnp.ones(4)})
    assert set(state.opt_state) == {'g', 'd'} and set(state.ema) == {'g'}
    assert int(state.step) == 0 and float(state.lr_scale) == 1.0
    with pytest.raises(ValueError, match=r"networks \['d'\] have parameters but no optimizer"):
        TrainState.create(jnp.zeros(2, jnp.uint32), PARAMS, {'g': OPTIMIZERS['g']})


def test_apply_gradients_updates_one_network_scaled_by_lr_scale():
    state = TrainState.create(jnp.zeros(2, jnp.uint32), PARAMS, OPTIMIZERS).replace(lr_scale=jnp.float32(0.5))
    new = state.apply_gradients('g', {'w': jnp.ones(3)})
    np.testing.assert_allclose(new.params['g']['w'], 1 - 0.5 * 0.1)
    np.testing.assert_array_equal(new.params['d']['w'], PARAMS['d']['w'])
    # EMA at step 0 uses decay min(0.5, 1/10) = 0.1: it moves 90% of the way.
    np.testing.assert_allclose(new.ema['g']['w'], 0.1 * 1 + 0.9 * 0.95, rtol=1e-6)
    np.testing.assert_allclose(new.averaged('g')['w'], new.ema['g']['w'])
    np.testing.assert_allclose(new.averaged('g', use_ema=False)['w'], new.params['g']['w'])
    np.testing.assert_allclose(new.averaged('d')['w'], new.params['d']['w'])


def test_ema_update_with_and_without_warm_up():
    np.testing.assert_allclose(ema_update({'w': jnp.zeros(2)}, {'w': jnp.ones(2)}, decay=0.9)['w'], 0.1)
    warm = ema_update({'w': jnp.zeros(2)}, {'w': jnp.ones(2)}, decay=0.999, step=0)
    np.testing.assert_allclose(warm['w'], 0.9, rtol=1e-6)


def quadratic(params, target):
    """L = |w - target|^2, gradient 2 (w - target)."""
    loss = jnp.sum(jnp.square(params['w'] - target))
    return loss, {'half': loss / 2}


def test_minimize_is_the_hand_written_step():
    state = TrainState.create(jnp.zeros(2, jnp.uint32), PARAMS, OPTIMIZERS)
    new, metrics = jax.jit(lambda s: s.minimize('g', quadratic, 0.25))(state)
    (loss, aux), grads = jax.value_and_grad(quadratic, has_aux=True)(state.params['g'], 0.25)
    by_hand = state.apply_gradients('g', grads)
    jax.tree.map(np.testing.assert_array_equal, new, by_hand)
    assert set(metrics) == {'half', 'loss', 'grad_norm'}
    np.testing.assert_array_equal(metrics['loss'], loss)
    np.testing.assert_array_equal(metrics['half'], aux['half'])
    np.testing.assert_allclose(metrics['grad_norm'], 2 * 0.75 * np.sqrt(3), rtol=1e-6)


def test_minimize_updates_the_networks_collections_when_mutable():
    state = TrainState.create(jnp.zeros(2, jnp.uint32), PARAMS, OPTIMIZERS, aux={'g': {'count': jnp.zeros(())}})

    def loss_fn(params):
        loss, metrics = quadratic(params, 0.0)
        return loss, (metrics, {'count': state.aux['g']['count'] + 1})

    new, _ = state.minimize('g', loss_fn, mutable=True)
    assert float(new.aux['g']['count']) == 1.0


def test_implicit_grad_reg_is_applied_by_minimize_for_any_network_and_rejected_by_apply_gradients():
    # L = |w - 1/4|^2 has gradient 2 (w - 1/4), so the penalty is h/4 * 4 L = h L and the
    # minimised loss (1 + h) L; its gradient is (1 + h) 2 (w - 1/4).
    h = 0.2
    regularised = {'g': Optimizer(optax.sgd(0.1), implicit_grad_reg=h), 'd': OPTIMIZERS['d']}
    state = TrainState.create(jnp.zeros(2, jnp.uint32), PARAMS, regularised)
    new, metrics = state.minimize('g', quadratic, 0.25)
    loss = float(quadratic(PARAMS['g'], 0.25)[0])
    np.testing.assert_allclose(metrics['igr_penalty'], h * loss, rtol=1e-6)
    np.testing.assert_allclose(metrics['loss'], (1 + h) * loss, rtol=1e-6)
    np.testing.assert_allclose(new.params['g']['w'], 1 - 0.1 * (1 + h) * 2 * 0.75, rtol=1e-6)
    with pytest.raises(ConfigError, match="implicit_grad_reg is set for network 'g'"):
        state.apply_gradients('g', {'w': jnp.ones(3)})


def test_implicit_grad_reg_reaches_every_network_from_the_config():
    config = Config(optimizers={'critic': {'implicit_grad_reg': 0.1}})
    built = build_optimizers(config, ('generator', 'critic'))
    assert built['critic'].implicit_grad_reg == 0.1 and built['generator'].implicit_grad_reg == 0.0
