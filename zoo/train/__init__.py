"""The shared training system: one loop for every model family, through the Task protocol.

    from zoo.train import Config, train, load_trained
    summary = train(Config(task='glow', dataset='digits'), 'workdirs/glow-digits')
    trained = load_trained('workdirs/glow-digits')   # .config, .task, .state, .step

A family implements ``zoo.train.Task`` (``init``, ``train_step``, ``eval_step``,
``summarize``, ``visualize``, ``watch``) over a ``TrainState``; the loop, its
checkpoints, guard and outputs are the same for all.
"""

from zoo.train.checkpoint import Checkpointer, CheckpointError, Trained, load_trained
from zoo.train.config import Config, ConfigError, OptimizerConfig, override
from zoo.train.guard import DivergenceError, DivergenceGuard
from zoo.train.loop import Trainer, train
from zoo.train.mesh import make_mesh, replicate, shard_batch, to_host
from zoo.train.optim import build_optimizers, learning_rate, make_optimizer
from zoo.train.state import Optimizer, TrainState, ema_update
from zoo.train.step import make_eval_step, make_init, make_train_step, step_rng, train_step
from zoo.train.task import Task
from zoo.train.writer import MetricsWriter, read_metrics
