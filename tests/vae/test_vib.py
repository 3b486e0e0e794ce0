"""The VIB loss terms against direct formulas, and the classifier's encoder shapes."""

import jax
import jax.numpy as jnp
import numpy as np

from zoo.vae.vib import VIBClassifier, vib_loss_terms


def test_loss_is_cross_entropy_plus_weighted_kl():
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        logits, labels = rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])
        mean, log_scale = rng.normal(size=(4, 5)), 0.2 * rng.normal(size=(4, 5))
        terms = vib_loss_terms(logits, labels, mean, log_scale, beta=0.1)
        log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        np.testing.assert_allclose(terms['cross_entropy'], -log_softmax[np.arange(4), labels], rtol=1e-12)
        kl = 0.5 * np.sum(mean**2 + np.exp(2 * log_scale) - 2 * log_scale - 1, axis=1)
        np.testing.assert_allclose(terms['kl'], kl, rtol=1e-12)
        np.testing.assert_allclose(terms['loss'], terms['cross_entropy'] + 0.1 * kl, rtol=1e-12)


def test_encoder_starts_nearly_deterministic():
    model = VIBClassifier(num_classes=10, hidden=(16,), latents=3)
    x = jnp.ones((2, 8, 8, 1))
    params = model.init(jax.random.PRNGKey(0), x)['params']
    mean, log_scale = model.apply({'params': params}, x, method=VIBClassifier.encode)
    assert mean.shape == log_scale.shape == (2, 3)
    assert np.all(np.exp(log_scale) < 0.05)  # softplus(h - 5) with h near 0
