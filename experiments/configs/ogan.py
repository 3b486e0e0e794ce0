"""O-GAN (Su 2019): the discriminator is an encoder; correlation term; GAN-QP penalty."""

from experiments.configs.gan_common import gan_config

CONFIGS = ('digits', 'cifar10', 'celeba64')


def digits():
    """8x8 digits with a 32-dimensional code; the loss weights of Su's O-GAN code
    (Su 2019, arXiv 1903.01931): 0.5 correlation, 0.25 (dT)^2 / mean sq."""
    return gan_config(
        'ogan',
        'digits',
        channels=32,
        latent_dim=32,
        steps=3000,
        batch_size=64,
        lr=5e-4,
        every=1000,
        corr_weight=0.5,
        qp_weight=2.0,
        qp_distance='l2_squared',
    )


def cifar10():
    """The O-GAN recipe (Su 2019, sec. 4) on 32x32: z in R^128, Adam 2e-4 (beta1 0.5), batch 64."""
    return gan_config(
        'ogan',
        'cifar10',
        channels=64,
        latent_dim=128,
        steps=100_000,
        batch_size=64,
        lr=2e-4,
        every=5000,
        corr_weight=0.5,
        qp_weight=2.0,
        qp_distance='l2_squared',
    )


def celeba64():
    """The paper's CelebA setting at 64x64 (the paper also trains 128x128 CelebA-HQ): z in R^128,
    Adam 2e-4 (beta1 0.5), batch 64."""
    return gan_config(
        'ogan',
        'celeb_a',
        channels=64,
        latent_dim=128,
        steps=100_000,
        batch_size=64,
        lr=2e-4,
        every=5000,
        corr_weight=0.5,
        qp_weight=2.0,
        qp_distance='l2_squared',
    )
