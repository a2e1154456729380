"""Planted bugs in the chapter 4 twins: ReLU, softmax, momentum, dropout, decay, Glorot.

Each replaces one function or method of the scratch twin; the registry cases named in
``components`` must catch it. Two of them are the book's own bugs
(``book_bug``: 2, ReLU's always-open mask; 8, Glorot's std without the square root).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import scratch.activations as sa
import scratch.init as si
import scratch.layers as sl
import scratch.losses as sL
import scratch.optimizers as sopt
from parity_tests.mutation import Mutant
from scratch._checks import Array
from scratch.module import Parameter

_original_scheduler_step = sopt.LRScheduler.step


def _relu_mask_always_open(self: sa.ReLU, grad_output: Array) -> Array:
    return grad_output * (self.output >= 0)  # the output of a ReLU is never negative: no masking


def _log_softmax_unshifted(x: Array) -> Array:
    e = np.exp(x)  # no max subtraction: exp overflows to inf for logits above ~709 (float64)
    return np.log(e / np.sum(e, axis=-1, keepdims=True))


def _momentum_forms_swapped(self: sopt.SGDMomentum, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
    state = self.state.setdefault(param, {"momentum_buffer": np.zeros_like(param.data)})
    buf = state["momentum_buffer"]
    buf *= group["momentum"]
    if self.form == "book":  # each form runs the other's update
        buf += grad
        param.data -= group["lr"] * buf
    else:
        buf += group["lr"] * grad
        param.data -= buf


def _dropout_not_rescaled(self: sl.Dropout, input: Array) -> Array:
    x = self._check_input(input)
    if not self.training:
        self.output = x if self.variant == "inverted" else x * (1.0 - self.p)
        return self.output
    self.mask = self._draw_mask(x)
    self.output = x * self.mask  # the inverted form forgets to divide by the keep probability
    return self.output


def _decay_one_epoch_late(self: sopt.LRScheduler) -> None:
    if not self.__dict__.get("skipped_first"):  # the first epoch boundary passes without decay
        self.__dict__["skipped_first"] = True
        return
    _original_scheduler_step(self)


def _glorot_without_sqrt(scheme: str, fan_in: int, fan_out: int) -> float:
    return 1.0 if scheme == "standard" else 2.0 / (fan_in + fan_out)  # the variance used as a std


MUTANTS = [
    Mutant(
        "relu_mask_always_open",
        "ReLU backward masks with output >= 0, which always holds: the gradient passes unmasked",
        sa.ReLU,
        "_input_grad",
        _relu_mask_always_open,
        ("activation_relu",),
        book_bug=2,
    ),
    Mutant(
        "softmax_without_max_subtraction",
        "log-softmax exponentiates the raw logits: large logits overflow to inf and the loss to NaN",
        sL,
        "log_softmax",
        _log_softmax_unshifted,
        ("SoftmaxCrossEntropy",),
    ),
    Mutant(
        "momentum_forms_swapped",
        "SGDMomentum runs the book's update for form='torch' and PyTorch's for form='book' "
        "(identical at a constant learning rate, caught only under decay)",
        sopt.SGDMomentum,
        "_update",
        _momentum_forms_swapped,
        ("SGDMomentum",),
    ),
    Mutant(
        "dropout_without_rescaling",
        "inverted dropout keeps units without dividing by the keep probability",
        sl.Dropout,
        "forward",
        _dropout_not_rescaled,
        ("Dropout",),
    ),
    Mutant(
        "decay_one_epoch_late",
        "the learning-rate schedule skips its first step, so every epoch trains with the previous epoch's rate",
        sopt.LRScheduler,
        "step",
        _decay_one_epoch_late,
        ("LinearDecay", "ExponentialDecay"),
    ),
    Mutant(
        "glorot_without_sqrt",
        "Glorot std written as 2/(fan_in + fan_out), without the square root",
        si,
        "init_std",
        _glorot_without_sqrt,
        ("init",),
        book_bug=8,
    ),
]
