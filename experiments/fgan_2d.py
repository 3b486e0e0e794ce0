"""f-GANs with every divergence of the table on a 2-D mixture of Gaussians: make fgan-2d

    python -m experiments.fgan_2d [--steps 2000] [--out workdirs/fgan-2d] [--divergences kl,js]

Data: eight Gaussians on a circle (``zoo.data.toy2d``, fresh samples each step), the
mode-collapse benchmark of Metz et al. 2017 ("Unrolled Generative Adversarial Networks",
sec. 3.1).  Each divergence trains the same MLP pair (``fgan`` with ``net='mlp'``, the
minimax 'saturating' generator objective), the task's own step compiled into one scan
(``train_scan``; ``config`` is the same run for ``python -m experiments.train``).  Writes
``<out>/<divergence>.png`` (held-out vs generated points), ``<out>/all.png`` (all of them
side by side) and ``<out>/summary.json``: for each divergence the variational bound of a
critic fitted afresh to the final generator on held-out samples (``estimated_divergence``),
the training critic's bound, and the modes covered (``zoo.sample_quality.mixture_mode_coverage``).

The protocol's departures from a plain f-GAN, each for a cause (RESULTS.md, f-GAN on
the ring): the generator's output is standardised at initialisation (``OUTPUT_STD``), so
that its first samples are centred on the ring and spread over it, since the minimax
generator's gradient (p/q) grad T vanishes where p ~ 0; and, for the rows whose f* grows
fastest, three critic updates per generator update (Jeffrey, ``critic_steps_for``) and the
generator's gradient clipped (Pearson and Jeffrey, ``generator_clip_for``); and total
variation's critic penalised on V^2 (``critic_penalty_for``), whose tanh otherwise saturates.
"""

import argparse
import json
import math
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from matplotlib import image as mpimg

from experiments import fgan_1d
from zoo import sample_quality as sq
from zoo.data import toy2d
from zoo.data.sources import DatasetInfo
from zoo.gan import divergences, losses
from zoo.gan.plots import figure_to_array, scatter_figure
from zoo.tasks import build_task
from zoo.train import Config, OptimizerConfig, train_step

DENSITY = 'eight_gaussians'
DATASET = f'toy2d:{DENSITY}'
# The protocol (RESULTS.md, f-GAN on the ring, says why each was chosen): the generator's first
# samples spread over the ring, and three critic updates per generator update.
OUTPUT_STD = 2.0
CRITIC_STEPS = 1
# Jeffrey's critic gradient went non-finite with one critic step (seed 0, step 1185; likely cause:
# f* = W + 1/W + t - 2 grows as e^t and overflows float32 past t ~ 89); three steps kept it finite.
CRITIC_STEPS_BY_DIVERGENCE = {'jeffrey': 3}


# Pearson's and Jeffrey's f*' grows with T (T/2 + 1; 1/W ~ e^(T-1)): a few samples where the critic is
# large dominate the generator's gradient, and one spike inflates Adam's second moment.  One seed in
# three ran off (Pearson, seed 2) or went non-finite (Jeffrey, seed 0) until the generator's gradient
# was clipped to norm 1.
GENERATOR_CLIP_BY_DIVERGENCE = {'pearson': 1.0, 'jeffrey': 1.0}


def critic_penalty_for(divergence: str) -> float:
    """The protocol's penalty on the critic's V^2 for ``divergence`` (0: none); total variation's
    is the 1-D check's (``experiments.fgan_1d.CRITIC_PENALTY``, which says why)."""
    return fgan_1d.CRITIC_PENALTY.get(divergence, 0.0)


def critic_steps_for(divergence: str) -> int:
    """The protocol's critic updates per generator update for ``divergence``."""
    return CRITIC_STEPS_BY_DIVERGENCE.get(divergence, CRITIC_STEPS)


