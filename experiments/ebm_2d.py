"""An EBM on the 2-D toy densities: make ebm-2d

    python -m experiments.ebm_2d [--steps 2000] [--out workdirs/ebm-2d] [--densities eight_gaussians,two_moons]

For each density an MLP energy is fitted with Langevin negatives from a replay buffer: the
``ebm`` task on the dataset ``toy2d:NAME`` through the shared training loop, one workdir per
density under ``--out``.  Writes ``ebm_2d.png`` (one row per density: the
true density, the learned exp(-U) normalised on the grid, and fresh Langevin samples) and
``summary.json``: per density the kernel MMD^2 between samples and data, and for the
eight Gaussians the modes covered (``zoo.sample_quality``).
"""

import argparse
import json
import math
import os
import sys
import time

import jax
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from zoo import sample_quality as sq  # noqa: E402
from zoo.data import toy2d  # noqa: E402
from zoo.train import Config, OptimizerConfig, train  # noqa: E402
from zoo.train.checkpoint import load_trained  # noqa: E402

DENSITIES = ('eight_gaussians', 'two_moons', 'checkerboard', 'pinwheel')
BOX, GRID = 4.0, 200


def grid_points():
    axis = np.linspace(-BOX, BOX, GRID)
    xx, yy = np.meshgrid(axis, axis)
    return np.stack([xx.ravel(), yy.ravel()], -1).astype(np.float32)


def true_density(name: str, points) -> np.ndarray:
    """Exact density on the grid where there is one, else a histogram of 200k samples."""
    if toy2d.has_log_density(name):
        return np.exp(np.asarray(toy2d.log_density(name, points))).reshape(GRID, GRID)
    x = np.asarray(toy2d.sample(name, 0, 200_000))
    hist, _, _ = np.histogram2d(x[:, 1], x[:, 0], bins=GRID, range=[[-BOX, BOX], [-BOX, BOX]])
    return hist


def config(name: str, steps: int, seed: int, sample_steps: int) -> Config:
    """The 2-D EBM: a 3 x 128 swish MLP, 20 Langevin steps of eps = 0.01 with their proper noise
    sqrt(eps) (in 2-D short persistent chains mix, so samples should follow exp(-U)), a replay
    buffer of 10,000 reused with p = 0.95, alpha = 0.1, Adam lr 1e-3 with beta1 = 0."""
    return Config(
        task='ebm',
        dataset=f'toy2d:{name}',
        model=dict(hidden=(128, 128, 128)),
        task_kwargs=dict(
            langevin_steps=20,
            step_size=0.01,
            noise_scale=None,
            alpha=0.1,
            buffer_size=10_000,
            reuse_prob=0.95,
            sample_steps=sample_steps,
            box=BOX,
        ),
        steps=steps,
        seed=seed,
        batch_size=256,
        eval_batch_size=1000,
        optimizer=OptimizerConfig(lr=1e-3, b1=0.0, b2=0.999, warmup_steps=0),
        log_every=max(1, min(100, steps)),
        eval_every=0,
        sample_every=0,
        checkpoint_every=steps,
    )


def fit_one(name: str, steps: int, seed: int, out: str, num_samples: int = 2000, sample_steps: int = 500) -> dict:
    start = time.time()
    summary = train(config(name, steps, seed, sample_steps), os.path.join(out, name))
    run = load_trained(os.path.join(out, name))
    points = grid_points()
    u = np.asarray(run.task.energy(run.state.variables('energy'))(points))
    learned = np.exp(-(u - u.min())).reshape(GRID, GRID)
    samples = run.task.sample(run.state, jax.random.key(seed + 1), num_samples)
    data = np.asarray(toy2d.sample(name, seed + 1, num_samples))
    result = {
        'density': name,
        'seconds': time.time() - start,
        'energy_gap': summary['validation']['energy_gap'],
        'mmd2': sq.kernel_mmd(samples, data),
        'mmd2_data_floor': sq.kernel_mmd(np.asarray(toy2d.sample(name, seed + 2, num_samples)), data),
    }
    if name == 'eight_gaussians':  # centres R (cos, sin)(2 pi k / 8), R = 2 sqrt 2, std sqrt 2 / 4
        angles = 2 * np.pi * np.arange(8) / 8
        centres = 2 * math.sqrt(2) * np.stack([np.cos(angles), np.sin(angles)], -1)
        result.update(sq.mixture_mode_coverage(samples, centres, math.sqrt(2) / 4))
    return {**result, 'true': true_density(name, points), 'learned': learned, 'samples': samples}


def figure(results: list[dict], path: str) -> str:
    fig, axes = plt.subplots(len(results), 3, figsize=(9, 3 * len(results)), squeeze=False)
    extent = (-BOX, BOX, -BOX, BOX)
    for row, r in zip(axes, results):
        row[0].imshow(r['true'], origin='lower', extent=extent, cmap='viridis')
        row[1].imshow(r['learned'], origin='lower', extent=extent, cmap='viridis')
        row[2].scatter(r['samples'][:, 0], r['samples'][:, 1], s=1, alpha=0.5)
        row[2].set_xlim(-BOX, BOX)
        row[2].set_ylim(-BOX, BOX)
        row[2].set_aspect('equal')
        row[0].set_ylabel(r['density'])
        for ax, title in zip(row, ('true density', 'learned exp(-U)', f'Langevin samples (MMD^2 {r["mmd2"]:.3f})')):
            ax.set_title(title, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument('--out', default='workdirs/ebm-2d')
    parser.add_argument('--densities', default=','.join(DENSITIES))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-samples', type=int, default=2000, help='Langevin chains for the picture and MMD')
    parser.add_argument('--sample-steps', type=int, default=500, help='steps of each of those chains')
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    try:
        results = [
            fit_one(name, args.steps, args.seed, args.out, args.num_samples, args.sample_steps)
            for name in args.densities.split(',')
        ]
    except KeyboardInterrupt:  # Ctrl-C: the loop saved a checkpoint and said how to resume; no traceback below that
        sys.exit(130)
    path = figure(results, os.path.join(args.out, 'ebm_2d.png'))
    summary = [{k: v for k, v in r.items() if k not in ('true', 'learned', 'samples')} for r in results]
    with open(os.path.join(args.out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    for s in summary:
        print(' | '.join(f'{k} {v:.4f}' if isinstance(v, float) else f'{k} {v}' for k, v in s.items()))
    print(f'picture: {path}')
    return summary


if __name__ == '__main__':
    main()
