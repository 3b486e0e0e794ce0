"""Deep InfoMax configs, the variant of Su's Deep InfoMax article (Scientific Spaces, 2018):
alpha 0.5 (global), beta 1.5 (local), gamma 0.01 (prior KL), Adam 1e-3.  Evaluation:
nearest-neighbour retrieval (cosine, L2) and a 2-fold linear probe on the test split's
frozen code means (needs labels)."""

from zoo.train.config import Config, OptimizerConfig

CONFIGS = ('digits', 'mnist', 'fashion_mnist', 'cifar10', 'celeba')


def _config(dataset, model, steps, batch_size=64, every=1000, lr=1e-3) -> Config:
    return Config(
        task='infomax',
        dataset=dataset,
        model=model,
        task_kwargs=dict(alpha=0.5, beta=1.5, gamma=0.01),
        steps=steps,
        batch_size=batch_size,
        eval_batch_size=250,
        optimizer=OptimizerConfig(lr=lr, warmup_steps=0),
        log_every=100,
        eval_every=every,
        sample_every=every,
        checkpoint_every=every,
    )


def digits() -> Config:
    """The embedded default: conv 32, 64 (8x8 -> 2x2), 32 latents, DIM's dot-product critic, Adam 1e-4.

    Why training does not beat the untrained encoder (seed 0, test split, cosine / L2 / probe,
    ``pr`` the participation ratio of the code means' covariance, 32 latents):
    untrained 0.87/0.88/0.88, pr 7.8 (pixels: 0.97/0.98/0.94).  With Su's concat critic
    (MLP([a, z]), one shuffled negative) 1000 steps give 0.76/0.63/0.80 and pr 1.5: the code
    collapses onto about one direction of growing norm (0.8 -> 4), which dominates distances
    (L2 suffers most), while the JS terms rise.  Every concat variant collapsed the same way
    (pr 1.0-2.4): local features from the first conv (3x3 patches, ``local_layer=1``; its JS
    term stayed at the floor), fixed unit noise on z.  DIM's encode-and-dot-product critic
    with every other example as a negative (``critic='dot'``) keeps pr 5.7 and gives
    0.85/0.86/0.85 at 1000 steps, 0.81/0.80/0.83 at 4000 as both JS terms saturate (about
    -0.07, -0.14): the bounds are met by telling the 1497 training images apart, which any
    injective code does, and nothing in the objective favours the pixel geometry the random
    encoder already keeps.  InfoNCE with the dot critic saturates at log 64 and gives
    0.80/0.81/0.86; with a cosine critic (temperature 0.2) the code keeps pr 7.7 and
    0.85/0.85/0.84 (1500 steps).  Earlier (concat critic): lr 1e-3 50%/66% cosine/probe;
    no global term 0.79/0.71/0.82; the dense layer and the conv map also drop with training.
    """
    return _config(
        'digits',
        dict(latents=32, channels=(32, 64), hidden=256, critic_hidden=256, critic='dot'),
        steps=2000,
        lr=1e-4,
    )


def mnist() -> Config:
    """MNIST 32x32 sized for 2 CPU cores (0.09 s a step): 64 latents, conv 32, 64 (32 -> 8: the
    local map's positions see 7x7 patches), dot-product critics of width 128, Adam 1e-3.

    MNIST npz (9000/1000), seed 0, 1500 steps, cosine / L2 / probe: untrained 0.885/0.888/0.826
    (pr 18); trained 0.835/0.831/0.882 (pr 7); local term only (alpha 0): 0.52/0.49/0.77,
    its JS bound barely off the floor (-1.25 against -log 4).  The article-sized network (conv
    64, 128, width 512) costs 0.54 s a step with the dot critic, 0.79 with the concat one.
    """
    return _config(
        'mnist', dict(latents=64, channels=(32, 64), hidden=256, critic_hidden=128, critic='dot'), steps=1500
    )


def fashion_mnist() -> Config:
    config = mnist()
    config.dataset = 'fashion_mnist'
    return config


def cifar10() -> Config:
    """The article's CIFAR-10 recipe: z 256, alpha 0.5, beta 1.5, gamma 0.01, Adam 1e-3, batch 64.
    Anchor: Deep InfoMax paper code, CIFAR-10 linear probe 73-74% (a probe trained on the
    train split; here the probe is 2-fold on the test split, and the encoder is smaller)."""
    return _config(
        'cifar10',
        dict(latents=256, channels=(64, 128, 256), hidden=1024, critic_hidden=512),
        steps=80_000,
        every=10_000,
    )


def celeba() -> Config:
    """64x64 CelebA, z 256 (no labels: retrieval sheets only)."""
    return _config(
        'celeb_a',
        dict(latents=256, channels=(64, 128, 256, 512), hidden=1024, critic_hidden=512),
        steps=80_000,
        every=10_000,
    )
