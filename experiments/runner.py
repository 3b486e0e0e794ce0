"""The command line every experiment shares.

    python -m experiments.glow --config digits --workdir DIR --steps N --batch-size B
                               --seed S --set field=value [--set ...]

Several hosts (or several processes on one machine): add ``--distributed`` to
let JAX find the cluster (TPU pods, SLURM, Open MPI), or give
``--coordinator HOST:PORT --num-processes P --process-id I`` on every host.
"""

import argparse
import sys

from experiments import configs
from zoo.train.config import override


def parse_args(model: str, argv=None) -> argparse.Namespace:
    """The shared flags; ``--config`` choices come from ``experiments/configs/<model>.py``."""
    parser = argparse.ArgumentParser(prog=f'python -m experiments.{model}',
                                     description=f'Train {model} (see experiments/configs/{model}.py).')
    parser.add_argument('--config', default='digits', choices=configs.names(model))
    parser.add_argument('--workdir', default=None, help='default: workdirs/<model>-<config>')
    parser.add_argument('--steps', type=int, help='total training steps')
    parser.add_argument('--batch-size', type=int, help='global batch size (over all devices and hosts)')
    parser.add_argument('--seed', type=int)
    parser.add_argument('--data-dir', help='TFDS data directory for prepared datasets')
    parser.add_argument('--set', action='append', default=[], metavar='FIELD=VALUE',
                        help='override any config field, e.g. --set lr=3e-4 --set model_kwargs.hidden=128')
    parser.add_argument('--distributed', action='store_true',
                        help='multi-host: jax.distributed.initialize() with cluster auto-detection')
    parser.add_argument('--coordinator', help='multi-host: coordinator HOST:PORT (process 0)')
    parser.add_argument('--num-processes', type=int)
    parser.add_argument('--process-id', type=int)
    return parser.parse_args(argv)


def build_config(model: str, args: argparse.Namespace):
    """The named config with the flags and ``--set`` overrides applied."""
    config = configs.get_config(model, args.config)
    flags = {'steps': args.steps, 'batch_size': args.batch_size, 'seed': args.seed, 'data_dir': args.data_dir}
    assignments = [f'{k}={v!r}' for k, v in flags.items() if v is not None]
    return override(config, assignments + list(args.set))


def main(model: str, argv=None) -> dict:
    """Parse the command line, train, print the task's test numbers; returns the loop's summary."""
    args = parse_args(model, argv)
    if args.distributed or args.coordinator:
        import jax
        # CPU hosts need an explicit collectives backend; GPUs and TPUs ignore this.
        jax.config.update('jax_cpu_collectives_implementation', 'gloo')
        jax.distributed.initialize(args.coordinator, args.num_processes, args.process_id)

    from zoo.train import train  # after distributed init: importing may touch the backend
    config = build_config(model, args)
    workdir = args.workdir or f'workdirs/{model}-{args.config}'
    summary = train(config, workdir)
    import jax
    if jax.process_index() == 0:
        headline = summary['headline']
        value = summary['test'].get(headline)
        timing = '' if summary['complete'] else (
            f' ({summary["step"]} steps in {summary["wall_time"]:.0f} s'
            + (f', {1000 * summary["step_time"]:.1f} ms/step' if summary['step_time'] else '') + ')')
        print(f'test {headline}: {value:.4f}{timing}' if value is not None else f'test {headline}: not measured')
        print('test: ' + ', '.join(f'{k} {v:.4f}' for k, v in summary['test'].items()))
        print(f'workdir: {workdir}')
    return summary


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'glow', sys.argv[2:])
