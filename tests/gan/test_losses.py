"""GAN losses: known special cases and O-GAN's terms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.gan import divergences as fd
from zoo.gan import losses

KEYS = jax.random.split(jax.random.key(0), 4)
V_REAL = jax.random.normal(KEYS[0], (64,))
V_FAKE = jax.random.normal(KEYS[1], (64,)) - 0.5


def test_fgan_with_the_gan_row_is_the_standard_cross_entropy_gan():
    gan = fd.get('gan')
    bce = -jnp.mean(jax.nn.log_sigmoid(V_REAL)) - jnp.mean(jax.nn.log_sigmoid(-V_FAKE))
    np.testing.assert_allclose(losses.fgan_critic_loss(gan, V_REAL, V_FAKE), bce, rtol=1e-6)
    # Non-saturating: Goodfellow et al.'s -log D(G(z)); saturating: log(1 - D(G(z))).
    np.testing.assert_allclose(
        losses.fgan_generator_loss(gan, V_FAKE), -jnp.mean(jax.nn.log_sigmoid(V_FAKE)), rtol=1e-6
    )
    np.testing.assert_allclose(
        losses.fgan_generator_loss(gan, V_FAKE, 'saturating'), jnp.mean(jax.nn.log_sigmoid(-V_FAKE)), rtol=1e-6
    )


@pytest.mark.parametrize('name', sorted(fd.DIVERGENCES))
def test_fgan_critic_loss_is_minus_the_variational_bound(name):
    div = fd.get(name)
    bound = fd.variational_bound(div, div.activation(V_REAL), div.activation(V_FAKE))
    np.testing.assert_allclose(losses.fgan_critic_loss(div, V_REAL, V_FAKE), -bound, rtol=1e-5, atol=1e-6)
    assert jnp.isfinite(jax.grad(lambda v: losses.fgan_generator_loss(div, v, 'saturating'))(V_FAKE)).all()


def test_unknown_generator_objective_is_an_error():
    with pytest.raises(ValueError, match='unknown generator objective'):
        losses.fgan_generator_loss(fd.get('kl'), V_FAKE, 'minimax')


def test_wgan_and_hinge_losses():
    np.testing.assert_allclose(losses.wgan_critic_loss(V_REAL, V_FAKE), jnp.mean(V_FAKE) - jnp.mean(V_REAL))
    # The hinge is flat once real scores exceed 1 and fake scores are below -1.
    assert float(losses.hinge_critic_loss(V_REAL * 0 + 1.5, V_FAKE * 0 - 2.0)) == 0.0
    assert float(losses.hinge_critic_loss(jnp.zeros(3), jnp.zeros(3))) == 2.0
    assert float(losses.hinge_generator_loss(jnp.array([1.0, 3.0]))) == -2.0


def test_pearson_correlation_matches_numpy_and_ignores_affine_changes():
    a, b = np.asarray(jax.random.normal(KEYS[0], (2, 5, 10)))
    rho = losses.pearson_correlation(jnp.asarray(a), jnp.asarray(b))
    np.testing.assert_allclose(rho, [np.corrcoef(a[i], b[i])[0, 1] for i in range(5)], rtol=1e-5)
    np.testing.assert_allclose(losses.pearson_correlation(a, 3 * a - 2), 1.0, rtol=1e-6)
    np.testing.assert_allclose(losses.pearson_correlation(a, -a), -1.0, rtol=1e-6)


def test_gan_qp_critic_optimum_is_at_lambda_times_distance():
    """max over the gap D of D - D^2 / (2 lambda d) is at D = lambda d: the penalty's implied constraint."""
    d, weight = jnp.array([0.3, 1.2]), 10.0
    objective = lambda gap: jnp.sum(gap) - 2 * losses.gan_qp_penalty(gap, 0.0 * gap, d, weight)
    np.testing.assert_allclose(jax.grad(objective)(weight * d), 0.0, atol=1e-6)
    assert float(losses.gan_qp_penalty(jnp.ones(2), jnp.ones(2), d)) == 0.0


def test_pair_distance_kinds_and_errors():
    x, y = jnp.ones((2, 4, 4, 1)), jnp.zeros((2, 4, 4, 1))
    np.testing.assert_allclose(losses.pair_distance(x, 3 * x, 'l2_squared'), 4.0)
    np.testing.assert_allclose(losses.pair_distance(x, y, 'l1'), 1.0)
    assert float(losses.pair_distance(x, x)[0]) > 0  # floored: never a division by zero
    with pytest.raises(ValueError, match='unknown GAN-QP distance'):
        losses.pair_distance(x, y, 'l3')


def test_ogan_losses_reward_correlated_codes_and_separate_scores():
    z = jax.random.normal(KEYS[0], (16, 8))
    codes_real = jax.random.normal(KEYS[1], (16, 8))
    distance = jnp.ones(16)
    corr = lambda codes_fake: losses.ogan_generator_loss(codes_fake, z)
    assert float(corr(2.0 * z)) < float(corr(jax.random.normal(KEYS[2], (16, 8))))
    # The encoder gains (lower loss) from scoring real codes above fake ones.
    shift = lambda s: losses.ogan_critic_loss(codes_real + s, z, z, distance)
    assert float(jax.grad(shift)(0.0)) < 0


def test_normalize_code_gives_zero_mean_unit_variance_rows():
    codes = 5.0 + 3.0 * jax.random.normal(KEYS[0], (4, 32))
    normalized = losses.normalize_code(codes)
    np.testing.assert_allclose(jnp.mean(normalized, -1), 0.0, atol=1e-5)
    np.testing.assert_allclose(jnp.std(normalized, -1), 1.0, rtol=1e-5)
