"""Task names in configs -> task classes, so a checkpoint's config rebuilds its task.

``Config.task`` is a name below or an import path ``'package.module:Class'``
(how tests and users plug in their own).  A name may carry default keyword
arguments, which ``Config.task_kwargs`` overrides.  This registry lives outside
``zoo.train`` so the loop never imports a model family; classes are imported
only when a run asks for them.

Every task is built one way, ``TaskClass(info, config, **task_kwargs)``, and builds
its networks from ``config.model`` with ``build_model``, which checks every setting
against the module's fields before anything is compiled.
"""

import dataclasses
import importlib
import inspect
import types
import typing

from zoo.train.config import Config, ConfigError

TASKS = {
    'nice': ('zoo.flows.task:FlowTask', {'flow': 'nice'}),
    'realnvp': ('zoo.flows.task:FlowTask', {'flow': 'realnvp'}),
    'glow': ('zoo.flows.task:FlowTask', {'flow': 'glow'}),
    'density': ('zoo.flows.task:DensityTask', {}),
    'iresnet': ('zoo.residual.task:ResidualFlowTask', {}),
    'fgan': ('zoo.gan.task:GANTask', {'game': 'fgan'}),
    'wgan': ('zoo.gan.task:GANTask', {'game': 'wgan', 'lipschitz': 'gradient_penalty'}),
    'hinge_gan': ('zoo.gan.task:GANTask', {'game': 'hinge', 'lipschitz': 'spectral'}),
    'gan_onestep': ('zoo.gan.task:GANTask', {'game': 'one_loss', 'lipschitz': 'spectral'}),
    'ogan': ('zoo.gan.task:GANTask', {'game': 'ogan'}),
    'cgan': ('zoo.gan.conditional_task:ConditionalGANTask', {'game': 'hinge', 'lipschitz': 'spectral'}),
    'ebm': ('zoo.ebm.task:EBMTask', {}),
    'glann': ('zoo.imle.task:GLANNTask', {}),
    'vae': ('zoo.vae.task:VAETask', {}),
    'cvae': ('zoo.vae.conditional_task:ConditionalVAETask', {}),
    'vae_cluster': ('zoo.vae.clustering_task:ClusteringVAETask', {}),
    'vib': ('zoo.vae.vib_task:VIBTask', {}),
    'infomax': ('zoo.vae.infomax_task:InfoMaxTask', {}),
    'fvae': ('zoo.vae.fvae_task:FVAETask', {}),
}


class _ReadKeys(dict):
    """``config.model`` as a task sees it while ``build_task`` builds it: remembers the keys
    read, so that settings the task never reads are an error instead of silently ignored.
    (Iterating, as ``**settings`` and ``set(settings)`` do, reads every key.)"""

    def __init__(self, *args):
        super().__init__(*args)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)

    def __iter__(self):
        self.read.update(super().keys())
        return super().__iter__()

    def keys(self):
        self.read.update(super().keys())
        return super().keys()

    def items(self):
        self.read.update(super().keys())
        return super().items()

    def values(self):
        self.read.update(super().keys())
        return super().values()

    def copy(self):
        return dict(self)


def task_class(name: str):
    """The class and default kwargs ``name`` stands for (a registered name or 'module:Class')."""
    if name in TASKS:
        path, defaults = TASKS[name]
    elif ':' in name:
        path, defaults = name, {}
    else:
        raise ConfigError(f'unknown task {name!r}; known: {sorted(TASKS)}, or give package.module:Class')
    module, _, attr = path.partition(':')
    try:
        return getattr(importlib.import_module(module), attr), defaults
    except (ImportError, AttributeError) as e:
        raise ConfigError(f'task {name!r}: cannot import {path} ({e})') from e


