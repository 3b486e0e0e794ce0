"""Base distributions: log-densities against scipy, temperature sampling, prior lookup."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from zoo import distributions as D

X = np.linspace(-4, 4, 17)


def test_log_densities_match_scipy():
    np.testing.assert_allclose(D.gaussian_log_prob(X, 0.5, np.log(2.0)), stats.norm(0.5, 2.0).logpdf(X), rtol=1e-5)
    np.testing.assert_allclose(D.logistic_log_prob(X, -0.3, np.log(0.7)), stats.logistic(-0.3, 0.7).logpdf(X),
                               rtol=1e-5)


@pytest.mark.parametrize('name, dist', [('gaussian', stats.norm), ('logistic', stats.logistic)])
def test_samples_scale_with_temperature(name, dist):
    log_prob, sample = D.get_prior(name)
    x = sample(jax.random.key(0), (200_000,), 0.5)
    np.testing.assert_allclose(float(jnp.std(x)), 0.5 * dist().std(), rtol=0.01)
    np.testing.assert_array_equal(sample(jax.random.key(0), (3,), 0.0), 0.0)
    np.testing.assert_allclose(log_prob(jnp.zeros(1)), dist().logpdf(0.0), rtol=1e-6)


def test_sum_except_batch_and_unknown_prior():
    np.testing.assert_allclose(D.sum_except_batch(jnp.ones((2, 3, 4))), [12.0, 12.0])
    with pytest.raises(ValueError, match="unknown prior 'cauchy'"):
        D.get_prior('cauchy')
