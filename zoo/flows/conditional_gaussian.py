"""A 2-D benchmark with an exact conditional density, for conditional flows p(x | c).

    c ~ U[-1, 1],   x | c ~ N(mu(c), Sigma(c)),   Sigma(c) = L(c) L(c)^T,
    mu(c) = (1.5 c, sin(pi c)),   L(c) = [[exp(0.5 c), 0], [0.8 c, 0.3 + 0.2 (1 + c)]]

Both the mean and the covariance (scale, and correlation through L_21) move with c,
so a flow that ignores its context cannot match it.  ``log_prob(x, c)`` is exact:

    log p(x | c) = -1/2 |L^{-1} (x - mu)|^2 - log|det L| - log(2 pi)
"""

import jax
import jax.numpy as jnp


def _mean_and_cholesky(c):
    """mu (N, 2) and the entries (l11, l21, l22) of L, each (N,), for c (N,)."""
    mu = jnp.stack([1.5 * c, jnp.sin(jnp.pi * c)], axis=-1)
    return mu, jnp.exp(0.5 * c), 0.8 * c, 0.3 + 0.2 * (1.0 + c)


def sample(key, n: int):
    """n pairs: x (n, 2) and the context c (n, 1), float32."""
    kc, kz = jax.random.split(key)
    c = jax.random.uniform(kc, (n,), minval=-1.0, maxval=1.0)
    z = jax.random.normal(kz, (n, 2))
    mu, l11, l21, l22 = _mean_and_cholesky(c)
    x = mu + jnp.stack([l11 * z[:, 0], l21 * z[:, 0] + l22 * z[:, 1]], axis=-1)
    return x, c[:, None]


def log_prob(x, context):
    """Exact log p(x | c) in nats, per pair; x (N, 2), context (N, 1)."""
    mu, l11, l21, l22 = _mean_and_cholesky(context[:, 0])
    d = x - mu
    z1 = d[:, 0] / l11
    z2 = (d[:, 1] - l21 * z1) / l22
    return -0.5 * (z1**2 + z2**2) - jnp.log(l11) - jnp.log(l22) - jnp.log(2 * jnp.pi)
