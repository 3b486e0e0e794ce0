"""Residual flow vs coupling flow on the 2-D toy densities (Behrmann et al. 2019, fig. 1;
Chen et al. 2019, fig. 4): test log-likelihood in nats of ``experiments.toy_densities``'s
i-ResNet, beside its coupling flow of about equal parameter count, trained for the same steps."""

import functools

import jax

from experiments import toy_densities
from experiments.ledger.row import Row

PROTOCOL = (
    f'i-ResNet {toy_densities.IRESNET}, {toy_densities.STEPS["i-ResNet"]} steps; '
    f'coupling flow {toy_densities.COUPLING}, {toy_densities.STEPS["coupling flow"]} steps; '
    'seconds: the compiled training run alone'
)


def measure(density: str, seed: int) -> dict:
    out = {}
    for name, model in toy_densities.models().items():
        steps = toy_densities.STEPS[name]
        variables, seconds = toy_densities.fit(model, density, steps, 500, 2e-3, seed)
        key = 'iresnet' if name == 'i-ResNet' else 'coupling'
        out[f'{key}_ll'] = toy_densities.test_log_likelihood(model, variables, density, seed)
        out[f'{key}_seconds'] = seconds
        out[f'{key}_params'] = sum(p.size for p in jax.tree.leaves(variables['params']))
    out['steps'] = toy_densities.STEPS['i-ResNet']
    return out


ROWS = [
    Row(
        name=f'toy_densities/{density}',
        model='i-ResNet (exact 2-D log-det)',
        reference='residual flow ahead of Glow on the toy densities',
        source='Behrmann et al. 2019, fig. 1; Chen et al. 2019, fig. 4',
        protocol=f'toy2d:{density}, fresh samples, batch 500, Adam 2e-3 cosine; {PROTOCOL}; test 20k samples',
        metric='iresnet_ll',
        measure=functools.partial(measure, density),
        baseline='coupling flow, same size and steps (training seconds beside: not equal)',
        baseline_metric='coupling_ll',
        extra_metrics=('iresnet_seconds', 'coupling_seconds', 'iresnet_params', 'coupling_params'),
        seeds=3,
    )
    for density in toy_densities.DENSITIES
]
