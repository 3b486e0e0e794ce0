"""The estimator benchmark runs every estimator and writes a row each."""

from experiments import bench_estimators


def test_every_estimator_gets_a_row_and_exact_is_capped():
    rows = bench_estimators.bench_estimators(dims=(2, 4), batch=2, hidden=4, repeats=1, warmup=0, max_exact_dim=2)
    assert [(r['dim'], r['estimator']) for r in rows] == (
        [(2, e) for e in bench_estimators.ESTIMATORS] + [(4, e) for e in bench_estimators.ESTIMATORS if e != 'exact']
    )
    assert all(r['step_s']['median'] > 0 and r['compile_s'] > 0 for r in rows)
    assert bench_estimators.table(rows).count('\n| ') == len(rows) + 1
