"""``InfoMaxTask``: Deep InfoMax (``zoo.vae.infomax``) in the loop.

Training maximises the global and local Jensen-Shannon MI bounds between the
encoder's features and its code z ~ p(z|x) (negatives by shuffling z within the
batch, or every other example for the dot critic), with a gamma-weighted KL to N(0, I).
With views (``rotation``, ``scale``, ``shift``) the code of one random affine warp of each
image is scored against the features of another (AMDIM, Bachman et al. 2019).  Evaluation returns each image's code
mean (the frozen feature) and label; ``summarize`` scores the split by
leave-one-out nearest-neighbour retrieval (cosine and L2) and a 2-fold linear probe
(``zoo.vae.representation``).  The sheet shows, for the first images of the loop's
batch, their nearest neighbours among that batch.  Pixels enter as intensities p / (L-1).
"""

import jax
import jax.numpy as jnp

from zoo import images
from zoo.distributions import kl_standard_normal, sample_diagonal_gaussian, sum_except_batch
from zoo.tasks import build_model
from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task, jit_method
from zoo.vae.infomax import (
    InfoMax,
    info_nce_bound,
    infomax_loss,
    jensen_shannon_bound,
    pairwise_jensen_shannon_bound,
    shuffle_within_batch,
)
from zoo.vae.infomax_augment import random_view
from zoo.vae.representation import (
    cross_validated_probe_accuracy,
    nearest_neighbour_accuracy,
    participation_ratio,
    split_summary,
    with_labels,
)
from zoo.viz.image_grid import make_grid

REPRESENTATIONS = ('code', 'global', 'local')  # the evaluated feature: z's mean, the dense layer, the conv map
PAIRWISE_BOUNDS = {'js': pairwise_jensen_shannon_bound, 'nce': info_nce_bound}  # for the 'dot' critic
NUM_EXAMPLES = 64  # images of the loop's batch searched for the retrieval sheet
NUM_QUERIES = 8
NUM_NEIGHBOURS = 7


