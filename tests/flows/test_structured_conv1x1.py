"""1x1 convolutions from the linear-algebra primitives: round trips, log-dets against Jacobians, Glow."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from tests.flows.checks import check_layer
from zoo.flows.glow import PERMUTATIONS, Glow
from zoo.flows.structured_conv1x1 import ExpConv1x1, HouseholderConv1x1, RankOneExpConv1x1

IMAGE = jax.random.normal(jax.random.key(0), (2, 2, 2, 4))
VECTORS = jax.random.normal(jax.random.key(1), (3, 5))


@pytest.mark.parametrize(
    'layer', [ExpConv1x1(), HouseholderConv1x1(3), RankOneExpConv1x1(3)], ids=['exp', 'householder', 'rank_one_exp']
)
@pytest.mark.parametrize('x', [IMAGE, VECTORS], ids=['image', 'dense'])
def test_round_trip_and_exact_log_det(layer, x):
    check_layer(layer, x, jax.random.key(2), scale=0.3)


def test_exp_conv_weight_is_the_matrix_exponential():
    layer = ExpConv1x1()
    v = layer.init(jax.random.key(3), IMAGE)
    a = np.asarray(v['params']['log_kernel'])
    np.testing.assert_allclose(a, -a.T, atol=1e-6)  # starts skew-symmetric: a rotation
    y, log_det = layer.apply(v, IMAGE)
    np.testing.assert_allclose(y, IMAGE @ scipy.linalg.expm(a), atol=1e-5)
    np.testing.assert_allclose(log_det, 0.0, atol=1e-5)


def test_householder_conv_is_orthogonal():
    layer = HouseholderConv1x1(4)
    v = layer.init(jax.random.key(4), IMAGE)
    y, _ = layer.apply(v, IMAGE)
    np.testing.assert_allclose(jnp.linalg.norm(y, axis=-1), jnp.linalg.norm(IMAGE, axis=-1), rtol=1e-5)
    with pytest.raises(ValueError, match='num_reflections'):
        HouseholderConv1x1(0).init(jax.random.key(4), IMAGE)


@pytest.mark.parametrize('permutation', ['exp', 'householder', 'rank_one_exp'])
def test_glow_takes_the_new_convs(permutation):
    assert permutation in PERMUTATIONS
    glow = Glow(image_shape=(4, 4, 1), num_levels=17, scales=1, flow_steps=1, hidden=4, permutation=permutation)
    x = jax.random.uniform(jax.random.key(5), (2, 4, 4, 1)) - 0.5
    v = glow.init(jax.random.key(6), x)
    latents, _ = glow.apply(v, x)
    np.testing.assert_allclose(glow.apply(v, latents, method=glow.decode), x, atol=1e-5)
