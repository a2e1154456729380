"""Chapter 3: Trainer.fit with ``torch.optim`` and a ``DataLoader`` (chapter 7's loop: ``pytorch_trainer.py``).

Twin: ``scratch/trainer.py``.

Same protocol as the scratch twin (read its module docstring): the order of the rows comes from
``permutation(epoch, n)`` through a sampler, ``before_step(epoch, step)`` runs before each step, the
scheduler steps after each epoch, and ``iter_fit`` pauses after every step and evaluation with a
``TrainEvent``. The records (``History``, ``TrainEvent``) are this twin's own, with the same fields
as the scratch twin's, so a harness compares like with like without either twin importing the other.
Batches come from a ``DataLoader``: a ``BatchSampler`` cuts the epoch's order into index lists and
the ``TensorDataset`` is indexed with a whole list at once (``batch_size=None`` turns off
per-row collation), which keeps the loader fast for large data sets.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, Sampler, TensorDataset

from torch_ref.network import NeuralNetwork

#: ``(epoch, n) -> indices``: the row order of an epoch (the harness hands both twins the same one).
Permutation = Callable[[int, int], Any]
#: ``(epoch, step) -> None``: run before every step (the harness hands both twins the same masks).
BeforeStep = Callable[[int, int], None]


class Scheduler(Protocol):
    def step(self) -> None: ...


def check_fit_options(epochs: int, eval_every: int, batch_size: int) -> None:
    """The counts must be positive integers."""
    for name, value in (("epochs", epochs), ("eval_every", eval_every), ("batch_size", batch_size)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def check_order(order: Any, n: int) -> torch.Tensor:
    """The epoch's row order must be a permutation of ``range(n)``; returned as an int64 tensor."""
    idx = torch.as_tensor(np.ascontiguousarray(order))  # a reversed view has negative strides
    if tuple(idx.shape) != (n,) or idx.is_floating_point() or idx.dtype == torch.bool:
        raise ValueError(f"permutation must return {n} integer indices, got shape {tuple(idx.shape)} dtype {idx.dtype}")
    if not torch.equal(torch.sort(idx).values, torch.arange(n, dtype=idx.dtype)):
        raise ValueError(f"permutation must return a permutation of range({n})")
    return idx.to(torch.int64)


@dataclass
class History:
    """What a ``fit`` recorded, as plain numbers and numpy copies of the ``state_dict``.

    Attributes:
        step_losses: the training loss of every step, in order.
        epoch_params: ``state_dict()`` copies (numpy) after every completed epoch.
        lrs: the learning rate each epoch trained with.
        eval_epochs, eval_losses: the epochs (1-based) evaluated and their test losses.
        stopped_epoch: the epoch after which early stopping ended training, else ``None``.
        restored_epoch: the epoch whose model early stopping restored, else ``None``.
    """

    step_losses: list[float] = field(default_factory=list)
    epoch_params: list[dict[str, np.ndarray]] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    eval_epochs: list[int] = field(default_factory=list)
    eval_losses: list[float] = field(default_factory=list)
    stopped_epoch: int | None = None
    restored_epoch: int | None = None


@dataclass(frozen=True)
class TrainEvent:
    """A pause of ``iter_fit``: ``kind`` (``"step"``, ``"eval"``, ``"end"``), ``epoch``, ``step``
    (-1 unless a step), ``loss`` (step or test loss), ``stopped`` (early stopping ends here)."""

    kind: str
    epoch: int
    step: int = -1
    loss: float = float("nan")
    stopped: bool = False


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
        self.history = History()

    def fit(self, *args: Any, **kwargs: Any) -> History:
        """Train for ``epochs`` epochs; returns the ``History``. Takes the arguments of ``iter_fit``."""
        for _ in self.iter_fit(*args, **kwargs):
            pass
        return self.history

    def iter_fit(
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
    ) -> Iterator[TrainEvent]:
        """The training loop, pausing after each step and evaluation (``TrainEvent``).

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
        history = self.history = History()
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
                yield TrainEvent("step", epoch, step, history.step_losses[-1])
            history.epoch_params.append(numpy_state(self.net))
            if (epoch + 1) % eval_every == 0:
                loss = self.evaluate(X_test, y_test)
                history.eval_epochs.append(epoch + 1)
                history.eval_losses.append(loss)
                stop = early_stopping and not self._improved(epoch + 1, loss)
                if stop:
                    history.stopped_epoch = epoch + 1
                    if self._best is not None:
                        history.restored_epoch = self._best[0]
                        self.net.load_state_dict(self._best[1])
                yield TrainEvent("eval", epoch, loss=loss, stopped=stop)
                if stop:
                    break
            if scheduler is not None:
                scheduler.step()
        yield TrainEvent("end", len(history.lrs) - 1)

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


def numpy_state(net: torch.nn.Module) -> dict[str, np.ndarray]:
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
