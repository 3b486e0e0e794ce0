from pathlib import Path

import pytest

from experiments.ledger import GROUPS, load_rows, readme, runner
from experiments.ledger.readme import Figure
from experiments.ledger.row import Row

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_measured_column_is_what_the_committed_ledger_renders():
    # A hand edit of the column, or a ledger line appended without `--render`, fails here.
    text = (ROOT / 'README.md').read_text()
    records = runner.read_records(ROOT / 'results' / 'ledger.jsonl')
    rendered = readme.render(text, load_rows(GROUPS), records)
    assert rendered == text, 'README.md is stale: run `python -m experiments.ledger --render`'


def test_mean_std_rounds_to_the_spread():
    assert readme.mean_std([2.017, 2.016, 2.006]) == '2.013 ± 0.006'
    assert readme.mean_std([22.69, 22.67, 22.66]) == '22.673 ± 0.015'  # std 0.0153: two figures
    assert readme.mean_std([0.0147]) == '0.0147'
    assert readme.mean_std([0.997, 0.997, 0.997]) == '0.997 ± 0'
    assert readme.significant(1.0) == '1.00' and readme.significant(12345.6) == '12346'


def _row(name, **kw):
    return Row(name, 'M', '-', 'S', 'p', 'bpd', lambda seed: {}, higher_is_better=False, **kw)


def _record(name, seed, **values):
    return {'row': name, 'seed': seed, 'values': values, 'seconds': 1.0, 'device': 'CPU'}


TABLE = """# Zoo

| model | module | status | measured |
|---|---|---|---|
| Flow (A 2020) | `zoo/flow.py` | done: a \\| b | typed by hand |
| Toy | `zoo/toy/` | done | 3.0 |

after
"""


def test_a_cell_shows_mean_std_seeds_steps_and_baseline_and_names_what_is_not_run():
    rows = [
        _row('digits/flow', baseline_metric='histogram_bpd'),
        _row('mnist/flow'),
        _row('toy/a', baseline_metric='base'),
        _row('toy/b', baseline_metric='base'),
    ]
    records = [
        _record('digits/flow', s, bpd=v, histogram_bpd=2.4216, steps=1000) for s, v in enumerate([2.017, 2.016, 2.006])
    ] + [_record('toy/a', 0, bpd=-2.5312, base=-2.41, steps=1500)]
    figures = {
        'zoo/flow.py': (
            Figure('digits', 'digits/flow', 'test bits/dim', 'histogram'),
            Figure('MNIST', 'mnist/flow', 'test bits/dim'),
        ),
        'zoo/toy/': (Figure('2-D', 'toy/', 'log-likelihood', 'coupling'),),
    }
    text = readme.render(TABLE, rows, records, figures)
    flow, toy = (line for line in text.splitlines() if line.startswith('| Flow') or line.startswith('| Toy'))
    assert flow == (
        '| Flow (A 2020) | `zoo/flow.py` | done: a \\| b | digits: 2.013 ± 0.006 test bits/dim '
        "(3 seeds, 1000 steps; histogram 2.422); not yet in the ledger: `make results ARGS='--models mnist/flow'` "
        f'({readme.LINK}) |'
    )
    assert '2-D, log-likelihood (1 seed each): a -2.53 (coupling -2.41)' in toy
    assert "`make results ARGS='--models toy/b'`" in toy
    assert text.startswith('# Zoo\n') and text.endswith('\nafter\n') and 'typed by hand' not in text


def test_a_readme_row_without_a_figure_or_a_figure_without_a_row_is_an_error():
    rows = [_row('digits/flow')]
    with pytest.raises(KeyError, match="'zoo/toy/' has no entry"):
        readme.render(TABLE, rows, [], {'zoo/flow.py': (Figure('d', 'digits/flow', 'x'),)})
    both = {'zoo/flow.py': (Figure('d', 'digits/flow', 'x'),), 'zoo/toy/': (Figure('d', 'digits/flow', 'x'),)}
    with pytest.raises(KeyError, match='lacks: zoo/gone.py'):
        readme.render(TABLE, rows, [], {**both, 'zoo/gone.py': ()})
    with pytest.raises(KeyError, match="no ledger row 'digits/nope'"):
        readme.render(TABLE, rows, [], {**both, 'zoo/toy/': (Figure('d', 'digits/nope', 'x'),)})


def test_every_figure_names_a_ledger_row_or_group():
    names = [row.name for row in load_rows(GROUPS)]
    for figures in readme.FIGURES.values():
        for figure in figures:
            assert any(n == figure.row or (figure.row.endswith('/') and n.startswith(figure.row)) for n in names)
