"""What the notebooks in this folder share: settings, a trained Glow, toy-density fits.

Not part of the library: notebooks import it from their own folder (``import support``).

* ``settings()`` reads the environment, so the same notebook runs full-size for a user
  and tiny (a few dozen steps) when the tests execute it:

      ZOO_NOTEBOOK_TINY=1          shrink every training run (the tests set this)
      ZOO_NOTEBOOK_FIGURES=DIR     where figures are saved (default notebooks/figures)
      ZOO_GLOW_WORKDIR=DIR         the run of ``make train-glow`` (default workdirs/glow-digits)
      ZOO_GLOW_FALLBACK_WORKDIR=DIR where a notebook trains its own Glow when that has no
                                   checkpoint (default workdirs/glow-digits-notebook[-tiny])

* ``load_glow(settings)``: the checkpoint of ``make train-glow`` if there is one, else a
  small Glow trained on the digits with ``zoo.train.train`` right there (minutes; seconds
  on the tiny path).  The fallback run is checkpointed, so the next notebook reuses it.
* ``train_toy_flow(name, steps)``: a ``DenseFlow`` fitted by maximum likelihood to a
  2-D toy density from ``zoo.data.toy2d`` with the library's train step, in one ``lax.scan``.
"""

import dataclasses
import functools
import os
from pathlib import Path

import jax

from experiments.configs import glow as glow_configs
from zoo.data import toy2d
from zoo.flows.dense import DenseFlow
from zoo.flows.task import DensityTask
from zoo.train import Config, OptimizerConfig, load_trained, override, train
from zoo.train.step import train_step

REPO = Path(__file__).resolve().parents[1]
TRUE = ("1", "true", "yes", "on")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Where notebooks read checkpoints and write figures, and whether to run tiny."""
    tiny: bool
    figures_dir: Path
    glow_workdir: Path
    fallback_workdir: Path

    def figure_path(self, name: str) -> str:
        """``figures_dir / name`` as a string (the directory is created on save)."""
        return str(self.figures_dir / name)


def settings() -> Settings:
    """Settings from the ``ZOO_*`` environment variables (see the module docstring)."""
    tiny = os.environ.get("ZOO_NOTEBOOK_TINY", "").strip().lower() in TRUE
    env = lambda name, default: Path(os.environ.get(name) or default)
    return Settings(
        tiny=tiny,
        figures_dir=env("ZOO_NOTEBOOK_FIGURES", REPO / "notebooks" / "figures"),
        glow_workdir=env("ZOO_GLOW_WORKDIR", REPO / "workdirs" / "glow-digits"),
        fallback_workdir=env("ZOO_GLOW_FALLBACK_WORKDIR",
                             REPO / "workdirs" / ("glow-digits-notebook" + ("-tiny" if tiny else ""))))


def fallback_glow_config(tiny: bool):
    """The Glow a notebook trains when ``make train-glow`` has not run: the digits config
    (``experiments/configs/glow.py``); tiny shrinks it to a few seconds."""
    config = glow_configs.digits()
    if tiny:
        config = override(config, ["model.flow_steps=2", "model.hidden=16", "steps=30", "batch_size=32",
                                   "optimizer.warmup_steps=10", "optimizer.ema_decay=0.0"])
    return override(config, ["eval_every=0", "sample_every=0", "checkpoint_every=0",
                             "task_kwargs.temperatures=(0.7,)", "task_kwargs.num_samples=16"])


@dataclasses.dataclass
class GlowRun:
    """A trained Glow: ``model.apply(variables, ..., method=...)``, and the step it reached."""
    model: object
    variables: dict
    step: int


def has_checkpoint(workdir) -> bool:
    """Whether ``workdir`` holds at least one finished checkpoint step."""
    directory = Path(workdir) / "checkpoints"
    return directory.is_dir() and any(p.name.isdigit() for p in directory.iterdir())


def load_glow(s: Settings | None = None) -> GlowRun:
    """A trained Glow on the digits.

    Loads ``s.glow_workdir`` (what ``make train-glow`` writes) when it has a checkpoint;
    otherwise trains ``fallback_glow_config(s.tiny)`` in ``s.fallback_workdir`` with the
    library's training loop (resuming or reusing what an earlier notebook left there).
    """
    s = s or settings()
    workdir = s.glow_workdir
    if not has_checkpoint(workdir):
        config, workdir = fallback_glow_config(s.tiny), s.fallback_workdir
        print(f"no checkpoint in {s.glow_workdir} (run `make train-glow` for a better model); "
              f"training a small Glow for {config.steps} steps in {workdir}")
        train(config, str(workdir))
    trained = load_trained(workdir)
    print(f"loaded {workdir} (step {trained.step})")
    return GlowRun(trained.task.model, trained.state.variables('flow'), trained.step)


def train_toy_flow(name: str, steps: int, batch_size: int = 256, seed: int = 0, lr: float = 2e-3,
                   model: DenseFlow | None = None):
    """Fit ``model`` (default ``DenseFlow()``) to ``zoo.data.toy2d`` density ``name`` by maximum likelihood.

    The library's ``DensityTask`` and train step, with fresh samples every step
    (``steps * batch_size`` drawn up front) and the whole run one ``lax.scan``.
    Returns ``(model, variables, losses)`` with the per-step mean NLL in nats.
    """
    model = model or DenseFlow()
    task = DensityTask(None, Config(steps=steps, optimizer=OptimizerConfig(lr=lr, warmup_steps=0)), model=model)
    k_data, k_init = jax.random.split(jax.random.key(seed))
    data = toy2d.sample(name, k_data, steps * batch_size).reshape(steps, batch_size, 2)
    state = jax.jit(task.init)(jax.random.key_data(k_init), {"point": data[0]})
    state, losses = _fit(task, state, data)
    return model, state.variables("flow"), losses


@functools.partial(jax.jit, static_argnums=0)
def _fit(task, state, data):
    def body(state, x):
        state, metrics = train_step(task, state, {"point": x})
        return state, metrics["loss"]
    return jax.lax.scan(body, state, data)
