"""GAN games: what the critic and the generator minimise, one small object per game.

    fgan      f-GAN, any row of the f-divergence table (Nowozin, Cseke & Tomioka 2016)
    wgan      Wasserstein critic (Arjovsky, Chintala & Bottou 2017); needs a Lipschitz constraint
    hinge     hinge loss (Lim & Ye 2017; Miyato et al. 2018)
    one_loss  the hinge game trained with one loss and one step for both networks (Su 2019)
    ogan      O-GAN: the critic is an encoder, GAN-QP penalty, correlation term (Su 2019)

A game is a frozen dataclass whose fields are its settings, checked when it is built
(``configure``: a bad or irrelevant setting is one ``ConfigError`` line).  Its methods
are pure functions of the critic's outputs; every loss is to be *minimised*:

    critic_loss(real, fake, x_real, x_fake, z) -> (loss, extra metrics)
    generator_loss(fake, z) -> (loss, extra metrics)
    evaluate(real, fake, z) -> {name: (N,) per-example values}
    score(outputs) -> (N,)      D(x), the scalar each critic output stands for
    latent(outputs) -> z        where the critic also inverts the generator (O-GAN), else absent

``real`` and ``fake`` are the critic's outputs on data ``x_real`` and on ``x_fake = G(z)``.
Every game's critic scores data *high*.  Class attributes say how a game is played:
``joint`` (one loss, one step for both networks, instead of alternating updates),
``headline`` (its main evaluation number), ``lipschitz`` (the constraints it accepts).

Adding a game: one class here and one line in ``GAMES``.
"""

import dataclasses
from typing import ClassVar

import jax.numpy as jnp

from zoo.gan import divergences, losses
from zoo.gan.constraints import CONSTRAINTS
from zoo.train.config import ConfigError

ANY_CONSTRAINT = tuple(CONSTRAINTS)


def _positive(name: str, value, integer: bool = False) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        raise ConfigError(f'{name} must be a positive {"integer" if integer else "number"}, got {value!r}')


@dataclasses.dataclass(frozen=True)
class Game:
    """Defaults every game shares: alternating updates, a scalar critic, the critic gap as headline.

    ``critic_steps``: critic updates (same real batch, fresh z each) before each generator
    update against the updated critic (Arjovsky et al. 2017, Algorithm 1's n_critic).
    """

    critic_steps: int = 1

    joint: ClassVar[bool] = False
    headline: ClassVar[str] = 'critic_gap'
    lipschitz: ClassVar[tuple[str, ...]] = ANY_CONSTRAINT

    def __post_init__(self):
        _positive('critic_steps', self.critic_steps, integer=True)

    def critic_features(self, latent_dim: int) -> int:
        """Width of the critic's output: 1 (a score) for most games."""
        return 1

    def score(self, outputs):
        """The critic's scalar score D(x) from its outputs (the outputs themselves for most games)."""
        return outputs

    def evaluate(self, real, fake, z) -> dict:
        """E[D(x)] - E[D(G(z))] per example: how far apart the critic holds data and samples."""
        return {'critic_gap': self.score(real) - self.score(fake)}


@dataclasses.dataclass(frozen=True)
class FGAN(Game):
    """f-GAN (Nowozin, Cseke & Tomioka 2016, "f-GAN: Training Generative Neural Samplers using
    Variational Divergence Minimization").

        F(theta, omega) = E_P[g_f(V(x))] - E_Q[f*(g_f(V(x)))]          (sec. 3, eq. 6)

    The critic maximises F, a lower bound on D_f(P || Q_theta) (sec. 2, eq. 4), so its
    loss is -F and -loss, ``divergence_bound``, estimates the divergence.  The generator
    minimises -E_Q[f*(g_f(V))] ('saturating', the minimax game) or -E_Q[g_f(V)]
    ('non_saturating', the paper's alternative under "practical considerations";
    Goodfellow et al.'s -log D for the GAN row).  ``divergence`` is a row of
    ``zoo.gan.divergences``.  ``critic_penalty`` lam adds lam (E_P[V^2] + E_Q[V^2]) / 2 to the
    critic's loss: for total variation, whose bound grows until the critic's tanh saturates and
    the generator's gradient vanishes, it keeps V finite with the sign of p - q.
    """

    divergence: str = 'js'
    generator_objective: str = 'non_saturating'
    critic_penalty: float = 0.0

    headline: ClassVar[str] = 'divergence_bound'

    def __post_init__(self):
        super().__post_init__()
        if self.divergence not in divergences.DIVERGENCES:
            raise ConfigError(f'divergence={self.divergence!r}: choose one of {sorted(divergences.DIVERGENCES)}')
        if not self.critic_penalty >= 0:
            raise ConfigError(f'critic_penalty={self.critic_penalty!r}: must be 0 or more')
        if self.generator_objective not in losses.GENERATOR_OBJECTIVES:
            raise ConfigError(
                f'generator_objective={self.generator_objective!r}: choose one of {list(losses.GENERATOR_OBJECTIVES)}'
            )

    @property
    def row(self) -> divergences.FDivergence:
        """The f-divergence table row (f, conjugate f*, output activation g_f) this game uses."""
        return divergences.DIVERGENCES[self.divergence]

    def critic_loss(self, real, fake, x_real, x_fake, z):
        """Minus the variational bound: -(E[g_f(V(x))] - E[f*(g_f(V(G(z))))]) (Nowozin et al. 2016, eq. 6)."""
        loss = losses.fgan_critic_loss(self.row, real, fake)
        metrics = {'divergence_bound': -loss}
        if self.critic_penalty:
            loss = loss + self.critic_penalty * ((jnp.mean(real**2) + jnp.mean(fake**2)) / 2)
        return loss, metrics

    def generator_loss(self, fake, z):
        """The generator's side of the bound: saturating -E[f*(g_f(V(G(z))))] or the non-saturating E[-g_f(V(G(z)))]."""
        return losses.fgan_generator_loss(self.row, fake, self.generator_objective), {}

    def evaluate(self, real, fake, z) -> dict:
        """g_f(V(x_i)) - f*(g_f(V(G(z_i)))): their mean is the variational bound F."""
        return {'divergence_bound': self.row.activation(real) - self.row.conjugate_of_activation(fake)}


