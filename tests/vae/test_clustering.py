"""The clustering VAE's loss terms against brute-force sums in float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from zoo.distributions import kl_standard_normal
from zoo.vae.clustering import categorical_kl_to_uniform, cluster_kl, clustering_loss_terms


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def test_cluster_kl_is_the_brute_force_sum(x64):
    rng = np.random.default_rng(0)
    n, d, k = 3, 2, 4
    z, mean, log_scale = rng.normal(size=(n, d)), rng.normal(size=(n, d)), 0.3 * rng.normal(size=(n, d))
    probs, class_means = rng.dirichlet(np.ones(k), size=n), rng.normal(size=(k, d))
    entropy = np.sum(stats.norm(mean, np.exp(log_scale)).entropy(), axis=1)
    expected = [
        -entropy[i] - sum(probs[i, y] * stats.multivariate_normal(class_means[y]).logpdf(z[i]) for y in range(k))
        for i in range(n)
    ]
    np.testing.assert_allclose(cluster_kl(z, mean, log_scale, probs, class_means), expected, rtol=1e-10)
    # VaDE's per-cluster diagonal variances.
    class_log_scales = 0.5 * rng.normal(size=(k, d))
    covariances = np.exp(2 * class_log_scales)
    expected = [
        -entropy[i]
        - sum(
            probs[i, y] * stats.multivariate_normal(class_means[y], np.diag(covariances[y])).logpdf(z[i])
            for y in range(k)
        )
        for i in range(n)
    ]
    got = cluster_kl(z, mean, log_scale, probs, class_means, class_log_scales)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_one_cluster_at_the_origin_is_the_plain_vae_kl(x64):
    # K = 1, mu_1 = 0: E_z[cluster_kl] = KL(p(z|x) || N(0, I)) and the categorical term vanishes.
    mean, log_scale = jnp.array([[0.7, -0.2, 1.1]]), jnp.array([[-0.5, 0.1, 0.3]])
    z = mean + jnp.exp(log_scale) * jax.random.normal(jax.random.PRNGKey(0), (50_000, 3))
    values = jax.vmap(lambda zi: cluster_kl(zi[None], mean, log_scale, jnp.ones((1, 1)), jnp.zeros((1, 3)))[0])(z)
    error = 5 * np.std(values) / np.sqrt(len(values))
    assert abs(np.mean(values) - np.sum(kl_standard_normal(mean, log_scale))) < error
    assert float(categorical_kl_to_uniform(jnp.zeros((1, 1)))[0]) == 0.0


def test_categorical_kl_limits_and_loss_sum(x64):
    np.testing.assert_allclose(categorical_kl_to_uniform(jnp.zeros((2, 10))), 0.0, atol=1e-12)
    np.testing.assert_allclose(categorical_kl_to_uniform(jnp.array([[60.0, 0.0, 0.0, 0.0]])), np.log(4), rtol=1e-10)
    rng = np.random.default_rng(1)
    terms = clustering_loss_terms(
        jnp.array([-3.0, -4.0]),
        rng.normal(size=(2, 2)),
        rng.normal(size=(2, 2)),
        jnp.zeros((2, 2)),
        rng.normal(size=(2, 3)),
        rng.normal(size=(3, 2)),
    )
    np.testing.assert_allclose(terms['loss'], terms['reconstruction'] + terms['cluster_kl'] + terms['category_kl'])
    np.testing.assert_allclose(terms['reconstruction'], [3.0, 4.0])


def test_article_convs_mirror_the_image_shape():
    from zoo.vae.clustering import ClusteringVAE

    model = ClusteringVAE(image_shape=(8, 8, 1), architecture='conv', latents=3, channels=(4, 8), article_convs=True)
    x = jnp.zeros((2, 8, 8, 1))
    decoded, logits, means = model.apply(model.init(jax.random.PRNGKey(0), x), x)
    assert decoded.shape == (2, 8, 8, 1) and logits.shape == (2, 10) and means.shape == (10, 3)


def test_mixture_posterior_makes_the_y_terms_minus_the_log_mixture_density(x64):
    """VaDE's q(y|x) = p(y|z) (Jiang et al. 2017, eq. 16): the classifier is the mixture's
    posterior, and L's two y-terms sum to log p(z|x)'s expectation minus log sum_y q(y) q(z|y)."""
    from scipy.special import logsumexp

    from zoo.vae.clustering import ClusteringVAE

    model = ClusteringVAE(
        image_shape=(8, 8, 1), architecture='conv', latents=3, channels=(4, 8), mixture_posterior=True
    )
    variables = model.init(jax.random.PRNGKey(0), jnp.zeros((2, 8, 8, 1)))
    assert 'classifier' not in variables['params']
    rng = np.random.default_rng(2)
    z, mean, log_scale = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), 0.2 * rng.normal(size=(5, 3))
    means = np.asarray(model.apply(variables, method=ClusteringVAE.means))
    log_densities = np.array([[stats.multivariate_normal(m).logpdf(zi) for m in means] for zi in z])  # (5, 10)
    logits = model.apply(variables, jnp.asarray(z), method=ClusteringVAE.classify)
    np.testing.assert_allclose(
        jax.nn.softmax(logits), np.exp(log_densities - logsumexp(log_densities, 1, keepdims=True))
    )
    terms = clustering_loss_terms(jnp.zeros(5), z, mean, log_scale, logits, means)
    negative_entropy = -np.sum(stats.norm(mean, np.exp(log_scale)).entropy(), axis=1)
    expected = negative_entropy - (logsumexp(log_densities, axis=1) - np.log(10))
    np.testing.assert_allclose(terms['cluster_kl'] + terms['category_kl'], expected, rtol=1e-6)
