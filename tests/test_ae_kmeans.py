import numpy as np

from experiments import ae_kmeans


def ten_blobs(path, per_class: int):
    """8x8 images of 10 classes, class k a bright 2x2 square at its own place, plus noise."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), per_class)
    images = rng.integers(0, 40, (len(labels), 8, 8, 1))
    for i, k in enumerate(labels):
        r, c = 2 * (k // 4), 2 * (k % 4)
        images[i, r : r + 2, c : c + 2] = 255
    images = images.astype(np.uint8)
    np.savez(path, x_train=images, y_train=labels, x_test=images[::3], y_test=labels[::3])


def test_codes_of_a_trained_autoencoder_cluster_separable_classes(tmp_path):
    ten_blobs(tmp_path / 'blobs.npz', 40)
    result = ae_kmeans.measure(f'npz:{tmp_path / "blobs.npz"}', seed=0, steps=150, batch_size=64)
    assert result['cluster_accuracy'] > 0.9, result  # codes -> k-means on train -> test assignment -> Hungarian
    # Training happened: the untrained network's error is 0.069 (one step), 150 steps reach 0.0019.
    assert result['reconstruction_mse'] < 0.01, result


def test_the_autoencoder_is_decs_shape():
    import jax

    model = ae_kmeans.autoencoder(code=10)
    params = model.init(jax.random.key(0), np.zeros((1, 64), np.float32))
    z, x_hat = model.apply(params, np.zeros((3, 64), np.float32))
    assert z.shape == (3, 10) and x_hat.shape == (3, 64)
    kernels = [leaf.shape for leaf in jax.tree.leaves(params) if leaf.ndim == 2]
    assert kernels == [(64, 500), (500, 500), (500, 2000), (2000, 10), (10, 2000), (2000, 500), (500, 500), (500, 64)]
