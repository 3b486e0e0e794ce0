"""The shared training system: mesh and data-parallel step, optimizers, checkpoints, guard, loop.

    from zoo.train import Config, train, load_trained
    summary = train(Config(model='glow', dataset='digits'), 'workdirs/glow-digits')
    trained = load_trained('workdirs/glow-digits')   # .model, .variables, .config
"""

from zoo.train.checkpoint import Checkpointer, CheckpointError, Trained, load_trained
from zoo.train.config import Config, override
from zoo.train.guard import DivergenceError, DivergenceGuard
from zoo.train.loop import flow_loss, init_state, read_metrics, train
from zoo.train.mesh import make_mesh, replicate, shard_batch, to_host
from zoo.train.models import MODELS, build_model
from zoo.train.optim import ema_update, gradient_penalty, learning_rate, make_optimizer, param_labels
from zoo.train.step import TrainState, create_train_state, make_eval_step, make_train_step, train_step
