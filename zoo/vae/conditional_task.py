"""``ConditionalVAETask``: the conditional VAE (Sohn et al. 2015) trained on -ELBO of log p(x | y).

    loss = mean -[log p(x | z, y) - KL(q(z | x, y) || N(0, I))],   z = mu(x, y) + sigma(x, y) eps

Evaluation gives the negative ELBO and the IWAE bound of -log p(x | y) (nats).
``sample(state, rng, n, labels=...)`` decodes z ~ N(0, T^2 I) with the requested labels
(T = ``temperature``); ``swap_labels`` decodes the posterior code of each image as every class.
"""

import jax
import jax.numpy as jnp

from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import jit_method
from zoo.vae import likelihoods
from zoo.vae.conditional import ConditionalVAE
from zoo.vae.elbo import elbo, negative_elbo_loss
from zoo.vae.iwae import iwae_bound
from zoo.vae.task import NUM_EXAMPLES, VAETask, build_vae
from zoo.viz.image_grid import make_grid


class ConditionalVAETask(VAETask):
    """The VAE task with the one-hot label given to encoder and decoder."""

    model_class = ConditionalVAE

    def __init__(self, info, config, likelihood: str = 'bernoulli', iwae_samples: int = 100, iwae_chunk=None,
                 num_samples: int = 64, temperature: float = 1.0):  # fmt: skip
        if not info.num_classes:
            raise ConfigError(f'the conditional VAE needs labels; {info.name} has none')
        self.info = info
        self.likelihood = likelihood
        self.model = build_vae(ConditionalVAE, info, likelihood, {**config.model, 'num_classes': info.num_classes})
        self.iwae_samples, self.iwae_chunk = int(iwae_samples), int(iwae_chunk or iwae_samples)
        if self.iwae_samples % self.iwae_chunk:
            raise ConfigError(f'iwae_chunk {self.iwae_chunk} must divide iwae_samples {self.iwae_samples}')
        self.num_samples = num_samples
        self.temperature = float(temperature)
        self.optimizers = build_optimizers(config, ('vae',))

    def one_hot(self, labels):
        """Integer labels (N,) -> one-hot (N, num_classes)."""
        return jax.nn.one_hot(labels, self.info.num_classes)

    def log_likelihood_fn(self, params, x, y):
        """z -> log p(x | z, y) per example."""

        def fn(z):
            decoded = self.apply(params, z, y, method=ConditionalVAE.decode)
            return likelihoods.log_likelihood(x, decoded, self.info.num_levels, self.likelihood)

        return fn

    def init(self, rng, batch) -> TrainState:
        """``Task.init``: fresh VAE parameters, initialised from ``batch``'s images and labels."""
        init_key, state_key = jax.random.split(rng)
        x = self.observe(init_key, batch['image'])
        params = self.model.init(init_key, x, self.one_hot(batch['label']))['params']
        return TrainState.create(state_key, {'vae': params}, self.optimizers)

    def loss(self, params, batch, rng):
        """Negative ELBO of log p(x | y): -E_q[log p(x | z, y)] + KL(q(z | x, y) || p(z)), averaged."""
        observe_key, sample_key = jax.random.split(rng)
        x, y = self.observe(observe_key, batch['image']), self.one_hot(batch['label'])
        mean, log_scale = self.apply(params, x, y, method=ConditionalVAE.encode)
        return negative_elbo_loss(sample_key, mean, log_scale, self.log_likelihood_fn(params, x, y))

    def train_step(self, state, batch, rng):
        """``Task.train_step``: one optimiser step on the negative ELBO; returns the new state and scalar metrics."""
        return state.minimize('vae', self.loss, {'image': batch['image'], 'label': batch['label']}, rng)

    def eval_step(self, state, batch, rng):
        """``Task.eval_step``: per-example -ELBO, reconstruction, KL and IWAE bound of -log p(x | y), each (N,)."""
        observe_key, elbo_key, iwae_key = jax.random.split(rng, 3)
        params = state.averaged('vae')
        x, y = self.observe(observe_key, batch['image']), self.one_hot(batch['label'])
        mean, log_scale = self.apply(params, x, y, method=ConditionalVAE.encode)
        fn = self.log_likelihood_fn(params, x, y)
        terms = elbo(elbo_key, mean, log_scale, fn)
        bound = iwae_bound(iwae_key, mean, log_scale, fn, self.iwae_samples, self.iwae_chunk)
        return {'neg_elbo': -terms.elbo, 'reconstruction': -terms.log_likelihood, 'kl': terms.kl, 'iwae_nll': -bound}

    def decode_pixels(self, params, z, labels):
        """Mean pixels of p(x | z, y) for latents ``z`` and integer ``labels``."""
        decoded = self.apply(params, z, self.one_hot(labels), method=ConditionalVAE.decode)
        return likelihoods.mean_pixels(decoded, self.info.num_levels, self.likelihood)

    def sample(self, state, rng, n: int, labels=None, temperature=None):
        """``n`` decoder means of z ~ N(0, T^2 I) for class ``labels[i]`` (default: cycling 0..K-1)."""
        labels = jnp.arange(n) % self.info.num_classes if labels is None else jnp.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(f'expected labels of shape ({n},), got {labels.shape}')
        t = self.temperature if temperature is None else temperature
        return self._sample(state, rng, n, labels, jnp.float32(t))

    @jit_method(static_argnames='n')
    def _sample(self, state, rng, n, labels, temperature):
        params = state.averaged('vae')
        return self.decode_pixels(params, temperature * jax.random.normal(rng, (n, self.model.latents)), labels)

    @jit_method()
    def swap_labels(self, state, pixels, labels, rng):
        """Each image's posterior mean code decoded as every class: uint8 (N, K, H, W, C)."""
        params = state.averaged('vae')
        x = self.observe(rng, pixels)
        z, _ = self.apply(params, x, self.one_hot(labels), method=ConditionalVAE.encode)
        k = self.info.num_classes
        every = jnp.tile(jnp.arange(k), z.shape[0])
        out = self.decode_pixels(params, jnp.repeat(z, k, axis=0), every)
        return out.reshape(z.shape[0], k, *out.shape[1:])

    def visualize(self, state, batch, rng):
        """Samples (class i mod K in place i), and label swaps of the batch's first images."""
        levels, k = self.info.num_levels, self.info.num_classes
        swapped = self.swap_labels(state, batch['image'][:NUM_EXAMPLES], batch['label'][:NUM_EXAMPLES], rng)
        return {
            'samples': make_grid(self.sample(state, rng, self.num_samples), levels, cols=k),
            'label_swap': make_grid(swapped.reshape(-1, *swapped.shape[2:]), levels, cols=k),
        }
