"""Glow (Kingma & Dhariwal 2018): multi-scale flow of ActNorm -> 1x1 conv -> coupling steps."""

from typing import Any, Literal

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.flows.actnorm import ActNorm
from zoo.flows.chain import ScannedChain, run_chain
from zoo.flows.conv1x1 import Conv1x1, LUConv1x1
from zoo.flows.coupling import ChannelCoupling
from zoo.flows.image_flow import ImageFlow
from zoo.flows.multiscale import multiscale_forward, multiscale_inverse
from zoo.flows.nets import CONV_IMPLS
from zoo.flows.permutation import Reverse, Shuffle
from zoo.flows.split import LearnedPrior, Split, factored_shapes
from zoo.flows.squeeze import squeeze, unsqueeze
from zoo.flows.structured_conv1x1 import ExpConv1x1, HouseholderConv1x1, RankOneExpConv1x1

PERMUTATIONS = {
    'conv1x1': Conv1x1,
    'lu': LUConv1x1,
    'reverse': Reverse,
    'shuffle': Shuffle,
    'exp': ExpConv1x1,
    'householder': HouseholderConv1x1,
    'rank_one_exp': RankOneExpConv1x1,
}


class GlowStep(nn.Module):
    """One step of flow: ActNorm -> invertible 1x1 conv (or a permutation) -> coupling.

    ``compute_dtype`` is the coupling network's compute dtype (None: the input's) and
    ``conv_impl`` how its convolutions run (``zoo.flows.nets.conv_same``).
    """

    hidden: int
    coupling: Literal['affine', 'additive'] = 'affine'
    permutation: str = 'conv1x1'
    actnorm_init: str = 'data'
    scale_fn: str = 'sigmoid'
    compute_dtype: Any = None
    conv_impl: str = 'auto'

    def setup(self):
        """Flax ``setup``: builds the layers the class docstring lists."""
        self.layers = [
            ActNorm(self.actnorm_init),
            PERMUTATIONS[self.permutation](),
            ChannelCoupling(
                self.hidden, self.coupling, scale_fn=self.scale_fn, dtype=self.compute_dtype, conv_impl=self.conv_impl
            ),
        ]

    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. One Glow step: ActNorm, invertible 1x1 conv, coupling.
        ``context`` (N, ...) or None conditions the map.
        """
        return run_chain(self.layers, x, inverse, context)


class Glow(ImageFlow):
    """``scales`` levels of: squeeze, ``flow_steps`` steps of flow, split (not after the last).

    (``scales`` counts resolutions; ``num_levels``, from ``ImageFlow``, counts grey levels.)

    Factored-out halves get Glow's learned conditional prior and the final latent a
    learned per-channel Gaussian (``learn_top``); all latents are returned standardised,
    so the prior over them is N(0, I) and temperature scales them directly.  With
    ``scan=True`` the steps of a level are one ``nn.scan`` over stacked parameters, so
    compile time does not grow with ``flow_steps``; ``scan=False`` unrolls them.  The
    default ``scan=None`` scans on GPU and TPU and unrolls on CPU, where XLA's own
    convolution gradients run an order of magnitude slower inside a loop
    (jax-ml/jax#12868) and even the matmul form is a little slower (mnist32 model, 2 CPU
    cores: 97.5 ms a step scanned, 90.0 ms unrolled, for 5 s against 13 s of compile);
    invertible backprop always scans.  Both forms share one set of variables (stacked over the
    steps), so a model trained on a GPU loads and runs on a CPU and vice versa.

    ``backprop='invertible'`` (needs ``scan=True``) backpropagates through each level's
    steps by inverting them instead of storing activations (Gomez et al. 2017), so
    training memory does not grow with ``flow_steps``; gradients equal ``'autodiff'``.
    ``compute_dtype=jnp.bfloat16`` runs the coupling networks' convolutions in bfloat16
    (mixed precision) while parameters, the invertible layers, log-dets and losses stay
    float32.  Neither option changes the parameters, so both can be switched after init.

    Class-conditional Glow (Kingma & Dhariwal 2018, sec. 5): given a context c (N, K), the
    one-hot label, the top prior's mean and log-scale gain a linear function of c
    (``LearnedPrior``); ``conditional_split=True`` conditions the split priors the same
    way and ``conditional_couplings=True`` feeds c to every coupling network.  With
    ``num_classes`` > 0 a zero-initialised linear classifier reads the spatial mean of the
    top latent (before its prior), and its logits are sown in the 'intermediates'
    collection as ``logits`` (the paper's auxiliary classification loss, weighted by the task).

    Paper CIFAR-10 model (Kingma & Dhariwal 2018, "Glow: Generative Flow with Invertible 1x1
    Convolutions", sec. 5, experiments): scales=3, flow_steps=32, hidden=512, affine coupling.
    """

    image_shape: tuple = (32, 32, 3)
    scales: int = 3
    flow_steps: int = 32
    hidden: int = 512
    coupling: Literal['affine', 'additive'] = 'affine'
    permutation: Literal['conv1x1', 'lu', 'reverse', 'shuffle', 'exp', 'householder', 'rank_one_exp'] = 'conv1x1'
    actnorm_init: Literal['data', 'zero'] = 'data'
    scale_fn: str = 'sigmoid'
    learn_top: bool = True
    learned_split: bool = True
    positional_prior: bool = False
    scan: bool | None = None
    backprop: Literal['autodiff', 'invertible'] = 'autodiff'
    compute_dtype: Any = None
    conv_impl: Literal['auto', 'xla', 'matmul'] = 'auto'
    conditional_split: bool = False
    conditional_couplings: bool = False
    num_classes: int = 0

    def __post_init__(self):
        super().__post_init__()
        factor = 2**self.scales
        h, w, _ = self.image_shape
        if self.scales < 1 or h % factor or w % factor:
            raise ValueError(
                f'Glow with {self.scales} scales squeezes {self.scales} times: height '
                f'and width must be divisible by {factor}, got {self.image_shape}'
            )
        if self.permutation not in PERMUTATIONS:
            raise ValueError(f'unknown permutation {self.permutation!r}; choose one of {sorted(PERMUTATIONS)}')
        if self.coupling not in ('affine', 'additive'):
            raise ValueError(f"unknown coupling {self.coupling!r}; choose 'affine' or 'additive'")
        if self.flow_steps < 1:
            raise ValueError(f'flow_steps must be >= 1, got {self.flow_steps}')
        if self.backprop not in ('autodiff', 'invertible'):
            raise ValueError(f"unknown backprop {self.backprop!r}; choose 'autodiff' or 'invertible'")
        if self.conv_impl not in CONV_IMPLS:
            raise ValueError(f'unknown conv_impl {self.conv_impl!r}; choose one of {CONV_IMPLS}')
        if self.backprop == 'invertible' and self.scan is False:
            raise ValueError("backprop='invertible' runs over the scanned steps: it needs scan=True")

    def setup(self):
        """Flax ``setup``: builds the layers the class docstring lists."""
        kw = dict(
            hidden=self.hidden,
            coupling=self.coupling,
            permutation=self.permutation,
            actnorm_init=self.actnorm_init,
            scale_fn=self.scale_fn,
            compute_dtype=self.compute_dtype,
            conv_impl=self.conv_impl,
        )
        self.flows = [
            ScannedChain(GlowStep, kw, self.flow_steps, self.backprop, unroll=not self.scanned)
            for _ in range(self.scales)
        ]
        self.splits = [
            Split(
                learned=self.learned_split,
                positional=self.positional_prior,
                conv_impl=self.conv_impl,
                conditional=self.conditional_split,
            )
            for _ in range(self.scales - 1)
        ]
        if self.learn_top:
            self.top = LearnedPrior(positional=self.positional_prior)
        if self.num_classes:
            self.classifier = nn.Dense(self.num_classes, kernel_init=nn.initializers.zeros)

    @property
    def scanned(self) -> bool:
        """Whether the steps of each level run as one ``nn.scan`` (``scan=None``: not on CPU)."""
        if self.scan is not None:
            return self.scan
        return self.backprop == 'invertible' or jax.default_backend() != 'cpu'

    def _level(self, level, x, inverse, context=None):
        """squeeze, then the level's steps of flow (inverse: the steps backwards, then unsqueeze)."""
        context = context if self.conditional_couplings else None
        if inverse:
            x, log_det = self.flows[level](x, inverse=True, context=context)
            return unsqueeze(x), log_det
        return self.flows[level](squeeze(x), context=context)

    @property
    def latent_shapes(self):
        """Shapes of the standard-normal latents ``forward`` returns, one per level, without the batch axis."""
        shapes, (h, w, c) = factored_shapes(self.image_shape, self.scales - 1)
        return shapes + [(h // 2, w // 2, 4 * c)]  # the last level squeezes but keeps all

    def forward(self, x, context=None):
        """Encode: ``x -> (latents, log_det)``, with log|det dz/dx| per example.
        ``context`` (N, ...) or None conditions the map.
        """
        latents, log_det = multiscale_forward(self._level, self.splits, x, self.scales, context)
        if self.num_classes:
            self.sow('intermediates', 'logits', self.classifier(jnp.mean(latents[-1], axis=(1, 2))))
        if self.learn_top:
            latents[-1], ld = self.top(latents[-1], context=context)
            log_det += ld
        return latents, log_det

    def inverse(self, latents, context=None):
        """Decode: ``latents -> (x, log_det)``; the log-det is minus the forward one at the same point.
        ``context`` (N, ...) or None conditions the map.
        """
        latents, log_det = list(latents), 0.0
        if self.learn_top:
            latents[-1], log_det = self.top(latents[-1], inverse=True, context=context)
        x, ld = multiscale_inverse(self._level, self.splits, latents, context)
        return x, log_det + ld
