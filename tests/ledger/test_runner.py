import json

import pytest

from experiments.ledger import runner
from experiments.ledger.row import Row, load_rows


def fake_row(calls, name='fake/one', seeds=3):
    def measure(seed):
        calls.append(seed)
        return {'score': 1.0 + seed, 'base': 0.5, 'steps': 10}

    return Row(
        name=name,
        model='Fake',
        reference='2.0 score',
        source='Nobody 2024, tab. 1',
        protocol='nothing, 10 steps',
        metric='score',
        measure=measure,
        baseline='half',
        baseline_metric='base',
        seeds=seeds,
    )


def test_a_finished_seed_is_not_rerun(tmp_path):
    calls, path = [], tmp_path / 'ledger.jsonl'
    row = fake_row(calls)
    runner.run_rows([row], seeds=2, path=path, log=lambda m: None)
    assert calls == [0, 1]
    runner.run_rows([row], path=path, log=lambda m: None)  # the row's own 3 seeds: only seed 2 is new
    assert calls == [0, 1, 2]
    records = runner.read_records(path)
    assert sorted(r['seed'] for r in records) == [0, 1, 2]
    assert all(json.dumps(r) for r in records) and records[0]['values']['score'] == 1.0


def test_one_seed_alone_then_the_rest(tmp_path):
    calls, path = [], tmp_path / 'ledger.jsonl'
    row = fake_row(calls)
    runner.run_rows([row], path=path, log=lambda m: None, only=2)
    runner.run_rows([row], path=path, log=lambda m: None, only=2)  # finished: not rerun
    assert calls == [2]
    runner.run_rows([row], path=path, log=lambda m: None)
    assert calls == [2, 0, 1] and sorted(r['seed'] for r in runner.read_records(path)) == [0, 1, 2]
    with pytest.raises(ValueError, match='--seed must be 0 or more'):
        runner.run_rows([row], path=path, log=lambda m: None, only=-1)


def test_a_side_ledger_renders_only_where_told(tmp_path, monkeypatch):
    """A side ledger holds some rows' records; the project's table and README are left alone."""
    from experiments.ledger import readme

    project = {'table': tmp_path / 'RESULTS.md', 'readme': tmp_path / 'README.md'}
    for path in project.values():
        path.write_text('untouched\n')
    monkeypatch.setattr(runner, 'RESULTS_MD', project['table'])
    monkeypatch.setattr(readme, 'README', project['readme'])
    side = tmp_path / 'side.jsonl'
    side.write_text('')
    runner.main(['--render', '--ledger', str(side)])
    assert all(path.read_text() == 'untouched\n' for path in project.values())
    runner.main(['--render', '--ledger', str(side), '--results-md', str(tmp_path / 'side.md')])
    assert runner.START in (tmp_path / 'side.md').read_text()
    assert all(path.read_text() == 'untouched\n' for path in project.values())


def test_a_failing_seed_is_retried_next_time(tmp_path):
    path, attempts = tmp_path / 'ledger.jsonl', []

    def measure(seed):
        attempts.append(seed)
        if len(attempts) == 1:
            raise RuntimeError('flaky')
        return {'score': 1.0}

    row = Row('fake/flaky', 'F', '-', '-', 'p', 'score', measure, seeds=1)
    runner.run_rows([row], path=path, log=lambda m: None)
    assert runner.read_records(path) == []
    runner.run_rows([row], path=path, log=lambda m: None)
    assert len(runner.read_records(path)) == 1


def test_the_table_shows_mean_std_worst_and_best(tmp_path):
    calls, path = [], tmp_path / 'ledger.jsonl'
    done, pending = fake_row(calls), fake_row(calls, name='fake/two')
    runner.run_rows([done], path=path, log=lambda m: None)
    table = runner.render_table([done, pending], runner.read_records(path))
    line = next(line for line in table.splitlines() if 'fake/one' in line)
    assert '2 ± 1 (3)' in line  # scores 1, 2, 3
    assert '1 (seed 0) / 3 (seed 2)' in line
    assert 'half: 0.5' in line and 'Nobody 2024' in line
    assert 'not run yet' in next(line for line in table.splitlines() if 'fake/two' in line)


def test_equal_seeds_have_no_spread():
    # 0.997 three times has a float mean whose std is about 1e-16, not a spread to print.
    assert runner._mean_std([0.997, 0.997, 0.997]) == '0.997 ± 0'
    assert runner._mean_std([0.996, 0.997, 0.998]) == '0.997 ± 0.001'


def test_the_table_goes_between_the_markers(tmp_path):
    md = tmp_path / 'RESULTS.md'
    md.write_text('# Results\n\nbefore\n')
    runner.write_table('| a |\n', md)
    runner.write_table('| b |\n', md)
    text = md.read_text()
    assert text.startswith('# Results') and 'before' in text
    assert '| b |' in text and '| a |' not in text and text.count(runner.START) == 1


def test_selection_by_group_or_name():
    rows = [fake_row([], 'g/a'), fake_row([], 'g/b'), fake_row([], 'h/a')]
    assert [r.name for r in runner.select(rows, 'g')] == ['g/a', 'g/b']
    assert [r.name for r in runner.select(rows, 'h/a,g/b')] == ['g/b', 'h/a']
    with pytest.raises(SystemExit, match='unknown ledger rows: x'):
        runner.select(rows, 'x')


def test_the_groups_load_with_unique_names():
    from experiments.ledger import GROUPS

    rows = load_rows(GROUPS)
    assert rows and len({r.name for r in rows}) == len(rows)


def test_a_cpu_record_names_the_cpu_model(tmp_path, monkeypatch):
    (tmp_path / 'cpuinfo').write_text('processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n')
    monkeypatch.setattr(runner, 'CPUINFO', tmp_path / 'cpuinfo')
    assert runner.device().startswith('CPU, ') and runner.device().endswith(' cores (AMD EPYC 7B13)')
    monkeypatch.setattr(runner, 'CPUINFO', tmp_path / 'absent')
    monkeypatch.setattr(runner.platform, 'processor', lambda: '')
    assert runner.device().endswith(' cores')


def test_seeds_on_different_devices_are_counted_per_device(tmp_path):
    calls, path = [], tmp_path / 'ledger.jsonl'
    row = fake_row(calls)
    runner.run_rows([row], path=path, log=lambda m: None)
    records = runner.read_records(path)
    assert runner.summarize(row, records)['devices'] == records[0]['device']  # one device: its name alone
    for record, device in zip(records, ['CPU, 2 cores', '1x NVIDIA H100', '1x NVIDIA H100']):
        record['device'] = device
    assert runner.summarize(row, records)['devices'] == '1x NVIDIA H100: 2 seeds; CPU, 2 cores: 1 seed'
