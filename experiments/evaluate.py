"""Score any trained generative model: python -m experiments.evaluate WORKDIR [WORKDIR ...]

One protocol for every family (flows, i-ResNet, VAEs, f-VAE, GANs, EBM, GLANN): the
command draws ``--num-samples`` samples through the Task protocol's ``sample()`` and
compares them with a reference split of the run's dataset (``--split``, default test).

Feature network: FID's Inception-v3 (``zoo.eval``) when its converted weights are found
(``ZOO_FID_WEIGHTS`` or ``$ZOO_CACHE/fid``; ``python -m zoo.eval.weights convert``), else
a small classifier trained on the dataset's own training split
(``zoo.sample_quality.SampleClassifier``), and the output says which.  Only in the
Inception space is the Fréchet distance FID; in the classifier's space it compares models
of this zoo with each other, not with papers.

Metrics (``--metrics``, default all that apply):

    fd        Fréchet distance of Gaussian fits to the features (FID on Inception features)
    is        Inception Score on the feature network's class probabilities
    pr        improved precision / recall, k = 3 (Kynkäänniemi et al. 2019)
    dc        density / coverage, k = 5 (Naeem et al. 2020)
    mmd       pixel-space kernel MMD^2 (points: in the data space)
    classes   class coverage and class-histogram TV from the classifier's predictions
    likelihood  the task's test-split summary where it has a likelihood: bits/dim for
              flows and i-ResNet, the IWAE bound for VAEs

Each statistic also gets its "data floor": the same statistic for as many training
examples against the reference, about what a model reproducing the training data reaches.
Reference features in the Inception space are cached next to the data (the run's
data_dir, else ``$ZOO_CACHE/reference``).  Per run, results go to
``WORKDIR/evaluation{_conditions}.json`` and as one record to ``WORKDIR/metrics.jsonl``
(keys ``eval/...``); for all runs together, ``--out`` gets a markdown table
(``evaluation.md``) and one sheet of samples per dataset, each model a row
(``samples_<dataset>.png``).  ``--condition NAME=VALUE`` passes a keyword to ``sample``
(an EBM's ``source=buffer``).
"""

import argparse
import ast
import json
import os

import jax
import numpy as np
from tqdm.auto import tqdm

from zoo import data, sample_quality
from zoo.eval import features as feature_nets
from zoo.eval import metrics as eval_metrics
from zoo.eval import weights
from zoo.train import Task, load_trained
from zoo.train import mesh as mesh_lib
from zoo.train.loop import EVAL_SEED
from zoo.train.step import make_eval_step
from zoo.train.writer import MetricsWriter, read_metrics

ALL_METRICS = ('fd', 'is', 'pr', 'dc', 'mmd', 'classes', 'likelihood')
LIKELIHOOD_KEYS = ('bpd', 'nll', 'iwae')  # summary names that carry a likelihood or its bound
SHEET_SAMPLES = 10


def split_arrays(dataset, split: str):
    """All examples (images or points) of ``split`` and their labels (None without) as numpy arrays."""
    examples, labels = [], []
    for batch in dataset.eval_batches(1000, split):
        keep = np.asarray(batch['mask'])
        examples.append(np.asarray(batch[dataset.info.key])[keep])
        if 'label' in batch:
            labels.append(np.asarray(batch['label'])[keep])
    return np.concatenate(examples), (np.concatenate(labels) if labels else None)


