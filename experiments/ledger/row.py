"""A ledger row: what is measured, against which reference and baseline, under which protocol."""

import dataclasses
import importlib
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class Row:
    """One model under one protocol.

    ``name`` is unique and reads ``<group>/<variant>`` (``--models`` takes either part before
    the slash or the whole name).  ``measure(seed)`` trains and evaluates once and returns a
    dict of numbers holding at least ``metric``; ``baseline_metric``, when given, is a key of
    the same dict measured beside the model (k-means, an untrained encoder, real images), and
    ``steps`` a key the table shows when present.  ``higher_is_better`` decides which seed is
    the worst and which the best.
    """

    name: str
    model: str
    reference: str  # the paper's figure, e.g. '0.83 Hungarian accuracy'; '-' where none applies
    source: str  # e.g. 'Nowozin et al. 2016, sec. 4.1'
    protocol: str  # dataset and split, steps or seconds, config
    metric: str
    measure: Callable[[int], dict]
    baseline: str = ''  # the baseline's name (and its figure when it is not measured)
    baseline_metric: str | None = None
    higher_is_better: bool = True
    seeds: int = 3
    extra_metrics: tuple[str, ...] = ()  # shown as means beside the main one

    def __post_init__(self):
        if '/' not in self.name:
            raise ValueError(f'ledger row name {self.name!r} must read <group>/<variant>')

    def matches(self, token: str) -> bool:
        return token == self.name or self.name.startswith(token + '/')


def load_rows(groups) -> list[Row]:
    """The ``ROWS`` of every module in ``groups``, in order; names must be unique."""
    rows = [row for module in groups for row in importlib.import_module(module).ROWS]
    names = [row.name for row in rows]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f'ledger rows named twice: {", ".join(duplicates)}')
    return rows
