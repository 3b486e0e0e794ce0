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


def test_measure_runs_the_clustering_recipe_the_task_gives(capsys):
    """``measure`` with VaDE's recipe: the plain-VAE steps, then the k-means reset before the
    step the task lists, and the diagnostics of the trained codes."""
    sets = ('model.hidden=32', 'model.channels=(8, 16)')
    out = unsupervised.measure('vae_cluster', 'digits', 0, steps=4, sets=sets, kmeans_steps=(2,), pretrain_steps=2)
    printed = capsys.readouterr().out
    assert 'refit before step 2: kmeans_agreement' in printed and printed.count('refit before') == 1
    assert out['steps'] == 4 and 0 < out['cluster_accuracy'] <= 1 and 0 < out['codes_kmeans_accuracy'] <= 1
