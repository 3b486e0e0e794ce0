"""Class-conditional GAN configs: projection critic with spectral normalisation and a generator
with class-conditional batch normalisation (Miyato & Koyama 2018), hinge loss by default;
any other score game with ``--set task_kwargs.game=fgan`` (or wgan, one_loss)."""

from experiments.configs.gan_common import gan_config

CONFIGS = ('digits', 'mnist', 'mnist32')


def digits():
    """8x8 digits, as ``gan_onestep.digits``' budget: 3000 steps, batch 64, Adam 5e-4 (beta1 0.5)."""
    return gan_config(
        'cgan', 'digits', channels=32, latent_dim=32, steps=3000, batch_size=64, lr=5e-4, every=1000, game='hinge'
    )


def mnist():
    """MNIST 28x28, two DCGAN stages, 20k steps at batch 64, Adam 2e-4 (the projection paper's rate)."""
    return gan_config(
        'cgan', 'mnist', channels=64, latent_dim=64, steps=20_000, batch_size=64, lr=2e-4, every=5000, game='hinge'
    )


def mnist32():
    """The 32x32 MNIST npz (9000 train / 1000 test, labelled: ``--dataset npz:PATH``): three
    DCGAN stages (32 -> 16 -> 8 -> 4) of width 32 (``mnist``'s 64 is four times the time a
    step), Adam 2e-4 (the projection paper's rate), batch 64, 3000 steps (21 epochs), a
    checkpoint every 1000 (the last three kept: ``experiments.conditional_curve`` scores them).
    A GPU budget: on the shared 2-core CPU a step took 9.9 s (RESULTS.md, "Conditional models")."""
    return gan_config(
        'cgan',
        'npz:mnist32.npz',
        channels=32,
        latent_dim=64,
        steps=3000,
        batch_size=64,
        lr=2e-4,
        every=1000,
        game='hinge',
    )
