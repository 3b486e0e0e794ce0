"""Unsupervised VAE-family rows: the one-step clustering VAE (Su, "Variational autoencoders
(4): a one-step clustering scheme", Scientific Spaces, 2018) beside k-means on the same
pixels, DEC's autoencoder + k-means (Xie et al. 2016) as the stronger clustering floor, and
Deep InfoMax (Su's "Mutual information in deep learning" article, 2018; Hjelm
et al. 2019) beside its own untrained encoder.

Protocol: ``experiments.unsupervised.measure`` trains on the train split (digits: sklearn's
digits less the test and validation images; MNIST: ``experiments.ledger.MNIST_NPZ``, the npz
of ``ZOO_MNIST_NPZ``, default ``/tmp/mnist.npz``, written by the peer script from the real
MNIST test images: 9000 train, 1000 test, 32x32) and scores the test split.  k-means (k = 10,
10 restarts) is fit on the train pixels and scores the test pixels, Hungarian matching as for
the VAE.
"""

import functools

from experiments import ae_kmeans, configs, unsupervised
from experiments.configs.infomax import VIEWS
from experiments.ledger import MNIST_NPZ
from experiments.ledger.row import Row

# A row's variant is its config's name, but for mnist_pretrained: mnist_posterior's config after
# a plain VAE's first 1500 steps (VaDE pretrains before its k-means start, Jiang et al. 2017,
# sec. 3.3), the first reset coming at the pretraining's end.
CLUSTER_CONFIG = {'mnist_pretrained': 'mnist_posterior'}
CLUSTER_PRETRAIN_STEPS = {'mnist_pretrained': 1500}
# mnist, mnist_posterior: 50 epochs of 9000 images, batch 100 (the article); mnist32: the digits
# recipe on the npz
CLUSTER_STEPS = {'digits': 3000, 'mnist': 4500, 'mnist_posterior': 4500, 'mnist_pretrained': 4500, 'mnist32': 3000}
# The k-means resets of the class means: the config's (digits, mnist32: before steps 1000, 2000,
# 2500; mnist: none, the article's one step), but in the 4500-step rows of mnist_posterior's
# config, whose 30,000 steps put them later: the digits recipe's fractions of 4500 steps.
CLUSTER_KMEANS_STEPS = {'mnist_posterior': (1500, 3000, 3750), 'mnist_pretrained': (1500, 3000, 3750)}
INFOMAX_STEPS = {'digits': 2000, 'mnist': 1500}
# digits: 1347 images, 1000 steps (190 epochs) already reconstruct them to 1e-5; MNIST: 4000 steps
AUTOENCODER_STEPS = {'digits': 1000, 'mnist': 4000}


def _dataset(name: str) -> str:
    return 'digits' if name == 'digits' else MNIST_NPZ


def _split(name: str) -> str:
    """The protocol's words for ``_dataset(name)``."""
    return 'digits' if name == 'digits' else 'MNIST npz 9000/1000'


def _kmeans_steps(name: str) -> tuple:
    default = configs.get_config('vae_cluster', CLUSTER_CONFIG.get(name, name)).task_kwargs['kmeans_steps']
    return tuple(CLUSTER_KMEANS_STEPS.get(name, default))


def measure_clustering(name: str, seed: int) -> dict:
    dataset = _dataset(name)
    out = unsupervised.measure(
        'vae_cluster',
        CLUSTER_CONFIG.get(name, name),
        seed,
        dataset,
        steps=CLUSTER_STEPS[name],
        kmeans_steps=_kmeans_steps(name),
        pretrain_steps=CLUSTER_PRETRAIN_STEPS.get(name, 0),
    )
    kmeans = unsupervised.kmeans_baseline(dataset, seed)
    return {
        **out,
        'kmeans_accuracy': kmeans['cluster_accuracy'],
        'kmeans_train_accuracy': kmeans['train_cluster_accuracy'],
    }


def measure_autoencoder(name: str, seed: int) -> dict:
    dataset = _dataset(name)
    out = ae_kmeans.measure(dataset, seed, AUTOENCODER_STEPS[name])
    kmeans = unsupervised.kmeans_baseline(dataset, seed)
    return {**out, 'steps': AUTOENCODER_STEPS[name], 'kmeans_accuracy': kmeans['cluster_accuracy']}


