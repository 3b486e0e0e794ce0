"""GLANN (Hoshen, Li & Malik 2019, "Non-Adversarial Image Synthesis with
Generative Latent Nearest Neighbors", sec. 3) configs: GLO, then IMLE in latent space."""

from zoo.train.config import Config, OptimizerConfig

CONFIGS = ('digits', 'cifar10')


def digits() -> Config:
    """The embedded default: 2000 GLO steps then 1000 IMLE steps, about a minute on 2 CPU cores.

    Lap1 distance over a 2-level pyramid of the 8x8 images; latent learning rate 0.01
    (0.003 to 1 tried: larger rates make the latents jump on the sphere and the GLO
    loss stall, 15 vs 5 at 1500 steps).
    """
    return Config(
        task='glann',
        dataset='digits',
        model=dict(generator=dict(hidden=512, depth=2), mapper=dict(hidden=256, depth=2)),
        task_kwargs=dict(
            latent_dim=16,
            noise_dim=16,
            glo_steps=2000,
            distance='laplacian',
            levels=2,
            latent_lr=0.01,
            pool_factor=10,
            eval_pool=1000,
            num_samples=64,
        ),
        steps=3000,
        batch_size=64,
        eval_batch_size=300,
        optimizer=OptimizerConfig(lr=1e-3, warmup_steps=0),
        log_every=100,
        eval_every=1000,
        sample_every=1000,
        checkpoint_every=1000,
    )


def cifar10() -> Config:
    """CIFAR-10 at GLANN's scale: 64-d latents, Lap1 over 3 levels, a larger generator
    (an MLP here; the paper uses a DCGAN-like deconvolutional generator)."""
    return Config(
        task='glann',
        dataset='cifar10',
        model=dict(generator=dict(hidden=2048, depth=2), mapper=dict(hidden=512, depth=2)),
        task_kwargs=dict(
            latent_dim=64,
            noise_dim=64,
            glo_steps=100_000,
            distance='laplacian',
            levels=3,
            latent_lr=0.01,
            pool_factor=10,
            eval_pool=10_000,
            num_samples=64,
        ),
        steps=150_000,
        batch_size=128,
        eval_batch_size=500,
        optimizer=OptimizerConfig(lr=1e-3, warmup_steps=0),
        log_every=100,
        eval_every=10_000,
        sample_every=5000,
        checkpoint_every=5000,
    )
