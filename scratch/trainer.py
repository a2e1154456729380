"""Chapters 3 and 7: Trainer.fit (chapter 3's loop) and PyTorchTrainer (chapter 7's), on scratch networks.

Twin: ``torch_ref/trainer.py`` (``torch.optim`` + ``DataLoader``). Both twins follow the same
protocol and return the same ``History`` record, so a harness can compare two runs step by step:

- each epoch visits the training rows in the order ``permutation(epoch, n)`` and cuts it into
  sequential batches of ``batch_size`` (the last one partial);
- before each step ``before_step(epoch, step)`` is called (the harness uses it to give both twins
  the same per-step state, e.g. dropout masks); then ``zero_grad``, ``train_batch``, ``step``;
- every ``eval_every`` epochs the test loss is computed in eval mode; with ``early_stopping``,
  a test loss that does not improve on the best so far stops training and restores the best
  model (the last one that improved). The book instead restores a copy taken at the start of
  the failing evaluation's epoch (after epoch ``e - 1`` when epoch ``e`` fails), a model that was
  never evaluated; we restore the model that was evaluated and found better.
- ``scheduler.step()`` (if given) runs at the end of each epoch, as with ``torch.optim.lr_scheduler``.

``PyTorchTrainer`` (chapter 7) is the book's second trainer: it takes the criterion separately,
has no early stopping and no restart, decays the learning rate itself (``final_lr_exp``), and
also trains from any iterable of ``(x, y)`` batches (the book's ``DataLoader`` path); see its
docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from scratch._checks import Array, as_float_array
from scratch.losses import Loss
from scratch.network import NeuralNetwork
from scratch.optimizers import ExponentialDecay, Optimizer

Permutation = Callable[[int, int], npt.NDArray[np.integer[Any]]]
BeforeStep = Callable[[int, int], None]
#: ``PyTorchTrainer``'s learning-rate decay conventions (``fit(lr_decay=...)``).
LR_DECAYS = ("torch", "book")


class Scheduler(Protocol):
    def step(self) -> None: ...


class Model(Protocol):
    """What ``PyTorchTrainer`` needs of a scratch model (a ``NeuralNetwork`` has it all)."""

    def forward(self, input: Array) -> Array: ...
    def backward(self, grad_output: Array) -> Array: ...
    def parameters(self) -> list[Any]: ...
    def state_dict(self) -> dict[str, Array]: ...
    def train(self, mode: bool = True) -> Any: ...
    def eval(self) -> Any: ...


def seeded_permutation(seed: int) -> Permutation:
    """Epoch ``e``'s order: ``default_rng([seed, e]).permutation(n)``.

    A pure function of ``(seed, epoch, n)``: any number of callers (both twins) get the same order.
    """

    def permutation(epoch: int, n: int) -> npt.NDArray[np.integer[Any]]:
        return np.random.default_rng([seed, epoch]).permutation(n)

    return permutation


def check_fit_options(epochs: int, eval_every: int, batch_size: int) -> None:
    """Shared by both twins: the counts must be positive integers."""
    for name, value in (("epochs", epochs), ("eval_every", eval_every), ("batch_size", batch_size)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def check_order(order: Any, n: int) -> npt.NDArray[np.intp]:
    """The epoch's row order must be a permutation of ``range(n)``."""
    idx = np.asarray(order)
    if idx.shape != (n,) or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"permutation must return {n} integer indices, got shape {idx.shape} dtype {idx.dtype}")
    if not np.array_equal(np.sort(idx), np.arange(n)):
        raise ValueError(f"permutation must return a permutation of range({n})")
    return idx.astype(np.intp)


def array_batches(X: Any, y: Any, idx: Any, batch_size: int) -> Iterator[tuple[Any, Any]]:
    """Rows ``idx`` of ``(X, y)`` cut into sequential batches of ``batch_size`` (the last one partial)."""
    for start in range(0, len(idx), batch_size):
        batch = idx[start : start + batch_size]
        yield X[batch], y[batch]


def check_rows(X_shape: tuple[int, ...], y_shape: tuple[int, ...], what: str) -> None:
    """Shared by both ``PyTorchTrainer`` twins: a non-empty batch axis, the same length in X and y."""
    if len(X_shape) < 1 or len(y_shape) < 1:
        raise ValueError(f"{what}: X and y need a batch axis, got shapes {X_shape} and {y_shape}")
    if X_shape[0] == 0:
        raise ValueError(f"{what}: empty batch (X shape {X_shape})")
    if X_shape[0] != y_shape[0]:
        raise ValueError(f"{what}: X has {X_shape[0]} rows but y has {y_shape[0]}")


def decay_plan(lr_decay: str, epochs: int) -> tuple[int, bool]:
    """``(E', first)`` for ``ExponentialDecay(optimizer, final_lr, E')`` stepped once per epoch,
    before the epoch when ``first`` else after it (both twins' ``PyTorchTrainer``).

    - ``torch``: ``r = (lrF / lr0)^(1 / (E - 1))`` stepped after each epoch: epoch ``e`` (0-based)
      trains with ``lr0 r^e``, the last one with ``lrF`` (as chapter 4's decay).
    - ``book``: the book's ``r = (lrF / lr0)^(1 / (E + 1))`` stepped *before* each epoch: epoch ``e``
      trains with ``lr0 r^(e + 1)``; the first epoch is already decayed and ``lrF`` is never reached.
    """
    if lr_decay not in LR_DECAYS:
        raise ValueError(f"unknown lr_decay {lr_decay!r}; choose from {LR_DECAYS}")
    return (epochs + 2, True) if lr_decay == "book" else (epochs, False)