def _cluster_protocol(name: str) -> str:
    config = configs.get_config('vae_cluster', CLUSTER_CONFIG.get(name, name))
    kwargs = config.task_kwargs
    resets = _kmeans_steps(name)
    pretrain = CLUSTER_PRETRAIN_STEPS.get(name)
    return (
        f'{_split(name)}, test split, '
        f'{CLUSTER_STEPS[name]} steps, batch 100, vae_cluster:{CLUSTER_CONFIG.get(name, name)}'
        + (f', the first {pretrain} steps a plain VAE (KL to N(0, I), VaDE pretraining)' if pretrain else '')
        + (", p(y|z) the mixture's posterior (VaDE)" if config.model.get('mixture_posterior') else '')
        + (', encoder sees intensities' if kwargs.get('encode_intensity') else '')
        + (
            f', reconstruction weight {kwargs["reconstruction_weight"]:g}'
            if kwargs.get('reconstruction_weight', 1) != 1
            else ''
        )
        + (
            f', class means reset to k-means centres of the codes (10 restarts) at steps '
            f"{', '.join(map(str, resets))}, labels matched to the classifier's clusters"
            if resets
            else ''
        )
    )


def measure_infomax(name: str, seed: int) -> dict:
    return unsupervised.measure('infomax', name, seed, _dataset(name), steps=INFOMAX_STEPS[name])


CLUSTERING_ROWS = [
    Row(
        name=f'clustering_vae/{name}',
        model={
            'digits': 'one-step clustering VAE',
            'mnist': 'one-step clustering VAE (article recipe)',
            'mnist_posterior': "one-step clustering VAE (article recipe, the mixture's posterior)",
            'mnist_pretrained': "one-step clustering VAE (article recipe, the mixture's posterior, VAE pretraining)",
            'mnist32': 'one-step clustering VAE (digits recipe)',
        }[name],
        reference='0.83 test accuracy on MNIST (majority vote)',
        source='Su 2018, "Variational autoencoders (4): one-step clustering"',
        protocol=_cluster_protocol(name),
        metric='cluster_accuracy',
        measure=functools.partial(measure_clustering, name),
        baseline='k-means on raw pixels (Hungarian)',
        baseline_metric='kmeans_accuracy',
        extra_metrics=(
            'majority_accuracy',
            'codes_kmeans_accuracy',
            'train_cluster_accuracy',
            'kmeans_train_accuracy',
            'train_seconds',
        ),
        seeds=5,
    )
    for name in ('digits', 'mnist32', 'mnist', 'mnist_posterior', 'mnist_pretrained')
]
AUTOENCODER_ROWS = [
    Row(
        name=f'clustering_autoencoder/{name}',
        model="DEC's autoencoder + k-means on its codes",
        reference="0.843 test accuracy on MNIST, after DEC's KL fine-tuning (70,000 images)",
        source='Xie et al. 2016, "Unsupervised Deep Embedding for Clustering Analysis", Table 2',
        protocol=(
            f'{_split(name)}, test split, '
            f'd-{"-".join(map(str, ae_kmeans.WIDTHS))}-10 ReLU autoencoder, squared error, '
            f'Adam {ae_kmeans.LEARNING_RATE:g}, batch {ae_kmeans.BATCH_SIZE}, {AUTOENCODER_STEPS[name]} steps '
            '(no layer-wise pretraining, no DEC fine-tuning); '
            'k-means (10 restarts) on the train codes, test codes assigned'
        ),
        metric='cluster_accuracy',
        measure=functools.partial(measure_autoencoder, name),
        baseline='k-means on raw pixels (Hungarian)',
        baseline_metric='kmeans_accuracy',
        extra_metrics=('train_cluster_accuracy', 'reconstruction_mse', 'seconds'),
        seeds=5 if name == 'digits' else 3,
    )
    for name in ('digits', 'mnist')
]
INFOMAX_ROWS = [
    Row(
        name=f'infomax/{name}',
        model='Deep InfoMax, two views (cosine retrieval)',
        reference='CIFAR-10 linear probe 73-74% (DIM paper code); no digits/MNIST figure',
        source='Hjelm et al. 2019; Su 2018, "Mutual information in deep learning"',
        protocol=(
            f'{_split(name)}, test split leave-one-out 1-NN '
            f'and 2-fold probe, {INFOMAX_STEPS[name]} steps, infomax:{name} (two affine views: '
            f'{", ".join(f"{k} {v:g}" for k, v in VIEWS[name].items())})'
        ),
        metric='retrieval_cosine',
        measure=functools.partial(measure_infomax, name),
        baseline='the same encoder untrained',
        baseline_metric='untrained_retrieval_cosine',
        extra_metrics=(
            'retrieval_l2',
            'untrained_retrieval_l2',
            'probe_accuracy',
            'untrained_probe_accuracy',
            'participation_ratio',
            'untrained_participation_ratio',
            'train_seconds',
        ),
        seeds=3,
    )
    for name in ('digits', 'mnist')
]
ROWS = CLUSTERING_ROWS + AUTOENCODER_ROWS + INFOMAX_ROWS
