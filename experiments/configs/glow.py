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
        model=dict(scales=2, flow_steps=12, hidden=32, coupling='affine', permutation='lu',
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

    The same model size as normflows' Glow (303,456 parameters against its 303,232), with
    three choices made on the validation split:

    - **A logit input layer** (``logit_alpha=1e-6``, MAF's value for MNIST): the flow models
      y = logit(alpha + (1 - 2 alpha)(x + 1/2)), with the layer's exact log-det in log p(x).
      It removes the loss spikes and is most of the gain (seed 1, 1,200 steps, validation
      bits/dim 1.602 -> 1.028; alpha 1e-3: 1.069; alpha 0.05: 1.571).
    - The coupling's scale is exp(tanh(h)) (``scale_fn='tanh'``) rather than Glow's (and
      normflows') sigmoid(h + 2), which in the density direction can only contract.
      Without the logit layer that gained 0.01 / 0.10 bits/dim (seeds 0 / 1) at 2,800 steps.
    - Split and top latents get an unconditional learned Gaussian per position and channel
      (``learned_split=False, positional_prior=True``) instead of Glow's conditional split
      prior (without the logit layer: 1.512 against 1.556 at 300 s).  Kept from the default
      Glow: no warm-up and an EMA of the weights (0.995).

    **Why the spikes, and why the logit removes them.**  Uniform dequantisation makes each
    empty background pixel a box 1/256 wide in x, and 85% of the padded MNIST pixels are 0.
    A flow that fits those boxes is extremely sharp along every parameter direction that
    moves the background: the gradient flips sign from step to step (seed 1, steps 150-199:
    the cosine between consecutive gradients was negative 40 times in 49, below -0.8 24
    times) and in a spike grows about 2x a step,
    led by the first ActNorm's bias (the sum of dL/dx over the image) and the first
    coupling's zero conv.  That is Adam at its edge of stability: its second-moment average
    (b2 = 0.999) remembers the small gradients of a quiet stretch, so the step in that
    direction is too large for its curvature, and the oscillation grows until the squared
    gradients catch up some six steps later.  Tuning the optimiser only moved the edge
    (seed 1, 1,200 steps; spike steps = training loss more than 0.15 above the median of
    the 25 before, validation bits/dim):

        no logit layer, Adam 1e-3 (the peer's optimiser)   58 spike steps   1.602
        Adam b2 0.95                                       77               1.562
        Adamax 1e-3 / 3e-3 / 4e-3 (Glow's own optimiser)   21 / 28 / 34     1.758 / 1.601 / 1.653 (900)
        Adam eps 1e-3 / lr 5e-4                            86 / 55          2.044 / 1.683
        global-norm or Adam-update clipping, ActNorm at 0.1x lr, no zero-conv gain, leaky
        ReLU, cosine decay, Beta(2, 2) dequantisation noise, per-channel or conditional
        priors: 49 to 118 spike steps
        logit layer, alpha 1e-6 (seeds 0 / 1 / 2)          0 / 0 / 0        1.065 / 1.050 / 1.066 (900)

    normflows has them too (58 and 54 spike steps in its first 900).  The logit layer
    stretches each saturated bin to about a unit (alpha = 1e-6: [0, 1/256) -> [-13.8, -5.5)),
    so nothing in the model has to resolve 1/256; with it no step of any seed rises more
    than 0.12 (4 robust standard deviations of the batch noise) above the running median.
    """
    return Config(
        task='glow', dataset='npz:mnist32.npz',
        model=dict(scales=3, flow_steps=8, hidden=64, coupling='affine', permutation='lu',
                   learned_split=False, positional_prior=True, scale_fn='tanh', logit_alpha=1e-6),
        steps=1_000_000, seconds=300.0, batch_size=64, eval_batch_size=500,
        optimizer=OptimizerConfig(name='adam', lr=1e-3, warmup_steps=0, schedule='constant', ema_decay=0.995),
        log_every=50, eval_every=300, sample_every=0, checkpoint_every=300)


def cifar10() -> Config:
    """The paper's CIFAR-10 model (SPEC 1.3): K=32, L=3, 512 channels, affine coupling,
    Adamax 1e-3 with warm-up, batch 512 (the paper's 8 GPUs x 64).  Paper: 3.35 bits/dim."""
    return Config(
        task='glow', dataset='cifar10',
        model=dict(scales=3, flow_steps=32, hidden=512, coupling='affine', permutation='conv1x1'),
        steps=200_000, batch_size=512, eval_batch_size=512,
        optimizer=OptimizerConfig(name='adamax', lr=1e-3, warmup_steps=1000, schedule='constant'),
        log_every=100, eval_every=5000, sample_every=5000, checkpoint_every=2000)


def celeba64() -> Config:
    """CelebA 64x64 (centre crop): the seed's 3 levels at 64x64 deepened to the paper's
    K=32 with 512 channels; additive coupling as in the paper's CelebA-HQ model."""
    return Config(
        task='glow', dataset='celeb_a',
        model=dict(scales=4, flow_steps=32, hidden=512, coupling='additive', permutation='conv1x1'),
        task_kwargs=dict(num_samples=36),
        steps=200_000, batch_size=64, eval_batch_size=256,
        optimizer=OptimizerConfig(name='adamax', lr=1e-3, warmup_steps=1000, schedule='constant'),
        log_every=100, eval_every=5000, sample_every=5000, checkpoint_every=2000)
