"""The one command line for every model: ``python -m experiments.train NAME [flags]``.

    python -m experiments.train glow --config digits --dataset npz:PATH --workdir DIR --steps N
                                     --seconds S --batch-size B --seed S --set field=value [--set ...]

NAME is a model with a config module (``experiments/configs/<NAME>.py``) or the import
path of a task, ``package.module:Class``, trained from ``Config(task=NAME)`` and the flags.

A mistake (an unknown field or config, a bad value, a dataset that is not prepared, a
corrupt checkpoint) prints one line saying what is wrong and exits with status 2;
``--debug`` prints the traceback instead, with the same status.

Several hosts (or several processes on one machine): add ``--distributed`` to let JAX
find the cluster (TPU pods, SLURM, Open MPI), or give
``--coordinator HOST:PORT --num-processes P --process-id I`` on every host.
"""

import argparse
import re
import sys
import traceback
from pathlib import Path

from experiments import configs
from zoo.train.config import Config, ConfigError, override

USAGE = (
    'usage: python -m experiments.train NAME [flags]   (python -m experiments.train NAME --help)\n'
    "NAME: {models}, or a task's import path package.module:Class"
)


def is_import_path(name: str) -> bool:
    return ':' in name


def parse_args(name: str, argv=None) -> argparse.Namespace:
    """The shared flags; ``--config`` choices come from ``experiments/configs/<name>.py``."""
    choices = None if is_import_path(name) else configs.names(name)
    parser = argparse.ArgumentParser(
        prog=f'python -m experiments.train {name}',
        description=f'Train {name}' + ('' if choices else ' from Config(task=NAME) and the flags'),
    )
    parser.add_argument(
        '--config',
        default=choices[0] if choices else None,
        choices=choices,
        help=f'default: {choices[0]}' if choices else argparse.SUPPRESS,
    )
    parser.add_argument('--dataset', help='digits, mnist, fashion_mnist, cifar10, celeb_a, npz:PATH or folder:PATH')
    parser.add_argument(
        '--workdir',
        default=None,
        help="default: workdirs/<name>-<config>, and -<dataset> when it is not the config's own",
    )
    parser.add_argument('--steps', type=int, help='total training steps')
    parser.add_argument(
        '--seconds',
        type=float,
        help='wall-time budget for training, counted once the first step has compiled (stops early when spent)',
    )
    parser.add_argument('--batch-size', type=int, help='global batch size (over all devices and hosts)')
    parser.add_argument('--seed', type=int)
    parser.add_argument('--data-dir', help='TFDS data directory for prepared datasets')
    parser.add_argument(
        '--set',
        action='append',
        default=[],
        metavar='FIELD=VALUE',
        help='override any config field, e.g. --set optimizer.lr=3e-4 --set model.hidden=128',
    )
    parser.add_argument('--debug', action='store_true', help='print tracebacks instead of one-line errors')
    parser.add_argument(
        '--distributed',
        action='store_true',
        help='multi-host: jax.distributed.initialize() with cluster auto-detection',
    )
    parser.add_argument('--coordinator', help='multi-host: coordinator HOST:PORT (process 0)')
    parser.add_argument('--num-processes', type=int)
    parser.add_argument('--process-id', type=int)
    return parser.parse_args(argv)


def base_config(name: str, args: argparse.Namespace) -> Config:
    """The named config, or ``Config(task=name)`` for an import path."""
    if not is_import_path(name):
        return configs.get_config(name, args.config)
    if args.config is not None:
        raise ConfigError(f'{name} is an import path and has no named configs; set fields with --set')
    return Config(task=name)


def build_config(name: str, args: argparse.Namespace) -> Config:
    """The base config with the flags and ``--set`` overrides applied (and validated)."""
    flags = {
        'dataset': args.dataset,
        'steps': args.steps,
        'seconds': args.seconds,
        'batch_size': args.batch_size,
        'seed': args.seed,
        'data_dir': args.data_dir,
    }
    assignments = [f'{k}={v!r}' for k, v in flags.items() if v is not None]
    return override(base_config(name, args), assignments + list(args.set))


def dataset_slug(dataset: str) -> str:
    """A file-name-safe short name: 'npz:data/my_images.npz' -> 'my_images', 'mnist' -> 'mnist'."""
    kind, sep, where = dataset.partition(':')
    name = Path(where.rstrip('/')).stem if sep and kind in ('npz', 'folder') else (where or kind)
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', name) or 'data'


def default_workdir(name: str, args: argparse.Namespace, config: Config) -> str:
    """``workdirs/<name>-<config>``, plus ``-<dataset>`` when the run's dataset is not the
    config's own, so a run on other data never meets the config's checkpoints."""
    if is_import_path(name):
        return f'workdirs/{name.rpartition(":")[2].lower()}-{dataset_slug(config.dataset)}'
    workdir = f'workdirs/{name}-{args.config}'
    if config.dataset != base_config(name, args).dataset:
        workdir += f'-{dataset_slug(config.dataset)}'
    return workdir


def result_line(summary: dict) -> str:
    """'test bpd 2.2769 | validation bpd 2.2512 | 600 steps in 43 s | 17.0 ms/step (median)';
    'steps 400-600 in 15 s' for a resumed run; the step time only where the run measured one."""
    key = summary['headline']
    parts = [
        f'{split} {key} {summary[split][key]:.4f}' for split in ('test', 'validation') if key in summary.get(split, {})
    ]
    if not summary['complete']:
        first = summary.get('first_step', 0)
        steps = f'steps {first}-{summary["step"]}' if first else f'{summary["step"]} steps'
        parts.append(f'{steps} in {summary["wall_time"]:.0f} s')
        if summary['step_time']:
            parts.append(f'{1000 * summary["step_time"]:.1f} ms/step (median)')
    return ' | '.join(parts) or f'{key}: not measured'


def run(name: str, argv=None) -> dict:
    """Parse the command line, train, print the result line; returns the loop's summary."""
    args = parse_args(name, argv)
    if args.distributed or args.coordinator:
        import jax

        # CPU hosts need an explicit collectives backend; GPUs and TPUs ignore this.
        jax.config.update('jax_cpu_collectives_implementation', 'gloo')
        jax.distributed.initialize(args.coordinator, args.num_processes, args.process_id)

    from zoo.train import train  # after distributed init: importing may touch the backend

    config = build_config(name, args)
    workdir = args.workdir or default_workdir(name, args, config)
    summary = train(config, workdir)
    import jax

    if jax.process_index() == 0:
        print(f'workdir: {workdir}')
        if len(summary['test']) > 1:
            print('test: ' + ', '.join(f'{k} {v:.4f}' for k, v in summary['test'].items()))
        print(result_line(summary))
    return summary


def main(name: str, argv=None) -> dict:
    """``run``; any failure prints one ``error:`` line (the traceback with ``--debug``) and
    exits with status 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return run(name, argv)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # every failure a user can cause; --debug shows where
        if '--debug' in argv:
            traceback.print_exc()
        else:
            message = str(e).strip() or type(e).__name__
            print(f'error: {message}\n(run with --debug for the traceback)', file=sys.stderr)
        sys.exit(2)


def cli(argv=None) -> dict:
    """``python -m experiments.train NAME [flags]``: NAME first, then ``main``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0].startswith('-'):
        print(
            USAGE.format(models=', '.join(configs.models())),
            file=sys.stdout if argv[:1] in (['-h'], ['--help']) else sys.stderr,
        )
        sys.exit(0 if argv[:1] in (['-h'], ['--help']) else 2)
    return main(argv[0], argv[1:])
