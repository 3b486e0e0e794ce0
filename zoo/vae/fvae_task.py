"""``FVAETask``: the f-VAE (``zoo.vae.fvae``) trained on dequantised images.

Pixels become x = (p + u)/L - 1/2 (uniform dequantisation, as for flows), so the
negative ELBO bounds the discrete likelihood and is reported in bits/dim:
bpd = (-ELBO + D log L) / (D log 2).  One network, ``'fvae'``; the Glow's fixed
permutations live in ``state.aux['fvae']``.  Sheets: samples at each temperature,
reconstructions G(E(x)), two-point interpolation rows and a four-point grid (linear
in the flow's latents z = F(E(x))).
"""

import jax
import jax.numpy as jnp
import optax

from zoo import images
from zoo.metrics import bits_per_dim
from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task
from zoo.vae.fvae import FVAE, fvae_negative_elbo
from zoo.viz import interpolation
from zoo.viz.image_grid import make_grid

NUM_EXAMPLES = 16
PATH_LENGTH = 8
GRID = 6


class FVAETask(Task):
    """f-VAE; architecture from ``config.model`` (``FVAE``'s fields)."""

    watch = 'loss'
    headline = 'bpd'

    def __init__(self, info, config, temperatures=(0.7, 1.0), num_samples: int = 36):
        self.info, self.temperatures, self.num_samples = info, tuple(float(t) for t in temperatures), num_samples
        try:
            self.model = FVAE(image_shape=tuple(info.image_shape), **config.model)
            jax.eval_shape(self.model.init, jax.random.PRNGKey(0), jnp.zeros((1, *info.image_shape)))
        except (TypeError, ValueError) as e:
            fields = sorted(f for f in FVAE.__dataclass_fields__ if f not in ('parent', 'name', 'image_shape'))
            raise ConfigError(f'f-VAE settings: {e}; model takes {fields}') from e
        self.optimizers = build_optimizers(config, ('fvae',))

    def init(self, rng, batch) -> TrainState:
        init_key, noise_key, state_key = jax.random.split(rng, 3)
        x = images.dequantize(noise_key, batch['image'], self.info.num_levels)
        variables = dict(self.model.init(init_key, x))  # ActNorm initialises on E(x) of this batch
        params = variables.pop('params')
        return TrainState.create(state_key, {'fvae': params}, self.optimizers,
                                 aux={'fvae': variables, 'examples': batch['image'][:NUM_EXAMPLES]})

    def variables(self, state, use_ema=True):
        return {'params': state.averaged('fvae', use_ema), **state.aux['fvae']}

    def terms(self, variables, pixels, rng):
        """Per-example -ELBO terms from one u, and bits/dim."""
        noise_key, u_key = jax.random.split(rng)
        x = images.dequantize(noise_key, pixels, self.info.num_levels)
        apply = lambda method, *a: self.model.apply(variables, *a, method=method)
        mean = apply(FVAE.encode, x)
        log_sigma1, log_sigma2 = apply(FVAE.sigmas)
        h = mean + jnp.exp(log_sigma1) * jax.random.normal(u_key, mean.shape)
        terms = fvae_negative_elbo(x, apply(FVAE.decode, h), apply(FVAE.flow_log_prob, h), log_sigma1, log_sigma2)
        terms['bpd'] = bits_per_dim(-terms['neg_elbo'], self.info.num_dims, self.info.num_levels)
        return terms, (log_sigma1, log_sigma2)

    def loss(self, params, aux, pixels, rng):
        terms, (log_sigma1, log_sigma2) = self.terms({'params': params, **aux}, pixels, rng)
        metrics = {k: jnp.mean(v) for k, v in terms.items()}
        return metrics['bpd'], {**metrics, 'sigma1': jnp.exp(log_sigma1), 'sigma2': jnp.exp(log_sigma2)}

    def train_step(self, state, batch, rng):
        (loss, metrics), grads = jax.value_and_grad(self.loss, has_aux=True)(
            state.params['fvae'], state.aux['fvae'], batch['image'], rng)
        state = state.apply_gradients('fvae', grads, self.optimizers['fvae'])
        return state, {**metrics, 'loss': loss, 'grad_norm': optax.tree.norm(grads)}

    def eval_step(self, state, batch, rng):
        terms, _ = self.terms(self.variables(state), batch['image'], rng)
        return {'bpd': terms['bpd'], 'neg_elbo': terms['neg_elbo'], 'squared_error': terms['squared_error']}

    def _sheets(self, variables, examples, rng):
        apply = lambda method, *a: self.model.apply(variables, *a, method=method)
        to_pixels = lambda x: images.to_pixels(x, self.info.num_levels)
        x = images.center(examples, self.info.num_levels)
        mean = apply(FVAE.encode, x)
        latents = apply(FVAE.to_prior, mean)
        decode = lambda zs: to_pixels(apply(FVAE.decode, apply(FVAE.from_prior, zs)))
        rows = [interpolation.path(interpolation.index(latents, 2 * i), interpolation.index(latents, 2 * i + 1),
                                   PATH_LENGTH) for i in range(4)]
        corners = tuple(interpolation.index(latents, i) for i in range(4))
        sheets = {'reconstructions': jnp.concatenate([examples, to_pixels(apply(FVAE.decode, mean))]),
                  'interpolation': decode(jax.tree.map(lambda *a: jnp.concatenate(a), *rows)),
                  'interpolation_grid': decode(interpolation.bilinear_grid(corners, GRID, GRID))}
        for t in self.temperatures:
            sheets[f'samples_T{t:.2f}'] = to_pixels(apply(FVAE.sample, rng, self.num_samples, t))
        return sheets

    def visualize(self, state, rng):
        """Samples per temperature, reconstructions, 2-point paths (rows) and a 4-point grid."""
        if not hasattr(self, '_jit_sheets'):
            self._jit_sheets = jax.jit(self._sheets)
        sheets = self._jit_sheets(self.variables(state), state.aux['examples'], rng)
        levels = self.info.num_levels
        cols = {'reconstructions': NUM_EXAMPLES, 'interpolation': PATH_LENGTH, 'interpolation_grid': GRID}
        return {name: make_grid(sheet, levels, cols=cols.get(name)) for name, sheet in sheets.items()}