@dataclasses.dataclass(frozen=True)
class WGAN(Game):
    """Wasserstein GAN (Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN", sec. 3).

        W_1(P, Q) = sup_{Lip(D) <= 1} E_P[D] - E_Q[D]      (Kantorovich-Rubinstein duality, eq. 3)

    critic: E_Q[D] - E_P[D]; generator: -E_Q[D(G(z))].  The supremum is over 1-Lipschitz
    critics, so an unconstrained critic makes the loss unbounded: choose a constraint
    (clipping as in the paper, the gradient penalty of Gulrajani et al. 2017, or spectral
    normalisation).
    """

    lipschitz: ClassVar[tuple[str, ...]] = tuple(c for c in ANY_CONSTRAINT if c != 'none')

    def critic_loss(self, real, fake, x_real, x_fake, z):
        """E[D(G(z))] - E[D(x)] (Arjovsky et al. 2017); the Lipschitz constraint is added separately."""
        return losses.wgan_critic_loss(real, fake), {}

    def generator_loss(self, fake, z):
        """-E[D(G(z))]."""
        return losses.wgan_generator_loss(fake), {}


@dataclasses.dataclass(frozen=True)
class Hinge(Game):
    """The hinge game (Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, "Spectral Normalization
    for Generative Adversarial Networks", eqs. 16-17).

        critic:    E_P[max(0, 1 - D(x))] + E_Q[max(0, 1 + D(G(z)))]
        generator: -E_Q[D(G(z))]
    """

    def critic_loss(self, real, fake, x_real, x_fake, z):
        """E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
        return losses.hinge_critic_loss(real, fake), {}

    def generator_loss(self, fake, z):
        """-E[D(G(z))]."""
        return losses.hinge_generator_loss(fake), {}


@dataclasses.dataclass(frozen=True)
class OneLoss(Hinge):
    """The hinge game as one loss, minimised by one step of both networks (Su 2019,
    "巧断梯度：单个loss实现GAN模型", "Cutting the gradient cleverly: a GAN with a single loss",
    Scientific Spaces blog, kexue.fm).

    With G_ng = stop_gradient(G(z)) the task minimises, over both networks at once,

        L = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G_ng))] + lambda E[D(G_ng) - D(G(z))]
          = critic_loss(D(x), D(G_ng)) + generator_loss(D(G(z))) - generator_loss(D(G_ng))

    with generator_loss = -lambda E[D].  The last two terms are equal in value (the same
    critic on the same points) and their critic gradients cancel, so the critic's gradient
    is the hinge loss's, while the generator's is lambda grad E[-D(G(z))]: lambda plays the
    generator-to-critic step-size ratio.  (The article scores data low, D = -D here.)
    """

    one_loss_weight: float = 1.0

    joint: ClassVar[bool] = True

    def __post_init__(self):
        super().__post_init__()
        if self.critic_steps != 1:
            raise ConfigError(f'critic_steps={self.critic_steps}: the one-loss GAN updates both networks in one step')
        _positive('one_loss_weight', self.one_loss_weight)

    def generator_loss(self, fake, z):
        """lambda * -E[D(G(z))], lambda = ``one_loss_weight``: the generator's term of the one loss."""
        return self.one_loss_weight * losses.hinge_generator_loss(fake), {}


