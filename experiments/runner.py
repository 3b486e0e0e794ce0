"""The command line every experiment shares.

    python -m experiments.glow --config digits --dataset npz:PATH --workdir DIR --steps N
                               --seconds S --batch-size B --seed S --set field=value [--set ...]

A mistake (an unknown field or config, a bad value, a dataset that is not
prepared, a corrupt checkpoint) prints one line saying what is wrong and exits
with status 2; ``--debug`` shows the traceback instead.

Several hosts (or several processes on one machine): add ``--distributed`` to
let JAX find the cluster (TPU pods, SLURM, Open MPI), or give
``--coordinator HOST:PORT --num-processes P --process-id I`` on every host.
"""

import argparse
import sys

from experiments import configs
from zoo.train.config import override


def parse_args(name: str, argv=None) -> argparse.Namespace:
    """The shared flags; ``--config`` choices come from ``experiments/configs/<name>.py``."""
    parser = argparse.ArgumentParser(prog=f'python -m experiments.{name}',
                                     description=f'Train {name} (see experiments/configs/{name}.py).')
    parser.add_argument('--config', default='digits', choices=configs.names(name))
    parser.add_argument('--dataset', help="digits, mnist, fashion_mnist, cifar10, celeb_a, npz:PATH or folder:PATH")
    parser.add_argument('--workdir', default=None, help='default: workdirs/<name>-<config>')
    parser.add_argument('--steps', type=int, help='total training steps')
    parser.add_argument('--seconds', type=float, help='wall-time budget for training (stops early when spent)')
    parser.add_argument('--batch-size', type=int, help='global batch size (over all devices and hosts)')
    parser.add_argument('--seed', type=int)
    parser.add_argument('--data-dir', help='TFDS data directory for prepared datasets')
    parser.add_argument('--set', action='append', default=[], metavar='FIELD=VALUE',
                        help='override any config field, e.g. --set optimizer.lr=3e-4 --set model.hidden=128')
    parser.add_argument('--debug', action='store_true', help='show tracebacks instead of one-line errors')
    parser.add_argument('--distributed', action='store_true',
                        help='multi-host: jax.distributed.initialize() with cluster auto-detection')
    parser.add_argument('--coordinator', help='multi-host: coordinator HOST:PORT (process 0)')
    parser.add_argument('--num-processes', type=int)
    parser.add_argument('--process-id', type=int)
    return parser.parse_args(argv)


def build_config(name: str, args: argparse.Namespace):
    """The named config with the flags and ``--set`` overrides applied (and validated)."""
    config = configs.get_config(name, args.config)
    flags = {'dataset': args.dataset, 'steps': args.steps, 'seconds': args.seconds,
             'batch_size': args.batch_size, 'seed': args.seed, 'data_dir': args.data_dir}
    assignments = [f'{k}={v!r}' for k, v in flags.items() if v is not None]
    return override(config, assignments + list(args.set))


def result_line(summary: dict) -> str:
    """'test bpd 2.2769 | validation bpd 2.2512 | 600 steps in 43 s | 17.0 ms/step (median)'."""
    key = summary['headline']
    parts = [f'{split} {key} {summary[split][key]:.4f}' for split in ('test', 'validation')
             if key in summary.get(split, {})]
    if not summary['complete']:
        parts.append(f'{summary["step"]} steps in {summary["wall_time"]:.0f} s')
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
    workdir = args.workdir or f'workdirs/{name}-{args.config}'
    summary = train(config, workdir)
    import jax
    if jax.process_index() == 0:
        print(f'workdir: {workdir}')
        if len(summary['test']) > 1:
            print('test: ' + ', '.join(f'{k} {v:.4f}' for k, v in summary['test'].items()))
        print(result_line(summary))
    return summary


def main(name: str, argv=None) -> dict:
    """``run`` with one-line errors (exit status 2) unless ``--debug`` is given."""
    argv = sys.argv[1:] if argv is None else argv
    if '--debug' in argv:
        return run(name, argv)
    try:
        return run(name, argv)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # every failure a user can cause; --debug shows where
        message = str(e).strip() or type(e).__name__
        print(f'error: {message}\n(run with --debug for the traceback)', file=sys.stderr)
        sys.exit(2)
