"""Evaluation metrics."""

import math

import jax.numpy as jnp


def bits_per_dim(log_prob: jnp.ndarray, num_dims: int, num_levels: int = 256) -> jnp.ndarray:
    """bpd = (-log p(x) + D log L) / (D log 2).

    ``log_prob`` is the continuous log-density (nats) of dequantised data
    x = (p + u)/L - 1/2; the D log L term turns it into a bound on the discrete
    log-likelihood of the L-level pixels (SPEC 1; Theis et al. 2016).
    """
    return (-log_prob + num_dims * math.log(num_levels)) / (num_dims * math.log(2.0))
