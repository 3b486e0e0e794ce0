"""ln det(I + J_g(x)) for a residual block y = x + g(x) with Lip(g) < 1
(Behrmann et al. 2019, "Invertible Residual Networks", sec. 3; Chen et al. 2019,
"Residual Flows for Invertible Generative Modeling", sec. 3).

    exact           slogdet(I + J) from the dense Jacobian (small D: tests, 2-D densities)
    power series    sum_{k=1}^{n} (-1)^{k+1} v^T J^k v / k,  v ~ N(0, I) or Rademacher
                    (Behrmann et al. 2019, eq. 7; Hutchinson 1989): biased by the truncation
    Russian roulette  sum_{k=1}^{N} (-1)^{k+1} v^T J^k v / (k P(N >= k))
                    (Chen et al. 2019, eq. 6): unbiased; N = n_exact + Geometric(p)

J^k v comes from k vector-Jacobian products, v^T J^k v = v . (J^T)^k v.  The
gradient either backpropagates through the series ('backprop'), or uses the
Neumann series of Chen et al. 2019, eq. 8 ('neumann'):

    d ln det(I + J) = tr((I + J)^{-1} dJ) ~ w^T dJ v,   w = sum_{k=0}^{N-1} (-1)^k (J^T)^k v / P(N > k)

so nothing of the series is kept for the backward pass: one extra Jacobian-vector
product per block, whatever the number of terms.  Every estimator returns
``(g(x), log_det)`` with one log-det per example; g must not mix examples.
"""

import math

import jax
import jax.numpy as jnp

GRADIENTS = ('backprop', 'neumann')
NOISES = ('gaussian', 'rademacher')


def _per_example_dot(a, b):
    return jnp.sum((a * b).reshape(a.shape[0], -1), axis=1)


def hutchinson_noise(key: jax.Array, shape, kind: str = 'gaussian', dtype=jnp.float32) -> jax.Array:
    """v with E[v v^T] = I, so E[v^T A v] = tr(A) (Hutchinson 1989).

    Rademacher noise (+-1) has the smaller variance for a fixed A: 2 sum_{i != j} A_ij^2
    against Gaussian's 2 |A|_F^2.
    """
    if kind == 'gaussian':
        return jax.random.normal(key, shape, dtype)
    if kind == 'rademacher':
        return jax.random.rademacher(key, shape, dtype)
    raise ValueError(f'unknown Hutchinson noise {kind!r}; choose one of {NOISES}')


def exact_log_det(g, x: jax.Array):
    """(g(x), ln|det(I + dg/dx)|) per example, from the dense (D x D) Jacobian of each example.

    Column k of every example's Jacobian is one Jacobian-vector product of the whole batch
    with the tangent e_k (g does not mix examples): D products of full-batch matrices, where
    a ``vmap`` of per-example ``jacfwd`` runs one tiny product per example, which XLA on CPU
    executed as separate calls (an i-ResNet step on 2-D points took 27 times a coupling
    flow's).  For D = 2 the determinant is written out, (1 + J_00)(1 + J_11) - J_01 J_10.
    """
    n = x.shape[0]
    gx, jvp = jax.linearize(lambda z: g(z.reshape(x.shape)).reshape(n, -1), x.reshape(n, -1))
    d = gx.shape[1]
    basis = jnp.broadcast_to(jnp.eye(d, dtype=x.dtype)[:, None, :], (d, n, d))
    jac = jnp.moveaxis(jax.vmap(jvp)(basis), 0, -1)  # (n, d_out, d_in)
    if d == 2:
        log_det = jnp.log(jnp.abs((1.0 + jac[:, 0, 0]) * (1.0 + jac[:, 1, 1]) - jac[:, 0, 1] * jac[:, 1, 0]))
    else:
        log_det = jnp.linalg.slogdet(jnp.eye(d, dtype=jac.dtype) + jac)[1]
    return gx.reshape(x.shape), log_det


