"""ClusteringVAETask: training lowers the loss, evaluation gives clusters, summarize scores them."""

import jax
import numpy as np
import pytest

from tests.vae import digits
from zoo.train import Config
from zoo.train.config import OptimizerConfig
from zoo.train.step import train_step
from zoo.vae.clustering_task import ClusteringVAETask, match_clusters


def chunks(batch, size):
    """``batch`` as the loop's evaluation batches: ``size`` examples each, the last padded and masked."""
    n = len(batch['image'])
    for start in range(0, n, size):
        part = {k: v[start : start + size] for k, v in batch.items()}
        real = len(part['image'])
        pad = lambda v: np.concatenate([v, np.zeros((size - real, *v.shape[1:]), v.dtype)])
        yield {**{k: pad(v) for k, v in part.items()}, 'mask': np.arange(size) < real}


@pytest.fixture(scope='module')
def trained():
    config = Config(
        task='vae_cluster',
        model=dict(hidden=32, latents=4, num_clusters=10, classifier_hidden=16),
        batch_size=64,
        steps=40,
        optimizer=OptimizerConfig(lr=3e-3, warmup_steps=0),
    )
    task = ClusteringVAETask(digits.INFO, config, samples_per_cluster=5)
    state = task.init(jax.random.PRNGKey(0), digits.batch(64))
    step = jax.jit(lambda s, b: train_step(task, s, b))
    evaluate = jax.jit(task.eval_step)
    held_out = digits.eval_batch(200, 1000)
    before = evaluate(state, held_out, jax.random.PRNGKey(3))
    for i in range(40):
        state, metrics = step(state, digits.batch(64, 64 * (i % 10)))
    return task, state, before, evaluate(state, held_out, jax.random.PRNGKey(3)), metrics


def test_training_lowers_the_loss(trained):
    _, _, before, after, metrics = trained
    assert np.mean(after['neg_elbo']) < np.mean(before['neg_elbo']) - 5.0
    assert set(metrics) >= {'loss', 'reconstruction', 'cluster_kl', 'category_kl'}


def test_summary_scores_clusters_against_labels(trained):
    task, _, _, after, _ = trained
    assert after['cluster'].shape == (200,) and after['label'].shape == (200,)
    summary = task.summarize({k: np.asarray(v) for k, v in after.items()})
    assert 0.1 <= summary['cluster_accuracy'] <= summary['majority_accuracy'] <= 1.0
    assert 1 <= summary['clusters_used'] <= 10
    # Labels as clusters score 1: summarize really compares the two.
    assert task.summarize({**after, 'cluster': np.asarray(after['label'])})['cluster_accuracy'] == 1.0
    assert 'cluster_accuracy' not in task.summarize({k: v for k, v in after.items() if k != 'label'})


def test_per_cluster_sheet(trained):
    task, state, *_ = trained
    sheets = task.visualize(state, digits.batch(16), jax.random.PRNGKey(0))
    assert sheets['cluster_samples'].shape == (10 * 9 + 1, 5 * 9 + 1, 1)
    assert sheets['reconstructions'].shape == (2 * 9 + 1, 16 * 9 + 1, 1)


def test_samples_come_from_the_mixture_prior(trained):
    """With the class means moved far apart (100 * the trained ones), each prior code lies at
    unit distance of one mean: the mixture's component."""
    task, state, *_ = trained
    samples = task.sample(state, jax.random.PRNGKey(0), 12)
    assert samples.shape == (12, 8, 8, 1) and samples.dtype == np.uint8
    params = {**state.params['vae'], 'class_means': 100.0 * state.params['vae']['class_means']}
    codes = np.asarray(task.prior_codes(params, jax.random.PRNGKey(1), 4000))
    means = np.asarray(params['class_means'])
    distances = np.sqrt(((codes[:, None] - means[None]) ** 2).sum(-1))
    nearest = np.argmin(distances, axis=1)
    assert np.all(distances.min(axis=1) < 5.0)  # |eps| for 4 latents: about 2, rarely above 4
    # Every cluster is drawn, about equally often (4000 / 10 = 400 each, binomial sd 19).
    assert np.bincount(nearest, minlength=10).min() > 250


