"""Why a conditional VAE's samples miss their class: accuracy against temperature, and label swaps.

    python -m experiments.cvae_label_probe WORKDIR [--swaps 500]

For the latest checkpoint of a ``cvae`` run, by the one rule of ``experiments.conditional``
(the offline classifier trained on the real training split):

- the conditional accuracy of 100 samples a class at temperatures 0, 0.35, 0.7 and 1
  (z ~ N(0, T^2 I)); at T = 0 each class is one image, the decoder's mean at z = 0;
- label swaps (Sohn et al. 2015's "style" transfer): ``--swaps`` test images are encoded
  with their own label, q(z | x, y), and the posterior mean decoded as every other class.
  ``swap_follows_label`` is the share the classifier names as the new class,
  ``swap_keeps_class`` the share it still names as the image's own class: z carries the class
  when the second is large, and then a prior draw of z, which knows no label, fights y.
"""

import argparse
import json

import jax
import numpy as np

from experiments.conditional import classifier_and_ceiling, sample_fn
from experiments.evaluate import split_arrays
from zoo import data
from zoo.conditional_accuracy import conditional_accuracy
from zoo.train import load_trained

TEMPERATURES = (0.0, 0.35, 0.7, 1.0)


def probe(workdir: str, swaps: int = 500, per_class: int = 100) -> dict:
    """The accuracy at each temperature and the label-swap shares of a trained ``cvae`` run."""
    trained = load_trained(workdir)
    config = trained.config
    classifier, ceiling, info = classifier_and_ceiling(config.dataset, config.data_dir, config.image_size)
    k = info.num_classes
    requested = np.repeat(np.arange(k), per_class)
    result = {'step': trained.step, 'ceiling_real_test': ceiling['mean']}
    for t in TEMPERATURES:
        pixels = sample_fn(trained, config.seed, t)(requested)
        result[f'accuracy_t{t}'] = conditional_accuracy(classifier.predict(pixels), requested, k)['mean']

    dataset = data.open_dataset(config.dataset, data_dir=config.data_dir, image_size=config.image_size)
    x, y = split_arrays(dataset, 'test')
    x, y = x[:swaps], np.asarray(y[:swaps])
    decoded = np.asarray(trained.task.swap_labels(trained.state, x, y, jax.random.key(0)))  # (N, K, H, W, C)
    predicted = classifier.predict(decoded.reshape(-1, *decoded.shape[2:])).reshape(len(y), k)
    new = np.broadcast_to(np.arange(k), predicted.shape)
    swapped = new != y[:, None]
    result['swap_follows_label'] = float(np.mean(predicted[swapped] == new[swapped]))
    result['swap_keeps_class'] = float(
        np.mean(predicted[swapped] == np.broadcast_to(y[:, None], predicted.shape)[swapped])
    )
    result['reconstruction_accuracy'] = float(np.mean(predicted[np.arange(len(y)), y] == y))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('workdir')
    parser.add_argument('--swaps', type=int, default=500)
    args = parser.parse_args(argv)
    print(json.dumps(probe(args.workdir, args.swaps)), flush=True)


if __name__ == '__main__':
    main()
