"""Divergence guard: restore the last good state and lower the learning rate.

A common recipe for flows such as Glow: when the loss blows up, reload the
last good weights and divide the learning rate.  The loop checks the metrics of
each window of steps between two host syncs; a window with any non-finite
metric, or a watched metric far above the previous window's mean, counts as a
divergence.  Which metric is watched is the task's choice (``Task.watch``): a
likelihood's loss, or none for a GAN, whose losses oscillate and go negative.
"""

import math

import numpy as np


class DivergenceError(RuntimeError):
    """Training kept diverging after every retry the guard allows."""


class DivergenceGuard:
    """Decides whether a window of losses diverged, and what to do about it.

    A window diverges if any metric is non-finite, or the ``watch`` metric
    exceeds ``ref + (explode_factor - 1) * |ref|``, with ``ref`` its mean over
    the last good window.  Each divergence multiplies the learning-rate scale by
    ``lr_decay``; ``max_retries`` divergences in a row (without a good window
    in between) raise ``DivergenceError``.
    """

    def __init__(
        self, watch: str | None = 'loss', max_retries: int = 5, lr_decay: float = 0.5, explode_factor: float = 3.0
    ):
        self.watch = watch
        self.max_retries = max_retries
        self.lr_decay = lr_decay
        self.explode_factor = explode_factor
        self.reference = None
        self.retries = 0

    def check(self, window: list[dict]) -> str | None:
        """Why the window of metrics diverged, or None if it is good (then it becomes the reference)."""
        for name in window[0]:
            values = np.asarray([m[name] for m in window], np.float64)
            if not np.all(np.isfinite(values)):
                return f'non-finite {name} ({values[~np.isfinite(values)][0]})'
        if self.watch is None:
            self.retries = 0
            return None
        if self.watch not in window[0]:
            raise KeyError(f'the guard watches {self.watch!r}, but the train step reports only {sorted(window[0])}')
        values = np.asarray([m[self.watch] for m in window], np.float64)
        if self.reference is not None:
            limit = self.reference + (self.explode_factor - 1.0) * abs(self.reference)
            if values.max() > limit:
                return f'exploding {self.watch} {values.max():.4g} > {limit:.4g} (previous mean {self.reference:.4g})'
        self.reference = float(values.mean())
        self.retries = 0
        return None

    def next_lr_scale(self, lr_scale: float, step: int, reason: str) -> float:
        """The lowered scale after a divergence at ``step``; raises once retries run out."""
        self.retries += 1
        if self.retries > self.max_retries:
            raise DivergenceError(
                f'training diverged at step {step} ({reason}) {self.max_retries} times in a row, '
                f'even with the learning rate scaled down to {lr_scale:.3g}; stopping. Try a lower '
                f'--set optimizer.lr=..., a longer warm-up, or --set optimizer.clip_grad_norm=...'
            )
        new_scale = lr_scale * self.lr_decay
        if not math.isfinite(new_scale) or new_scale <= 0:
            raise DivergenceError(f'learning-rate scale became {new_scale}')
        return new_scale
