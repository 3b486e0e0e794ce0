"""The KL split E KL(p(z|x)||q(z)) = I(x; z) + KL(p(z)||q(z)) against closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.vae.information import kl_split


def test_identical_posteriors_carry_no_information():
    mean = jnp.tile(jnp.array([[0.5, -1.0]]), (64, 1))
    terms = kl_split(jax.random.PRNGKey(0), mean, jnp.full_like(mean, -0.2))
    assert float(terms['mutual_information']) == pytest.approx(0.0, abs=1e-6)
    assert float(terms['marginal_kl']) == pytest.approx(float(terms['average_kl']), abs=1e-6)


def test_linear_gaussian_encoder_matches_closed_form():
    # x ~ N(0, 1), p(z|x) = N(a x, s^2): the aggregate posterior is N(0, a^2 + s^2), so
    # I = log(1 + a^2 / s^2) / 2 and KL(p(z) || N(0, 1)) = (v - log v - 1) / 2 with v = a^2 + s^2.
    with jax.enable_x64(True):
        a, s, n = 1.2, 0.6, 4000
        x = jax.random.normal(jax.random.PRNGKey(1), (n, 1))
        terms = jax.jit(kl_split)(jax.random.PRNGKey(2), a * x, jnp.full_like(x, np.log(s)))
        v = a**2 + s**2
        assert float(terms['mutual_information']) == pytest.approx(0.5 * np.log(1 + a**2 / s**2), abs=0.05)
        assert float(terms['marginal_kl']) == pytest.approx(0.5 * (v - np.log(v) - 1), abs=0.05)


def test_rejects_unflattened_codes():
    with pytest.raises(ValueError, match=r'shape \(N, d\)'):
        kl_split(jax.random.PRNGKey(0), jnp.zeros((4, 2, 2)), jnp.zeros((4, 2, 2)))
