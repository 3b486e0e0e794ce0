"""NICE (Dinh, Krueger & Bengio 2014) configs."""

from zoo.train.config import Config, OptimizerConfig

CONFIGS = ('digits', 'mnist')


def digits() -> Config:
    """The embedded default: 8x8 digits flattened to 64, 17 levels; under a minute on 2 CPU cores."""
    return Config(
        task='nice',
        dataset='digits',
        # 64 dimensions and 1347 training images: wide MLPs over-fit.  On the validation
        # split 2 x 32 units for 3000 steps (2.786 bits/dim) beat 2 x 16, 2 x 64 (2.969),
        # 3 x 32 and 2000 or 4000 steps.
        model=dict(num_couplings=4, hidden=32, depth=2),
        task_kwargs=dict(temperatures=(0.5, 0.75, 1.0)),
        steps=3000,
        batch_size=64,
        eval_batch_size=300,
        optimizer=OptimizerConfig(name='adam', lr=3e-3, warmup_steps=100, schedule='constant'),
        log_every=100,
        eval_every=1000,
        sample_every=3000,
        checkpoint_every=1000,
    )


def mnist() -> Config:
    """The paper's MNIST recipe (Dinh et al. 2014, sec. 5.1): 4 additive couplings of 5 x Dense(1000, relu),
    a scaling layer, Adam, batch 128, about 30 epochs; samples at temperature 0.75."""
    return Config(
        task='nice',
        dataset='mnist',
        model=dict(num_couplings=4, hidden=1000, depth=5, prior='logistic'),
        task_kwargs=dict(temperatures=(0.5, 0.75, 1.0)),
        steps=14_000,
        batch_size=128,
        eval_batch_size=500,
        optimizer=OptimizerConfig(name='adam', lr=1e-3, warmup_steps=0, schedule='constant'),
        log_every=100,
        eval_every=2000,
        sample_every=2000,
        checkpoint_every=2000,
    )
