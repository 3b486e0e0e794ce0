"""Checkpoints with orbax: keep the last N, resume from the latest, fail loudly.

Layout: ``<workdir>/checkpoints/<step>/{state,config}``.  ``state`` is the
whole ``TrainState`` (params, optimizer states, EMA, aux, lr scale, rng);
``config`` is the run's ``Config`` as JSON, so ``load_trained`` can rebuild
the task without the experiment script.

A checkpoint that cannot be read, or that belongs to a different model, is an
error that says what to do; it never turns into a silent fresh start.
"""

import dataclasses
import os
import sys
from typing import Any

import jax
import orbax.checkpoint as ocp

from zoo.train.config import Config
from zoo.train.state import TrainState

# Fields that decide the shapes and meaning of the saved variables; everything
# else (steps, lr, intervals...) may change between runs of one workdir.
IDENTITY_FIELDS = ('task', 'model', 'task_kwargs', 'dataset')


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
        diffs = [
            f'{k}: checkpoint {saved.get(k)!r} != config {current[k]!r}'
            for k in IDENTITY_FIELDS
            if saved.get(k) != current[k]
        ]
        if diffs:
            raise CheckpointError(
                f'the checkpoint at step {step} in {self.directory} was written for a different run '
                f'({"; ".join(diffs)}). Use another --workdir, or delete that one to start afresh.'
            )

    def restore(self, abstract_state, step: int | None = None):
        """The state saved at ``step`` (default latest), laid out like ``abstract_state``.

        ``abstract_state`` is a pytree of ``jax.ShapeDtypeStruct`` with shardings
        (``jax.eval_shape`` of the init); orbax reads each array straight into
        that sharding, on every host.
        """
        step = self.latest_step() if step is None else step
        self.check_compatible(step)
        _silence_closed_event_loop()
        try:
            restored = self.manager.restore(
                step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state))
            )
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
        return self.manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), config=ocp.args.JsonSave(self.config.to_dict())
            ),
            force=True,
        )

    def wait(self) -> None:
        """Block until pending saves are on disk."""
        self.manager.wait_until_finished()

    def close(self) -> None:
        """Finish pending saves and release orbax's resources."""
        self.manager.wait_until_finished()
        self.manager.close()


def _unreadable(directory: str, step: int, error: Exception) -> str:
    """One line: what failed, why (the error's first line without tensorstore's specs), what to do."""
    reason = str(error).splitlines()[0] if str(error) else ''
    reason = reason.split(' [tensorstore_spec')[0][:300]
    return (
        f'cannot restore the checkpoint at step {step} in {directory}: it is corrupt or was written '
        f'by a different version of the model ({type(error).__name__}: {reason}). '
        f'Delete {os.path.join(directory, str(step))} to resume from an earlier checkpoint, '
        f'or use a fresh --workdir.'
    )


def _silence_closed_event_loop() -> None:
    """Drop the "Event loop is closed" errors of a failed restore's leftover reads (idempotent).

    When one array of a checkpoint fails to read, orbax's event loop closes while
    tensorstore still completes the other reads; each completion's callback then
    fails on the closed loop and prints a traceback through ``sys.excepthook`` (or
    ``sys.unraisablehook``), one per array, around the real error.  Only that error
    is dropped; everything else reaches the previous hooks.
    """

    def closed_loop(value) -> bool:
        return isinstance(value, RuntimeError) and str(value) == 'Event loop is closed'

    if not getattr(sys.excepthook, 'drops_closed_loop', False):
        previous_except = sys.excepthook

        def excepthook(kind, value, traceback):
            if not closed_loop(value):
                previous_except(kind, value, traceback)

        excepthook.drops_closed_loop = True
        sys.excepthook = excepthook
    if not getattr(sys.unraisablehook, 'drops_closed_loop', False):
        previous_unraisable = sys.unraisablehook

        def unraisablehook(unraisable):
            if not closed_loop(unraisable.exc_value):
                previous_unraisable(unraisable)

        unraisablehook.drops_closed_loop = True
        sys.unraisablehook = unraisablehook


@dataclasses.dataclass
class Trained:
    """A trained run ready for notebooks: its config, task (with the networks) and state."""

    config: Config
    task: Any
    state: TrainState
    step: int


def load_trained(workdir, step: int | None = None) -> Trained:
    """The config, task and state of the latest (or given) checkpoint in ``workdir``, for any task.

        trained = load_trained('workdirs/glow-digits')
        pixels = trained.task.sample(trained.state, jax.random.key(0), 16)

    The task is rebuilt from the saved config and the state restored into the
    task's own state structure (optimizers included), with every array on this
    process's first device, whatever mesh wrote it.
    """
    from zoo import data, tasks  # late imports: the task registry imports the families lazily
    from zoo.train.step import abstract_state  # the step module imports this one

    directory = _directory(workdir)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f'no checkpoints in {workdir}: train first, e.g. make train-glow')
    manager = ocp.CheckpointManager(
        directory, options=ocp.CheckpointManagerOptions(create=False), item_names=('state', 'config')
    )
    try:
        step = manager.latest_step() if step is None else step
        if step is None:
            raise FileNotFoundError(f'no finished checkpoint in {directory}')
        try:
            saved = manager.restore(step, args=ocp.args.Composite(config=ocp.args.JsonRestore()))['config']
        except Exception as e:
            raise CheckpointError(_unreadable(directory, step, e)) from e
        config = Config.from_dict(saved)
        dataset = data.open_dataset(
            config.dataset,
            data_dir=config.data_dir,
            image_size=config.image_size,
            validation_fraction=config.validation_fraction,
        )
        task = tasks.build_task(config, dataset.info)
        split = 'validation' if config.validation_fraction > 0 else 'test'
        batch = next(dataset.eval_batches(1, split, process_index=0, process_count=1))
        device = jax.local_devices()[0]
        mesh = jax.sharding.Mesh([device], ('data',))
        abstract = abstract_state(task, mesh, jax.random.PRNGKey(0), batch)
        _silence_closed_event_loop()
        try:
            state = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract)))
        except Exception as e:
            raise CheckpointError(_unreadable(directory, step, e)) from e
    finally:
        manager.close()
    return Trained(config=config, task=task, state=state['state'], step=int(step))