def test_reconstruction_weight_scales_only_the_reconstruction_under_the_gaussian_likelihood():
    # The article's code: 2.5 * 0.5 * sum (x - x_rec)^2, i.e. weight 2.5 on log N(x; x_rec, 1).
    config = Config(task='vae_cluster', model={'hidden': 16, 'latents': 2, 'classifier_hidden': 8}, batch_size=8)
    pixels, rng = digits.batch(8)['image'], jax.random.PRNGKey(1)
    terms = {}
    for weight in (1.0, 2.5):
        task = ClusteringVAETask(digits.INFO, config, likelihood='gaussian', reconstruction_weight=weight)
        params = task.init(jax.random.PRNGKey(0), digits.batch(8)).params['vae']
        terms[weight] = task.terms(params, pixels, rng)[0]
    np.testing.assert_allclose(terms[2.5]['reconstruction'], 2.5 * terms[1.0]['reconstruction'], rtol=1e-5)
    np.testing.assert_allclose(terms[2.5]['cluster_kl'], terms[1.0]['cluster_kl'], rtol=1e-5)


def test_class_means_can_be_reset_from_a_clustering_of_the_codes(trained):
    task, state, *_ = trained
    codes = task.code_means(state.params['vae'], digits.batch(30)['image'], jax.random.PRNGKey(0))
    assert codes.shape == (30, 4)
    means = np.arange(40.0).reshape(10, 4)
    reset = task.with_class_means(state, means)
    np.testing.assert_array_equal(reset.params['vae']['class_means'], means)
    jax.tree.map(np.testing.assert_array_equal, reset.params['vae']['classifier'], state.params['vae']['classifier'])
    with pytest.raises(ValueError, match='class_means must have shape'):
        task.with_class_means(state, means[:3])


def test_kmeans_start_puts_the_class_means_at_centres_of_the_codes(trained):
    task, state, *_ = trained
    train = digits.batch(200)
    reset, _ = task.refit(state, chunks(train, 64), seed=0)
    codes = task.batch_codes(state.params['vae'], chunks(train, 64))
    assert codes.shape == (200, 4)  # the padding of the last batch is dropped
    # k-means centres minimise the codes' squared distance to their nearest mean: lower than before.
    spread = lambda means: np.mean(np.min(np.sum((codes[:, None] - np.asarray(means)[None]) ** 2, -1), axis=1))
    assert spread(reset.params['vae']['class_means']) < 0.9 * spread(state.params['vae']['class_means'])


def test_match_clusters_undoes_a_relabelling():
    rng = np.random.default_rng(0)
    current = rng.integers(0, 10, 500)
    permutation = rng.permutation(10)
    new = permutation[current]
    noisy = np.where(rng.random(500) < 0.2, rng.integers(0, 10, 500), new)  # 20% moved at random
    np.testing.assert_array_equal(match_clusters(current, noisy, 10), permutation)


def test_kmeans_reset_keeps_the_classifiers_labels(trained):
    """Each k-means centre takes the label of the classifier's cluster it overlaps most: the
    codes' nearest reset mean agrees with p(y|z)'s argmax at least as often as under any
    other labelling of the centres (the most for one-to-one labellings)."""
    from scipy.optimize import linear_sum_assignment

    from zoo.vae.clustering import ClusteringVAE

    task, state, *_ = trained
    train = digits.batch(300)
    reset, numbers = task.refit(state, chunks(train, 100), seed=0)
    params = state.params['vae']
    codes = task.batch_codes(params, chunks(train, 100))  # the codes the reset saw
    classified = np.argmax(np.asarray(task.apply(params, codes, method=ClusteringVAE.classify)), axis=-1)
    means = np.asarray(reset.params['vae']['class_means'])
    nearest = np.argmin(np.sum((codes[:, None] - means[None]) ** 2, -1), axis=1)
    overlap = np.zeros((10, 10))
    np.add.at(overlap, (classified, nearest), 1)
    rows, cols = linear_sum_assignment(-overlap)
    assert np.trace(overlap) == overlap[rows, cols].sum()
    assert numbers['kmeans_agreement'] == pytest.approx(np.trace(overlap) / 300)
    assert numbers['clusters_in_use'] == len(np.unique(classified))


