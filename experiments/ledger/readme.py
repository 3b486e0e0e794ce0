"""The README models table's "measured" column, written from the ledger.

``FIGURES`` is the one mapping from a README row (keyed by its module cell) to the ledger rows
it shows: each ``Figure`` names a ledger row (or, ending in ``/``, a group of rows shown one
number each) and the words that say what its metric is.  ``write_readme`` rewrites only the
last cell of each row of the table; a README row without an entry, or an entry without a
README row, is an error, so the two cannot drift apart.  A figure whose row has no finished
seed says so and gives the command that measures it.
"""

import dataclasses
import math
import re
from pathlib import Path

from experiments.ledger.row import Row

README = Path('README.md')
HEADER = '| model | module | status | measured |'
LINK = '[ledger](RESULTS.md#the-ledger)'


@dataclasses.dataclass(frozen=True)
class Figure:
    """One ledger row (``row='digits/glow'``) or group (``row='fgan_2d/'``) in a README cell.

    ``what`` says what the metric is ('test bits/dim'); ``baseline`` names the row's
    ``baseline_metric`` in a word or two ('histogram'); ``extras`` are (label, metric key)
    pairs shown as means after it ('real' or 'untrained' in brackets after the extra it is the
    baseline of); ``reference`` adds the row's reference figure.
    """

    label: str
    row: str
    what: str
    baseline: str = ''
    extras: tuple[tuple[str, str], ...] = ()
    reference: bool = False


def _flow(label, row, **kw):
    return Figure(label, row, 'test bits/dim', 'histogram', **kw)


_SAMPLES = dict(
    what='MMD² vs test images',
    baseline='real images',
    extras=(('Fréchet', 'fd'), ('real', 'real_fd'), ('class coverage', 'class_coverage')),
)
_TOY = dict(what='i-ResNet test log-likelihood, nats', baseline='coupling flow')

FIGURES: dict[str, tuple[Figure, ...]] = {
    'zoo/flows/nice.py': (_flow('digits', 'digits/nice'),),
    'zoo/flows/realnvp.py': (_flow('digits', 'digits/realnvp'),),
    'zoo/flows/glow.py': (
        _flow('digits', 'digits/glow'),
        Figure('MNIST npz 32x32', 'mnist/glow', 'test bits/dim', reference=True),
    ),
    'zoo/residual/': (
        _flow('digits', 'digits/iresnet'),
        Figure('2-D toy densities', 'toy_densities/', **_TOY),
    ),
    'zoo/vae/task.py': (Figure('digits', 'digits/vae', 'test IWAE(k=1000) bound on -log p(x), nats', reference=True),),
    'zoo/vae/clustering_task.py': (
        Figure('digits', 'clustering_vae/digits', 'Hungarian accuracy', 'k-means'),
        Figure('MNIST npz, digits recipe', 'clustering_vae/mnist32', 'Hungarian accuracy', 'k-means'),
        Figure('MNIST npz, article recipe', 'clustering_vae/mnist', 'Hungarian accuracy', 'k-means'),
        Figure(
            "MNIST npz, article recipe with the mixture's posterior",
            'clustering_vae/mnist_posterior',
            'Hungarian accuracy',
            'k-means',
        ),
        Figure(
            'MNIST npz, the same after 1500 steps of VAE pretraining',
            'clustering_vae/mnist_pretrained',
            'Hungarian accuracy',
            'k-means',
            reference=True,
        ),
    ),
    'zoo/vae/vib_task.py': (Figure('digits', 'digits/vib', 'test accuracy'),),
    'zoo/vae/infomax_task.py': tuple(
        Figure(
            label,
            f'infomax/{name}',
            'cosine 1-NN retrieval',
            'untrained encoder',
            extras=(
                ('L2', 'retrieval_l2'),
                ('untrained', 'untrained_retrieval_l2'),
                ('probe', 'probe_accuracy'),
                ('untrained', 'untrained_probe_accuracy'),
            ),
        )
        for label, name in (('digits', 'digits'), ('MNIST npz', 'mnist'))
    ),
    'zoo/vae/fvae_task.py': (Figure('digits', 'digits/fvae', 'test bits/dim bound'),),
    'zoo/gan/': (
        *(Figure(f'digits, {m}', f'digits/{m}', **_SAMPLES) for m in ('fgan', 'wgan', 'gan_onestep', 'ogan')),
        Figure('1-D Gaussian fit', 'fgan_1d/', 'error vs the exact minimiser of D_f, target 0.05'),
        Figure('2-D ring of 8 Gaussians', 'fgan_2d/', 'modes covered of 8'),
    ),
    'zoo/ebm/': (Figure('digits', 'digits/ebm', **_SAMPLES), Figure('MNIST npz', 'mnist/ebm', **_SAMPLES)),
    'zoo/imle/': (Figure('digits', 'digits/glann', **_SAMPLES),),
}


