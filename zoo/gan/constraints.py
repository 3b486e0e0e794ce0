"""How a GAN's critic is kept (roughly) Lipschitz: one small object per constraint.

    none               nothing
    spectral           W / sigma(W) in every critic layer's forward pass (Miyato et al. 2018, sec. 2.1);
                       the critic is built with spectral layers, the power-iteration
                       vectors live in ``state.aux['critic']``
    gradient_penalty   + lambda E[(|grad_x D(x_hat)| - 1)^2] on interpolates x_hat
                       (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", sec. 4, eq. 3)
    one_sided_penalty  + lambda E[max(|grad_x D(x_hat)| - 1, 0)^2] (Petzka et al. 2018, "On the
                       regularization of Wasserstein GANs", sec. 4)
    clip               every critic weight clipped to [-c, c] after each update
                       (Arjovsky et al. 2017, "Wasserstein GAN", sec. 3, Algorithm 1)

A constraint is a frozen dataclass whose fields are its settings (``penalty_weight``,
``clip_limit``), checked when it is built.  It tells the task three things:

    spectral                       whether the critic's layers are spectrally normalised
    penalty(critic, key, x_real, x_fake) -> {name: scalar}   terms added to the critic's loss
    project(critic_params) -> critic_params                   applied after each critic update

The math (power iteration, interpolates, the penalty) is shared with the other
families in ``zoo.lipschitz``.
"""

import dataclasses
from typing import ClassVar

from zoo import lipschitz
from zoo.train.config import ConfigError


@dataclasses.dataclass(frozen=True)
class Unconstrained:
    """No constraint: the critic as it is."""

    spectral: ClassVar[bool] = False

    def penalty(self, critic, key, x_real, x_fake) -> dict:
        """Extra critic-loss terms by name; none without a constraint."""
        return {}

    def project(self, critic_params):
        """The critic's parameters after an update; unchanged without a constraint."""
        return critic_params


@dataclasses.dataclass(frozen=True)
class Spectral(Unconstrained):
    """Spectral normalisation in the critic's forward pass (SN-GAN, Miyato et al. 2018, sec. 2.1)."""

    spectral: ClassVar[bool] = True


@dataclasses.dataclass(frozen=True)
class GradientPenalty(Unconstrained):
    """lambda E[(|grad_x D(x_hat)| - 1)^2], x_hat = e x_real + (1 - e) x_fake, e ~ U[0, 1]
    (Gulrajani et al. 2017, sec. 4, eq. 3; lambda = 10 there)."""

    penalty_weight: float = 10.0
    one_sided: ClassVar[bool] = False

    def __post_init__(self):
        if not self.penalty_weight > 0:
            raise ConfigError(f'penalty_weight must be > 0, got {self.penalty_weight}')

    def penalty(self, critic, key, x_real, x_fake) -> dict:
        """lambda E[(||grad D(x_hat)|| - 1)^2] at x_hat between real and fake (one-sided: only above 1)."""
        return {
            'gradient_penalty': lipschitz.gradient_penalty(
                critic, key, x_real, x_fake, self.penalty_weight, one_sided=self.one_sided
            )
        }


@dataclasses.dataclass(frozen=True)
class OneSidedPenalty(GradientPenalty):
    """lambda E[max(|grad_x D(x_hat)| - 1, 0)^2]: only gradients above 1 are penalised
    (Petzka et al. 2018, sec. 4)."""

    one_sided: ClassVar[bool] = True


@dataclasses.dataclass(frozen=True)
class Clip(Unconstrained):
    """w <- clip(w, -c, c) for every critic weight after each update (Arjovsky et al. 2017, Algorithm 1;
    c = 0.01 there)."""

    clip_limit: float = 0.01

    def __post_init__(self):
        if not self.clip_limit > 0:
            raise ConfigError(f'clip_limit must be > 0, got {self.clip_limit}')

    def project(self, critic_params):
        """Every critic weight clipped to [-c, c] after the update (WGAN, Arjovsky et al. 2017)."""
        return lipschitz.clip_weights(critic_params, self.clip_limit)


CONSTRAINTS = {
    'none': Unconstrained,
    'spectral': Spectral,
    'gradient_penalty': GradientPenalty,
    'one_sided_penalty': OneSidedPenalty,
    'clip': Clip,
}
