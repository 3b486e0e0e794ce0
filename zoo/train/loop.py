"""The shared training loop for image flows.

    train(config, workdir)

does, in order: build the mesh, the model and the optimizer; resume from the
latest checkpoint in ``workdir`` or initialise from the global first batch
(ActNorm's data-dependent init); then run the jitted data-parallel step.
The hot loop never waits for the device: metrics stay on the device and are
fetched only at sync points (every ``log_every`` steps, and where an eval,
sample sheet or checkpoint is due).  At each sync point the divergence guard
looks at the window's losses; a bad window rolls back to the last good state
with a lower learning rate.  Outputs in ``workdir``:

    metrics.jsonl       one JSON object per line: training windows, test bits/dim, guard events
    samples/*.png       sample grids at each temperature
    checkpoints/<step>  orbax checkpoints (zoo.train.checkpoint)

Several hosts: start the same command on every host after
``jax.distributed.initialize()``; each loads its own slice of the batch and
process 0 writes the files (checkpoints are written by all, as orbax needs).
"""

import functools
import json
import os
import time
from typing import Callable, Iterator

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from zoo import images
from zoo.image_grid import save_grid
from zoo.train import mesh as mesh_lib
from zoo.train.checkpoint import Checkpointer
from zoo.train.config import Config
from zoo.train.guard import DivergenceGuard
from zoo.train.models import build_model
from zoo.train.optim import gradient_penalty, make_optimizer
from zoo.train.step import TrainState, create_train_state, make_eval_step, make_train_step

# hook(step, state, checkpointer), called after every step, after that step's
# checkpoint (if any) was started; tests use it to kill a run.
Hook = Callable[[int, TrainState, Checkpointer], None]


def flow_loss(model) -> Callable:
    """loss(params, other, pixels, rng) = mean bits/dim of the batch (dequantised with rng)."""
    def loss_fn(params, other, pixels, rng):
        bpd = jnp.mean(model.apply({'params': params, **other}, pixels, rng, method=model.bits_per_dim))
        return bpd, {'bpd': bpd}
    return loss_fn


def init_state(model, optimizer, config: Config, first_batch, mesh, abstract: bool = False):
    """The initial ``TrainState``, replicated over the mesh.

    ``model.init`` runs on the global first batch under jit, so ActNorm's
    data-dependent statistics are over all devices' examples.  With
    ``abstract`` only shapes, dtypes and shardings are computed (the target
    for restoring a checkpoint; nothing runs).
    """
    def init(rng, pixels):
        init_key, noise_key, state_key = jax.random.split(rng, 3)
        x = images.dequantize(noise_key, pixels, model.num_levels)
        variables = model.init({'params': init_key}, x)
        return create_train_state(variables, optimizer, state_key, ema=config.ema_decay > 0)

    rng = jax.random.PRNGKey(config.seed)
    replicated = mesh_lib.replicated(mesh)
    if abstract:
        shapes = jax.eval_shape(init, rng, first_batch)
        return jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=replicated), shapes)
    return jax.jit(init, out_shardings=replicated)(mesh_lib.replicate(mesh, rng), first_batch)


class MetricsWriter:
    """Appends JSON lines to ``<workdir>/metrics.jsonl`` (process 0 only)."""

    def __init__(self, workdir: str):
        self.path = os.path.join(workdir, 'metrics.jsonl')
        self.enabled = jax.process_index() == 0

    def truncate_after(self, step: int) -> None:
        """Drop records past ``step`` (written by a run that died after its last checkpoint)."""
        if not (self.enabled and os.path.exists(self.path)):
            return
        kept = [line for line in read_metrics(self.path) if line.get('step', 0) <= step]
        with open(self.path, 'w') as f:
            f.writelines(json.dumps(r) + '\n' for r in kept)

    def write(self, record: dict) -> None:
        if self.enabled:
            with open(self.path, 'a') as f:
                f.write(json.dumps(record) + '\n')


def read_metrics(path: str) -> list[dict]:
    """The records of a metrics.jsonl file (a file cut mid-line by a kill loses that line)."""
    records = []
    with open(path) as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return records


def _due(step: int, every: int) -> bool:
    return every > 0 and step % every == 0


def _copy(tree):
    # Real copies: the train step donates the live state's buffers.
    return jax.tree.map(lambda x: x.copy() if isinstance(x, jax.Array) else x, tree)


