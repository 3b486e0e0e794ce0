"""Lean measurements for the unsupervised rows (clustering VAE, Deep InfoMax): train a task
for a fixed number of steps on the train split and score the test split, without the
loop's checkpoints, sheets and periodic evaluations (a seed then costs its steps only).

    python -m experiments.unsupervised vae_cluster mnist --dataset npz:/tmp/mnist.npz --seeds 0,1,2
    python -m experiments.unsupervised kmeans digits

Each measurement returns a dict of numbers for (config, seed); the ledger rows call
``measure`` and ``kmeans_baseline``.  For InfoMax the untrained encoder (step 0) is
scored too, under ``untrained_*``.
"""

import argparse
import functools
import time

import numpy as np

from experiments import configs
from zoo.train.config import override


def _arrays(split) -> dict:
    return split.read_at(np.arange(len(split)))


def load(dataset: str, train_images: int | None = None):
    """(info, train arrays, test arrays); ``train_images`` keeps the first n training images."""
    from zoo.data.sources import open_splits

    info, splits = open_splits(dataset)
    train = _arrays(splits['train'])
    if train_images is not None:
        train = {k: v[:train_images] for k, v in train.items()}
    return info, train, _arrays(splits['test'])


def kmeans_baseline(dataset: str, seed: int = 0, train_images: int | None = None) -> dict:
    """k-means (k = 10) on raw test-split pixels fit on the train pixels (the first
    ``train_images`` of them): Hungarian accuracy on the test split, and on the train split (its
    own partition; the labels only score)."""
    from sklearn.cluster import KMeans

    from zoo.metrics import clustering_accuracy

    _, train, test = load(dataset, train_images)
    flat = lambda x: x.reshape(len(x), -1).astype(np.float32)
    kmeans = KMeans(10, n_init=10, random_state=seed).fit(flat(train['image']))
    return {
        'cluster_accuracy': clustering_accuracy(test['label'], kmeans.predict(flat(test['image']))),
        'train_cluster_accuracy': clustering_accuracy(train['label'], kmeans.labels_),
    }


def _chunks(split: dict, size: int = 500):
    """A split's arrays in batches of ``size``, in order (what ``refit`` and ``batch_codes`` read)."""
    for i in range(0, len(split['image']), size):
        yield {k: v[i : i + size] for k, v in split.items()}


def cluster_diagnostics(task, state, train: dict, test: dict, seed: int) -> dict:
    """Partitions of the trained codes mu(x), scored by Hungarian accuracy (labels only score):
    ``codes_kmeans_accuracy``, k-means (10 restarts) fit on the training codes, what the model's
    own partition would score at k-means' optimum; ``nearest_mean_accuracy``, argmin_y |mu(x) -
    mu_y|, the class means' own partition, beside the classifier p(y|z)'s ``cluster_accuracy``;
    and ``train_*`` the same on the 1347 training images (a sd of about 0.011, against 0.025 for
    the 300 test images), to tell a train/test gap from test noise."""
    from sklearn.cluster import KMeans

    from zoo.metrics import clustering_accuracy
    from zoo.vae.clustering import ClusteringVAE

    params = state.averaged('vae')
    means = np.asarray(task.apply(params, method=ClusteringVAE.means))
    test_codes, train_codes = task.batch_codes(params, _chunks(test)), task.batch_codes(params, _chunks(train))
    kmeans = KMeans(len(means), n_init=10, random_state=seed).fit(train_codes)
    nearest = lambda codes: np.argmin(((codes[:, None] - means[None]) ** 2).sum(-1), axis=1)
    classify = lambda codes: np.argmax(np.asarray(task.apply(params, codes, method=ClusteringVAE.classify)), axis=-1)
    return {
        'codes_kmeans_accuracy': clustering_accuracy(test['label'], kmeans.predict(test_codes)),
        'nearest_mean_accuracy': clustering_accuracy(test['label'], nearest(test_codes)),
        'train_cluster_accuracy': clustering_accuracy(train['label'], classify(train_codes)),
        'train_codes_kmeans_accuracy': clustering_accuracy(train['label'], kmeans.labels_),
    }


def evaluate(task, state, test: dict, rng, batch_size: int = 250) -> dict:
    import jax

    eval_step = jax.jit(task.eval_step)
    values = []
    for start in range(0, len(test['image']), batch_size):
        batch = {k: v[start : start + batch_size] for k, v in test.items()}
        values.append(jax.device_get(eval_step(state, batch, jax.random.fold_in(rng, start))))
    return task.summarize({k: np.concatenate([v[k] for v in values]) for k in values[0]})


