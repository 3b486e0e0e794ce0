"""The f-divergence table of f-GAN (Nowozin, Cseke & Tomioka 2016, Tables 1 and 2).

    D_f(P || Q) = E_Q[ f(p/q) ],   f convex on u > 0,  f(1) = 0,
    f*(t)       = sup_u { u t - f(u) }                         (convex conjugate)
    D_f(P || Q) >= sup_T  E_P[T(x)] - E_Q[f*(T(x))],            tight at T* = f'(p/q)

A critic network V: x -> R becomes T = g_f(V) through an output activation g_f
mapping R into dom f*.  Each row of ``DIVERGENCES`` holds f, f', f*, g_f, the
domain of f*, f'(1), and f*(g_f(v)) written in a form that stays finite where the
composition would round (e.g. the GAN row's f*(g_f(v)) = softplus(v)).

Rows are checked against the paper's Tables 1 and 2 (the tests verify f* as the
numerical conjugate of f and the bound's tightness at T*).  Where the names
differ:

* Su's article on f-GAN ("f-GAN简介：GAN模型的生产车间", "An introduction to f-GAN:
  the production line of GAN models", Scientific Spaces blog, 2018) swaps the two
  chi-square names: its "Pearson" is the paper's Neyman (1 - u)^2 / u and vice versa.
  We follow the paper.
* The paper's Table 1 writes the Jensen-Shannon divergence with a factor 1/2
  but its generator f(u) = -(u+1) log((1+u)/2) + u log u gives E_Q f(p/q) =
  KL(P||M) + KL(Q||M) = 2 JSD(P, Q), M = (P+Q)/2.  Here ``js`` is that 2 JSD
  (in [0, 2 log 2]), the quantity the f-GAN bound estimates.
* The paper's "GAN" row, f(u) = u log u - (u+1) log(u+1), gives 2 JSD - log 4,
  the value of Goodfellow et al.'s minimax game.
* Pearson: the paper's f* = t^2/4 + t is the conjugate of (u - 1)^2 on all of R.  Here
  f* is the conjugate of f on u >= 0, the ratios p/q can take: t^2/4 + t for t >= -2 and
  -1 (the sup at u = 0) below.  Both agree where T* = 2(p/q - 1) >= -2 lies, so the bound
  is the same at the optimum; they differ for a critic that strays below -2.  There the
  paper's f* grows again, (t + 2)^2 / 4 - 1, and the saturating generator, which maximises
  E_Q[f*(T)], is rewarded for carrying its samples wherever the critic's linear
  extrapolation runs to -infinity: on the 2-D ring they ran off to radius 10^4
  (RESULTS.md, f-GAN on the ring).  The conjugate on u >= 0 is flat there, so such a
  sample is neither pushed out nor rewarded.
"""

import dataclasses
import functools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

LOG2 = math.log(2.0)


@dataclasses.dataclass(frozen=True)
class FDivergence:
    """One row of the table; every callable is elementwise and jit/vmap/grad-safe.

    domain = (low, high) of dom f*, with ``closed`` saying whether the finite
    ends belong to it (total variation: the closed interval [-1/2, 1/2]).
    """

    name: str
    f: Callable
    f_prime: Callable
    conjugate: Callable
    activation: Callable
    conjugate_of_activation: Callable
    domain: tuple[float, float]
    f_prime_at_1: float
    closed: bool = False

    def in_domain(self, t):
        """Boolean mask: t lies in dom f*."""
        low, high = self.domain
        if self.closed:
            return (t >= low) & (t <= high)
        return (t > low) & (t < high)


def wright_omega(z, iterations: int = 8):
    """w = W(e^z), the solution of w + log w = z (Wright omega function).

    Computed without forming e^z (which overflows for z > 88 in float32) by Newton
    steps on w + log w = z:  w <- w (1 + z - log w) / (1 + w), which converge
    quadratically from the start w0 = z - log z (z > 1) or log(1 + e^z) (z <= 1).
    Below z = log(eps) the series W(x) = x - x^2 + ... rounds to its first term, so
    w = e^z there (no Newton step: log of an underflowing w would make them NaN).  XLA on
    CPU flushes subnormals, so e^z is 0 below about -87 (float32) or -708 (float64), where
    ``scipy.special.wrightomega``, the reference in the tests (not jit-able), gives a
    subnormal.  The derivative dw/dz = w / (1 + w) is given exactly (custom JVP), not
    through the iterations.
    """
    return _wright_omega(jnp.asarray(z), iterations)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _wright_omega(z, iterations):
    tiny = z < math.log(jnp.finfo(z.dtype).eps)  # w = e^z to working precision
    zs = jnp.where(tiny, 0.0, z)  # the Newton branch only sees z where it converges
    large = zs > 1.0
    w = jnp.where(large, zs - jnp.log(jnp.where(large, zs, 2.0)), jax.nn.softplus(zs))
    for _ in range(iterations):
        w = w * (1.0 + zs - jnp.log(w)) / (1.0 + w)
    return jnp.where(tiny, jnp.exp(z), w)


