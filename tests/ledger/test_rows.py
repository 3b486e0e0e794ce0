import math

from experiments.ledger import GROUPS, load_rows, rows_digits


def test_the_histogram_baseline_is_a_proper_model():
    bpd = rows_digits.histogram_bits_per_dim()
    assert 1.0 < bpd < math.log2(17)  # better than uniform over 17 levels, far from free


def test_every_row_names_its_reference_protocol_and_baseline():
    for row in load_rows(GROUPS):
        assert row.source and row.protocol and row.baseline and row.seeds >= 3, row.name
