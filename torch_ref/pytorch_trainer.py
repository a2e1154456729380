"""Chapter 7: the book's ``PyTorchTrainer``, idiomatic PyTorch (``DataLoader``, ``lr_scheduler``, autograd).

Twin: ``scratch/pytorch_trainer.py`` (its docstring lists how this trainer differs from chapter 3's
``Trainer`` and from the book's code). Same step protocol and records as ``torch_ref/trainer.py``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import nn
from torch.utils.data import Sampler

from torch_ref.optimizers import ExponentialDecay
from torch_ref.trainer import (
    BeforeStep,
    History,
    Permutation,
    PermutationSampler,
    TrainEvent,
    array_loader,
    check_fit_options,
    numpy_state,
)

#: The learning-rate decay conventions (``fit(lr_decay=...)``): see ``decay_plan``.
LR_DECAYS = ("torch", "book")


def decay_plan(lr_decay: str, epochs: int) -> tuple[int, bool]:
    """``(E', first)``: ``ExponentialLR`` for ``E'`` epochs, stepped before each epoch when ``first``.

    ``torch``: ``gamma = (lrF / lr0)^(1 / (E - 1))`` stepped after each epoch (the last epoch trains
    with ``lrF``); ``book``: ``gamma = (lrF / lr0)^(1 / (E + 1))`` stepped before each epoch.
    """
    if lr_decay not in LR_DECAYS:
        raise ValueError(f"unknown lr_decay {lr_decay!r}; choose from {LR_DECAYS}")
    return (epochs + 2, True) if lr_decay == "book" else (epochs, False)


def check_trainer_fit(epochs: int, eval_every: int, batch_size: int, final_lr_exp: float | None) -> None:
    """Counts positive, the final rate positive and finite."""
    check_fit_options(epochs, eval_every, batch_size)
    if final_lr_exp is not None and not (isinstance(final_lr_exp, (int, float)) and 0 < final_lr_exp < float("inf")):
        raise ValueError(f"final_lr_exp (the final learning rate) must be positive, got {final_lr_exp!r}")


def check_rows(X_shape: tuple[int, ...], y_shape: tuple[int, ...], what: str) -> None:
    """A non-empty batch axis, the same length in X and y."""
    if len(X_shape) < 1 or len(y_shape) < 1:
        raise ValueError(f"{what}: X and y need a batch axis, got shapes {X_shape} and {y_shape}")
    if X_shape[0] == 0:
        raise ValueError(f"{what}: empty batch (X shape {X_shape})")
    if X_shape[0] != y_shape[0]:
        raise ValueError(f"{what}: X has {X_shape[0]} rows but y has {y_shape[0]}")


def check_aligned(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """The optimizer must be built on exactly ``model.parameters()`` (the book asserts the same)."""
    given = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if {id(p) for p in model.parameters()} != given:
        raise ValueError("the optimizer must be built on exactly model.parameters()")


def pick_source(arrays: tuple[Any, Any], loader: Any, split: str) -> None:
    """Exactly one of the tensors ``(X, y)`` or a loader must be given for ``split``."""
    given = [a is not None for a in arrays]
    if any(given) and not all(given):
        raise ValueError(f"give both X_{split} and y_{split}, or neither")
    if all(given) == (loader is not None):
        raise ValueError(f"give either X_{split} and y_{split} or {split}_dataloader (exactly one)")


class PyTorchTrainer:
    """Chapter 7: the book's ``PyTorchTrainer(model, optim, criterion)``, idiomatic PyTorch.

    Twin: ``scratch.pytorch_trainer.PyTorchTrainer`` (its docstring lists how this trainer differs from
    chapter 3's ``Trainer`` and from the book's code). Args:
        model: any ``nn.Module`` mapping a batch to predictions.
        optimizer: a ``torch.optim`` optimizer on exactly ``model.parameters()``.
        criterion: the loss module, e.g. ``nn.MSELoss()``.

    Arrays go through a ``DataLoader`` (``array_loader``); a ``train_dataloader`` is used as given.
    ``final_lr_exp`` decays the rate with ``lr_scheduler.ExponentialLR`` (``ExponentialDecay``).
    Evaluation runs under ``model.eval()`` and ``torch.no_grad()``.
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, criterion: nn.Module) -> None:
        check_aligned(model, optimizer)
        self.model = model
        self.optimizer = optimizer
        self.criterion = criterion
        self.scheduler: ExponentialDecay | None = None
        self.history = History()

    def fit(self, *args: Any, **kwargs: Any) -> History:
        """Train for ``epochs`` epochs; returns the ``History``. Takes the arguments of ``iter_fit``."""
        for _ in self.iter_fit(*args, **kwargs):
            pass
        return self.history

    def iter_fit(
        self,
        X_train: torch.Tensor | None = None,
        y_train: torch.Tensor | None = None,
        X_test: torch.Tensor | None = None,
        y_test: torch.Tensor | None = None,
        epochs: int = 100,
        eval_every: int = 10,
        batch_size: int = 32,
        final_lr_exp: float | None = None,
        *,
        train_dataloader: Iterable[tuple[torch.Tensor, torch.Tensor]] | None = None,
        test_dataloader: Iterable[tuple[torch.Tensor, torch.Tensor]] | None = None,
        seed: int = 1,
        permutation: Permutation | None = None,
        before_step: BeforeStep | None = None,
        lr_decay: str = "torch",
    ) -> Iterator[TrainEvent]:
        """The training loop, pausing after each step and evaluation (``TrainEvent``). Without
        ``permutation`` the order is ``RandomSampler`` seeded by ``seed`` (not the scratch twin's
        default order)."""
        check_trainer_fit(epochs, eval_every, batch_size, final_lr_exp)
        pick_source((X_train, y_train), train_dataloader, "train")
        pick_source((X_test, y_test), test_dataloader, "test")
        for name, value in (("X_train", X_train), ("y_train", y_train), ("X_test", X_test), ("y_test", y_test)):
            if value is not None and not isinstance(value, torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
        sampler: Sampler[int] | None = None
        if train_dataloader is None:
            assert X_train is not None and y_train is not None  # pick_source
            check_rows(tuple(X_train.shape), tuple(y_train.shape), "train")
            train_dataloader, sampler = array_loader(X_train, y_train, batch_size, seed, permutation)
        if X_test is not None and y_test is not None:
            check_rows(tuple(X_test.shape), tuple(y_test.shape), "test")
        self.scheduler, first = None, False
        if final_lr_exp is not None:
            schedule_epochs, first = decay_plan(lr_decay, epochs)
            self.scheduler = ExponentialDecay(self.optimizer, final_lr_exp, schedule_epochs)
        history = self.history = History()
        for epoch in range(epochs):
            if self.scheduler is not None and first:
                with warnings.catch_warnings():  # the book steps before the epoch's optimizer steps
                    warnings.filterwarnings("ignore", "Detected call of `lr_scheduler.step", UserWarning)
                    self.scheduler.step()
            history.lrs.append(float(self.optimizer.param_groups[0]["lr"]))
            if isinstance(sampler, PermutationSampler):
                sampler.set_epoch(epoch)
            self.model.train()
            steps = len(history.step_losses)
            for step, (X_batch, y_batch) in enumerate(train_dataloader):
                if before_step is not None:
                    before_step(epoch, step)
                history.step_losses.append(self.train_step(X_batch, y_batch))
                yield TrainEvent("step", epoch, step, history.step_losses[-1])
            if len(history.step_losses) == steps:
                raise ValueError("train_dataloader yielded no batches")
            history.epoch_params.append(numpy_state(self.model))
            if epoch % eval_every == 0:
                history.eval_epochs.append(epoch + 1)
                history.eval_losses.append(self.evaluate(X_test, y_test, test_dataloader))
                yield TrainEvent("eval", epoch, loss=history.eval_losses[-1])
            if self.scheduler is not None and not first:
                self.scheduler.step()
        yield TrainEvent("end", epochs - 1)

    def train_step(self, X_batch: torch.Tensor, y_batch: torch.Tensor) -> float:
        """``zero_grad``, forward, criterion, ``backward`` (autograd), ``step``; returns the loss."""
        check_rows(tuple(X_batch.shape), tuple(y_batch.shape), "train batch")
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(X_batch), y_batch)
        loss.backward()
        self.optimizer.step()
        return float(loss.item())

    @torch.no_grad()
    def evaluate(
        self,
        X: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
        loader: Iterable[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> float:
        """The criterion in eval mode on ``(X, y)``, or its row-weighted mean over ``loader``'s batches."""
        batches: Iterable[Any] = [(X, y)] if loader is None else loader
        total, rows = 0.0, 0
        self.model.eval()
        try:
            for X_batch, y_batch in batches:
                check_rows(tuple(X_batch.shape), tuple(y_batch.shape), "test batch")
                total += float(self.criterion(self.model(X_batch), y_batch).item()) * len(X_batch)
                rows += len(X_batch)
        finally:
            self.model.train()
        if rows == 0:
            raise ValueError("test_dataloader yielded no batches")
        return total / rows
