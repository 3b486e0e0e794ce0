"""The side-by-side GPU bench: peaks by card name, the FLOP count against the unrolled compiled
step, the report from records (ratios, TFLOP/s, cut-short runs), GPU traces parsed without a
GPU, and (slow) the tiny pipeline end to end on the CPU."""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

from experiments import bench_profile, gpu_bench


@pytest.mark.parametrize(
    'name, peak',
    [
        ('NVIDIA H100 80GB HBM3', 989.0),
        ('NVIDIA H100 PCIe', 756.0),
        ('NVIDIA H200', 989.0),
        ('NVIDIA GH200 480GB', 989.0),
        ('NVIDIA A100-SXM4-80GB', 312.0),
        ('cpu', None),
    ],
)
def test_bf16_peak_by_device_name(name, peak):
    assert gpu_bench.peak_tflops(name) == peak


def test_flop_count_extrapolated_in_depth_equals_the_unrolled_step():
    # Lowered at K=1 and K=2 and extrapolated to K=3, against the K=3 step lowered directly.
    arch = gpu_bench.Arch(levels=1, flow_steps=3, hidden=4)
    direct = gpu_bench.train_flops(gpu_bench.Arch(levels=1, flow_steps=1, hidden=4), 2)
    assert direct > 0
    extrapolated = gpu_bench.train_flops(arch, 2)
    from zoo.flows import Glow
    from zoo.flows.task import FlowTask
    from zoo.train import Config, OptimizerConfig
    from zoo.train import mesh as mesh_lib
    from zoo.train.step import abstract_state, make_train_step

    mesh = mesh_lib.make_mesh(jax.devices()[:1])
    task = FlowTask(None, Config(optimizer=OptimizerConfig(lr=1e-4)), model=Glow(**arch.zoo_kwargs(), scan=False))
    pixels = {'image': jax.ShapeDtypeStruct((2, 32, 32, 3), jnp.uint8)}
    cost = make_train_step(task, mesh).lower(abstract_state(task, mesh, jax.random.key(0), pixels), pixels)
    cost = cost.cost_analysis()
    exact = (cost[0] if isinstance(cost, list) else cost)['flops']
    assert extrapolated == pytest.approx(exact, rel=1e-3)  # per-step bookkeeping is the only non-linear part


def record(framework, dtype, batch, images_per_s, **extra):
    step = {'median': batch / images_per_s, 'min': batch / images_per_s, 'max': batch / images_per_s, 'n': 3}
    return dict(
        framework=framework,
        dtype=dtype,
        batch=batch,
        device='NVIDIA H100 80GB HBM3',
        versions={'jax': '0.11.2'},
        first_step_s=1.0,
        step_s=step,
        images_per_s=images_per_s,
        peak_bytes=2**30,
        **extra,
    )


def test_report_gives_ratios_tflops_and_keeps_failed_sizes():
    records = [
        record('zoo', 'bfloat16', 256, 4000.0, compile_s=9.0, xla_memory={'total': 2**31}),
        record('zoo', 'bfloat16', 512, 4400.0, compile_s=9.5),
        {'framework': 'zoo', 'dtype': 'float32', 'batch': 512, 'device': 'NVIDIA H100 80GB HBM3', 'error': 'OOM'},
        record('normflows', 'float32', 256, 1000.0),
        {'kind': 'flops', 'framework': 'zoo', 'batch': 256, 'flops_per_image': 1e10},
        {'kind': 'job', 'framework': 'zoo-float32', 'rc': 'timeout', 'wall_s': 200.0},
    ]
    results = gpu_bench.summarize(records, dict(gpu_bench.FULL, tiny=False))
    assert results['ratios'] == {'zoo-bfloat16/normflows@256': 4.0}
    (zoo256,) = [r for r in results['rows'] if r['framework'] == 'zoo' and r['batch'] == 256]
    assert zoo256['model_tflops_per_s'] == pytest.approx(40.0)  # 1e10 FLOPs x 4000 images/s
    assert zoo256['share_of_bf16_peak'] == pytest.approx(40.0 / 989.0)
    text = gpu_bench.table(results)
    assert (
        '| zoo | bfloat16 | 256 | 4000 | 64.0 [64.0-64.0] | 1.00 s | 9.0 s | 1024 MiB | 2048 MiB | 40.00 | 4.0% |'
        in text
    )
    assert '| zoo | float32 | 512 | OOM |' in text
    assert '| normflows | float32 | 256 | 1000 |' in text and '- (eager)' in text
    assert 'zoo-bfloat16/normflows@256 4.00x' in text and 'Job zoo-float32 ended with timeout' in text
    assert 'TINY' not in text


def gpu_trace(hlo_names):
    """A trace shaped like jax.profiler's on a GPU (an assumption: no GPU here to record one):
    kernels on 'Stream #N' threads of a '/device:GPU:0' process, named by the kernel with the
    instruction in args.hlo_op, and derived lines that span the same time again."""
    meta = [
        {'ph': 'M', 'name': 'process_name', 'pid': 1, 'args': {'name': '/device:GPU:0'}},
        {'ph': 'M', 'name': 'thread_name', 'pid': 1, 'tid': 7, 'args': {'name': 'Stream #7(Compute)'}},
        {'ph': 'M', 'name': 'thread_name', 'pid': 1, 'tid': 2, 'args': {'name': 'XLA Ops'}},
        {'ph': 'M', 'name': 'thread_name', 'pid': 1, 'tid': 3, 'args': {'name': 'XLA Modules'}},
        {'ph': 'M', 'name': 'process_name', 'pid': 2, 'args': {'name': '/host:CPU'}},
    ]
    events = []
    for name, dur in hlo_names:
        events.append({'ph': 'X', 'pid': 1, 'tid': 7, 'name': 'sm90_xmma_kernel', 'dur': dur, 'args': {'hlo_op': name}})
        events.append({'ph': 'X', 'pid': 1, 'tid': 2, 'name': name, 'dur': dur})  # the XLA Ops line
        events.append({'ph': 'X', 'pid': 2, 'tid': 9, 'name': f'Thunk:#hlo_op={name}#', 'dur': 1})  # the launch
    events.append({'ph': 'X', 'pid': 1, 'tid': 3, 'name': 'jit_step', 'dur': 1000})
    return meta + events


