"""f-GANs with every divergence of the table on a 2-D mixture of Gaussians: make fgan-2d

    python -m experiments.fgan_2d [--steps 2000] [--out workdirs/fgan-2d] [--divergences kl,js]

Data: ``toy2d:eight_gaussians`` (``zoo.data.toy2d``), eight Gaussians on a circle, the
mode-collapse benchmark of Metz et al. 2017 ("Unrolled Generative Adversarial
Networks", sec. 3.1).  Each divergence trains the same MLP pair (``fgan`` with
``net='mlp'``) through the shared training loop, in ``<out>/<divergence>/``.  Writes
``<out>/<divergence>.png`` (held-out vs generated points), ``<out>/all.png`` (all of them
side by side) and ``<out>/summary.json``:
for each divergence the critic's variational bound on the test split (the estimated
divergence, ``divergence_bound``), and the modes covered
(``zoo.sample_quality.mixture_mode_coverage``).
"""

import argparse
import json
import math
import os

import jax
import numpy as np
from matplotlib import image as mpimg

from zoo import sample_quality as sq
from zoo.data import toy2d
from zoo.gan import divergences
from zoo.gan.plots import figure_to_array, scatter_figure
from zoo.train import Config, DivergenceError, OptimizerConfig, load_trained, train

DATASET = 'toy2d:eight_gaussians'


def mode_centres() -> tuple[np.ndarray, float]:
    """The eight Gaussians' centres R (cos 2 pi k / 8, sin 2 pi k / 8), R = 2 sqrt(2), and their
    standard deviation sqrt(2) / 4 (``zoo.data.toy2d``; a test checks them against its samples)."""
    angles = 2 * np.pi * np.arange(8) / 8
    return 2 * math.sqrt(2) * np.stack([np.cos(angles), np.sin(angles)], -1), math.sqrt(2) / 4


def config(
    divergence: str,
    steps: int,
    batch_size: int = 256,
    seed: int = 0,
    hidden: int = 128,
    depth: int = 3,
    lr: float = 1e-3,
    critic_steps: int = 1,
    generator_objective: str = 'saturating',
    lipschitz: str = 'none',
) -> Config:
    """An f-GAN of two MLPs on the eight Gaussians; evaluated at the end only, no sample sheets."""
    return Config(
        task='fgan',
        dataset=DATASET,
        seed=seed,
        steps=steps,
        batch_size=batch_size,
        eval_batch_size=1000,
        log_every=max(1, min(500, steps)),
        eval_every=0,
        sample_every=0,
        checkpoint_every=steps,
        model={'generator': {'hidden': hidden, 'depth': depth}, 'critic': {'hidden': hidden, 'depth': depth}},
        task_kwargs={
            'net': 'mlp',
            'latent_dim': 8,
            'divergence': divergence,
            'critic_steps': critic_steps,
            'generator_objective': generator_objective,
            'lipschitz': lipschitz,
        },
        optimizer=OptimizerConfig(lr=lr, b1=0.5, b2=0.999, warmup_steps=0),
    )


def fit_one(name: str, steps: int, batch_size: int, out: str, seed: int = 0, **settings):
    """Train one divergence's f-GAN in ``<out>/<name>``; returns (summary, 2000 samples or None if it diverged).

    The summary holds the critic's bound on the test split (``estimated_divergence``), the
    modes covered and the training seconds, or the one-line ``error`` of a diverged run.
    """
    workdir = os.path.join(out, name)
    try:
        result = train(config(name, steps, batch_size, seed, **settings), workdir)
    except DivergenceError as e:
        return {'estimated_divergence': None, 'error': str(e).splitlines()[0]}, None
    trained = load_trained(workdir)
    samples = np.asarray(trained.task.sample(trained.state, jax.random.key(seed + 1), 2000))
    centres, std = mode_centres()
    coverage = sq.mixture_mode_coverage(samples, centres, std) if np.all(np.isfinite(samples)) else {}
    summary = {
        'estimated_divergence': result['test']['divergence_bound'],
        **coverage,
        'seconds': round(result['wall_time'], 1),
    }
    return summary, samples


def run_all(names, steps: int, batch_size: int, out: str, seed: int = 0, **settings) -> dict:
    """Train an f-GAN per divergence in ``names``; the summary per divergence (also in summary.json)."""
    os.makedirs(out, exist_ok=True)
    held_out = toy2d.sample('eight_gaussians', seed + 1, 2000)
    summary, panels = {}, []
    for name in names:
        summary[name], samples = fit_one(name, steps, batch_size, out, seed, **settings)
        if samples is None:  # recorded, and the other divergences still run
            fig = scatter_figure(np.zeros((0, 2)), held_out, bounds=(-4, 4), title=f'{name}: diverged')
            fig.savefig(os.path.join(out, f'{name}.png'))
            panels.append(figure_to_array(fig))
            print(f'{name:18s} diverged: {summary[name]["error"]}', flush=True)
            continue
        coverage = summary[name]
        fig = scatter_figure(
            samples, held_out, bounds=(-4, 4), title=f'{name}: {coverage.get("modes_covered", 0)}/8 modes'
        )
        fig.savefig(os.path.join(out, f'{name}.png'))
        panels.append(figure_to_array(fig))
        print(
            f'{name:18s} bound {summary[name]["estimated_divergence"]:.4f} | modes '
            f'{coverage.get("modes_covered")}/8 | high quality {coverage.get("high_quality")} | '
            f'{summary[name]["seconds"]} s',
            flush=True,
        )
    # All divergences side by side in one picture, in the order asked for.
    mpimg.imsave(os.path.join(out, 'all.png'), np.concatenate(panels, axis=1))
    with open(os.path.join(out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--out', default='workdirs/fgan-2d')
    parser.add_argument(
        '--divergences', default=','.join(divergences.DIVERGENCES), help='comma-separated rows of zoo.gan.divergences'
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--critic-steps', type=int, default=1)
    args = parser.parse_args(argv)
    run_all(
        args.divergences.split(','),
        args.steps,
        args.batch_size,
        args.out,
        args.seed,
        lr=args.lr,
        critic_steps=args.critic_steps,
    )


if __name__ == '__main__':
    main()