@dataclasses.dataclass(frozen=True)
class OGAN(Game):
    """O-GAN (Su 2019, "O-GAN: Extremely Concise Approach for Auto-Encoding Generative Adversarial
    Networks", arXiv:1903.01931, eq. 8).

    The critic is an encoder E: x -> R^latent_dim with D(x) = mean_i E_i(x); both losses
    add -lambda rho(z, E(G(z))) (Pearson correlation, ``corr_weight``), so that E inverts G
    up to the code's mean and scale: x_hat = G(normalise(E(x))) (``latent``).  The critic is
    kept in check by GAN-QP's quadratic potential (Su 2018, "GAN-QP: A Novel GAN Framework
    without Gradient Vanishing and Lipschitz Constraint", eq. 20) with weight ``qp_weight``
    and pair distance ``qp_distance``, not by a gradient penalty.
    """

    corr_weight: float = 0.5
    qp_weight: float = 2.0
    qp_distance: str = 'l2_squared'

    lipschitz: ClassVar[tuple[str, ...]] = ('none', 'spectral')

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.corr_weight, (int, float)) or self.corr_weight < 0:
            raise ConfigError(f'corr_weight must be a number >= 0, got {self.corr_weight!r}')
        _positive('qp_weight', self.qp_weight)
        if self.qp_distance not in losses.PAIR_DISTANCES:
            raise ConfigError(f'qp_distance={self.qp_distance!r}: choose one of {list(losses.PAIR_DISTANCES)}')

    def critic_features(self, latent_dim: int) -> int:
        """The critic outputs a code of ``latent_dim`` numbers; its score is derived from it."""
        return latent_dim

    def score(self, outputs):
        """D(x) = the mean over the code's dimensions of E(x) (O-GAN's critic from an encoder)."""
        return losses.ogan_score(outputs)

    def latent(self, outputs):
        """The code normalised to zero mean and unit variance: the encoder's estimate of z."""
        return losses.normalize_code(outputs)

    def critic_loss(self, real, fake, x_real, x_fake, z):
        """The encoder's GAN-QP loss plus -lambda rho(z, E(G(z))) (Su 2019, eq. 8): ``losses.ogan_critic_loss``."""
        distance = losses.pair_distance(x_real, x_fake, self.qp_distance)
        return losses.ogan_critic_loss(real, fake, z, distance, self.qp_weight, self.corr_weight), {}

    def generator_loss(self, fake, z):
        """-E[D(G(z))] - lambda rho(z, E(G(z))): the score plus the code's Pearson correlation with z."""
        correlation = jnp.mean(losses.pearson_correlation(z, fake))
        return losses.ogan_generator_loss(fake, z, self.corr_weight), {'correlation': correlation}

    def evaluate(self, real, fake, z) -> dict:
        """The critic gap and the per-example Pearson correlation between z and E(G(z))."""
        return {**super().evaluate(real, fake, z), 'correlation': losses.pearson_correlation(z, fake)}


GAMES: dict[str, type[Game]] = {
    'fgan': FGAN,
    'wgan': WGAN,
    'hinge': Hinge,
    'one_loss': OneLoss,
    'ogan': OGAN,
}


def configure(game: str, lipschitz: str, settings: dict):
    """(game, constraint) objects from their names and the settings meant for either.

    Every setting must be a field of the game or of the constraint; one that is neither
    (a typo, or a setting of another game) is a ``ConfigError`` naming what would apply.
    """
    if game not in GAMES:
        raise ConfigError(f'game={game!r}: choose one of {list(GAMES)}')
    if lipschitz not in CONSTRAINTS:
        raise ConfigError(f'lipschitz={lipschitz!r}: choose one of {list(CONSTRAINTS)}')
    game_cls, constraint_cls = GAMES[game], CONSTRAINTS[lipschitz]
    if lipschitz not in game_cls.lipschitz:
        raise ConfigError(
            f'game={game} does not work with lipschitz={lipschitz}; choose one of {list(game_cls.lipschitz)}'
        )
    game_fields = [f.name for f in dataclasses.fields(game_cls)]
    constraint_fields = [f.name for f in dataclasses.fields(constraint_cls)]
    unknown = sorted(set(settings) - set(game_fields) - set(constraint_fields))
    if unknown:
        raise ConfigError(
            f'settings {unknown} do nothing for game={game} with lipschitz={lipschitz}; '
            f'the game takes {game_fields}, the constraint {constraint_fields}'
        )
    pick = lambda names: {k: v for k, v in settings.items() if k in names}
    return game_cls(**pick(game_fields)), constraint_cls(**pick(constraint_fields))
