"""Linear-algebra primitives used by flows (SPEC section 7)."""

import jax
import jax.numpy as jnp


def random_rotation(key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
    """A random orthogonal n x n matrix: Q from the QR decomposition of a Gaussian matrix.

    Glow (Kingma & Dhariwal 2018, sec. 3.2) initialises the invertible 1x1 convolution
    this way, so |det W| = 1 and the layer starts volume-preserving.  The sign fix
    (Q <- Q diag(sign(diag R))) makes Q Haar-distributed (Mezzadri 2007).
    """
    q, r = jnp.linalg.qr(jax.random.normal(key, (n, n), dtype))
    return q * jnp.sign(jnp.diag(r))[None, :]


def log_abs_det(w: jax.Array) -> jax.Array:
    """log |det W| through an LU factorisation with partial pivoting (``slogdet``).

    Pivoted LU keeps float32 accurate for the well-conditioned matrices a flow uses:
    the log-det is a sum of log|u_ii| rather than the log of a product that may
    under- or overflow.  Its gradient is W^{-T}.
    """
    return jnp.linalg.slogdet(w)[1]
