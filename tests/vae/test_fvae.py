"""f-VAE: the loss against direct Gaussian log-densities, shapes, and the flow's log-det against
a brute-force Jacobian in float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from tests.flows.checks import perturb
from zoo.vae.fvae import FVAE, fvae_negative_elbo


@pytest.fixture(scope='module')
def model_and_variables():
    with jax.enable_x64(True):
        model = FVAE(image_shape=(8, 8, 1), scales=1, blocks=1, hidden=8, flow_scales=1, flow_steps=2, flow_hidden=8)
        x = jnp.asarray(np.random.default_rng(0).uniform(-0.5, 0.5, (2, 8, 8, 1)))
        initial = jax.jit(model.init)(jax.random.PRNGKey(1), x)
        # Zero-initialised layers make the model start near the identity; perturb every
        # parameter so the checks see a generic network.
        return model, perturb(initial, jax.random.PRNGKey(2), scale=0.1), x, initial


def apply(model, method):
    """model.apply(variables, x, method=method), compiled: eager dispatch compiles every op."""
    return jax.jit(lambda variables, x: model.apply(variables, x, method=method))


def test_negative_elbo_matches_the_gaussian_densities():
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        x, reconstruction = rng.normal(size=(3, 4, 4, 1)), rng.normal(size=(3, 4, 4, 1))
        flow_log_prob, log_sigma1, log_sigma2 = rng.normal(size=3), np.log(0.3), np.log(0.2)
        terms = fvae_negative_elbo(x, reconstruction, flow_log_prob, log_sigma1, log_sigma2)
        log_likelihood = stats.norm(reconstruction, 0.2).logpdf(x).reshape(3, -1).sum(1)
        entropy = 16 * stats.norm(0, 0.3).entropy()
        np.testing.assert_allclose(terms['neg_elbo'], -log_likelihood - flow_log_prob - entropy, rtol=1e-10)
        np.testing.assert_allclose(terms['reconstruction_nll'], -log_likelihood, rtol=1e-10)


def test_shapes_and_identity_at_init(model_and_variables):
    model, _, x, variables = model_and_variables
    with jax.enable_x64(True):
        h = apply(model, FVAE.encode)(variables, x)
        assert h.shape == (2, 4, 4, 4)  # the latent keeps x's 64 dimensions
        # Zero-initialised residual branches: E is a squeeze and G an unsqueeze, so G(E(x)) = x.
        np.testing.assert_allclose(apply(model, FVAE.decode)(variables, h), x, atol=1e-12)
    with pytest.raises(ValueError, match='divisible by 8'):
        FVAE(image_shape=(12, 12, 1), scales=1, flow_scales=2).init(jax.random.PRNGKey(0), jnp.zeros((1, 12, 12, 1)))


def test_flow_round_trip_and_log_det_equals_brute_force_jacobian(model_and_variables):
    with jax.enable_x64(True):
        model, variables, x, _ = model_and_variables
        h = apply(model, FVAE.encode)(variables, x)
        latents = apply(model, FVAE.to_prior)(variables, h)
        np.testing.assert_allclose(apply(model, FVAE.from_prior)(variables, latents), h, atol=1e-10)

        def flat_forward(flat_h):
            zs = model.apply(variables, flat_h.reshape(1, *h.shape[1:]), method=FVAE.to_prior)
            return jnp.concatenate([z.ravel() for z in zs])

        log_prob = apply(model, FVAE.flow_log_prob)(variables, h[:1])
        z = jax.jit(flat_forward)(h[0].ravel())
        _, log_det = jnp.linalg.slogdet(jax.jit(jax.jacfwd(flat_forward))(h[0].ravel()))
        expected = -0.5 * jnp.sum(z**2) - 0.5 * z.size * np.log(2 * np.pi) + log_det
        np.testing.assert_allclose(log_prob[0], expected, rtol=1e-9)
