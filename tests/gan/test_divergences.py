"""The f-divergence table: conjugates, activations, and the bound's tightness at T* = f'(p/q).

P = N(MU, 1) and Q = N(0, 1): closed forms exist for most rows; Jensen-Shannon and GAN
are computed by quadrature (which the closed forms check).
"""

import dataclasses
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.special
import scipy.stats

from zoo.gan import divergences as fd

NAMES = sorted(fd.DIVERGENCES)
FUNCTIONS = ('f', 'f_prime', 'conjugate', 'activation', 'conjugate_of_activation')


def compiled(name):
    """The table's row with each function jitted (eager dispatch compiles every op on its own)."""
    div = fd.get(name)
    return dataclasses.replace(div, **{k: jax.jit(getattr(div, k)) for k in FUNCTIONS})


wright_omega = jax.jit(fd.wright_omega)
MU = 0.5
GRID = np.linspace(-15.0, 15.0, 60001)  # quadrature grid: Gaussian tails beyond 15 are < 1e-49


@pytest.fixture
def x64():
    previous = jax.config.read('jax_enable_x64')
    jax.config.update('jax_enable_x64', True)
    yield
    jax.config.update('jax_enable_x64', previous)


def closed_form(name, mu):
    """D_f(N(mu, 1) || N(0, 1)) where a closed form exists, else None."""
    return {
        'kl': mu**2 / 2,
        'reverse_kl': mu**2 / 2,
        'jeffrey': mu**2,
        'pearson': math.expm1(mu**2),
        'neyman': math.expm1(mu**2),
        'squared_hellinger': 2.0 - 2.0 * math.exp(-(mu**2) / 8),
        'total_variation': 2.0 * scipy.stats.norm.cdf(mu / 2) - 1.0,
    }.get(name)


def quadrature(values):
    return np.trapezoid(values, GRID)


def densities(mu):
    return scipy.stats.norm.pdf(GRID, mu, 1.0), scipy.stats.norm.pdf(GRID, 0.0, 1.0)


def exact_divergence(name, mu):
    """E_Q f(p/q) by quadrature in float64."""
    p, q = densities(mu)
    return quadrature(q * np.asarray(fd.get(name).f(jnp.asarray(p / q))))


def bound_by_quadrature(div, critic, mu):
    """E_P[T] - E_Q[f*(T)] for T given on GRID."""
    p, q = densities(mu)
    return quadrature(p * critic) - quadrature(q * np.asarray(div.conjugate(jnp.asarray(critic))))


@pytest.mark.parametrize('name', NAMES)
def test_generator_vanishes_at_one_and_its_derivative_matches_the_table(name, x64):
    div = compiled(name)
    # The paper's GAN generator is 2 JSD - log 4: f(1) = -log 4 by design (module docstring).
    assert float(div.f(1.0)) == (-math.log(4.0) if name == 'gan' else 0.0)
    u = jnp.array([0.2, 0.7, 1.5, 4.0])
    np.testing.assert_allclose(div.f_prime(u), jax.jit(jax.vmap(jax.grad(div.f)))(u), rtol=1e-12)
    if name != 'total_variation':  # |u - 1| has no derivative at 1; the paper's table takes 0
        np.testing.assert_allclose(jax.grad(div.f)(1.0), div.f_prime_at_1, atol=1e-12)
    assert div.f_prime_at_1 == pytest.approx(float(div.f_prime(1.0)), abs=1e-12)


def conjugate_test_points(div):
    """t in dom f* where the sup over u > 0 is attained inside the u grid: t = f'(u) for u in [0.01, 100]."""
    if div.name == 'total_variation':
        return jnp.linspace(-0.5, 0.5, 21)
    return div.f_prime(jnp.logspace(-2, 2, 41))