def measure(
    model: str,
    config_name: str,
    seed: int,
    dataset: str | None = None,
    train_images=None,
    steps=None,
    sets=(),
    all_representations: bool = False,
    kmeans_steps=None,
    pretrain_steps=None,
) -> dict:
    """Train ``model``'s config ``config_name`` with ``seed``; the test split's summary plus wall time.

    Clustering VAE: ``kmeans_steps``, the steps before which the class means move to k-means
    centres of the training codes (the task's ``refit``), and ``pretrain_steps``, the first steps
    a plain VAE (VaDE's recipe, Jiang et al. 2017, sec. 3.3); None keeps the config's.
    """
    import jax

    from zoo.tasks import build_task
    from zoo.train.step import train_step
    from zoo.vae.infomax_task import REPRESENTATIONS

    config = configs.get_config(model, config_name)
    assignments = [f'seed={seed}'] + ([f'dataset={dataset!r}'] if dataset else []) + list(sets)
    assignments += [f'steps={steps}'] if steps else []
    assignments += [f'task_kwargs.kmeans_steps={tuple(kmeans_steps)!r}'] if kmeans_steps is not None else []
    assignments += [f'task_kwargs.pretrain_steps={pretrain_steps}'] if pretrain_steps is not None else []
    config = override(config, assignments)
    info, train, test = load(config.dataset, train_images)
    task = build_task(config, info)
    rng = jax.random.PRNGKey(seed)
    order = np.random.default_rng(seed)

    def batch():
        idx = order.choice(len(train['image']), config.batch_size, replace=False)
        return {k: v[idx] for k, v in train.items()}

    state = task.init(jax.random.fold_in(rng, 1), batch())
    result = {}
    scored = {'': task}
    if model == 'infomax' and all_representations:  # the same weights scored through each layer
        scored = {
            f'{name}_': build_task(override(config, [f'task_kwargs.representation={name!r}']), info)
            for name in REPRESENTATIONS
        }
    if model == 'infomax':
        for prefix, each in scored.items():
            result.update({f'untrained_{prefix}{k}': v for k, v in evaluate(each, state, test, rng).items()})
    step = jax.jit(functools.partial(train_step, task))  # counts steps, which a pretraining task reads
    start = time.time()
    from tqdm import tqdm

    for t in tqdm(range(config.steps), desc=f'{model} seed {seed}', mininterval=30):
        if t in task.refit_steps:
            state, numbers = task.refit(state, _chunks(train), seed)
            print(f'refit before step {t}: ' + ', '.join(f'{k} {v:.3f}' for k, v in numbers.items()), flush=True)
        state, _ = step(state, batch(), jax.random.fold_in(rng, 10 + t))
    jax.block_until_ready(state)
    result['train_seconds'] = time.time() - start
    for prefix, each in scored.items():
        result.update({f'{prefix}{k}': v for k, v in evaluate(each, state, test, jax.random.fold_in(rng, 2)).items()})
    if model == 'vae_cluster':
        result.update(cluster_diagnostics(task, state, train, test, seed))
    result['steps'] = config.steps
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('model', help="vae_cluster, infomax or 'kmeans'")
    parser.add_argument('config', help='a config name of the model (for kmeans: the dataset)')
    parser.add_argument('--dataset')
    parser.add_argument('--seeds', default='0')
    parser.add_argument('--steps', type=int)
    parser.add_argument('--train-images', type=int)
    parser.add_argument('--set', action='append', default=[])
    parser.add_argument('--all-representations', action='store_true', help='InfoMax: score code, global and local')
    parser.add_argument('--pretrain-steps', type=int, help="clustering VAE: plain VAE steps first (default: config's)")
    parser.add_argument('--kmeans-steps', help="clustering VAE: k-means resets before steps 'a,b' (default: config's)")
    args = parser.parse_args(argv)
    for seed in [int(s) for s in args.seeds.split(',')]:
        if args.model == 'kmeans':
            result = kmeans_baseline(args.dataset or args.config, seed, args.train_images)
        else:
            result = measure(
                args.model,
                args.config,
                seed,
                args.dataset,
                args.train_images,
                args.steps,
                tuple(args.set),
                args.all_representations,
                None if args.kmeans_steps is None else tuple(int(t) for t in args.kmeans_steps.split(',') if t),
                args.pretrain_steps,
            )
        print(f'seed {seed}: ' + ', '.join(f'{k} {v:.4f}' for k, v in result.items()), flush=True)


if __name__ == '__main__':
    main()