def check_trainer_fit(epochs: int, eval_every: int, batch_size: int, final_lr_exp: float | None) -> None:
    """Shared by both ``PyTorchTrainer`` twins: counts positive, the final rate positive."""
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


@dataclass
class History:
    """What a ``fit`` recorded (numpy data, the same type on both twins).

    Attributes:
        step_losses: the training loss of every step, in order.
        epoch_params: ``state_dict()`` copies after every completed epoch.
        lrs: the learning rate each epoch trained with.
        eval_epochs, eval_losses: the epochs (1-based) evaluated and their test losses.
        stopped_epoch: the epoch after which early stopping ended training, else ``None``.
        restored_epoch: the epoch whose model early stopping restored, else ``None``.
    """

    step_losses: list[float] = field(default_factory=list)
    epoch_params: list[dict[str, Array]] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    eval_epochs: list[int] = field(default_factory=list)
    eval_losses: list[float] = field(default_factory=list)
    stopped_epoch: int | None = None
    restored_epoch: int | None = None


class Trainer:
    """Trains a ``NeuralNetwork`` with an ``Optimizer`` built on its parameters.

    Args:
        net: the network (its loss is the training and test loss).
        optimizer: e.g. ``SGD(net.parameters(), lr=0.01)``.

    The weights and learning rates at construction are kept: ``fit(restart=True)`` starts again
    from them (the book re-draws the weights instead), with fresh optimizer state.
    """

    def __init__(self, net: NeuralNetwork, optimizer: Optimizer) -> None:
        self.net = net
        self.optimizer = optimizer
        self._initial_state = net.state_dict()
        self._initial_lrs = [g["lr"] for g in optimizer.param_groups]
        self.best_loss = float("inf")
        self._best: tuple[int, dict[str, Array]] | None = None

    def fit(
        self,
        X_train: Array,
        y_train: Array,
        X_test: Array,
        y_test: Array,
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
        """Train for ``epochs`` epochs (see the module docstring); returns the ``History``.

        ``permutation`` defaults to ``seeded_permutation(seed)``.
        """
        check_fit_options(epochs, eval_every, batch_size)
        X_train, y_train = _check_pair(X_train, y_train, "train")
        X_test, y_test = _check_pair(X_test, y_test, "test")
        if restart:
            self.net.load_state_dict(self._initial_state)
            self.optimizer.state.clear()
            for group, lr in zip(self.optimizer.param_groups, self._initial_lrs, strict=True):
                group["lr"] = lr
            self.best_loss, self._best = float("inf"), None
        order = seeded_permutation(seed) if permutation is None else permutation
        n = X_train.shape[0]
        history = History()
        for epoch in range(epochs):
            history.lrs.append(float(self.optimizer.param_groups[0]["lr"]))
            idx = check_order(order(epoch, n), n)
            self.net.train()
            for step, (X_batch, y_batch) in enumerate(array_batches(X_train, y_train, idx, batch_size)):
                if before_step is not None:
                    before_step(epoch, step)
                self.optimizer.zero_grad()
                history.step_losses.append(self.net.train_batch(X_batch, y_batch))
                self.optimizer.step()
            history.epoch_params.append(self.net.state_dict())
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
            self._best = (epoch, self.net.state_dict())
            return True
        return False

    def predict(self, X: Array) -> Array:
        """The network's output in eval mode."""
        self.net.eval()
        try:
            return self.net.forward(as_float_array(X, "X"))
        finally:
            self.net.train()

    def evaluate(self, X: Array, y: Array) -> float:
        """The loss on ``(X, y)`` in eval mode."""
        return self.net.loss.forward(self.predict(X), y)


class PyTorchTrainer:
    """Chapter 7: the book's ``PyTorchTrainer(model, optim, criterion)``, over scratch networks.

    Twin: ``torch_ref.trainer.PyTorchTrainer``. Args:
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

    def fit(
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
    ) -> History:
        """Train for ``epochs`` epochs; returns the ``History`` (``stopped_epoch`` stays ``None``).

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
        history = History()
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
            if len(history.step_losses) == steps:
                raise ValueError("train_dataloader yielded no batches")
            history.epoch_params.append(self.model.state_dict())
            if epoch % eval_every == 0:
                history.eval_epochs.append(epoch + 1)
                history.eval_losses.append(self.evaluate(X_test, y_test, test_dataloader))
            if self.scheduler is not None and not first:
                self.scheduler.step()
        return history

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


def _check_pair(X: object, y: object, split: str) -> tuple[Array, Array]:
    X = as_float_array(X, f"X_{split}")
    y = as_float_array(y, f"y_{split}")
    if X.ndim < 2 or y.ndim < 2:
        raise ValueError(f"X_{split} and y_{split} need a batch axis and a feature axis, got {X.shape} and {y.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"X_{split} is an empty batch (shape {X.shape})")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X_{split} has {X.shape[0]} rows but y_{split} has {y.shape[0]}")
    return X, y
