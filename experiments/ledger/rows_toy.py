"""Residual flow vs coupling flow on the 2-D toy densities (Behrmann et al. 2019, fig. 1;
Chen et al. 2019, fig. 4): test log-likelihood in nats of ``experiments.toy_densities``'s
i-ResNet, beside its coupling flow of about equal parameter count and training steps."""

import functools

from experiments import toy_densities
from experiments.ledger.row import Row

STEPS = 1500


def measure(density: str, seed: int) -> dict:
    out = {}
    for name, model in toy_densities.models().items():
        variables, seconds = toy_densities.fit(model, density, STEPS, 500, 2e-3, seed)
        key = 'iresnet' if name == 'i-ResNet' else 'coupling'
        out[f'{key}_ll'] = toy_densities.test_log_likelihood(model, variables, density, seed)
        out[f'{key}_seconds'] = seconds
    out['steps'] = STEPS
    return out


ROWS = [
    Row(
        name=f'toy_densities/{density}',
        model='i-ResNet (exact 2-D log-det)',
        reference='residual flow ahead of Glow on the toy densities',
        source='Behrmann et al. 2019, fig. 1; Chen et al. 2019, fig. 4',
        protocol=f'toy2d:{density}, fresh samples, {STEPS} steps, batch 500, Adam 2e-3 cosine; test 20k samples',
        metric='iresnet_ll',
        measure=functools.partial(measure, density),
        baseline='coupling flow, same size and steps',
        baseline_metric='coupling_ll',
        extra_metrics=('iresnet_seconds', 'coupling_seconds'),
        seeds=3,
    )
    for density in toy_densities.DENSITIES
]
