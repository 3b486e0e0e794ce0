"""Run outputs: metrics.jsonl survives kills and truncation; sheets are checked and saved."""

import numpy as np
import pytest
from PIL import Image

from zoo.train import MetricsWriter, read_metrics
from zoo.train.writer import last_values


def test_metrics_append_truncate_and_survive_a_cut_line(tmp_path):
    writer = MetricsWriter(str(tmp_path))
    for step in (2, 4, 6):
        writer.write({'step': step, 'loss': float(step)})
    writer.write({'step': 6, 'test/bpd': 1.5, 'validation/bpd': 1.4})
    with open(writer.path, 'a') as f:
        f.write('{"step": 8, "loss"')  # a kill mid-line
    assert [r['step'] for r in read_metrics(writer.path)] == [2, 4, 6, 6]
    writer.truncate_after(4)
    assert [r['step'] for r in read_metrics(writer.path)] == [2, 4]
    writer.write({'step': 6, 'test/bpd': 1.25})
    assert last_values(writer.path, 'test/') == {'bpd': 1.25}
    writer.close()


def test_a_refit_at_the_resume_step_is_dropped_with_the_records_past_it(tmp_path):
    """A checkpoint at a refit step holds the state before the refit: the resumed run writes it again."""
    writer = MetricsWriter(str(tmp_path))
    writer.write({'step': 2, 'event': 'refit', 'refit/examples': 5.0})
    writer.write({'step': 4, 'loss': 1.0})
    writer.write({'step': 4, 'event': 'refit', 'refit/examples': 5.0})
    writer.write({'step': 6, 'loss': 0.5})
    writer.truncate_after(4)
    assert read_metrics(writer.path) == [
        {'step': 2, 'event': 'refit', 'refit/examples': 5.0},
        {'step': 4, 'loss': 1.0},
    ]
    writer.close()


def test_sheets_are_enlarged_pngs_and_bad_sheets_are_refused(tmp_path):
    writer = MetricsWriter(str(tmp_path))
    path = writer.save_sheet('samples', np.full((10, 20, 1), 7, np.uint8), step=3)
    assert path.endswith('samples/samples_step0000003.png')
    image = np.asarray(Image.open(path))
    assert image.shape == (130, 260) and np.all(image == 7)  # nearest-neighbour x13 to reach 256 wide
    with pytest.raises(ValueError, match=r"sheet 'bad' must be uint8 \(H, W, C\), got float32"):
        writer.save_sheet('bad', np.zeros((4, 4, 1), np.float32), step=3)
    writer.close()
