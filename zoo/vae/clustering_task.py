"""``ClusteringVAETask``: the one-step clustering VAE (``zoo.vae.clustering``) in the loop.

Training minimises the mean of L(x) (three terms, one z sample).  With ``encode_intensity``
the encoder sees the intensities p / (L-1) while the Bernoulli likelihood explains their
random binarisation (``encoder_input``).  Evaluation turns the noise off: each image's
cluster is argmax_y p(y | z = mu(x)); with labels in the eval batches ``summarize`` reports
clustering accuracy with Hungarian matching and majority-vote accuracy (``zoo.metrics``).
``sample`` draws from the mixture prior (y uniform, z = mu_y + eps).  Sheets: per-cluster
samples (one row per cluster) and reconstructions.

Two steps of VaDE's recipe (Jiang et al. 2017, sec. 3.3) are the task's, so the loop runs them
and a killed run resumes through them: ``kmeans_steps``, the steps before which the class means
move to k-means centres of the training codes (``refit``), and ``pretrain_steps``, a first
stretch trained as a plain VAE.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from zoo import images
from zoo.distributions import kl_standard_normal, sample_diagonal_gaussian
from zoo.metrics import clustering_accuracy, majority_vote_accuracy
from zoo.train.task import jit_method
from zoo.vae.clustering import ClusteringVAE, clustering_loss_terms
from zoo.vae.networks import VAE
from zoo.vae.representation import split_summary, with_labels
from zoo.vae.task import NUM_EXAMPLES, VAETask
from zoo.viz.image_grid import make_grid


class ClusteringVAETask(VAETask):
    """Clusters images into ``config.model['num_clusters']`` groups while learning a VAE."""

    watch = 'loss'
    headline = 'cluster_accuracy'
    model_class = ClusteringVAE

    def __init__(
        self,
        info,
        config,
        likelihood: str = 'bernoulli',
        reconstruction_weight: float = 1.0,
        samples_per_cluster: int = 10,
        encode_intensity: bool = False,
        kmeans_steps=(),
        pretrain_steps: int = 0,
    ):
        super().__init__(info, config, likelihood=likelihood, iwae_samples=1)
        self.reconstruction_weight = float(reconstruction_weight)
        self.samples_per_cluster = samples_per_cluster
        self.encode_intensity = bool(encode_intensity)
        steps = tuple(kmeans_steps)
        if not all(isinstance(t, int) and t >= 0 for t in steps):
            raise ValueError(f'kmeans_steps must be step numbers >= 0, got {kmeans_steps!r}')
        self.refit_steps = tuple(sorted(set(steps)))
        if not (isinstance(pretrain_steps, int) and pretrain_steps >= 0):
            raise ValueError(f'pretrain_steps must be an integer >= 0, got {pretrain_steps!r}')
        self.pretrain_steps = pretrain_steps

    def encoder_input(self, x, pixels):
        """What the encoder sees: the observation ``x``, or with ``encode_intensity`` the intensities p / (L-1).

        Under the Bernoulli likelihood x is a random binarisation, so without ``encode_intensity`` an
        image's code, and its cluster, change from one evaluation to the next.  Any q(z) gives a
        lower bound on log q(x), so an encoder that sees the intensities (the article's input: MNIST
        grey levels in [0, 1]) still trains the ELBO of the binarised x.
        """
        return images.to_intensity(pixels, self.info.num_levels) if self.encode_intensity else x

    def terms(self, params, pixels, rng, noise: bool = True, pretraining: bool | jax.Array = False):
        """Per-example loss terms, and p(y|z)'s logits at z ~ p(z|x) (or z = mu(x) without noise).

        While ``pretraining`` the loss is a plain VAE's, -log p(x|z) + KL(q(z|x) || N(0, I)) (Kingma &
        Welling 2014), in place of the mixture's terms (still reported): VaDE trains an
        autoencoder before the k-means start of its class means (Jiang et al. 2017, sec. 3.3).
        The VAE keeps the codes at the unit scale of the mixture's components; a deterministic
        autoencoder's codes have no scale (on the article's network they grow until the decoder
        saturates and its loss stops falling).
        """
        observe_key, sample_key = jax.random.split(rng)
        x = self.observe(observe_key, pixels)
        apply = lambda method, *a: self.apply(params, *a, method=method)
        mean, log_scale = apply(VAE.encode, self.encoder_input(x, pixels))
        z = sample_diagonal_gaussian(sample_key, mean, log_scale)
        logits = apply(ClusteringVAE.classify, z)
        terms = clustering_loss_terms(
            self.reconstruction_weight * self.log_likelihood_fn(params, x)(z),
            z,
            mean,
            log_scale,
            logits,
            apply(ClusteringVAE.means),
            apply(ClusteringVAE.log_scales),
        )
        if pretraining is not False:  # a Python False keeps the mixture's graph exactly as it was
            plain = terms['reconstruction'] + jnp.sum(kl_standard_normal(mean, log_scale), axis=-1)
            terms['loss'] = jnp.where(pretraining, plain, terms['loss'])
        return terms, logits if noise else apply(ClusteringVAE.classify, mean)

    def loss(self, params, pixels, rng, pretraining: bool | jax.Array = False):
        """The mean one-step clustering VAE loss: reconstruction, KL to the class means weighted by p(y|z), and
        p(y|z)'s entropy terms (while ``pretraining``, a plain VAE's; ``terms``).
        """
        terms, _ = self.terms(params, pixels, rng, pretraining=pretraining)
        means = {k: jnp.mean(v) for k, v in terms.items()}
        return means['loss'], means

    def train_step(self, state, batch, rng):
        """``Task.train_step``: one optimiser step on the loss, a plain VAE's for the first ``pretrain_steps``."""
        if not self.pretrain_steps:
            return super().train_step(state, batch, rng)
        loss = functools.partial(self.loss, pretraining=state.step < self.pretrain_steps)
        return state.minimize('vae', loss, batch['image'], rng)

    def eval_step(self, state, batch, rng):
        """``Task.eval_step``: per-example negative ELBO (``neg_elbo``), its three terms, and the assigned cluster
        of shape (N,) (the loop drops padding and averages).
        """
        terms, logits = self.terms(state.averaged('vae'), batch['image'], rng, noise=False)
        parts = {k: terms[k] for k in ('reconstruction', 'cluster_kl', 'category_kl')}
        return with_labels({'neg_elbo': terms['loss'], **parts, 'cluster': jnp.argmax(logits, axis=-1)}, batch)

    def summarize(self, values):
        """Means, the number of clusters used, and Hungarian and majority-vote accuracy where there are labels."""
        clusters, labels, summary = split_summary(values, 'cluster')
        summary['clusters_used'] = float(len(np.unique(clusters)))
        if labels is not None:
            summary['cluster_accuracy'] = clustering_accuracy(labels, clusters)
            summary['majority_accuracy'] = majority_vote_accuracy(labels, clusters)
        return summary

    @jit_method()
    def code_means(self, params, pixels, rng):
        """The encoder's means mu(x), (N, latents), of the observed pixels."""
        x = self.observe(rng, pixels)
        return self.apply(params, self.encoder_input(x, pixels), method=VAE.encode)[0]

    def reconstruct(self, state, pixels, rng):
        """Pixels -> encoder input (``encoder_input``) -> posterior mean code -> decoder mean pixels."""
        params = state.averaged('vae')
        return self.decode_pixels(params, self.code_means(params, pixels, rng))

    def batch_codes(self, params, batches):
        """The encoder's means mu(x), (N, latents), of every real example of ``batches`` (dicts with
        ``image`` and, for padded evaluation batches, ``mask``), in order."""
        codes, offset = [], 0
        for batch in batches:
            mean = np.asarray(self.code_means(params, batch['image'], jax.random.PRNGKey(offset)))
            offset += len(mean)
            codes.append(mean[np.asarray(batch['mask'], bool)] if 'mask' in batch else mean)
        return np.concatenate(codes)

    def refit(self, state, batches, seed: int):
        """``Task.refit``: the class means set to k-means centres of the training codes mu(x) (VaDE's
        start, Jiang et al. 2017, sec. 3.3: k-means++ starts, 10 restarts), each centre given the label
        of the cluster of p(y|z) it overlaps most (``match_clusters``), so that p(y|z) still points at
        the right means; learned log sigma_y start at each cluster's spread.  Numbers: the fraction of
        codes whose p(y|z) label the reset keeps (``kmeans_agreement``) and the labels p(y|z) used.
        """
        from sklearn.cluster import KMeans

        params = state.params['vae']
        codes = self.batch_codes(params, batches)
        if not np.all(np.isfinite(codes)):
            raise ValueError('k-means reset: the codes mu(x) are not finite; training diverged before the reset')
        k = params['class_means'].shape[0]
        kmeans = KMeans(k, n_init=10, random_state=seed).fit(codes)
        current = np.argmax(jax.device_get(self.apply(params, codes, method=ClusteringVAE.classify)), axis=-1)
        order = match_clusters(current, kmeans.labels_, k)
        relabelled = np.argsort(order)[kmeans.labels_]  # k-means cluster order[y] becomes y
        spread = np.stack([codes[kmeans.labels_ == j].std(axis=0) + 1e-3 for j in range(k)])
        numbers = {
            'kmeans_agreement': float(np.mean(current == relabelled)),
            'clusters_in_use': float(len(np.unique(current))),
        }
        return self.with_class_means(state, kmeans.cluster_centers_[order], np.log(spread[order])), numbers

    def with_class_means(self, state, class_means, class_log_scales=None):
        """``state`` with the prior's class means mu_y set to ``class_means`` (K, latents), and its
        log sigma_y to ``class_log_scales`` where given and the model learns them (``refit``).  A
        parameter EMA, where kept, takes the same values: averaging across a reset mixes two priors."""
        params = state.params['vae']
        new = {'class_means': class_means}
        if class_log_scales is not None and 'class_log_scales' in params:
            new['class_log_scales'] = class_log_scales
        new = {name: jnp.asarray(value, params[name].dtype) for name, value in new.items()}
        for name, value in new.items():
            if value.shape != params[name].shape:
                raise ValueError(f'{name} must have shape {params[name].shape}, got {value.shape}')
        ema = {**state.ema, 'vae': {**state.ema['vae'], **new}} if 'vae' in state.ema else state.ema
        return state.replace(params={**state.params, 'vae': {**params, **new}}, ema=ema)

    def prior_codes(self, params, rng, n: int):
        """z = mu_y + sigma_y eps with y uniform over the clusters: the mixture prior."""
        class_means = self.apply(params, method=ClusteringVAE.means)
        scales = jnp.exp(self.apply(params, method=ClusteringVAE.log_scales))
        y_key, eps_key = jax.random.split(rng)
        y = jax.random.randint(y_key, (n,), 0, class_means.shape[0])
        return class_means[y] + scales[y] * jax.random.normal(eps_key, (n, class_means.shape[1]))

    @jit_method()
    def cluster_samples(self, state, rng):
        """``samples_per_cluster`` decoder means z = mu_y + sigma_y eps for each cluster y, cluster by cluster."""
        params = state.averaged('vae')
        class_means = self.apply(params, method=ClusteringVAE.means)
        scales = jnp.exp(self.apply(params, method=ClusteringVAE.log_scales))
        eps = jax.random.normal(rng, (class_means.shape[0], self.samples_per_cluster, class_means.shape[1]))
        codes = class_means[:, None] + scales[:, None] * eps
        return self.decode_pixels(params, codes.reshape(-1, class_means.shape[1]))

    def visualize(self, state, batch, rng):
        """One row of samples z = mu_y + eps per cluster, and reconstructions."""
        examples = batch['image'][:NUM_EXAMPLES]
        levels = self.info.num_levels
        return {
            'cluster_samples': make_grid(self.cluster_samples(state, rng), levels, cols=self.samples_per_cluster),
            'reconstructions': make_grid(
                jnp.concatenate([examples, self.reconstruct(state, examples, rng)]), levels, cols=len(examples)
            ),
        }


def match_clusters(current, new, k: int):
    """The permutation ``order`` (k,) with ``order[y]`` the new cluster that overlaps most with
    current cluster y, over one-to-one pairings (Hungarian on the contingency table of the two
    partitions of the same codes).  Labels only, no ground truth."""
    from scipy.optimize import linear_sum_assignment

    overlap = np.zeros((k, k))
    np.add.at(overlap, (current, new), 1)
    _, order = linear_sum_assignment(-overlap)
    return order
