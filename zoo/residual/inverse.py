"""Inverting y = x + g(x) by the fixed-point iteration x_{n+1} = y - g(x_n) (Behrmann et al. 2019, alg. 1).

With Lip(g) = L < 1 the map is a contraction, so by Banach's theorem the iterates
converge from any start, and |x_n - x| <= L^n / (1 - L) |x_1 - x_0|.  Starting at
x_0 = y, about log(tol) / log(L) iterations reach the tolerance.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class InverseInfo(NamedTuple):
    """What the iteration reached: max |x_n + g(x_n) - y| over the batch, steps taken, and whether error <= tol."""

    error: jax.Array
    iterations: jax.Array
    converged: jax.Array


def fixed_point_inverse(g, y: jax.Array, tol: float = 1e-6, max_iters: int = 100):
    """x with x + g(x) = y, iterating until max |x_{n+1} - x_n| <= tol or ``max_iters`` steps.

    Returns ``(x, InverseInfo)``; ``info.error`` is the residual max |x + g(x) - y|
    of the returned x, so an unconverged result is always reported (see
    ``check_inverse``).  Not differentiable (``while_loop``): sampling only.
    """
    if tol <= 0 or max_iters < 1:
        raise ValueError(f'need tol > 0 and max_iters >= 1, got tol={tol}, max_iters={max_iters}')

    def cond(carry):
        _, step, change = carry
        return (step < max_iters) & (change > tol)

    def body(carry):
        x, step, _ = carry
        x_new = (y - g(x)).astype(y.dtype)  # g's weights may have a wider dtype than y
        return x_new, step + 1, jnp.max(jnp.abs(x_new - x))

    x, steps, change = jax.lax.while_loop(cond, body, (y, jnp.zeros((), jnp.int32), jnp.array(jnp.inf, y.dtype)))
    error = jnp.max(jnp.abs(x + g(x) - y))
    return x, InverseInfo(error, steps, error <= tol)


def check_inverse(info: InverseInfo, what: str = 'residual block inverse'):
    """Raise on the host if a fixed-point inverse did not reach its tolerance (call outside jit)."""
    converged = np.asarray(info.converged)
    if not converged.all():
        raise RuntimeError(
            f'{what} did not converge: error {np.max(np.asarray(info.error)):.3g} after '
            f'{np.max(np.asarray(info.iterations))} iterations; raise max_iters or lower '
            'the Lipschitz coefficient'
        )
