"""RealNVP (Dinh, Sohl-Dickstein & Bengio 2016) configs."""

from zoo.train.config import Config, OptimizerConfig

CONFIGS = ('digits', 'cifar10')


def digits() -> Config:
    """The embedded default: 8x8 digits, 17 levels; about a minute on 2 CPU cores.

    Tuned on the validation split: among batch 32/64, 800-3000 steps, lr 1e-3/2e-3/3e-3
    and hidden 32-128, batch 32 for 2400 steps at lr 3e-3 was best (2.1739 bits/dim).
    """
    return Config(
        task='realnvp',
        dataset='digits',
        model=dict(scales=2, hidden=64),
        steps=2400,
        batch_size=32,
        eval_batch_size=300,
        optimizer=OptimizerConfig(name='adam', lr=3e-3, warmup_steps=100, schedule='cosine'),
        log_every=50,
        eval_every=600,
        sample_every=1200,
        checkpoint_every=600,
    )


def cifar10() -> Config:
    """The paper's CIFAR-10 set-up: 3 scales, 64 features, Adam 1e-3, batch 64.
    Paper: 3.49 bits/dim."""
    return Config(
        task='realnvp',
        dataset='cifar10',
        model=dict(scales=3, hidden=64),
        steps=200_000,
        batch_size=64,
        eval_batch_size=500,
        optimizer=OptimizerConfig(name='adam', lr=1e-3, warmup_steps=500, schedule='constant'),
        log_every=100,
        eval_every=5000,
        sample_every=5000,
        checkpoint_every=2000,
    )
