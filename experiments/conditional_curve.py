"""Conditional accuracy at every kept checkpoint of a conditional run (issue 25): does it still rise?

    python -m experiments.conditional_curve WORKDIR [--per-class 100] [--temperature 0.7]

Scores each checkpoint the training loop kept (``keep_checkpoints``, default the last 3) by the
one rule of ``experiments.conditional``: the offline classifier trained on the run's real
training split labels ``--per-class`` samples of each class; real test images are the ceiling.
One JSON line per checkpoint.
"""

import argparse
import json

import numpy as np
import orbax.checkpoint as ocp

from experiments.conditional import classifier_and_ceiling, sample_fn
from zoo.conditional_accuracy import conditional_accuracy
from zoo.train import load_trained


def kept_steps(workdir: str) -> list[int]:
    """The steps of the finished checkpoints in ``workdir``, oldest first."""
    manager = ocp.CheckpointManager(f'{workdir}/checkpoints', options=ocp.CheckpointManagerOptions(create=False))
    return sorted(manager.all_steps())


def curve(workdir: str, per_class: int = 100, temperature: float | None = 0.7) -> list[dict]:
    """Conditional accuracy (mean, worst class) of each kept checkpoint; GANs take no temperature."""
    rows = []
    for step in kept_steps(workdir):
        trained = load_trained(workdir, step)
        config = trained.config
        classifier, ceiling, info = classifier_and_ceiling(config.dataset, config.data_dir, config.image_size)
        t = None if config.task == 'cgan' else temperature
        requested = np.repeat(np.arange(info.num_classes), per_class)
        pixels = sample_fn(trained, config.seed, t)(requested)
        accuracy = conditional_accuracy(classifier.predict(pixels), requested, info.num_classes)
        rows.append(
            {
                'step': step,
                'conditional_accuracy': accuracy['mean'],
                'worst_class_accuracy': min(accuracy['per_class']),
                'ceiling_real_test': ceiling['mean'],
            }
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('workdir')
    parser.add_argument('--per-class', type=int, default=100)
    parser.add_argument('--temperature', type=float, default=0.7)
    args = parser.parse_args(argv)
    for row in curve(args.workdir, args.per_class, args.temperature):
        print(json.dumps(row), flush=True)


if __name__ == '__main__':
    main()
