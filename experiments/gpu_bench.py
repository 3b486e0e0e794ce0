"""The zoo's Glow against normflows' Glow on one card: ``python -m experiments.gpu_bench`` (``make gpu-bench``).

    python -m experiments.gpu_bench [--tiny] [--out gpu_bench_results] [--batches 64,256,512]
        [--frameworks zoo-bfloat16,normflows,zoo-float32] [--torch-python PYTHON] [--peak-tflops T]
    python -m experiments.gpu_bench --render-only --out DIR   # the table again from DIR's records

The CIFAR-10 Glow (Kingma & Dhariwal 2018, sec. 5: K=32 steps of flow, L=3 levels, 512
hidden channels, affine coupling, full 1x1 convs) on random uint8 32x32x3 batches, trained
with Adam through each library's own step.  Both sides use the same architecture: a logit
input layer (alpha 1e-6, normflows' ``Logit``), sigmoid coupling scales and per-position
Gaussians for the split and top latents (normflows' ``DiagGaussian``; the zoo's
``learned_split=False, positional_prior=True``).

Each side runs in its own process, one after the other, so each has the card to itself and
its own memory peak: the zoo in float32, the zoo with bf16 coupling networks
(``Glow(compute_dtype=jnp.bfloat16)``: log-dets and losses stay float32), and normflows
(``experiments/gpu_bench_normflows.py``, under ``--torch-python``).  Per batch size, in
ascending order (so the process's device-memory peak after each size is that size's):

- compile time (``jit(...).lower(...).compile()``), the first step, and the median, min and
  max of the timed steps after warm-up (``experiments.bench.StepTimer``: the training loop's
  own step, donated state);
- peak device memory (JAX: ``peak_bytes_in_use``; torch: ``max_memory_allocated``), and XLA's
  compiled memory analysis of the step;
- model TFLOP/s: XLA's cost analysis of the zoo's train step, the same count for both sides
  (one architecture), over the step time; and its share of the card's dense bf16 peak
  (``PEAK_BF16_TFLOPS``, by device name).  A scanned level's loop body is counted once by
  XLA, so the count comes from the unrolled step lowered at K=1 and K=2 and extrapolated
  linearly in K (exact: every step of flow costs the same);
- at ``--profile-batch`` (256), the zoo's step under ``jax.profiler``: the top 10 XLA ops
  by time and the kernel launches per step (``experiments.bench_profile.top_ops``).

Writes ``<out>/gpu_bench_records.jsonl`` (one line per measurement, appended as they finish,
so a run cut short keeps what it measured), ``gpu_bench.json``, ``gpu_bench.md`` and the
profiled steps' traces ``trace_zoo_<dtype>_<batch>.json.gz`` (Chrome trace format).
``--tiny`` shrinks everything (K=2, L=2, 16 channels, batches 4 and 8) to check the
pipeline on a CPU in under a minute; its numbers say nothing about a GPU.
"""

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDS = 'gpu_bench_records.jsonl'

# Dense bf16 tensor-core peaks from NVIDIA's datasheets, TFLOP/s (without sparsity); the
# first name contained in the device's name wins, so the specific names come first.
PEAK_BF16_TFLOPS = (
    ('H100 PCIe', 756.0),
    ('H100 NVL', 835.0),
    ('GH200', 989.0),
    ('H200', 989.0),
    ('H100', 989.0),
    ('A100', 312.0),
)


@dataclasses.dataclass(frozen=True)
class Arch:
    """One Glow architecture, as both libraries build it."""

    levels: int = 3
    flow_steps: int = 32
    hidden: int = 512
    permutation: str = 'conv1x1'
    logit: float = 1e-6

    def zoo_kwargs(self):
        return {
            'image_shape': (32, 32, 3),
            'num_levels': 256,
            'scales': self.levels,
            'flow_steps': self.flow_steps,
            'hidden': self.hidden,
            'coupling': 'affine',
            'permutation': self.permutation,
            'scale_fn': 'sigmoid',
            'learned_split': False,
            'positional_prior': True,
            'logit_alpha': self.logit,
        }

    def normflows_args(self):
        return [
            f'--levels={self.levels}',
            f'--flow-steps={self.flow_steps}',
            f'--hidden={self.hidden}',
            f'--permutation={self.permutation}',
            f'--logit={self.logit}',
        ]


