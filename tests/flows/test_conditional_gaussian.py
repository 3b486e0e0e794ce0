"""The conditional-Gaussian benchmark is exact, and a conditional DenseFlow matches it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import multivariate_normal

from zoo.flows import conditional_gaussian


def test_log_prob_is_the_gaussian_density_given_c():
    x, c = conditional_gaussian.sample(jax.random.key(0), 5)
    for xi, ci in zip(np.asarray(x), np.asarray(c)[:, 0]):
        mean = [1.5 * ci, np.sin(np.pi * ci)]
        chol = np.array([[np.exp(0.5 * ci), 0.0], [0.8 * ci, 0.3 + 0.2 * (1 + ci)]])
        exact = multivariate_normal(mean, chol @ chol.T).logpdf(xi)
        got = conditional_gaussian.log_prob(jnp.asarray(xi)[None], jnp.asarray([[ci]]))[0]
        np.testing.assert_allclose(got, exact, rtol=1e-5, atol=1e-5)


def test_samples_have_the_density_s_entropy():
    # E[-log p(x|c)] is the entropy log(2 pi e) + log|det L(c)| at every c, so samples from
    # the wrong mean or covariance would raise the mean gap.
    x, cs = conditional_gaussian.sample(jax.random.key(1), 20000)
    entropy = jnp.log(2 * jnp.pi * jnp.e) + 0.5 * cs[:, 0] + jnp.log(0.3 + 0.2 * (1 + cs[:, 0]))
    nll = -conditional_gaussian.log_prob(x, cs)
    assert abs(float(jnp.mean(nll - entropy))) < 0.03  # 4 standard errors of the mean


@pytest.mark.slow
def test_conditional_dense_flow_matches_the_exact_density_within_0_05_nats():
    """Issue 25's target: mean |log p_model(x|c) - log p(x|c)| <= 0.05 nats on held-out pairs."""
    from experiments.conditional_density import fit

    result = fit(seed=0, steps=1200)  # 0.031 nats at seed 0 (0.023 at 2000 steps)
    assert result['mean_abs_gap'] < 0.05, result
    assert result['kl_estimate'] > -0.02  # E[log p - log q] is a KL: not clearly negative
