"""DEC's autoencoder baseline for the clustering rows: k-means on the codes of a deterministic
autoencoder, the stronger floor beside k-means on pixels.

Xie, Girshick and Farhadi 2016 (Unsupervised Deep Embedding for Clustering Analysis, sec.
3.2 and 4.1) start DEC from a d-500-500-2000-10 ReLU autoencoder trained to reconstruct x,
then cluster its codes z = f(x) by k-means.  Here the same network is trained end to end by
Adam on the mean squared error min E ||g(f(x)) - x||^2 of intensities in [0, 1] (DEC pretrains
layer-wise denoising autoencoders first; that step is left out), k-means (k = 10, 10
restarts) is fit on the training codes, and the test codes are assigned to its centres:

    python -m experiments.ae_kmeans --dataset npz:/tmp/mnist.npz --seeds 0,1 --steps 4000

Labels only score (Hungarian accuracy, ``zoo.metrics.clustering_accuracy``).
"""

import argparse
import time

import numpy as np

from experiments.unsupervised import load

WIDTHS = (500, 500, 2000)  # DEC's encoder; the decoder mirrors it
BATCH_SIZE = 256
LEARNING_RATE = 1e-3


def autoencoder(code: int = 10):
    """The d-500-500-2000-code ReLU encoder and its mirror decoder: x -> (z, x_hat)."""
    import flax.linen as nn

    class Autoencoder(nn.Module):
        @nn.compact
        def __call__(self, x):
            h = x
            for width in WIDTHS:
                h = nn.relu(nn.Dense(width)(h))
            z = nn.Dense(code)(h)
            h = z
            for width in reversed(WIDTHS):
                h = nn.relu(nn.Dense(width)(h))
            return z, nn.Dense(x.shape[-1])(h)

    return Autoencoder()


def measure(
    dataset: str, seed: int, steps: int = 4000, batch_size: int = BATCH_SIZE, lr: float = LEARNING_RATE
) -> dict:
    """Train the autoencoder ``steps`` steps with ``seed``, then k-means on its codes: test and
    train Hungarian accuracy, the final reconstruction error and the wall time."""
    import jax
    import jax.numpy as jnp
    import optax
    from sklearn.cluster import KMeans

    from zoo.metrics import clustering_accuracy

    _, train, test = load(dataset)
    flat = lambda images: images.reshape(len(images), -1).astype(np.float32) / 255.0
    x_train, x_test = flat(train['image']), flat(test['image'])
    model = autoencoder()
    params = model.init(jax.random.key(seed), x_train[:1])
    optimizer = optax.adam(lr)
    opt_state = optimizer.init(params)

    @jax.jit
    def step(params, opt_state, x):
        loss, grads = jax.value_and_grad(lambda p: jnp.mean((model.apply(p, x)[1] - x) ** 2))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    order = np.random.default_rng(seed)
    start = time.time()
    from tqdm import tqdm

    for _ in tqdm(range(steps), desc=f'autoencoder seed {seed}', mininterval=30):
        params, opt_state, loss = step(params, opt_state, x_train[order.integers(0, len(x_train), batch_size)])
    codes = jax.jit(lambda x: model.apply(params, x)[0])
    kmeans = KMeans(10, n_init=10, random_state=seed).fit(np.asarray(codes(x_train)))
    return {
        'cluster_accuracy': clustering_accuracy(test['label'], kmeans.predict(np.asarray(codes(x_test)))),
        'train_cluster_accuracy': clustering_accuracy(train['label'], kmeans.labels_),
        'reconstruction_mse': float(loss),
        'seconds': time.time() - start,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--dataset', default='digits', help='e.g. npz:PATH (labelled)')
    parser.add_argument('--seeds', default='0', help='comma-separated')
    parser.add_argument('--steps', type=int, default=4000)
    args = parser.parse_args(argv)
    results = [measure(args.dataset, int(s), args.steps) for s in args.seeds.split(',')]
    for seed, r in zip(args.seeds.split(','), results):
        print(f'seed {seed}: ' + ', '.join(f'{k} {v:.4g}' for k, v in r.items()))
    accuracy = np.array([r['cluster_accuracy'] for r in results])
    print(f'test cluster_accuracy {accuracy.mean():.3f} +- {accuracy.std(ddof=1) if len(accuracy) > 1 else 0:.3f}')
    return results


if __name__ == '__main__':
    main()
