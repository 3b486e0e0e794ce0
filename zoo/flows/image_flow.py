"""What every image flow adds to ``Flow``: an image shape, gray levels and bits/dim.

Integer pixels in [0, num_levels) are dequantised uniformly (``zoo.images``) and

    bits/dim = (-log p(x) + D log L) / (D log 2)          (``zoo.metrics.bits_per_dim``)
"""


from zoo import images, metrics
from zoo.flows.flow import Flow


class ImageFlow(Flow):
    """Base class for image flows: ``image_shape`` (H, W, C), ``num_levels`` gray levels."""

    image_shape: tuple = (8, 8, 1)
    num_levels: int = 256

    def __post_init__(self):
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ValueError(f"image_shape must be (height, width, channels), got {self.image_shape}")
        super().__post_init__()

    @property
    def event_shape(self) -> tuple:
        return tuple(self.image_shape)

    @property
    def event_name(self) -> str:
        return "images"

    def bits_per_dim(self, pixels, key):
        """Bits/dim of integer ``pixels`` in [0, num_levels) under uniform dequantisation with ``key``.

        Pixels out of range raise a ValueError where they are concrete; under ``jit``
        they cannot be checked (``zoo.images.check_pixels``).
        """
        x = images.dequantize(key, pixels, self.num_levels)
        return metrics.bits_per_dim(self.log_prob(x), self.num_dims, self.num_levels)
