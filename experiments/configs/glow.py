"""Glow (Kingma & Dhariwal 2018) configs."""

from zoo.train.config import Config, OptimizerConfig

CONFIGS = ('digits', 'mnist32', 'cifar10', 'celeba64')


def digits() -> Config:
    """The embedded default: 8x8 digits, 17 levels; about a minute on 2 CPU cores.

    Tuned on the digits validation split (1347 training images over-fit after a few
    hundred steps): deeper and narrower steps, RealNVP's tanh-bounded log-scale and a
    parameter EMA; among batch 16/32/64, 400-1500 steps, lr 1e-3/2e-3, K 8/12/16 and
    hidden 24/32/48, batch 32 for 1000 steps was best (validation 2.2725 bits/dim).
    ``scan=False`` because XLA on CPU runs convolution gradients inside a scan ~5x slower
    (jax-ml/jax#12868); on a GPU or TPU keep the default ``scan=True``.
    """
    return Config(
        task='glow', dataset='digits',
        model=dict(levels=2, flow_steps=12, hidden=32, coupling='affine', permutation='lu',
                   scale_fn='tanh', scan=False),
        steps=1000, batch_size=32, eval_batch_size=300,
        optimizer=OptimizerConfig(name='adam', lr=2e-3, warmup_steps=100, schedule='cosine', ema_decay=0.998),
        log_every=50, eval_every=200, sample_every=1000, checkpoint_every=200)


def mnist32() -> Config:
    """The Glow-parity benchmark against normflows: MNIST padded to 32x32 (an npz with x_train,
    x_test, e.g. ``python3 ../shared/peer/mnist_npz.py mnist32.npz``; give it with
    ``--dataset npz:PATH``), L=3, K=8, hidden 64, affine coupling, LU 1x1 convs, Adam 1e-3,
    batch 64, 300 s of training on 2 CPU cores.

    Same size as the peer (normflows 1.7.3, 303,232 parameters; this model 303,840).  Three
    choices, each measured on the validation split (900-step runs, seeds 0-2):
    ``prior='logistic'``: with Gaussian latents the loss is sharp along the first level's
    coupling outputs (the background is near-deterministic, its prior scale small), so
    one Adam step could raise the loss by 2-4 bits/dim (4.77 -> 7.15 at step 54); the
    logistic's bounded gradient removes those jumps.  ``positional_prior``: a per-position
    prior for the empty border (0.08-0.1 bits/dim at 600-900 steps).  No warm-up: it only
    postpones the instability to the step where the rate peaks (a 10.1 bits/dim step at
    105).  The EMA of the weights evaluates 0.03 bits/dim lower at 900 steps; gradient
    clipping at 20 or 50 (below the median norm of ~115) lost 0.2 bits/dim.
    """
    return Config(
        task='glow', dataset='npz:mnist32.npz',
        model=dict(levels=3, flow_steps=8, hidden=64, coupling='affine', permutation='lu',
                   prior='logistic', positional_prior=True),
        steps=1_000_000, seconds=300.0, batch_size=64, eval_batch_size=500,
        optimizer=OptimizerConfig(name='adam', lr=1e-3, warmup_steps=0, schedule='constant', ema_decay=0.995),
        log_every=50, eval_every=300, sample_every=0, checkpoint_every=300)


def cifar10() -> Config:
    """The paper's CIFAR-10 model (SPEC 1.3): K=32, L=3, 512 channels, affine coupling,
    Adamax 1e-3 with warm-up, batch 512 (the paper's 8 GPUs x 64).  Paper: 3.35 bits/dim."""
    return Config(
        task='glow', dataset='cifar10',
        model=dict(levels=3, flow_steps=32, hidden=512, coupling='affine', permutation='conv1x1'),
        steps=200_000, batch_size=512, eval_batch_size=512,
        optimizer=OptimizerConfig(name='adamax', lr=1e-3, warmup_steps=1000, schedule='constant'),
        log_every=100, eval_every=5000, sample_every=5000, checkpoint_every=2000)


def celeba64() -> Config:
    """CelebA 64x64 (centre crop): the seed's 3 levels at 64x64 deepened to the paper's
    K=32 with 512 channels; additive coupling as in the paper's CelebA-HQ model."""
    return Config(
        task='glow', dataset='celeb_a',
        model=dict(levels=4, flow_steps=32, hidden=512, coupling='additive', permutation='conv1x1'),
        task_kwargs=dict(num_samples=36),
        steps=200_000, batch_size=64, eval_batch_size=256,
        optimizer=OptimizerConfig(name='adamax', lr=1e-3, warmup_steps=1000, schedule='constant'),
        log_every=100, eval_every=5000, sample_every=5000, checkpoint_every=2000)
