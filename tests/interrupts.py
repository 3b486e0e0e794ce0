"""Ctrl-C in an experiment script's ``main``, for the tests that check it ends on one line."""

import pytest


def interrupted_exit_code(monkeypatch, module, target: str, argv: list) -> int:
    """``module.main(argv)`` with ``module.<target>`` raising KeyboardInterrupt (a Ctrl-C) and
    ``os._exit`` raising SystemExit, so the test survives it; returns the exit status."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    def exit_now(code):
        raise SystemExit(code)

    monkeypatch.setattr(module, target, interrupted)
    monkeypatch.setattr(module.os, '_exit', exit_now)
    with pytest.raises(SystemExit) as exit_info:
        module.main(argv)
    return exit_info.value.code