def significant(v: float, figures: int = 3) -> str:
    """``v`` to ``figures`` significant figures, trailing zeros kept (1.00), no exponent below 1e4."""
    if v is None or not math.isfinite(v):
        return 'nan'
    if v == 0:
        return '0'
    if abs(v) >= 10**figures:
        return f'{v:.0f}'
    decimals = max(0, figures - 1 - math.floor(math.log10(abs(v))))
    return f'{v:.{decimals}f}'


def spread(values: list[float]) -> tuple[float, float]:
    """(mean, sample standard deviation) over seeds; 0 for one value, and 0 where the seeds are
    equal (their float mean leaves a std of about 1e-16 times it, rounding, not spread)."""
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return mean, (0.0 if std <= 1e-9 * abs(mean) else std)


def mean_std(values: list[float]) -> str:
    """'mean ± std' with the std to one significant figure (two when it starts with 1) and the
    mean to the same decimal place; one value, or no spread, to three significant figures."""
    mean, std = spread(values)
    if std == 0:
        return significant(mean) + ('' if len(values) == 1 else ' ± 0')
    exponent = math.floor(math.log10(std))
    decimals = max(0, -exponent + (1 if std / 10**exponent < 2 else 0))
    return f'{mean:.{decimals}f} ± {std:.{decimals}f}'


def _values(records, key):
    return [r['values'][key] for r in records if r['values'].get(key) is not None]


def _mean(records, key) -> str:
    values = _values(records, key)
    if not values:
        return 'nan'
    if all(float(v).is_integer() for v in values) and len(set(values)) == 1:
        return str(int(values[0]))  # a count every seed agrees on: 8 modes, not 8.00
    return significant(sum(values) / len(values))


def _steps(records) -> str:
    steps = sorted({int(r['values']['steps']) for r in records if r['values'].get('steps') is not None})
    if not steps:
        return ''
    return f'{steps[0]} steps' if len(steps) == 1 else f'{steps[0]}-{steps[-1]} steps'


def _seeds(row: Row, records) -> str:
    n = len(records)
    failed = n - len(_values(records, row.metric))
    text = f'{n} seed{"s" if n != 1 else ""}' if n >= row.seeds else f'{n} of {row.seeds} seeds'
    return text + (f', {failed} non-finite' if failed else '')


def _one(figure: Figure, row: Row, records) -> str:
    values = _values(records, row.metric)
    measured = mean_std(values) if values else 'nan'
    detail = ', '.join(filter(None, [_seeds(row, records), _steps(records)]))
    baseline = _values(records, row.baseline_metric) if figure.baseline and row.baseline_metric else []
    if baseline:
        # to the measurement's decimal place: a floor near 0 (real images' unbiased MMD²) reads 0.0000
        decimals = len(measured.split(' ')[0].partition('.')[2])
        detail += f'; {figure.baseline} {sum(baseline) / len(baseline):.{decimals}f}'
    text = f'{figure.label}: {measured} {figure.what} ({detail})'
    if figure.extras:
        parts = []
        for label, key in figure.extras:
            part = f'{label} {_mean(records, key)}'
            # 'real' and 'untrained' read as the baseline of the extra before them
            if label in ('real', 'untrained') and parts:
                parts[-1] += f' ({part})'
            else:
                parts.append(part)
        text += '; ' + ', '.join(parts)
    if figure.reference and row.reference not in ('', '-'):
        text += f'; reference: {row.reference}'
    return text


