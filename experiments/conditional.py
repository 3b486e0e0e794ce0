"""Class-conditional models measured by one rule (issue 25).

    python -m experiments.conditional glow [--config digits_cond] [--twin digits] [--seeds 3]
    python -m experiments.conditional cvae [--config digits]
    python -m experiments.conditional cgan [--config digits]

For each seed: train the conditional config (``zoo.train.train``, resumable workdirs under
``workdirs/conditional``), then

- the conditional accuracy (``zoo.conditional_accuracy``): the offline classifier of
  ``zoo.sample_quality`` trained on the real training split labels ``--per-class`` samples
  per class drawn at ``--temperature`` (the GAN has none); real test images scored the same
  way are the ceiling;
- the run's test summary (bits/dim of log p(x | y) and the top-latent classifier's accuracy
  for Glow, the IWAE bound of -log p(x | y) for the VAE);
- with ``--twin``, the unconditional config trained with the same seed and budget, and its
  test summary (bits/dim of log p(x)), so conditional and unconditional compare.

One JSON line per seed; ``--grid PATH`` saves the first seed's class grid (rows classes,
columns samples at the temperature).
"""

import argparse
import dataclasses
import functools
import json
import os
import time

import jax
import numpy as np

from experiments import configs
from experiments.evaluate import split_arrays
from zoo import data
from zoo import sample_quality as sq
from zoo.conditional_accuracy import conditional_accuracy
from zoo.train import load_trained, override, train
from zoo.viz.image_grid import save_grid

DEFAULT_CONFIG = {'glow': 'digits_cond', 'cvae': 'digits', 'cgan': 'digits'}


@functools.lru_cache(maxsize=4)
def classifier_and_ceiling(dataset_name: str, data_dir=None, image_size=None):
    """The offline classifier trained on the real training split, and its accuracy on real test images."""
    dataset = data.open_dataset(dataset_name, data_dir=data_dir, image_size=image_size)
    train_x, train_y = split_arrays(dataset, 'train')
    test_x, test_y = split_arrays(dataset, 'test')
    classifier = sq.SampleClassifier(dataset.info.num_levels).fit(train_x, train_y)
    return classifier, conditional_accuracy(classifier.predict(test_x), test_y, dataset.info.num_classes), dataset.info


def sample_fn(trained, seed: int, temperature: float | None):
    """labels -> uint8 samples of those classes, in chunks of at most 500."""
    extra = {} if temperature is None else {'temperature': temperature}

    def sample(labels):
        chunks = np.array_split(labels, max(1, len(labels) // 500))
        keys = [jax.random.key(1000 + seed + i) for i in range(len(chunks))]
        return np.concatenate(
            [np.asarray(trained.task.sample(trained.state, k, len(c), labels=c, **extra)) for k, c in zip(keys, chunks)]
        )

    return sample


def measure(
    model: str,
    config_name: str | None = None,
    seed: int = 0,
    twin: str | None = None,
    steps: int | None = None,
    per_class: int = 100,
    temperature: float = 0.7,
    workdir: str = 'workdirs/conditional',
    grid: str | None = None,
    overrides: tuple = (),
    dataset: str | None = None,
) -> dict:
    """Train (or resume) one seed of a conditional model, and its twin; returns the numbers.

    ``overrides`` (``['model.hidden=64', ...]``, as ``--set``) change the conditional config
    only; pick a fresh ``workdir`` for them, since a run resumes from its workdir.  ``dataset``
    (e.g. ``npz:/tmp/mnist.npz``) replaces both configs' dataset.
    """
    config_name = config_name or DEFAULT_CONFIG[model]
    config = dataclasses.replace(override(configs.get_config(model, config_name), overrides), seed=seed)
    if steps is not None:
        config = dataclasses.replace(config, steps=steps)
    if dataset is not None:
        config = dataclasses.replace(config, dataset=dataset)
    classifier, ceiling, info = classifier_and_ceiling(config.dataset, config.data_dir, config.image_size)
    start = time.perf_counter()
    summary = train(config, os.path.join(workdir, f'{model}-{config_name}-s{seed}'))
    seconds = time.perf_counter() - start
    trained = load_trained(os.path.join(workdir, f'{model}-{config_name}-s{seed}'))
    t = None if model == 'cgan' else temperature
    requested = np.repeat(np.arange(info.num_classes), per_class)
    pixels = sample_fn(trained, seed, t)(requested)
    accuracy = conditional_accuracy(classifier.predict(pixels), requested, info.num_classes)
    result = {
        'model': model,
        'config': config_name,
        'seed': seed,
        'steps': trained.step,
        'train_seconds': round(seconds, 1),
        'temperature': t,
        'conditional_accuracy': accuracy['mean'],
        'per_class': [round(a, 3) for a in accuracy['per_class']],
        'ceiling_real_test': ceiling['mean'],
        **{f'test_{k}': v for k, v in summary['test'].items()},
    }
    if twin:
        # the same budget: the conditional config's steps and wall-time limit
        twin_config = dataclasses.replace(
            configs.get_config(model, twin),
            seed=seed,
            steps=config.steps,
            seconds=config.seconds,
            dataset=config.dataset,
        )
        start = time.perf_counter()
        twin_summary = train(twin_config, os.path.join(workdir, f'{model}-{twin}-s{seed}'))
        result |= {f'twin_test_{k}': v for k, v in twin_summary['test'].items()}
        result |= {'twin': twin, 'twin_train_seconds': round(time.perf_counter() - start, 1)}
    if grid:  # the first 10 scored samples of each class: rows are classes
        cols = min(10, per_class)
        rows = np.concatenate([pixels[requested == k][:cols] for k in range(info.num_classes)])
        save_grid(grid, rows, info.num_levels, cols=cols)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('model', choices=sorted(DEFAULT_CONFIG))
    parser.add_argument('--config', default=None)
    parser.add_argument('--twin', default=None, help='the unconditional config to compare (glow: digits)')
    parser.add_argument('--seeds', type=int, default=1)
    parser.add_argument('--seeds-from', type=int, default=0)
    parser.add_argument('--steps', type=int, default=None, help="override the configs' steps (both runs)")
    parser.add_argument('--per-class', type=int, default=100)
    parser.add_argument('--temperature', type=float, default=0.7)
    parser.add_argument('--workdir', default='workdirs/conditional')
    parser.add_argument('--grid', default=None, help='PNG path for the class grid of the first seed')
    parser.add_argument('--set', action='append', default=[], help='field=value for the conditional config')
    parser.add_argument('--dataset', default=None, help="both configs' dataset, e.g. npz:/tmp/mnist.npz")
    args = parser.parse_args(argv)
    for seed in range(args.seeds_from, args.seeds_from + args.seeds):
        result = measure(
            args.model,
            args.config,
            seed,
            args.twin,
            args.steps,
            args.per_class,
            args.temperature,
            args.workdir,
            args.grid if seed == args.seeds_from else None,
            tuple(args.set),
            args.dataset,
        )
        print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