@_wright_omega.defjvp
def _wright_omega_jvp(iterations, primals, tangents):
    w = _wright_omega(primals[0], iterations)
    return w, tangents[0] * w / (1.0 + w)


def _xlogx(u):
    return jax.scipy.special.xlogy(u, u)


@jax.custom_jvp
def _jeffrey_conjugate(t):
    """f*(t) = W(e^(1-t)) + 1/W(e^(1-t)) + t - 2 (paper Table 2), and f*'(t) = 1/W(e^(1-t)).

    For large t, W = W(e^(1-t)) underflows while 1/W = e^(t - 1 + W) (from W + log W = 1 - t)
    is still finite: that form is used where W < 1, so the value stays finite up to t of
    about 89 in float32.  The derivative f*' = (f')^-1 is given exactly (custom JVP): autodiff
    through 1/W divides by W^2, which underflows to a -inf gradient from t of about 45.
    """
    return _jeffrey_parts(t)[0]


def _jeffrey_parts(t):
    z = 1.0 - t
    w = wright_omega(z)
    inverse = jnp.where(w < 1.0, jnp.exp(jnp.minimum(w - z, 1e3)), 1.0 / jnp.maximum(w, 1.0))
    return w + inverse + t - 2.0, inverse


@_jeffrey_conjugate.defjvp
def _jeffrey_conjugate_jvp(primals, tangents):
    value, inverse = _jeffrey_parts(primals[0])
    return value, tangents[0] * inverse


def _pearson_conjugate(t):
    """f*(t) = sup_{u >= 0} u t - (u - 1)^2 = s^2 / 4 + s with s = max(t, -2): -1 below t = -2 (u = 0)."""
    s = jnp.maximum(t, -2.0)
    return 0.25 * s**2 + s


