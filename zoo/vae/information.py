"""The VAE's KL term split into a prior-matching term and a mutual information (diagnostic).

With p~(x) the data, p(z|x) the encoder and q(z) = N(0, I) the prior, the average KL
term of the ELBO splits exactly (Hoffman & Johnson 2016, "ELBO surgery: yet another way to
carve up the variational evidence lower bound", eq. 6):

    E_x KL(p(z|x) || q(z)) = I(x; z) + KL(p(z) || q(z)),    p(z) = E_x p(z|x),

where I(x; z) is the mutual information under the encoder's joint p~(x) p(z|x) and
p(z) the aggregate posterior.  A decoder flexible enough to ignore z drives I to zero
(posterior collapse); a prior that the codes do not fill leaves KL(p(z) || q(z)) large.
"""

import math

import jax
import jax.numpy as jnp

from zoo.distributions import gaussian_log_prob, kl_standard_normal, sample_diagonal_gaussian, sum_except_batch


def kl_split(key, mean, log_scale) -> dict:
    """Minibatch estimates of the three terms from the codes of N examples.

    With z_n ~ p(z|x_n) and the aggregate posterior approximated by the mixture of the
    batch's posteriors, p(z) ~ (1/N) sum_m p(z|x_m):

        I(x; z)          ~ (1/N) sum_n [ log p(z_n|x_n) - log (1/N) sum_m p(z_n|x_m) ]
        KL(p(z) || q(z)) = average_kl - I

    The mixture estimate of I is at most log N (Hoffman & Johnson 2016, sec. 3), so
    use batches much larger than exp(I).

    Args:
        key: PRNG key for one z per example.
        mean, log_scale: the encoder's posteriors, shape (N, d).
    Returns: {'average_kl', 'mutual_information', 'marginal_kl'}, scalars in nats.
    """
    if mean.ndim != 2:
        raise ValueError(f'mean must have shape (N, d), got {mean.shape}')
    z = sample_diagonal_gaussian(key, mean, log_scale)
    # log p(z_n | x_m) for every pair: (N, N).
    log_q_pairs = jnp.sum(gaussian_log_prob(z[:, None, :], mean[None], log_scale[None]), axis=-1)
    log_own = jnp.diagonal(log_q_pairs)
    log_aggregate = jax.nn.logsumexp(log_q_pairs, axis=1) - math.log(mean.shape[0])
    mutual_information = jnp.mean(log_own - log_aggregate)
    average_kl = jnp.mean(sum_except_batch(kl_standard_normal(mean, log_scale)))
    return {
        'average_kl': average_kl,
        'mutual_information': mutual_information,
        'marginal_kl': average_kl - mutual_information,
    }
