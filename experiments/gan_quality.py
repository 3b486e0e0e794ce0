"""Offline sample quality of a trained image GAN: python -m experiments.gan_quality WORKDIR [WORKDIR ...]

For each run: a small classifier is trained on the run's dataset's own training split
(``zoo.sample_quality.SampleClassifier``), then ``--num-samples`` images from the
generator (its EMA) are compared with the held-out split: pixel-space kernel MMD^2,
class coverage and the classifier-feature Fréchet distance.  Prints one line per run
and writes ``sample_quality.json`` and ``quality_samples.png`` into the workdir.

Energy-based models judge the samples their config's ``sample_source`` names (fresh
Langevin chains from noise, or the replay buffer's persistent chains); ``--sample-source``
overrides it, and the files then carry the source in their names
(``sample_quality_fresh.json``, ``quality_samples_fresh.png``).
"""

import argparse
import json
import os

import jax
import numpy as np

from zoo import data
from zoo import sample_quality as sq
from zoo.train import load_trained
from zoo.viz.image_grid import save_grid


def split_arrays(dataset, split: str):
    """All images and labels of ``split`` as numpy arrays (padding dropped)."""
    images, labels = [], []
    for batch in dataset.eval_batches(1000, split):
        images.append(np.asarray(batch['image'])[batch['mask']])
        labels.append(np.asarray(batch['label'])[batch['mask']])
    return np.concatenate(images), np.concatenate(labels)


def evaluate(workdir: str, num_samples: int, split: str, seed: int, sample_source: str | None = None) -> dict:
    trained = load_trained(workdir)
    suffix = ''
    if sample_source is not None:
        if not hasattr(trained.task, 'sample_source'):
            raise SystemExit(f'error: --sample-source applies to energy-based models, not {trained.config.task}')
        trained.task.sample_source, suffix = sample_source, f'_{sample_source}'
    dataset = data.open_dataset(trained.config.dataset, data_dir=trained.config.data_dir,
                                validation_fraction=trained.config.validation_fraction)
    classifier = sq.SampleClassifier(dataset.info.num_levels).fit(*split_arrays(dataset, 'train'))
    held_out, labels = split_arrays(dataset, split)
    generated = trained.task.sample(trained.state, jax.random.key(seed), num_samples)
    result = {'step': trained.step, 'split': split, 'num_samples': num_samples,
              'sample_source': getattr(trained.task, 'sample_source', 'generator'),
              'classifier_accuracy': classifier.accuracy(held_out, labels),
              **sq.image_sample_quality(generated, held_out, classifier, labels)}
    # The same statistics for a random subset of the training split against the held-out split:
    # roughly what a generator that reproduces the training distribution reaches.
    train_images, _ = split_arrays(dataset, 'train')
    subset = np.random.default_rng(seed).choice(len(train_images), min(num_samples, len(train_images)), replace=False)
    floor = sq.image_sample_quality(train_images[subset], held_out, classifier, labels)
    result['data_floor'] = {k: floor[k] for k in ('mmd2', 'classifier_frechet', 'coverage', 'histogram_tv')}
    with open(os.path.join(workdir, f'sample_quality{suffix}.json'), 'w') as f:
        json.dump(result, f, indent=1)
    result['picture'] = save_grid(os.path.join(workdir, f'quality_samples{suffix}.png'), generated[:64], dataset.info.num_levels)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('workdirs', nargs='+')
    parser.add_argument('--num-samples', type=int, default=1000)
    parser.add_argument('--split', default='test', choices=('validation', 'test'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--sample-source', choices=('fresh', 'buffer'),
                        help="EBMs only: judge fresh chains from noise or replay-buffer entries (default: the config's)")
    args = parser.parse_args(argv)
    for workdir in args.workdirs:
        r = evaluate(workdir, args.num_samples, args.split, args.seed, args.sample_source)
        floor = r['data_floor']
        print(f"{workdir}: step {r['step']} ({r['sample_source']} samples) | MMD^2 {r['mmd2']:.4f} (data {floor['mmd2']:.4f}) | coverage "
              f"{r['coverage']:.2f} (class histogram TV {r['histogram_tv']:.3f}) | classifier-feature Fréchet "
              f"{r['classifier_frechet']:.2f} (data {floor['classifier_frechet']:.2f}) | classifier accuracy "
              f"{r['classifier_accuracy']:.3f} | {r['picture']}")


if __name__ == '__main__':
    main()