class InfoMaxTask(Task):
    """Deep InfoMax with weights ``alpha`` (global), ``beta`` (local), ``gamma`` (prior KL)."""

    # The loss is -alpha I_JS - beta I_JS + gamma KL with each I_JS in [-log 4, 0]: it hovers
    # near zero, where the guard's relative explosion test misfires (seen with gamma = 0).
    # Non-finite values are still caught.
    watch = None
    headline = 'probe_accuracy'

    def __init__(
        self,
        info,
        config,
        alpha: float = 0.5,
        beta: float = 1.5,
        gamma: float = 0.01,
        representation: str = 'code',
        estimator: str = 'js',
        rotation: float = 0.0,
        scale: float = 0.0,
        shift: float = 0.0,
    ):
        if representation not in REPRESENTATIONS:
            raise ConfigError(f'unknown representation {representation!r}; use one of {list(REPRESENTATIONS)}')
        self.info, self.alpha, self.beta, self.gamma = info, float(alpha), float(beta), float(gamma)
        self.representation = representation
        self.model = build_model(InfoMax, config.model)
        if estimator not in PAIRWISE_BOUNDS or (estimator != 'js' and self.model.critic != 'dot'):
            raise ConfigError(f"estimator={estimator!r}: use 'js', or 'nce' with model.critic='dot'")
        self.estimator = estimator
        # Two views (AMDIM) when any warp is set: (max rotation in degrees, max relative scale, max shift in pixels).
        self.warp = (float(rotation), float(scale), float(shift))
        if min(self.warp) < 0:
            raise ConfigError(f'rotation, scale and shift must be >= 0, got {self.warp}')
        self.optimizers = build_optimizers(config, ('infomax',))

    def inputs(self, pixels):
        """uint8 pixels -> intensities in [0, 1]."""
        return images.to_intensity(pixels, self.info.num_levels)

    def init(self, rng, batch) -> TrainState:
        """``Task.init``: a fresh ``TrainState`` whose parameters are initialised from ``batch``."""
        init_key, state_key = jax.random.split(rng)
        params = self.model.init(init_key, self.inputs(batch['image']))['params']
        return TrainState.create(state_key, {'infomax': params}, self.optimizers)

    def loss(self, params, pixels, rng):
        """-alpha I(global) - beta I(local) + gamma KL.

        The 'concat' critic scores each example against its own z and a shuffled one; the 'dot'
        critic scores all N^2 pairs, every other example a negative (Hjelm et al. 2019, sec. 3.1).
        With views (any of rotation, scale, shift set) each image gives two random warps, and the
        code of one view is scored against the features of the other, both ways (Bachman et al.
        2019, sec. 3.2): the bounds then reward a code that keeps what the warps keep.
        """
        sample_key, shuffle_key, view_key = jax.random.split(rng, 3)
        apply = lambda method, *a: self.model.apply({'params': params}, *a, method=method)
        n, views = pixels.shape[0], any(self.warp)
        x = self.inputs(pixels)
        if views:
            x = jnp.concatenate([random_view(k, x, *self.warp) for k in jax.random.split(view_key)])
        local, glob, mean, log_scale = apply(InfoMax.encode, x)
        z = sample_diagonal_gaussian(sample_key, mean, log_scale)
        kl = sum_except_batch(kl_standard_normal(mean, log_scale))
        if views:  # z of view 1 against the features of view 2, and of view 2 against view 1
            z = jnp.concatenate([z[n:], z[:n]])
        if self.model.critic == 'dot':
            bound = PAIRWISE_BOUNDS[self.estimator]
            # All pairs within each batch of n: the one batch, or with views each direction's.
            groups = (slice(None, n), slice(n, None)) if views else (slice(None),)
            scores = [apply(InfoMax.critics, local[g], glob[g], z[g]) for g in groups]
            global_mi = jnp.mean(jnp.stack([bound(g) for g, _ in scores]))
            local_mi = jnp.mean(jnp.stack([bound(l) for _, l in scores]))
            return infomax_loss(global_mi, local_mi, kl, self.alpha, self.beta, self.gamma)
        global_joint, local_joint = apply(InfoMax.critics, local, glob, z)
        global_marginal, local_marginal = apply(InfoMax.critics, local, glob, shuffle_within_batch(shuffle_key, z))
        return infomax_loss(
            jensen_shannon_bound(global_joint, global_marginal),
            jensen_shannon_bound(local_joint, local_marginal),
            kl,
            self.alpha,
            self.beta,
            self.gamma,
        )

    def train_step(self, state, batch, rng):
        """``Task.train_step``: one optimiser step on the InfoMax loss; returns the new state and the step's scalar
        metrics.
        """
        return state.minimize('infomax', self.loss, batch['image'], rng)

    def features(self, params, pixels):
        """The frozen representation named by ``representation``, (N, features)."""
        return self.encode_features(params, pixels)[0]

    def encode_features(self, params, pixels):
        """(the evaluated representation, the code's mean, its log-scale)."""
        local, glob, mean, log_scale = self.model.apply({'params': params}, self.inputs(pixels), method=InfoMax.encode)
        chosen = {'code': mean, 'global': glob, 'local': local.reshape(local.shape[0], -1)}[self.representation]
        return chosen, mean, log_scale

    def eval_step(self, state, batch, rng):
        """``Task.eval_step``: per-example features (``representation``) and KL of shape (N,) (the loop drops padding
        and averages).
        """
        feature, mean, log_scale = self.encode_features(state.averaged('infomax'), batch['image'])
        return with_labels({'feature': feature, 'kl': sum_except_batch(kl_standard_normal(mean, log_scale))}, batch)

    def summarize(self, values):
        """Means, plus nearest-neighbour retrieval and linear-probe accuracy of the features where there are labels."""
        features, labels, summary = split_summary(values, 'feature')
        if labels is not None:
            summary['retrieval_cosine'] = nearest_neighbour_accuracy(features, labels, 'cosine')
            summary['retrieval_l2'] = nearest_neighbour_accuracy(features, labels, 'l2')
            summary['probe_accuracy'] = cross_validated_probe_accuracy(features, labels)
        summary['participation_ratio'] = participation_ratio(features)
        return summary

    @jit_method()
    def neighbours(self, state, examples):
        """For each of the first ``NUM_QUERIES`` examples: itself, then its nearest neighbours (cosine)."""
        features = self.features(state.averaged('infomax'), examples)
        unit = features / jnp.maximum(jnp.linalg.norm(features, axis=1, keepdims=True), 1e-12)
        similarity = unit[:NUM_QUERIES] @ unit.T
        order = jnp.argsort(-similarity, axis=1)[:, : NUM_NEIGHBOURS + 1]  # the query itself comes first
        return examples[order.reshape(-1)]

    def visualize(self, state, batch, rng):
        """Each row: a query image, then its nearest neighbours (cosine) among the batch's first images."""
        examples = batch['image'][:NUM_EXAMPLES]
        if len(examples) <= NUM_NEIGHBOURS:
            return {}
        return {'retrieval': make_grid(self.neighbours(state, examples), self.info.num_levels, cols=NUM_NEIGHBOURS + 1)}
