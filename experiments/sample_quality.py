"""Offline quality of any trained generative model's samples: python -m experiments.sample_quality WORKDIR [...]

Works for every task that implements the protocol's ``sample(state, rng, n, **conditions)``
(GANs, EBMs, GLANN, VAEs, flows), through ``zoo.train.load_trained`` alone.  For each
run, ``--num-samples`` samples are compared with the held-out split (``--split``):

* images: pixel-space kernel MMD^2, class coverage and the classifier-feature Fréchet
  distance of a small classifier trained on the run's own training split
  (``zoo.sample_quality``);
* points: kernel MMD^2.

Each statistic comes with its "data floor": the same statistic for as many training
examples against the held-out split, roughly what a model reproducing the training
distribution reaches.  Prints one line per run and writes ``sample_quality.json`` (and,
for images, ``quality_samples.png``) into the workdir.

``--condition NAME=VALUE`` passes a keyword to the task's ``sample`` (an EBM's
``source=buffer`` judges its replay buffer instead of fresh chains); the files then
carry the values in their names (``sample_quality_buffer.json``).
"""

import argparse
import ast
import json
import os

import jax
import numpy as np

from zoo import data
from zoo import sample_quality as sq
from zoo.train import load_trained
from zoo.viz.image_grid import save_grid


def split_arrays(dataset, split: str):
    """All examples (images or points) of ``split`` and their labels (None without) as numpy arrays."""
    examples, labels = [], []
    for batch in dataset.eval_batches(1000, split):
        keep = np.asarray(batch['mask'])
        examples.append(np.asarray(batch[dataset.info.key])[keep])
        if 'label' in batch:
            labels.append(np.asarray(batch['label'])[keep])
    return np.concatenate(examples), (np.concatenate(labels) if labels else None)


def parse_conditions(pairs) -> dict:
    """['source=buffer', 'temperature=0.7'] -> {'source': 'buffer', 'temperature': 0.7}."""
    conditions = {}
    for pair in pairs or ():
        name, sep, value = pair.partition('=')
        if not sep or not name:
            raise SystemExit(f'error: --condition {pair!r}: write NAME=VALUE')
        try:
            conditions[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            conditions[name] = value
    return conditions


def evaluate(workdir: str, num_samples: int, split: str = 'test', seed: int = 0, conditions=None) -> dict:
    """Score ``num_samples`` samples of the run in ``workdir``; writes and returns the result."""
    conditions = conditions or {}
    trained = load_trained(workdir)
    config = trained.config
    dataset = data.open_dataset(
        config.dataset,
        data_dir=config.data_dir,
        image_size=config.image_size,
        validation_fraction=config.validation_fraction,
    )
    train, train_labels = split_arrays(dataset, 'train')
    held_out, labels = split_arrays(dataset, split)
    generated = trained.task.sample(trained.state, jax.random.key(seed), num_samples, **conditions)
    # The data floor: as many training examples as samples, against the same held-out split.
    subset = np.random.default_rng(seed).choice(len(train), min(num_samples, len(train)), replace=False)
    result = {
        'task': config.task,
        'dataset': config.dataset,
        'step': trained.step,
        'split': split,
        'num_samples': num_samples,
        'conditions': conditions,
    }
    if dataset.info.key == 'image':
        if train_labels is None:
            raise SystemExit(f'error: {config.dataset} has no labels; the image statistics need a classifier')
        classifier = sq.SampleClassifier(dataset.info.num_levels).fit(train, train_labels)
        result['classifier_accuracy'] = classifier.accuracy(held_out, labels)
        result.update(sq.image_sample_quality(generated, held_out, classifier, labels))
        floor = sq.image_sample_quality(train[subset], held_out, classifier, labels)
        result['data_floor'] = {k: floor[k] for k in ('mmd2', 'classifier_frechet', 'coverage', 'histogram_tv')}
    else:
        n = min(len(generated), len(held_out), 2000)
        result['mmd2'] = sq.kernel_mmd(generated[:n], held_out[:n])
        result['data_floor'] = {'mmd2': sq.kernel_mmd(train[subset][:n], held_out[:n])}
    suffix = ''.join(f'_{value}' for value in conditions.values())
    with open(os.path.join(workdir, f'sample_quality{suffix}.json'), 'w') as f:
        json.dump(result, f, indent=1)
    if dataset.info.key == 'image':
        result['picture'] = save_grid(
            os.path.join(workdir, f'quality_samples{suffix}.png'), generated[:64], dataset.info.num_levels
        )
    return result


def summary_line(workdir: str, r: dict) -> str:
    floor = r['data_floor']
    line = (
        f'{workdir}: {r["task"]} step {r["step"]}{"".join(f" {k}={v}" for k, v in r["conditions"].items())}'
        f' | MMD^2 {r["mmd2"]:.4f} (data {floor["mmd2"]:.4f})'
    )
    if 'coverage' in r:
        line += (
            f' | coverage {r["coverage"]:.2f} (class histogram TV {r["histogram_tv"]:.3f}) | classifier-feature'
            f' Fréchet {r["classifier_frechet"]:.2f} (data {floor["classifier_frechet"]:.2f}) | classifier'
            f' accuracy {r["classifier_accuracy"]:.3f} | {r["picture"]}'
        )
    return line


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('workdirs', nargs='+')
    parser.add_argument('--num-samples', type=int, default=1000)
    parser.add_argument('--split', default='test', choices=('validation', 'test'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--condition',
        action='append',
        metavar='NAME=VALUE',
        help="a keyword for the task's sample(), e.g. source=buffer for an EBM (repeatable)",
    )
    args = parser.parse_args(argv)
    conditions = parse_conditions(args.condition)
    for workdir in args.workdirs:
        print(summary_line(workdir, evaluate(workdir, args.num_samples, args.split, args.seed, conditions)))


if __name__ == '__main__':
    main()
