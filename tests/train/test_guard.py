"""The divergence guard: non-finite metrics always, explosion of the watched metric only."""

import math

import pytest

from zoo.train import DivergenceError, DivergenceGuard


def window(**metrics):
    n = len(next(iter(metrics.values())))
    return [{k: v[i] for k, v in metrics.items()} for i in range(n)]


def test_any_non_finite_metric_diverges_even_unwatched():
    guard = DivergenceGuard(watch=None)
    assert guard.check(window(critic_loss=[1.0, -5.0], generator_loss=[3.0, 30.0])) is None
    assert (
        guard.check(window(critic_loss=[1.0, 2.0], generator_loss=[math.inf, 1.0])) == 'non-finite generator_loss (inf)'
    )


def test_explosion_is_judged_on_the_watched_metric_against_the_last_good_window():
    guard = DivergenceGuard(watch='loss', explode_factor=3.0)
    assert guard.check(window(loss=[2.0, 2.0], grad_norm=[1.0, 100.0])) is None  # grad_norm is not watched
    assert guard.check(window(loss=[5.9, 1.0], grad_norm=[1.0, 1.0])) is None  # limit 2 + 2 * 2 = 6
    reason = guard.check(window(loss=[3.0, 100.0], grad_norm=[1.0, 1.0]))
    assert reason.startswith('exploding loss 100 > ')  # reference is now the mean 3.45
    with pytest.raises(KeyError, match="watches 'bpd'"):
        DivergenceGuard(watch='bpd').check(window(loss=[1.0]))


def test_lr_scale_halves_and_gives_up_after_max_retries():
    guard = DivergenceGuard(max_retries=2, lr_decay=0.5)
    assert guard.next_lr_scale(1.0, 10, 'x') == 0.5
    assert guard.next_lr_scale(0.5, 12, 'x') == 0.25
    with pytest.raises(DivergenceError, match='diverged at step 14 .* 2 times in a row'):
        guard.next_lr_scale(0.25, 14, 'x')
    guard.retries = 1
    guard.check(window(loss=[1.0]))  # a good window resets the count
    assert guard.retries == 0