def test_gpu_trace_counts_each_kernel_once_by_its_instruction(monkeypatch):
    hlo = (
        '  %fusion.1 = f32[8,16]{1,0} fusion(f32[8,16]{1,0} %p), kind=kLoop, calls=%fused\n'
        '  %custom-call.2 = (f32[8,16]{1,0}, u8[0]{0}) custom-call(%a, %b), custom_call_target="__cudnn$convForward"\n'
        '  %while.3 = (s32[], f32[8]) while(%t), condition=%cond, body=%body\n'
    )
    trace = gpu_trace([('fusion.1', 30.0), ('custom-call.2', 50.0), ('custom-call.2', 50.0), ('while.3', 200.0)])
    monkeypatch.setattr(bench_profile, 'trace_events', lambda run_step, steps, keep=None: trace)
    profile = bench_profile.top_ops(lambda: None, hlo, steps=2)
    assert profile['on_gpu']
    rows = {r['op']: r for r in profile['rows']}
    assert set(rows) == {'custom-call.2', 'fusion.1'}  # the while's time is its body's
    assert rows['custom-call.2']['ms'] == pytest.approx(0.05) and rows['custom-call.2']['calls'] == 1
    assert rows['custom-call.2']['kind'] == 'custom-call __cudnn$convForward'
    assert rows['fusion.1']['kind'] == 'fusion kLoop' and rows['fusion.1']['share'] == pytest.approx(30 / 130)
    assert profile['launches_per_step'] == pytest.approx(1.5)
    assert '1.5 GPU kernels' not in bench_profile.top_ops_table(profile)  # rounded to whole launches
    assert '**all (2 GPU kernels / step)**' in bench_profile.top_ops_table(profile)


def test_scanned_op_names_map_to_model_parts():
    scanned = 'jvp(Glow.bits_per_dim)/Glow.log_prob/Glow/Glow/Glow.forward/Glow._level/flows_2/while/body/closed_call'
    assert bench_profile.part_of(scanned + '/scan/step/layers_2/ConvNet_0/Conv_1/dot_general') == 'L2 coupling conv 1x1'
    assert bench_profile.part_of(scanned + '/scan/step/layers_1/dot_general') == 'L2 1x1 conv'


def test_cpu_profile_of_a_jitted_function_names_its_instructions():
    f = jax.jit(lambda x: jnp.tanh(x @ x.T).sum())
    x = jnp.ones((64, 64))
    compiled = f.lower(x).compile()
    profile = bench_profile.top_ops(lambda: compiled(x).block_until_ready(), compiled.as_text(), steps=3)
    assert not profile['on_gpu'] and profile['total_ms'] > 0
    assert all(r['kind'] != '?' and r['calls'] >= 1 for r in profile['rows'])


@pytest.mark.slow
def test_tiny_run_writes_records_json_and_table(tmp_path):
    """The CPU pipeline check: a minute or more on 2 loaded cores, so slow.  normflows runs
    where this Python (or $ZOO_TORCH_PYTHON) has torch and normflows.  One zoo side, bfloat16
    (the GPU's headline): float32 is the same worker with the other dtype."""
    torch_python = os.environ.get('ZOO_TORCH_PYTHON', sys.executable)
    has_torch = (
        subprocess.run([torch_python, '-c', 'import torch, normflows'], capture_output=True, check=False).returncode
        == 0
    )
    frameworks = 'zoo-bfloat16' + (',normflows' if has_torch else '')
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # One batch size: each size is a compilation per framework, and one is enough to check the pipeline.
    cmd = [sys.executable, '-m', 'experiments.gpu_bench', '--tiny', '--batches=8', f'--out={tmp_path}']
    cmd += [f'--frameworks={frameworks}']
    subprocess.run(cmd + [f'--torch-python={torch_python}'], cwd=root, check=True, capture_output=True)
    results = json.loads((tmp_path / 'gpu_bench.json').read_text())
    rows = {(r['framework'], r['dtype'], r['batch']): r for r in results['rows']}
    expected = {('zoo', 'bfloat16', 8)}
    expected |= {('normflows', 'float32', 8)} if has_torch else set()
    assert set(rows) == expected and all(r['images_per_s'] > 0 for r in rows.values())
    assert results['flops_per_image'] > 0 and rows['zoo', 'bfloat16', 8]['profile']['rows']
    if has_torch:  # the same architecture: parameter counts within the priors' few differences
        assert rows['normflows', 'float32', 8]['params'] == pytest.approx(
            rows['zoo', 'bfloat16', 8]['params'], rel=0.05
        )
    text = (tmp_path / 'gpu_bench.md').read_text()
    assert 'TINY' in text and '## Top 10 ops: zoo bfloat16, batch 8' in text
