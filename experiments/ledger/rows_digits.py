"""Every model's default config on the embedded 8x8 digits (and the MNIST npz where a config exists).

Each row trains ``experiments/configs/<model>.py``'s named config with the seed changed, in a
temporary workdir, through the shared loop, and reads the test split's headline:

* flows: test bits/dim, beside the per-pixel histogram's (an independent model anyone can
  check: each pixel's 17-level histogram on the training images, add-one smoothed);
* samplers (GANs, EBM, GLANN): 1000 samples against the test images, pixel-space kernel MMD^2
  (``experiments.evaluate``; its Frechet distance and class coverage shown too), beside the
  same statistics for as many real training images (the data floor);
* VAE, f-VAE, VIB: their own test headline (IWAE bound in nats, bits/dim bound, accuracy).

MNIST rows read ``experiments.ledger.MNIST_NPZ`` (``ZOO_MNIST_NPZ``, default ``/tmp/mnist.npz``: the
9000 train / 1000 test real MNIST images; the project does not ship it).
"""

import functools
import tempfile

import numpy as np

from experiments import configs
from experiments.ledger import MNIST_NPZ
from experiments.ledger.row import Row
from zoo import data
from zoo.train import train
from zoo.train.config import override


def histogram_bits_per_dim(levels: int = 17) -> float:
    """Test bits/dim of independent per-pixel histograms fitted on the training digits."""
    train_images = data.digits_images('train').reshape(-1, 64).astype(int)
    test_images = data.digits_images('test').reshape(-1, 64).astype(int)
    counts = np.ones((64, levels))  # add-one smoothing
    for pixel in range(64):
        counts[pixel] += np.bincount(train_images[:, pixel], minlength=levels)
    log_p = np.log2(counts / counts.sum(1, keepdims=True))
    return float(-np.mean(log_p[np.arange(64), test_images]))


def trained(model: str, config: str, seed: int, workdir: str, sets=()) -> dict:
    summary = train(override(configs.get_config(model, config), [f'seed={seed}', *sets]), workdir)
    return {'value': summary['test'][summary['headline']], 'steps': summary['step']}


def measure_likelihood(model: str, config: str, seed: int, sets=()) -> dict:
    with tempfile.TemporaryDirectory() as workdir:
        out = trained(model, config, seed, workdir, sets)
    if config == 'digits' and model in FLOWS:
        out['histogram_bpd'] = histogram_bits_per_dim()
    return out


def measure_samples(model: str, config: str, seed: int, sets=()) -> dict:
    from experiments import evaluate

    with tempfile.TemporaryDirectory() as workdir:
        out = trained(model, config, seed, workdir, sets)
        quality = evaluate.evaluate(workdir, 1000, seed=seed, log=lambda *a: None)
    keys = ('mmd2', 'fd', 'class_coverage')
    return {
        **{k: quality[k] for k in keys if k in quality},
        **{f'real_{k}': quality['data_floor'][k] for k in keys if k in quality.get('data_floor', {})},
        'steps': out['steps'],
    }


FLOWS = {
    'nice': ('NICE', '-', 'Dinh et al. 2014'),
    'realnvp': ('RealNVP', '-', 'Dinh et al. 2016'),
    'glow': ('Glow', '-', 'Kingma & Dhariwal 2018'),
    'iresnet': ('i-ResNet', '-', 'Behrmann et al. 2019'),
}
SAMPLERS = {
    'fgan': ('f-GAN (GAN row), DCGAN nets', '-', 'Nowozin et al. 2016'),
    'wgan': ('WGAN-GP', '-', 'Gulrajani et al. 2017'),
    'gan_onestep': ('one-loss GAN', '-', 'Su 2019'),
    'ogan': ('O-GAN', '-', 'Su 2019'),
    'ebm': ('short-run EBM', '-', 'Nijkamp et al. 2019; Du & Mordatch 2019'),
    'glann': ('GLANN', '-', 'Hoshen et al. 2019'),
}
HEADLINES = {  # a fourth entry overrides higher_is_better
    'vae': (
        'VAE test IWAE(k=1000) bound on -log p(x) (nats)',
        'Flax example trained alike: -ELBO 23.15, an upper bound on this',
        'Kingma & Welling 2014; Burda et al. 2016',
    ),
    'fvae': ('f-VAE test bits/dim bound', '-', 'Su et al. 2018'),
    'vib': ('VIB test accuracy', '-', 'Alemi et al. 2017', True),
}

DATASETS = {  # config -> (the rows' group, the data and split)
    'digits': ('digits', 'digits train/validation/test 1347/150/300'),
    'mnist32': ('mnist', 'MNIST npz 32x32 9000/1000'),
}
KINDS = {  # what a row of each kind measures, and beside which baseline
    'flow': dict(
        measure=measure_likelihood,
        metric='value',
        baseline='per-pixel histogram bits/dim',
        baseline_metric='histogram_bpd',
        higher_is_better=False,
    ),
    'sampler': dict(
        measure=measure_samples,
        metric='mmd2',
        baseline='real training images, same metric (data floor)',
        baseline_metric='real_mmd2',
        higher_is_better=False,
        extra_metrics=('fd', 'real_fd', 'class_coverage'),
    ),
    'headline': dict(measure=measure_likelihood, metric='value', baseline='-', higher_is_better=False),
}


def _steps(model, config):
    c = configs.get_config(model, config)
    return f'{c.seconds:.0f} s' if c.seconds else f'{c.steps} steps'


def rows(kind: str, config: str, models: dict[str, tuple]) -> list[Row]:
    """One 3-seed row per model of ``models`` (model -> (title, reference, source[, higher_is_better]))
    training ``config`` and measuring what ``KINDS[kind]`` says."""
    spec = dict(KINDS[kind])
    measure = spec.pop('measure')
    group, data = DATASETS[config]
    sets = () if config == 'digits' else (f'dataset={MNIST_NPZ}',)
    samples = '; 1000 samples vs the test images' if kind == 'sampler' else ''
    out = []
    for model, (title, reference, source, *higher) in models.items():
        out.append(
            Row(
                name=f'{group}/{model}',
                model=title,
                reference=reference,
                source=source,
                protocol=f'{data}, `{model} --config {config}`, {_steps(model, config)}{samples}',
                measure=functools.partial(measure, model, config, sets=sets),
                seeds=3,
                **spec | ({'higher_is_better': higher[0]} if higher else {}),
            )
        )
    return out


ROWS = [
    *rows('flow', 'digits', FLOWS),
    *rows('sampler', 'digits', SAMPLERS),
    *rows('headline', 'digits', HEADLINES),
    *rows(
        'headline',
        'mnist32',
        {
            'glow': (
                'Glow, L=3 K=8 hidden 64, logit input',
                'normflows Glow, same size: 1.59 bits/dim (RESULTS.md history)',
                'Kingma & Dhariwal 2018; normflows',
            )
        },
    ),
    *rows('sampler', 'mnist32', {'ebm': ('short-run EBM', '-', 'Nijkamp et al. 2019')}),
]
