"""Chapter 3: Trainer.fit, the training loop, on scratch networks (chapter 7's loop: ``pytorch_trainer.py``).

Twin: ``torch_ref/trainer.py`` (``torch.optim`` + ``DataLoader``). Both twins follow the same
protocol and record the same history, so a harness can compare two runs step by step:

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

The loop is written as a generator, ``iter_fit``: it pauses after every optimizer step, after
every evaluation and at the end, yielding a ``TrainEvent``; ``fit`` simply runs it to the end.
The pauses let a harness drive two twins in lockstep (compare both after each step, then carry on
from one reference state) without a second copy of the loop; a reader can ignore them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from scratch._checks import Array, as_float_array
from scratch.network import NeuralNetwork
from scratch.optimizers import Optimizer

Permutation = Callable[[int, int], npt.NDArray[np.integer[Any]]]
BeforeStep = Callable[[int, int], None]


class Scheduler(Protocol):
    def step(self) -> None: ...


def seeded_permutation(seed: int) -> Permutation:
    """Epoch ``e``'s order: ``default_rng([seed, e]).permutation(n)``.

    A pure function of ``(seed, epoch, n)``: any number of callers (both twins) get the same order.
    """

    def permutation(epoch: int, n: int) -> npt.NDArray[np.integer[Any]]:
        return np.random.default_rng([seed, epoch]).permutation(n)

    return permutation


def check_fit_options(epochs: int, eval_every: int, batch_size: int) -> None:
    """The counts must be positive integers."""
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


@dataclass
class History:
    """What a ``fit`` recorded (plain numpy data).

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


@dataclass(frozen=True)
class TrainEvent:
    """A pause of ``iter_fit``: what just happened.

    Attributes:
        kind: ``"step"`` (an optimizer step was taken: gradients and updated parameters are in
            place), ``"eval"`` (the test loss was computed; early stopping has acted) or ``"end"``.
        epoch: 0-based epoch; step: 0-based step within the epoch (-1 for ``eval`` and ``end``).
        loss: the step's training loss or the evaluation's test loss (NaN at ``end``).
        stopped: ``eval`` only: early stopping ends training here.
    """

    kind: str
    epoch: int
    step: int = -1
    loss: float = float("nan")
    stopped: bool = False


class Trainer:
    """Trains a ``NeuralNetwork`` with an ``Optimizer`` built on its parameters.

    Args:
        net: the network (its loss is the training and test loss).
        optimizer: e.g. ``SGD(net.parameters(), lr=0.01)``.

    The weights and learning rates at construction are kept: ``fit(restart=True)`` starts again
    from them (the book re-draws the weights instead), with fresh optimizer state.

    Attributes:
        history: the ``History`` of the current or last ``fit``.
    """

    def __init__(self, net: NeuralNetwork, optimizer: Optimizer) -> None:
        self.net = net
        self.optimizer = optimizer
        self._initial_state = net.state_dict()
        self._initial_lrs = [g["lr"] for g in optimizer.param_groups]
        self.best_loss = float("inf")
        self._best: tuple[int, dict[str, Array]] | None = None
        self.history = History()

    def fit(self, *args: Any, **kwargs: Any) -> History:
        """Train for ``epochs`` epochs (see the module docstring); returns the ``History``.

        Takes exactly the arguments of ``iter_fit`` and runs it to the end.
        """
        for _ in self.iter_fit(*args, **kwargs):
            pass
        return self.history

    def iter_fit(
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
    ) -> Iterator[TrainEvent]:
        """The training loop, pausing after each step and evaluation (``TrainEvent``).

        ``permutation`` defaults to ``seeded_permutation(seed)``; the book's arguments otherwise.
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
        history = self.history = History()
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
                yield TrainEvent("step", epoch, step, history.step_losses[-1])
            history.epoch_params.append(self.net.state_dict())
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
