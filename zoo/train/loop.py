"""The one training loop: any ``Task`` on any dataset, on one device or many hosts.

    summary = train(config, workdir)

builds the mesh, opens the dataset, builds the task ``config.task`` names
(``zoo.tasks``), resumes from the latest checkpoint in ``workdir`` or
initialises from the global first batch, then runs the jitted data-parallel
step.  The hot loop never waits for the device: metrics stay on the device and
are fetched only at sync points (every ``log_every`` steps, and where an
evaluation, sheet or checkpoint is due).  At each sync point the divergence
guard looks at the window's metrics; a bad window rolls back to the last good
state with a lower learning rate.  Periodic evaluations use the validation
split; the test split is evaluated once, at the end.  Outputs in ``workdir``
(``zoo.train.writer``): ``metrics.jsonl``, TensorBoard events, ``samples/*.png``
and ``checkpoints/<step>``.

Several hosts: start the same command on every host after
``jax.distributed.initialize()``; each loads its own slice of the batch and
process 0 writes the files (checkpoints are written by all, as orbax needs).
"""

import contextlib
import dataclasses
import math
import os
import signal
import threading
import time
from collections.abc import Callable

import jax
import numpy as np
from jax.experimental import multihost_utils
from tqdm.auto import tqdm

from zoo.train import mesh as mesh_lib
from zoo.train.checkpoint import Checkpointer
from zoo.train.config import Config, ConfigError
from zoo.train.guard import DivergenceGuard
from zoo.train.state import TrainState
from zoo.train.step import abstract_state, make_eval_step, make_init, make_train_step
from zoo.train.writer import MetricsWriter, last_values

# hook(step, state, checkpointer), called after every step, after that step's
# checkpoint (if any) was started; tests use it to kill a run.
Hook = Callable[[int, TrainState, Checkpointer], None]

wait_for = jax.block_until_ready  # a module attribute: the budget tests put a fake clock behind it
EVAL_SEED = 1234  # every evaluation draws the same noise, so numbers compare across steps


def train(config: Config, workdir, *, task=None, dataset=None, devices=None, hooks: tuple[Hook, ...] = ()) -> dict:
    """Train (or resume) the run ``config`` describes in ``workdir``; returns a summary.

    ``task`` and ``dataset`` replace the ones ``config`` names (tests inject
    them); ``devices`` limits the mesh (default: every device of every host).
    The summary has ``step``, ``validation`` and ``test`` (the task's summaries),
    ``headline`` (the name of the task's main number), ``wall_time``,
    ``step_time`` (median seconds per step after compilation), ``first_step`` (the step this call
    started or resumed from) and ``complete`` (True if there was nothing to do).
    """
    return Trainer(config, workdir, task=task, dataset=dataset, devices=devices).run(hooks)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a scheduler preempting the job, a plain ``kill``) raises KeyboardInterrupt, as
    Ctrl-C does, so the loop saves its last good state before the process ends instead of
    losing the steps since the last periodic checkpoint.  Left alone where the application
    handles SIGTERM itself, and off the main thread (the only one Python lets set handlers)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@dataclasses.dataclass
class _Window:
    """The steps since the last sync point: their metrics (on device) and timing."""

    metrics: list = dataclasses.field(default_factory=list)
    start: float = dataclasses.field(default_factory=time.time)


