"""Glow training and inference benchmark: ``python -m experiments.bench`` (``make bench``).

    python -m experiments.bench [--size digits|mnist32|cifar10] [--batch N] [--out bench_results]
                                [--repeats N] [--depths 8,16,32] [--peak-tflops T]

Writes ``<out>/bench_<size>.json`` and ``<out>/bench_<size>.md`` and prints the table:

1. the size's model: train-step compile time, step time and images/s, peak memory,
   achieved model TFLOP/s, sampling and evaluation throughput;
2. compile time, memory and step time against depth K for scan + autodiff,
   scan + invertible backprop (Gomez et al. 2017) and unrolled + autodiff;
3. bfloat16 coupling networks against float32: step time and bits/dim drift;
4. the 1x1 conv variants (full, LU, shuffle, reverse): step time;
5. the residual-flow log-det estimators (exact, power series, Russian roulette; backprop
   or Neumann gradient) against dimension: time and XLA memory of one gradient;
6. the coupling networks' convolutions: XLA's own against matrix products of shifted
   copies (``conv_impl``; 'auto' picks the latter on CPU);
7. (``--sections profile``, not run by default) where the train step's time goes, by
   part of the model and direction (``experiments.bench_profile``).

Every time is the median over ``repeats`` runs after warm-up, with min and max; compile
time is one ``jit(...).lower(...).compile()``.  Peak memory is the device's own
``peak_bytes_in_use`` where the backend reports it (GPU; the headline model runs first,
so the process peak is its own), and otherwise, and always for the depth curves, XLA's
compiled memory analysis of the step: arguments + outputs - aliased (donated) + temporaries.
The train step is the training loop's own (``zoo.train.make_train_step``, Adam, donated
state), on a one-batch stream so that data loading is not timed.
"""

import argparse
import dataclasses
import json
import os
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from experiments.configs import glow as glow_configs
from zoo import images
from zoo.flows import Glow
from zoo.flows.task import FlowTask
from zoo.train import Config, OptimizerConfig, TrainState
from zoo.train import mesh as mesh_lib
from zoo.train.step import make_train_step

# The digits size is a small model on the embedded digits (L=2, K=4, hidden 64, LU);
# mnist32 is experiments/configs/glow.py `mnist32`, the normflows-parity model (L=3, K=8, hidden 64).
SIZES = {
    'digits': dict(
        image_shape=(8, 8, 1),
        num_levels=17,
        batch=64,
        repeats=5,
        warmup=2,
        model=dict(scales=2, flow_steps=4, hidden=64, coupling='affine', permutation='lu'),
    ),
    'mnist32': dict(
        image_shape=(32, 32, 1), num_levels=256, batch=64, repeats=20, warmup=3, model=glow_configs.mnist32().model
    ),
    'cifar10': dict(
        image_shape=(32, 32, 3),
        num_levels=256,
        batch=64,
        repeats=20,
        warmup=3,
        model=dict(scales=3, flow_steps=32, hidden=512, coupling='affine', permutation='conv1x1'),
    ),
}
VARIANTS = {  # name -> Glow options, for the depth curves
    'scan+autodiff': dict(scan=True, backprop='autodiff'),
    'scan+invertible': dict(scan=True, backprop='invertible'),
    'unrolled+autodiff': dict(scan=False, backprop='autodiff'),
}
PERMUTATIONS = ('conv1x1', 'lu', 'shuffle', 'reverse')
CONV_IMPLS = ('xla', 'matmul')
SECTIONS = ('model', 'depth', 'bf16', 'conv1x1', 'residual', 'conv_impl')
ALL_SECTIONS = SECTIONS + ('profile',)


@dataclasses.dataclass
class Settings:
    size: str = 'digits'
    batch: int | None = None  # None: the size's default
    repeats: int | None = None  # timed runs per figure (None: the size's default)
    warmup: int | None = None
    depths: tuple = (8, 16, 32)
    variants: tuple = tuple(VARIANTS)
    permutations: tuple = PERMUTATIONS
    conv_impls: tuple = CONV_IMPLS
    sections: tuple = SECTIONS
    model: dict = dataclasses.field(default_factory=dict)  # overrides of the size's model kwargs
    peak_tflops: float | None = None  # the device's bf16 peak, for the achieved fraction
    estimator_dims: tuple = (2, 16, 64, 256)  # dimensions for the residual-flow estimator section
    seed: int = 0

    def resolved(self):
        size = SIZES[self.size]
        return dataclasses.replace(
            self,
            batch=self.batch or size['batch'],
            repeats=self.repeats or size['repeats'],
            warmup=self.warmup if self.warmup is not None else size['warmup'],
            model={**size['model'], **self.model},
        )


