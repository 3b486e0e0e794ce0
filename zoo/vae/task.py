"""``VAETask``: a VAE trained on the negative ELBO, evaluated by the ELBO and IWAE.

    loss = mean_x -ELBO(x),  ELBO = log p(x|z) - KL(q(z|x) || N(0, I)),  z = mu + sigma eps

(Kingma & Welling 2014, "Auto-Encoding Variational Bayes", sec. 2.4; the IWAE bound of
Burda et al. 2016, "Importance Weighted Autoencoders", sec. 3.)  One network, ``'vae'``
(encoder and decoder), with ``config.model`` giving the architecture
(``zoo.vae.networks.VAE``: architecture 'mlp' or 'conv', latents, hidden, channels).
Pixels become observations by ``likelihood`` ('bernoulli': dynamic binarisation;
'logistic': discretised logistic on the L levels); see ``zoo.vae.likelihoods``.  Training
metrics add the KL split (``kl_split``): how much of the KL pays for information about x
and how much for missing the prior.  Evaluation gives per-example negative ELBO and IWAE
NLL with ``iwae_samples`` samples (nats).  Sheets: prior samples, and the loop's images
above their reconstructions.
"""

import jax
import jax.numpy as jnp

from zoo.tasks import build_model
from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task, jit_method
from zoo.vae import likelihoods
from zoo.vae.elbo import elbo, negative_elbo_loss
from zoo.vae.information import kl_split
from zoo.vae.iwae import iwae_bound
from zoo.vae.networks import VAE
from zoo.viz.image_grid import make_grid

NUM_EXAMPLES = 16  # images of the loop's batch in the reconstruction sheet


def build_vae(cls, info, likelihood: str, settings: dict):
    """``cls`` (a ``VAE`` subclass) for ``info``'s images; bad settings are ``ConfigError``s."""
    if likelihood not in likelihoods.LIKELIHOODS:
        raise ConfigError(f'unknown likelihood {likelihood!r}; choose one of {list(likelihoods.LIKELIHOODS)}')
    model = build_model(
        cls, settings, image_shape=tuple(info.image_shape), params_per_pixel=likelihoods.PARAMS_PER_PIXEL[likelihood]
    )
    if model.architecture not in ('mlp', 'conv'):
        raise ConfigError(f"unknown architecture {model.architecture!r}; use 'mlp' or 'conv'")
    factor = 2 ** len(model.channels)
    if model.architecture == 'conv' and any(side % factor for side in info.image_shape[:2]):
        raise ConfigError(
            f'the conv {cls.__name__} with {len(model.channels)} stride-2 layers needs image sides '
            f'divisible by {factor}; {info.name} images are {info.image_shape[:2]}'
        )
    return model


