"""Run ledger rows seed by seed (resumable), keep every record in a JSON-lines file, render the table."""

import argparse
import collections
import datetime
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

from experiments.ledger import readme
from experiments.ledger.row import Row, load_rows

LEDGER = Path('results/ledger.jsonl')
RESULTS_MD = Path('RESULTS.md')
START, END = '<!-- ledger:start -->', '<!-- ledger:end -->'
CPUINFO = Path('/proc/cpuinfo')


def cpu_model() -> str:
    """The CPU's model name ('' where the system does not say): one seed's float rounding differs
    by CPU, so two machines' records of a row can differ in their last digits."""
    try:
        for line in CPUINFO.read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def device() -> str:
    """The accelerator, or 'CPU, n cores (model)', the measurement ran on."""
    import jax

    d = jax.devices()[0]
    if d.platform == 'cpu':
        cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
        model = cpu_model()
        return f'CPU, {cores} cores' + (f' ({model})' if model else '')
    return f'{len(jax.devices())}x {d.device_kind}'


def read_records(path: Path = LEDGER) -> list[dict]:
    if not path.exists():
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def finished(records, name: str) -> set[int]:
    return {r['seed'] for r in records if r['row'] == name}


def run_rows(
    rows: list[Row], seeds: int | None = None, path: Path = LEDGER, log=print, only: int | None = None
) -> list[dict]:
    """Measure every (row, seed) not yet in ``path``; append each record as it finishes.

    ``seeds`` overrides each row's own count (seeds 0 .. n-1); ``only`` measures that one seed
    of each row, so that several processes (or devices) can take a row's seeds side by side.
    A seed that raises is reported and left out, so the next run retries it.
    """
    if only is not None and only < 0:
        raise ValueError(f'--seed must be 0 or more, got {only}')
    path.parent.mkdir(parents=True, exist_ok=True)
    records = read_records(path)
    new = []
    where = device()
    for row in rows:
        done = finished(records, row.name)
        wanted = range(seeds if seeds is not None else row.seeds) if only is None else (only,)
        for seed in wanted:
            if seed in done:
                continue
            log(f'[ledger] {row.name} seed {seed} ...')
            start = time.time()
            try:
                values = row.measure(seed)
            except Exception as e:  # noqa: BLE001 -- one bad row must not stop the ledger
                log(
                    f'[ledger] {row.name} seed {seed} failed: {type(e).__name__}: '
                    f'{str(e).splitlines()[0] if str(e) else ""}'
                )
                continue
            if row.metric not in values:
                raise KeyError(f'ledger row {row.name} returned no {row.metric!r} (keys: {sorted(values)})')
            record = {
                'row': row.name,
                'seed': seed,
                'values': {k: _number(v) for k, v in values.items()},
                'seconds': round(time.time() - start, 1),
                'device': where,
                'date': datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d'),
                'python': platform.python_version(),
            }
            with open(path, 'a') as f:
                f.write(json.dumps(record) + '\n')
            new.append(record)
            log(
                f'[ledger] {row.name} seed {seed}: {row.metric} = {record["values"][row.metric]} '
                f'({record["seconds"]} s)'
            )
    return new


def _number(v):
    v = float(v)
    return v if math.isfinite(v) else None


def _fmt(v: float) -> str:
    if v is None or not math.isfinite(v):
        return 'nan'
    a = abs(v)
    if a != 0 and (a >= 1e4 or a < 1e-3):
        return f'{v:.3g}'
    return f'{v:.4g}'


def _mean_std(values) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return 'nan'
    mean, std = readme.spread(values)
    return _fmt(mean) + ('' if len(values) == 1 else f' ± {_fmt(std)}')


def summarize(row: Row, records: list[dict]) -> dict | None:
    """The row's mean, std, worst and best seed, steps and time over its records (None if none)."""
    mine = sorted((r for r in records if r['row'] == row.name), key=lambda r: r['seed'])
    scored = [r for r in mine if r['values'].get(row.metric) is not None]
    if not mine:
        return None
    out = {'n': len(mine), 'failed_seeds': [r['seed'] for r in mine if r not in scored]}
    if scored:
        key = lambda r: r['values'][row.metric] * (1 if row.higher_is_better else -1)
        out['worst'], out['best'] = min(scored, key=key), max(scored, key=key)
    out['measured'] = _mean_std([r['values'].get(row.metric) for r in mine])
    out['extra'] = {k: _mean_std([r['values'].get(k) for r in mine]) for k in row.extra_metrics}
    if row.baseline_metric:
        out['baseline'] = _mean_std([r['values'].get(row.baseline_metric) for r in mine])
    steps = {r['values'].get('steps') for r in mine} - {None}
    out['steps'] = '/'.join(str(int(s)) for s in sorted(steps)) if steps else '-'
    out['seconds'] = sum(r['seconds'] for r in mine) / len(mine)
    devices = collections.Counter(r['device'] for r in mine)
    out['devices'] = (
        next(iter(devices))
        if len(devices) == 1
        else '; '.join(f'{d}: {n} seed{"s" * (n > 1)}' for d, n in sorted(devices.items()))
    )
    return out


