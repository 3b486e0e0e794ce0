"""The networks of GLO and GLANN: an image generator G: z -> x and a latent mapper T: e -> z.

    MLPGenerator   x = sigmoid(dense(relu(... dense(z)))) reshaped to (H, W, C), in [0, 1]
    LatentMapper   z = dense(relu(... dense(e))), then projected onto the unit sphere,
                   where GLO's latents live
"""

import math
from typing import Sequence

import flax.linen as nn

from zoo.ebm.imle import project_to_sphere


class MLPGenerator(nn.Module):
    """z (N, d) -> images (N, H, W, C) in [0, 1]."""
    image_shape: Sequence[int]
    hidden: Sequence[int] = (256, 512)

    @nn.compact
    def __call__(self, z):
        h = z
        for width in self.hidden:
            h = nn.relu(nn.Dense(width)(h))
        logits = nn.Dense(math.prod(self.image_shape))(h)
        return nn.sigmoid(logits).reshape(z.shape[0], *self.image_shape)


class LatentMapper(nn.Module):
    """e (N, d_noise) -> z (N, d) on the unit sphere (GLANN's IMLE-trained mapper)."""
    latent_dim: int
    hidden: Sequence[int] = (256, 256)

    @nn.compact
    def __call__(self, e):
        h = e
        for width in self.hidden:
            h = nn.relu(nn.Dense(width)(h))
        return project_to_sphere(nn.Dense(self.latent_dim)(h))
