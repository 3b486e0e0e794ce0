"""The training configuration, and ``field=value`` overrides that reach nested fields.

Experiments build a ``Config`` in a small function (``experiments/configs``);
the command line changes any field with ``--set``:

    --set optimizer.lr=3e-4                 every network's optimizer
    --set optimizers.critic.lr=4e-4         one network's optimizer only
    --set model.hidden=128                  the networks' architecture
    --set task_kwargs.temperatures=(0.7,)   the task's own settings

A wrong name, value or type is a ``ConfigError`` that says what was expected,
raised before anything is compiled.
"""

import ast
import copy
import dataclasses
import json
import types
import typing
from typing import Any


class ConfigError(ValueError):
    """A config field, value or type that cannot work; the message names it."""


@dataclasses.dataclass
class OptimizerConfig:
    """One network's optimizer (``zoo.train.optim.make_optimizer``)."""

    name: str = 'adam'  # adam | adamax
    lr: float = 1e-3
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    warmup_steps: int = 100  # linear warm-up from 0
    schedule: str = 'constant'  # constant | cosine (after warm-up)
    final_lr_fraction: float = 0.0  # cosine ends at lr * final_lr_fraction
    weight_decay: float = 0.0  # decoupled (AdamW-style); 0: off
    clip_grad_norm: float = 0.0  # 0: no clipping
    grad_accum_steps: int = 1  # optax.MultiSteps: one update every k steps
    lr_groups: dict = dataclasses.field(default_factory=dict)  # param-path substring -> lr multiplier
    implicit_grad_reg: float = 0.0  # h of the (h/4)|grad L|^2 penalty (Barrett & Dherin 2021); 0: off
    ema_decay: float = 0.0  # parameter EMA used for eval and samples; 0: off

    def validate(self, where: str = 'optimizer') -> None:
        """Raises ConfigError naming ``where`` if a setting is out of range; returns None."""
        _check(self.name in ('adam', 'adamax'), f'{where}.name={self.name!r}: use adam or adamax')
        _check(self.schedule in ('constant', 'cosine'), f'{where}.schedule={self.schedule!r}: use constant or cosine')
        _check(self.lr > 0, f'{where}.lr must be > 0, got {self.lr}')
        _check(0 <= self.b1 < 1 and 0 <= self.b2 < 1, f'{where}.b1 and b2 must be in [0, 1)')
        _check(self.eps > 0, f'{where}.eps must be > 0, got {self.eps}')
        _check(self.warmup_steps >= 0, f'{where}.warmup_steps must be >= 0, got {self.warmup_steps}')
        _check(self.grad_accum_steps >= 1, f'{where}.grad_accum_steps must be >= 1')
        _check(0 <= self.ema_decay < 1, f'{where}.ema_decay must be in [0, 1), got {self.ema_decay}')
        _check(
            self.weight_decay >= 0 and self.clip_grad_norm >= 0 and self.implicit_grad_reg >= 0,
            f'{where}: weight_decay, clip_grad_norm and implicit_grad_reg must be >= 0',
        )


