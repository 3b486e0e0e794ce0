"""One-step clustering VAE (Su Jianlin, "Variational autoencoders (4): a one-step clustering
scheme", Scientific Spaces blog, 2018; cf. VaDE, Jiang et al. 2017, "Variational Deep
Embedding", sec. 3).

Latents (z, y) with y one of K clusters.  Encoder p(z|x) = N(mu(x), sigma(x)^2), classifier
p(y|z) = softmax(f(z)), prior q(z|y) = N(mu_y, I) with learned class means (or, as VaDE's
mixture, N(mu_y, diag sigma_y^2) with learned sigma_y, Jiang et al. 2017, eq. 2), q(y) uniform,
decoder q(x|z).  The loss is the negative ELBO of q(x, z, y) = q(x|z) q(z|y) q(y) under
the posterior p(z|x) p(y|z):

    L(x) = E_{z ~ p(z|x)} [ -log q(x|z) + sum_y p(y|z) log( p(z|x) / q(z|y) )
                            + KL(p(y|z) || q(y)) ]

so clusters are the prior's mixture components, found in one training stage.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.distributions import gaussian_log_prob
from zoo.vae.networks import VAE

_HALF_LOG_2PI_E = 0.5 * (1.0 + math.log(2 * math.pi))


def cluster_kl(z, mean, log_scale, cluster_probs, class_means, class_log_scales=0.0):
    """sum_y p(y|z) [ log p(z|x) - log N(z; mu_y, diag sigma_y^2) ] per example, shape (N,).

    log p(z|x) does not depend on y and the p(y|z) sum to one, so it is replaced by its
    expectation over z, minus the entropy -sum(log sigma) - d (1 + log 2 pi) / 2 (as the
    blog's code does): the same expected loss with less noise.

    Args:
        z: (N, d) one sample of p(z|x);  mean, log_scale: (N, d) p(z|x);
        cluster_probs: (N, K) p(y|z);  class_means: (K, d) mu_y;
        class_log_scales: (K, d) log sigma_y, or 0 for the article's unit variances.
    """
    negative_entropy = -jnp.sum(log_scale, axis=-1) - z.shape[-1] * _HALF_LOG_2PI_E
    log_scales = jnp.broadcast_to(class_log_scales, class_means.shape)
    log_prior = jnp.sum(gaussian_log_prob(z[:, None, :], class_means[None], log_scales[None]), axis=-1)  # (N, K)
    return negative_entropy - jnp.sum(cluster_probs * log_prior, axis=-1)


def categorical_kl_to_uniform(logits):
    """KL(p(y|z) || U{1..K}) = sum_y p log p + log K per example, from logits (N, K)."""
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    return jnp.sum(jnp.exp(log_probs) * log_probs, axis=-1) + math.log(logits.shape[-1])


def clustering_loss_terms(log_likelihood, z, mean, log_scale, class_logits, class_means, class_log_scales=0.0) -> dict:
    """The three per-example terms of L(x) and their sum ``loss`` (N,) (module docstring).

    ``log_likelihood`` is log q(x|z) at the same z.
    """
    probs = jax.nn.softmax(class_logits, axis=-1)
    cluster = cluster_kl(z, mean, log_scale, probs, class_means, class_log_scales)
    category = categorical_kl_to_uniform(class_logits)
    return {
        'loss': -log_likelihood + (cluster + category),
        'reconstruction': -log_likelihood,
        'cluster_kl': cluster,
        'category_kl': category,
    }


class ArticleEncoder(nn.Module):
    """The article code's encoder: per width, a stride-2 then a stride-1 3x3 conv, each with
    LeakyReLU(0.2); then z's mean and log-scale straight from the flattened map (no hidden layer)."""

    latents: int = 20
    channels: tuple = (32, 64)

    @nn.compact
    def __call__(self, x):
        """Images (N, H, W, C) in [0, 1] -> (mean, log_scale), each (N, latents)."""
        for width in self.channels:
            for stride in (2, 1):
                x = nn.leaky_relu(nn.Conv(width, (3, 3), strides=(stride, stride))(x), 0.2)
        mean, log_scale = jnp.split(nn.Dense(2 * self.latents)(x.reshape(x.shape[0], -1)), 2, axis=-1)
        return mean, log_scale


class ArticleDecoder(nn.Module):
    """The encoder's mirror: Dense (no activation) to the (H/4, W/4) map, per width a stride-1
    then a stride-2 transposed conv with LeakyReLU(0.2), then a 3x3 conv to the pixel parameters."""

    output_shape: tuple
    channels: tuple = (32, 64)

    @nn.compact
    def __call__(self, z):
        """Codes (N, latents) -> per-pixel parameters (N, H, W, C * params_per_pixel)."""
        height, width, out_channels = self.output_shape
        factor = 2 ** len(self.channels)
        base = (height // factor, width // factor, self.channels[-1])
        h = nn.Dense(math.prod(base))(z).reshape(z.shape[0], *base)
        for channels in reversed(self.channels):
            for stride in (1, 2):
                h = nn.leaky_relu(nn.ConvTranspose(channels, (3, 3), strides=(stride, stride))(h), 0.2)
        return nn.ConvTranspose(out_channels, (3, 3))(h)


class ClusteringVAE(VAE):
    """A VAE with a classifier z -> hidden -> K logits (or the mixture's posterior) and K learned
    class means (K, latents).

    ``article_convs`` (with architecture 'conv') swaps in the article code's deeper conv
    encoder and decoder (``ArticleEncoder``, ``ArticleDecoder``); ``hidden`` is then unused.
    """

    num_clusters: int = 10
    classifier_hidden: int = 256
    class_mean_scale: float = 1.0  # stddev of the class means' normal init; 0 starts them at zero (the blog's code)
    article_convs: bool = False
    learn_class_scales: bool = False  # VaDE's per-cluster diagonal variances; the article fixes them at 1
    # VaDE's q(y|x) = p(y|z), the mixture's own posterior (Jiang et al. 2017, eq. 16), in place of the
    # article's classifier network.  It is the argmin over p(y|z) of L's two y-terms, so L becomes
    # -log q(x|z) + log p(z|x) - log sum_y q(y) q(z|y): the VAE bound under the marginal mixture prior.
    mixture_posterior: bool = False

    def setup(self):
        """Flax ``setup``: builds the layers the class docstring lists (the article's convs with ``article_convs``)."""
        if self.architecture == 'conv' and self.article_convs:
            height, width, channels = self.image_shape
            self.encoder = ArticleEncoder(self.latents, tuple(self.channels))
            self.decoder = ArticleDecoder((height, width, channels * self.params_per_pixel), tuple(self.channels))
        else:
            super().setup()
        if not self.mixture_posterior:
            self.classifier = nn.Sequential([nn.Dense(self.classifier_hidden), nn.relu, nn.Dense(self.num_clusters)])
        # The blog's code starts the means at zero; a unit-variance start separates the
        # components from step one, so the classifier has something to pick between.
        init = nn.initializers.normal(self.class_mean_scale) if self.class_mean_scale > 0 else nn.initializers.zeros
        self.class_means = self.param('class_means', init, (self.num_clusters, self.latents))
        if self.learn_class_scales:
            self.class_log_scales = self.param(
                'class_log_scales', nn.initializers.zeros, (self.num_clusters, self.latents)
            )

    def __call__(self, x):
        """(decoded mean code, class logits p(y|z), class means): every parameter touched once, for init."""
        mean, _ = self.encoder(x)
        return self.decoder(mean), self.classify(mean), self.class_means

    def classify(self, z):
        """Logits of p(y|z) over the clusters: the classifier's, or log q(z|y) (``mixture_posterior``)."""
        if self.mixture_posterior:
            return jnp.sum(gaussian_log_prob(z[:, None, :], self.class_means[None], self.log_scales()[None]), axis=-1)
        return self.classifier(z)

    def means(self):
        """The learned class means mu_y, shape (num_clusters, latents)."""
        return self.class_means

    def log_scales(self):
        """log sigma_y of the prior's components, (num_clusters, latents): learned, or zeros (unit variances)."""
        return self.class_log_scales if self.learn_class_scales else jnp.zeros_like(self.class_means)