def series_log_det(
    g, x: jax.Array, v: jax.Array, weights: jax.Array, num_terms=None, gradient: str = 'backprop', detached_g=None
):
    """(g(x), sum_{k=1}^{n} (-1)^{k+1} weights_k v^T J^k v / k) with n = ``num_terms`` (<= len(weights)).

    ``num_terms`` may be traced (the Russian roulette draws it): steps past it are
    skipped by ``lax.cond``, so they cost nothing beyond the static length of the scan.
    With ``gradient='neumann'`` the value carries no graph of the series and the
    gradient comes from the Neumann estimator (module docstring), with the same weights;
    ``detached_g`` (g with its weights under stop_gradient) then runs the series, so
    autodiff keeps nothing of it.
    """
    if gradient not in GRADIENTS:
        raise ValueError(f'unknown log-det gradient {gradient!r}; choose one of {GRADIENTS}')
    max_terms = weights.shape[0]
    num_terms = max_terms if num_terms is None else num_terms
    neumann = gradient == 'neumann'
    if neumann:
        _, vjp = jax.vjp(detached_g or g, jax.lax.stop_gradient(x))
    else:
        gx, vjp = jax.vjp(g, x)

    def step(carry, k):
        def take(c):
            power, value, grad_vec = c  # power = (J^T)^{k-1} v
            sign = jnp.where(k % 2 == 1, 1.0, -1.0).astype(x.dtype) * weights[k - 1]
            grad_vec = grad_vec + sign * power
            power = vjp(power)[0]
            return power, value + sign / k * _per_example_dot(power, v), grad_vec

        return jax.lax.cond(k <= num_terms, take, lambda c: c, carry), None

    zeros = jnp.zeros(x.shape[0], x.dtype)
    (_, value, grad_vec), _ = jax.lax.scan(step, (v, zeros, jnp.zeros_like(v)), jnp.arange(1, max_terms + 1))
    if not neumann:
        return gx, value
    # value of the surrogate w^T J v is discarded; its gradient is the Neumann estimate
    gx, jv = jax.jvp(g, (x,), (v,))
    surrogate = _per_example_dot(jax.lax.stop_gradient(grad_vec), jv)
    return gx, jax.lax.stop_gradient(value) + surrogate - jax.lax.stop_gradient(surrogate)


def power_series_log_det(
    g,
    x: jax.Array,
    key: jax.Array,
    num_terms: int = 5,
    noise: str = 'gaussian',
    gradient: str = 'backprop',
    detached_g=None,
):
    """i-ResNet's estimator: the series truncated at ``num_terms``, one Hutchinson vector per example.

    Biased by the truncation, |bias| <= D Lip^(n+1) / ((n+1)(1 - Lip)) (Behrmann et al. 2019, thm. 3).
    """
    if num_terms < 1:
        raise ValueError(f'num_terms must be >= 1, got {num_terms}')
    v = hutchinson_noise(key, x.shape, noise, x.dtype)
    return series_log_det(g, x, v, jnp.ones(num_terms, x.dtype), gradient=gradient, detached_g=detached_g)


def roulette_weights(max_terms: int, n_exact: int, p: float, dtype=jnp.float32) -> jax.Array:
    """1 / P(N >= k) for k = 1..max_terms, N = n_exact + M, M ~ Geometric(p) on {0, 1, ...}.

    P(N >= k) = 1 for k <= n_exact and (1 - p)^(k - n_exact) after.
    """
    k = jnp.arange(1, max_terms + 1, dtype=dtype)
    return jnp.where(k <= n_exact, 1.0, (1.0 - p) ** -(k - n_exact)).astype(dtype)


def sample_num_terms(key: jax.Array, n_exact: int, p: float, max_terms: int) -> jax.Array:
    """N = n_exact + M, M ~ Geometric(p) (failures before the first success), capped at max_terms.

    The cap makes the estimator unbiased for the series truncated at ``max_terms``
    rather than the infinite one: with p = 0.5 and 30 terms, P(N > cap) ~ 1e-8 and
    the tail itself is below Lip^31 / (1 - Lip).
    """
    u = jax.random.uniform(key, (), minval=jnp.finfo(jnp.float32).tiny)
    m = jnp.floor(jnp.log(u) / math.log1p(-p)).astype(jnp.int32)  # P(M >= m) = (1 - p)^m
    return jnp.minimum(n_exact + m, max_terms)


def russian_roulette_log_det(
    g,
    x: jax.Array,
    key: jax.Array,
    n_exact: int = 2,
    p: float = 0.5,
    max_terms: int = 30,
    noise: str = 'gaussian',
    gradient: str = 'neumann',
    detached_g=None,
):
    """Residual Flows' unbiased estimator: one N for the batch, one Hutchinson vector per example.

    E over N and v of the estimate is ln det(I + J) (up to the capped tail, see
    ``sample_num_terms``); expected number of terms n_exact + (1 - p) / p.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f'roulette probability p must be in (0, 1), got {p}')
    if not 1 <= n_exact <= max_terms:
        raise ValueError(f'need 1 <= n_exact <= max_terms, got n_exact={n_exact}, max_terms={max_terms}')
    noise_key, n_key = jax.random.split(key)
    v = hutchinson_noise(noise_key, x.shape, noise, x.dtype)
    n = sample_num_terms(n_key, n_exact, p, max_terms)
    return series_log_det(g, x, v, roulette_weights(max_terms, n_exact, p, x.dtype), n, gradient, detached_g)
