"""Divergence guard: restore the last good state and lower the learning rate.

The seeds' recipe for Glow (SPEC 1.3, 8): when the loss blows up, reload the
last good weights and divide the learning rate.  The loop checks the losses of
each window of steps between two host syncs; a window with a non-finite loss,
or a loss far above the previous window's mean, counts as a divergence.
"""

import math

import numpy as np


class DivergenceError(RuntimeError):
    """Training kept diverging after every retry the guard allows."""


class DivergenceGuard:
    """Decides whether a window of losses diverged, and what to do about it.

    A window diverges if any loss is non-finite or exceeds
    ``ref + (explode_factor - 1) * |ref|``, with ``ref`` the mean loss of the
    last good window.  Each divergence multiplies the learning-rate scale by
    ``lr_decay``; ``max_retries`` divergences in a row (without a good window
    in between) raise ``DivergenceError``.
    """

    def __init__(self, max_retries: int = 5, lr_decay: float = 0.5, explode_factor: float = 3.0):
        self.max_retries = max_retries
        self.lr_decay = lr_decay
        self.explode_factor = explode_factor
        self.reference = None
        self.retries = 0

    def check(self, losses) -> str | None:
        """Why the window of ``losses`` diverged, or None if it is good (then it becomes the reference)."""
        losses = np.asarray(losses, np.float64)
        if not np.all(np.isfinite(losses)):
            return f'non-finite loss ({losses[~np.isfinite(losses)][0]})'
        if self.reference is not None:
            limit = self.reference + (self.explode_factor - 1.0) * abs(self.reference)
            if losses.max() > limit:
                return f'exploding loss {losses.max():.4g} > {limit:.4g} (previous mean {self.reference:.4g})'
        self.reference = float(losses.mean())
        self.retries = 0
        return None

    def next_lr_scale(self, lr_scale: float, step: int, reason: str) -> float:
        """The lowered scale after a divergence at ``step``; raises once retries run out."""
        self.retries += 1
        if self.retries > self.max_retries:
            raise DivergenceError(
                f'training diverged at step {step} ({reason}) {self.max_retries} times in a row, '
                f'even with the learning rate scaled down to {lr_scale:.3g}; stopping. Try a lower '
                f'--set lr=..., a longer warm-up, or --set clip_grad_norm=...')
        new_scale = lr_scale * self.lr_decay
        if not math.isfinite(new_scale) or new_scale <= 0:
            raise DivergenceError(f'learning-rate scale became {new_scale}')
        return new_scale
