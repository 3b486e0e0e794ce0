"""What a run writes beside its checkpoints: ``metrics.jsonl``, TensorBoard events, PNG sheets.

    metrics.jsonl     one JSON object per line: training windows, evaluations, guard events,
                      refits
    events.out.tfevents.*   the same scalars and the sheets, for TensorBoard (tensorboardX,
                      which needs no TensorFlow)
    samples/<name>_step<step>.png

Only process 0 writes; the others' writers do nothing.
"""

import json
import os

import jax
import numpy as np
from PIL import Image


class MetricsWriter:
    """Appends records to ``metrics.jsonl`` and TensorBoard; saves sheets as PNG."""

    def __init__(self, workdir: str):
        self.workdir = workdir
        self.path = os.path.join(workdir, 'metrics.jsonl')
        self.enabled = jax.process_index() == 0
        self._tensorboard = None

    @property
    def tensorboard(self):
        """The TensorBoard writer, created on first use (tensorboardX imports protobuf)."""
        if self._tensorboard is None:
            from tensorboardX import SummaryWriter  # imported on first use: it loads protobuf

            self._tensorboard = SummaryWriter(self.workdir, flush_secs=30)
        return self._tensorboard

    def truncate_after(self, step: int) -> None:
        """Drop records past ``step`` (written by a run that died after its last checkpoint), and a
        refit at ``step``: a checkpoint at a refit step holds the state before the refit, so the
        resumed run refits and writes it again."""
        if not (self.enabled and os.path.exists(self.path)):
            return
        redone = lambda r: r.get('step', 0) == step and r.get('event') == 'refit'
        kept = [r for r in read_metrics(self.path) if r.get('step', 0) <= step and not redone(r)]
        with open(self.path, 'w') as f:
            f.writelines(json.dumps(r) + '\n' for r in kept)

    def write(self, record: dict, scalars_prefix: str = '') -> None:
        """Append ``record`` (it must have 'step'); its numbers also go to TensorBoard."""
        if not self.enabled:
            return
        with open(self.path, 'a') as f:
            f.write(json.dumps(record) + '\n')
        for key, value in record.items():
            if key != 'step' and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.tensorboard.add_scalar(scalars_prefix + key, value, record['step'])

    def save_sheet(self, name: str, sheet: np.ndarray, step: int, min_width: int = 256) -> str | None:
        """Write a uint8 (H, W, C) sheet as PNG, enlarged (nearest) to at least ``min_width``."""
        if not self.enabled:
            return None
        sheet = np.asarray(sheet)
        if sheet.dtype != np.uint8 or sheet.ndim != 3:
            raise ValueError(f'sheet {name!r} must be uint8 (H, W, C), got {sheet.dtype} {sheet.shape}')
        self.tensorboard.add_image(name, sheet, step, dataformats='HWC')
        image = Image.fromarray(sheet[..., 0] if sheet.shape[-1] == 1 else sheet)
        scale = max(1, -(-min_width // sheet.shape[1]))
        if scale > 1:
            image = image.resize((sheet.shape[1] * scale, sheet.shape[0] * scale), Image.Resampling.NEAREST)
        path = os.path.join(self.workdir, 'samples', f'{name}_step{step:07d}.png')
        os.makedirs(os.path.dirname(path), exist_ok=True)
        image.save(path)
        return path

    def close(self) -> None:
        """Flushes and closes the TensorBoard writer, if one was opened."""
        if self._tensorboard is not None:
            self._tensorboard.close()


def read_metrics(path) -> list[dict]:
    """The records of a metrics.jsonl file (a file cut mid-line by a kill loses that line)."""
    records = []
    with open(path) as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return records


def last_values(path, prefix: str) -> dict:
    """The newest value of each ``prefix``-ed key in a metrics file, prefix removed."""
    values = {}
    if os.path.exists(path):
        for record in read_metrics(path):
            values.update({k[len(prefix) :]: v for k, v in record.items() if k.startswith(prefix)})
    return values
