"""Registry cases for the SGD family: chapter 3's SGD, chapter 4's SGDMomentum (both forms) and decay.

Each case is an ``UpdateCase`` (see ``optimizers_ch6``): both twins get the same starting
parameters and the same random gradients at every step. In the decay cases the scheduler steps
after every optimizer step (each step stands for an epoch), so the learning rate changes between
every pair of steps: that is where the two momentum forms part ways (at a constant rate they take
the same steps), and where a decay applied one epoch late shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import scratch.optimizers as so
import torch_ref.optimizers as to
from parity_tests.cases.optimizers_ch6 import Step, UpdateCase
from scratch.module import Parameter

#: The book's chapter 4 schedules: linear 0.15 -> 0.05, exponential 0.2 -> 0.05.
SCHEDULES = {"linear": (0.15, 0.05), "exponential": (0.2, 0.05)}
EPOCHS = 6
#: Steps of the decay cases: two past the schedule's end, where linear decay must hold at lrF.
DECAY_STEPS = EPOCHS + 2


def _schedulers(decay: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    if decay == "linear":
        return so.LinearDecay, to.LinearDecay
    return so.ExponentialDecay, to.ExponentialDecay


def _then(opt: Any, sched: Any | None) -> Step:
    """One optimizer step, then (with a schedule) one scheduler step: every step is an epoch."""
    if sched is None:
        return opt.step

    def step() -> None:
        opt.step()
        sched.step()

    return step


def _momentum(form: str, decay: str | None) -> UpdateCase:
    lr, final_lr = SCHEDULES[decay] if decay else (0.1, 0.1)

    def scratch(params: list[Parameter]) -> Step:
        opt = so.SGDMomentum(params, lr=lr, momentum=0.9, form=form)
        return _then(opt, _schedulers(decay)[0](opt, final_lr, EPOCHS) if decay else None)

    def torch_side(params: list[torch.nn.Parameter]) -> Step:
        opt = to.SGDMomentum(params, lr=lr, momentum=0.9, form=form)
        return _then(opt, _schedulers(decay)[1](opt, final_lr, EPOCHS) if decay else None)

    name = f"sgd_momentum_{form}_{decay or 'constant'}_lr"
    return UpdateCase(name, "SGDMomentum", scratch, torch_side, steps=DECAY_STEPS if decay else EPOCHS, chapter=4)


def _sgd_constant() -> UpdateCase:
    """Chapter 3's plain ``p -= lr * g`` against ``torch.optim.SGD``."""

    def scratch(params: list[Parameter]) -> Step:
        return so.SGD(params, lr=0.1).step

    def torch_side(params: list[torch.nn.Parameter]) -> Step:
        return to.SGD(params, lr=0.1).step

    return UpdateCase("sgd_constant_lr", "SGD", scratch, torch_side, steps=EPOCHS, chapter=3)


def _sgd_decay(decay: str) -> UpdateCase:
    lr, final_lr = SCHEDULES[decay]
    s_cls, t_cls = _schedulers(decay)

    def scratch(params: list[Parameter]) -> Step:
        opt = so.SGD(params, lr=lr)
        return _then(opt, s_cls(opt, final_lr, EPOCHS))

    def torch_side(params: list[torch.nn.Parameter]) -> Step:
        opt = to.SGD(params, lr=lr)
        return _then(opt, t_cls(opt, final_lr, EPOCHS))

    return UpdateCase(f"sgd_{decay}_decay", s_cls.__name__, scratch, torch_side, steps=DECAY_STEPS, chapter=4)


CASES = [
    _sgd_constant(),
    _momentum("torch", None),
    _momentum("book", None),
    _momentum("torch", "linear"),
    _momentum("book", "linear"),
    _momentum("torch", "exponential"),
    _momentum("book", "exponential"),
    _sgd_decay("linear"),
    _sgd_decay("exponential"),
]