def build_task(config: Config, info, **modules):
    """``TaskClass(info, config, **task_kwargs, **modules)``.

    A ``ConfigError`` names the field for: an unknown keyword, a value of the wrong type
    for an annotated keyword (checked as ``build_model`` checks model settings), and
    ``config.model`` settings the task does not read while it is built.
    """
    cls, defaults = task_class(config.task)
    kwargs = {**defaults, **config.task_kwargs}
    parameters = inspect.signature(cls).parameters
    accepted = [p for p in parameters if p not in ('info', 'config')]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown and not any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
        raise ConfigError(f'task {config.task!r} has no settings {unknown}; task_kwargs are {accepted}')
    for name, value in kwargs.items():  # typed settings: checked like model settings
        if name in parameters:
            annotation, default = parameters[name].annotation, parameters[name].default
            annotation = None if annotation is inspect.Parameter.empty else annotation
            kwargs[name] = _check_setting(f'task_kwargs.{name}', value, annotation, default)
    model = _ReadKeys(config.model)
    task = cls(info, dataclasses.replace(config, model=model), **kwargs, **modules)
    unread = sorted(set(dict.keys(model)) - model.read)
    if unread:
        raise ConfigError(f'task {config.task!r} does not read the model settings {unread}; remove them')
    return task


def build_model(cls, settings: dict, *, where: str = 'model', **fixed):
    """``cls(**fixed, **settings)``: a Flax module from config settings, checked first.

    ``fixed`` are the values the dataset decides (image shape, gray levels).  Each
    setting must be a field of ``cls`` with a value of the field's type: integers are
    integers (>= 1, or >= 0 where the field's default is 0), floats numbers, strings
    one of a ``Literal``'s choices; lists become tuples.  Anything wrong, and any
    ``TypeError`` / ``ValueError`` from the constructor, is a one-line ``ConfigError``
    naming the field (``where``, e.g. ``model.hidden``) and the fields ``cls`` takes.
    """
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in ('parent', 'name')}
    settable = sorted(set(fields) - set(fixed))
    unknown = sorted(set(settings) - set(fields))
    if unknown:
        raise ConfigError(f'{where}: {cls.__name__} has no settings {unknown}; it takes {settable}')
    taken = sorted(set(settings) & set(fixed))
    if taken:
        raise ConfigError(f'{where}: {taken} come from the dataset and cannot be set; {cls.__name__} takes {settable}')
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # unresolvable annotations: leave those fields to the constructor
        hints = {}
    checked = {
        name: _check_setting(f'{where}.{name}', value, hints.get(name), fields[name].default)
        for name, value in settings.items()
    }
    try:
        return cls(**fixed, **checked)
    except (TypeError, ValueError) as e:
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ConfigError(f'{where} for {cls.__name__}: {message}; it takes {settable}') from e


def _check_setting(name: str, value, annotation, default):
    """``value`` for a field annotated ``annotation``, or a ``ConfigError`` naming ``name``."""
    if annotation is None or annotation is typing.Any:
        return tuple(value) if isinstance(value, list) else value
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f'{name}={value!r}: choose one of {list(args)}')
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _check_setting(name, value, option, default)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f'{name}={value!r}: not allowed')
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f'{name}={value!r}: expected True or False')
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f'{name}={value!r}: expected an integer')
        least = 0 if default == 0 else 1
        if value < least:
            raise ConfigError(f'{name}={value}: must be >= {least}')
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f'{name}={value!r}: expected a number')
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f'{name}={value!r}: expected a string')
        return value
    if annotation is tuple or origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f'{name}={value!r}: expected a tuple')
        if args and args[-1] is not Ellipsis and len(args) == len(value):
            return tuple(_check_setting(f'{name}[{i}]', v, a, None) for i, (v, a) in enumerate(zip(value, args)))
        if len(args) == 2 and args[-1] is Ellipsis:
            return tuple(_check_setting(f'{name}[{i}]', v, args[0], None) for i, v in enumerate(value))
        return tuple(value)
    return tuple(value) if isinstance(value, list) else value
