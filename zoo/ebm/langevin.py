"""Langevin dynamics and MALA on any energy, as pure ``lax.scan`` chains.

An energy ``U: (N, ...) -> (N,)`` defines q(x) = exp(-U(x)) / Z per example.  Both
samplers move every example of the batch independently:

    langevin_chain   x_{t+1} = x_t - (eps/2) grad U(x_t) + sqrt(eps) xi_t,  xi_t ~ N(0, I)
                     (unadjusted: biased by O(eps), the sampler of Du & Mordatch 2019)
    mala_chain       the same proposal, accepted with the Metropolis-Hastings probability,
                     so q is exactly invariant (Roberts & Tweedie 1996)

``U`` is any function of a batch (a Flax ``apply`` closed over its parameters, a
log-density's negative); it is differentiated through the sum of its values, which gives
each example its own gradient because the examples do not interact (true of networks
without batch statistics: no BatchNorm in an energy).
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp

Energy = Callable[[jax.Array], jax.Array]


def energy_grad(energy: Energy, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(U(x), grad_x U(x)) for a batch: one forward pass and one backward pass of sum_n U(x_n)."""
    u, pullback = jax.vjp(energy, x)
    return u, pullback(jnp.ones_like(u))[0]


def _check_step(step_size) -> None:
    if isinstance(step_size, (int, float)) and step_size <= 0:
        raise ValueError(f'step_size must be > 0, got {step_size}')


def langevin_chain(
    energy: Energy,
    x0: jax.Array,
    key: jax.Array,
    num_steps: int,
    step_size,
    noise_scale=None,
    bounds: tuple[float, float] | None = None,
) -> jax.Array:
    """``num_steps`` of unadjusted Langevin dynamics from ``x0``; returns x_K.

        x_{t+1} = clip(x_t - (eps/2) grad_x U(x_t) + sigma xi_t),   sigma = sqrt(eps) by default

    With ``sigma = sqrt(eps)`` the chain targets exp(-U) as eps -> 0.  IGEBM's image
    recipe (Du & Mordatch 2019) decouples the two, a large gradient step with small
    noise, which samples a colder distribution; pass ``noise_scale`` for that.
    ``bounds`` clips every iterate to the data range (IGEBM clips to [0, 1]).
    The noise of step t is drawn from ``fold_in(key, t)``.
    """
    _check_step(step_size)
    sigma = jnp.sqrt(step_size) if noise_scale is None else noise_scale

    def step(x, t):
        _, grad = energy_grad(energy, x)
        noise = jax.random.normal(jax.random.fold_in(key, t), x.shape, x.dtype)
        x = x - 0.5 * step_size * grad + sigma * noise
        if bounds is not None:
            x = jnp.clip(x, *bounds)
        return jax.lax.stop_gradient(x), None

    x, _ = jax.lax.scan(step, x0, jnp.arange(num_steps))
    return x


def mala_log_proposal(x_to: jax.Array, x_from: jax.Array, grad_from: jax.Array, step_size) -> jax.Array:
    """log q(x_to | x_from) up to a constant, per example, for the Langevin proposal.

    q(x' | x) = N(x'; x - (eps/2) grad U(x), eps I)
    log q     = -|x' - x + (eps/2) grad U(x)|^2 / (2 eps)
    """
    diff = x_to - x_from + 0.5 * step_size * grad_from
    return -jnp.sum(jnp.square(diff).reshape(diff.shape[0], -1), axis=1) / (2.0 * step_size)


def mala_chain(energy: Energy, x0: jax.Array, key: jax.Array, num_steps: int, step_size) -> tuple[jax.Array, jax.Array]:
    """Metropolis-adjusted Langevin (MALA): returns (x_K, mean acceptance rate).

    Proposal x' = x - (eps/2) grad U(x) + sqrt(eps) xi, accepted per example with

        alpha = min(1, exp(-U(x') + U(x) + log q(x | x') - log q(x' | x))),

    which makes exp(-U) the chain's exact stationary law for every eps (Roberts &
    Tweedie 1996).  The acceptance rate falls as eps grows; about 0.57 is the
    efficient regime in high dimension (Roberts & Rosenthal 1998).
    """
    _check_step(step_size)
    u0, g0 = energy_grad(energy, x0)

    def step(carry, t):
        x, u, g, accepted = carry
        k_noise, k_accept = jax.random.split(jax.random.fold_in(key, t))
        proposal = x - 0.5 * step_size * g + jnp.sqrt(step_size) * jax.random.normal(k_noise, x.shape, x.dtype)
        u_new, g_new = energy_grad(energy, proposal)
        log_alpha = (
            u - u_new + mala_log_proposal(x, proposal, g_new, step_size) - mala_log_proposal(proposal, x, g, step_size)
        )
        accept = jnp.log(jax.random.uniform(k_accept, u.shape)) < log_alpha
        keep = accept.reshape((-1,) + (1,) * (x.ndim - 1))
        carry = (
            jnp.where(keep, proposal, x),
            jnp.where(accept, u_new, u),
            jnp.where(keep, g_new, g),
            accepted + jnp.mean(accept.astype(jnp.float32)),
        )
        return jax.tree.map(jax.lax.stop_gradient, carry), None

    (x, _, _, accepted), _ = jax.lax.scan(step, (x0, u0, g0, jnp.zeros((), jnp.float32)), jnp.arange(num_steps))
    return x, accepted / max(num_steps, 1)
