"""Planted bugs in chapter 7's ``PyTorchTrainer`` (``scratch/trainer.py``).

Both are slips a hand-written trainer makes easily: the learning-rate decay stepped after every
batch instead of every epoch (the rate collapses to the final one within the first epoch), and
the test loss computed with the model left in training mode (dropout still drops units, so the
evaluation is noisy and biased). The registry's chapter 7 cases train with decay and dropout, so
each shows in the trajectory rows (``lr`` and ``loss``; ``eval_loss``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

import scratch.pytorch_trainer as st
from parity_tests.mutation import Mutant

_train_step = st.PyTorchTrainer.train_step


def decay_stepped_per_batch(self: st.PyTorchTrainer, X_batch: Any, y_batch: Any) -> float:
    """The step as written, then ``scheduler.step()``: one decay per batch, not per epoch."""
    loss = _train_step(self, X_batch, y_batch)
    if self.scheduler is not None:
        self.scheduler.step()
    return loss


def evaluate_in_train_mode(
    self: st.PyTorchTrainer, X: Any = None, y: Any = None, loader: Iterable[tuple[Any, Any]] | None = None
) -> float:
    """The test loss without ``model.eval()``: dropout stays on during evaluation."""
    batches = [(X, y)] if loader is None else list(loader)
    losses = [self.criterion.forward(self.model.forward(np.asarray(xb)), yb) * len(xb) for xb, yb in batches]
    return float(sum(losses)) / sum(len(xb) for xb, _ in batches)


_evaluate = st.PyTorchTrainer.evaluate


def eval_mode_sticks(
    self: st.PyTorchTrainer, X: Any = None, y: Any = None, loader: Iterable[tuple[Any, Any]] | None = None
) -> float:
    """The book's chapter 7 trainer: after the first evaluation the model stays in eval mode (its
    loader path never calls ``model.train()`` again), so dropout is off for the rest of training."""
    value = _evaluate(self, X, y, loader)
    self.model.eval()
    self.model.train = lambda mode=True: self.model  # type: ignore[method-assign]  # BUG: training mode never returns
    return value


MUTANTS = [
    Mutant(
        "pytorch_trainer_decay_per_batch",
        "PyTorchTrainer steps the learning-rate decay after every batch instead of every epoch",
        st.PyTorchTrainer,
        "train_step",
        decay_stepped_per_batch,
        ("PyTorchTrainer",),
        expect="lockstep",
    ),
    Mutant(
        "pytorch_trainer_evaluates_in_train_mode",
        "PyTorchTrainer computes the test loss with the model in training mode (dropout on)",
        st.PyTorchTrainer,
        "evaluate",
        evaluate_in_train_mode,
        ("PyTorchTrainer",),
        expect="lockstep",
    ),
    Mutant(
        "ch7_eval_mode_sticks",
        "after its first evaluation PyTorchTrainer leaves the model in eval mode: dropout is off from then on "
        "(the book's chapter 7 loader path)",
        st.PyTorchTrainer,
        "evaluate",
        eval_mode_sticks,
        ("PyTorchTrainer",),
        book_bug=12,
        expect="lockstep",
    ),
]