FULL = {'arch': Arch(), 'batches': (64, 256, 512), 'steps': 8, 'warmup': 2, 'profile_batch': 256, 'profile_steps': 5}
TINY = {'arch': Arch(levels=2, flow_steps=2, hidden=16), 'batches': (4, 8), 'steps': 3, 'warmup': 1, 'profile_batch': 8}
TINY['profile_steps'] = 2
FRAMEWORKS = ('zoo-bfloat16', 'normflows', 'zoo-float32')  # the headline pair first, in case a run is cut short


def peak_tflops(device_name):
    """The card's dense bf16 peak from ``PEAK_BF16_TFLOPS``, or None (a CPU, an unknown card)."""
    return next((peak for name, peak in PEAK_BF16_TFLOPS if name in device_name), None)


def append(path, record):
    with open(path, 'a') as f:
        f.write(json.dumps(record) + '\n')
    print(json.dumps({k: v for k, v in record.items() if k != 'profile'}), flush=True)


# ---- the zoo's side (runs in a worker process: ``--worker zoo-float32`` and so on) ------------


def random_pixels(batch, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (batch, 32, 32, 3)).astype(np.uint8)


def train_flops(arch, batch):
    """XLA's FLOP count of one zoo train step at ``batch``: the unrolled step lowered (not run:
    abstract state) at K=1 and K=2 and extrapolated to ``arch.flow_steps`` (a scan's body would
    be counted once)."""
    import jax
    import jax.numpy as jnp

    from zoo.flows import Glow
    from zoo.flows.task import FlowTask
    from zoo.train import Config, OptimizerConfig
    from zoo.train import mesh as mesh_lib
    from zoo.train.step import abstract_state, make_train_step

    mesh = mesh_lib.make_mesh(jax.devices()[:1])
    pixels = {'image': jax.ShapeDtypeStruct((batch, 32, 32, 3), jnp.uint8)}

    def flops(k):
        model = Glow(**{**arch.zoo_kwargs(), 'flow_steps': k}, scan=False)
        task = FlowTask(None, Config(optimizer=OptimizerConfig(lr=1e-4, warmup_steps=0)), model=model)
        state = abstract_state(task, mesh, jax.random.key(0), pixels)
        cost = make_train_step(task, mesh).lower(state, pixels).cost_analysis()
        return (cost[0] if isinstance(cost, list) else cost)['flops']

    one, two = flops(1), flops(2)
    return one + (arch.flow_steps - 1) * (two - one)


def zoo_worker(framework, settings, records):
    """Time the zoo's Glow at each batch size in this process; append one record per size."""
    import jax
    import jax.numpy as jnp
    import jaxlib

    from experiments.bench import StepTimer, device_peak, timed, xla_memory
    from experiments.bench_profile import top_ops
    from zoo.flows import Glow

    dtype = framework.removeprefix('zoo-')
    arch = settings['arch']
    # Scanned levels, the GPU default, also on a CPU: the tiny run checks the GPU's program.
    model = Glow(**arch.zoo_kwargs(), scan=True, compute_dtype=None if dtype == 'float32' else jnp.dtype(dtype))
    env = {
        'framework': 'zoo',
        'dtype': dtype,
        'device': jax.devices()[0].device_kind,
        'backend': jax.default_backend(),
        'versions': {'jax': jax.__version__, 'jaxlib': jaxlib.__version__},
        'scanned': model.scanned,
        'matmul_precision': str(getattr(jax.config, 'jax_default_matmul_precision', '?')),
    }
    for batch in sorted(settings['batches']):
        record = dict(env, batch=batch)
        try:
            timer = StepTimer(model, random_pixels(batch))
            record['params'] = sum(x.size for x in jax.tree.leaves(timer.state.params))
            record['compile_s'], compiled = timer.compile()
            start = time.perf_counter()
            timer.run_step()
            record['first_step_s'] = time.perf_counter() - start
            step = timed(timer.run_step, settings['steps'], settings['warmup'])
            record.update(step_s=step, images_per_s=batch / step['median'], loss=float(timer.run_step()))
            record.update(peak_bytes=device_peak(), xla_memory=xla_memory(compiled))
            if batch == settings['profile_batch']:
                trace = os.path.join(os.path.dirname(records), f'trace_zoo_{dtype}_{batch}.json.gz')
                record['profile'] = top_ops(
                    timer.run_step, compiled.as_text(), steps=settings['profile_steps'], keep_trace=trace
                )
            del timer, compiled
        except jax.errors.JaxRuntimeError as e:  # out of memory at the largest batch: keep the smaller ones
            record['error'] = f'{type(e).__name__}: {str(e).splitlines()[0][:300]}'
        append(records, record)
        if 'error' in record:
            break
    if settings.get('flops'):
        b = min(settings['batches'])
        append(records, dict(env, kind='flops', batch=b, flops_per_image=train_flops(arch, b) / b))


