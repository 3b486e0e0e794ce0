"""The evidence lower bound of a VAE with a diagonal Gaussian posterior and N(0, I) prior.

    log p(x) >= ELBO(x) = E_{q(z|x)}[log p(x|z)] - KL(q(z|x) || N(0, I))

(Kingma & Welling 2014, eq. 3).  The expectation is estimated with one
reparameterised sample z = mu + sigma * eps per example; the KL is analytic.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from zoo.distributions import kl_standard_normal, sample_diagonal_gaussian, sum_except_batch


class ElboTerms(NamedTuple):
    """Per-example values, each of shape (N,)."""

    elbo: jax.Array  # log-likelihood - kl
    log_likelihood: jax.Array  # one-sample estimate of E_q[log p(x|z)]
    kl: jax.Array  # KL(q(z|x) || N(0, I)), exact


def elbo(key, mean, log_scale, log_likelihood_fn: Callable[[jax.Array], jax.Array]) -> ElboTerms:
    """ELBO = log p(x|z) - KL(N(mu, sigma^2) || N(0, I)),  z = mu + sigma * eps.

    Args:
        key: PRNG key for eps.
        mean, log_scale: the encoder's q(z|x), shape (N, ...), log_scale = log sigma.
        log_likelihood_fn: z (N, ...) -> log p(x|z) per example (N,); a closure over x
            and the decoder's parameters.
    """
    z = sample_diagonal_gaussian(key, mean, log_scale)
    log_likelihood = log_likelihood_fn(z)
    kl = sum_except_batch(kl_standard_normal(mean, log_scale))
    return ElboTerms(log_likelihood - kl, log_likelihood, kl)


def negative_elbo_loss(key, mean, log_scale, log_likelihood_fn) -> tuple[jax.Array, dict]:
    """The training loss mean_x(-ELBO(x)) and its parts as metrics (nats per example)."""
    terms = elbo(key, mean, log_scale, log_likelihood_fn)
    loss = -jnp.mean(terms.elbo)
    return loss, {'neg_elbo': loss, 'reconstruction': -jnp.mean(terms.log_likelihood), 'kl': jnp.mean(terms.kl)}
