"""Where a Glow train step's time goes: ``python -m experiments.bench --sections profile``.

Runs the step under ``jax.profiler``, reads the trace's per-instruction times back, and
sums them by the part of the model each XLA instruction came from (its ``op_name``:
level, layer of the step of flow, coupling-network layer) and by direction (the
backward pass is what autodiff transposed).  Instructions that run concurrently are
each counted in full, so the parts can add up to more than the step's wall time.
"""

import collections
import glob
import gzip
import json
import re
import tempfile

import jax

LAYERS = {'0': 'actnorm', '1': '1x1 conv', '2': 'coupling'}
NET_LAYERS = {'Conv_0': 'conv 3x3 in', 'Conv_1': 'conv 1x1', 'ZeroConv_0': 'zero conv 3x3 out'}


def part_of(op_name: str) -> str:
    """'L0 coupling conv 1x1' style name of the model part an instruction's op_name points to."""
    level = re.search(r'_level/flows_(\d+)', op_name)
    layer = re.search(r'GlowStep/layers_(\d)(?:/ConvNet_0/(\w+))?', op_name)
    if level and layer:
        inner = NET_LAYERS.get(layer.group(2), 'elementwise') if layer.group(1) == '2' else ''
        return f'L{level.group(1)} {LAYERS[layer.group(1)]} {inner}'.rstrip()
    split = re.search(r'/splits_(\d+)/', op_name)
    if split:
        return f'L{split.group(1)} split prior'
    if '/top/' in op_name:
        return 'top prior'
    if 'Glow' in op_name or 'bits_per_dim' in op_name:
        return 'rest of the model (squeeze, dequantisation, loss)'
    if not op_name:
        return 'inserted by XLA (layout copies and transposes)'
    return 'optimizer and bookkeeping'


def instruction_parts(hlo_text: str) -> dict:
    """HLO instruction name -> (model part, 'forward' or 'backward')."""
    parts = {}
    for m in re.finditer(r'^\s*(?:ROOT )?%?([\w.\-]+) = \S+ [\w\-]+\((.*)$', hlo_text, re.M):
        op_name = re.search(r'op_name="([^"]*)"', m.group(2))
        op_name = op_name.group(1) if op_name else ''
        parts[m.group(1)] = (part_of(op_name), 'backward' if 'transpose(' in op_name else 'forward')
    return parts


def profile_step(run_step, hlo_text: str, steps: int = 10, top: int = 16) -> dict:
    """Trace ``steps`` calls of ``run_step`` (which must block); ms per step by (part, direction)."""
    parts = instruction_parts(hlo_text)
    with tempfile.TemporaryDirectory() as trace_dir:
        jax.profiler.start_trace(trace_dir)
        try:
            for _ in range(steps):
                run_step()
        finally:
            jax.profiler.stop_trace()
        (path,) = glob.glob(f'{trace_dir}/**/*.trace.json.gz', recursive=True)
        with gzip.open(path) as f:
            events = json.load(f)['traceEvents']
    totals = collections.Counter()
    for e in events:
        if e.get('ph') == 'X' and e.get('name') in parts:
            totals[parts[e['name']]] += e['dur'] / 1e3 / steps  # microseconds -> ms per step
    total = sum(totals.values())
    rows = [dict(part=p, direction=d, ms=ms, share=ms / total) for (p, d), ms in totals.most_common(top)]
    return dict(total_ms=total, rows=rows, rest_ms=total - sum(r['ms'] for r in rows))


def table(profile: dict) -> str:
    lines = [
        "## Where the train step's time goes (jax.profiler, summed XLA instruction times)",
        '',
        '| part | direction | ms / step | share |',
        '|---|---|---|---|',
    ]
    for r in profile['rows']:
        lines.append(f'| {r["part"]} | {r["direction"]} | {r["ms"]:.2f} | {100 * r["share"]:.1f}% |')
    lines.append(
        f'| everything else | | {profile["rest_ms"]:.2f} | {100 * profile["rest_ms"] / profile["total_ms"]:.1f}% |'
    )
    lines.append(f'| **all instructions** | | **{profile["total_ms"]:.1f}** | |')
    return '\n'.join(lines) + '\n'
