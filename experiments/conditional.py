"""Class-conditional models measured by one rule (issue 25).

    python -m experiments.conditional glow [--config digits_cond] [--twin digits] [--seeds 3]
    python -m experiments.conditional cvae [--config digits] [--seeds 1]

For each seed: train the conditional config (``zoo.train.train``, resumable workdirs under
``workdirs/conditional``), then

- the conditional accuracy (``zoo.conditional_accuracy``): the offline classifier of
  ``zoo.sample_quality`` trained on the real training split labels ``--per-class`` samples
  per class drawn at ``--temperature``; real test images scored the same way are the ceiling;
- the test headline (bits/dim of log p(x | y) for Glow, IWAE NLL for the VAE) and, for
  Glow, the top-latent classifier's test accuracy;
- with ``--twin``, the unconditional config trained with the same seed and budget, and its
  test headline (bits/dim of log p(x)), so conditional and unconditional compare.

One JSON line per seed; ``--grid PATH`` saves the first seed's class grid (rows classes,
columns samples at the temperature).
"""

import argparse
import dataclasses
import json
import os
import time

import jax
import numpy as np

from experiments import configs
from experiments.sample_quality import split_arrays
from zoo import data
from zoo import sample_quality as sq
from zoo.conditional_accuracy import conditional_accuracy, score_generator
from zoo.train import load_trained, train
from zoo.viz.image_grid import save_grid

DEFAULT_CONFIG = {'glow': 'digits_cond', 'cvae': 'digits'}


def class_grid(task, state, num_classes: int, per_class: int, temperature: float, seed: int = 0):
    """uint8 (num_classes * per_class, H, W, C): row k holds ``per_class`` samples of class k."""
    labels = np.repeat(np.arange(num_classes), per_class)
    return np.asarray(task.sample(state, jax.random.key(seed), len(labels), labels=labels, temperature=temperature))


def trained_run(config, workdir: str, steps: int | None):
    if steps is not None:
        config = dataclasses.replace(config, steps=steps)
    start = time.perf_counter()
    summary = train(config, workdir)
    return summary, time.perf_counter() - start


def measure(model: str, config_name: str, twin: str | None, seed: int, args, classifier, ceiling) -> dict:
    config = dataclasses.replace(configs.get_config(model, config_name), seed=seed)
    workdir = os.path.join(args.workdir, f'{model}-{config_name}-s{seed}')
    summary, seconds = trained_run(config, workdir, args.steps)
    trained = load_trained(workdir)
    num_classes = len(ceiling['per_class'])
    sample = lambda labels: np.concatenate(
        [
            trained.task.sample(
                trained.state, jax.random.key(1000 + seed + i), len(chunk), labels=chunk, temperature=args.temperature
            )
            for i, chunk in enumerate(np.array_split(labels, max(1, len(labels) // 500)))
        ]
    )
    accuracy = score_generator(classifier, sample, num_classes, args.per_class)
    result = {
        'model': model,
        'config': config_name,
        'seed': seed,
        'steps': trained.step,
        'train_seconds': round(seconds, 1),
        'temperature': args.temperature,
        'conditional_accuracy': accuracy['mean'],
        'per_class': [round(a, 3) for a in accuracy['per_class']],
        'ceiling_real_test': ceiling['mean'],
        'test': summary['test'],
    }
    if twin:
        twin_config = dataclasses.replace(configs.get_config(model, twin), seed=seed)
        twin_summary, twin_seconds = trained_run(
            twin_config, os.path.join(args.workdir, f'{model}-{twin}-s{seed}'), args.steps
        )
        result |= {'twin': twin, 'twin_test': twin_summary['test'], 'twin_train_seconds': round(twin_seconds, 1)}
    if args.grid and seed == args.seeds_from:
        grid = class_grid(trained.task, trained.state, num_classes, 10, args.temperature)
        save_grid(args.grid, grid, ceiling['num_levels'], cols=10)
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
    args = parser.parse_args(argv)
    config_name = args.config or DEFAULT_CONFIG[args.model]
    base = configs.get_config(args.model, config_name)
    dataset = data.open_dataset(base.dataset, data_dir=base.data_dir, image_size=base.image_size)
    train_x, train_y = split_arrays(dataset, 'train')
    test_x, test_y = split_arrays(dataset, 'test')
    classifier = sq.SampleClassifier(dataset.info.num_levels).fit(train_x, train_y)
    ceiling = conditional_accuracy(classifier.predict(test_x), test_y, dataset.info.num_classes)
    ceiling['num_levels'] = dataset.info.num_levels
    for seed in range(args.seeds_from, args.seeds_from + args.seeds):
        print(json.dumps(measure(args.model, config_name, args.twin, seed, args, classifier, ceiling)), flush=True)


if __name__ == '__main__':
    main()
