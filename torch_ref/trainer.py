"""Chapters 3 and 7: Trainer.fit and PyTorchTrainer with ``torch.optim`` and a ``DataLoader``.

Twin: ``scratch/trainer.py``.

Same protocol as the scratch twin (read its module docstring) and the same ``History`` record
(plain numpy data, imported from the scratch twin so a harness compares like with like).
Batches come from a ``DataLoader``: a ``BatchSampler`` cuts the epoch's order into index lists and
the ``TensorDataset`` is indexed with a whole list at once (``batch_size=None`` turns off
per-row collation), which keeps the loader fast for large data sets.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, Sampler, TensorDataset

from scratch.trainer import (
    BeforeStep,
    History,
    Permutation,
    Scheduler,
    check_aligned,
    check_fit_options,
    check_order,
    check_rows,
    check_trainer_fit,
    decay_plan,
    pick_source,
)
from torch_ref.network import NeuralNetwork
from torch_ref.optimizers import ExponentialDecay


class PermutationSampler(Sampler[int]):
    """Yields ``permutation(epoch, n)``; call ``set_epoch`` before each epoch (like
    ``DistributedSampler``). This is how the harness gives both twins the same batch order."""

    def __init__(self, n: int, permutation: Permutation) -> None:
        self.n = n
        self.permutation = permutation
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        return iter(check_order(self.permutation(self.epoch, self.n), self.n).tolist())

    def __len__(self) -> int:
        return self.n


class Trainer:
    """Trains a ``NeuralNetwork`` with a ``torch.optim`` optimizer built on its parameters.

    Args:
        net: the network (its loss is the training and test loss).
        optimizer: e.g. ``SGD(net.parameters(), lr=0.01)``.
    """

    def __init__(self, net: NeuralNetwork, optimizer: torch.optim.Optimizer) -> None:
        self.net = net
        self.optimizer = optimizer
        self._initial_state = copy.deepcopy(net.state_dict())
        self._initial_lrs = [g["lr"] for g in optimizer.param_groups]
        self.best_loss = float("inf")
        self._best: tuple[int, dict[str, torch.Tensor]] | None = None

    def fit(
        self,
        X_train: torch.Tensor,
        y_train: torch.Tensor,
        X_test: torch.Tensor,
        y_test: torch.Tensor,
        epochs: int = 100,
        eval_every: int = 10,
        batch_size: int = 32,
        seed: int = 1,
        restart: bool = True,
        early_stopping: bool = True,
        *,
        permutation: Permutation | None = None,
        before_step: BeforeStep | None = None,
        scheduler: Scheduler | None = None,
    ) -> History:
        """Train for ``epochs`` epochs; returns the ``History``.

        Without ``permutation`` the order is ``RandomSampler`` with a generator seeded by ``seed``
        (idiomatic torch; a different order from the scratch twin's default).
        """
        check_fit_options(epochs, eval_every, batch_size)
        _check_pair(X_train, y_train, "train")
        _check_pair(X_test, y_test, "test")
        if restart:
            self.net.load_state_dict(self._initial_state)
            self.optimizer.state.clear()
            for group, lr in zip(self.optimizer.param_groups, self._initial_lrs, strict=True):
                group["lr"] = lr
            self.best_loss, self._best = float("inf"), None
        loader, sampler = array_loader(X_train, y_train, batch_size, seed, permutation)
        history = History()
        for epoch in range(epochs):
            history.lrs.append(float(self.optimizer.param_groups[0]["lr"]))
            if isinstance(sampler, PermutationSampler):
                sampler.set_epoch(epoch)
            self.net.train()
            for step, (X_batch, y_batch) in enumerate(loader):
                if before_step is not None:
                    before_step(epoch, step)
                self.optimizer.zero_grad()
                history.step_losses.append(self.net.train_batch(X_batch, y_batch))
                self.optimizer.step()
            history.epoch_params.append(_numpy_state(self.net))
            if (epoch + 1) % eval_every == 0:
                loss = self.evaluate(X_test, y_test)
                history.eval_epochs.append(epoch + 1)
                history.eval_losses.append(loss)
                if early_stopping and not self._improved(epoch + 1, loss):
                    history.stopped_epoch = epoch + 1
                    if self._best is not None:
                        history.restored_epoch = self._best[0]
                        self.net.load_state_dict(self._best[1])
                    break
            if scheduler is not None:
                scheduler.step()
        return history

    def _improved(self, epoch: int, loss: float) -> bool:
        """Keep the model when ``loss`` beats the best so far."""
        if loss < self.best_loss:
            self.best_loss = loss
            self._best = (epoch, copy.deepcopy(self.net.state_dict()))
            return True
        return False

    @torch.no_grad()
    def predict(self, X: torch.Tensor) -> torch.Tensor:
        """The network's output in eval mode."""
        self.net.eval()
        try:
            return self.net(X)
        finally:
            self.net.train()

    def evaluate(self, X: torch.Tensor, y: torch.Tensor) -> float:
        """The loss on ``(X, y)`` in eval mode."""
        with torch.no_grad():
            return float(self.net.loss(self.predict(X), y).item())


class PyTorchTrainer:
    """Chapter 7: the book's ``PyTorchTrainer(model, optim, criterion)``, idiomatic PyTorch.

    Twin: ``scratch.trainer.PyTorchTrainer`` (its docstring lists how this trainer differs from
    chapter 3's ``Trainer`` and from the book's code). Args:
        model: any ``nn.Module`` mapping a batch to predictions.
        optimizer: a ``torch.optim`` optimizer on exactly ``model.parameters()``.
        criterion: the loss module, e.g. ``nn.MSELoss()``.

    Arrays go through a ``DataLoader`` (``array_loader``); a ``train_dataloader`` is used as given.
    ``final_lr_exp`` decays the rate with ``lr_scheduler.ExponentialLR`` (``ExponentialDecay``).
    Evaluation runs under ``model.eval()`` and ``torch.no_grad()``.
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, criterion: nn.Module) -> None:
        check_aligned(model.parameters(), optimizer.param_groups)
        self.model = model
        self.optimizer = optimizer
        self.criterion = criterion
        self.scheduler: ExponentialDecay | None = None

    def fit(
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
    ) -> History:
        """Train for ``epochs`` epochs; returns the ``History``. Without ``permutation`` the order
        is ``RandomSampler`` seeded by ``seed`` (not the scratch twin's default order)."""
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
        history = History()
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
            if len(history.step_losses) == steps:
                raise ValueError("train_dataloader yielded no batches")
            history.epoch_params.append(_numpy_state(self.model))
            if epoch % eval_every == 0:
                history.eval_epochs.append(epoch + 1)
                history.eval_losses.append(self.evaluate(X_test, y_test, test_dataloader))
            if self.scheduler is not None and not first:
                self.scheduler.step()
        return history

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


def array_loader(
    X: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int, permutation: Permutation | None
) -> tuple[DataLoader[Any], Sampler[int]]:
    """A ``DataLoader`` over ``(X, y)`` and its row sampler (``set_epoch`` it when it is a
    ``PermutationSampler``): ``permutation`` or, without it, ``RandomSampler`` seeded by ``seed``."""
    dataset = TensorDataset(X, y)
    sampler: Sampler[int]
    if permutation is None:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    else:
        sampler = PermutationSampler(len(dataset), permutation)
    batches = BatchSampler(sampler, batch_size, drop_last=False)  # sequential cuts, last one partial
    return DataLoader(dataset, sampler=batches, batch_size=None), sampler  # dataset[list] -> whole batch


def _numpy_state(net: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}


def _check_pair(X: torch.Tensor, y: torch.Tensor, split: str) -> None:
    for name, t in ((f"X_{split}", X), (f"y_{split}", y)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if not t.is_floating_point():
            raise TypeError(f"{name} must be floating point, got {t.dtype}")
        if not torch.isfinite(t).all():
            raise ValueError(f"{name} contains NaN or infinite values")
    if X.dim() < 2 or y.dim() < 2:
        raise ValueError(f"X_{split} and y_{split} need a batch axis and a feature axis, got {X.shape} and {y.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"X_{split} is an empty batch (shape {tuple(X.shape)})")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X_{split} has {X.shape[0]} rows but y_{split} has {y.shape[0]}")