def generator_clip_for(divergence: str) -> float:
    """The protocol's clip on the generator's gradient norm for ``divergence`` (0: none)."""
    return GENERATOR_CLIP_BY_DIVERGENCE.get(divergence, 0.0)


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
    critic_steps: int | None = None,
    generator_objective: str = 'saturating',
    lipschitz: str = 'none',
    output_std: float | None = OUTPUT_STD,
    generator_clip: float | None = None,
    critic_penalty: float | None = None,
) -> Config:
    """An f-GAN of two MLPs on the eight Gaussians; evaluated at the end only, no sample sheets."""
    clip = generator_clip_for(divergence) if generator_clip is None else generator_clip
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
        model={
            'generator': {'hidden': hidden, 'depth': depth, 'output_std': output_std},
            'critic': {'hidden': hidden, 'depth': depth},
        },
        task_kwargs={
            'net': 'mlp',
            'latent_dim': 8,
            'divergence': divergence,
            'critic_steps': critic_steps_for(divergence) if critic_steps is None else critic_steps,
            'generator_objective': generator_objective,
            'lipschitz': lipschitz,
            'critic_penalty': critic_penalty_for(divergence) if critic_penalty is None else critic_penalty,
        },
        optimizer=OptimizerConfig(lr=lr, b1=0.5, b2=0.999, warmup_steps=0),
        optimizers={'generator': {'clip_grad_norm': clip}} if clip else {},
    )


def fresh_critic_bound(task, state, seed: int, steps: int = 1000, batch_size: int = 512, n_test: int = 20_000):
    """E_P[g_f(V)] - E_Q[f*(g_f(V))] of a new critic fitted to the frozen final generator, on held-out samples.

    The critic (the task's architecture, new weights) maximises the bound (Nowozin et al.
    2016, eq. 4) for ``steps`` Adam steps (cosine-decayed learning rate) on fresh samples of
    P (``zoo.data.toy2d``) and of Q; the bound is then averaged over ``n_test`` further
    samples of each, drawn apart from the fit, so it estimates a lower bound of D_f(P || Q)
    without the fit's optimism.  The training critic's own value is no such estimate: the
    generator's last step moved the samples to where f*(T) is largest, which lowers
    E_P[T] - E_Q[f*(T)] by construction, below zero for the unbounded f* of KL and Pearson.
    """
    row, generator = task.game.row, state.averaged('generator')
    init_key, fit_key, real_key, fake_key = jax.random.split(jax.random.fold_in(jax.random.key(seed), 7), 4)
    variables = dict(task.critic.init(init_key, jnp.zeros((1, 2))))
    params = variables.pop('params')
    optimizer = optax.adam(optax.cosine_decay_schedule(1e-3, steps), b1=0.5)  # decays: no last-step overshoot

    def outputs(params, x_real, z):
        both = jnp.concatenate([x_real, task.generate(generator, z)])
        return jnp.split(task.criticize(params, variables, both)[0], 2)

    def step(carry, key):
        params, opt_state = carry
        real_key, z_key = jax.random.split(key)
        x_real, z = toy2d.sample(DENSITY, real_key, batch_size), task.latents(z_key, batch_size)
        grads = jax.grad(lambda p: losses.fgan_critic_loss(row, *outputs(p, x_real, z)))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), None

    @jax.jit
    def fit_and_score(params):
        (params, _), _ = jax.lax.scan(step, (params, optimizer.init(params)), jax.random.split(fit_key, steps))
        real, fake = outputs(params, toy2d.sample(DENSITY, real_key, n_test), task.latents(fake_key, n_test))
        return divergences.variational_bound_from_logits(row, real, fake)

    return float(fit_and_score(params))


def train_scan(task, seed: int, steps: int, batch_size: int):
    """The task's own ``train_step`` (``zoo.train.step.train_step``: the loop's step key and count)
    ``steps`` times in one compiled ``lax.scan``, on fresh samples of P each step.

    A 2-D step computes for about a millisecond; the shared loop's host work per step (data
    pipeline, metric windows, progress) is some 40 times that.  Returns the final state and
    the per-step metrics, (steps,) each.
    """
    init_key, data_key = jax.random.split(jax.random.key(seed))
    state = jax.jit(task.init)(init_key, {'point': toy2d.sample(DENSITY, init_key, batch_size)})

    def body(state, key):
        return train_step(task, state, {'point': toy2d.sample(DENSITY, key, batch_size)})

    run = jax.jit(lambda state: jax.lax.scan(body, state, jax.random.split(data_key, steps)))
    return run(state)


