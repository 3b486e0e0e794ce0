"""The training configuration: one flat dataclass, plus ``key=value`` overrides.

Experiments build a ``Config`` in a small function (see ``experiments/configs``)
and the command line changes any field with ``--set field=value``; model
arguments are reached with a dotted name, ``--set model_kwargs.hidden=128``.
"""

import ast
import dataclasses
import json
from typing import Any


@dataclasses.dataclass
class Config:
    """Everything a training run depends on; saved as JSON next to each checkpoint."""
    # What to train.
    model: str = 'glow'                 # a name in zoo.train.models.MODELS
    model_kwargs: dict = dataclasses.field(default_factory=dict)
    dataset: str = 'digits'             # a name zoo.data knows
    data_dir: str | None = None         # TFDS data dir (None: TFDS's default)
    seed: int = 0

    # How long and how big.
    steps: int = 2000
    batch_size: int = 64                # global: split over every device of every host

    # Optimizer (zoo.train.optim).
    optimizer: str = 'adam'             # adam | adamax
    lr: float = 1e-3
    b1: float = 0.9
    b2: float = 0.999
    warmup_steps: int = 100             # linear warm-up from 0
    schedule: str = 'constant'          # constant | cosine (after warm-up)
    final_lr_fraction: float = 0.0      # cosine ends at lr * final_lr_fraction
    weight_decay: float = 0.0           # decoupled (AdamW-style); 0: off
    clip_grad_norm: float = 0.0         # 0: no clipping
    grad_accum_steps: int = 1           # optax.MultiSteps: one update every k steps
    lr_groups: dict = dataclasses.field(default_factory=dict)  # param-path substring -> lr multiplier
    igr_step_size: float = 0.0          # explicit implicit-gradient-regularisation penalty (SPEC 8); 0: off
    ema_decay: float = 0.0              # parameter EMA (warmed up) used for eval and samples; 0: off

    # Loop bookkeeping (zoo.train.loop).  Intervals are in steps; 0 disables.
    log_every: int = 50
    eval_every: int = 500
    sample_every: int = 500
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    eval_batch_size: int = 256
    temperatures: tuple = (0.5, 0.7, 0.8, 0.9, 1.0)
    num_samples: int = 64

    # Divergence guard (zoo.train.guard).
    guard_max_retries: int = 5          # consecutive failed windows before giving up
    guard_lr_decay: float = 0.5         # lr scale multiplier after each divergence
    guard_explode_factor: float = 3.0   # loss above ref + (factor - 1) |ref| counts as exploding

    def to_dict(self) -> dict:
        """A JSON-ready dict (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, d: dict) -> 'Config':
        """Inverse of ``to_dict``; unknown keys are an error so stale configs are noticed."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f'unknown config fields {sorted(unknown)}')
        d = dict(d)
        if 'temperatures' in d:
            d['temperatures'] = tuple(d['temperatures'])
        return cls(**d)


def _parse_value(text: str) -> Any:
    """Python literal if it parses (1e-3, True, (1, 2), None), else the raw string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def override(config: Config, assignments) -> Config:
    """Apply ``['lr=3e-4', 'model_kwargs.hidden=128', ...]`` to a copy of ``config``.

    Top-level fields keep their type (an int field given ``2.0`` is an error);
    dotted names set keys inside dict fields.
    """
    config = dataclasses.replace(config, model_kwargs=dict(config.model_kwargs),
                                 lr_groups=dict(config.lr_groups))
    fields = {f.name: f for f in dataclasses.fields(config)}
    for assignment in assignments:
        if '=' not in assignment:
            raise ValueError(f'override {assignment!r} is not of the form field=value')
        name, text = assignment.split('=', 1)
        name, value = name.strip(), _parse_value(text.strip())
        head, _, rest = name.partition('.')
        if head not in fields:
            raise ValueError(f'unknown config field {head!r}; fields are {sorted(fields)}')
        if rest:
            container = getattr(config, head)
            if not isinstance(container, dict):
                raise ValueError(f'{head!r} is not a dict field, cannot set {name!r}')
            container[rest] = value
            continue
        current = getattr(config, head)
        if isinstance(current, bool) or current is None or isinstance(value, type(current)):
            pass
        elif isinstance(current, float) and isinstance(value, int):
            value = float(value)
        elif isinstance(current, tuple) and isinstance(value, (list, tuple, int, float)):
            value = tuple(value) if isinstance(value, (list, tuple)) else (value,)
        else:
            raise ValueError(f'{head}={value!r}: expected {type(current).__name__}')
        setattr(config, head, value)
    return config
