"""The Jensen-Shannon MI estimator on correlated Gaussians, where the optimal critic is known."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from zoo.vae.infomax import (
    InfoMax,
    critic_mutual_information,
    info_nce_bound,
    infomax_loss,
    jensen_shannon_bound,
    pairwise_jensen_shannon_bound,
    shuffle_within_batch,
)

RHO = 0.8
TRUE_MI = -0.5 * np.log(1 - RHO**2)  # I(a; b) of a standard bivariate Gaussian with correlation rho


def gaussian_pairs(key, n, rho):
    a, e = jax.random.normal(key, (2, n, 1))
    return a, rho * a + np.sqrt(1 - rho**2) * e


def log_ratio(a, b, rho):
    """log p(a, b) / (p(a) p(b)) for the bivariate Gaussian: the JS-optimal critic."""
    a, b = a[..., 0], b[..., 0]
    return -0.5 * np.log(1 - rho**2) - (rho**2 * (a**2 + b**2) - 2 * rho * a * b) / (2 * (1 - rho**2))


class Critic(nn.Module):
    @nn.compact
    def __call__(self, a, b):
        h = jnp.concatenate([a, b, a * b], axis=-1)
        for _ in range(2):
            h = nn.tanh(nn.Dense(32)(h))
        return nn.Dense(1)(h)[..., 0]


def train_critic(rho, steps=400, batch=512):
    critic, tx = Critic(), optax.adam(1e-2)
    params = critic.init(jax.random.PRNGKey(0), jnp.zeros((1, 1)), jnp.zeros((1, 1)))

    def step(carry, key):
        params, opt_state = carry
        pair_key, shuffle_key = jax.random.split(key)
        a, b = gaussian_pairs(pair_key, batch, rho)
        objective = lambda p: (
            -jensen_shannon_bound(critic.apply(p, a, b), critic.apply(p, a, shuffle_within_batch(shuffle_key, b)))
        )
        grads = jax.grad(objective)(params)
        updates, opt_state = tx.update(grads, opt_state)
        return (optax.apply_updates(params, updates), opt_state), None

    (params, _), _ = jax.lax.scan(step, (params, tx.init(params)), jax.random.split(jax.random.PRNGKey(1), steps))
    return lambda a, b: critic.apply(params, a, b)


@pytest.fixture(scope='module')
def held_out():
    a, b = gaussian_pairs(jax.random.PRNGKey(7), 40_000, RHO)
    return a, b, shuffle_within_batch(jax.random.PRNGKey(8), b)


def test_optimal_critic_reads_off_the_true_mutual_information(held_out):
    a, b, b_shuffled = held_out
    estimate = critic_mutual_information(log_ratio(a, b, RHO))
    standard_error = np.std(log_ratio(a, b, RHO)) / np.sqrt(len(a))
    assert abs(float(estimate) - TRUE_MI) < 5 * standard_error
    # No critic beats the optimal one (the bound's maximiser), e.g. a scaled version of it.
    best = jensen_shannon_bound(log_ratio(a, b, RHO), log_ratio(a, b_shuffled, RHO))
    for scale in (0.5, 2.0):
        assert jensen_shannon_bound(scale * log_ratio(a, b, RHO), scale * log_ratio(a, b_shuffled, RHO)) < best


def test_trained_critic_approaches_the_optimum_and_separates_dependence(held_out):
    a, b, b_shuffled = held_out
    dependent = train_critic(RHO)
    best = jensen_shannon_bound(log_ratio(a, b, RHO), log_ratio(a, b_shuffled, RHO))
    reached = jensen_shannon_bound(dependent(a, b), dependent(a, b_shuffled))
    assert float(best) - 0.02 < float(reached) <= float(best) + 0.01
    assert abs(float(critic_mutual_information(dependent(a, b))) - TRUE_MI) < 0.1
    a0, b0 = gaussian_pairs(jax.random.PRNGKey(9), 40_000, 0.0)
    independent = train_critic(0.0)
    unrelated = jensen_shannon_bound(
        independent(a0, b0), independent(a0, shuffle_within_batch(jax.random.PRNGKey(3), b0))
    )
    # Independent pairs leave the bound at its floor -log 4 (T = 0); dependence lifts it.
    assert abs(float(unrelated) + np.log(4)) < 0.01
    assert float(reached) > float(unrelated) + 0.1


def test_shuffle_is_a_permutation_and_loss_weights():
    z = jnp.arange(10.0)[:, None]
    shuffled = shuffle_within_batch(jax.random.PRNGKey(0), z)
    assert sorted(np.asarray(shuffled[:, 0])) == list(range(10)) and not np.array_equal(shuffled, z)
    floor = jensen_shannon_bound(jnp.zeros(4), jnp.zeros(4))
    loss, metrics = infomax_loss(floor, floor, jnp.ones(4), alpha=0.5, beta=1.5, gamma=0.01)
    np.testing.assert_allclose(loss, (0.5 + 1.5) * np.log(4) + 0.01, rtol=1e-6)
    assert set(metrics) == {'global_mi', 'local_mi', 'kl'}


def test_pairwise_bounds_with_the_optimal_critic_on_every_pair(held_out):
    """All N^2 pairs scored by the true log-ratio: the JS bound matches the shuffled one, and
    InfoNCE lies below the true MI and below log N, reaching it when N is large."""
    a, b, b_shuffled = held_out
    n = 512
    a, b = a[:n], b[:n]
    pairwise_js, nce_bound = jax.jit(pairwise_jensen_shannon_bound), jax.jit(info_nce_bound)
    scores = jax.jit(lambda a, b: log_ratio(a, b, RHO))(a[:, None, :], b[None, :, :])  # scores[i, j] = T*(a_i, b_j)
    shuffled = jax.jit(lambda a, b, c: jensen_shannon_bound(log_ratio(a, b, RHO), log_ratio(a, c, RHO)))(
        held_out[0], held_out[1], b_shuffled
    )
    np.testing.assert_allclose(pairwise_js(scores), shuffled, atol=0.03)
    nce = float(nce_bound(scores))
    assert TRUE_MI - 0.1 < nce < TRUE_MI + 0.03 and nce <= np.log(n)
    few = float(nce_bound(scores[:4, :4]))
    assert few <= np.log(4) + 1e-6
    # Middle axes (positions) are averaged: the same pairs tiled over a 2x3 map give the same bounds.
    tiled = jnp.broadcast_to(scores[:, None, None, :], (n, 2, 3, n))
    np.testing.assert_allclose(pairwise_js(tiled), pairwise_js(scores), rtol=1e-5)
    np.testing.assert_allclose(nce_bound(tiled), nce, rtol=1e-5)
    with pytest.raises(ValueError, match='scores must be'):
        info_nce_bound(scores[:, :3])


def test_local_features_see_a_patch_of_the_image():
    """Layer 1 of two stride-2 3x3 convs sees 3x3 pixels of 8x8; the last layer's 2x2 map sees up to 7x7."""
    x = jnp.zeros((1, 8, 8, 1))
    for layer, width in ((1, 3), (None, 7)):
        model = InfoMax(latents=4, channels=(4, 8), hidden=8, critic_hidden=8, local_layer=layer)
        params = jax.jit(model.init)(jax.random.PRNGKey(0), x + 0.5)
        first = lambda v: jnp.sum(model.apply(params, v, method=InfoMax.encode)[0][0, 0, 0])
        seen = np.abs(np.asarray(jax.jit(jax.grad(first))(x + 0.5)[0, :, :, 0])) > 0
        rows, cols = np.nonzero(seen)
        assert rows.max() - rows.min() + 1 == width and cols.max() - cols.min() + 1 == width, layer


