"""Chapter 7: the book's ``PyTorchTrainer``, its second training loop, over scratch networks.

Twin: ``torch_ref/pytorch_trainer.py``. Same step protocol as chapter 3's ``Trainer``
(``scratch/trainer.py``: batch order from ``permutation(epoch, n)``, ``before_step`` hooks, the
``History`` record, ``iter_fit`` pausing after every step and evaluation for a lockstep harness);
what differs is listed in the class docstring.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import numpy as np

from scratch._checks import Array, as_float_array
from scratch.losses import Loss
from scratch.optimizers import ExponentialDecay, Optimizer
from scratch.trainer import (
    BeforeStep,
    History,
    Permutation,
    TrainEvent,
    array_batches,
    check_fit_options,
    check_order,
    seeded_permutation,
)

#: ``PyTorchTrainer``'s learning-rate decay conventions (``fit(lr_decay=...)``).
LR_DECAYS = ("torch", "book")


class Model(Protocol):
    """What ``PyTorchTrainer`` needs of a scratch model (a ``NeuralNetwork`` has it all)."""

    def forward(self, input: Array) -> Array: ...
    def backward(self, grad_output: Array) -> Array: ...
    def parameters(self) -> list[Any]: ...
    def state_dict(self) -> dict[str, Array]: ...
    def train(self, mode: bool = True) -> Any: ...
    def eval(self) -> Any: ...


def check_rows(X_shape: tuple[int, ...], y_shape: tuple[int, ...], what: str) -> None:
    """A non-empty batch axis, the same length in X and y."""
    if len(X_shape) < 1 or len(y_shape) < 1:
        raise ValueError(f"{what}: X and y need a batch axis, got shapes {X_shape} and {y_shape}")
    if X_shape[0] == 0:
        raise ValueError(f"{what}: empty batch (X shape {X_shape})")
    if X_shape[0] != y_shape[0]:
        raise ValueError(f"{what}: X has {X_shape[0]} rows but y has {y_shape[0]}")


def decay_plan(lr_decay: str, epochs: int) -> tuple[int, bool]:
    """``(E', first)`` for ``ExponentialDecay(optimizer, final_lr, E')`` stepped once per epoch,
    before the epoch when ``first`` else after it.

    - ``torch``: ``r = (lrF / lr0)^(1 / (E - 1))`` stepped after each epoch: epoch ``e`` (0-based)
      trains with ``lr0 r^e``, the last one with ``lrF`` (as chapter 4's decay).
    - ``book``: the book's ``r = (lrF / lr0)^(1 / (E + 1))`` stepped *before* each epoch: epoch ``e``
      trains with ``lr0 r^(e + 1)``; the first epoch is already decayed and ``lrF`` is never reached.
    """
    if lr_decay not in LR_DECAYS:
        raise ValueError(f"unknown lr_decay {lr_decay!r}; choose from {LR_DECAYS}")
    return (epochs + 2, True) if lr_decay == "book" else (epochs, False)


def check_trainer_fit(epochs: int, eval_every: int, batch_size: int, final_lr_exp: float | None) -> None:
    """Counts positive, the final rate positive."""
    check_fit_options(epochs, eval_every, batch_size)
    if final_lr_exp is not None and not (isinstance(final_lr_exp, (int, float)) and 0 < final_lr_exp < float("inf")):
        raise ValueError(f"final_lr_exp (the final learning rate) must be positive, got {final_lr_exp!r}")


def check_aligned(model_params: Iterable[Any], param_groups: Iterable[dict[str, Any]]) -> None:
    """The optimizer's parameters must be exactly the model's (the book asserts the same)."""
    given = {id(p) for group in param_groups for p in group["params"]}
    if {id(p) for p in model_params} != given:
        raise ValueError("the optimizer must be built on exactly model.parameters()")


def pick_source(arrays: tuple[Any, Any], loader: Any, split: str) -> None:
    """Exactly one of the arrays ``(X, y)`` or a loader must be given for ``split``."""
    given = [a is not None for a in arrays]
    if any(given) and not all(given):
        raise ValueError(f"give both X_{split} and y_{split}, or neither")
    if all(given) == (loader is not None):
        raise ValueError(f"give either X_{split} and y_{split} or {split}_dataloader (exactly one)")


class PyTorchTrainer:
    """Chapter 7: the book's ``PyTorchTrainer(model, optim, criterion)``, over scratch networks.

    Twin: ``torch_ref.pytorch_trainer.PyTorchTrainer``. Args:
        model: a scratch ``Module`` with ``forward``/``backward`` (e.g. a ``NeuralNetwork``; its
            own ``loss`` is not used: the criterion is).
        optimizer: built on exactly ``model.parameters()`` (the book asserts this too).
        criterion: the scratch ``Loss`` (e.g. ``MeanSquaredError()``).

    Differences from chapter 3's ``Trainer``, following the book's chapter 7 code: no early
    stopping and no restart (a second ``fit`` goes on from the trained weights and the optimizer's
    state); the test loss is computed after epochs ``1, 1 + eval_every, 1 + 2 eval_every, ...``
    (the book's ``e % eval_every == 0``), not ``eval_every, 2 eval_every, ...``; the learning rate
    decays inside ``fit`` when ``final_lr_exp`` is given. Differences from the book: the batch order
    is ``permutation(epoch, n)`` (default ``seeded_permutation(seed)``) rather than the global NumPy
    generator; ``model.train()`` runs at the start of every epoch on both paths (the book's loader
    path never switches back after its first evaluation, so dropout stays off from epoch 2); a
    test loader's loss is the mean over rows (the book averages the batch means).
    """

    def __init__(self, model: Model, optimizer: Optimizer, criterion: Loss) -> None:
        check_aligned(model.parameters(), optimizer.param_groups)
        self.model = model
        self.optimizer = optimizer
        self.criterion = criterion
        self.scheduler: ExponentialDecay | None = None
        self.history = History()

    def fit(self, *args: Any, **kwargs: Any) -> History:
        """Train for ``epochs`` epochs; returns the ``History`` (``stopped_epoch`` stays ``None``).

        Takes exactly the arguments of ``iter_fit`` and runs it to the end.
        """
        for _ in self.iter_fit(*args, **kwargs):
            pass
        return self.history

    def iter_fit(
        self,
        X_train: Array | None = None,
        y_train: Array | None = None,
        X_test: Array | None = None,
        y_test: Array | None = None,
        epochs: int = 100,
        eval_every: int = 10,
        batch_size: int = 32,
        final_lr_exp: float | None = None,
        *,
        train_dataloader: Iterable[tuple[Any, Any]] | None = None,
        test_dataloader: Iterable[tuple[Any, Any]] | None = None,
        seed: int = 1,
        permutation: Permutation | None = None,
        before_step: BeforeStep | None = None,
        lr_decay: str = "torch",
    ) -> Iterator[TrainEvent]:
        """The training loop, pausing after each step and evaluation (``TrainEvent``).

        Args:
            X_train, y_train / train_dataloader: the training rows, or any re-iterable of
                ``(x, y)`` batches (used in its own order; ``batch_size`` and ``permutation`` then
                do not apply). The book passes its loaders positionally after ``y_test``.
            X_test, y_test / test_dataloader: the test rows or batches.
            final_lr_exp: the book's name for the *final learning rate* (not an exponent); with it,
                the rate decays exponentially per epoch (``decay_plan(lr_decay)``).
            before_step: ``(epoch, step)`` hook run before each step (the harness's dropout masks).
        """
        check_trainer_fit(epochs, eval_every, batch_size, final_lr_exp)
        pick_source((X_train, y_train), train_dataloader, "train")
        pick_source((X_test, y_test), test_dataloader, "test")
        if X_train is not None:
            X_train, y_train = np.asarray(X_train), np.asarray(y_train)
            check_rows(X_train.shape, np.shape(y_train), "train")
        if X_test is not None:
            X_test, y_test = np.asarray(X_test), np.asarray(y_test)
            check_rows(X_test.shape, np.shape(y_test), "test")
        self.scheduler, first = None, False
        if final_lr_exp is not None:
            schedule_epochs, first = decay_plan(lr_decay, epochs)
            self.scheduler = ExponentialDecay(self.optimizer, final_lr_exp, schedule_epochs)
        order = seeded_permutation(seed) if permutation is None else permutation
        history = self.history = History()
        for epoch in range(epochs):
            if self.scheduler is not None and first:
                self.scheduler.step()
            history.lrs.append(float(self.optimizer.param_groups[0]["lr"]))
            if train_dataloader is None:
                assert X_train is not None  # pick_source: arrays when there is no loader
                n = X_train.shape[0]
                idx = check_order(order(epoch, n), n)
                batches: Iterable[tuple[Any, Any]] = array_batches(X_train, y_train, idx, batch_size)
            else:
                batches = train_dataloader
            self.model.train()
            steps = len(history.step_losses)
            for step, (X_batch, y_batch) in enumerate(batches):
                if before_step is not None:
                    before_step(epoch, step)
                history.step_losses.append(self.train_step(X_batch, y_batch))
                yield TrainEvent("step", epoch, step, history.step_losses[-1])
            if len(history.step_losses) == steps:
                raise ValueError("train_dataloader yielded no batches")
            history.epoch_params.append(self.model.state_dict())
            if epoch % eval_every == 0:
                history.eval_epochs.append(epoch + 1)
                history.eval_losses.append(self.evaluate(X_test, y_test, test_dataloader))
                yield TrainEvent("eval", epoch, loss=history.eval_losses[-1])
            if self.scheduler is not None and not first:
                self.scheduler.step()
        yield TrainEvent("end", epochs - 1)

    def train_step(self, X_batch: Any, y_batch: Any) -> float:
        """``zero_grad``, forward, criterion, backward, ``step`` on one batch; returns the loss."""
        X_batch = as_float_array(X_batch, "X batch")
        check_rows(X_batch.shape, np.shape(y_batch), "train batch")
        self.optimizer.zero_grad()
        loss = self.criterion.forward(self.model.forward(X_batch), y_batch)
        self.model.backward(self.criterion.backward())
        self.optimizer.step()
        return loss

    def evaluate(
        self, X: Array | None = None, y: Array | None = None, loader: Iterable[tuple[Any, Any]] | None = None
    ) -> float:
        """The criterion in eval mode on ``(X, y)``, or its row-weighted mean over ``loader``'s batches."""
        batches: Iterable[tuple[Any, Any]] = [(X, y)] if loader is None else loader
        total, rows = 0.0, 0
        self.model.eval()
        try:
            for X_batch, y_batch in batches:
                X_batch = as_float_array(X_batch, "X test batch")
                check_rows(X_batch.shape, np.shape(y_batch), "test batch")
                total += self.criterion.forward(self.model.forward(X_batch), y_batch) * len(X_batch)
                rows += len(X_batch)
        finally:
            self.model.train()
        if rows == 0:
            raise ValueError("test_dataloader yielded no batches")
        return total / rows
