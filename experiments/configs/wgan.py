"""WGAN configs: gradient penalty (Gulrajani et al. 2017) or spectral normalisation (Miyato et al. 2018)."""

from experiments.configs.gan_common import gan_config

CONFIGS = ('digits', 'digits_sn', 'cifar10', 'cifar10_sn', 'celeba64')


def digits():
    """WGAN-GP on 8x8 digits: lambda = 10, two critic updates per generator update, Adam (0.5, 0.9)."""
    return gan_config(
        'wgan',
        'digits',
        channels=32,
        latent_dim=32,
        steps=2000,
        batch_size=64,
        lr=5e-4,
        b2=0.9,
        every=1000,
        lipschitz='gradient_penalty',
        penalty_weight=10.0,
        critic_steps=2,
    )


def digits_sn():
    """WGAN with a spectrally normalised critic (Su's Lipschitz
    article, Scientific Spaces 2018, reports it converges in fewer epochs than GP)."""
    return gan_config(
        'wgan',
        'digits',
        channels=32,
        latent_dim=32,
        steps=2000,
        batch_size=64,
        lr=5e-4,
        b2=0.9,
        every=1000,
        lipschitz='spectral',
        critic_steps=2,
    )


def cifar10():
    """The WGAN-GP paper's CIFAR-10 recipe: lambda 10, n_critic 5, Adam lr 1e-4 (beta1 0, beta2 0.9),
    batch 64, 100k generator updates (each train step here is one generator update)."""
    return gan_config(
        'wgan',
        'cifar10',
        channels=64,
        latent_dim=128,
        steps=100_000,
        batch_size=64,
        lr=1e-4,
        b1=0.0,
        b2=0.9,
        every=5000,
        lipschitz='gradient_penalty',
        penalty_weight=10.0,
        critic_steps=5,
    )


def cifar10_sn():
    """The WGAN loss with a spectrally normalised critic and SN-GAN's standard-CNN optimizer setting
    (Miyato et al. 2018: Adam 2e-4, beta1 0.5, beta2 0.999, n_dis 1, batch 64).  The paper's
    8.22 Inception score / 21.7 FID are for its ResNet with the hinge loss, an anchor, not a target here."""
    return gan_config(
        'wgan',
        'cifar10',
        channels=64,
        latent_dim=128,
        steps=100_000,
        batch_size=64,
        lr=2e-4,
        every=5000,
        lipschitz='spectral',
        critic_steps=1,
    )


def celeba64():
    """WGAN-GP on CelebA 64x64 with the CIFAR-10 recipe."""
    return gan_config(
        'wgan',
        'celeb_a',
        channels=64,
        latent_dim=128,
        steps=100_000,
        batch_size=64,
        lr=1e-4,
        b1=0.0,
        b2=0.9,
        every=5000,
        lipschitz='gradient_penalty',
        penalty_weight=10.0,
        critic_steps=5,
    )