def test_dot_critic_scores_every_pair():
    model = InfoMax(latents=5, channels=(4, 8), hidden=16, critic_hidden=8, critic='dot')
    x = jnp.zeros((3, 8, 8, 1))
    params = model.init(jax.random.PRNGKey(0), x)
    local, glob, mean, _ = model.apply(params, x, method=InfoMax.encode)
    g, l = model.apply(params, local, glob, mean, method=InfoMax.critics)
    assert g.shape == (3, 3) and l.shape == (3, 2, 2, 3)
    with pytest.raises(ValueError, match='unknown critic'):
        InfoMax(critic='bilinear').init(jax.random.PRNGKey(0), x)


def test_model_shapes():
    model = InfoMax(latents=5, channels=(4, 8), hidden=16, critic_hidden=8)
    x = jnp.zeros((3, 8, 8, 1))
    params = model.init(jax.random.PRNGKey(0), x)
    local, glob, mean, log_scale = model.apply(params, x, method=InfoMax.encode)
    assert local.shape == (3, 2, 2, 8) and glob.shape == (3, 16) and mean.shape == log_scale.shape == (3, 5)
    g, l = model.apply(params, local, glob, mean, method=InfoMax.critics)
    assert g.shape == (3,) and l.shape == (3, 2, 2)
