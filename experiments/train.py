"""Train any model: ``python -m experiments.train NAME [flags]`` (``NAME --help`` lists the flags).

NAME is a model of ``experiments/configs`` (glow, vae, wgan, ...) or a task's import
path ``package.module:Class``; ``experiments/runner.py`` holds the command line.
"""

from experiments.runner import cli

if __name__ == '__main__':
    cli()
