"""f-GAN (Nowozin et al. 2016) configs: any divergence of zoo.gan.divergences (--set task_kwargs.divergence=kl)."""

from experiments.configs.gan_common import gan_config

CONFIGS = ('digits', 'mnist', 'cifar10', 'celeba64')


def digits():
    """8x8 digits, DCGAN nets with one up/down-sampling stage; a few minutes on 2 CPU cores."""
    return gan_config(
        'fgan',
        'digits',
        channels=32,
        latent_dim=32,
        steps=3000,
        batch_size=64,
        lr=5e-4,
        log_every=100,
        every=1000,
        divergence='js',
    )


def mnist():
    """The paper's MNIST setting (sec. 4.1): every divergence trains the same generator; here DCGAN nets,
    Adam 2e-4 (beta1 0.5), batch 64."""
    return gan_config(
        'fgan', 'mnist', channels=64, latent_dim=100, steps=20_000, batch_size=64, lr=2e-4, divergence='js'
    )


def cifar10():
    """DCGAN (Radford et al. 2016) on 32x32: 64-channel base, z in R^100, Adam 2e-4 (beta1 0.5), batch 64;
    the GAN row of the table is Goodfellow's game with the non-saturating generator loss."""
    return gan_config(
        'fgan',
        'cifar10',
        channels=64,
        latent_dim=100,
        steps=100_000,
        batch_size=64,
        lr=2e-4,
        every=5000,
        divergence='gan',
    )


def celeba64():
    """The paper's LSUN/64x64 setting (sec. 4.2) transferred to CelebA 64x64: DCGAN, Adam 2e-4, batch 64."""
    return gan_config(
        'fgan',
        'celeb_a',
        channels=64,
        latent_dim=100,
        steps=100_000,
        batch_size=64,
        lr=2e-4,
        every=5000,
        divergence='gan',
    )
