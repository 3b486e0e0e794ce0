"""f-VAE configs (Su et al. 2018, "f-VAEs: Improve VAEs with Conditional Flows", sec. 4):
encoder = squeezes + residual blocks, decoder its mirror, an additive-coupling Glow on
the latent image, learned sigma1 and sigma2."""

from zoo.train.config import Config, OptimizerConfig

CONFIGS = ('digits', 'mnist', 'fashion_mnist', 'cifar10', 'celeba')


def _config(dataset, model, steps, batch_size=64, lr=1e-3, every=1000) -> Config:
    return Config(
        task='fvae',
        dataset=dataset,
        model=model,
        task_kwargs=dict(temperatures=(0.7, 0.9, 1.0)),
        steps=steps,
        batch_size=batch_size,
        eval_batch_size=250,
        optimizer=OptimizerConfig(lr=lr, warmup_steps=100),
        log_every=100,
        eval_every=every,
        sample_every=every,
        checkpoint_every=every,
    )


def digits() -> Config:
    """The embedded default: one squeeze (8x8x1 -> 4x4x4), 2 residual blocks of 32, a 1-level
    Glow of 4 steps; a few minutes on 2 CPU cores.  Reports the bits/dim bound."""
    return _config(
        'digits', dict(scales=1, blocks=2, hidden=32, flow_scales=1, flow_steps=4, flow_hidden=32), steps=1500
    )


def mnist() -> Config:
    """28x28 MNIST: one squeeze in E (14x14x4) and a 1-level Glow (7x7x16 after its squeeze)."""
    return _config(
        'mnist',
        dict(scales=1, blocks=2, hidden=64, flow_scales=1, flow_steps=8, flow_hidden=128),
        steps=30_000,
        every=5000,
    )


def fashion_mnist() -> Config:
    config = mnist()
    config.dataset = 'fashion_mnist'
    return config


def cifar10() -> Config:
    """CIFAR-10: E = 2 x [squeeze + 2 residual blocks] (8x8x48), Glow 2 scales x 8 steps, 256 hidden."""
    return _config(
        'cifar10',
        dict(scales=2, blocks=2, hidden=128, flow_scales=2, flow_steps=8, flow_hidden=256),
        steps=100_000,
        batch_size=32,
        every=5000,
    )


def celeba() -> Config:
    """The paper's recipe scaled to 64x64 CelebA: E = 3 x [squeeze + residual blocks] (8x8x192), inner
    Glow with additive coupling (the paper: depth 12, 4 levels, 256 hidden at 128x128; here 3 levels
    fit the 8x8 latent), Adam 1e-4, batch 32."""
    return _config(
        'celeb_a',
        dict(scales=3, blocks=2, hidden=128, flow_scales=3, flow_steps=12, flow_hidden=256),
        steps=200_000,
        batch_size=32,
        lr=1e-4,
        every=5000,
    )
