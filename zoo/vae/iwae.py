"""The importance-weighted bound (IWAE, Burda et al. 2016), chunked over samples.

    L_k(x) = E[ log (1/k) sum_{i=1..k} p(x, z_i) / q(z_i|x) ],   z_i ~ q(z|x) i.i.d.

L_1 is the ELBO, L_k <= L_{k+1} <= log p(x), and L_k -> log p(x) as k -> infinity
(Burda et al. 2016, Theorem 1), so -L_5000 is the usual test NLL estimate of a VAE.
The k samples are drawn ``chunk_size`` at a time inside ``lax.scan``, which keeps a
running log-sum-exp: memory holds one chunk of decoder activations, not k, so
k = 5000 fits on a laptop.
"""

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

from zoo.distributions import gaussian_log_prob, sample_diagonal_gaussian, sum_except_batch


def log_importance_weights(key, mean, log_scale, log_likelihood_fn, num_samples: int) -> jax.Array:
    """log w_i = log p(x|z_i) + log N(z_i; 0, I) - log q(z_i|x), shape (num_samples, N)."""

    def one(sample_key):
        z = sample_diagonal_gaussian(sample_key, mean, log_scale)
        log_prior = sum_except_batch(gaussian_log_prob(z))
        log_posterior = sum_except_batch(gaussian_log_prob(z, mean, log_scale))
        return log_likelihood_fn(z) + log_prior - log_posterior

    return jax.vmap(one)(jax.random.split(key, num_samples))


def iwae_bound(
    key,
    mean,
    log_scale,
    log_likelihood_fn: Callable[[jax.Array], jax.Array],
    num_samples: int,
    chunk_size: int | None = None,
) -> jax.Array:
    """L_k(x) = logsumexp_i(log w_i) - log k per example (N,), with k = ``num_samples``.

    Args:
        key: PRNG key for the k posterior samples.
        mean, log_scale: q(z|x) = N(mean, exp(log_scale)^2), shape (N, ...).
        log_likelihood_fn: z (N, ...) -> log p(x|z) (N,), a closure over x and the decoder.
        num_samples: k.
        chunk_size: samples per scan iteration (default: all k at once); must divide k.
    """
    chunk_size = num_samples if chunk_size is None else chunk_size
    if num_samples < 1 or chunk_size < 1:
        raise ValueError(f'num_samples and chunk_size must be >= 1, got {num_samples} and {chunk_size}')
    if num_samples % chunk_size:
        raise ValueError(f'chunk_size {chunk_size} must divide num_samples {num_samples}')

    def add_chunk(running_lse, chunk_key):
        log_w = log_importance_weights(chunk_key, mean, log_scale, log_likelihood_fn, chunk_size)
        return jnp.logaddexp(running_lse, jax.nn.logsumexp(log_w, axis=0)), None

    start = jnp.full(jnp.shape(mean)[:1], -jnp.inf, jnp.result_type(mean))
    keys = jax.random.split(key, num_samples // chunk_size)
    total, _ = jax.lax.scan(add_chunk, start, keys)
    return total - math.log(num_samples)