def _group(figure: Figure, rows: list[Row], by_row) -> str:
    done = [row for row in rows if by_row[row.name]]
    counts = sorted({len(by_row[row.name]) for row in done})
    seeds = (
        f'{counts[0]} seed{"s" if counts[0] > 1 else ""} each'
        if len(counts) == 1
        else f'{counts[0]}-{counts[-1]} seeds'
    )
    parts = []
    for row in done:
        part = f'{row.name.split("/", 1)[1].replace("_", " ")} {_mean(by_row[row.name], row.metric)}'
        if figure.baseline and row.baseline_metric:
            part += f' ({figure.baseline} {_mean(by_row[row.name], row.baseline_metric)})'
        parts.append(part)
    return f'{figure.label}, {figure.what} ({seeds}): ' + ', '.join(parts)


def cell(figures: tuple[Figure, ...], rows: list[Row], records: list[dict]) -> str:
    """The measured cell for one README row: each figure's numbers, then the rows not yet run."""
    by_name = {row.name: row for row in rows}
    by_row = {row.name: [r for r in records if r['row'] == row.name] for row in rows}
    shown, missing = [], []
    for figure in figures:
        if figure.row.endswith('/'):
            group = [row for row in rows if row.name.startswith(figure.row)]
            if not group:
                raise KeyError(f'README figure {figure.label!r}: no ledger rows under {figure.row!r}')
            if any(by_row[row.name] for row in group):
                shown.append(_group(figure, group, by_row))
            missing += [row.name for row in group if not by_row[row.name]]
        else:
            if figure.row not in by_name:
                raise KeyError(f'README figure {figure.label!r}: no ledger row {figure.row!r}')
            if by_row[figure.row]:
                shown.append(_one(figure, by_name[figure.row], by_row[figure.row]))
            else:
                missing.append(figure.row)
    if missing:
        shown.append(f"not yet in the ledger: `make results ARGS='--models {','.join(missing)}'`")
    return '; '.join(shown) + f' ({LINK})'


def _split(line: str) -> list[str]:
    """A markdown table line's cells; escaped pipes (``\\|``) stay inside their cell."""
    return [c.strip() for c in re.split(r'(?<!\\)\|', line.strip())[1:-1]]


def render(text: str, rows: list[Row], records: list[dict], figures=FIGURES) -> str:
    """``text`` (the README) with each models-table row's last cell written from ``records``."""
    lines = text.split('\n')
    if HEADER not in lines:
        raise ValueError(f'README has no models table (a line {HEADER!r})')
    start = lines.index(HEADER) + 2  # past the header and its |---| line
    seen = set()
    for i in range(start, len(lines)):
        if not lines[i].startswith('|'):
            break
        cells = _split(lines[i])
        module = cells[1].strip('`')
        if module not in figures:
            raise KeyError(f'README models row {module!r} has no entry in experiments.ledger.readme.FIGURES')
        seen.add(module)
        measured = cell(figures[module], rows, records).replace('|', '\\|')
        lines[i] = '| ' + ' | '.join([*cells[:3], measured]) + ' |'
    unused = sorted(set(figures) - seen)
    if unused:
        raise KeyError(f'FIGURES names modules the README models table lacks: {", ".join(unused)}')
    return '\n'.join(lines)


def write_readme(rows: list[Row], records: list[dict], path: Path = README) -> None:
    """Rewrite the measured column of ``path``'s models table from ``records``."""
    path.write_text(render(path.read_text(), rows, records))