def test_encoding_the_intensities_makes_the_evaluated_clusters_deterministic(trained):
    """Under the Bernoulli likelihood the observation is a random binarisation: an encoder fed it
    gives an image a different code (and at times a different cluster) each evaluation; fed the
    intensities (``encode_intensity``) the code depends on the pixels only."""
    task, state, *_ = trained
    config = Config(task='vae_cluster', model=dict(hidden=32, latents=4, num_clusters=10, classifier_hidden=16))
    intensity_task = ClusteringVAETask(digits.INFO, config, encode_intensity=True)
    pixels, params = digits.batch(64)['image'], state.params['vae']
    codes = {
        name: [np.asarray(each.code_means(params, pixels, jax.random.PRNGKey(k))) for k in (1, 2)]
        for name, each in (('binary', task), ('intensity', intensity_task))
    }
    assert np.max(np.abs(codes['binary'][0] - codes['binary'][1])) > 0.05
    np.testing.assert_array_equal(codes['intensity'][0], codes['intensity'][1])
    # The intensity code is the binary codes' centre: the mean code over binarisations is near it.
    binary_mean = np.mean([task.code_means(params, pixels, jax.random.PRNGKey(k)) for k in range(3, 23)], axis=0)
    spread = np.mean(np.abs(codes['binary'][0] - binary_mean))
    assert np.mean(np.abs(codes['intensity'][0] - binary_mean)) < spread


def test_nearest_mean_accuracy_scores_the_class_means_partition(trained):
    """One class mean at the codes' centre and nine far away: every code goes to the one
    cluster, so Hungarian accuracy is the frequency of the commonest label."""
    from experiments.unsupervised import cluster_diagnostics

    task, state, *_ = trained
    test = digits.eval_batch(200, 1000)
    centre = task.batch_codes(state.params['vae'], [test]).mean(axis=0)
    means = np.concatenate([centre[None], centre[None] + 1e3 * (1.0 + np.arange(9.0))[:, None]])
    accuracy = cluster_diagnostics(task, task.with_class_means(state, means), test, test, seed=0)[
        'nearest_mean_accuracy'
    ]
    assert accuracy == pytest.approx(np.bincount(np.asarray(test['label'])).max() / 200)


def test_learned_class_scales_are_reset_to_the_clusters_spread(trained):
    """VaDE's per-cluster variances: the reset gives sigma_y the spread of cluster y's codes,
    and the prior's samples of a cluster then spread as much (the article's model ignores them)."""
    from zoo.vae.clustering import ClusteringVAE

    task, _, *_ = trained
    config = Config(
        task='vae_cluster',
        model=dict(hidden=32, latents=4, num_clusters=10, classifier_hidden=16, learn_class_scales=True),
        batch_size=64,
    )
    scaled = ClusteringVAETask(digits.INFO, config)
    state = scaled.init(jax.random.PRNGKey(0), digits.batch(64))
    np.testing.assert_array_equal(scaled.apply(state.params['vae'], method=ClusteringVAE.log_scales), 0.0)
    reset, _ = scaled.refit(state, chunks(digits.batch(200), 100), seed=0)
    scales = np.exp(np.asarray(reset.params['vae']['class_log_scales']))
    assert scales.shape == (10, 4) and np.all(scales < 0.5)  # untrained codes sit close together
    codes = np.asarray(scaled.prior_codes(reset.params['vae'], jax.random.PRNGKey(1), 20_000))
    means = np.asarray(reset.params['vae']['class_means'])
    nearest = np.argmin(np.sum((codes[:, None] - means[None]) ** 2, -1), axis=1)
    assert np.std(codes - means[nearest]) < 2 * scales.max()  # unit-variance samples would spread to 1


def test_pretraining_is_a_plain_vae():
    """VaDE's pretraining: the loss is -log p(x|z) + KL(q(z|x) || N(0, I)) at the same z, in
    place of the mixture's terms, which are still reported."""
    from zoo.distributions import kl_standard_normal
    from zoo.vae.networks import VAE

    config = Config(task='vae_cluster', model=dict(hidden=32, latents=4, num_clusters=10, classifier_hidden=16))
    batch, rng = digits.batch(32), jax.random.PRNGKey(1)
    task = ClusteringVAETask(digits.INFO, config)
    params = task.init(jax.random.PRNGKey(0), batch).params['vae']
    losses = {pretraining: task.loss(params, batch['image'], rng, pretraining) for pretraining in (True, False)}
    x = task.observe(jax.random.split(rng)[0], batch['image'])
    mean, log_scale = task.apply(params, task.encoder_input(x, batch['image']), method=VAE.encode)
    kl = np.mean(np.sum(kl_standard_normal(mean, log_scale), axis=-1))
    (pretrain_loss, pretrain_terms), (loss, terms) = losses[True], losses[False]
    assert kl > 0.1  # the check below can tell the KL from nothing
    np.testing.assert_allclose(pretrain_loss, pretrain_terms['reconstruction'] + kl, rtol=1e-5)
    np.testing.assert_allclose(loss, terms['reconstruction'] + terms['cluster_kl'] + terms['category_kl'], rtol=1e-5)
    np.testing.assert_allclose(pretrain_terms['cluster_kl'], terms['cluster_kl'], rtol=1e-5)