class VAETask(Task):
    """A VAE; ``iwae_samples`` (k) and ``iwae_chunk`` set the evaluation bound."""

    watch = 'loss'
    headline = 'iwae_nll'
    model_class = VAE  # subclasses with extra networks (the clustering VAE) swap it

    def __init__(
        self,
        info,
        config,
        likelihood: str = 'bernoulli',
        iwae_samples: int = 100,
        iwae_chunk: int | None = None,
        num_samples: int = 64,
    ):
        self.info = info
        self.likelihood = likelihood
        self.model = build_vae(self.model_class, info, likelihood, config.model)
        self.iwae_samples, self.iwae_chunk = int(iwae_samples), iwae_chunk or int(iwae_samples)
        if self.iwae_samples % self.iwae_chunk:
            raise ConfigError(f'iwae_chunk {self.iwae_chunk} must divide iwae_samples {self.iwae_samples}')
        self.num_samples = num_samples
        self.optimizers = build_optimizers(config, ('vae',))

    def observe(self, key, pixels):
        """Pixels as the likelihood sees them: dynamically binarised (Bernoulli) or intensities (logistic)."""
        return likelihoods.observe(key, pixels, self.info.num_levels, self.likelihood)

    def apply(self, params, *args, method):
        """The model's ``method`` applied with ``params``."""
        return self.model.apply({'params': params}, *args, method=method)

    def log_likelihood_fn(self, params, x):
        """z -> log p(x|z) per example: the closure the ELBO and IWAE take."""

        def fn(z):
            decoded = self.apply(params, z, method=VAE.decode)
            return likelihoods.log_likelihood(x, decoded, self.info.num_levels, self.likelihood)

        return fn

    def init(self, rng, batch) -> TrainState:
        """``Task.init``: a fresh ``TrainState`` whose parameters are initialised from ``batch``."""
        init_key, state_key = jax.random.split(rng)
        params = self.model.init(init_key, self.observe(init_key, batch['image']))['params']
        return TrainState.create(state_key, {'vae': params}, self.optimizers)

    def loss(self, params, pixels, rng):
        """Mean negative ELBO -E_q[log p(x|z)] + KL(q(z|x) || N(0, I)), with its KL split into MI and marginal KL as
        metrics.
        """
        observe_key, sample_key, split_key = jax.random.split(rng, 3)
        x = self.observe(observe_key, pixels)
        mean, log_scale = self.apply(params, x, method=VAE.encode)
        loss, metrics = negative_elbo_loss(sample_key, mean, log_scale, self.log_likelihood_fn(params, x))
        split = jax.lax.stop_gradient(kl_split(split_key, mean, log_scale))
        return loss, {**metrics, 'mutual_information': split['mutual_information'], 'marginal_kl': split['marginal_kl']}

    def train_step(self, state, batch, rng):
        """``Task.train_step``: one optimiser step on the negative ELBO; returns the new state and the step's scalar
        metrics.
        """
        return state.minimize('vae', self.loss, batch['image'], rng)

    def eval_step(self, state, batch, rng):
        """``Task.eval_step``: per-example negative ELBO, its terms, and the IWAE bound with ``iwae_samples`` samples
        of shape (N,) (the loop drops padding and averages).
        """
        observe_key, elbo_key, iwae_key = jax.random.split(rng, 3)
        params = state.averaged('vae')
        x = self.observe(observe_key, batch['image'])
        mean, log_scale = self.apply(params, x, method=VAE.encode)
        log_likelihood_fn = self.log_likelihood_fn(params, x)
        terms = elbo(elbo_key, mean, log_scale, log_likelihood_fn)
        bound = iwae_bound(iwae_key, mean, log_scale, log_likelihood_fn, self.iwae_samples, self.iwae_chunk)
        return {'neg_elbo': -terms.elbo, 'reconstruction': -terms.log_likelihood, 'kl': terms.kl, 'iwae_nll': -bound}

    def decode_pixels(self, params, z):
        """The decoder's mean image of each code, as uint8 pixels."""
        return likelihoods.mean_pixels(self.apply(params, z, method=VAE.decode), self.info.num_levels, self.likelihood)

    def prior_codes(self, params, rng, n: int):
        """z ~ the prior: N(0, I) here."""
        return jax.random.normal(rng, (n, self.model.latents))

    @jit_method(static_argnames='n')
    def sample(self, state, rng, n: int):
        """``n`` decoder means of prior codes, uint8 (n, H, W, C)."""
        params = state.averaged('vae')
        return self.decode_pixels(params, self.prior_codes(params, rng, n))

    @jit_method()
    def reconstruct(self, state, pixels, rng):
        """Pixels -> observation -> posterior mean code -> decoder mean pixels."""
        params = state.averaged('vae')
        mean, _ = self.apply(params, self.observe(rng, pixels), method=VAE.encode)
        return self.decode_pixels(params, mean)

    def visualize(self, state, batch, rng):
        """Prior samples (decoder means), and the batch's first images above their reconstructions."""
        examples = batch['image'][:NUM_EXAMPLES]
        levels = self.info.num_levels
        return {
            'samples': make_grid(self.sample(state, rng, self.num_samples), levels),
            'reconstructions': make_grid(
                jnp.concatenate([examples, self.reconstruct(state, examples, rng)]), levels, cols=len(examples)
            ),
        }
