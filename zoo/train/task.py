"""The Task protocol: what a model family gives the training loop.

The loop (``zoo.train.loop``) knows nothing about flows, VAEs or GANs.  A family
provides one ``Task`` object whose methods are pure functions of arrays, which
the loop jits over its device mesh:

    init(rng, batch) -> TrainState
    train_step(state, batch, rng) -> (state, {name: scalar})
    eval_step(state, batch, rng) -> {name: (N,) per-example values}
    summarize({name: (M,) values of the whole split}) -> {name: float}       (host side)
    visualize(state, rng) -> {name: uint8 (H, W, C) sheet}                  (host side)

``batch`` is a dict: ``image`` uint8 (N, H, W, C) and ``label`` int32 (N,) where
the dataset has labels.  ``train_step`` updates every network the task owns
(``TrainState.apply_gradients`` once per optimizer, simultaneous or
alternating) and any carried state in ``state.aux``; it must not touch
``state.step``: the loop counts steps and derives ``rng`` from the state.
Evaluation batches are padded at the end of a split; the loop drops the padded
examples before ``summarize`` sees the values.

A task is built from the dataset's facts and the run's config:
``TaskClass(info, config, **config.task_kwargs)`` (see ``zoo.tasks``).
"""

import numpy as np

from zoo.train.state import TrainState


class Task:
    """Base class with the protocol's defaults; a family overrides the methods it needs.

    Attributes:
        watch: the training metric the divergence guard checks for explosion
            (a likelihood's ``loss``); None where metrics oscillate by nature (GANs).
            Every metric is checked for non-finite values whatever ``watch`` says.
        headline: the summary value the loop prints at the end and in the progress bar.
        lower_is_better: how ``headline`` improves (for messages; bits/dim: lower).
    """

    watch: str | None = 'loss'
    headline: str = 'loss'
    lower_is_better: bool = True

    def init(self, rng, batch) -> TrainState:
        raise NotImplementedError

    def train_step(self, state: TrainState, batch: dict, rng) -> tuple[TrainState, dict]:
        raise NotImplementedError

    def eval_step(self, state: TrainState, batch: dict, rng) -> dict:
        raise NotImplementedError

    def summarize(self, values: dict) -> dict:
        """The mean of each per-example value over the split."""
        return {name: float(np.mean(v)) for name, v in values.items()}

    def visualize(self, state: TrainState, rng) -> dict:
        """Image sheets to save; none by default."""
        return {}
