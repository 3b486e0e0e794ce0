"""f-VAE (Su & Wu 2018, "f-VAEs: Improve VAEs with Conditional Flows", arXiv 1809.05861,
sec. 3): a VAE whose posterior is a flow.

With an encoder E, a decoder G (both keep the dimension D of x: squeezes and residual
conv blocks), a flow F (Glow) and learned scalars sigma1, sigma2:

    h = sigma1 * u + E(x),  u ~ N(0, I)          (the posterior in E's space)
    z = F(h)                                     (so q(z|x) is a flow of a Gaussian)
    p(z) = N(0, I),  p(x|z) = N(x; G(F^-1(z)), sigma2^2 I)

Its negative ELBO, in nats per example, counting every constant:

    -ELBO = E_u[ |G(h) - x|^2 / (2 sigma2^2) + D log sigma2 + D/2 log 2 pi
                 - log N(F(h); 0, I) - log|det dF/dh| ]  -  D log sigma1 - D/2 (1 + log 2 pi)

(the last two terms are the entropy of N(E(x), sigma1^2 I)).  The paper's conditional
flow F_x(u) = F(sigma1 u + E(x)) conditions on x through the shift E(x); F itself is an
unconditional Glow from ``zoo.flows``.  Sampling: u ~ N(0, T^2 I) in F's latents,
h = F^-1(u), x = G(h).
"""

import math

import flax.linen as nn
import jax.numpy as jnp

from zoo.distributions import sum_except_batch
from zoo.flows import Glow
from zoo.flows.squeeze import squeeze, unsqueeze

_LOG_2PI = math.log(2 * math.pi)


def fvae_negative_elbo(x, reconstruction, flow_log_prob, log_sigma1, log_sigma2) -> dict:
    """Per-example -ELBO (N,) and its parts, from one u: the module docstring's equation.

    Args:
        x: (N, ...) data;  reconstruction: G(h), same shape.
        flow_log_prob: log N(F(h); 0, I) + log|det dF/dh| per example (N,).
        log_sigma1, log_sigma2: the learned scalars' logs.
    """
    num_dims = math.prod(x.shape[1:])
    squared_error = sum_except_batch(jnp.square(reconstruction - x))
    reconstruction_nll = 0.5 * squared_error * jnp.exp(-2.0 * log_sigma2) + num_dims * (log_sigma2 + 0.5 * _LOG_2PI)
    entropy = num_dims * (log_sigma1 + 0.5 * (1.0 + _LOG_2PI))
    return {
        'neg_elbo': reconstruction_nll - flow_log_prob - entropy,
        'reconstruction_nll': reconstruction_nll,
        'prior_nll': -flow_log_prob,
        'squared_error': squared_error,
    }


class ResidualBlock(nn.Module):
    """x + conv3x3(relu(conv3x3(relu(x)))): keeps the shape; the last conv starts at zero."""

    hidden: int

    @nn.compact
    def __call__(self, x):
        """x + conv(relu(conv(relu(x)))), the last conv zero-initialised: the identity at init."""
        h = nn.Conv(self.hidden, (3, 3))(nn.relu(x))
        return x + nn.Conv(x.shape[-1], (3, 3), kernel_init=nn.initializers.zeros)(nn.relu(h))


class SqueezeEncoder(nn.Module):
    """``scales`` x [squeeze 2x2, ``blocks`` residual blocks]: (H, W, C) -> (H/2^L, W/2^L, 4^L C)."""

    scales: int = 1
    blocks: int = 2
    hidden: int = 64

    @nn.compact
    def __call__(self, x):
        """``scales`` x (squeeze, residual blocks): x -> h of the same size as x."""
        for _ in range(self.scales):
            x = squeeze(x)
            for _ in range(self.blocks):
                x = ResidualBlock(self.hidden)(x)
        return x


class SqueezeDecoder(nn.Module):
    """The encoder's mirror: ``scales`` x [``blocks`` residual blocks, unsqueeze]."""

    scales: int = 1
    blocks: int = 2
    hidden: int = 64

    @nn.compact
    def __call__(self, h):
        """The encoder's mirror: residual blocks and unsqueeze, h -> x."""
        for _ in range(self.scales):
            for _ in range(self.blocks):
                h = ResidualBlock(self.hidden)(h)
            h = unsqueeze(h)
        return h


class FVAE(nn.Module):
    """Encoder, decoder, Glow on the latent image, and log sigma1, log sigma2 (scalars)."""

    image_shape: tuple = (8, 8, 1)
    scales: int = 1  # squeezes in E (and unsqueezes in G)
    blocks: int = 2  # residual blocks per level
    hidden: int = 64
    flow_scales: int = 1  # scales of the Glow on the latent image
    flow_steps: int = 4
    flow_hidden: int = 64
    init_log_sigma1: float = math.log(0.1)
    init_log_sigma2: float = math.log(0.1)

    def __post_init__(self):
        # Checked on construction, so that a config's bad sizes fail before anything compiles.
        height, width, _ = self.image_shape
        factor = 2 ** (self.scales + self.flow_scales)
        if height % factor or width % factor:
            raise ValueError(
                f'f-VAE squeezes {self.scales} times in the encoder and {self.flow_scales} in '
                f'the flow: image sides must be divisible by {factor}, got {height}x{width}'
            )
        super().__post_init__()

    def setup(self):
        """Flax ``setup``: builds the layers the class docstring lists."""
        height, width, channels = self.image_shape
        scale = 2**self.scales
        self.latent_shape = (height // scale, width // scale, channels * scale * scale)
        self.encoder = SqueezeEncoder(self.scales, self.blocks, self.hidden)
        self.decoder = SqueezeDecoder(self.scales, self.blocks, self.hidden)
        # Additive coupling, as the f-VAE authors' Glow; LU 1x1 convs keep the log-det cheap.
        self.flow = Glow(
            image_shape=self.latent_shape,
            scales=self.flow_scales,
            flow_steps=self.flow_steps,
            hidden=self.flow_hidden,
            coupling='additive',
            permutation='lu',
            scan=False,
        )
        self.log_sigma1 = self.param('log_sigma1', nn.initializers.constant(self.init_log_sigma1), ())
        self.log_sigma2 = self.param('log_sigma2', nn.initializers.constant(self.init_log_sigma2), ())

    def __call__(self, x):
        """(decoded h, log p(h) under the flow prior, log sigma1, log sigma2): every parameter touched once,
        for init.
        """
        h = self.encoder(x)
        return self.decoder(h), self.flow.log_prob(h), self.log_sigma1, self.log_sigma2

    def encode(self, x):
        """E(x): the posterior mean in the latent image space."""
        return self.encoder(x)

    def decode(self, h):
        """The generator G(h)."""
        return self.decoder(h)

    def flow_log_prob(self, h):
        """log p(h) under the Glow prior."""
        return self.flow.log_prob(h)

    def to_prior(self, h):
        """F(h): the flow's latents (a list), standard normal under the prior."""
        return self.flow.encode(h)[0]

    def from_prior(self, latents):
        """F^-1(latents) -> h."""
        return self.flow.decode(latents)

    def sample(self, key, n, temperature=1.0):
        """x = G(F^-1(u)), u ~ N(0, T^2 I)."""
        return self.decoder(self.flow.sample(key, n, temperature))

    def sigmas(self):
        """(log sigma1, log sigma2): the learned encoder noise and decoder scales."""
        return self.log_sigma1, self.log_sigma2