def make_glow(settings, **options):
    size = SIZES[settings.size]
    return Glow(image_shape=size['image_shape'], num_levels=size['num_levels'], **{**settings.model, **options})


def batch_of_pixels(settings):
    """Real digits for the digits size (so bits/dim mean something); random pixels otherwise."""
    size = SIZES[settings.size]
    if settings.size == 'digits':
        from zoo.data import digits_images

        pixels = digits_images('train')
        pixels = np.resize(pixels, (settings.batch, *pixels.shape[1:]))  # repeats if batch > 1497
        return jnp.asarray(pixels, jnp.int32)
    return jax.random.randint(jax.random.key(1), (settings.batch, *size['image_shape']), 0, size['num_levels'])


def timed(fn, repeats, warmup):
    """Median, min and max seconds of ``fn()`` (which must block) over ``repeats`` runs after warm-up."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return dict(median=statistics.median(times), min=min(times), max=max(times), n=repeats)


def xla_memory(compiled):
    """Bytes the compiled program needs: arguments + outputs - donated aliases + temporaries."""
    m = compiled.memory_analysis()
    if m is None:
        return None
    return dict(
        total=m.argument_size_in_bytes + m.output_size_in_bytes - m.alias_size_in_bytes + m.temp_size_in_bytes,
        temp=m.temp_size_in_bytes,
        arguments=m.argument_size_in_bytes,
    )


def device_peak():
    stats = jax.devices()[0].memory_stats()
    return stats.get('peak_bytes_in_use') if stats else None


def glow_forward_flops(model, batch):
    """2 x multiply-adds of one forward pass: the coupling convs, 1x1 convs and split priors.

    Per step, at a level of H x W pixels and C channels, per pixel: conv3x3 C/2 -> hidden,
    conv1x1 hidden -> hidden, conv3x3 hidden -> C (additive: C/2), and the C x C 1x1 conv.
    Nominal counts (zero padding included, so an upper bound on tiny images).  A training
    step counts as 3 forwards (the usual model-FLOPs convention) whatever the backprop mode,
    so the achieved fraction of peak compares like with like.
    """
    h, w, c = model.image_shape
    flops = 0
    for level in range(model.scales):
        h, w, c = h // 2, w // 2, 4 * c
        out = c if model.coupling == 'affine' else c // 2
        per_pixel = 9 * (c // 2) * model.hidden + model.hidden**2 + 9 * model.hidden * out
        per_pixel += c * c if model.permutation in ('conv1x1', 'lu') else 0
        flops += 2 * h * w * per_pixel * model.flow_steps
        if level < model.scales - 1:
            flops += 2 * h * w * 9 * (c - c // 2) * 2 * (c // 2)  # the split's prior conv
            c -= c // 2
    return flops * batch


class StepTimer:
    """A model, its initialised train state and the training loop's own jitted step
    (``zoo.train``: donated state, loss = mean bits/dim), so the bench times what users run."""

    def __init__(self, model, pixels, seed=0, variables=None):
        self.model = model
        key = jax.random.PRNGKey(seed)
        if variables is None:
            variables = jax.jit(model.init)(key, images.dequantize(key, pixels, model.num_levels))
        mesh = mesh_lib.make_mesh(jax.devices()[:1])  # per-device figures
        self.task = FlowTask(None, Config(optimizer=OptimizerConfig(lr=1e-4, warmup_steps=0)), model=model)
        variables = dict(variables)
        params = variables.pop('params')
        self.state = TrainState.create(key, {'flow': params}, self.task.optimizers, aux={'flow': variables})
        self.batch = mesh_lib.shard_batch(mesh, {'image': np.asarray(pixels)})
        self.pixels = pixels
        self.step = make_train_step(self.task, mesh)

    @property
    def variables(self):
        return self.state.variables('flow')

    def compile(self):
        """Compile the train step once; returns (seconds, compiled)."""
        start = time.perf_counter()
        compiled = self.step.lower(self.state, self.batch).compile()
        self.compiled = compiled
        return time.perf_counter() - start, compiled

    def run_step(self):
        self.state, metrics = self.compiled(self.state, self.batch)
        return metrics['loss'].block_until_ready()

    def measure(self, repeats, warmup):
        compile_s, compiled = self.compile()
        step = timed(self.run_step, repeats, warmup)
        batch = self.pixels.shape[0]
        return dict(
            compile_s=compile_s, step_s=step, images_per_s=batch / step['median'], xla_memory=xla_memory(compiled)
        )


def bench_model(s):
    """Section 1: the size's model end to end."""
    pixels = batch_of_pixels(s)
    trainer = StepTimer(make_glow(s), pixels, s.seed)
    result = trainer.measure(s.repeats, s.warmup)
    result['device_peak_bytes'] = device_peak()  # before anything else runs in this process
    model, v, n = trainer.model, trainer.variables, pixels.shape[0]
    flops = 3 * glow_forward_flops(model, n)
    result['model_tflops_per_s'] = flops / result['step_s']['median'] / 1e12
    if s.peak_tflops:
        result['fraction_of_peak'] = result['model_tflops_per_s'] / s.peak_tflops

    sample = jax.jit(lambda v, key: model.apply(v, key, n, 1.0, method=model.sample))
    key = jax.random.key(2)
    t = timed(lambda: sample(v, key).block_until_ready(), s.repeats, 1)
    result['sample'] = dict(s=t, images_per_s=n / t['median'])
    evaluate = jax.jit(lambda v, pixels, key: model.apply(v, pixels, key, method=model.bits_per_dim))
    t = timed(lambda: evaluate(v, pixels, key).block_until_ready(), s.repeats, 1)
    result['eval'] = dict(s=t, images_per_s=n / t['median'])
    result['bits_per_dim'] = float(jnp.mean(evaluate(v, pixels, key)))
    result['trained_steps'] = s.warmup + s.repeats
    return result, trainer


