"""Pieces the GAN configs share (fgan, wgan, gan_onestep, ogan)."""

from zoo.train.config import Config, OptimizerConfig


def gan_config(
    task: str,
    dataset: str,
    *,
    channels: int,
    latent_dim: int,
    steps: int,
    batch_size: int,
    lr: float,
    b1: float = 0.5,
    b2: float = 0.999,
    ema_decay: float = 0.999,
    critic_lr=None,
    log_every: int = 100,
    every: int = 1000,
    **task_kwargs,
) -> Config:
    """A GAN run: DCGAN nets of width ``channels``, Adam for both networks (the critic's lr may
    differ: TTUR), a parameter EMA on the generator only, no warm-up (GAN recipes use none)."""
    critic = {'ema_decay': 0.0, **({'lr': critic_lr} if critic_lr else {})}
    return Config(
        task=task,
        dataset=dataset,
        model=dict(generator=dict(channels=channels), critic=dict(channels=channels)),
        task_kwargs=dict(latent_dim=latent_dim, **task_kwargs),
        steps=steps,
        batch_size=batch_size,
        eval_batch_size=500,
        optimizer=OptimizerConfig(name='adam', lr=lr, b1=b1, b2=b2, warmup_steps=0, ema_decay=ema_decay),
        optimizers={'critic': critic},
        log_every=log_every,
        eval_every=every,
        sample_every=every,
        checkpoint_every=every,
    )
