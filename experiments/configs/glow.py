"""Glow (Kingma & Dhariwal 2018) configs."""

import dataclasses

from zoo.train.config import Config, OptimizerConfig

CONFIGS = ('digits', 'digits_cond', 'mnist32', 'mnist32_cond', 'cifar10', 'celeba64')


def digits() -> Config:
    """The embedded default: 8x8 digits, 17 levels; about a minute on 2 CPU cores.

    Deep, narrow steps, RealNVP's tanh-bounded log-scale, a logit input layer and a
    parameter EMA, chosen on the validation split (RESULTS.md, "Glow on the digits").
    """
    return Config(
        task='glow',
        dataset='digits',
        model=dict(
            scales=2, flow_steps=12, hidden=32, coupling='affine', permutation='lu', scale_fn='tanh', logit_alpha=1e-6
        ),
        steps=1000,
        batch_size=32,
        eval_batch_size=300,
        optimizer=OptimizerConfig(name='adam', lr=2e-3, warmup_steps=100, schedule='cosine', ema_decay=0.998),
        log_every=50,
        eval_every=200,
        sample_every=1000,
        checkpoint_every=200,
    )


def conditional(config: Config, classifier_weight: float = 0.01, couplings: bool = True, split: bool = False) -> Config:
    """``config`` as class-conditional Glow (Kingma & Dhariwal 2018, sec. 5): the top prior's
    mean and log-scale a linear function of the one-hot label, and the auxiliary classifier on
    the top latent weighted by ``classifier_weight`` (the paper's code: 0.01 per bit of label).

    ``couplings=True`` also feeds the label to every coupling network (a learned linear map of
    it added to the first layer's pre-activations, ``zoo.flows.nets.add_context``), and
    ``split=True`` to the split priors.  With the label in the top prior only, 8x8 digits'
    samples barely follow it (RESULTS.md, "Conditional models"): there it moves 8 channel
    means of a 2x2x8 top latent, and the flow must first learn to put the class there.
    """
    model = {**config.model, 'conditional_couplings': couplings, 'conditional_split': split}
    kwargs = {**config.task_kwargs, 'conditional': True, 'classifier_weight': classifier_weight}
    return dataclasses.replace(config, model=model, task_kwargs=kwargs)


def digits_cond() -> Config:
    """``digits`` with the label in the top prior and every coupling, and the classifier: same
    budget, so its test bits/dim of log p(x | y) compares with ``digits``' log p(x)
    (``python -m experiments.conditional glow --twin digits``)."""
    return conditional(digits())


def mnist32_cond() -> Config:
    """``mnist32`` class-conditional: the labelled MNIST npz (x_train, y_train, x_test, y_test)."""
    return conditional(mnist32())


def mnist32() -> Config:
    """The normflows-parity benchmark: MNIST padded to 32x32, L=3, K=8, hidden 64, affine
    coupling, LU 1x1 convs, Adam 1e-3, batch 64, 300 s of training:
    ``make train-glow ARGS='--dataset npz:PATH --config mnist32'``, PATH an npz with uint8
    arrays x_train and x_test of shape (N, 32, 32, 1).

    normflows' model size (303,456 parameters against its 303,232) with three choices made
    on the validation split: a logit input layer (``logit_alpha=1e-6``, as MAF on MNIST),
    which removes the loss spikes of uniformly dequantised backgrounds; the coupling scale
    exp(tanh(h)); and an unconditional learned Gaussian per position for the split and top
    latents.  Every experiment behind them: RESULTS.md, "Glow on MNIST 32x32".
    """
    return Config(
        task='glow',
        dataset='npz:mnist32.npz',
        model=dict(
            scales=3,
            flow_steps=8,
            hidden=64,
            coupling='affine',
            permutation='lu',
            learned_split=False,
            positional_prior=True,
            scale_fn='tanh',
            logit_alpha=1e-6,
        ),
        steps=1_000_000,
        seconds=300.0,
        batch_size=64,
        eval_batch_size=500,
        optimizer=OptimizerConfig(name='adam', lr=1e-3, warmup_steps=0, schedule='constant', ema_decay=0.995),
        log_every=50,
        eval_every=300,
        sample_every=0,
        checkpoint_every=300,
    )


def cifar10() -> Config:
    """The paper's CIFAR-10 model (Kingma & Dhariwal 2018, sec. 5 and appendix): K=32, L=3,
    512 channels, affine coupling, Adamax 1e-3 with warm-up, batch 512 (the paper's 8 GPUs
    x 64).  Paper: 3.35 bits/dim."""
    return Config(
        task='glow',
        dataset='cifar10',
        model=dict(scales=3, flow_steps=32, hidden=512, coupling='affine', permutation='conv1x1'),
        steps=200_000,
        batch_size=512,
        eval_batch_size=512,
        optimizer=OptimizerConfig(name='adamax', lr=1e-3, warmup_steps=1000, schedule='constant'),
        log_every=100,
        eval_every=5000,
        sample_every=5000,
        checkpoint_every=2000,
    )


def celeba64() -> Config:
    """CelebA 64x64 (centre crop): 4 levels of the paper's K=32 steps with 512 channels;
    additive coupling as in the paper's CelebA-HQ model (Kingma & Dhariwal 2018, sec. 6)."""
    return Config(
        task='glow',
        dataset='celeb_a',
        model=dict(scales=4, flow_steps=32, hidden=512, coupling='additive', permutation='conv1x1'),
        task_kwargs=dict(num_samples=36),
        steps=200_000,
        batch_size=64,
        eval_batch_size=256,
        optimizer=OptimizerConfig(name='adamax', lr=1e-3, warmup_steps=1000, schedule='constant'),
        log_every=100,
        eval_every=5000,
        sample_every=5000,
        checkpoint_every=2000,
    )