class Trainer:
    """One run: its config, workdir, mesh, data, task, checkpoints and outputs."""

    def __init__(self, config: Config, workdir, *, task=None, dataset=None, devices=None):
        from zoo import data, tasks  # the data layer and the task registry; no family is imported here

        self.config = config.validate()
        self.workdir = os.path.abspath(os.fspath(workdir))
        os.makedirs(self.workdir, exist_ok=True)
        self.dataset = dataset or data.open_dataset(
            config.dataset,
            data_dir=config.data_dir,
            image_size=config.image_size,
            validation_fraction=config.validation_fraction,
        )
        num_train = len(self.dataset.splits['train'])
        if num_train < config.batch_size:
            raise ConfigError(
                f'the train split of {self.dataset.info.name} has {num_train} examples, fewer than '
                f'one batch (batch_size {config.batch_size}); lower batch_size to at most {num_train}'
            )
        self.task = task or tasks.build_task(config, self.dataset.info)
        self.mesh = mesh_lib.make_mesh(devices)
        self.local_batch = mesh_lib.local_batch_size(config.batch_size, self.mesh)
        self.local_eval_batch = mesh_lib.local_batch_size(config.eval_batch_size, self.mesh)
        self.writer = MetricsWriter(self.workdir)
        self.guard = DivergenceGuard(
            self.task.watch, config.guard_max_retries, config.guard_lr_decay, config.guard_explode_factor
        )
        self.step_fn = make_train_step(self.task, self.mesh)
        self.eval_fn = make_eval_step(self.task, self.mesh)
        self.log = tqdm.write if jax.process_index() == 0 else (lambda *_: None)
        self.step_times: list[float] = []
        self.compiled = False
        self.fixed_batch = self._fixed_batch()

    def run(self, hooks=()) -> dict:
        """Resume or start, train to ``config.steps`` (or ``config.seconds``), evaluate, summarise."""
        start = time.time()
        checkpointer = Checkpointer(
            self.workdir, self.config, every=self.config.checkpoint_every, keep=self.config.keep_checkpoints
        )
        try:
            latest = checkpointer.latest_step()
            if latest is not None and latest >= self.config.steps:
                checkpointer.check_compatible(latest)
                return self._already_complete(latest)
            state, stream = self._start(checkpointer, latest)
            with _sigterm_as_interrupt():
                state = self._train(state, stream, checkpointer, hooks)
            results = {split: self.evaluate(state, split) for split in self._final_splits()}
            step = int(mesh_lib.to_host(state.step))
            for split, values in results.items():
                self.writer.write({'step': step, **{f'{split}/{k}': v for k, v in values.items()}})
            self._visualize(state, step)
            checkpointer.save(step, state, force=True)
        finally:
            checkpointer.close()
            self.writer.close()
        step_time = float(np.median(self.step_times)) if self.step_times else None
        summary = {
            'step': step,
            'first_step': latest or 0,
            'complete': False,
            'headline': self.task.headline,
            'wall_time': time.time() - start,
            'step_time': step_time,
            **{split: results.get(split, {}) for split in ('validation', 'test')},
        }
        self.writer.write({'step': step, 'summary': {k: summary[k] for k in ('wall_time', 'step_time')}})
        return summary

    def _final_splits(self) -> tuple[str, ...]:
        return ('validation', 'test') if self.config.validation_fraction > 0 else ('test',)

    def _already_complete(self, latest: int) -> dict:
        test = last_values(self.writer.path, 'test/')
        shown = f'{self.task.headline} {test[self.task.headline]:.4f}' if self.task.headline in test else ''
        self.log(
            f'run in {self.workdir} is complete ({latest} of {self.config.steps} steps); test {shown}. '
            f'Raise --steps to train further, or use a new --workdir.'
        )
        return {
            'step': latest,
            'first_step': latest,
            'complete': True,
            'headline': self.task.headline,
            'wall_time': 0.0,
            'step_time': None,
            'validation': last_values(self.writer.path, 'validation/'),
            'test': test,
        }

    def _batches(self, start_step: int):
        batches = self.dataset.train_batches(self.local_batch, self.config.seed, start_step=start_step)
        return mesh_lib.prefetch_to_device(self.mesh, batches)

    def _start(self, checkpointer: Checkpointer, latest: int | None):
        """The state to train from (fresh or restored) and the batch stream that continues it."""
        stream = self._batches(latest or 0)
        first = next(stream)
        rng = mesh_lib.replicate(self.mesh, jax.random.PRNGKey(self.config.seed))
        if latest is None:
            state = make_init(self.task, self.mesh)(rng, first)
            sizes = {name: sum(x.size for x in jax.tree.leaves(p)) for name, p in state.params.items()}
            self.log(
                f'{self.config.task} on {self.dataset.info.name}: '
                + ', '.join(f'{name} {n:,} parameters' for name, n in sizes.items())
                + f'; {self.mesh.size} device(s) on {jax.process_count()} host(s), '
                f'global batch {self.config.batch_size}'
            )
        else:
            state = checkpointer.restore(abstract_state(self.task, self.mesh, rng, first))
            self.writer.truncate_after(latest)
            self.log(
                f'resumed {self.workdir} at step {latest} (lr scale {float(mesh_lib.to_host(state.lr_scale)):.3g})'
            )
        return state, _chain([first], stream)

    def _due(self, step: int, every: int) -> bool:
        return every > 0 and step % every == 0

    def _train(self, state, stream, checkpointer, hooks):
        """The hot loop, with the guard, outputs and checkpoints at sync points."""
        config = self.config
        step = int(mesh_lib.to_host(state.step))
        good, window = _copy(state), _Window()
        timed = config.seconds > 0
        # The budget is for training: its clock starts once the first step has compiled (a
        # Glow compiles for a minute on 2 CPU cores, which would otherwise eat a short budget).
        deadline = math.inf
        # Under a wall-time budget the step count is a cap, not a goal: no total, so no bogus ETA.
        budget = f' ({config.seconds:.0f} s budget)' if timed else ''
        bar = tqdm(
            total=None if timed else config.steps,
            initial=step,
            disable=jax.process_index() != 0,
            desc=f'{config.task}/{self.dataset.info.name}{budget}',
            dynamic_ncols=True,
            mininterval=1.0,
        )
        late = [s for s in self.task.refit_steps if s >= config.steps]
        if late:
            self.log(f'refit steps {late} are past the last step ({config.steps - 1}): they will not run')
        try:
            while step < config.steps:
                if step in self.task.refit_steps:
                    state = self._refit(state, step)
                state, metrics = self.step_fn(state, next(stream))
                if timed:
                    if deadline == math.inf:
                        deadline = time.time() + config.seconds  # the call returns once compiled
                    # A step's call returns before the step runs: unchecked, the host queues steps
                    # faster than they run and the budget times their dispatch.  Waiting for the
                    # window's last step keeps one step in flight (a sync has waited for the rest).
                    if window.metrics:
                        wait_for(window.metrics[-1])
                window.metrics.append(metrics)
                step += 1
                out_of_time = time.time() >= deadline
                last = step == config.steps or out_of_time
                if last or any(
                    self._due(step, e)
                    for e in (config.log_every, config.eval_every, config.sample_every, config.checkpoint_every)
                ):
                    state, good, stream = self._sync(state, good, stream, window, bar, checkpointer, last)
                    step, window = int(mesh_lib.to_host(state.step)), _Window()
                    if out_of_time:
                        break  # the wall-time budget is spent
                for hook in hooks:
                    hook(step, state, checkpointer)
        except KeyboardInterrupt:
            checkpointer.save(int(mesh_lib.to_host(good.step)), good, force=True)  # keep what the guard passed
            self.log('interrupted; saved a checkpoint, run the same command to resume')
            raise
        finally:
            bar.close()
        return state

    def _sync(self, state, good, stream, window: _Window, bar, checkpointer, last: bool):
        """End of a window: guard, metrics, evaluation, sheets, checkpoint.  Returns (state, good, stream)."""
        metrics = mesh_lib.to_host(window.metrics)
        elapsed, n = time.time() - window.start, len(metrics)
        step = int(mesh_lib.to_host(state.step))
        reason = self.guard.check(metrics)
        if reason is not None:
            return self._roll_back(good, step, reason, bar)
        if self.compiled:
            self.step_times.append(elapsed / n)
        self.compiled = True  # the first window of a process includes compilation
        record = {k: float(np.mean([m[k] for m in metrics])) for k in metrics[0]}
        record.update(step=step, step_time=elapsed / n, lr_scale=float(mesh_lib.to_host(state.lr_scale)))
        self.writer.write(record, scalars_prefix='train/')
        bar.update(n)
        bar.set_postfix({k: f'{record[k]:.4f}' for k in list(metrics[0])[:3]})
        if self._due(step, self.config.eval_every) and not last and self.config.validation_fraction > 0:
            values = self.evaluate(state, 'validation')
            self.writer.write({'step': step, **{f'validation/{k}': v for k, v in values.items()}})
            self.log(f'step {step}: validation ' + ', '.join(f'{k} {v:.4f}' for k, v in values.items()))
        if self._due(step, self.config.sample_every) and not last:
            self._visualize(state, step)
        checkpointer.save(step, state)
        return state, _copy(state), stream

    def _roll_back(self, good, step: int, reason: str, bar):
        """Back to the last good state with a lower learning rate, and the batches that follow it."""
        good_step = int(mesh_lib.to_host(good.step))
        lr_scale = self.guard.next_lr_scale(float(mesh_lib.to_host(good.lr_scale)), step, reason)
        self.log(f'step {step}: {reason}; back to step {good_step} with lr scale {lr_scale:.3g}')
        self.writer.write(
            {'step': good_step, 'event': 'divergence', 'at_step': step, 'reason': reason, 'lr_scale': lr_scale}
        )
        state = _copy(good).replace(lr_scale=mesh_lib.replicate(self.mesh, np.float32(lr_scale)))
        bar.reset(total=self.config.steps)
        bar.update(good_step)
        return state, good, self._batches(good_step)

    def _refit(self, state, step: int):
        """The task's ``refit`` before ``step``, over the whole training split in its stored order
        (every host reads all of it, so all hosts compute the same state), placed as ``state`` was."""
        batches = self.dataset.eval_batches(
            self.config.eval_batch_size, split='train', process_index=0, process_count=1
        )
        new, numbers = self.task.refit(state, batches, self.config.seed)
        self.log(f'step {step}: refit, ' + ', '.join(f'{k} {v:.4g}' for k, v in numbers.items()))
        self.writer.write({'step': step, 'event': 'refit', **{f'refit/{k}': float(v) for k, v in numbers.items()}})
        return jax.device_put(new, jax.tree.map(lambda x: x.sharding, state))

    def evaluate(self, state, split: str) -> dict:
        """The task's summary of ``split``: per-example values of every real example, then ``summarize``."""
        rng = mesh_lib.replicate(self.mesh, jax.random.PRNGKey(EVAL_SEED))
        chunks = []
        for i, batch in enumerate(self.dataset.eval_batches(self.local_eval_batch, split=split)):
            batch = mesh_lib.shard_batch(self.mesh, batch)
            values = self.eval_fn(state, batch, jax.random.fold_in(rng, i))
            chunks.append(multihost_utils.process_allgather(({**values, '_mask': batch['mask']}), tiled=True))
        if not chunks:
            raise ValueError(f'the {split} split of {self.dataset.info.name} is empty')
        values = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
        mask = values.pop('_mask').astype(bool)
        return self.task.summarize({k: v[mask] for k, v in values.items()})

    def _fixed_batch(self) -> dict:
        """The batch every ``visualize`` gets: host numpy, the first examples of the validation
        split (of train when there is none), the same on every host, without padding."""
        split = 'validation' if self.config.validation_fraction > 0 else 'train'
        batch = next(self.dataset.eval_batches(self.config.batch_size, split=split, process_index=0, process_count=1))
        mask = batch.pop('mask')
        return {k: v[mask] for k, v in batch.items()}

    def _visualize(self, state, step: int) -> None:
        rng = mesh_lib.replicate(self.mesh, jax.random.PRNGKey(self.config.seed + 1))
        for name, sheet in self.task.visualize(state, self.fixed_batch, rng).items():
            self.writer.save_sheet(name, mesh_lib.to_host(sheet), step)


def _chain(head, tail):
    yield from head
    yield from tail


def _copy(tree):
    # Real copies: the train step donates the live state's buffers.
    return jax.tree.map(lambda x: x.copy() if isinstance(x, jax.Array) else x, tree)
