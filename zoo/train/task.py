"""The Task protocol: what a model family gives the training loop.

The loop (``zoo.train.loop``) knows nothing about flows, VAEs or GANs.  A family
provides one ``Task`` object whose methods are pure functions of arrays:

    init(rng, batch) -> TrainState                                   (jitted by the loop)
    train_step(state, batch, rng) -> (state, {name: scalar})          (jitted by the loop)
    eval_step(state, batch, rng) -> {name: (N,) per-example values}   (jitted by the loop)
    summarize({name: (M,) values of the whole split}) -> {name: float}        (host side)
    sample(state, rng, n, **conditions) -> uint8 (n, H, W, C) images or float32 (n, D) points
    visualize(state, batch, rng) -> {name: uint8 (H, W, C) sheet}            (host side)
    refit(state, batches, seed) -> (state, {name: float})   before each step of refit_steps (host side)

``batch`` is a dict of arrays: ``image`` uint8 (N, H, W, C) for images or
``point`` float32 (N, D) for vectors, ``label`` int32 (N,) where the dataset
has labels, and ``index`` int32 (N,), each example's position in its split.
``visualize`` gets a fixed batch the loop keeps (host numpy, the first batch of
the validation split, or of train when there is none): tasks keep no examples
in their state.  ``sample`` and ``visualize`` compile their device work with
``jit_method``.

A single-network likelihood task writes only its loss: ``train_step`` is
``state.minimize(name, loss_fn, ...)``.  Tasks with several networks call
``state.apply_gradients(name, grads)`` once per update.  ``train_step`` must
not touch ``state.step``: the loop counts steps and derives ``rng`` from the
state.  Evaluation batches are padded at the end of a split; the loop drops the
padded examples before ``summarize`` sees the values.

A recipe that changes the state from the whole training split at fixed steps (the
clustering VAE's k-means start of its mixture prior, VaDE's) lists the steps in
``refit_steps``.  Before taking step t of them the loop calls ``refit`` with one
fixed-order pass over the training split (evaluation batches with their ``mask``),
the same on every host.  A checkpoint at step t holds the state before that refit,
so a resumed run refits where an uninterrupted one does.

A task is built from the dataset's facts and the run's config, in one way:
``TaskClass(info, config, **task_kwargs)`` (see ``zoo.tasks``), where ready-made
networks may come as keywords (``FlowTask(info, config, model=my_flow)``).
"""

import functools
import inspect

import jax
import numpy as np

from zoo.train.state import TrainState


def jit_method(method=None, *, static_argnames=()):
    """``jax.jit`` for a task's method: ``self`` is static (one compilation per task object).

        @jit_method(static_argnames='n')
        def sample(self, state, rng, n): ...

    Every task compiles ``sample`` and the device part of ``visualize`` this way,
    once, instead of jitting lazily behind ``hasattr``.
    """
    if method is None:
        return functools.partial(jit_method, static_argnames=static_argnames)
    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    parameters = list(inspect.signature(method).parameters)
    numbers = (0, *(parameters.index(name) for name in names))
    return functools.wraps(method)(jax.jit(method, static_argnums=numbers, static_argnames=names))


class Task:
    """Base class with the protocol's defaults; a family overrides the methods it needs.

    Attributes:
        watch: the training metric the divergence guard checks for explosion
            (a likelihood's ``loss``); None where metrics oscillate by nature (GANs).
            Every metric is checked for non-finite values whatever ``watch`` says.
        headline: the summary value the loop prints at the end and in the progress bar.
        refit_steps: the steps before which the loop calls ``refit``; none by default.
    """

    watch: str | None = 'loss'
    headline: str = 'loss'
    refit_steps: tuple[int, ...] = ()

    def init(self, rng, batch) -> TrainState:
        """A fresh ``TrainState`` for batches shaped like ``batch`` (data-dependent initialisation may read it)."""
        raise NotImplementedError

    def train_step(self, state: TrainState, batch: dict, rng) -> tuple[TrainState, dict]:
        """One update of every network the task owns: ``(state, batch, rng) -> (new state, scalar metrics)``; pure and
        jit-able.
        """
        raise NotImplementedError

    def eval_step(self, state: TrainState, batch: dict, rng) -> dict:
        """Per-example values ``{name: (N,)}`` of ``batch``; the loop drops padding and ``summarize`` reduces them."""
        raise NotImplementedError

    def summarize(self, values: dict) -> dict:
        """The mean of each per-example value over the split."""
        return {name: float(np.mean(v)) for name, v in values.items()}

    def sample(self, state: TrainState, rng, n: int, **conditions):
        """``n`` samples: uint8 (n, H, W, C) images or float32 (n, D) points."""
        raise NotImplementedError(f'{type(self).__name__} does not sample')

    def visualize(self, state: TrainState, batch: dict, rng) -> dict:
        """Image sheets to save from the loop's fixed batch; none by default."""
        return {}

    def refit(self, state: TrainState, batches, seed: int) -> tuple[TrainState, dict]:
        """``state`` changed from one pass over the training split, and numbers about the change; called
        before each step of ``refit_steps``.  ``batches`` yields evaluation batches (with ``mask``)."""
        raise NotImplementedError(f'{type(self).__name__} lists refit_steps but does not refit')
