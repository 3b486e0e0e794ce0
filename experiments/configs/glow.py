"""Glow (Kingma & Dhariwal 2018) configs."""

from zoo.train.config import Config, OptimizerConfig

CONFIGS = ('digits', 'mnist32', 'cifar10', 'celeba64')


def digits() -> Config:
    """The embedded default: 8x8 digits, 17 levels; about a minute on 2 CPU cores.

    Tuned on the digits validation split (1347 training images over-fit after a few
    hundred steps): deeper and narrower steps, RealNVP's tanh-bounded log-scale and a
    parameter EMA; among batch 16/32/64, 400-1500 steps, lr 1e-3/2e-3, K 8/12/16 and
    hidden 24/32/48, batch 32 for 1000 steps was best (validation 2.2725 bits/dim).  The
    logit input layer (``logit_alpha=1e-6``, as for ``mnist32``) then took validation from
    2.2468 to 2.0056 bits/dim in the same 1000 steps (alpha 1e-3: 2.0067).
    """
    return Config(
        task='glow', dataset='digits',
        model=dict(levels=2, flow_steps=12, hidden=32, coupling='affine', permutation='lu',
                   scale_fn='tanh', logit_alpha=1e-6),
        steps=1000, batch_size=32, eval_batch_size=300,
        optimizer=OptimizerConfig(name='adam', lr=2e-3, warmup_steps=100, schedule='cosine', ema_decay=0.998),
        log_every=50, eval_every=200, sample_every=1000, checkpoint_every=200)


def mnist32() -> Config:
    """The normflows-parity benchmark: MNIST padded to 32x32, given as an npz with uint8
    arrays x_train and x_test of shape (N, 32, 32, 1) (28x28 digits with 2 zero pixels on
    each side) with ``--dataset npz:PATH``; L=3, K=8, hidden 64, affine coupling, LU 1x1
    convs, Adam 1e-3, batch 64, 300 s of training:
    ``make train-glow ARGS='--dataset npz:PATH --config mnist32'``.

    The same model as normflows' Glow (303,456 parameters against its 303,232): the split
    and top latents get an unconditional learned Gaussian per position and channel
    (``learned_split=False, positional_prior=True``) instead of Glow's conditional split
    prior.  On the validation split after 300 s on 2 CPU cores (about 2,800 steps) that
    was 1.512 bits/dim against 1.556 with the conditional prior (1.557 conditional and
    per-position, with a logistic prior); the per-position scale lets the empty border be
    near-deterministic from the start.  Kept from the default Glow: no warm-up and an EMA
    of the weights (0.995), which evaluates 0.02 bits/dim lower at 2,700 steps.

    The coupling's scale is exp(tanh(h)) (``scale_fn='tanh'``, e^-1 to e) rather than
    Glow's (and normflows') sigmoid(h + 2), which in the density direction can only
    contract: then the expansion that the near-constant dequantised background needs
    (to 1/256 of a unit, for 8 bits per pixel) must come from the per-channel ActNorm
    and 1x1-conv scales alone.  Validation bits/dim (EMA weights), seeds 0 / 1:

        2,800 steps                                  at 600          at 2,800
        sigmoid (normflows' gate)                    1.871 / 2.152   1.506 / 1.545
        tanh (this config)                           1.793 / 1.780   1.494 / 1.450
        tanh, cosine decay to 0 at 2,800             1.819 / 1.742   1.590 / 1.508
        tanh, cosine, leaky ReLU 0.1 (seeds 0 / 2)   1.792 / 1.738   1.577 / 1.541

        1,200 steps, seed 1                          at 1,200
        tanh                                         1.602
        tanh on logit(0.05 + 0.9 x) (seed 0: 1.700)  1.571
        tanh, ActNorm at a tenth of the lr           1.602
        tanh, lr 5e-4                                1.683
        tanh, Adam eps 1e-3                          2.044
        sigmoid                                      1.714
        sigmoid without the zero conv's exp(3 logs)  1.727
        sigmoid with Adam update clipping (d = 1)    1.811
        tanh, per-channel prior (no per-position)    1.585
        tanh, Glow's conditional split prior         1.640

    Loss spikes (a step's training loss more than 0.15 above the median of the 25 before
    it) happen in every variant above (the priors too), 50 to 130 steps in 1,200, and in
    normflows (58 and 54 steps in its first 900 against the zoo's 55 to 60).  In a spike
    the first level's ActNorm, zero-conv and 1x1-conv gradients double step after step
    for about six steps and the whole batch's loss rises, not a few images'.  None of the changes
    above removes them (nor, on the sigmoid model, global-norm clipping or Adam b2 =
    0.99).  A large one can cost a run for good (seed 0 with cosine decay lost about 0.08
    bits/dim to one at step 669), and they are most of the difference between seeds.
    """
    return Config(
        task='glow', dataset='npz:mnist32.npz',
        model=dict(levels=3, flow_steps=8, hidden=64, coupling='affine', permutation='lu',
                   learned_split=False, positional_prior=True, scale_fn='tanh', logit_alpha=1e-6),
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
