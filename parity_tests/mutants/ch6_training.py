"""Planted bugs in the chapter 6 training pieces: clipping order, AdaGrad's epsilon, the carried
state, and the book's sequence loss value (book bug 5).

A hidden state carried *without detaching* has no scratch counterpart to plant: the scratch
backward never reaches the previous batch (the torch twin would raise on the second backward
through a freed graph). What the harness can see is a state that is not averaged or not carried.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import scratch.charlm as sc
import scratch.losses as sl
import scratch.optimizers as so
from parity_tests.mutation import Mutant
from scratch._checks import Array
from scratch.module import Parameter

_train_step = sc.train_step


def _clip_after_update(
    model: sc.CharLM,
    loss: sl.Loss,
    optimizer: so.Optimizer,
    inputs: Array,
    targets: Array,
    clip_value: float | None = 2.0,
    max_norm: float | None = None,
) -> float:
    value = _train_step(model, loss, optimizer, inputs, targets, None, None)  # BUG: steps on unclipped gradients
    if clip_value is not None:  # ... and clips only afterwards, when it no longer matters
        so.clip_grad_value_(model, clip_value)
    if max_norm is not None:
        so.clip_grad_norm_(model, max_norm)
    return value


def _adagrad_eps_swapped(self: so.AdaGrad, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
    s = self.state.setdefault(param, {"sum": np.zeros_like(param.data)})["sum"]
    if self.form == "book":  # BUG: each form uses the other's epsilon placement
        s += grad * grad
        param.data -= group["lr"] * (grad / (np.sqrt(s) + group["eps"]))
    else:
        s += group["eps"] + grad * grad
        param.data -= group["lr"] / np.sqrt(s) * grad


def _carry_last_row(self: sc.RecurrentLayer, final: Array | tuple[Array, ...]) -> None:
    states = final if isinstance(final, tuple) else (final,)
    self.state = tuple(s[:, -1:] for s in states)  # BUG: the last sequence's state, not the batch mean


def _never_carry(self: sc.RecurrentLayer, n: int) -> None:
    return None  # BUG: every batch starts from zeros


def _book_value_always(
    self: sl.SequenceSoftmaxCrossEntropy, reduction: str = "mean", *, variant: str = "standard"
) -> None:
    sl.SoftmaxCrossEntropy.__init__(self, reduction, variant="book")  # BUG: the book's value, asked or not


MUTANTS = [
    Mutant(
        "clip_after_update",
        "Gradient clipping applied after the optimizer step, so the step uses unclipped gradients.",
        sc,
        "train_step",
        _clip_after_update,
        ("charlm_train_book",),
        expect="lockstep",
    ),
    Mutant(
        "adagrad_eps_swapped",
        "AdaGrad's epsilon placement swapped between PyTorch's form and the book's.",
        so.AdaGrad,
        "_update",
        _adagrad_eps_swapped,
        ("AdaGrad",),
    ),
    Mutant(
        "hidden_state_not_averaged",
        "The carried hidden state is the last sequence's final state instead of the batch mean.",
        sc.RecurrentLayer,
        "_carry",
        _carry_last_row,
        ("RecurrentLayer",),
    ),
    Mutant(
        "hidden_state_not_carried",
        "The hidden state is not carried between batches: every batch starts from zeros.",
        sc.RecurrentLayer,
        "_initial_state",
        _never_carry,
        ("RecurrentLayer",),
    ),
    Mutant(
        "sequence_loss_book_value",
        "The book's RNN loss value: binary terms -(1-y) log(1-p) added to the cross-entropy.",
        sl.SequenceSoftmaxCrossEntropy,
        "__init__",
        _book_value_always,
        ("SequenceSoftmaxCrossEntropy",),
        book_bug=5,
    ),
]
