"""What the notebooks in this folder share: settings, trained runs, toy-density fits.

Not part of the library: notebooks import it from their own folder (``import support``),
and it imports only ``zoo``, so Jupyter started anywhere runs them.

* ``settings()`` reads the environment, so the same notebook runs full-size for a user
  and tiny (a few dozen steps) when the tests execute it:

      ZOO_NOTEBOOK_TINY=1        shrink every training run (the tests set this)
      ZOO_NOTEBOOK_FIGURES=DIR   where figures are saved (default notebooks/figures)
      ZOO_WORKDIRS=DIR           where runs live (default workdirs/ of the repository)

* ``trained_run(model, s)``: the run of ``make train-<model>`` (``workdirs/<model>-digits``)
  if it has a checkpoint; else that run is made first, by the same command
  (``python -m experiments.train <model>``, in a subprocess from the repository root),
  shrunk on the tiny path.  ``run_experiment`` runs any other script the same way.
* ``load_glow(s)``: ``trained_run('glow')`` as a model, its variables and its step.
* ``train_toy_flow(name, steps)``: a ``DenseFlow`` fitted to a 2-D toy density
  (``toy2d:NAME``) through the library's training loop.

JAX's persistent compilation cache (``<ZOO_WORKDIRS>/jax_cache``) keeps what a notebook
compiled, so running it again, or the next notebook on the same model, compiles less.
"""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import jax

from zoo.train import Config, OptimizerConfig, load_trained, read_metrics, train

REPO = Path(__file__).resolve().parents[1]
TRUE = ('1', 'true', 'yes', 'on')

