"""Class-conditional models (issue 25): conditional accuracy by the one rule of
``zoo.conditional_accuracy`` (the offline classifier, real test images the ceiling), Glow's
bits/dim of log p(x | y) beside its unconditional twin's log p(x) at the same budget, and the
conditional DenseFlow's gap to an exact conditional density.

The MNIST rows read ``experiments.ledger.MNIST_NPZ`` (``ZOO_MNIST_NPZ``, default ``/tmp/mnist.npz``),
the 32x32 npz written by ``python /work/shared/peer/mnist_npz.py`` from the real MNIST test
images: 9000 train / 1000 test, labelled.  Their offline classifier is trained on its 9000
training images, and its accuracy on the 1000 test images is the ceiling."""

import functools
import json

from experiments import conditional, conditional_density
from experiments.ledger import MNIST_NPZ
from experiments.ledger.row import Row

# What the image rows change between the datasets.  Glow's twins are bound by steps, not
# seconds, so the comparison does not depend on the machine (mnist32's own budget is 300 s on an
# idle 2-core CPU, about 3000 steps).
DATA = {
    'digits': {
        'split': 'digits test split',
        'dataset': None,
        'glow': ('digits_cond', 'digits', 1000),
        'cvae': ('MLP 64-500-20', 3000),
        'cgan': 'projection critic (SN, flattened features) + conditional-BN generator, hinge',
    },
    'mnist32': {
        'split': 'MNIST npz 32x32 (9000 / 1000)',
        'dataset': MNIST_NPZ,
        'glow': ('mnist32_cond', 'mnist32', 3000),
        'cvae': ('MLP 1024(+10 label channels)-500-20', 6000),
        'cgan': 'projection critic (SN, flattened features) + conditional-BN generator, hinge, width 32',
    },
}


def grid_path(model: str, seed: int, data: str = 'digits') -> str | None:
    """Seed 0 keeps its class grid (rows classes, columns samples) beside the ledger."""
    return f'results/conditional_{model}_{data}.png' if seed == 0 else None


def numbers(result: dict) -> dict:
    """The ledger keeps numbers: ``conditional.measure``'s scalars, and its per-class shares as
    the worst class (the whole result is printed as one JSON line)."""
    print(json.dumps(result), flush=True)
    kept = {k: v for k, v in result.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return kept | {'worst_class_accuracy': min(result['per_class'])}


def measure(model: str, data: str, seed: int) -> dict:
    """One seed of ``model``'s conditional config named ``data`` (Glow: with its twin)."""
    config, kwargs = data, {}
    if model == 'glow':
        config, twin, steps = DATA[data]['glow']
        kwargs = {'twin': twin, 'steps': steps, 'overrides': ('seconds=0',)}
    grid = grid_path(model, seed, data)
    return numbers(conditional.measure(model, config, seed, grid=grid, dataset=DATA[data]['dataset'], **kwargs))


def image_rows(data: str) -> list[Row]:
    """Class-conditional Glow, the CVAE and the projection GAN on one dataset."""
    split, (glow_config, glow_twin, glow_steps) = DATA[data]['split'], DATA[data]['glow']
    cvae_net, cvae_steps = DATA[data]['cvae']
    accuracy = {
        'metric': 'conditional_accuracy',
        'baseline': 'real test images through the same classifier',
        'baseline_metric': 'ceiling_real_test',
    }
    return [
        Row(
            name=f'conditional/glow_{data}',
            model='class-conditional Glow (y in the top prior and every coupling, classifier weight 0.01)',
            reference='conditional bits/dim <= unconditional; class-conditional samples',
            source='Kingma & Dhariwal 2018, sec. 5',
            protocol=(
                f'{split}, {glow_steps} steps, glow --config {glow_config} vs {glow_twin}; 100 samples a class at T=0.7'
            ),
            metric='test_bpd',
            measure=functools.partial(measure, 'glow', data),
            baseline='unconditional Glow, same seed and steps',
            baseline_metric='twin_test_bpd',
            higher_is_better=False,
            extra_metrics=(
                'conditional_accuracy',
                'worst_class_accuracy',
                'ceiling_real_test',
                'test_classifier_accuracy',
            ),
        ),
        Row(
            name=f'conditional/cvae_{data}',
            model=f'conditional VAE ({cvae_net}, Bernoulli)',
            reference='samples of the requested class',
            source='Sohn et al. 2015, sec. 4',
            protocol=f'{split}, {cvae_steps} steps, cvae --config {data}; 100 samples a class at T=0.7',
            measure=functools.partial(measure, 'cvae', data),
            extra_metrics=('worst_class_accuracy', 'test_iwae_nll'),
            **accuracy,
        ),
        Row(
            name=f'conditional/cgan_{data}',
            model=DATA[data]['cgan'],
            reference='class-conditional samples',
            source='Miyato & Koyama 2018, eq. 3',
            protocol=f'{split}, 3000 steps, cgan --config {data}; 100 samples a class',
            measure=functools.partial(measure, 'cgan', data),
            extra_metrics=('worst_class_accuracy',),
            **accuracy,
        ),
    ]


ROWS = [
    *image_rows('digits'),
    Row(
        name='conditional/dense_flow_gaussian',
        model='conditional DenseFlow (6 couplings, context in every MLP)',
        reference='within 0.05 nats of the exact log p(x | c)',
        source='issue 25; zoo.flows.conditional_gaussian',
        protocol='conditional Gaussian in 2-D, fresh pairs, 3000 steps batch 512, 4096 held-out pairs',
        metric='mean_abs_gap',
        measure=functools.partial(conditional_density.fit, steps=3000),
        baseline='exact log p(x | c) (closed form); target gap <= 0.05',
        higher_is_better=False,
        extra_metrics=('kl_estimate', 'seconds'),
    ),
    *image_rows('mnist32'),
]