@pytest.mark.parametrize('name', NAMES)
def test_conjugate_is_the_numerical_sup(name, x64):
    div = compiled(name)
    t = conjugate_test_points(div)
    assert bool(jnp.all(div.in_domain(t)))
    u = jnp.concatenate([jnp.logspace(-4, 4, 100001), jnp.ones(1)])
    f_u = div.f(u)
    numerical = jax.lax.map(lambda ti: jnp.max(u * ti - f_u), t, batch_size=8)
    exact = div.conjugate(t)
    # A grid sup never exceeds the true sup; the grid's spacing bounds how far below it is.
    assert bool(jnp.all(numerical <= exact + 1e-9 * (1 + jnp.abs(exact))))
    np.testing.assert_allclose(numerical, exact, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize('name', NAMES)
def test_activation_maps_into_the_domain_and_the_stable_composition_agrees(name, x64):
    div = compiled(name)
    v = jnp.linspace(-30.0, 30.0, 601)
    assert bool(jnp.all(div.in_domain(div.activation(v))))
    v = jnp.linspace(-5.0, 5.0, 101)
    np.testing.assert_allclose(div.conjugate_of_activation(v), div.conjugate(div.activation(v)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('name', NAMES)
def test_bound_is_tight_at_the_optimal_critic_and_lower_elsewhere(name, x64):
    div = compiled(name)
    exact = exact_divergence(name, MU)
    if closed_form(name, MU) is not None:
        assert exact == pytest.approx(closed_form(name, MU), rel=1e-7)  # TV's kink limits the trapezoid rule
    p, q = densities(MU)
    ratio = jnp.asarray(p / q)
    assert bound_by_quadrature(div, np.asarray(fd.optimal_critic(div, ratio)), MU) == pytest.approx(exact, rel=1e-8)
    # Other critics: a tempered ratio, and T* pulled towards the constant f'(1) (stays in the
    # domain, an interval).
    t_star = fd.optimal_critic(div, ratio)
    others = [fd.optimal_critic(div, ratio**a) for a in (0.5, 1.5)]
    others += [(1 - s) * t_star + s * div.f_prime_at_1 for s in (0.2, 0.5)]
    for critic in others:
        if float(jnp.max(jnp.abs(critic - t_star))) == 0.0:
            continue  # total variation: sign(r^a - 1) = sign(r - 1), another optimal critic
        assert bound_by_quadrature(div, np.asarray(critic), MU) < exact - 1e-6


@pytest.mark.parametrize('name', NAMES)
def test_monte_carlo_bound_at_the_optimal_critic_matches_the_exact_divergence(name, x64):
    div, n = compiled(name), 200_000
    kp, kq = jax.random.split(jax.random.key(0))
    x_p, x_q = MU + jax.random.normal(kp, (n,)), jax.random.normal(kq, (n,))
    log_ratio = lambda x: MU * x - MU**2 / 2  # log N(x; MU, 1) - log N(x; 0, 1)
    t_p = fd.optimal_critic(div, jnp.exp(log_ratio(x_p)))
    t_q = fd.optimal_critic(div, jnp.exp(log_ratio(x_q)))
    estimate = fd.variational_bound(div, t_p, t_q)
    standard_error = jnp.sqrt(jnp.var(t_p) / n + jnp.var(div.conjugate(t_q)) / n)
    exact = exact_divergence(name, MU)
    assert 4 * standard_error < 0.2 * abs(exact)  # the check below can tell a wrong bound apart
    assert abs(float(estimate) - exact) < 4 * float(standard_error)


def test_wright_omega_matches_scipy(x64):
    z = np.linspace(-60.0, 400.0, 3001)
    np.testing.assert_allclose(wright_omega(jnp.asarray(z)), scipy.special.wrightomega(z), rtol=1e-13)
    np.testing.assert_allclose(
        wright_omega(jnp.asarray([0.0, 1.0 + math.e]))[:1], scipy.special.lambertw(1.0).real, rtol=1e-13
    )
    z = jnp.array([-3.0, 0.5, 20.0])
    w = wright_omega(z)
    np.testing.assert_allclose(jax.jit(jax.vmap(jax.grad(wright_omega)))(z), w / (1 + w), rtol=1e-12)


def test_wright_omega_in_float32_stays_finite_and_accurate():
    z = jnp.linspace(-80.0, 200.0, 1001, dtype=jnp.float32)
    w = wright_omega(z)
    assert w.dtype == jnp.float32
    np.testing.assert_allclose(w, scipy.special.wrightomega(np.asarray(z, np.float64)), rtol=2e-6)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_wright_omega_is_finite_far_below_zero(dtype, x64):
    """The edge an independent check found: NaN at z = -90 (float32) and below -709 (float64)."""
    z = np.array([-17.0, -40.0, -90.0, -200.0, -720.0, -1e4], dtype)
    w = wright_omega(jnp.asarray(z))
    assert w.dtype == dtype and np.all(np.isfinite(w)) and np.all(w >= 0)
    reference = scipy.special.wrightomega(z.astype(np.float64))  # = e^z here; subnormal at -90 (float32)
    tiny = np.finfo(dtype).tiny  # XLA on CPU flushes subnormals to 0
    assert np.all(np.abs(w - reference) <= np.maximum(2 * np.finfo(dtype).eps * reference, tiny))
    grads = jax.jit(jax.vmap(jax.grad(wright_omega)))(jnp.asarray(z))
    assert np.all(np.isfinite(grads)) and np.all(grads >= 0)


@pytest.mark.parametrize('dtype', [jnp.float32, jnp.float64])
def test_jeffrey_conjugate_gradient_is_finite_for_large_logits(dtype, x64):
    """f*'(t) = 1/W(e^(1-t)) = e^(t - 1 + W): finite up to t ~ 89 in float32 (was -inf from t ~ 45)."""
    jeffrey = compiled('jeffrey')
    t = jnp.asarray([-30.0, 0.0, 10.0, 45.0, 50.0, 80.0, 88.0], dtype)
    value = jeffrey.conjugate_of_activation(t)
    grad = jax.jit(jax.vmap(jax.grad(jeffrey.conjugate_of_activation)))(t)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    w = scipy.special.wrightomega(1.0 - np.asarray(t, np.float64))
    rtol = 1e-5 if dtype == jnp.float32 else 1e-12
    np.testing.assert_allclose(grad, 1.0 / w, rtol=rtol)
    np.testing.assert_allclose(value, w + 1.0 / w + np.asarray(t, np.float64) - 2.0, rtol=rtol, atol=rtol)
    # The bound's gradient through a critic output of 50 on P and on Q: finite in float32.
    g = jax.grad(lambda v: fd.variational_bound_from_logits(jeffrey, v, v))(jnp.asarray([50.0], dtype))
    assert np.all(np.isfinite(g))


def test_unknown_divergence_names_the_choices():
    with pytest.raises(ValueError, match='unknown f-divergence .*choose one of'):
        fd.get('wasserstein')


class Critic(nn.Module):
    @nn.compact
    def __call__(self, x):
        h = nn.tanh(nn.Dense(32)(x[:, None]))
        return nn.Dense(1)(nn.tanh(nn.Dense(32)(h)))[:, 0]


@pytest.mark.parametrize('name', ['kl', 'js'])
def test_a_critic_trained_alone_recovers_the_divergence(name):
    """Maximise the bound over a small MLP critic on P = N(1, 1), Q = N(0, 1)."""
    div, mu, n = fd.get(name), 1.0, 1024
    keys = jax.random.split(jax.random.key(1), 4)
    critic = Critic()
    params = critic.init(keys[0], jnp.zeros(1))
    tx = optax.adam(1e-2)

    def loss(params, x_p, x_q):
        return -fd.variational_bound_from_logits(div, critic.apply(params, x_p), critic.apply(params, x_q))

    @jax.jit
    def step(carry, key):
        params, opt_state = carry
        kp, kq = jax.random.split(key)
        grads = jax.grad(loss)(params, mu + jax.random.normal(kp, (n,)), jax.random.normal(kq, (n,)))
        updates, opt_state = tx.update(grads, opt_state)
        return (optax.apply_updates(params, updates), opt_state), None

    (params, _), _ = jax.lax.scan(step, (params, tx.init(params)), jax.random.split(keys[1], 400))
    m = 100_000
    v_p = critic.apply(params, mu + jax.random.normal(keys[2], (m,)))
    v_q = critic.apply(params, jax.random.normal(keys[3], (m,)))
    estimate = float(fd.variational_bound_from_logits(div, v_p, v_q))
    standard_error = float(jnp.sqrt(jnp.var(div.activation(v_p)) / m + jnp.var(div.conjugate_of_activation(v_q)) / m))
    p, q = scipy.stats.norm.pdf(GRID, mu, 1), scipy.stats.norm.pdf(GRID, 0, 1)
    exact = mu**2 / 2 if name == 'kl' else quadrature(p * np.log(2 * p / (p + q)) + q * np.log(2 * q / (p + q)))
    # The trained critic's bound is below D (by the optimisation gap) up to Monte Carlo error.
    assert exact - 0.03 * exact - 4 * standard_error < estimate < exact + 4 * standard_error
