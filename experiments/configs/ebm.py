"""Energy-based model (Du & Mordatch 2019, SPEC 6) configs.

Step sizes are eps of ``x - (eps/2) grad U + sigma xi`` (``zoo.ebm.langevin``): IGEBM's
code writes ``x - step_lr * grad + noise``, so its step_lr = 10 is eps = 20 here.

The small-image configs (digits, mnist32) train a *short-run* EBM (Nijkamp et al. 2019,
"Learning non-convergent non-persistent short-run MCMC toward energy-based model"):
no spectral normalisation, every chain starts from U[0, 1] noise (``reuse_prob=0``, the
buffer only records chain ends for the ``buffer`` sheet) and runs K steps, and samples
are the same K-step chains from noise on an EMA of the energy's weights.  What was
measured on CPU (one core; 1000 fresh samples against the digits test split, 500 against
the MNIST test images; MMD^2 / coverage / classifier-feature Fréchet, ``experiments.gan_quality``):

    digits, 800 steps, K = 40                                 fresh chains          buffer
      IGEBM-style: SN, buffer 10,000 reused 0.95 (old default) 0.246 / 0.90 / 8.74   0.016 / 0.90 / 4.26
      SN, buffer 1,000                                         0.295 / 0.50 / 12.9   0.015 / 1.00 / 3.31
      no SN, buffer 1,000 reused 0.95 (persistent)             0.337 / 0.80 / 11.6   0.0086 / 1.00 / 1.27
      no SN, short-run (reuse 0)                               0.029 / 1.00 / 2.15
      no SN, short-run, EMA 0.99 (this default, 92 s)          0.0100 / 1.00 / 1.61  0.0123 / 1.00 / 1.54
      the same with Adam lr 3e-4 instead of EMA                0.030 / 1.00 / 2.08
      the same with K = 60 (sample_steps 60) instead of EMA    0.032 / 1.00 / 2.20
      the default with eps = 10 (within run-to-run noise)      0.0095 / 1.00 / 1.50  0.0094 / 1.00 / 1.40
      the default with EMA 0.998: identical, because the EMA's decay is min(decay, (1 + t) / (10 + t)),
      still 0.989 at step 800
      real test images against each other ("data")             0.0016 / 1.00 / 0.55
    MNIST 32x32, 300 s, strides (2, 2, 2), K = 30
      SN, first conv stride 1, K = 40 (old default, 291 steps on 2 cores)  0.350 / 1.00 / 112
      no SN, short-run, no EMA (987 steps)                     0.035 / 1.00 / 24.6
      no SN, buffer 1,000 reused 0.95 (965 steps)              0.139 / 0.70 / 90.6   0.0079 / 1.00 / 12.0
      no SN, short-run, EMA 0.99 (this mnist32, 951 steps)     0.0135 / 1.00 / 13.9  0.0090 / 1.00 / 11.8
      the same with eps = 10 (1003 steps; within run-to-run noise) 0.0127 / 1.00 / 13.7  0.0096 / 1.00 / 13.4
      the same with K = 20 (1435 steps; within run-to-run noise) 0.0128 / 1.00 / 13.5  0.0115 / 1.00 / 12.1
      (GLANN on the same data: 0.080 / - / 16.1)
      real images ("data")                                     0.0115 / 1.00 / 9.65

A short-run model's "buffer" is the last ``buffer_size`` chain ends of training (chains on
the raw weights, not the EMA).  The fresh digits samples are grainy 8x8 strokes; some read
as digits, fewer than GLANN's smoother ones.  The MNIST ones are thin, wobbly but mostly
recognisable digits, some malformed, with a few stray bright pixels.

With spectral normalisation (c = 1) the learned energy is nearly flat: data and noise
differ by about 0.006 after 800 steps and fresh chains give blobs.  A persistent buffer
holds good samples (``task_kwargs.sample_source='buffer'`` judges them, as IGEBM and JEM
report theirs), but chains started from noise on that energy do not reach the data: the
persistent model is no generator from noise.  The short-run model is, and an EMA of its
weights (as for GAN generators) smooths the step-to-step oscillation of its chains.
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
        task='ebm', dataset='digits',
        model=dict(features=(32, 64, 64), hidden=128, spectral_norm=False),
        task_kwargs=dict(langevin_steps=40, step_size=20.0, noise_scale=0.01, alpha=0.1, buffer_size=1000,
                         reuse_prob=0.0, num_samples=64, sample_steps=40, sample_source='fresh'),
        steps=800, batch_size=64, eval_batch_size=300,
        optimizer=OptimizerConfig(lr=1e-3, b1=0.0, b2=0.999, warmup_steps=0, ema_decay=0.99),
        log_every=50, eval_every=400, sample_every=400, checkpoint_every=400)


def mnist32() -> Config:
    """MNIST padded to 32x32 as an npz (uint8 x_train / x_test of shape (N, 32, 32, 1)) with
    ``--dataset npz:PATH``, 300 s of training:
    ``make train-ebm ARGS='--config mnist32 --dataset npz:PATH'``.

    The digits recipe with a cheaper network: every conv has stride 2 (32 -> 16 -> 8 -> 4),
    which makes a Langevin step about 4x cheaper than a stride-1 first conv at 32x32 (about
    47 ms per step for a batch of 64 on one core), so 300 s buy about 1,000 training steps
    of K = 30 rather than 150 of K = 40.
    """
    return Config(
        task='ebm', dataset='npz:mnist32.npz',
        model=dict(features=(32, 64, 64), strides=(2, 2, 2), hidden=128, spectral_norm=False),
        task_kwargs=dict(langevin_steps=30, step_size=20.0, noise_scale=0.01, alpha=0.1, buffer_size=1000,
                         reuse_prob=0.0, num_samples=64, sample_steps=30, sample_source='fresh'),
        steps=1_000_000, seconds=300.0, batch_size=64, eval_batch_size=500,
        optimizer=OptimizerConfig(lr=1e-3, b1=0.0, b2=0.999, warmup_steps=0, ema_decay=0.99),
        log_every=50, eval_every=500, sample_every=500, checkpoint_every=500)


def cifar10() -> Config:
    """IGEBM's unconditional CIFAR-10 recipe: spectrally normalised swish convnet, K = 60
    Langevin steps of step_lr 10 (eps = 20) with noise 0.005, replay buffer of 10,000
    reused with p = 0.95, alpha = 1, Adam lr 1e-4 betas (0, 0.999), batch 128.
    IGEBM's energy is a ResNet; here the plain strided convnet at its width.  The metrics
    judge the replay buffer's persistent chains (``sample_source='buffer'``): on the digits
    a persistent model's fresh chains from noise were far worse than its buffer (above).
    Anchor: FID about 40.6 (second-hand, SPEC 6)."""
    return Config(
        task='ebm', dataset='cifar10',
        model=dict(features=(128, 128, 256, 256), hidden=512, spectral_norm=True),
        task_kwargs=dict(langevin_steps=60, step_size=20.0, noise_scale=0.005, alpha=1.0, buffer_size=10_000,
                         reuse_prob=0.95, num_samples=64, sample_steps=200, sample_source='buffer'),
        steps=100_000, batch_size=128, eval_batch_size=500,
        optimizer=OptimizerConfig(lr=1e-4, b1=0.0, b2=0.999, warmup_steps=0),
        log_every=100, eval_every=5000, sample_every=2000, checkpoint_every=2000)
