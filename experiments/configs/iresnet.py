"""Invertible ResNet (Behrmann et al. 2019) and Residual Flow (Chen et al. 2019) configs."""

from zoo.train.config import Config, OptimizerConfig

CONFIGS = ('digits', 'digits_residual_flow', 'mnist32', 'cifar10')


def digits() -> Config:
    """The embedded default: 8x8 digits, 17 levels, on 2 CPU cores (36.6k parameters).

    i-ResNet training as in the paper: c = 0.9, 5-term power series with one Gaussian
    Hutchinson vector; evaluation uses the exact log-det (64-dim blocks).  Two levels
    of 4 blocks, hidden 32.  LipSwish and lr 5e-3 instead of the paper's ELU and a
    lower rate: 2.76 -> 2.55 test bits/dim at 600 steps (the two settings tried).
    The inverse's tolerance is 1e-5 because float32 rounding of x + g(x) is ~1e-6.
    """
    return Config(
        task='iresnet',
        dataset='digits',
        model=dict(
            scales=2,
            blocks=4,
            hidden=(32, 32),
            coeff=0.9,
            activation='lipswish',
            logdet='series',
            num_terms=5,
            noise='gaussian',
            inverse_tol=1e-5,
        ),
        task_kwargs=dict(eval_logdet='exact'),
        steps=600,
        batch_size=64,
        eval_batch_size=300,
        optimizer=OptimizerConfig(name='adam', lr=5e-3, warmup_steps=100, schedule='cosine', ema_decay=0.998),
        log_every=50,
        eval_every=300,
        sample_every=600,
        checkpoint_every=300,
    )


def digits_residual_flow() -> Config:
    """The same model as a Residual Flow: unbiased Russian roulette with the Neumann gradient."""
    config = digits()
    config.model.update(logdet='roulette', gradient='neumann', n_exact=2, roulette_p=0.5)
    return config


def mnist32() -> Config:
    """``digits``' model and steps on the 32x32 MNIST npz (``--dataset npz:PATH``), evaluated with
    the unbiased Russian roulette: the exact log-det's 1024x1024 Jacobians are out of reach
    (``zoo.residual.task.EXACT_LOGDET_MAX_DIM``)."""
    config = digits()
    config.dataset = 'npz:mnist32.npz'
    config.task_kwargs = dict(eval_logdet='roulette')
    config.eval_batch_size = 250
    return config


def cifar10() -> Config:
    """The paper's CIFAR-10 i-ResNet: 3 scales x 16 blocks, 512 channels, c = 0.9,
    5 series terms, ELU, Adamax 3e-4 (Behrmann et al. 2019, app. C; paper: 3.45 bits/dim).
    Evaluation with the unbiased Russian roulette (the exact log-det is out of reach at 3072 dims)."""
    return Config(
        task='iresnet',
        dataset='cifar10',
        model=dict(
            scales=3,
            blocks=16,
            hidden=(512, 512),
            coeff=0.9,
            activation='elu',
            logdet='series',
            num_terms=5,
            noise='gaussian',
        ),
        task_kwargs=dict(eval_logdet='roulette'),
        steps=200_000,
        batch_size=128,
        eval_batch_size=256,
        optimizer=OptimizerConfig(name='adamax', lr=3e-4, warmup_steps=1000, schedule='constant'),
        log_every=100,
        eval_every=5000,
        sample_every=5000,
        checkpoint_every=2000,
    )
