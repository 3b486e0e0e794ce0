"""``ClusteringVAETask``: the one-step clustering VAE (``zoo.vae.clustering``) in the loop.

Training minimises the mean of L(x) (three terms, one z sample).  Evaluation turns
the noise off: each image's cluster is argmax_y p(y | z = mu(x)); with labels in the
eval batches ``summarize`` reports clustering accuracy with Hungarian matching and
the seed's majority-vote accuracy (``zoo.metrics``).  Sheets: per-cluster samples
z = mu_y + eps (one row per cluster) and reconstructions.
"""

import jax
import jax.numpy as jnp
import numpy as np

from zoo.distributions import sample_diagonal_gaussian
from zoo.metrics import clustering_accuracy, majority_vote_accuracy
from zoo.train.state import TrainState
from zoo.vae.clustering import ClusteringVAE, clustering_loss_terms
from zoo.vae.networks import VAE
from zoo.vae.task import NUM_EXAMPLES, VAETask
from zoo.viz.image_grid import make_grid


class ClusteringVAETask(VAETask):
    """Clusters images into ``config.model['num_clusters']`` groups while learning a VAE."""

    watch = 'loss'
    headline = 'cluster_accuracy'
    lower_is_better = False
    model_class = ClusteringVAE

    def __init__(self, info, config, likelihood: str = 'bernoulli', samples_per_cluster: int = 10):
        super().__init__(info, config, likelihood=likelihood, iwae_samples=1)
        self.samples_per_cluster = samples_per_cluster

    def init(self, rng, batch) -> TrainState:
        init_key, state_key = jax.random.split(rng)
        params = self.model.init(init_key, self.observe(init_key, batch['image']))['params']
        return TrainState.create(state_key, {'vae': params}, self.optimizers,
                                 aux={'examples': batch['image'][:NUM_EXAMPLES]})

    def terms(self, params, pixels, rng, noise: bool = True):
        """Per-example loss terms, and p(y|z)'s logits at z ~ p(z|x) (or z = mu(x) without noise)."""
        observe_key, sample_key = jax.random.split(rng)
        x = self.observe(observe_key, pixels)
        apply = lambda method, *a: self.model.apply({'params': params}, *a, method=method)
        mean, log_scale = apply(VAE.encode, x)
        z = sample_diagonal_gaussian(sample_key, mean, log_scale)
        terms = clustering_loss_terms(self.log_likelihood_fn(params, x)(z), z, mean, log_scale,
                                      apply(ClusteringVAE.classify, z), apply(ClusteringVAE.means))
        return terms, apply(ClusteringVAE.classify, z if noise else mean)

    def loss(self, params, pixels, rng):
        terms, _ = self.terms(params, pixels, rng)
        means = {k: jnp.mean(v) for k, v in terms.items()}
        return means['loss'], means

    def eval_step(self, state, batch, rng):
        terms, logits = self.terms(state.averaged('vae'), batch['image'], rng, noise=False)
        values = {'neg_elbo': terms['loss'], 'cluster': jnp.argmax(logits, axis=-1)}
        if 'label' in batch:
            values['label'] = batch['label']
        return values

    def summarize(self, values):
        values = dict(values)
        clusters, labels = values.pop('cluster'), values.pop('label', None)
        summary = {k: float(np.mean(v)) for k, v in values.items()}
        summary['clusters_used'] = float(len(np.unique(clusters)))
        if labels is not None:
            summary['cluster_accuracy'] = clustering_accuracy(labels, clusters)
            summary['majority_accuracy'] = majority_vote_accuracy(labels, clusters)
        return summary

    def _cluster_samples(self, params, rng):
        class_means = self.model.apply({'params': params}, method=ClusteringVAE.means)
        eps = jax.random.normal(rng, (class_means.shape[0], self.samples_per_cluster, class_means.shape[1]))
        z = (class_means[:, None] + eps).reshape(-1, class_means.shape[1])
        return self.decode_pixels(params, z)

    def visualize(self, state, rng):
        """One row of samples z = mu_y + eps per cluster, and reconstructions."""
        if not hasattr(self, '_jit_cluster_samples'):
            self._jit_cluster_samples = jax.jit(self._cluster_samples)
            self._jit_reconstruct = jax.jit(self.reconstruct_pixels)
        params, examples = state.averaged('vae'), state.aux['examples']
        levels = self.info.num_levels
        return {'cluster_samples': make_grid(self._jit_cluster_samples(params, rng), levels,
                                             cols=self.samples_per_cluster),
                'reconstructions': make_grid(jnp.concatenate([examples, self._jit_reconstruct(params, examples, rng)]),
                                             levels, cols=len(examples))}
