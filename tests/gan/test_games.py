"""Each game's losses against values worked out by hand, and settings checked where the game is."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from zoo.gan import games
from zoo.gan.constraints import Clip, GradientPenalty, Spectral
from zoo.train.config import ConfigError

REAL, FAKE = jnp.array([0.5, 2.0]), jnp.array([-2.0, 0.0])
X, Z = jnp.zeros((2, 3)), jnp.zeros((2, 4))


def losses(game, real=REAL, fake=FAKE):
    return float(game.critic_loss(real, fake, X, X, Z)[0]), float(game.generator_loss(fake, Z)[0])


def test_fgan_kl():
    """KL row: g_f(v) = v, f*(t) = exp(t - 1)."""
    critic, generator = losses(games.FGAN(divergence='kl'))
    bound = (0.5 + 2.0) / 2 - (math.exp(-3.0) + math.exp(-1.0)) / 2
    assert critic == pytest.approx(-bound, rel=1e-6)
    assert generator == pytest.approx(1.0, rel=1e-6)  # non-saturating: -E_Q[g_f(V)] = -(-2 + 0) / 2
    saturating = games.FGAN(divergence='kl', generator_objective='saturating')
    assert losses(saturating)[1] == pytest.approx(-(math.exp(-3.0) + math.exp(-1.0)) / 2, rel=1e-6)


def test_fgan_gan_row_is_the_cross_entropy_game():
    """GAN row: critic -E_P[log sigmoid(V)] - E_Q[log(1 - sigmoid(V))]; generator -E_Q[log sigmoid(V)]."""
    log_sigmoid = lambda v: -math.log1p(math.exp(-v))
    critic, generator = losses(games.FGAN(divergence='gan'))
    assert critic == pytest.approx(
        -(log_sigmoid(0.5) + log_sigmoid(2.0)) / 2 - (log_sigmoid(2.0) + log_sigmoid(0.0)) / 2, rel=1e-6
    )
    assert generator == pytest.approx(-(log_sigmoid(-2.0) + log_sigmoid(0.0)) / 2, rel=1e-6)


def test_fgan_evaluation_averages_to_the_bound_the_critic_maximises():
    game = games.FGAN(divergence='js')
    values = game.evaluate(REAL, FAKE, Z)['divergence_bound']
    assert values.shape == (2,)
    assert float(jnp.mean(values)) == pytest.approx(-losses(game)[0], rel=1e-6)


def test_fgan_critic_penalty_adds_lam_times_the_mean_square_and_leaves_the_bound():
    """TV row: bound E_P[tanh(V) / 2] - E_Q[tanh(V) / 2]; the penalty lam (E_P[V^2] + E_Q[V^2]) / 2
    is the critic's alone."""
    game = games.FGAN(divergence='total_variation', generator_objective='saturating', critic_penalty=0.1)
    bound = (math.tanh(0.5) + math.tanh(2.0)) / 4 - (math.tanh(-2.0) + math.tanh(0.0)) / 4
    loss, metrics = game.critic_loss(REAL, FAKE, X, X, Z)
    assert float(loss) == pytest.approx(-bound + 0.1 * ((0.25 + 4.0) / 2 + (4.0 + 0.0) / 2) / 2, rel=1e-6)
    assert float(metrics['divergence_bound']) == pytest.approx(bound, rel=1e-6)
    assert losses(game)[1] == losses(games.FGAN(divergence='total_variation', generator_objective='saturating'))[1]


def test_wgan_hinge_and_one_loss():
    assert losses(games.WGAN()) == pytest.approx((-1.0 - 1.25, 1.0))
    # hinge: E[max(0, 1 - (0.5, 2))] + E[max(0, 1 + (-2, 0))] = 0.25 + 0.5
    assert losses(games.Hinge()) == pytest.approx((0.75, 1.0))
    assert losses(games.OneLoss(one_loss_weight=2.0)) == pytest.approx((0.75, 2.0))
    np.testing.assert_allclose(games.WGAN().evaluate(REAL, FAKE, Z)['critic_gap'], [2.5, 2.0])