def fit_one(name: str, steps: int, batch_size: int, seed: int = 0, fresh_critic_steps: int = 1000, **settings):
    """Train one divergence's f-GAN; returns (summary, 2000 samples, or None if training went non-finite).

    The summary holds ``estimated_divergence``, the bound of a critic fitted afresh to the
    final generator on held-out samples (``fresh_critic_bound``), ``training_critic_bound``,
    the training critic's bound on the test split, the modes covered and the seconds
    (training, then the fresh critic), or the one-line ``error`` of a run gone non-finite.
    """
    cfg = config(name, steps, batch_size, seed, **settings)
    task = build_task(cfg, DatasetInfo(DATASET, point_dim=2))
    start = time.time()
    state, metrics = train_scan(task, seed, steps, batch_size)
    bad = {k: np.flatnonzero(~np.isfinite(np.asarray(v))) for k, v in metrics.items()}
    bad = {k: int(v[0]) for k, v in bad.items() if v.size}
    if bad:
        first = min(bad, key=bad.get)
        return {'estimated_divergence': None, 'error': f'{first} non-finite from step {bad[first]}'}, None
    seconds = time.time() - start
    samples = np.asarray(task.sample(state, jax.random.key(seed + 1), 2000))
    centres, std = mode_centres()
    coverage = sq.mixture_mode_coverage(samples, centres, std) if np.all(np.isfinite(samples)) else {}
    test = {'point': toy2d.sample(DENSITY, jax.random.fold_in(jax.random.key(seed), 3), 2000)}
    training_bound = jnp.mean(jax.jit(task.eval_step)(state, test, jax.random.key(seed + 2))['divergence_bound'])
    start = time.time()
    summary = {
        'estimated_divergence': fresh_critic_bound(task, state, seed, fresh_critic_steps),
        'training_critic_bound': float(training_bound),
        **coverage,
        'seconds': round(seconds, 1),
        'fresh_critic_seconds': round(time.time() - start, 1),
    }
    return summary, samples


def run_all(names, steps: int, batch_size: int, out: str, seed: int = 0, **settings) -> dict:
    """Train an f-GAN per divergence in ``names``; the summary per divergence (also in summary.json)."""
    os.makedirs(out, exist_ok=True)
    held_out = toy2d.sample('eight_gaussians', seed + 1, 2000)
    summary, panels = {}, []
    for name in names:
        summary[name], samples = fit_one(name, steps, batch_size, seed, **settings)
        if samples is None:  # recorded, and the other divergences still run
            fig = scatter_figure(np.zeros((0, 2)), held_out, bounds=(-4, 4), title=f'{name}: diverged')
            fig.savefig(os.path.join(out, f'{name}.png'))
            panels.append(figure_to_array(fig))
            print(f'{name:18s} diverged: {summary[name]["error"]}', flush=True)
            continue
        coverage = summary[name]
        title = f'{name}: {coverage.get("modes_covered", 0)}/8 modes, bound {coverage["estimated_divergence"]:.3g}'
        fig = scatter_figure(samples, held_out, bounds=(-4, 4), title=title)
        fig.savefig(os.path.join(out, f'{name}.png'))
        panels.append(figure_to_array(fig))
        print(
            f'{name:18s} bound {summary[name]["estimated_divergence"]:.4f} '
            f'(training critic {summary[name]["training_critic_bound"]:.4f}) | modes '
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
    parser.add_argument('--critic-steps', type=int, default=None, help='default: critic_steps_for(divergence)')
    parser.add_argument('--output-std', type=float, default=OUTPUT_STD, help="the generator's first samples' spread")
    parser.add_argument('--generator-objective', default='saturating', choices=('saturating', 'non_saturating'))
    parser.add_argument('--fresh-critic-steps', type=int, default=1000)
    args = parser.parse_args(argv)
    try:
        run_all(
            args.divergences.split(','),
            args.steps,
            args.batch_size,
            args.out,
            args.seed,
            fresh_critic_steps=args.fresh_critic_steps,
            lr=args.lr,
            critic_steps=args.critic_steps,
            output_std=args.output_std,
            generator_objective=args.generator_objective,
        )
    except KeyboardInterrupt:
        print('interrupted; nothing is saved until every divergence has run (--divergences runs a subset)', flush=True)
        # Nothing to save, so skip the interpreter's teardown: after a Ctrl-C during an XLA
        # compile it crashed once (segmentation fault) under `make fgan-2d`.
        os._exit(130)
    print(f'pictures: {os.path.join(args.out, "all.png")} (one per divergence beside it); numbers: summary.json there')


if __name__ == '__main__':
    main()
