"""Variational information bottleneck classifier configs (Alemi et al. 2017)."""

from zoo.train.config import Config, OptimizerConfig

CONFIGS = ('digits', 'mnist', 'fashion_mnist', 'cifar10', 'celeba')


def _config(dataset, model, steps, beta=1e-3, batch_size=100, lr=1e-4, every=1000) -> Config:
    return Config(
        task='vib',
        dataset=dataset,
        model=model,
        task_kwargs=dict(beta=beta, eval_samples=12),
        steps=steps,
        batch_size=batch_size,
        eval_batch_size=250,
        optimizer=OptimizerConfig(lr=lr, warmup_steps=0, ema_decay=0.999),
        log_every=100,
        eval_every=every,
        sample_every=0,
        checkpoint_every=every,
    )


def digits() -> Config:
    """The embedded default (needs labels): hidden (256, 256), 32 latents, beta 1e-3, Adam 1e-3."""
    return _config('digits', dict(hidden=(256, 256), latents=32), steps=2000, lr=1e-3)


def mnist() -> Config:
    """The paper's MNIST model: 784-1024-1024-(2x256), softmax on z; beta 1e-3, Adam 1e-4
    (beta1 0.5 in the paper), batch 100, 200 epochs, EMA 0.999.  Paper: 1.13% test error
    (12 posterior samples)."""
    config = _config('mnist', dict(hidden=(1024, 1024), latents=256), steps=120_000, every=10_000)
    config.optimizer.b1 = 0.5
    return config


def fashion_mnist() -> Config:
    """As ``mnist`` on Fashion-MNIST (no published anchor)."""
    config = mnist()
    config.dataset = 'fashion_mnist'
    return config


def cifar10() -> Config:
    """The MNIST recipe on flattened CIFAR-10 pixels (an MLP: expect far below conv accuracy)."""
    return _config('cifar10', dict(hidden=(1024, 1024), latents=256), steps=100_000, every=10_000)


def celeba() -> Config:
    """CelebA has no class labels in the zoo's pipeline; kept for --dataset overrides with labels."""
    return _config('celeb_a', dict(hidden=(1024, 1024), latents=256), steps=100_000, every=10_000)