# ---- the orchestration: one process per side, then the table ---------------------------------


def run_all(settings, out, frameworks, torch_python, job_timeout):
    """Each framework in its own process, one after the other; returns the records."""
    os.makedirs(out, exist_ok=True)
    records = os.path.join(out, RECORDS)
    if os.path.exists(records):
        os.remove(records)
    arch = settings['arch']
    common = [f'--records={records}', f'--steps={settings["steps"]}', f'--warmup={settings["warmup"]}']
    batches = ','.join(map(str, settings['batches']))
    first_zoo = next((f for f in frameworks if f.startswith('zoo')), None)
    for framework in frameworks:
        if framework == 'normflows':
            cmd = [torch_python, os.path.join(HERE, 'gpu_bench_normflows.py'), f'--batches={batches}']
            cmd += common + arch.normflows_args()
        else:
            cmd = [sys.executable, '-m', 'experiments.gpu_bench', f'--worker={framework}', f'--out={out}']
            cmd += [f'--batches={batches}'] + (['--tiny'] if settings['tiny'] else [])
            cmd += ['--flops'] if framework == first_zoo else []
        start = time.perf_counter()
        print(f'== {framework}: {" ".join(cmd)}', flush=True)
        try:
            rc = subprocess.run(cmd, cwd=os.path.dirname(HERE), timeout=job_timeout, check=False).returncode
        except subprocess.TimeoutExpired:
            rc = 'timeout'
        append(records, {'kind': 'job', 'framework': framework, 'rc': rc, 'wall_s': time.perf_counter() - start})
    return read_records(out)


def read_records(out):
    with open(os.path.join(out, RECORDS)) as f:
        return [json.loads(line) for line in f if line.strip()]


def summarize(records, settings, peak=None):
    """The JSON results: rows per (framework, dtype, batch) with TFLOP/s and share of peak, the
    zoo/normflows ratios, the profiles."""
    flops = next((r['flops_per_image'] for r in records if r.get('kind') == 'flops'), None)
    rows = [r for r in records if 'kind' not in r]
    device = next((r['device'] for r in rows if r.get('device')), '?')
    peak = peak or peak_tflops(device)
    for r in rows:
        if flops and 'images_per_s' in r:
            r['model_tflops_per_s'] = flops * r['images_per_s'] / 1e12
            r['share_of_bf16_peak'] = r['model_tflops_per_s'] / peak if peak else None
    by = {(r['framework'], r['dtype'], r['batch']): r for r in rows}
    ratios = {}
    for (framework, dtype, batch), r in by.items():
        peer = by.get(('normflows', 'float32', batch), {})
        if framework == 'zoo' and 'images_per_s' in r and 'images_per_s' in peer:
            ratios[f'zoo-{dtype}/normflows@{batch}'] = r['images_per_s'] / peer['images_per_s']
    return {
        'settings': dict(settings, arch=dataclasses.asdict(settings['arch'])),
        'device': device,
        'bf16_peak_tflops': peak,
        'flops_per_image': flops,
        'host': platform.node(),
        'time': time.strftime('%Y-%m-%d %H:%M:%S'),
        'rows': rows,
        'ratios': ratios,
        'jobs': [r for r in records if r.get('kind') == 'job'],
    }


def _mib(n):
    return '-' if n is None else f'{n / 2**20:.0f} MiB'


