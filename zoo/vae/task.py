"""``VAETask``: a VAE trained on the negative ELBO, evaluated by the ELBO and IWAE.

    loss = mean_x -ELBO(x),  ELBO = log p(x|z) - KL(q(z|x) || N(0, I)),  z = mu + sigma eps

One network, ``'vae'`` (encoder and decoder), with ``config.model`` giving the
architecture (``zoo.vae.networks.VAE``: architecture 'mlp' or 'conv', latents,
hidden, channels).  Pixels become observations by ``likelihood`` ('bernoulli':
dynamic binarisation; 'logistic': discretised logistic on the L levels); see
``zoo.vae.likelihoods``.  Training metrics add the KL split (``kl_split``): how much
of the KL pays for information about x and how much for missing the prior.
Evaluation gives per-example negative ELBO and IWAE NLL with ``iwae_samples`` samples
(nats).  Sheets: prior samples, and test images above their reconstructions.
"""

import jax
import jax.numpy as jnp
import optax

from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task
from zoo.vae import likelihoods
from zoo.vae.elbo import elbo, negative_elbo_loss
from zoo.vae.information import kl_split
from zoo.vae.iwae import iwae_bound
from zoo.vae.networks import VAE
from zoo.viz.image_grid import make_grid

NUM_EXAMPLES = 16  # images kept in state.aux for the reconstruction sheet


def build_model(cls, info, likelihood: str, model_kwargs: dict):
    """``cls`` (a ``VAE`` subclass) for ``info``'s images; bad settings are ``ConfigError``s."""
    fields = sorted(f for f in cls.__dataclass_fields__ if f not in ('parent', 'name', 'image_shape'))
    try:
        likelihoods.check_likelihood(likelihood)
        model = cls(image_shape=tuple(info.image_shape), params_per_pixel=likelihoods.PARAMS_PER_PIXEL[likelihood],
                    **model_kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f'{cls.__name__} settings: {e}; model takes {fields}') from e
    if model.architecture not in ('mlp', 'conv'):
        raise ConfigError(f"unknown architecture {model.architecture!r}; use 'mlp' or 'conv'")
    factor = 2 ** len(model.channels)
    if model.architecture == 'conv' and any(side % factor for side in info.image_shape[:2]):
        raise ConfigError(f'the conv {cls.__name__} with {len(model.channels)} stride-2 layers needs image sides '
                          f'divisible by {factor}; {info.name} images are {info.image_shape[:2]}')
    return model


class VAETask(Task):
    """A VAE; ``iwae_samples`` (k) and ``iwae_chunk`` set the evaluation bound."""

    watch = 'loss'
    headline = 'iwae_nll'
    model_class = VAE  # subclasses with extra networks (the clustering VAE) swap it

    def __init__(self, info, config, likelihood: str = 'bernoulli', iwae_samples: int = 100,
                 iwae_chunk: int | None = None, num_samples: int = 64):
        self.info = info
        self.likelihood = likelihood
        self.model = build_model(self.model_class, info, likelihood, config.model)
        self.iwae_samples, self.iwae_chunk = int(iwae_samples), iwae_chunk or int(iwae_samples)
        if self.iwae_samples % self.iwae_chunk:
            raise ConfigError(f'iwae_chunk {self.iwae_chunk} must divide iwae_samples {self.iwae_samples}')
        self.num_samples = num_samples
        self.optimizers = build_optimizers(config, ('vae',))

    def observe(self, key, pixels):
        return likelihoods.observe(key, pixels, self.info.num_levels, self.likelihood)

    def log_likelihood_fn(self, params, x):
        """z -> log p(x|z) per example: the closure the ELBO and IWAE take."""
        def fn(z):
            decoded = self.model.apply({'params': params}, z, method=VAE.decode)
            return likelihoods.log_likelihood(x, decoded, self.info.num_levels, self.likelihood)
        return fn

    def init(self, rng, batch) -> TrainState:
        init_key, state_key = jax.random.split(rng)
        x = self.observe(init_key, batch['image'])
        params = self.model.init(init_key, x)['params']
        return TrainState.create(state_key, {'vae': params}, self.optimizers,
                                 aux={'examples': batch['image'][:NUM_EXAMPLES]})

    def loss(self, params, pixels, rng):
        observe_key, sample_key, split_key = jax.random.split(rng, 3)
        x = self.observe(observe_key, pixels)
        mean, log_scale = self.model.apply({'params': params}, x, method=VAE.encode)
        loss, metrics = negative_elbo_loss(sample_key, mean, log_scale, self.log_likelihood_fn(params, x))
        split = jax.lax.stop_gradient(kl_split(split_key, mean, log_scale))
        return loss, {**metrics, 'mutual_information': split['mutual_information'],
                      'marginal_kl': split['marginal_kl']}

    def train_step(self, state, batch, rng):
        (loss, metrics), grads = jax.value_and_grad(self.loss, has_aux=True)(state.params['vae'], batch['image'], rng)
        state = state.apply_gradients('vae', grads, self.optimizers['vae'])
        return state, {**metrics, 'loss': loss, 'grad_norm': optax.tree.norm(grads)}

    def eval_step(self, state, batch, rng):
        observe_key, elbo_key, iwae_key = jax.random.split(rng, 3)
        params = state.averaged('vae')
        x = self.observe(observe_key, batch['image'])
        mean, log_scale = self.model.apply({'params': params}, x, method=VAE.encode)
        log_likelihood_fn = self.log_likelihood_fn(params, x)
        terms = elbo(elbo_key, mean, log_scale, log_likelihood_fn)
        bound = iwae_bound(iwae_key, mean, log_scale, log_likelihood_fn, self.iwae_samples, self.iwae_chunk)
        return {'neg_elbo': -terms.elbo, 'reconstruction': -terms.log_likelihood, 'kl': terms.kl, 'iwae_nll': -bound}

    def decode_pixels(self, params, z):
        decoded = self.model.apply({'params': params}, z, method=VAE.decode)
        return likelihoods.mean_pixels(decoded, self.info.num_levels, self.likelihood)

    def reconstruct_pixels(self, params, pixels, rng):
        """Pixels -> observation -> posterior mean code -> decoder mean pixels."""
        mean, _ = self.model.apply({'params': params}, self.observe(rng, pixels), method=VAE.encode)
        return self.decode_pixels(params, mean)

    def _sheets(self, params, examples, rng):
        z = jax.random.normal(rng, (self.num_samples, self.model.latents))
        return self.decode_pixels(params, z), self.reconstruct_pixels(params, examples, rng)

    def visualize(self, state, rng):
        """Prior samples (decoder means), and the kept examples above their reconstructions."""
        if not hasattr(self, '_jit_sheets'):
            self._jit_sheets = jax.jit(self._sheets)
        examples = state.aux['examples']
        samples, reconstructions = self._jit_sheets(state.averaged('vae'), examples, rng)
        levels = self.info.num_levels
        return {'samples': make_grid(samples, levels),
                'reconstructions': make_grid(jnp.concatenate([examples, reconstructions]), levels,
                                             cols=len(examples))}
