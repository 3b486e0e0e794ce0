"""Checkpoints with orbax: keep the last N, resume from the latest, fail loudly.

Layout: ``<workdir>/checkpoints/<step>/{state,config}``.  ``state`` is the
whole ``TrainState`` (params, optimizer state, other variables, EMA, lr scale,
rng); ``config`` is the run's ``Config`` as JSON, so ``load_trained`` can
rebuild the model without the experiment script.

A checkpoint that cannot be read, or that belongs to a different model, is an
error that says what to do; it never turns into a silent fresh start.
"""

import dataclasses
import os
from typing import Any

import jax
import orbax.checkpoint as ocp

from zoo.train.config import Config

# Fields that decide the shapes and meaning of the saved variables; everything
# else (steps, lr, intervals...) may change between runs of one workdir.
IDENTITY_FIELDS = ('model', 'model_kwargs', 'dataset')


class CheckpointError(RuntimeError):
    """A checkpoint exists but cannot be restored (corrupt, or a different model)."""


def _directory(workdir) -> str:
    return os.path.join(os.path.abspath(os.fspath(workdir)), 'checkpoints')


class Checkpointer:
    """Saves every ``every`` steps (and when asked to force), keeps ``keep``, restores the latest."""

    def __init__(self, workdir, config: Config, every: int = 500, keep: int = 3):
        self.config = config
        self.every = every
        self.directory = _directory(workdir)
        options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True)
        self.manager = ocp.CheckpointManager(self.directory, options=options, item_names=('state', 'config'))

    def latest_step(self) -> int | None:
        """The newest finished checkpoint's step (None if there is none)."""
        return self.manager.latest_step()

    def saved_config(self, step: int) -> dict:
        """The config stored with checkpoint ``step``."""
        try:
            return self.manager.restore(step, args=ocp.args.Composite(config=ocp.args.JsonRestore()))['config']
        except Exception as e:  # orbax raises many kinds; all mean the same to the user
            raise CheckpointError(_unreadable(self.directory, step, e)) from e

    def check_compatible(self, step: int) -> None:
        """Raise ``CheckpointError`` if checkpoint ``step`` was written for another model or dataset."""
        saved = self.saved_config(step)
        current = self.config.to_dict()
        diffs = [f'{k}: checkpoint {saved.get(k)!r} != config {current[k]!r}'
                 for k in IDENTITY_FIELDS if saved.get(k) != current[k]]
        if diffs:
            raise CheckpointError(
                f'the checkpoint at step {step} in {self.directory} was written for a different run '
                f'({"; ".join(diffs)}). Use another --workdir, or delete that one to start afresh.')

    def restore(self, abstract_state, step: int | None = None):
        """The state saved at ``step`` (default latest), laid out like ``abstract_state``.

        ``abstract_state`` is a pytree of ``jax.ShapeDtypeStruct`` with shardings
        (``jax.eval_shape`` of the init); orbax reads each array straight into
        that sharding, on every host.
        """
        step = self.latest_step() if step is None else step
        self.check_compatible(step)
        try:
            restored = self.manager.restore(
                step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state)))
        except Exception as e:
            raise CheckpointError(_unreadable(self.directory, step, e)) from e
        return restored['state']

    def save(self, step: int, state, force: bool = False) -> bool:
        """Save if ``step`` is on the interval (or ``force``); returns whether it saved.

        Saving is asynchronous: training continues while orbax writes.
        """
        if not force and (self.every <= 0 or step % self.every):
            return False
        if step in self.manager.all_steps():
            return False
        return self.manager.save(step, args=ocp.args.Composite(
            state=ocp.args.StandardSave(state), config=ocp.args.JsonSave(self.config.to_dict())), force=True)

    def wait(self) -> None:
        """Block until pending saves are on disk."""
        self.manager.wait_until_finished()

    def close(self) -> None:
        """Finish pending saves and release orbax's resources."""
        self.manager.wait_until_finished()
        self.manager.close()


def _unreadable(directory: str, step: int, error: Exception) -> str:
    return (f'cannot restore the checkpoint at step {step} in {directory}: it is corrupt or was written '
            f'by a different version of the model ({type(error).__name__}: {str(error)[:500]}). '
            f'Delete {os.path.join(directory, str(step))} to resume from an earlier checkpoint, '
            f'or use a fresh --workdir.')


@dataclasses.dataclass
class Trained:
    """A trained model ready for notebooks: ``model.apply(variables, ..., method=...)``."""
    config: Config
    model: Any
    variables: dict
    step: int


def load_trained(workdir, step: int | None = None, use_ema: bool = True) -> Trained:
    """Load the model and variables of the latest (or given) checkpoint in ``workdir``.

    The variables are ``{'params': ..., **other collections}`` on the default
    device; with ``use_ema`` the EMA parameters are used when the run kept them.
    """
    from zoo.train.models import build_model  # late import: models pull in zoo.flows
    from zoo import data

    directory = _directory(workdir)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f'no checkpoints in {workdir}: train first, e.g. make train-glow')
    manager = ocp.CheckpointManager(
        directory, options=ocp.CheckpointManagerOptions(read_only=True),
        item_handlers={'state': ocp.StandardCheckpointHandler(), 'config': ocp.JsonCheckpointHandler()})
    try:
        step = manager.latest_step() if step is None else step
        if step is None:
            raise FileNotFoundError(f'no finished checkpoint in {directory}')
        try:
            # Read every array onto this process's first device, whatever mesh wrote it.
            device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
            abstract = jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=device),
                                    manager.item_metadata(step)['state'])
            restored = manager.restore(step, args=ocp.args.Composite(
                state=ocp.args.StandardRestore(abstract), config=ocp.args.JsonRestore()))
        except Exception as e:
            raise CheckpointError(_unreadable(directory, step, e)) from e
    finally:
        manager.close()
    config = Config.from_dict(restored['config'])
    state = restored['state']
    params = state['ema_params'] if (use_ema and state.get('ema_params') is not None) else state['params']
    variables = {'params': params, **(state.get('other') or {})}
    info = data.dataset_info(config.dataset)
    model = build_model(config, info.image_shape, info.num_levels)
    return Trained(config=config, model=model, variables=variables, step=int(step))