def table(results):
    """The markdown report of ``results``."""
    s, a = results['settings'], results['settings']['arch']
    versions = {k: v for r in results['rows'] for k, v in r.get('versions', {}).items() if v}
    tiny = ' (TINY: a pipeline check, not a measurement of the model)' if s['tiny'] else ''
    peak = results['bf16_peak_tflops']
    lines = [
        f'# Glow: the zoo against normflows on {results["device"]}{tiny}',
        '',
        f'K={a["flow_steps"]}, L={a["levels"]}, hidden {a["hidden"]}, {a["permutation"]}, logit {a["logit"]}; '
        f'random uint8 32x32x3; {", ".join(f"{k} {v}" for k, v in sorted(versions.items()))}; '
        f'{results["time"]}. Step: median [min-max] of {s["steps"]} after {s["warmup"]} warm-up. '
        + (f'Share of peak: of {peak:.0f} TFLOP/s dense bf16.' if peak else 'No bf16 peak known for this device.'),
        '',
        (
            '| framework | dtype | batch | images/s | step ms | first step | compile | peak memory | XLA memory '
            '| model TFLOP/s | share of peak |'
        ),
        '|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    for r in results['rows']:
        head = f'| {r["framework"]} | {r["dtype"]} | {r["batch"]} |'
        if 'error' in r:
            lines.append(f'{head} {r["error"]} | | | | | | | |')
            continue
        t, xla = r['step_s'], r.get('xla_memory') or {}
        tflops, share = r.get('model_tflops_per_s'), r.get('share_of_bf16_peak')
        compile_s = '- (eager)' if 'compile_s' not in r else f'{r["compile_s"]:.1f} s'
        tflops = '-' if tflops is None else f'{tflops:.2f}'
        share = '-' if share is None else f'{100 * share:.1f}%'
        lines.append(
            f'{head} {r["images_per_s"]:.0f} | {1e3 * t["median"]:.1f} [{1e3 * t["min"]:.1f}-{1e3 * t["max"]:.1f}] | '
            f'{r["first_step_s"]:.2f} s | {compile_s} | {_mib(r.get("peak_bytes"))} | {_mib(xla.get("total"))} | '
            f'{tflops} | {share} |'
        )
    if results['ratios']:
        lines += [
            '',
            'Images/s, zoo over normflows: ' + ', '.join(f'{k} {v:.2f}x' for k, v in results['ratios'].items()),
        ]
    if results['flops_per_image']:
        lines += ['', f'Model FLOPs per image per train step (XLA cost analysis): {results["flops_per_image"]:.3g}.']
    from experiments.bench_profile import top_ops_table

    for r in results['rows']:
        if 'profile' in r:
            lines += [
                '',
                f'## Top 10 ops: zoo {r["dtype"]}, batch {r["batch"]}',
                '',
                top_ops_table(r['profile']).rstrip(),
            ]
    bad = [j for j in results['jobs'] if j['rc'] != 0]
    lines += [''] + [f'Job {j["framework"]} ended with {j["rc"]} after {j["wall_s"]:.0f} s.' for j in bad]
    return '\n'.join(lines).rstrip() + '\n'


def write(results, out):
    with open(os.path.join(out, 'gpu_bench.json'), 'w') as f:
        json.dump(results, f, indent=1)
    text = table(results)
    with open(os.path.join(out, 'gpu_bench.md'), 'w') as f:
        f.write(text)
    return text


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--tiny', action='store_true', help='K=2, L=2, hidden 16, batches 4,8: a CPU pipeline check')
    p.add_argument('--out', default='gpu_bench_results')
    p.add_argument('--batches', default=None, help='comma-separated batch sizes (default 64,256,512)')
    p.add_argument('--frameworks', default=','.join(FRAMEWORKS), help=f'subset of {",".join(FRAMEWORKS)}')
    p.add_argument('--torch-python', default=sys.executable, help='a Python with torch and normflows')
    p.add_argument('--peak-tflops', type=float, default=None, help="the card's dense bf16 peak (default: by name)")
    p.add_argument('--job-timeout', type=float, default=600, help='seconds before one framework is given up')
    p.add_argument('--render-only', action='store_true', help="rebuild the JSON and table from --out's records")
    p.add_argument('--worker', choices=('zoo-float32', 'zoo-bfloat16'), help=argparse.SUPPRESS)
    p.add_argument('--flops', action='store_true', help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    settings = dict(TINY if a.tiny else FULL, tiny=a.tiny)
    if a.batches:
        settings['batches'] = tuple(int(b) for b in a.batches.split(','))
    if a.worker:
        return zoo_worker(a.worker, dict(settings, flops=a.flops), os.path.join(a.out, RECORDS))
    frameworks = a.frameworks.split(',')
    unknown = sorted(set(frameworks) - set(FRAMEWORKS))
    if unknown:
        p.error(f'unknown frameworks {unknown}; choose from {",".join(FRAMEWORKS)}')
    if a.render_only:
        records = read_records(a.out)
    else:
        records = run_all(settings, a.out, frameworks, a.torch_python, a.job_timeout)
    print(write(summarize(records, settings, a.peak_tflops), a.out))


if __name__ == '__main__':
    main()