def train(config: Config, workdir: str, *, hooks: tuple[Hook, ...] = (),
          train_batches: Callable[[int, int], Iterator] | None = None,
          eval_batches: Callable[[int], Iterator] | None = None) -> dict:
    """Train (or resume) the run ``config`` describes in ``workdir``; returns a summary dict.

    ``train_batches(start_step, local_batch_size)`` (yielding uint8 image arrays) and
    ``eval_batches(local_batch_size)`` (yielding dicts with ``image`` and ``mask``)
    replace the ``zoo.data`` streams (tests inject batches this way); the defaults
    read ``config.dataset``: training on its train split, evaluation on its test split.  The
    summary has ``step``, ``test_bpd``, ``wall_time``, ``step_time`` (seconds
    per step after compilation) and ``complete`` (True if there was nothing to do).
    """
    from zoo import data

    workdir = os.path.abspath(os.fspath(workdir))
    os.makedirs(workdir, exist_ok=True)
    log = tqdm.write if jax.process_index() == 0 else (lambda *_: None)
    info = data.dataset_info(config.dataset, data_dir=config.data_dir)
    # Opened at the first stream, so a finished run needs no prepared data.
    dataset = functools.cache(lambda: data.open_dataset(config.dataset, data_dir=config.data_dir))
    if train_batches is None:
        def train_batches(start, size):
            batches = dataset().train_batches(size, config.seed, start_step=start)
            return (b['image'] for b in batches)
    if eval_batches is None:
        def eval_batches(size):
            return dataset().eval_batches(size, 'test')

    mesh = mesh_lib.make_mesh()
    batch = mesh_lib.local_batch_size(config.batch_size, mesh)
    model = build_model(config, info.image_shape, info.num_levels)
    optimizer = make_optimizer(config)
    loss_fn = flow_loss(model)
    if config.igr_step_size > 0:
        loss_fn = gradient_penalty(loss_fn, config.igr_step_size)
    checkpointer = Checkpointer(workdir, config, every=config.checkpoint_every, keep=config.keep_checkpoints)
    writer = MetricsWriter(workdir)
    start_time = time.time()

    latest = checkpointer.latest_step()
    if latest is not None and latest >= config.steps:
        try:
            checkpointer.check_compatible(latest)
        finally:
            checkpointer.close()
        test_bpd = _last_test_bpd(writer.path)
        log(f'run in {workdir} is complete ({latest} of {config.steps} steps); test bits/dim '
            f'{test_bpd if test_bpd is None else f"{test_bpd:.4f}"}. '
            f'Raise --steps to train further, or use a new --workdir.')
        return {'step': latest, 'test_bpd': test_bpd, 'complete': True, 'wall_time': 0.0, 'step_time': None}

    stream = mesh_lib.prefetch_to_device(mesh, train_batches(latest or 0, batch))
    first = next(stream)
    if latest is None:
        state = init_state(model, optimizer, config, first, mesh)
        log(f'{config.model} on {config.dataset}: '
            f'{sum(x.size for x in jax.tree.leaves(state.params)):,} parameters, '
            f'{mesh.size} device(s) on {jax.process_count()} host(s), global batch {config.batch_size}')
    else:
        try:
            state = checkpointer.restore(init_state(model, optimizer, config, first, mesh, abstract=True))
        except BaseException:
            checkpointer.close()
            raise
        writer.truncate_after(latest)
        log(f'resumed {workdir} at step {latest} (lr scale {float(mesh_lib.to_host(state.lr_scale)):.3g})')

    step_fn = make_train_step(loss_fn, optimizer, mesh, config.ema_decay)
    eval_step = make_eval_step(
        lambda v, pixels, rng: model.apply(v, pixels, rng, method=model.bits_per_dim), mesh)
    sample_fn = jax.jit(
        lambda v, rng, t: images.to_pixels(model.apply(v, rng, config.num_samples, t, method=model.sample),
                                           info.num_levels),
        out_shardings=mesh_lib.replicated(mesh))

    def evaluate(state) -> float:
        size = config.eval_batch_size // jax.process_count()
        total = count = 0.0
        rng = mesh_lib.replicate(mesh, jax.random.PRNGKey(1234))  # the same noise at every eval
        for b in eval_batches(size):
            pixels, mask = mesh_lib.shard_batch(mesh, (b['image'], b['mask']))
            s, c = eval_step(state.variables(), pixels, mask, rng)
            total, count = total + s, count + c
        return float(mesh_lib.to_host(total / count))

    def write_samples(state, step: int) -> None:
        rng = mesh_lib.replicate(mesh, jax.random.PRNGKey(config.seed + 1))
        for t in config.temperatures:
            pixels = mesh_lib.to_host(sample_fn(state.variables(), rng, jnp.float32(t)))
            if jax.process_index() == 0:
                save_grid(os.path.join(workdir, 'samples', f'step{step:07d}_T{t:.2f}.png'), pixels,
                          info.num_levels)

    guard = DivergenceGuard(config.guard_max_retries, config.guard_lr_decay, config.guard_explode_factor)
    step = int(mesh_lib.to_host(state.step))
    good = _copy(state)
    pending, window_start, step_times, compiling = [], time.time(), [], True
    test_bpd = None
    bar = tqdm(total=config.steps, initial=step, disable=jax.process_index() != 0,
               desc=f'{config.model}/{config.dataset}', dynamic_ncols=True, mininterval=1.0)
    try:
        while step < config.steps:
            batch_array = first if first is not None else next(stream)
            first = None
            state, metrics = step_fn(state, batch_array)
            pending.append(metrics)
            step += 1
            sync = step == config.steps or any(
                _due(step, every) for every in (config.log_every, config.eval_every,
                                                config.sample_every, config.checkpoint_every))
            if not sync:
                for hook in hooks:
                    hook(step, state, checkpointer)
                continue

            # Sync point: the only place the host waits for the device.
            window = mesh_lib.to_host(pending)
            elapsed, n = time.time() - window_start, len(pending)
            pending = []
            reason = guard.check([m['loss'] for m in window])
            if reason is not None:
                good_step = int(mesh_lib.to_host(good.step))
                lr_scale = guard.next_lr_scale(float(mesh_lib.to_host(good.lr_scale)), step, reason)
                log(f'step {step}: {reason}; back to step {good_step} with lr scale {lr_scale:.3g}')
                writer.write({'step': good_step, 'event': 'divergence', 'at_step': step, 'reason': reason,
                              'lr_scale': lr_scale})
                state = _copy(good).replace(lr_scale=mesh_lib.replicate(mesh, np.float32(lr_scale)))
                step = good_step
                stream = mesh_lib.prefetch_to_device(mesh, train_batches(step, batch))
                bar.reset(total=config.steps)
                bar.update(step)
                window_start = time.time()
                continue
            good = _copy(state)
            if not compiling:
                step_times.append(elapsed / n)
            compiling = False  # the first window of a process includes compilation
            record = {k: float(np.mean([m[k] for m in window])) for k in window[0]}
            record.update(step=step, step_time=elapsed / n, lr_scale=float(mesh_lib.to_host(state.lr_scale)))
            writer.write(record)
            bar.update(n)
            bar.set_postfix(loss=f'{record["loss"]:.4f}', bpd=f'{record.get("bpd", float("nan")):.4f}')

            last = step == config.steps
            if _due(step, config.eval_every) or last:
                test_bpd = evaluate(state)
                writer.write({'step': step, 'test_bpd': test_bpd})
                log(f'step {step}: test bits/dim {test_bpd:.4f}')
            if _due(step, config.sample_every) or last:
                write_samples(state, step)
            checkpointer.save(step, state, force=last)
            for hook in hooks:
                hook(step, state, checkpointer)
            window_start = time.time()
    except KeyboardInterrupt:
        # Keep the progress: the last state the guard passed.
        checkpointer.save(int(mesh_lib.to_host(good.step)), good, force=True)
        log('interrupted; saved a checkpoint, run the same command to resume')
        raise
    finally:
        bar.close()
        checkpointer.close()

    wall = time.time() - start_time
    step_time = float(np.median(step_times)) if step_times else None
    return {'step': step, 'test_bpd': test_bpd, 'complete': False, 'wall_time': wall, 'step_time': step_time}


def _last_test_bpd(path: str) -> float | None:
    if not os.path.exists(path):
        return None
    values = [r['test_bpd'] for r in read_metrics(path) if 'test_bpd' in r]
    return values[-1] if values else None
