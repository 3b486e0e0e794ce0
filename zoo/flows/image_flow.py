"""What every image flow adds to ``Flow``: an image shape, gray levels and bits/dim.

Integer pixels in [0, num_levels) are dequantised uniformly (``zoo.images``) and

    bits/dim = (-log p(x) + D log L) / (D log 2)          (``zoo.metrics.bits_per_dim``)

With ``logit_alpha`` > 0 the flow starts with the fixed logit layer (``zoo.flows.logit``),
so x in [-1/2, 1/2) stays the input and log p(x) includes that layer's log-det.
"""

from zoo import images, metrics
from zoo.flows.flow import Flow, check_events
from zoo.flows.logit import check_alpha, logit_transform


class ImageFlow(Flow):
    """Base class for image flows: ``image_shape`` (H, W, C), ``num_levels`` gray levels and
    ``logit_alpha`` (0: none; else the logit input layer's alpha, e.g. 1e-6 as MAF on MNIST)."""

    image_shape: tuple = (8, 8, 1)
    num_levels: int = 256
    logit_alpha: float = 0.0

    def __post_init__(self):
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ValueError(f'image_shape must be (height, width, channels), got {self.image_shape}')
        if self.logit_alpha:
            check_alpha(self.logit_alpha)
        super().__post_init__()

    def __call__(self, x, inverse=False, context=None):
        """``Flow.__call__`` behind the logit input layer when ``logit_alpha`` > 0."""
        if not self.logit_alpha:
            return super().__call__(x, inverse, context)
        if inverse:
            y, log_det = super().__call__(x, inverse=True, context=context)
            x, logit_log_det = logit_transform(y, self.logit_alpha, inverse=True)
            return x, log_det + logit_log_det
        check_events(x, self.event_shape, self.event_name)
        y, logit_log_det = logit_transform(x, self.logit_alpha)
        latents, log_det = super().__call__(y, context=context)
        return latents, log_det + logit_log_det

    @property
    def event_shape(self) -> tuple:
        """One example's shape: ``image_shape`` (H, W, C)."""
        return tuple(self.image_shape)

    @property
    def event_name(self) -> str:
        """What one example is called in error messages: ``images``."""
        return 'images'

    def bits_per_dim(self, pixels, key, context=None):
        """Bits/dim of integer ``pixels`` in [0, num_levels) under uniform dequantisation with ``key``
        (of log p(x | c) given a ``context``).

        Pixels out of range raise a ValueError where they are concrete; under ``jit``
        they cannot be checked (``zoo.images.check_pixels``).
        """
        x = images.dequantize(key, pixels, self.num_levels)
        return metrics.bits_per_dim(self.log_prob(x, context), self.num_dims, self.num_levels)
