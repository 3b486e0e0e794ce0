"""TrainState: named networks, one optimizer state each, EMA where asked, lr scale."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from zoo.train import Optimizer, TrainState, ema_update

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
    new = state.apply_gradients('g', {'w': jnp.ones(3)}, OPTIMIZERS['g'])
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
