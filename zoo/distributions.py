"""Base distributions for flows: log-densities and temperature sampling.

All log-densities are elementwise; sum them with ``sum_except_batch``.
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


PRIORS = {
    "gaussian": (gaussian_log_prob, sample_gaussian),
    "logistic": (logistic_log_prob, sample_logistic),
}


def get_prior(name: str):
    """(log_prob, sample) of a standard prior by name: 'gaussian' or 'logistic'."""
    if name not in PRIORS:
        raise ValueError(f"unknown prior {name!r}; choose one of {sorted(PRIORS)}")
    return PRIORS[name]
