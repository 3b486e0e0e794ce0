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
import shutil
import tempfile

import jax

LAYERS = {'0': 'actnorm', '1': '1x1 conv', '2': 'coupling'}
NET_LAYERS = {'Conv_0': 'conv 3x3 in', 'Conv_1': 'conv 1x1', 'ZeroConv_0': 'zero conv 3x3 out'}


def part_of(op_name: str) -> str:
    """'L0 coupling conv 1x1' style name of the model part an instruction's op_name points to."""
    level = re.search(r'_level/flows_(\d+)', op_name)
    # Unrolled steps are named GlowStep/..., scanned ones (nn.scan over stacked steps) .../scan/step/...
    layer = re.search(r'(?:GlowStep|scan/step)/layers_(\d)(?:/ConvNet_0/(\w+))?', op_name)
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


def trace_events(run_step, steps: int, keep: str | None = None) -> list:
    """The Chrome-trace events of ``steps`` calls of ``run_step`` (which must block) under
    ``jax.profiler``; ``keep``: a path to copy the gzipped trace to."""
    with tempfile.TemporaryDirectory() as trace_dir:
        jax.profiler.start_trace(trace_dir)
        try:
            for _ in range(steps):
                run_step()
        finally:
            jax.profiler.stop_trace()
        (path,) = glob.glob(f'{trace_dir}/**/*.trace.json.gz', recursive=True)
        if keep:
            shutil.copyfile(path, keep)
        with gzip.open(path) as f:
            return json.load(f)['traceEvents']


def instruction_events(events: list) -> tuple:
    """(HLO instruction name, microseconds) of each executed instruction, and whether they are GPU kernels.

    On CPU every instruction is a host event named by it.  On a GPU the trace holds each kernel
    on its stream (``Stream #...`` threads of a ``/device:GPU`` process) with the instruction in
    ``args.hlo_op``, beside derived lines ('XLA Ops', 'XLA Modules', 'Steps') that span the same
    time again: only the stream kernels are taken, so nothing is counted twice.
    """
    meta = [e for e in events if e.get('ph') == 'M']
    devices = {e['pid'] for e in meta if e.get('name') == 'process_name' and '/device:GPU' in e['args'].get('name', '')}
    streams = {
        (e['pid'], e['tid'])
        for e in meta
        if e.get('name') == 'thread_name' and e['pid'] in devices and e['args'].get('name', '').startswith('Stream')
    }
    timed = [e for e in events if e.get('ph') == 'X']
    if streams:
        return [
            (e.get('args', {}).get('hlo_op', e['name']), e['dur']) for e in timed if (e['pid'], e['tid']) in streams
        ], True
    return [(e['name'], e['dur']) for e in timed], False


def profile_step(run_step, hlo_text: str, steps: int = 10, top: int = 16) -> dict:
    """Trace ``steps`` calls of ``run_step`` (which must block); ms per step by (part, direction)."""
    parts = instruction_parts(hlo_text)
    totals = collections.Counter()
    for name, us in instruction_events(trace_events(run_step, steps))[0]:
        if name in parts:
            totals[parts[name]] += us / 1e3 / steps  # microseconds -> ms per step
    total = sum(totals.values())
    rows = [dict(part=p, direction=d, ms=ms, share=ms / total) for (p, d), ms in totals.most_common(top)]
    return dict(total_ms=total, rows=rows, rest_ms=total - sum(r['ms'] for r in rows))


def instruction_kinds(hlo_text: str) -> dict:
    """HLO instruction name -> what it is: 'fusion kLoop', 'custom-call __cudnn$convForward', 'convolution', ..."""
    kinds = {}
    for m in re.finditer(r'^\s*(?:ROOT )?%?([\w.\-]+) = (?:\(.*?\)|\S+) ([\w\-]+)\((.*)$', hlo_text, re.MULTILINE):
        name, opcode, rest = m.groups()
        detail = re.search(r'kind=(\w+)|custom_call_target="([^"]+)"', rest)
        kinds[name] = f'{opcode} {detail.group(1) or detail.group(2)}' if detail else opcode
    return kinds


def top_ops(run_step, hlo_text: str, steps: int = 10, top: int = 10, keep_trace: str | None = None) -> dict:
    """The ``top`` XLA instructions by time in ``steps`` traced calls of ``run_step``: ms per step,
    share of all instruction time, calls per step (a scanned body's instruction runs once per
    step of flow), kind and model part; plus the instruction (on a GPU: kernel) count per step.

    Control flow (``while``, ``conditional``, ``call``) is left out: its time is its body's.
    ``keep_trace``: where to copy the trace, to read again without rerunning.
    """
    parts, kinds = instruction_parts(hlo_text), instruction_kinds(hlo_text)
    times, calls = collections.Counter(), collections.Counter()
    pairs, on_gpu = instruction_events(trace_events(run_step, steps, keep_trace))
    for name, us in pairs:
        if name in kinds and kinds[name].split()[0] in ('while', 'conditional', 'call'):
            continue
        if on_gpu or name in kinds:  # on CPU, host events that are no instruction (Python, runtime) stay out
            times[name] += us / 1e3 / steps
            calls[name] += 1 / steps
    total = sum(times.values())
    rows = [
        {
            'op': name,
            'kind': kinds.get(name, '?'),
            'part': '{} ({})'.format(*parts[name]) if name in parts else '?',
            'ms': ms,
            'share': ms / total,
            'calls': calls[name],
        }
        for name, ms in times.most_common(top)
    ]
    return {'total_ms': total, 'launches_per_step': sum(calls.values()), 'on_gpu': on_gpu, 'rows': rows}


def top_ops_table(profile: dict) -> str:
    lines = [
        '| op | kind | model part | ms / step | share | calls / step |',
        '|---|---|---|---|---|---|',
    ]
    for r in profile['rows']:
        lines.append(
            f'| {r["op"]} | {r["kind"]} | {r["part"]} | {r["ms"]:.3f} | {100 * r["share"]:.1f}% | {r["calls"]:.0f} |'
        )
    unit = 'GPU kernels' if profile['on_gpu'] else 'instructions'
    lines.append(
        f'| **all ({profile["launches_per_step"]:.0f} {unit} / step)** | | | **{profile["total_ms"]:.2f}** | | |'
    )
    return '\n'.join(lines) + '\n'


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
