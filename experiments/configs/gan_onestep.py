"""The one-loss GAN (Su's one-loss GAN article, Scientific Spaces, 2019): one loss, one
gradient step updates the generator and the critic."""

from experiments.configs.gan_common import gan_config

CONFIGS = ('digits', 'cifar10', 'celeba64')


def digits():
    """Hinge one-loss GAN with a spectrally normalised critic on 8x8 digits; lambda = 1 (equal step sizes)."""
    return gan_config(
        'gan_onestep',
        'digits',
        channels=32,
        latent_dim=32,
        steps=3000,
        batch_size=64,
        lr=5e-4,
        every=1000,
        lipschitz='spectral',
        one_loss_weight=1.0,
    )


def cifar10():
    """The article's recipe: spectral normalisation, hinge loss, Adam 2e-4 (beta1 0.5), batch 64."""
    return gan_config(
        'gan_onestep',
        'cifar10',
        channels=64,
        latent_dim=128,
        steps=100_000,
        batch_size=64,
        lr=2e-4,
        every=5000,
        lipschitz='spectral',
        one_loss_weight=1.0,
    )


def celeba64():
    """The article's CelebA 64x64 run with the same recipe."""
    return gan_config(
        'gan_onestep',
        'celeb_a',
        channels=64,
        latent_dim=128,
        steps=100_000,
        batch_size=64,
        lr=2e-4,
        every=5000,
        lipschitz='spectral',
        one_loss_weight=1.0,
    )