@dataclasses.dataclass
class Config:
    """Everything a training run depends on; saved as JSON next to each checkpoint."""

    # What to train (zoo.tasks): a registered name or 'package.module:Class'.
    task: str = 'glow'
    model: dict = dataclasses.field(default_factory=dict)  # network architecture kwargs
    task_kwargs: dict = dataclasses.field(default_factory=dict)  # the task's own settings

    # Data (zoo.data).
    dataset: str = 'digits'  # a built-in name, npz:PATH or folder:PATH
    data_dir: str | None = None  # TFDS data dir (None: TFDS's default)
    image_size: int | None = None  # folder:PATH images are centre-cropped and resized to this
    validation_fraction: float = 0.1  # carved from train with a fixed seed
    seed: int = 0

    # How long and how big.
    steps: int = 2000
    seconds: float = 0.0  # wall-time budget for training, counted once the first step has compiled; 0: none
    batch_size: int = 64  # global: split over every device of every host
    eval_batch_size: int = 256

    # Optimizers: `optimizer` for every network, `optimizers[name]` overrides fields for one.
    optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
    optimizers: dict = dataclasses.field(default_factory=dict)

    # Loop bookkeeping (zoo.train.loop).  Intervals are in steps; 0 disables.
    log_every: int = 50
    eval_every: int = 500
    sample_every: int = 500
    checkpoint_every: int = 500
    keep_checkpoints: int = 3

    # Divergence guard (zoo.train.guard).
    guard_max_retries: int = 5  # consecutive failed windows before giving up
    guard_lr_decay: float = 0.5  # lr scale multiplier after each divergence
    guard_explode_factor: float = 3.0  # watched metric above ref + (factor - 1) |ref| is exploding

    def __post_init__(self):
        if isinstance(self.optimizer, dict):
            self.optimizer = _optimizer_from_dict(self.optimizer, 'optimizer')

    def optimizer_for(self, network: str) -> OptimizerConfig:
        """``optimizer`` with the fields ``optimizers[network]`` overrides."""
        return _optimizer_from_dict(
            {**dataclasses.asdict(self.optimizer), **self.optimizers.get(network, {})}, f'optimizers.{network}'
        )

    def validate(self) -> 'Config':
        """Raise ``ConfigError`` for values that cannot work; returns self.

        Every field must have its declared type (an int field given 2.5 is an error);
        ``model`` and ``task_kwargs`` are checked by the task when it is built
        (``zoo.tasks.build_task``), still before anything compiles.
        """
        for f in dataclasses.fields(self):
            setattr(self, f.name, _coerce(getattr(self, f.name), f.type, f.name))
        _check(self.steps >= 0, f'steps must be >= 0, got {self.steps}')
        _check(self.seconds >= 0, f'seconds must be >= 0, got {self.seconds}')
        _check(self.batch_size >= 1, f'batch_size must be >= 1, got {self.batch_size}')
        _check(self.eval_batch_size >= 1, f'eval_batch_size must be >= 1, got {self.eval_batch_size}')
        _check(
            0 <= self.validation_fraction < 1, f'validation_fraction must be in [0, 1), got {self.validation_fraction}'
        )
        _check(self.image_size is None or self.image_size >= 1, f'image_size must be >= 1, got {self.image_size}')
        for name in ('log_every', 'eval_every', 'sample_every', 'checkpoint_every'):
            _check(getattr(self, name) >= 0, f'{name} must be >= 0 (0 disables), got {getattr(self, name)}')
        _check(self.keep_checkpoints >= 1, f'keep_checkpoints must be >= 1, got {self.keep_checkpoints}')
        _check(0 < self.guard_lr_decay < 1, f'guard_lr_decay must be in (0, 1), got {self.guard_lr_decay}')
        self.optimizer.validate()
        for network in self.optimizers:
            self.optimizer_for(network).validate(f'optimizers.{network}')
        return self

    def to_dict(self) -> dict:
        """A JSON-ready dict (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, d: dict) -> 'Config':
        """Inverse of ``to_dict``; unknown keys are an error so stale configs are noticed."""
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        _check(not unknown, f'unknown config fields {sorted(unknown)}')
        return cls(**d)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _optimizer_from_dict(d: dict, where: str) -> OptimizerConfig:
    unknown = set(d) - {f.name for f in dataclasses.fields(OptimizerConfig)}
    _check(
        not unknown,
        f'{where}: unknown optimizer fields {sorted(unknown)}; '
        f'fields are {[f.name for f in dataclasses.fields(OptimizerConfig)]}',
    )
    config = OptimizerConfig(**d)
    for f in dataclasses.fields(OptimizerConfig):
        setattr(config, f.name, _coerce(getattr(config, f.name), f.type, f'{where}.{f.name}'))
    return config


_LOWERCASE_LITERALS = {'true': True, 'false': False, 'none': None, 'null': None}


def _parse_value(text: str) -> Any:
    """Python literal if it parses (1e-3, True, (1, 2), None), else the raw string.

    true / false / none / null are read as the literals, not as (truthy) strings.
    """
    if text in _LOWERCASE_LITERALS:
        return _LOWERCASE_LITERALS[text]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _coerce(value, annotation, name: str):
    """``value`` as the field's declared type (int -> float allowed), else ``ConfigError``."""
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    if value is None and type(None) in options:
        return None
    for option in options:
        if option is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if option is not type(None) and isinstance(value, option) and not (option is int and isinstance(value, bool)):
            return value
    expected = ' or '.join(getattr(o, '__name__', str(o)) for o in options)
    raise ConfigError(f'{name}={value!r}: expected {expected}, got {type(value).__name__}')


def override(config: Config, assignments) -> Config:
    """Apply ``['optimizer.lr=3e-4', 'model.hidden=128', ...]`` to a copy of ``config``.

    Dotted names walk into dataclasses and dicts.  Fields of ``Config`` and
    ``OptimizerConfig`` keep their declared type (an int field given ``2.5`` is
    an error); keys inside dict fields take any literal, and the task that reads
    them checks them when it is built.
    """
    config = copy.deepcopy(config)
    for assignment in assignments:
        name, sep, text = assignment.partition('=')
        _check(bool(sep) and name.strip(), f'override {assignment!r} is not of the form field=value')
        _assign(config, name.strip().split('.'), _parse_value(text.strip()), name.strip())
    return config.validate()


def _assign(node, path: list[str], value, full_name: str) -> None:
    head, rest = path[0], path[1:]
    if dataclasses.is_dataclass(node):
        fields = {f.name: f for f in dataclasses.fields(node)}
        _check(
            head in fields,
            f'unknown config field {full_name!r}: {type(node).__name__} has no {head!r}; fields are {sorted(fields)}',
        )
        if rest:
            _assign(getattr(node, head), rest, value, full_name)
        else:
            setattr(node, head, _coerce(value, fields[head].type, full_name))
    elif isinstance(node, dict):
        if rest:
            _assign(node.setdefault(head, {}), rest, value, full_name)
        else:
            node[head] = value
    else:
        raise ConfigError(f'cannot set {full_name!r}: {type(node).__name__} value has no fields')