def test_the_first_pretrain_steps_minimise_the_plain_vae_loss():
    """``pretrain_steps = 2``: steps 0 and 1 report (and take the gradient of) the plain VAE's
    loss, step 2 the mixture's; each equals the loss of its kind at the step's parameters."""
    config = Config(
        task='vae_cluster',
        model=dict(hidden=32, latents=4, num_clusters=10, classifier_hidden=16),
        optimizer=OptimizerConfig(lr=3e-3, warmup_steps=0),
    )
    task = ClusteringVAETask(digits.INFO, config, pretrain_steps=2)
    batch = digits.batch(32)
    state = task.init(jax.random.PRNGKey(0), batch)
    step = jax.jit(lambda s, b: train_step(task, s, b))
    gaps = []
    for t in range(3):
        rng = jax.random.fold_in(state.rng, state.step)  # the step's own key
        expected = {kind: float(task.loss(state.params['vae'], batch['image'], rng, kind)[0]) for kind in (True, False)}
        state, metrics = step(state, batch)
        loss = float(metrics['loss'])
        assert abs(loss - expected[t < 2]) <= 1e-5 * abs(loss)
        gaps.append(abs(expected[True] - expected[False]))
    assert min(gaps) > 1.0  # the two losses differ, so the checks above tell them apart


@pytest.mark.parametrize(
    ('kwargs', 'message'),
    [({'kmeans_steps': (100, -1)}, 'kmeans_steps must be step numbers'), ({'pretrain_steps': 1.5}, 'pretrain_steps')],
)
def test_bad_recipe_steps_say_which(kwargs, message):
    config = Config(task='vae_cluster', model=dict(hidden=32, latents=4, num_clusters=10, classifier_hidden=16))
    with pytest.raises(ValueError, match=message):
        ClusteringVAETask(digits.INFO, config, **kwargs)


def test_kmeans_reset_of_diverged_codes_says_so(trained):
    task, state, *_ = trained
    broken = state.replace(params=jax.tree.map(lambda p: p * np.nan, state.params))
    with pytest.raises(ValueError, match='not finite'):
        task.refit(broken, chunks(digits.batch(200), 100), seed=0)


def test_the_loop_runs_the_k_means_resets(tmp_path, capsys):
    """``make train-vae-cluster``'s recipe in the loop: the reset before the listed step, its
    numbers logged (``tests/train/test_protocol.py`` checks what the loop hands a refit)."""
    from experiments import configs
    from zoo.train import override, train

    small = ['steps=4', 'model.hidden=32', 'model.channels=(8, 16)', 'eval_batch_size=200']
    config = override(configs.get_config('vae_cluster', 'digits'), [*small, 'task_kwargs.kmeans_steps=(2,)'])
    summary = train(config, tmp_path)
    out = capsys.readouterr()
    assert (out.out + out.err).count('refit, kmeans_agreement') == 1
    assert 0 < summary['test']['cluster_accuracy'] <= 1


def test_a_reset_moves_the_parameter_ema_too():
    """With a parameter EMA (what evaluation and samples use) the reset moves the averaged class
    means as well: an EMA across a reset would evaluate a blend of the old and new prior."""
    config = Config(
        task='vae_cluster',
        model=dict(hidden=32, latents=4, num_clusters=10, classifier_hidden=16),
        optimizer=OptimizerConfig(ema_decay=0.99),
    )
    task = ClusteringVAETask(digits.INFO, config)
    state = task.init(jax.random.PRNGKey(0), digits.batch(64))
    means = np.arange(40.0).reshape(10, 4)
    reset = task.with_class_means(state, means)
    np.testing.assert_array_equal(reset.averaged('vae')['class_means'], means)
    np.testing.assert_array_equal(reset.params['vae']['class_means'], means)
    jax.tree.map(np.testing.assert_array_equal, reset.ema['vae']['encoder'], state.ema['vae']['encoder'])
