"""Energy-based model (Du & Mordatch 2019, SPEC 6) configs.

Step sizes are eps of ``x - (eps/2) grad U + sigma xi`` (``zoo.ebm.langevin``): IGEBM's
code writes ``x - step_lr * grad + noise``, so its step_lr = 10 is eps = 20 here.
"""

from zoo.train.config import Config, OptimizerConfig

CONFIGS = ('digits', 'cifar10')


def digits() -> Config:
    """The embedded default: 8x8 digits, 17 levels; a few minutes on 2 CPU cores.

    IGEBM's recipe scaled down: a small convnet, Adam with beta1 = 0, a large gradient
    step with small noise; alpha = 0.1 rather than 1 because 64-pixel images give
    energies far smaller gradients than 3072-pixel ones, and alpha = 1 pins U so close
    to zero that chains barely move.
    """
    return Config(
        task='ebm', dataset='digits', model=dict(features=(32, 64, 64), hidden=128, spectral_norm=True),
        task_kwargs=dict(langevin_steps=40, step_size=20.0, noise_scale=0.01, alpha=0.1, buffer_size=10_000,
                         reuse_prob=0.95, num_samples=64, sample_steps=200),
        steps=800, batch_size=64, eval_batch_size=300,
        optimizer=OptimizerConfig(lr=1e-3, b1=0.0, b2=0.999, warmup_steps=0),
        log_every=50, eval_every=400, sample_every=400, checkpoint_every=400)


def cifar10() -> Config:
    """IGEBM's unconditional CIFAR-10 recipe: spectrally normalised swish convnet, K = 60
    Langevin steps of step_lr 10 (eps = 20) with noise 0.005, replay buffer of 10,000
    reused with p = 0.95, alpha = 1, Adam lr 1e-4 betas (0, 0.999), batch 128.
    IGEBM's energy is a ResNet; here the plain strided convnet at its width.
    Anchor: FID about 40.6 (second-hand, SPEC 6)."""
    return Config(
        task='ebm', dataset='cifar10',
        model=dict(features=(128, 128, 256, 256), hidden=512, spectral_norm=True),
        task_kwargs=dict(langevin_steps=60, step_size=20.0, noise_scale=0.005, alpha=1.0, buffer_size=10_000,
                         reuse_prob=0.95, num_samples=64, sample_steps=200),
        steps=100_000, batch_size=128, eval_batch_size=500,
        optimizer=OptimizerConfig(lr=1e-4, b1=0.0, b2=0.999, warmup_steps=0),
        log_every=100, eval_every=5000, sample_every=2000, checkpoint_every=2000)
