"""Residual-flow log-det estimators against dimension: time and memory of one training gradient.

    python -m experiments.bench_estimators [--dims 2,16,64,256] [--batch 64] [--out bench_results]

For each dimension D, one residual MLP block y = x + g(x) on (batch, D) (hidden 128,
c = 0.9) and each estimator, the jitted gradient of the mean log-det with respect to
g's parameters is timed (median of ``repeats`` after warm-up) and XLA's memory
analysis of the compiled gradient is reported (temporaries: what backprop keeps).

    exact              slogdet of the dense D x D Jacobian (D forward-mode passes)
    series             5-term power series + Hutchinson, backprop through the series
    series+neumann     the same value, Neumann-series gradient
    roulette+backprop  Russian roulette (n_exact 2, p 0.5, cap 30), backprop through it
    roulette+neumann   Residual Flows' estimator with its Neumann gradient

``experiments.bench`` calls ``bench_estimators`` for its residual section.
"""

import argparse
import json
import os
import statistics
import time

import jax
import jax.numpy as jnp

from zoo.residual.block import ResidualBlock

ESTIMATORS = {
    'exact': dict(logdet='exact'),
    'series': dict(logdet='series', num_terms=5, gradient='backprop'),
    'series+neumann': dict(logdet='series', num_terms=5, gradient='neumann'),
    'roulette+backprop': dict(logdet='roulette', gradient='backprop'),
    'roulette+neumann': dict(logdet='roulette', gradient='neumann'),
}


def _gradient_fn(block, variables, x):
    params, other = variables['params'], {k: v for k, v in variables.items() if k != 'params'}

    def loss(p, key):
        (_, log_det), _ = block.apply({'params': p, **other}, x, rngs={'logdet': key}, mutable=['spectral'])
        return -jnp.mean(log_det)

    return jax.jit(jax.grad(loss)), params


def bench_one(dim: int, estimator: str, batch: int, hidden: int, repeats: int, warmup: int, seed: int = 0):
    """Compile time, step time (median/min/max s) and XLA temporaries (bytes) of one estimator at one D."""
    block = ResidualBlock(hidden=(hidden, hidden), coeff=0.9, activation='lipswish', **ESTIMATORS[estimator])
    x = jax.random.normal(jax.random.key(seed), (batch, dim))
    variables = block.init(jax.random.key(seed + 1), x)
    grad_fn, params = _gradient_fn(block, variables, x)
    key = jax.random.key(seed + 2)
    start = time.perf_counter()
    compiled = grad_fn.lower(params, key).compile()
    compile_s = time.perf_counter() - start
    memory = compiled.memory_analysis()
    run = lambda i: jax.block_until_ready(compiled(params, jax.random.fold_in(key, i)))
    for i in range(warmup):
        run(i)
    times = []
    for i in range(repeats):  # the roulette's cost varies with N: time over different keys
        start = time.perf_counter()
        run(warmup + i)
        times.append(time.perf_counter() - start)
    return dict(
        dim=dim,
        estimator=estimator,
        compile_s=compile_s,
        step_s=dict(median=statistics.median(times), min=min(times), max=max(times), n=repeats),
        temp_bytes=None if memory is None else memory.temp_size_in_bytes,
    )


def bench_estimators(
    dims=(2, 16, 64, 256),
    estimators=tuple(ESTIMATORS),
    batch: int = 64,
    hidden: int = 128,
    repeats: int = 10,
    warmup: int = 2,
    max_exact_dim: int = 256,
) -> list:
    """One row per (dimension, estimator); the exact log-det is skipped above ``max_exact_dim``."""
    return [
        bench_one(d, e, batch, hidden, repeats, warmup)
        for d in dims
        for e in estimators
        if not (e == 'exact' and d > max_exact_dim)
    ]


def table(rows) -> str:
    lines = [
        '## Residual-flow log-det estimators (gradient of the mean log-det, one MLP block)',
        '',
        '| D | estimator | compile | step (median [min-max]) | XLA temporaries |',
        '|---|---|---|---|---|',
    ]
    for r in rows:
        t = r['step_s']
        mem = '-' if r['temp_bytes'] is None else f'{r["temp_bytes"] / 2**20:.2f} MiB'
        lines.append(
            f'| {r["dim"]} | {r["estimator"]} | {r["compile_s"]:.2f} s | {1e3 * t["median"]:.2f} ms '
            f'[{1e3 * t["min"]:.2f}-{1e3 * t["max"]:.2f}] | {mem} |'
        )
    return '\n'.join(lines) + '\n'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--dims', default='2,16,64,256')
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--repeats', type=int, default=10)
    p.add_argument('--out', default='bench_results')
    a = p.parse_args(argv)
    rows = bench_estimators(tuple(int(d) for d in a.dims.split(',')), batch=a.batch, repeats=a.repeats)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, 'bench_estimators.json'), 'w') as f:
        json.dump(dict(backend=jax.default_backend(), device=str(jax.devices()[0].device_kind), rows=rows), f, indent=1)
    text = table(rows)
    with open(os.path.join(a.out, 'bench_estimators.md'), 'w') as f:
        f.write(text)
    print(text)


if __name__ == '__main__':
    main()
