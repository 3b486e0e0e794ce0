"""What the notebooks in ``notebooks/`` need beyond the models: settings, a trained Glow, toy fits.

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
  2-D toy density from ``zoo.data.toy2d``, the whole loop one ``lax.scan`` under ``jit``.
"""

import dataclasses
import functools
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import optax

from zoo.data import toy2d
from zoo.flows.dense import DenseFlow, nll

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
    """The Glow a notebook trains when ``make train-glow`` has not run: the digits
    config's architecture (``experiments/configs/glow.py``), trained briefly; tiny shrinks it."""
    from zoo.train import Config  # late import: the training system is only needed here
    if tiny:
        kwargs = dict(levels=2, flow_steps=2, hidden=16, coupling="affine", permutation="lu")
        steps, batch = 30, 32
    else:
        kwargs = dict(levels=2, flow_steps=12, hidden=32, coupling="affine", permutation="lu",
                      scale_fn="tanh", scan=False)
        steps, batch = 600, 64
    return Config(model="glow", dataset="digits", model_kwargs=kwargs, steps=steps, batch_size=batch,
                  optimizer="adam", lr=2e-3, warmup_steps=min(100, steps // 3), schedule="cosine",
                  log_every=max(steps // 4, 1), eval_every=0, sample_every=0, checkpoint_every=0,
                  ema_decay=0.0 if tiny else 0.998, eval_batch_size=300, temperatures=(0.7,),
                  num_samples=16)


def has_checkpoint(workdir) -> bool:
    """Whether ``workdir`` holds at least one finished checkpoint step."""
    directory = Path(workdir) / "checkpoints"
    return directory.is_dir() and any(p.name.isdigit() for p in directory.iterdir())


def load_glow(s: Settings | None = None):
    """A trained Glow on the digits as ``zoo.train.Trained`` (``.model``, ``.variables``, ``.step``).

    Loads ``s.glow_workdir`` (what ``make train-glow`` writes) when it has a checkpoint;
    otherwise trains ``fallback_glow_config(s.tiny)`` in ``s.fallback_workdir`` (resuming
    or reusing what an earlier notebook left there) and loads that.
    """
    from zoo.train import load_trained, train
    s = s or settings()
    if has_checkpoint(s.glow_workdir):
        trained = load_trained(s.glow_workdir)
        print(f"loaded {s.glow_workdir} (step {trained.step})")
        return trained
    config = fallback_glow_config(s.tiny)
    print(f"no checkpoint in {s.glow_workdir} (run `make train-glow` for a better model); "
          f"training a small Glow for {config.steps} steps in {s.fallback_workdir}")
    train(config, str(s.fallback_workdir))
    trained = load_trained(s.fallback_workdir)
    print(f"loaded {s.fallback_workdir} (step {trained.step})")
    return trained


def train_toy_flow(name: str, steps: int, batch_size: int = 256, seed: int = 0, lr: float = 2e-3,
                   model: DenseFlow | None = None):
    """Fit ``model`` (default ``DenseFlow()``) to ``zoo.data.toy2d`` density ``name`` by Adam on the NLL.

    Fresh samples every step (``steps * batch_size`` drawn up front).  Returns
    ``(model, variables, losses)`` with the per-step mean NLL in nats.  The compiled loop
    is shared by every density with the same model, steps and batch size.
    """
    model = model or DenseFlow()
    k_data, k_init = jax.random.split(jax.random.key(seed))
    data = toy2d.sample(name, k_data, steps * batch_size).reshape(steps, batch_size, 2)
    variables = jax.jit(model.init)(k_init, data[0])
    params, losses = _fit(model, variables["params"], data, jnp.float32(lr))
    return model, {**variables, "params": params}, losses


@functools.partial(jax.jit, static_argnums=0)
def _fit(model, params, data, lr):
    adam = optax.scale_by_adam()

    def step(carry, batch):
        params, opt_state = carry
        loss, grads = jax.value_and_grad(lambda p: nll(model, {"params": p}, batch))(params)
        updates, opt_state = adam.update(grads, opt_state, params)
        params = jax.tree.map(lambda p, u: p - lr * u, params, updates)
        return (params, opt_state), loss

    (params, _), losses = jax.lax.scan(step, (params, adam.init(params)), data)
    return params, losses
