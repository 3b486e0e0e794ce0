"""experiments.unsupervised's k-means floor: fit on the (first n) training pixels, scored on test."""

from experiments import unsupervised


def test_kmeans_on_digit_pixels_is_the_known_floor():
    # k-means on sklearn's digits pixels is known to reach about 0.79 Hungarian accuracy.
    out = unsupervised.kmeans_baseline('digits', seed=0)
    assert 0.7 < out['cluster_accuracy'] < 0.9
    assert 0.7 < out['train_cluster_accuracy'] < 0.9


def test_kmeans_fits_only_the_first_train_images(monkeypatch):
    sizes, load = [], unsupervised.load

    def counting_load(dataset, train_images=None):
        info, train, test = load(dataset, train_images)
        sizes.append((len(train['label']), len(test['label'])))
        return info, train, test

    monkeypatch.setattr(unsupervised, 'load', counting_load)
    out = unsupervised.kmeans_baseline('digits', seed=0, train_images=200)
    assert sizes == [(200, 300)]
    assert 0.3 < out['cluster_accuracy'] <= 1
