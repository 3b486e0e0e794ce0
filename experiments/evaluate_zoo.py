"""Train every generative model's default run on one dataset and score them together.

    python -m experiments.evaluate_zoo --workdirs /tmp/zoo-digits --out results --tag digits
    python -m experiments.evaluate_zoo --dataset npz:mnist32.npz --seconds 240 \
        --workdirs /tmp/zoo-mnist32 --out results --tag mnist32

Each model trains as ``python -m experiments.train MODEL --config C --seed 0`` would, into
``WORKDIRS/<run>``, one after another in this process (C: the model's config for the
dataset, e.g. ``mnist32`` for an npz where the model has one, else its default, the digits
config), unless that workdir holds a run that reached its end: rerunning resumes where a
queue stopped, a run cut mid-training from its last checkpoint.  ``--seconds`` gives every
model the same wall-clock budget (default: the config's own steps; a resumed run gets the
budget again).  A model that cannot train on the dataset is reported with its one-line
error and left out.

Then ``experiments.evaluate`` scores every trained run against the same reference split
and writes ``OUT/evaluation_<tag>.md`` (the protocol, the table, the failures) and
``OUT/evaluation_samples_<tag>.png`` (a row of samples per model under a row of data).
"""

import argparse
import os
import time

from experiments import configs, evaluate, runner
from zoo.train.writer import read_metrics

# (run name, model, config) of every generative model; the conditional ones sample their
# classes in turn (0, 1, ..., 9, 0, ...).
RUNS = (
    ('nice', 'nice', None),
    ('realnvp', 'realnvp', None),
    ('glow', 'glow', None),
    ('iresnet', 'iresnet', None),
    ('vae', 'vae', None),
    ('vae_cluster', 'vae_cluster', None),
    ('fvae', 'fvae', None),
    ('fgan', 'fgan', None),
    ('wgan', 'wgan', None),
    ('gan_onestep', 'gan_onestep', None),
    ('ogan', 'ogan', None),
    ('ebm', 'ebm', None),
    ('glann', 'glann', None),
    ('cvae', 'cvae', None),
    ('cgan', 'cgan', None),
    ('glow_cond', 'glow', 'cond'),
)


def config_name(model: str, variant: str | None, dataset: str | None) -> str:
    """The model's config for ``dataset``: ``mnist32[_cond]`` for an npz where it exists, else the digits one."""
    names = configs.names(model)
    suffix = f'_{variant}' if variant else ''
    if dataset and dataset.startswith('npz:') and f'mnist32{suffix}' in names:
        return f'mnist32{suffix}'
    return f'digits{suffix}' if variant else names[0]


def train_args(config: str, workdir: str, dataset: str | None, seconds: float | None) -> list[str]:
    """The ``python -m experiments.train MODEL`` flags of one run."""
    argv = ['--config', config, '--seed', '0', '--workdir', workdir]
    if dataset:
        argv += ['--dataset', dataset]
    if seconds:
        argv += ['--seconds', str(seconds)]
    return argv


def finished(workdir: str) -> bool:
    """Whether the run in ``workdir`` reached its end: zoo.train closes a run with a ``summary``
    record in metrics.jsonl, after its final test evaluation and checkpoint.  A run killed
    before that (its periodic checkpoints may be there) is trained again, which resumes it."""
    path = os.path.join(workdir, 'metrics.jsonl')
    return os.path.exists(path) and any('summary' in record for record in read_metrics(path))


def train_all(runs, root: str, dataset: str | None, seconds: float | None, log=print) -> tuple[list, dict]:
    """Train each run not yet trained; returns the trained workdirs and ``{run: error line}`` of the rest.

    The runs train in this process, one after another: on a loaded machine a fresh
    process per model would spend a minute importing JAX each time.
    """
    trained, failed = [], {}
    for name, model, variant in runs:
        workdir = os.path.join(root, name)
        config = config_name(model, variant, dataset)
        if not finished(workdir):
            start = time.time()
            log(f'training {name} ({model} --config {config}) into {workdir}')
            try:
                summary = runner.run(model, train_args(config, workdir, dataset, seconds))
            except Exception as e:  # noqa: BLE001 - a model that rejects the dataset is reported, the rest go on
                failed[name] = f'error: {str(e).strip() or type(e).__name__}'
                log(f'  {name}: {failed[name]}')
                continue
            log(f'  {name}: {summary["step"]} steps, {time.time() - start:.0f} s')
        trained.append((name, workdir))
    return trained, failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--workdirs', required=True, help='folder of the runs, one subfolder per model')
    parser.add_argument('--dataset', help="e.g. npz:PATH (default: each config's own, the digits)")
    parser.add_argument('--seconds', type=float, help='the same training wall-clock budget for every model')
    parser.add_argument(
        '--models',
        help=f'comma-separated run names, trained in this order (default all: {",".join(r[0] for r in RUNS)})',
    )
    parser.add_argument('--num-samples', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='evaluation', help='folder for evaluation_<tag>.md and its sheet')
    parser.add_argument('--tag', default='digits', help='names the outputs')
    args = parser.parse_args(argv)
    chosen = args.models.split(',') if args.models else [r[0] for r in RUNS]
    unknown = sorted(set(chosen) - {r[0] for r in RUNS})
    if unknown:
        raise SystemExit(f'error: unknown run {unknown[0]!r}; choose from {",".join(r[0] for r in RUNS)}')
    runs = [next(r for r in RUNS if r[0] == name) for name in chosen]  # the queue in the order given
    trained, failed = train_all(runs, args.workdirs, args.dataset, args.seconds)
    if not trained:
        raise SystemExit('error: no run trained; see the lines above')

    references, results = {}, []
    for name, workdir in trained:
        try:
            start = time.time()
            result = evaluate.evaluate(workdir, args.num_samples, seed=args.seed, references=references)
            print(f'evaluated {name} in {time.time() - start:.0f} s')
            results.append((name, result))
        except Exception as e:  # noqa: BLE001 - one model's failure must not lose the others' numbers
            failed[name] = f'error: {str(e).strip() or type(e).__name__}'
            print(f'  {name}: {failed[name]}')
    if not results:
        raise SystemExit('error: no run could be scored; see the lines above')
    os.makedirs(args.out, exist_ok=True)
    budget = f'{args.seconds:.0f} s of training each' if args.seconds else "each config's own steps"
    lines = [
        f'Training: `python -m experiments.evaluate_zoo{" --dataset " + args.dataset if args.dataset else ""}'
        f"{' --seconds ' + format(args.seconds, 'g') if args.seconds else ''}`: every model's default config "
        f'for the dataset, seed 0, {budget}; sampling seed {args.seed}.',
        '',
        evaluate.table(results),
    ]
    if failed:
        lines += ['', 'Not scored:', ''] + [f'- {name}: `{line}`' for name, line in failed.items()]
    reference = results[0][1]['reference_set']
    if reference.info.key == 'image':
        path = evaluate.sheet(os.path.join(args.out, f'evaluation_samples_{args.tag}.png'), results, reference)
        lines += ['', f'Samples side by side: `{path}`']
    text = '\n'.join(lines) + '\n'
    with open(os.path.join(args.out, f'evaluation_{args.tag}.md'), 'w') as f:
        f.write(text)
    print(text)


if __name__ == '__main__':
    main()
