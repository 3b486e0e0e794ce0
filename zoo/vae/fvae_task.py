"""``FVAETask``: the f-VAE (``zoo.vae.fvae``) trained on dequantised images.

Pixels become x = (p + u)/L - 1/2 (uniform dequantisation, as for flows), so the
negative ELBO bounds the discrete likelihood and is reported in bits/dim:
bpd = (-ELBO + D log L) / (D log 2).  One network, ``'fvae'``; the Glow's fixed
permutations live in ``state.aux['fvae']``.  ``sample`` decodes prior draws at
temperature 1.  Sheets: samples at each temperature, and, from the loop's batch,
reconstructions G(E(x)), two-point interpolation rows and a four-point grid (linear
in the flow's latents z = F(E(x))).
"""

import jax
import jax.numpy as jnp

from zoo import images
from zoo.metrics import bits_per_dim
from zoo.tasks import build_model
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task, jit_method
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
        self.model = build_model(FVAE, config.model, image_shape=tuple(info.image_shape))
        self.optimizers = build_optimizers(config, ('fvae',))

    def init(self, rng, batch) -> TrainState:
        """``Task.init``: a fresh ``TrainState`` whose parameters are initialised from ``batch`` (dequantised; the Glow
        prior's ActNorm initialises from its codes).
        """
        init_key, noise_key, state_key = jax.random.split(rng, 3)
        x = images.dequantize(noise_key, batch['image'], self.info.num_levels)
        variables = dict(self.model.init(init_key, x))  # ActNorm initialises on E(x) of this batch
        params = variables.pop('params')
        return TrainState.create(state_key, {'fvae': params}, self.optimizers, aux={'fvae': variables})

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
        """The mean f-VAE loss with its bits/dim, reconstruction and sigma metrics (Su et al. 2018)."""
        terms, (log_sigma1, log_sigma2) = self.terms({'params': params, **aux}, pixels, rng)
        metrics = {k: jnp.mean(v) for k, v in terms.items()}
        return metrics['bpd'], {**metrics, 'sigma1': jnp.exp(log_sigma1), 'sigma2': jnp.exp(log_sigma2)}

    def train_step(self, state, batch, rng):
        """``Task.train_step``: one optimiser step on the f-VAE loss; returns the new state and the step's scalar
        metrics.
        """
        return state.minimize('fvae', self.loss, state.aux['fvae'], batch['image'], rng)

    def eval_step(self, state, batch, rng):
        """``Task.eval_step``: per-example bits/dim bound (``bpd``), negative ELBO and squared error of shape (N,) (the
        loop drops padding and averages).
        """
        terms, _ = self.terms(state.variables('fvae'), batch['image'], rng)
        return {'bpd': terms['bpd'], 'neg_elbo': terms['neg_elbo'], 'squared_error': terms['squared_error']}

    @jit_method(static_argnames=('n', 'temperature'))
    def sample(self, state, rng, n: int, temperature: float = 1.0):
        """``n`` images G(F^-1(T z)), z ~ N(0, I), as uint8 pixels."""
        x = self.model.apply(state.variables('fvae'), rng, n, temperature, method=FVAE.sample)
        return images.to_pixels(x, self.info.num_levels)

    @jit_method()
    def paths(self, state, examples):
        """Reconstructions of ``examples``, 2-point paths between pairs of them and a 4-point grid."""
        apply = lambda method, *a: self.model.apply(state.variables('fvae'), *a, method=method)
        to_pixels = lambda x: images.to_pixels(x, self.info.num_levels)
        mean = apply(FVAE.encode, images.center(examples, self.info.num_levels))
        latents = apply(FVAE.to_prior, mean)
        decode = lambda zs: to_pixels(apply(FVAE.decode, apply(FVAE.from_prior, zs)))
        rows = [
            interpolation.path(
                interpolation.index(latents, 2 * i), interpolation.index(latents, 2 * i + 1), PATH_LENGTH
            )
            for i in range(4)
        ]
        corners = tuple(interpolation.index(latents, i) for i in range(4))
        return {
            'reconstructions': jnp.concatenate([examples, to_pixels(apply(FVAE.decode, mean))]),
            'interpolation': decode(jax.tree.map(lambda *a: jnp.concatenate(a), *rows)),
            'interpolation_grid': decode(interpolation.bilinear_grid(corners, GRID, GRID)),
        }

    def visualize(self, state, batch, rng):
        """Samples per temperature; from the batch's first images, reconstructions, 2-point paths
        (rows) and a 4-point grid."""
        sheets = {f'samples_T{t:.2f}': self.sample(state, rng, self.num_samples, t) for t in self.temperatures}
        examples = batch['image'][:NUM_EXAMPLES]
        if len(examples) >= 8:  # four pairs for the paths
            sheets.update(self.paths(state, examples))
        levels = self.info.num_levels
        cols = {'reconstructions': len(examples), 'interpolation': PATH_LENGTH, 'interpolation_grid': GRID}
        return {name: make_grid(sheet, levels, cols=cols.get(name)) for name, sheet in sheets.items()}