# Nowozin et al. (2016), Tables 1 and 2: f, its conjugate and the output activation g_f, one row per divergence.
_TABLE = (
    FDivergence(
        'total_variation',
        f=lambda u: 0.5 * jnp.abs(u - 1.0),
        f_prime=lambda u: 0.5 * jnp.sign(u - 1.0),
        conjugate=lambda t: t,
        activation=lambda v: 0.5 * jnp.tanh(v),
        conjugate_of_activation=lambda v: 0.5 * jnp.tanh(v),
        domain=(-0.5, 0.5),
        f_prime_at_1=0.0,
        closed=True,
    ),
    FDivergence(
        'kl',
        f=_xlogx,
        f_prime=lambda u: 1.0 + jnp.log(u),
        conjugate=lambda t: jnp.exp(t - 1.0),
        activation=lambda v: v,
        conjugate_of_activation=lambda v: jnp.exp(v - 1.0),
        domain=(-math.inf, math.inf),
        f_prime_at_1=1.0,
    ),
    FDivergence(
        'reverse_kl',
        f=lambda u: -jnp.log(u),
        f_prime=lambda u: -1.0 / u,
        conjugate=lambda t: -1.0 - jnp.log(-t),
        activation=lambda v: -jnp.exp(-v),
        conjugate_of_activation=lambda v: v - 1.0,
        domain=(-math.inf, 0.0),
        f_prime_at_1=-1.0,
    ),
    FDivergence(
        'pearson',
        f=lambda u: (u - 1.0) ** 2,
        f_prime=lambda u: 2.0 * (u - 1.0),
        conjugate=_pearson_conjugate,
        activation=lambda v: v,
        conjugate_of_activation=_pearson_conjugate,
        domain=(-math.inf, math.inf),
        f_prime_at_1=0.0,
    ),
    FDivergence(
        'neyman',
        f=lambda u: (1.0 - u) ** 2 / u,
        f_prime=lambda u: 1.0 - 1.0 / u**2,
        conjugate=lambda t: 2.0 - 2.0 * jnp.sqrt(1.0 - t),
        activation=lambda v: -jnp.expm1(-v),
        conjugate_of_activation=lambda v: 2.0 - 2.0 * jnp.exp(-0.5 * v),
        domain=(-math.inf, 1.0),
        f_prime_at_1=0.0,
    ),
    FDivergence(
        'squared_hellinger',
        f=lambda u: (jnp.sqrt(u) - 1.0) ** 2,
        f_prime=lambda u: 1.0 - 1.0 / jnp.sqrt(u),
        conjugate=lambda t: t / (1.0 - t),
        activation=lambda v: -jnp.expm1(-v),
        conjugate_of_activation=lambda v: jnp.expm1(v),
        domain=(-math.inf, 1.0),
        f_prime_at_1=0.0,
    ),
    FDivergence(
        'jeffrey',
        f=lambda u: (u - 1.0) * jnp.log(u),
        f_prime=lambda u: jnp.log(u) + 1.0 - 1.0 / u,
        conjugate=_jeffrey_conjugate,
        activation=lambda v: v,
        conjugate_of_activation=_jeffrey_conjugate,
        domain=(-math.inf, math.inf),
        f_prime_at_1=0.0,
    ),
    FDivergence(
        'js',
        f=lambda u: -(u + 1.0) * jnp.log((1.0 + u) / 2.0) + _xlogx(u),
        f_prime=lambda u: jnp.log(2.0 * u / (1.0 + u)),
        conjugate=lambda t: -jnp.log(2.0 - jnp.exp(t)),
        # g_f(v) = log 2 - softplus(-v), so f*(g_f(v)) = -log(2 sigmoid(-v)) = softplus(v) - log 2.
        activation=lambda v: LOG2 - jax.nn.softplus(-v),
        conjugate_of_activation=lambda v: jax.nn.softplus(v) - LOG2,
        domain=(-math.inf, LOG2),
        f_prime_at_1=0.0,
    ),
    FDivergence(
        'gan',
        f=lambda u: _xlogx(u) - jax.scipy.special.xlogy(u + 1.0, u + 1.0),
        f_prime=lambda u: jnp.log(u / (u + 1.0)),
        conjugate=lambda t: -jnp.log(-jnp.expm1(t)),
        # g_f(v) = -softplus(-v) = log sigmoid(v), so f*(g_f(v)) = -log sigmoid(-v) = softplus(v).
        activation=lambda v: -jax.nn.softplus(-v),
        conjugate_of_activation=jax.nn.softplus,
        domain=(-math.inf, 0.0),
        f_prime_at_1=-LOG2,
    ),
)


DIVERGENCES: dict[str, FDivergence] = {row.name: row for row in _TABLE}


def get(name: str) -> FDivergence:
    """The table's row ``name``; an unknown name is a ValueError listing the rows."""
    if name not in DIVERGENCES:
        raise ValueError(f'unknown f-divergence {name!r}; choose one of {sorted(DIVERGENCES)}')
    return DIVERGENCES[name]


def variational_bound(divergence: FDivergence, t_p, t_q):
    """E_P[T] - E_Q[f*(T)] <= D_f(P || Q) (Nowozin et al. 2016, eq. 4).

    ``t_p`` are critic values T(x) at samples of P, ``t_q`` at samples of Q; both
    must lie in dom f* (use ``activation`` on a raw critic output, or
    ``variational_bound_from_logits``).
    """
    return jnp.mean(t_p) - jnp.mean(divergence.conjugate(t_q))


def variational_bound_from_logits(divergence: FDivergence, v_p, v_q):
    """E_P[g_f(V)] - E_Q[f*(g_f(V))] for raw critic outputs V (f-GAN's F(theta, omega), eq. 6).

    Uses the row's ``conjugate_of_activation`` so large |V| does not round f*(g_f(V))
    to infinity (e.g. -log(1 - exp(t)) at t = -softplus(-V) near 0).
    """
    return jnp.mean(divergence.activation(v_p)) - jnp.mean(divergence.conjugate_of_activation(v_q))


def optimal_critic(divergence: FDivergence, ratio):
    """T*(x) = f'(p(x) / q(x)): the critic at which the variational bound is tight."""
    return divergence.f_prime(ratio)
