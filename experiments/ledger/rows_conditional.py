"""Class-conditional models (issue 25): conditional accuracy by the one rule of
``zoo.conditional_accuracy`` (the offline classifier, real test images the ceiling), Glow's
bits/dim of log p(x | y) beside its unconditional twin's log p(x) at the same budget, and the
conditional DenseFlow's gap to an exact conditional density.

The MNIST rows read the 32x32 npz of ``ZOO_MNIST_NPZ`` (default ``/tmp/mnist.npz``, as
``rows_vae``), written by ``python /work/shared/peer/mnist_npz.py`` from the real MNIST test
images: 9000 train / 1000 test, labelled.  Their offline classifier is trained on its 9000
training images, and its accuracy on the 1000 test images is the ceiling."""

import functools
import json
import os

from experiments import conditional, conditional_density
from experiments.ledger.row import Row

GLOW_STEPS = 1000  # the digits config's budget, for both twins
# mnist32's budget is 300 s on an idle 2-core CPU, about 3000 steps: steps, not seconds, bind
# both twins here, so the comparison does not depend on the machine.
GLOW_MNIST_STEPS = 3000
MNIST_NPZ = 'npz:' + os.environ.get('ZOO_MNIST_NPZ', '/tmp/mnist.npz')


def grid_path(model: str, seed: int, data: str = 'digits') -> str | None:
    """Seed 0 keeps its class grid (rows classes, columns samples) beside the ledger."""
    return f'results/conditional_{model}_{data}.png' if seed == 0 else None


def numbers(result: dict) -> dict:
    """The ledger keeps numbers: ``conditional.measure``'s scalars, and its per-class shares as
    the worst class (the whole result is printed as one JSON line)."""
    print(json.dumps(result), flush=True)
    kept = {k: v for k, v in result.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return kept | {'worst_class_accuracy': min(result['per_class'])}


def measure_glow(seed: int) -> dict:
    return numbers(
        conditional.measure('glow', 'digits_cond', seed, twin='digits', steps=GLOW_STEPS, grid=grid_path('glow', seed))
    )


def measure(model: str, seed: int) -> dict:
    return numbers(conditional.measure(model, 'digits', seed, grid=grid_path(model, seed)))


def measure_glow_mnist(seed: int) -> dict:
    return numbers(
        conditional.measure(
            'glow',
            'mnist32_cond',
            seed,
            twin='mnist32',
            steps=GLOW_MNIST_STEPS,
            grid=grid_path('glow', seed, 'mnist32'),
            overrides=('seconds=0',),
            dataset=MNIST_NPZ,
        )
    )


def measure_mnist(model: str, seed: int) -> dict:
    return numbers(
        conditional.measure(model, 'mnist32', seed, grid=grid_path(model, seed, 'mnist32'), dataset=MNIST_NPZ)
    )


ROWS = [
    Row(
        name='conditional/glow_digits',
        model='class-conditional Glow (y in the top prior and every coupling, classifier weight 0.01)',
        reference='conditional bits/dim <= unconditional; class-conditional samples',
        source='Kingma & Dhariwal 2018, sec. 5',
        protocol=(
            f'digits test split, {GLOW_STEPS} steps, glow --config digits_cond vs digits; 100 samples a class at T=0.7'
        ),
        metric='test_bpd',
        measure=measure_glow,
        baseline='unconditional Glow, same seed and steps',
        baseline_metric='twin_test_bpd',
        higher_is_better=False,
        extra_metrics=('conditional_accuracy', 'worst_class_accuracy', 'ceiling_real_test', 'test_classifier_accuracy'),
    ),
    Row(
        name='conditional/cvae_digits',
        model='conditional VAE (MLP 64-500-20, Bernoulli)',
        reference='samples of the requested class',
        source='Sohn et al. 2015, sec. 4',
        protocol='digits, 3000 steps, cvae --config digits; 100 samples a class at T=0.7',
        metric='conditional_accuracy',
        measure=functools.partial(measure, 'cvae'),
        baseline='real test images through the same classifier',
        baseline_metric='ceiling_real_test',
        extra_metrics=('worst_class_accuracy', 'test_iwae_nll'),
    ),
    Row(
        name='conditional/cgan_digits',
        model='projection critic (SN, flattened features) + conditional-BN generator, hinge',
        reference='class-conditional samples',
        source='Miyato & Koyama 2018, eq. 3',
        protocol='digits, 3000 steps, cgan --config digits; 100 samples a class',
        metric='conditional_accuracy',
        measure=functools.partial(measure, 'cgan'),
        baseline='real test images through the same classifier',
        baseline_metric='ceiling_real_test',
        extra_metrics=('worst_class_accuracy',),
    ),
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
    Row(
        name='conditional/glow_mnist32',
        model='class-conditional Glow (y in the top prior and every coupling, classifier weight 0.01)',
        reference='conditional bits/dim <= unconditional; class-conditional samples',
        source='Kingma & Dhariwal 2018, sec. 5',
        protocol=(
            f'MNIST npz 32x32 (9000 / 1000), {GLOW_MNIST_STEPS} steps, glow --config mnist32_cond vs mnist32; '
            '100 samples a class at T=0.7'
        ),
        metric='test_bpd',
        measure=measure_glow_mnist,
        baseline='unconditional Glow, same seed and steps',
        baseline_metric='twin_test_bpd',
        higher_is_better=False,
        extra_metrics=('conditional_accuracy', 'worst_class_accuracy', 'ceiling_real_test', 'test_classifier_accuracy'),
    ),
    Row(
        name='conditional/cvae_mnist32',
        model='conditional VAE (MLP 1024(+10 label channels)-500-20, Bernoulli)',
        reference='samples of the requested class',
        source='Sohn et al. 2015, sec. 4',
        protocol='MNIST npz 32x32 (9000 / 1000), 1500 steps, cvae --config mnist32; 100 samples a class at T=0.7',
        metric='conditional_accuracy',
        measure=functools.partial(measure_mnist, 'cvae'),
        baseline='real test images through the same classifier',
        baseline_metric='ceiling_real_test',
        extra_metrics=('worst_class_accuracy', 'test_iwae_nll'),
    ),
    Row(
        name='conditional/cgan_mnist32',
        model='projection critic (SN, flattened features) + conditional-BN generator, hinge, width 32',
        reference='class-conditional samples',
        source='Miyato & Koyama 2018, eq. 3',
        protocol='MNIST npz 32x32 (9000 / 1000), 3000 steps, cgan --config mnist32; 100 samples a class',
        metric='conditional_accuracy',
        measure=functools.partial(measure_mnist, 'cgan'),
        baseline='real test images through the same classifier',
        baseline_metric='ceiling_real_test',
        extra_metrics=('worst_class_accuracy',),
    ),
]