def parse_conditions(pairs) -> dict:
    """['source=buffer', 'temperature=0.7'] -> {'source': 'buffer', 'temperature': 0.7}."""
    conditions = {}
    for pair in pairs or ():
        name, sep, value = pair.partition('=')
        if not sep or not name:
            raise SystemExit(f'error: --condition {pair!r}: write NAME=VALUE')
        try:
            conditions[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            conditions[name] = value
    return conditions


def dataset_key(config) -> str:
    return f'{config.dataset}_{config.image_size or "native"}'.replace(':', '_').replace('/', '_')


class Reference:
    """One dataset's reference split, training split and feature network, shared by every run on it."""

    def __init__(self, config, split: str, weights_path: str | None, log=print):
        self.dataset = data.open_dataset(
            config.dataset,
            data_dir=config.data_dir,
            image_size=config.image_size,
            validation_fraction=config.validation_fraction,
        )
        self.info, self.split = self.dataset.info, split
        self.train, self.train_labels = split_arrays(self.dataset, 'train')
        self.examples, self.labels = split_arrays(self.dataset, split)
        self.classifier = self.network = None
        if self.info.key != 'image':
            return
        if self.train_labels is not None:
            self.classifier = feature_nets.ClassifierFeatures(self.train, self.train_labels, self.info.num_levels)
        try:
            self.network = feature_nets.InceptionFeatures.from_file(weights_path)
        except weights.MissingWeights as missing:
            if self.classifier is None:
                raise SystemExit(
                    f'error: {missing}; {config.dataset} has no labels for the offline classifier'
                ) from None
            log(f'{missing}\n-> using the offline classifier features instead: numbers are not FID')
            self.network = self.classifier
        cache_dir = config.data_dir or os.path.join(
            os.path.dirname(os.path.dirname(weights.default_path())), 'reference'
        )
        self.cache = os.path.join(cache_dir, f'fid_reference_{dataset_key(config)}_{split}.npz')
        self.features = self.reference_features()

    @property
    def description(self) -> str:
        return f'{self.split} split ({len(self.examples)} examples)'

    def reference_features(self) -> dict:
        """Features of the reference split; Inception's are cached on disk (the classifier is retrained per call)."""
        cached = isinstance(self.network, feature_nets.InceptionFeatures)
        if cached and os.path.exists(self.cache):
            with np.load(self.cache) as f:
                if len(f['features']) == len(self.examples):
                    return dict(f)
        out = self.network(self.examples, self.info.num_levels, progress=f'reference {self.split} features')
        if cached:
            os.makedirs(os.path.dirname(self.cache), exist_ok=True)
            np.savez(self.cache, **out)
        return out


def image_metrics(reference: Reference, generated, chosen, seed: int) -> dict:
    """The image statistics of ``generated`` (uint8) against the reference split."""
    levels = reference.info.num_levels
    out = {}
    fake = reference.network(generated, levels, progress='sample features')
    real = reference.features
    # Precision / recall and density / coverage compare equal-sized sets (the papers' protocol).
    n = min(len(generated), len(reference.examples))
    subset = np.random.default_rng(seed).choice(len(reference.examples), n, replace=False)
    if 'fd' in chosen:
        out['fd'] = eval_metrics.frechet_distance_of_features(fake['features'], real['features'])
    if 'is' in chosen:
        out['is'], out['is_std'] = eval_metrics.inception_score(fake['probs'], splits=min(10, len(generated)))
    if 'pr' in chosen:
        out.update(eval_metrics.precision_recall(real['features'][subset], fake['features'][:n], k=3))
    if 'dc' in chosen:
        out.update(eval_metrics.density_coverage(real['features'][subset], fake['features'][:n], k=5))
    if 'mmd' in chosen:
        m = min(n, 2000)
        flat = lambda x: sample_quality.flat_intensities(x[:m], levels)
        out['mmd2'] = sample_quality.kernel_mmd(flat(generated), flat(reference.examples[subset]))
    if 'classes' in chosen and reference.classifier is not None:
        predicted = reference.classifier.classifier.predict(generated)
        num_classes = reference.classifier.classifier.num_classes
        counts = sample_quality.class_coverage(predicted, num_classes, reference.labels)
        out['class_coverage'], out['class_histogram_tv'] = counts['coverage'], counts['histogram_tv']
    return out


def likelihood_numbers(summary: dict) -> dict:
    """A test-split summary's likelihood numbers (bits/dim, NLL, IWAE bound), as ``test_<name>``."""
    return {f'test_{k}': float(v) for k, v in summary.items() if any(word in k for word in LIKELIHOOD_KEYS)}


def recorded_test_summary(workdir: str, step: int) -> dict:
    """The loop's own test-split summary at ``step`` from the run's metrics.jsonl, or {} where the
    run recorded none at that step (a run killed before its end).  It holds the numbers
    ``likelihood`` computes (same split, same evaluation noise) without compiling the evaluation."""
    path = os.path.join(workdir, 'metrics.jsonl')
    summary = {}
    for record in read_metrics(path) if os.path.exists(path) else ():
        if record.get('step') == step and any(k.startswith('test/') for k in record):
            summary = {k.removeprefix('test/'): v for k, v in record.items() if k.startswith('test/')}
    return summary


def likelihood(trained, dataset, batch_size: int) -> dict:
    """The task's own test-split summary, restricted to its likelihood numbers (bits/dim, IWAE bound)."""
    mesh = mesh_lib.make_mesh(jax.local_devices()[:1])
    eval_fn = make_eval_step(trained.task, mesh)
    state = mesh_lib.replicate(mesh, trained.state)
    rng = jax.random.PRNGKey(EVAL_SEED)  # the loop's evaluation noise: the numbers equal its test summary
    chunks = []
    batches = dataset.eval_batches(batch_size, 'test')
    for i, batch in enumerate(tqdm(batches, desc='test likelihood', leave=False)):
        values = eval_fn(state, mesh_lib.shard_batch(mesh, batch), jax.random.fold_in(rng, i))
        chunks.append({**jax.tree.map(np.asarray, values), '_mask': np.asarray(batch['mask'])})
    values = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    mask = values.pop('_mask').astype(bool)
    return likelihood_numbers(trained.task.summarize({k: v[mask] for k, v in values.items()}))


def evaluate(
    workdir: str,
    num_samples: int = 1000,
    split: str = 'test',
    chosen=ALL_METRICS,
    seed: int = 0,
    conditions=None,
    weights_path: str | None = None,
    references: dict | None = None,
    log=print,
) -> dict:
    """Score the run in ``workdir``; writes ``evaluation*.json`` and a ``metrics.jsonl`` record, returns the result.

    ``references`` caches a ``Reference`` per dataset across calls (pass the same dict).
    """
    conditions = conditions or {}
    trained = load_trained(workdir)
    config = trained.config
    if type(trained.task).sample is Task.sample:  # checked before the reference split's features are computed
        raise ValueError(f'{config.task} is not a generative model: its task has no sample()')
    references = {} if references is None else references
    key = (dataset_key(config), split)
    if key not in references:
        references[key] = Reference(config, split, weights_path, log)
    reference = references[key]
    generated = np.asarray(trained.task.sample(trained.state, jax.random.key(seed), num_samples, **conditions))
    result = {
        'task': config.task,
        'dataset': config.dataset,
        'step': trained.step,
        'reference': reference.description,
        'num_samples': num_samples,
        'conditions': conditions,
    }
    floor_rng = np.random.default_rng(seed)
    train_subset = reference.train[
        floor_rng.choice(len(reference.train), min(num_samples, len(reference.train)), False)
    ]
    if reference.info.key == 'image':
        result['feature_network'] = reference.network.name
        result.update(image_metrics(reference, generated, chosen, seed))
        result['data_floor'] = image_metrics(reference, train_subset, chosen, seed)
    else:
        n = min(len(generated), len(reference.examples), 2000)
        if 'mmd' in chosen:
            result['mmd2'] = sample_quality.kernel_mmd(generated[:n], reference.examples[:n])
            result['data_floor'] = {'mmd2': sample_quality.kernel_mmd(train_subset[:n], reference.examples[:n])}
    if 'likelihood' in chosen and trained.task.headline in ('bpd', 'nll', 'iwae_nll'):
        # Evaluating the test split compiles the model's evaluation (minutes for a Glow on a CPU):
        # the run's own record at this step is read instead where there is one.
        recorded = likelihood_numbers(recorded_test_summary(workdir, trained.step))
        result.update(recorded or likelihood(trained, reference.dataset, config.eval_batch_size))
    suffix = ''.join(f'_{value}' for value in conditions.values())
    with open(os.path.join(workdir, f'evaluation{suffix}.json'), 'w') as f:
        json.dump(result, f, indent=1)
    # The record carries its protocol (reference set, sample count, features) and the data floor beside the numbers.
    protocol = ('reference', 'num_samples', 'feature_network')
    record = {k: v for k, v in result.items() if isinstance(v, float) or k in protocol}
    record.update({f'data_floor/{k}': v for k, v in result.get('data_floor', {}).items()})
    MetricsWriter(workdir).write({'step': trained.step, **{f'eval{suffix}/{k}': v for k, v in record.items()}})
    result['samples'], result['reference_set'] = generated, reference  # for the table and sheet, not saved
    return result


COLUMNS = (
    ('fd', 'FD', '.2f'),
    ('is', 'IS', '.2f'),
    ('precision', 'precision', '.2f'),
    ('recall', 'recall', '.2f'),
    ('density', 'density', '.2f'),
    ('coverage', 'coverage', '.2f'),
    ('class_coverage', 'classes', '.2f'),
    ('mmd2', 'MMD^2', '.4f'),
    ('test_bpd', 'test bpd', '.3f'),
    ('test_iwae_nll', 'IWAE NLL', '.2f'),
)


def table(results: list[tuple[str, dict]]) -> str:
    """A markdown table of the runs' numbers, the data floor first, with the protocol above it."""
    used = [c for c in COLUMNS if any(c[0] in r for _, r in results)]
    first = results[0][1]
    lines = [
        (
            f'Reference: {first["dataset"]} {first["reference"]}; {first["num_samples"]} samples per model; '
            f'features: {first.get("feature_network", "data space")}.'
        ),
        '',
        '| model | step | ' + ' | '.join(c[1] for c in used) + ' |',
        '|---|---|' + '---|' * len(used),
    ]
    cell = lambda r, c: format(r[c[0]], c[2]) if c[0] in r else ''
    lines.append('| data floor (train examples) | | ' + ' | '.join(cell(first['data_floor'], c) for c in used) + ' |')
    for name, r in results:
        lines.append(f'| {name} ({r["task"]}) | {r["step"]} | ' + ' | '.join(cell(r, c) for c in used) + ' |')
    return '\n'.join(lines)


def sheet(path: str, results: list[tuple[str, dict]], reference: Reference) -> str:
    """Samples of every model on one dataset side by side: a row per model, the data on top."""
    from zoo.viz.plotting import image_rows, save_figure

    rows = [reference.examples[:SHEET_SAMPLES]] + [r['samples'][:SHEET_SAMPLES] for _, r in results]
    labels = [f'data ({reference.split})'] + [f'{name} ({r["task"]})' for name, r in results]
    return save_figure(image_rows(rows, reference.info.num_levels, labels=labels), path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('workdirs', nargs='+')
    parser.add_argument('--num-samples', type=int, default=1000)
    parser.add_argument('--split', default='test', choices=('train', 'validation', 'test'), help='reference set')
    parser.add_argument('--metrics', default=','.join(ALL_METRICS), help=f'comma-separated of {",".join(ALL_METRICS)}')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--weights', default=None, help=f'converted Inception npz (default {weights.default_path()})')
    parser.add_argument('--out', default='evaluation', help='folder for the table and the side-by-side sheets')
    parser.add_argument(
        '--condition',
        action='append',
        metavar='NAME=VALUE',
        help="a keyword for the task's sample(), e.g. source=buffer for an EBM (repeatable)",
    )
    parser.add_argument('--debug', action='store_true', help='print tracebacks instead of one-line errors')
    args = parser.parse_args(argv)
    chosen = tuple(m for m in args.metrics.split(',') if m)
    unknown = sorted(set(chosen) - set(ALL_METRICS))
    if unknown:
        raise SystemExit(f'error: unknown metric {unknown[0]!r}; choose from {",".join(ALL_METRICS)}')
    conditions = parse_conditions(args.condition)
    references, groups = {}, {}
    for workdir in tqdm(args.workdirs, desc='runs', disable=len(args.workdirs) < 2):
        # A run that is not trained or a task that does not sample is one line; --debug shows where.
        try:
            options = (args.num_samples, args.split, chosen, args.seed, conditions, args.weights, references)
            result = evaluate(workdir, *options, tqdm.write)
        except Exception as e:
            if args.debug:
                raise
            raise SystemExit(
                f'error: {workdir}: {str(e).strip() or type(e).__name__} (--debug for the traceback)'
            ) from None
        groups.setdefault(id(result['reference_set']), []).append((os.path.basename(workdir.rstrip('/')), result))
    os.makedirs(args.out, exist_ok=True)
    report = []
    for results in groups.values():
        reference = results[0][1]['reference_set']
        report.append(table(results))
        if reference.info.key == 'image':
            name = results[0][1]['dataset'].replace(':', '_').replace('/', '_')
            report.append(
                f'Samples side by side: {sheet(os.path.join(args.out, f"samples_{name}.png"), results, reference)}'
            )
    text = '\n\n'.join(report)
    with open(os.path.join(args.out, 'evaluation.md'), 'w') as f:
        f.write(text + '\n')
    print(text)


if __name__ == '__main__':
    main()
