"""f-GANs with every divergence of the table on a 2-D mixture of Gaussians: make fgan-2d

    python -m experiments.fgan_2d [--steps 3000] [--out workdirs/fgan-2d] [--divergences kl,js]

Data: 8 Gaussians of standard deviation 0.1 on a circle of radius 2 (the mode-collapse
benchmark of Metz et al. 2017, wider modes).  Each divergence trains the same MLP pair
(``GANTask(net='mlp')``, driven here by the task's own train step in a jitted scan, no
checkpoints).  Writes ``<divergence>.png`` (real vs generated points) and
``summary.json``: for each divergence the critic's variational bound at the end (the
estimated divergence, on 20k fresh samples), and the modes covered
(``zoo.sample_quality.mixture_mode_coverage``).
"""

import argparse
import json
import os
import time
import types

import jax
import jax.numpy as jnp
import numpy as np

from zoo import sample_quality as sq
from zoo.gan import divergences
from zoo.gan.plots import scatter_figure
from zoo.gan.task import GANTask
from zoo.train import Config, OptimizerConfig
from zoo.train.step import train_step

POINTS = types.SimpleNamespace(name='gaussian_ring', image_shape=(2,), num_levels=None)
MODES, RADIUS, STD = 8, 2.0, 0.1


def ring_centres(modes: int = MODES, radius: float = RADIUS) -> jnp.ndarray:
    angles = 2.0 * jnp.pi * jnp.arange(modes) / modes
    return radius * jnp.stack([jnp.cos(angles), jnp.sin(angles)], -1)


def gaussian_ring(key, n: int, modes: int = MODES, radius: float = RADIUS, std: float = STD):
    """n points from the equal mixture of N(c_k, std^2 I), c_k on a circle."""
    k_mode, k_noise = jax.random.split(key)
    centres = ring_centres(modes, radius)
    return centres[jax.random.randint(k_mode, (n,), 0, modes)] + std * jax.random.normal(k_noise, (n, 2))


def make_task(divergence: str, hidden: int = 128, depth: int = 3, lr: float = 1e-3,
              critic_steps: int = 1) -> GANTask:
    config = Config(model=dict(generator=dict(hidden=hidden, depth=depth), critic=dict(hidden=hidden, depth=depth)),
                    optimizer=OptimizerConfig(lr=lr, b1=0.5, b2=0.999, warmup_steps=0))
    return GANTask(POINTS, config, loss='fgan', divergence=divergence, net='mlp', latent_dim=8,
                   critic_steps=critic_steps)


def train_one(divergence: str, steps: int, batch_size: int, seed: int, chunk: int = 500, **task_kwargs):
    """The trained state and its task; steps run in jitted scans of ``chunk`` steps."""
    task = make_task(divergence, **task_kwargs)
    key = jax.random.key(seed)
    state = task.init(key, {'image': gaussian_ring(key, batch_size)})

    @jax.jit
    def run(state, keys):
        body = lambda state, k: train_step(task, state, {'image': gaussian_ring(k, batch_size)})
        return jax.lax.scan(body, state, keys)

    for start in range(0, steps, chunk):
        keys = jax.random.split(jax.random.fold_in(key, start), min(chunk, steps - start))
        state, metrics = run(state, keys)
    return task, state, jax.tree.map(lambda m: float(m[-1]), metrics)


def estimated_divergence(task, state, key, n: int = 20_000) -> float:
    """E_P[g_f(V)] - E_Q[f*(g_f(V))] with the final critic, on fresh data and generator samples."""
    k_data, k_fake = jax.random.split(key)
    real = gaussian_ring(k_data, n)
    fake = task.generate(state.params['generator'], task.latents(k_fake, n))
    score = lambda x: task.score(state.params['critic'], state.aux['critic'], x)[0]
    return float(divergences.variational_bound_from_logits(task.divergence, score(real), score(fake)))


def run_all(names, steps: int, batch_size: int, out: str, seed: int = 0, **task_kwargs) -> dict:
    os.makedirs(out, exist_ok=True)
    summary = {}
    for name in names:
        start = time.time()
        task, state, last = train_one(name, steps, batch_size, seed, **task_kwargs)
        key = jax.random.key(seed + 1)
        samples = task.sample(state, key, 2000)
        finite = bool(np.all(np.isfinite(samples)))
        coverage = sq.mixture_mode_coverage(samples, ring_centres(), STD) if finite else {}
        summary[name] = {'estimated_divergence': estimated_divergence(task, state, key) if finite else None,
                         **coverage, 'final_metrics': last, 'seconds': round(time.time() - start, 1)}
        fig = scatter_figure(samples, gaussian_ring(key, 2000), bounds=(-3, 3),
                             title=f"{name}: {coverage.get('modes_covered', 0)}/{MODES} modes")
        fig.savefig(os.path.join(out, f'{name}.png'))
        print(f"{name:18s} bound {summary[name]['estimated_divergence']} | modes {coverage.get('modes_covered')}/{MODES}"
              f" | high quality {coverage.get('high_quality')} | {summary[name]['seconds']} s", flush=True)
    with open(os.path.join(out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--out', default='workdirs/fgan-2d')
    parser.add_argument('--divergences', default=','.join(divergences.DIVERGENCES),
                        help='comma-separated rows of zoo.gan.divergences')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--critic-steps', type=int, default=1)
    args = parser.parse_args(argv)
    run_all(args.divergences.split(','), args.steps, args.batch_size, args.out, args.seed, lr=args.lr,
            critic_steps=args.critic_steps)


if __name__ == '__main__':
    main()
