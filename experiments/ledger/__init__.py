"""The results ledger: every model's fixed protocol over several seeds, in one file and one table.

    python -m experiments.ledger [--models fgan_2d,toy_densities] [--seeds N] [--list]
    make results ARGS='--models fgan_1d'

A ``Row`` names a model, the figure its paper (or article) reports and where, the
protocol (dataset and split, steps or seconds, config), a baseline anyone can check,
and a function ``measure(seed) -> dict`` of numbers.  The runner appends one record per
(row, seed) to ``results/ledger.jsonl`` and skips the seeds already there, so an
interrupted run resumes; then it renders the table into ``RESULTS.md`` between the
ledger markers, and the README models table's measured column (``readme.FIGURES`` says
which rows feed which model).  That file is the only place a measured number is typed.

Rows live in one module per group, ``experiments/ledger/rows_<group>.py``, each defining
``ROWS``; a group joins the ledger by one line in ``GROUPS``.
"""

import os

from experiments.ledger.row import Row, load_rows

# The MNIST rows' data: the 32x32 npz of real MNIST test images (9000 train / 1000 test) that
# ``python /work/shared/peer/mnist_npz.py PATH`` writes; the project does not ship it.
MNIST_NPZ = 'npz:' + os.environ.get('ZOO_MNIST_NPZ', '/tmp/mnist.npz')

GROUPS = [
    'experiments.ledger.rows_fgan',
    'experiments.ledger.rows_toy',
    'experiments.ledger.rows_vae',
    'experiments.ledger.rows_digits',
    'experiments.ledger.rows_conditional',
]

__all__ = ['GROUPS', 'MNIST_NPZ', 'Row', 'load_rows']