def bench_depth(s):
    """Section 2: compile time, XLA memory and step time against depth K for each variant."""
    pixels = batch_of_pixels(s)
    rows = []
    for depth in s.depths:
        for name in s.variants:
            options = VARIANTS[name]
            trainer = StepTimer(make_glow(s, flow_steps=depth, **options), pixels, s.seed)
            r = trainer.measure(max(2, s.repeats // 2), 1)
            rows.append(dict(steps=depth, variant=name, **r))
    return rows


def bench_bf16(s, trainer32):
    """Section 3: bf16 coupling networks on the section-1 params (after its training steps)."""
    model32 = trainer32.model
    model16 = model32.clone(compute_dtype=jnp.bfloat16)
    pixels, v = trainer32.pixels, trainer32.variables
    key = jax.random.key(3)
    bpd = {}
    for name, model in (('float32', model32), ('bfloat16', model16)):
        evaluate = jax.jit(lambda v, m=model: jnp.mean(m.apply(v, pixels, key, method=m.bits_per_dim)))
        bpd[name] = float(evaluate(v))
    # Both timed back to back (each on its own copy, since the steps donate their inputs).
    timing = {
        name: StepTimer(model, pixels, s.seed, variables=jax.tree.map(jnp.copy, v)).measure(s.repeats, s.warmup)
        for name, model in (('float32', model32), ('bfloat16', model16))
    }
    return dict(bpd=bpd, bpd_drift=bpd['bfloat16'] - bpd['float32'], **timing)


def bench_conv1x1(s):
    """Section 4: step time of the 1x1 conv variants (full W, LU, fixed shuffle, reverse)."""
    pixels = batch_of_pixels(s)
    return [
        dict(permutation=p, **StepTimer(make_glow(s, permutation=p), pixels, s.seed).measure(s.repeats, s.warmup))
        for p in s.permutations
    ]


def bench_conv_impl(s):
    """Section 6: step time of the coupling networks' convolution implementations."""
    pixels = batch_of_pixels(s)
    return [
        dict(conv_impl=c, **StepTimer(make_glow(s, conv_impl=c), pixels, s.seed).measure(s.repeats, s.warmup))
        for c in s.conv_impls
    ]


def bench_profile(s):
    """Section 7: the size's train step under jax.profiler, summed by model part."""
    from experiments.bench_profile import profile_step

    trainer = StepTimer(make_glow(s), batch_of_pixels(s), s.seed)
    _, compiled = trainer.compile()
    for _ in range(s.warmup):
        trainer.run_step()
    return profile_step(trainer.run_step, compiled.as_text(), steps=s.repeats)


def bench_residual(s):
    """Section 5: the residual-flow log-det estimators against dimension (``experiments.bench_estimators``)."""
    from experiments.bench_estimators import bench_estimators

    return dict(rows=bench_estimators(s.estimator_dims, batch=s.batch, repeats=s.repeats, warmup=s.warmup))


def run_bench(settings):
    """Run the chosen sections; returns the JSON-ready results."""
    s = settings.resolved()
    results = dict(
        settings=dataclasses.asdict(s),
        backend=jax.default_backend(),
        device=str(jax.devices()[0].device_kind),
        jax=jax.__version__,
        host=platform.node(),
        cpu_count=os.cpu_count(),
        time=time.strftime('%Y-%m-%d %H:%M:%S'),
    )
    start = time.perf_counter()
    trainer = None
    if 'model' in s.sections or 'bf16' in s.sections:
        results['model'], trainer = bench_model(s)
    if 'depth' in s.sections:
        results['depth'] = bench_depth(s)
    if 'bf16' in s.sections:
        results['bf16'] = bench_bf16(s, trainer)
    if 'conv1x1' in s.sections:
        results['conv1x1'] = bench_conv1x1(s)
    if 'residual' in s.sections:
        results['residual'] = bench_residual(s)
    if 'conv_impl' in s.sections:
        results['conv_impl'] = bench_conv_impl(s)
    if 'profile' in s.sections:
        results['profile'] = bench_profile(s)
    results['total_s'] = time.perf_counter() - start
    return results


# ---- the readable table -------------------------------------------------------------


def _ms(t):
    return f'{1e3 * t["median"]:.1f} ms [{1e3 * t["min"]:.1f}-{1e3 * t["max"]:.1f}]'


def _mib(n):
    return '-' if n is None else f'{n / 2**20:.1f} MiB'


def table(results):
    """Markdown tables of ``results``."""
    s = results['settings']
    m = s['model']
    lines = [
        f'# Glow benchmark: {s["size"]} ({SIZES[s["size"]]["image_shape"]}, L={m["scales"]}, '
        f'K={m["flow_steps"]}, hidden {m["hidden"]}, {m["coupling"]}, {m["permutation"]}), batch {s["batch"]}',
        '',
        f'{results["backend"]} ({results["device"]}), jax {results["jax"]}, {results["cpu_count"]} CPUs, '
        f'{results["time"]}; times: median [min-max] of {s["repeats"]} runs after {s["warmup"]} warm-up',
    ]
    if 'model' in results:
        r = results['model']
        peak = (
            f'{_mib(r["device_peak_bytes"])} (device)'
            if r['device_peak_bytes']
            else f'{_mib(r["xla_memory"]["total"])} (XLA)'
        )
        frac = f' ({100 * r["fraction_of_peak"]:.1f}% of peak)' if 'fraction_of_peak' in r else ''
        lines += [
            '',
            '## Model',
            '',
            '| figure | value |',
            '|---|---|',
            f'| train-step compile | {r["compile_s"]:.1f} s |',
            f'| train step | {_ms(r["step_s"])} |',
            f'| train images/s | {r["images_per_s"]:.0f} |',
            f'| peak memory | {peak} |',
            f'| model TFLOP/s | {r["model_tflops_per_s"]:.3f}{frac} |',
            f'| sampling images/s | {r["sample"]["images_per_s"]:.0f} ({_ms(r["sample"]["s"])}) |',
            f'| evaluation images/s | {r["eval"]["images_per_s"]:.0f} ({_ms(r["eval"]["s"])}) |',
            f'| bits/dim after {r["trained_steps"]} steps | {r["bits_per_dim"]:.3f} |',
        ]
    if 'depth' in results:
        lines += [
            '',
            '## Depth K: compile time, memory (XLA: total / temporaries), step time',
            '',
            '| K | variant | compile | memory | temp | step | images/s |',
            '|---|---|---|---|---|---|---|',
        ]
        for r in results['depth']:
            mem = r['xla_memory'] or {}
            lines.append(
                f'| {r["steps"]} | {r["variant"]} | {r["compile_s"]:.1f} s | {_mib(mem.get("total"))} | '
                f'{_mib(mem.get("temp"))} | {_ms(r["step_s"])} | {r["images_per_s"]:.0f} |'
            )
    if 'bf16' in results:
        b = results['bf16']
        lines += [
            '',
            '## Mixed precision (bf16 coupling networks; bits/dim on the section-1 params)',
            '',
            '| dtype | compile | step | images/s | bits/dim |',
            '|---|---|---|---|---|',
        ]
        for name in ('float32', 'bfloat16'):
            drift = f' (drift {b["bpd_drift"]:+.5f})' if name == 'bfloat16' else ''
            lines.append(
                f'| {name} | {b[name]["compile_s"]:.1f} s | {_ms(b[name]["step_s"])} | '
                f'{b[name]["images_per_s"]:.0f} | {b["bpd"][name]:.5f}{drift} |'
            )
    if 'conv1x1' in results:
        lines += ['', '## 1x1 conv variants', '', '| permutation | compile | step | images/s |', '|---|---|---|---|']
        for r in results['conv1x1']:
            lines.append(
                f'| {r["permutation"]} | {r["compile_s"]:.1f} s | {_ms(r["step_s"])} | {r["images_per_s"]:.0f} |'
            )
    if 'residual' in results:
        from experiments.bench_estimators import table as estimator_table

        lines += ['', estimator_table(results['residual']['rows']).rstrip()]
    if 'conv_impl' in results:
        lines += [
            '',
            '## Coupling-network convolutions (conv_impl)',
            '',
            '| conv_impl | compile | step | images/s |',
            '|---|---|---|---|',
        ]
        for r in results['conv_impl']:
            lines.append(
                f'| {r["conv_impl"]} | {r["compile_s"]:.1f} s | {_ms(r["step_s"])} | {r["images_per_s"]:.0f} |'
            )
    if 'profile' in results:
        from experiments.bench_profile import table as profile_table

        lines += ['', profile_table(results['profile']).rstrip()]
    lines += ['', f'Total benchmark time: {results["total_s"]:.0f} s.']
    return '\n'.join(lines) + '\n'


def write(results, out):
    """Write ``bench_<size>.json`` and ``bench_<size>.md`` under ``out``; returns the table."""
    os.makedirs(out, exist_ok=True)
    name = f'bench_{results["settings"]["size"]}'
    with open(os.path.join(out, name + '.json'), 'w') as f:
        json.dump(results, f, indent=1)
    text = table(results)
    with open(os.path.join(out, name + '.md'), 'w') as f:
        f.write(text)
    return text


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--size', choices=sorted(SIZES), default='digits')
    p.add_argument('--batch', type=int, default=None, help='batch size (default: per size)')
    p.add_argument('--repeats', type=int, default=None, help='timed runs per figure (default: per size)')
    p.add_argument('--depths', default='8,16,32', help='K values for the depth curves')
    p.add_argument('--sections', default=','.join(SECTIONS), help=f'subset of {",".join(ALL_SECTIONS)}')
    p.add_argument(
        '--peak-tflops',
        type=float,
        default=None,
        help="the device's dense bf16 peak (e.g. 989 for an H100/H200 SXM), for the achieved fraction",
    )
    p.add_argument('--out', default='bench_results')
    a = p.parse_args(argv)
    unknown = sorted(set(a.sections.split(',')) - set(ALL_SECTIONS))
    if unknown:
        p.error(f'unknown sections {unknown}; choose from {",".join(ALL_SECTIONS)}')
    settings = Settings(
        size=a.size,
        batch=a.batch,
        repeats=a.repeats,
        depths=tuple(int(k) for k in a.depths.split(',')),
        sections=tuple(a.sections.split(',')),
        peak_tflops=a.peak_tflops,
    )
    try:
        results = run_bench(settings)
    except KeyboardInterrupt:
        print('interrupted; the benchmark writes its results only once every section has run', flush=True)
        # Nothing to save, so skip the interpreter's teardown: after a Ctrl-C during an XLA
        # compile it crashed (segmentation fault) under `make bench`.
        os._exit(130)
    print(write(results, a.out))


if __name__ == '__main__':
    main()