def test_ogan():
    """z = (1, 2, 3), E(G(z)) = (2, 4, 6): correlation 1, D(G(z)) = 4; E(x) = (1, 1, 1): D(x) = 1;
    x_real = 0, x_fake = 1: mean squared distance 1, GAN-QP penalty (1 - 4)^2 / (2 * 2 * 1)."""
    game = games.OGAN(corr_weight=0.5, qp_weight=2.0, qp_distance='l2_squared')
    z, real, fake = jnp.array([[1.0, 2.0, 3.0]]), jnp.ones((1, 3)), jnp.array([[2.0, 4.0, 6.0]])
    critic = game.critic_loss(real, fake, jnp.zeros((1, 5)), jnp.ones((1, 5)), z)[0]
    assert float(critic) == pytest.approx((4 - 1) + 9 / 4 - 0.5, rel=1e-5)
    loss, metrics = game.generator_loss(fake, z)
    assert float(loss) == pytest.approx(-4 - 0.5, rel=1e-5) and float(metrics['correlation']) == pytest.approx(1.0)
    assert game.critic_features(7) == 7 and games.FGAN().critic_features(7) == 1
    np.testing.assert_allclose(game.latent(fake), [[-math.sqrt(1.5), 0.0, math.sqrt(1.5)]], rtol=1e-5)


def test_configure_builds_the_game_and_the_constraint_from_one_set_of_settings():
    game, constraint = games.configure('wgan', 'gradient_penalty', {'penalty_weight': 5.0, 'critic_steps': 3})
    assert game == games.WGAN(critic_steps=3) and constraint == GradientPenalty(penalty_weight=5.0)
    assert games.configure('hinge', 'clip', {})[1] == Clip()
    assert games.configure('fgan', 'spectral', {'divergence': 'kl'}) == (games.FGAN(divergence='kl'), Spectral())


@pytest.mark.parametrize(
    'game, lipschitz, settings, message',
    [
        ('lsgan', 'none', {}, r"game='lsgan': choose one of \['fgan', 'wgan', 'hinge', 'one_loss', 'ogan'\]"),
        ('fgan', 'sn', {}, r"lipschitz='sn': choose one of"),
        ('wgan', 'none', {}, 'game=wgan does not work with lipschitz=none'),
        ('ogan', 'gradient_penalty', {}, 'game=ogan does not work with lipschitz=gradient_penalty'),
        ('wgan', 'spectral', {'divergence': 'kl'}, r"settings \['divergence'\] do nothing for game=wgan"),
        ('fgan', 'none', {'penalty_weight': 10.0}, r"settings \['penalty_weight'\] do nothing"),
        ('fgan', 'none', {'divergence': 'wasserstein'}, r"divergence='wasserstein': choose one of"),
        ('fgan', 'none', {'generator_objective': 'minimax'}, 'generator_objective'),
        ('fgan', 'none', {'critic_penalty': -0.01}, 'critic_penalty=-0.01: must be 0 or more'),
        ('hinge', 'none', {'critic_steps': 0}, 'critic_steps must be a positive integer'),
        ('hinge', 'none', {'critic_steps': 1.5}, 'critic_steps must be a positive integer'),
        ('one_loss', 'spectral', {'critic_steps': 2}, 'updates both networks in one step'),
        ('one_loss', 'spectral', {'one_loss_weight': -1.0}, 'one_loss_weight must be a positive number'),
        ('ogan', 'none', {'qp_distance': 'l3'}, r"qp_distance='l3'"),
        ('ogan', 'none', {'corr_weight': -0.5}, 'corr_weight must be a number >= 0'),
        ('wgan', 'gradient_penalty', {'penalty_weight': 0.0}, 'penalty_weight must be > 0'),
        ('wgan', 'clip', {'clip_limit': -0.01}, 'clip_limit must be > 0'),
    ],
)
def test_bad_settings_are_one_line_config_errors(game, lipschitz, settings, message):
    with pytest.raises(ConfigError, match=message) as error:
        games.configure(game, lipschitz, settings)
    assert '\n' not in str(error.value)
