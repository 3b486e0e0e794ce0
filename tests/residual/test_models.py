"""Residual-flow models: round trips and exact log-densities against dense Jacobians (float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.flows.checks import perturb, to64
from zoo.residual.models import ResidualFlow2D, ResidualImageFlow


@pytest.fixture(scope='module')
def image_model():
    model = ResidualImageFlow(
        image_shape=(4, 4, 1),
        num_levels=17,
        scales=2,
        blocks=1,
        hidden=(4,),
        kernel_sizes=(3, 3),
        logdet='exact',
        activation='lipswish',
    )
    with jax.enable_x64(True):
        x = jax.random.uniform(jax.random.key(0), (2, 4, 4, 1), jnp.float64) - 0.5
        variables = to64(perturb(jax.jit(model.init)(jax.random.key(1), x), jax.random.key(2), 0.1))
        yield model, variables, x


def test_image_model_log_det_equals_slogdet_of_the_whole_map(image_model):
    model, variables, x = image_model
    with jax.enable_x64(True):

        def flat_latents(xi):
            latents, _ = model.apply(variables, xi.reshape(1, 4, 4, 1))
            return jnp.concatenate([z.ravel() for z in latents])

        _, log_det = jax.jit(model.apply)(variables, x)
        jac = jax.jit(jax.vmap(jax.jacfwd(flat_latents)))(x.reshape(2, -1))
        np.testing.assert_allclose(log_det, [np.linalg.slogdet(j)[1] for j in np.asarray(jac)], rtol=1e-9)


def test_image_model_round_trip_and_shapes(image_model):
    model, variables, x = image_model
    with jax.enable_x64(True):
        latents, _ = jax.jit(model.apply)(variables, x)
        assert [z.shape[1:] for z in latents] == [tuple(s) for s in model.latent_shapes]
        x_back = jax.jit(lambda v, zs: model.apply(v, zs, method=model.decode))(variables, latents)
        np.testing.assert_allclose(x_back, x, atol=1e-5)


def test_flat_model_log_prob_and_sampling():
    model = ResidualFlow2D(blocks=2, hidden=(8, 8))
    with jax.enable_x64(True):
        x = jax.random.normal(jax.random.key(3), (5, 2), jnp.float64)
        variables = to64(perturb(jax.jit(model.init)(jax.random.key(4), x), jax.random.key(5), 0.3))
        log_prob = jax.jit(lambda v, x: model.apply(v, x, method=model.log_prob))(variables, x)
        forward = lambda xi: model.apply(variables, xi[None])[0][0]
        jac = jax.jit(jax.vmap(jax.jacfwd(forward)))(x)
        z = jax.jit(jax.vmap(forward))(x)
        expected = -0.5 * np.sum(np.asarray(z) ** 2, 1) - np.log(2 * np.pi) + [np.linalg.slogdet(j)[1] for j in jac]
        np.testing.assert_allclose(log_prob, expected, rtol=1e-9)
        # the inverse scans the blocks backwards: a wrong order would not return x
        (_, log_det), (x_back, inverse_log_det) = jax.jit(
            lambda v, x: (model.apply(v, x), model.apply(v, model.apply(v, x)[0], inverse=True))
        )(variables, x)
        np.testing.assert_allclose(x_back, x, atol=1e-5)  # the fixed point stops at 1e-6 a block
        np.testing.assert_allclose(inverse_log_det, -log_det, atol=1e-5)
        assert jax.tree.leaves(variables['params'])[0].shape[0] == 2  # one stacked slice per block
        samples = jax.jit(lambda v, k: model.apply(v, k, 7, method=model.sample))(variables, jax.random.key(6))
        assert samples.shape == (7, 2) and np.all(np.isfinite(samples))
    with pytest.raises(ValueError, match='flat'):
        model.apply(variables, jnp.ones((2, 2, 1)))


def test_bad_image_model_settings():
    with pytest.raises(ValueError, match='divisible'):
        ResidualImageFlow(image_shape=(6, 6, 1), scales=2)
    with pytest.raises(ValueError, match='blocks'):
        ResidualImageFlow(image_shape=(8, 8, 1), scales=1, blocks=0)