# The tiny path: every run a few seconds (the tests execute the notebooks with it).
NO_BOOKKEEPING = ['--set', 'eval_every=0', '--set', 'sample_every=0', '--set', 'checkpoint_every=0']
TINY_VAE = [
    '--steps',
    '40',
    '--set',
    'model.hidden=32',
    '--set',
    'task_kwargs.iwae_samples=4',
    '--set',
    'task_kwargs.iwae_chunk=4',
]
TINY = {
    'glow': [
        '--steps',
        '30',
        '--batch-size',
        '32',
        '--set',
        'model.flow_steps=2',
        '--set',
        'model.hidden=16',
        '--set',
        'optimizer.warmup_steps=10',
        '--set',
        'optimizer.ema_decay=0.0',
        '--set',
        'task_kwargs.temperatures=(0.7,)',
        '--set',
        'task_kwargs.num_samples=16',
    ],
    'vae': TINY_VAE,
    'cvae': TINY_VAE,  # the conditional VAE shares the VAE's settings
    'vae_cluster': ['--steps', '40', '--set', 'model.hidden=32', '--set', 'model.channels=(8, 16)'],
    'ogan': ['--steps', '10', '--set', 'log_every=5'],
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """Where notebooks read and write runs and figures, and whether to run tiny."""

    tiny: bool
    figures_dir: Path
    workdirs: Path

    def figure_path(self, name: str) -> str:
        """``figures_dir / name`` as a string (the directory is created on save)."""
        return str(self.figures_dir / name)

    def workdir(self, model: str) -> Path:
        """Where ``make train-<model>`` writes its digits run (a separate one on the tiny path)."""
        return self.workdirs / (f'{model}-digits' + ('-tiny' if self.tiny else ''))


def settings() -> Settings:
    """Settings from the ``ZOO_*`` environment variables (see the module docstring)."""
    tiny = os.environ.get('ZOO_NOTEBOOK_TINY', '').strip().lower() in TRUE
    env = lambda name, default: Path(os.environ.get(name) or default)
    s = Settings(
        tiny=tiny,
        figures_dir=env('ZOO_NOTEBOOK_FIGURES', REPO / 'notebooks' / 'figures'),
        workdirs=env('ZOO_WORKDIRS', REPO / 'workdirs'),
    )
    _cache_compilations(s.workdirs / 'jax_cache')
    return s


def _cache_compilations(directory: Path) -> None:
    """JAX's persistent compilation cache, here and in the runs started from here; it keeps
    programs that took 0.2 s or more to compile (JAX's default, 1 s, skips most small models)."""
    if not os.environ.get('JAX_COMPILATION_CACHE_DIR'):
        os.environ['JAX_COMPILATION_CACHE_DIR'] = str(directory)
    os.environ.setdefault('JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS', '0.2')
    jax.config.update('jax_compilation_cache_dir', os.environ['JAX_COMPILATION_CACHE_DIR'])
    jax.config.update(
        'jax_persistent_cache_min_compile_time_secs', float(os.environ['JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS'])
    )


def run_experiment(*args) -> None:
    """``python -m experiments.<args>`` from the repository root, its output printed here."""
    command = [sys.executable, '-m', f'experiments.{args[0]}', *map(str, args[1:])]
    print('$ python ' + ' '.join(command[1:]), flush=True)
    result = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = [line.rpartition('\r')[2] for line in result.stdout.splitlines()]  # progress bars: last state
    print('\n'.join(line for line in lines if line.strip()))
    if result.returncode:
        raise RuntimeError(f'{command[2]} exited with status {result.returncode} (its output is above)')


def has_checkpoint(workdir) -> bool:
    """Whether ``workdir`` holds at least one finished checkpoint step."""
    directory = Path(workdir) / 'checkpoints'
    return directory.is_dir() and any(p.name.isdigit() for p in directory.iterdir())


def trained_run(model: str, s: Settings | None = None, config: str | None = None):
    """``zoo.train.load_trained`` of ``make train-<model>``'s digits run (or its ``--config config``
    run, e.g. 'digits_cond'), made first if missing."""
    s = s or settings()
    workdir = (
        s.workdir(model)
        if config is None
        else s.workdir(model).with_name(s.workdir(model).name.replace('-digits', f'-{config}'))
    )
    if not has_checkpoint(workdir):
        print(
            f'no checkpoint in {workdir}: training it now (`make train-{model.replace("_", "-")}`'
            + (f" ARGS='--config {config}'" if config else '')
            + (', shrunk for the tiny path' if s.tiny else '')
            + ')'
        )
        run_experiment(
            'train',
            model,
            '--workdir',
            workdir,
            *(['--config', config] if config else []),
            *((TINY.get(model, []) + NO_BOOKKEEPING) if s.tiny else []),
        )
    trained = load_trained(workdir)
    print(f'loaded {workdir} (step {trained.step})')
    return trained


@dataclasses.dataclass
class GlowRun:
    """A trained Glow: ``model.apply(variables, ..., method=...)``, and the step it reached."""

    model: object
    variables: dict
    step: int


def load_glow(s: Settings | None = None) -> GlowRun:
    """The Glow of ``make train-glow`` (trained first when it has no checkpoint)."""
    trained = trained_run('glow', s)
    return GlowRun(trained.task.model, trained.state.variables('flow'), trained.step)


def train_toy_flow(
    name: str, steps: int, workdir, batch_size: int = 256, seed: int = 0, lr: float = 2e-3, model: dict | None = None
):
    """A ``DenseFlow`` (``model``: its settings) fitted by maximum likelihood to toy density
    ``name`` (``toy2d:NAME``, a fixed draw of 10,000 points) with the library's loop.

    Returns ``(flow, variables, losses)``: the module, its (EMA-free) variables, and the
    mean NLL in nats logged every 10 steps.
    """
    config = Config(
        task='density',
        dataset=f'toy2d:{name}',
        model=model or {},
        seed=seed,
        steps=steps,
        batch_size=batch_size,
        eval_batch_size=1000,
        optimizer=OptimizerConfig(lr=lr, warmup_steps=0),
        log_every=10,
        eval_every=0,
        sample_every=0,
        checkpoint_every=0,
    )
    train(config, str(workdir))
    trained = load_trained(workdir)
    losses = [r['loss'] for r in read_metrics(Path(workdir) / 'metrics.jsonl') if 'loss' in r]
    return trained.task.model, trained.state.variables('flow'), losses
