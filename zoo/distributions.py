"""Distributions shared by the families: log-densities, KL divergences and sampling.

Flows use the standard priors (Gaussian, logistic) and temperature sampling; VAEs use
the reparameterised diagonal Gaussian, its KL divergences, and the pixel likelihoods
(Bernoulli from logits, Gaussian with a fixed or learned scale, discretised logistic).

All log-densities and KLs are elementwise; sum them with ``sum_except_batch``.
A Gaussian is given by its mean and ``log_scale`` = log sigma throughout.
"""

import math

import jax
import jax.numpy as jnp

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def sum_except_batch(x: jax.Array) -> jax.Array:
    """Sum over every axis but the first: per-example totals of elementwise terms."""
    return jnp.sum(x.reshape(x.shape[0], -1), axis=-1)


def gaussian_log_prob(x, mean=0.0, log_scale=0.0):
    """log N(x; mean, exp(log_scale)^2) = -(x-mean)^2 / (2 sigma^2) - log sigma - log(2 pi)/2."""
    z = (x - mean) * jnp.exp(-log_scale)
    return -0.5 * z**2 - log_scale - _HALF_LOG_2PI


def logistic_log_prob(x, loc=0.0, log_scale=0.0):
    """log Logistic(x; loc, s) = -z - 2 softplus(-z) - log s with z = (x - loc)/s.

    NICE (Dinh et al. 2014, sec. 3.4) offers this prior: heavier tails than the Gaussian
    give better-behaved gradients.
    """
    z = (x - loc) * jnp.exp(-log_scale)
    return -z - 2.0 * jax.nn.softplus(-z) - log_scale


def sample_gaussian(key, shape, temperature=1.0, dtype=jnp.float32):
    """z ~ N(0, T^2 I): Glow's reduced-temperature sampling (Kingma & Dhariwal 2018, sec. 5)."""
    return temperature * jax.random.normal(key, shape, dtype)


def sample_logistic(key, shape, temperature=1.0, dtype=jnp.float32):
    """z = T * log(u / (1 - u)), u ~ U(0, 1): a standard logistic scaled by the temperature."""
    return temperature * jax.random.logistic(key, shape, dtype)


def sample_diagonal_gaussian(key, mean, log_scale):
    """z = mean + sigma * eps, eps ~ N(0, I): the reparameterisation trick.

    Gradients reach ``mean`` and ``log_scale`` through z (Kingma & Welling 2014, sec. 2.4).
    """
    return mean + jnp.exp(log_scale) * jax.random.normal(key, jnp.shape(mean), jnp.result_type(mean))


def kl_standard_normal(mean, log_scale):
    """KL(N(mu, sigma^2) || N(0, 1)) = (mu^2 + sigma^2 - log sigma^2 - 1) / 2, elementwise.

    The VAE's analytic prior term (Kingma & Welling 2014, appendix B).
    """
    return 0.5 * (jnp.square(mean) + jnp.exp(2.0 * log_scale) - 2.0 * log_scale - 1.0)


def kl_diagonal_gaussians(mean_q, log_scale_q, mean_p, log_scale_p):
    """KL(N(mu_q, s_q^2) || N(mu_p, s_p^2)) elementwise:

    log(s_p / s_q) + (s_q^2 + (mu_q - mu_p)^2) / (2 s_p^2) - 1/2 .
    """
    variance_ratio = jnp.exp(2.0 * (log_scale_q - log_scale_p))
    mahalanobis = jnp.square((mean_q - mean_p) * jnp.exp(-log_scale_p))
    return log_scale_p - log_scale_q + 0.5 * (variance_ratio + mahalanobis - 1.0)


def bernoulli_log_prob(x, logits):
    """log Bernoulli(x; sigmoid(l)) = x l - softplus(l), elementwise, for x in [0, 1].

    Written with softplus so large |logits| neither overflow nor lose precision; x may
    be fractional (the cross-entropy of grey levels), though only binary x make it a
    normalised likelihood.
    """
    return x * logits - jax.nn.softplus(logits)


def gaussian_fixed_scale_log_prob(x, mean, scale: float):
    """log N(x; mean, scale^2) with a constant ``scale`` (e.g. 1: the squared error / 2 + const)."""
    return gaussian_log_prob(x, mean, jnp.log(jnp.asarray(scale, jnp.result_type(mean))))


def discretized_logistic_log_prob(pixels, loc, log_scale, num_levels: int = 256):
    """log P(p) of integer pixels p under a logistic discretised into ``num_levels`` bins.

    Pixels map to x = 2p/(L-1) - 1 in [-1, 1]; bin p covers [x - 1/(L-1), x + 1/(L-1)],
    the outermost bins extend to -inf and +inf, so the probabilities sum to one
    (PixelCNN++, Salimans et al. 2017, sec. 2.1):

        P(p) = sigmoid((x + h - mu)/s) - sigmoid((x - h - mu)/s),   h = 1/(L-1).

    ``loc`` lives on the [-1, 1] scale.  The difference is taken in log space
    (log sigmoid(a) + log(1 - exp(b - a)) with the sigmoid's symmetry), and edge bins use
    one log-sigmoid each, so tails stay finite.
    """
    if not jnp.issubdtype(jnp.asarray(pixels).dtype, jnp.integer):
        raise TypeError(f'pixels must be integers in [0, num_levels), got dtype {jnp.asarray(pixels).dtype}')
    dtype = jnp.result_type(loc, log_scale, float)
    half_bin = 1.0 / (num_levels - 1)
    x = 2.0 * pixels.astype(dtype) * half_bin - 1.0
    inv_scale = jnp.exp(-log_scale)
    upper = (x + half_bin - loc) * inv_scale
    lower = (x - half_bin - loc) * inv_scale
    # log(sigmoid(u) - sigmoid(l)) = log sigmoid(u) + log sigmoid(-l) + log(1 - exp(l - u)).
    middle = (
        jax.nn.log_sigmoid(upper) + jax.nn.log_sigmoid(-lower) + jnp.log(-jnp.expm1(jnp.minimum(lower - upper, -1e-12)))
    )
    first = jax.nn.log_sigmoid(upper)  # P(p = 0) = sigmoid(u)
    last = jax.nn.log_sigmoid(-lower)  # P(p = L-1) = 1 - sigmoid(l)
    return jnp.where(pixels == 0, first, jnp.where(pixels == num_levels - 1, last, middle))


PRIORS = {
    'gaussian': (gaussian_log_prob, sample_gaussian),
    'logistic': (logistic_log_prob, sample_logistic),
}


def get_prior(name: str):
    """(log_prob, sample) of a standard prior by name: 'gaussian' or 'logistic'."""
    if name not in PRIORS:
        raise ValueError(f'unknown prior {name!r}; choose one of {sorted(PRIORS)}')
    return PRIORS[name]
