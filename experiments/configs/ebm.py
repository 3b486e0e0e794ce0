"""Energy-based model configs (Du & Mordatch 2019, "Implicit Generation and Modeling with
Energy-Based Models", IGEBM).

Step sizes are eps of ``x - (eps/2) grad U + sigma xi`` (``zoo.ebm.langevin``): IGEBM's
code writes ``x - step_lr * grad + noise``, so its step_lr = 10 is eps = 20 here.

The small-image configs (digits, mnist32) train a *short-run* EBM (Nijkamp et al. 2019,
"Learning non-convergent non-persistent short-run MCMC toward energy-based model"): no
spectral normalisation, every chain starts from U[0, 1] noise and runs K steps, and
samples are the same K-step chains on an EMA of the energy's weights.  Why, with every
variant measured: RESULTS.md, "Energy-based models".
"""

from zoo.train.config import Config, OptimizerConfig

CONFIGS = ('digits', 'mnist32', 'cifar10')


def digits() -> Config:
    """The embedded default: 8x8 digits, 17 levels; a short-run EBM, under 2 minutes on one CPU core.

    A small swish convnet without spectral normalisation, K = 40 Langevin steps of eps = 20
    with noise 0.01 from U[0, 1] noise every step (no reuse), alpha = 0.1, Adam lr 1e-3
    with beta1 = 0, and samples from 40-step chains on the EMA (0.99) of the weights.
    """
    return Config(
        task='ebm',
        dataset='digits',
        model=dict(features=(32, 64, 64), hidden=128, spectral_norm=False),
        task_kwargs=dict(
            langevin_steps=40,
            step_size=20.0,
            noise_scale=0.01,
            alpha=0.1,
            buffer_size=1000,
            reuse_prob=0.0,
            num_samples=64,
            sample_steps=40,
            sample_source='fresh',
        ),
        steps=800,
        batch_size=64,
        eval_batch_size=300,
        optimizer=OptimizerConfig(lr=1e-3, b1=0.0, b2=0.999, warmup_steps=0, ema_decay=0.99),
        log_every=50,
        eval_every=400,
        sample_every=400,
        checkpoint_every=400,
    )


def mnist32() -> Config:
    """MNIST padded to 32x32 as an npz (uint8 x_train / x_test of shape (N, 32, 32, 1)) with
    ``--dataset npz:PATH``, 300 s of training:
    ``make train-ebm ARGS='--config mnist32 --dataset npz:PATH'``.

    The digits recipe with a cheaper network: every conv has stride 2 (32 -> 16 -> 8 -> 4),
    making a Langevin step about 4x cheaper than a stride-1 first conv at 32x32, so 300 s buy
    about 1,000 training steps of K = 30 rather than 150 of K = 40.
    """
    return Config(
        task='ebm',
        dataset='npz:mnist32.npz',
        model=dict(features=(32, 64, 64), strides=(2, 2, 2), hidden=128, spectral_norm=False),
        task_kwargs=dict(
            langevin_steps=30,
            step_size=20.0,
            noise_scale=0.01,
            alpha=0.1,
            buffer_size=1000,
            reuse_prob=0.0,
            num_samples=64,
            sample_steps=30,
            sample_source='fresh',
        ),
        steps=1_000_000,
        seconds=300.0,
        batch_size=64,
        eval_batch_size=500,
        optimizer=OptimizerConfig(lr=1e-3, b1=0.0, b2=0.999, warmup_steps=0, ema_decay=0.99),
        log_every=50,
        eval_every=500,
        sample_every=500,
        checkpoint_every=500,
    )


def cifar10() -> Config:
    """IGEBM's unconditional CIFAR-10 recipe: spectrally normalised swish convnet, K = 60
    Langevin steps of step_lr 10 (eps = 20) with noise 0.005, replay buffer of 10,000
    reused with p = 0.95, alpha = 1, Adam lr 1e-4 betas (0, 0.999), batch 128.
    IGEBM's energy is a ResNet; here the plain strided convnet at its width.  The metrics
    judge the replay buffer's persistent chains (``sample_source='buffer'``): on the digits
    a persistent model's fresh chains from noise were far worse than its buffer (RESULTS.md).
    IGEBM reports an unconditional CIFAR-10 FID of about 40.6 (Du & Mordatch 2019; second-hand)."""
    return Config(
        task='ebm',
        dataset='cifar10',
        model=dict(features=(128, 128, 256, 256), hidden=512, spectral_norm=True),
        task_kwargs=dict(
            langevin_steps=60,
            step_size=20.0,
            noise_scale=0.005,
            alpha=1.0,
            buffer_size=10_000,
            reuse_prob=0.95,
            num_samples=64,
            sample_steps=200,
            sample_source='buffer',
        ),
        steps=100_000,
        batch_size=128,
        eval_batch_size=500,
        optimizer=OptimizerConfig(lr=1e-4, b1=0.0, b2=0.999, warmup_steps=0),
        log_every=100,
        eval_every=5000,
        sample_every=2000,
        checkpoint_every=2000,
    )
