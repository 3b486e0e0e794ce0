"""A tiny smoke run of the benchmark: every section runs and the JSON and table are written."""

import json

from experiments import bench
from tests.interrupts import interrupted_exit_code


def test_tiny_bench_writes_json_and_table(tmp_path):
    settings = bench.Settings(
        batch=2,
        repeats=1,
        warmup=0,
        depths=(1,),
        variants=('scan+invertible',),
        permutations=('reverse',),
        model=dict(scales=1, flow_steps=1, hidden=4),
        sections=('model', 'depth', 'bf16', 'conv1x1'),
    )  # residual: test_bench_estimators
    text = bench.write(bench.run_bench(settings), str(tmp_path))
    results = json.loads((tmp_path / 'bench_digits.json').read_text())
    assert (tmp_path / 'bench_digits.md').read_text() == text
    assert results['model']['compile_s'] > 0 and results['model']['images_per_s'] > 0
    assert results['model']['xla_memory']['total'] > 0
    assert results['model']['sample']['images_per_s'] > 0 and results['model']['eval']['images_per_s'] > 0
    assert [(r['steps'], r['variant']) for r in results['depth']] == [(1, 'scan+invertible')]
    assert abs(results['bf16']['bpd_drift']) < 0.05
    assert results['conv1x1'][0]['permutation'] == 'reverse'
    assert 'residual' not in results
    for heading in ('## Model', '## Depth K', '## Mixed precision', '## 1x1 conv variants'):
        assert heading in text


def test_flop_count_matches_the_formula_for_one_step():
    # One level on 8x8x1: squeeze to 4x4x4, so per pixel 9*2*h + h*h + 9*h*4 + 4*4 multiply-adds.
    model = bench.Glow(image_shape=(8, 8, 1), scales=1, flow_steps=1, hidden=4)
    assert bench.glow_forward_flops(model, batch=3) == 3 * 2 * 16 * (9 * 2 * 4 + 16 + 9 * 4 * 4 + 16)


def test_ctrl_c_prints_one_line_and_exits_130(monkeypatch, capsys, tmp_path):
    """Ctrl-C: one line saying nothing was written, exit status 130 (as ``experiments.train``), no traceback."""
    assert interrupted_exit_code(monkeypatch, bench, 'run_bench', ['--out', str(tmp_path)]) == 130
    assert capsys.readouterr().out.startswith('interrupted; the benchmark writes its results only')
    assert not list(tmp_path.iterdir())
