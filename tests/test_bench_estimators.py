"""The estimator benchmark runs every estimator and writes a row each."""

from experiments import bench_estimators

TINY = dict(batch=2, hidden=4, repeats=1, warmup=0)


def test_every_estimator_gets_a_row():
    rows = bench_estimators.bench_estimators(dims=(2,), **TINY)
    assert [r['estimator'] for r in rows] == list(bench_estimators.ESTIMATORS)
    assert all(r['dim'] == 2 and r['step_s']['median'] > 0 and r['compile_s'] > 0 for r in rows)
    assert bench_estimators.table(rows).count('\n| ') == len(rows) + 1


def test_the_exact_log_det_is_capped_by_dimension():
    rows = bench_estimators.bench_estimators(dims=(2, 4), estimators=('exact', 'series'), max_exact_dim=2, **TINY)
    assert [(r['dim'], r['estimator']) for r in rows] == [(2, 'exact'), (2, 'series'), (4, 'series')]
