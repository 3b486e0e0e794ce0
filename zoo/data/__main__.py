"""Command line: `python -m zoo.data prepare <name> [--data-dir DIR]` builds a TFDS dataset
as array_record files (needs TensorFlow and the network: pip install -e '.[data]')."""

from __future__ import annotations

import argparse
import sys

from zoo.data.sources import DATASETS, builtin_info, prepare


def main(argv: list[str] | None = None) -> int:
    """Runs the command line on `argv` (default sys.argv[1:]); returns the exit code."""
    parser = argparse.ArgumentParser(prog='python -m zoo.data', description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    prep = commands.add_parser('prepare', help='download and prepare a TFDS dataset as array_record')
    prep.add_argument('name', choices=DATASETS)
    prep.add_argument(
        '--data-dir', default=None, help='TFDS data dir (default $TFDS_DATA_DIR or ~/tensorflow_datasets)'
    )
    args = parser.parse_args(argv)

    if builtin_info(args.name).tfds_name is None:
        print(f'{args.name!r} is bundled with scikit-learn; nothing to prepare.')
        return 0
    try:
        data_dir = prepare(args.name, args.data_dir)
    except Exception as e:  # A clear one-line reason beats a TFDS traceback here.
        print(f'error: could not prepare {args.name!r}: {type(e).__name__}: {e}', file=sys.stderr)
        return 1
    print(f'Prepared {args.name!r} in {data_dir}.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
