"""The conditional VAE (Sohn, Lee & Yan 2015, "Learning Structured Output Representation
using Deep Conditional Generative Models", sec. 4): encoder and decoder both see the label y.

    log p(x | y) >= E_{q(z|x,y)}[log p(x | z, y)] - KL(q(z | x, y) || N(0, I))

The label enters as Sohn et al.'s concatenation: the one-hot y is appended to the
encoder's input as K constant image channels, and to the decoder's code, [z, y].  The
decoder p(x | z, y) then draws a requested class from z ~ N(0, I); with z fixed and y
swapped, the same "style" is drawn as another class.
"""

import jax.numpy as jnp

from zoo.vae.networks import VAE


def label_channels(x, y):
    """x (N, H, W, C) with the one-hot y (N, K) appended as K constant channels."""
    n, h, w, _ = x.shape
    return jnp.concatenate([x, jnp.broadcast_to(y[:, None, None, :], (n, h, w, y.shape[-1])).astype(x.dtype)], -1)


class ConditionalVAE(VAE):
    """``VAE`` with q(z | x, y) and p(x | z, y); y is one-hot (N, ``num_classes``)."""

    num_classes: int = 10

    def __call__(self, x, y):
        """Reconstruct: decode the posterior mean of q(z | x, y) with the same label ``y``."""
        mean, _ = self.encode(x, y)
        return self.decode(mean, y)

    def encode(self, x, y):
        """q(z | x, y): (mean, log_scale) of the Gaussian posterior, with y as input channels."""
        return self.encoder(label_channels(x, y))

    def decode(self, z, y):
        """p(x | z, y): the likelihood's parameters from [z, y]."""
        return self.decoder(jnp.concatenate([z, y.astype(z.dtype)], -1))