def render_table(rows: list[Row], records: list[dict]) -> str:
    """The markdown ledger: one line per row, 'not run yet' where no seed has finished."""
    head = (
        '| model | reference (source) | protocol | metric | baseline | measured: mean ± std (seeds) '
        '| worst / best seed | steps | time per seed | device |\n'
        '|---|---|---|---|---|---|---|---|---|---|\n'
    )
    lines = []
    for row in rows:
        s = summarize(row, records)
        arrow = '↑' if row.higher_is_better else '↓'
        baseline = row.baseline + (f': {s["baseline"]}' if s and 'baseline' in s else '')
        if s is None:
            measured, spread, steps, secs, where = 'not run yet', '', '', '', ''
        else:
            measured = f'{s["measured"]} ({s["n"]})'
            if s['extra']:
                measured += '; ' + ', '.join(f'{k} {v}' for k, v in s['extra'].items())
            if s['failed_seeds']:
                measured += f'; NaN in seeds {s["failed_seeds"]}'
            spread = (
                f'{_fmt(s["worst"]["values"][row.metric])} (seed {s["worst"]["seed"]}) / '
                f'{_fmt(s["best"]["values"][row.metric])} (seed {s["best"]["seed"]})'
                if 'worst' in s
                else ''
            )
            steps, secs, where = s['steps'], f'{s["seconds"]:.0f} s', s['devices']
        cells = [
            f'`{row.name}` {row.model}',
            f'{row.reference} ({row.source})',
            row.protocol,
            f'{row.metric} {arrow}',
            baseline or '-',
            measured,
            spread,
            steps,
            secs,
            where,
        ]
        lines.append('| ' + ' | '.join(c.replace('|', '\\|') for c in cells) + ' |')
    return head + '\n'.join(lines) + '\n'


def write_table(table: str, path: Path = RESULTS_MD) -> None:
    """Replace the text between the ledger markers in ``path`` (appended with its heading if absent)."""
    text = path.read_text() if path.exists() else ''
    block = f'{START}\n{table}{END}'
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        text = (
            text.rstrip()
            + '\n\n## The ledger\n\nWritten by `make results` (`python -m experiments.ledger`) from '
            + '`results/ledger.jsonl`; do not edit between the markers.\n\n'
            + block
            + '\n'
        ).lstrip()
    path.write_text(text)


def select(rows: list[Row], models: str | None) -> list[Row]:
    if not models:
        return rows
    tokens = [t.strip() for t in models.split(',') if t.strip()]
    unknown = [t for t in tokens if not any(row.matches(t) for row in rows)]
    if unknown:
        raise SystemExit(f'unknown ledger rows: {", ".join(unknown)} (python -m experiments.ledger --list)')
    return [row for row in rows if any(row.matches(t) for t in tokens)]


def main(argv=None) -> None:
    from experiments.ledger import GROUPS

    parser = argparse.ArgumentParser(prog='python -m experiments.ledger', description=__doc__.splitlines()[0])
    parser.add_argument('--models', help='comma-separated rows or groups (e.g. fgan_2d,toy_densities/two_moons)')
    parser.add_argument('--seeds', type=int, help="seeds per row (default: each row's own)")
    parser.add_argument(
        '--seed', type=int, help='measure only this seed of each row (to run seeds side by side, one process each)'
    )
    parser.add_argument('--list', action='store_true', help='list the rows and exit')
    parser.add_argument(
        '--render', action='store_true', help="only render RESULTS.md and the README's measured column from the ledger"
    )
    parser.add_argument('--ledger', type=Path, default=LEDGER)
    parser.add_argument(
        '--results-md', type=Path, help=f'the table to render (default: {RESULTS_MD}, only with the default --ledger)'
    )
    parser.add_argument(
        '--readme',
        type=Path,
        help=f'the measured column to render (default: {readme.README}, only with the default --ledger)',
    )
    args = parser.parse_args(argv)
    rows = load_rows(GROUPS)
    if args.list:
        for row in rows:
            print(f'{row.name:40s} {row.seeds} seeds  {row.protocol}')
        return
    chosen = select(rows, args.models)
    if not args.render:
        run_rows(chosen, args.seeds, args.ledger, log=lambda m: print(m, file=sys.stderr, flush=True), only=args.seed)
    # A side ledger (one seed run beside others) holds a part of the records: rendering the
    # project's table and README from it would drop every other row's figures.
    main_ledger = args.ledger.resolve() == LEDGER.resolve()
    results_md = args.results_md or (RESULTS_MD if main_ledger else None)
    readme_path = args.readme or (readme.README if main_ledger else None)
    records = read_records(args.ledger)
    if results_md:
        write_table(render_table(rows, records), results_md)
    if readme_path:
        readme.write_readme(rows, records, readme_path)
    skipped = 'not rendered'
    print(f'ledger: {args.ledger}; table: {results_md or skipped}; measured column: {readme_path or skipped}')
