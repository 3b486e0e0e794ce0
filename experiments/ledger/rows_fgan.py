"""f-GAN ledger rows, one per divergence of the table: the 1-D fit with an exact answer and the 2-D ring.

1-D (``fgan_1d/<divergence>``): ``experiments.fgan_1d``, a Gaussian fitted to a two-Gaussian
mixture, as Nowozin, Cseke & Tomioka 2016 do in sec. 4.1; the metric is the larger of the
errors in mean and standard deviation against the exact minimiser of D_f(P || Q) (quadrature
and Nelder-Mead), target 0.05.

2-D (``fgan_2d/<divergence>``):

Protocol: ``experiments.fgan_2d`` (MLP generator and critic, batch 256, Adam), trained
for ``STEPS`` steps per seed; the bound is the variational estimate of a critic fitted
afresh to the final generator, on held-out samples (``fgan_2d.fresh_critic_bound``; the
training critic's own is shown beside it), the modes those of
``zoo.sample_quality.mixture_mode_coverage`` on 2000 samples.  Reference: Nowozin, Cseke &
Tomioka 2016 train every row of their Table 1 (sec. 4); mode coverage on the ring is the
benchmark of Metz et al. 2017, sec. 3.1.
"""

import functools

from experiments import fgan_1d, fgan_2d
from experiments.ledger.row import Row
from zoo.gan import divergences

STEPS = 2000
STEPS_1D = 6000


def measure_2d(name: str, seed: int) -> dict:
    summary, _ = fgan_2d.fit_one(name, STEPS, 256, seed)
    if summary.get('estimated_divergence') is None:  # training went non-finite
        return {'modes_covered': 0.0, 'bound': float('nan'), 'steps': STEPS}
    return {
        'modes_covered': summary['modes_covered'],
        'high_quality': summary['high_quality'],
        'bound': summary['estimated_divergence'],
        'training_critic_bound': summary['training_critic_bound'],
        'steps': STEPS,
    }


ROWS = [
    Row(
        name=f'fgan_1d/{name}',
        model=f'f-GAN, {name}, Gaussian fit',
        reference='fit matches the divergence minimiser',
        source='Nowozin et al. 2016, sec. 4.1',
        protocol=f'P = 0.3 N(-1, 0.5^2) + 0.7 N(1, 0.5^2), Q = N(mu, sigma^2), {STEPS_1D} steps, batch 2048, '
        'MLP critic 2x64, saturating generator, Adam 2e-3 (critic) and 1e-2 (generator)'
        + (f', critic penalty {fgan_1d.CRITIC_PENALTY[name]:g} E[V^2]' if name in fgan_1d.CRITIC_PENALTY else '')
        + '; mean of the last quarter',
        metric='error',
        measure=functools.partial(fgan_1d.measure, name, steps=STEPS_1D),
        baseline='exact minimiser (quadrature + Nelder-Mead); target error <= 0.05',
        higher_is_better=False,
        extra_metrics=('mu', 'mu_exact', 'sigma', 'sigma_exact'),
        seeds=3,
    )
    for name in divergences.DIVERGENCES
] + [
    Row(
        name=f'fgan_2d/{name}',
        model=f'f-GAN, {name}',
        reference='trains with every divergence of Table 1',
        source='Nowozin et al. 2016, sec. 4; ring: Metz et al. 2017, sec. 3.1',
        protocol=f'toy2d:eight_gaussians, fresh samples, {STEPS} steps, batch 256, MLP 3x128 (latent 8), '
        f'Adam 1e-3 (b1 0.5), saturating generator, generator output standardised at init to std '
        f'{fgan_2d.OUTPUT_STD:g}, '
        f'{fgan_2d.critic_steps_for(name)} critic step(s) per generator step'
        + (
            f', generator gradient clipped to norm {fgan_2d.generator_clip_for(name):g}'
            if fgan_2d.generator_clip_for(name)
            else ''
        )
        + (f', critic penalty {fgan_2d.critic_penalty_for(name):g} E[V^2]' if fgan_2d.critic_penalty_for(name) else '')
        + '; bound: a fresh critic fitted 1000 steps '
        'to the final generator, on 20k held-out samples of each',
        metric='modes_covered',
        measure=functools.partial(measure_2d, name),
        baseline='8 modes; bound floor ' + ('-log 4' if name == 'gan' else '0'),
        extra_metrics=('bound', 'training_critic_bound', 'high_quality'),
        seeds=3,
    )
    for name in divergences.DIVERGENCES
]
