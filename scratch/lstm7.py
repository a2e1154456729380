"""Chapter 7: the book's LSTM next-character model, its loss over ``(N, V, L)`` logits, one step and
the validation loss.

Twin: ``torch_ref/lstm7.py``. The book writes this model in PyTorch only (an ``nn.LSTM`` with
``batch_first=True`` and an ``nn.Linear`` output layer, logits permuted to ``(batch, vocab,
time)`` for ``nn.CrossEntropyLoss``); here it is also built from chapter 6's scratch ``LSTM``
(``scratch/rnn.py``, PyTorch's gate order i, f, g, o and names) and a ``Dense``.

Forward (input ``X`` (N, L, V) one-hot characters; ``H`` the hidden size, the book's ``V``):
    ``Hs = lstm(X, (h_0, c_0))`` (N, L, H), where ``h_0``, ``c_0`` are the carried state broadcast
    over the N rows (zeros before the first batch); ``Z = Hs W^T + b`` (N, L, V); the output is
    ``Z`` with its last two axes swapped, ``(N, V, L)``. Afterwards the carried state becomes the
    batch mean of the final state, ``(mean_n h_L[n], mean_n c_L[n])``, each (1, 1, H), detached.
Backward (``G`` (N, V, L)):
    ``G_Z`` = ``G`` swapped back to (N, L, V); ``dHs = G_Z W``; ``dW = sum_{n,t} G_Z^T Hs``;
    ``db = sum_{n,t} G_Z``; then backward through time (``scratch/rnn.py``) gives ``dX`` and the
    LSTM's four parameter gradients. The carried state is detached: no gradient flows into it.

``state_dict`` keys are the torch twin's: ``lstm.weight_ih_l0`` (4H, V), ``lstm.weight_hh_l0``
(4H, H), ``lstm.bias_ih_l0``, ``lstm.bias_hh_l0`` (4H,), ``dense.weight`` (V, H), ``dense.bias`` (V,).
Initial weights are PyTorch's defaults (``U(-1/sqrt(H), 1/sqrt(H))`` for the LSTM,
``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for the dense layer), drawn from ``rng``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from scratch import optimizers as so
from scratch._checks import Array, check_input, check_same_shape
from scratch.autoencoder import torch_default_init
from scratch.layers import Dense
from scratch.losses import SequenceSoftmaxCrossEntropy
from scratch.module import Module
from scratch.rnn import LSTM


def _check_size(name: str, value: object) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


class NextCharLSTM(Module):
    """Chapter 7: one LSTM layer and a dense output layer over one-hot characters.

    Args:
        vocab_size: V, the input and output width.
        hidden_size: H; ``None`` is the book's choice, ``H = V``.
        rng: generator for the initial weights.

    Shape: input (N, L, V) -> logits (N, V, L) (module docstring for the maths).

    Attributes:
        lstm, dense: the layers. state: the carried ``(h, c)``, each (1, 1, H), or ``None``.
    """

    def __init__(
        self, vocab_size: int, hidden_size: int | None = None, *, rng: np.random.Generator | None = None
    ) -> None:
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.vocab_size = _check_size("vocab_size", vocab_size)
        self.hidden_size = self.vocab_size if hidden_size is None else _check_size("hidden_size", hidden_size)
        self.lstm = LSTM(self.vocab_size, self.hidden_size, rng=rng)
        self.dense = Dense(self.hidden_size, self.vocab_size, rng=rng)
        torch_default_init(self.dense, rng)
        self.register_module("lstm", self.lstm)
        self.register_module("dense", self.dense)
        self.state: tuple[Array, Array] | None = None

    def reset_state(self) -> None:
        """Forget the carried state: the next batch starts from zeros."""
        self.state = None

    def forward(self, input: Array) -> Array:
        x = check_input(input, ("N", "L", self.vocab_size), "NextCharLSTM input")
        self._check_parameter_dtype(x, "NextCharLSTM input")
        n, length, _ = x.shape
        hx = (
            None
            if self.state is None
            else tuple(np.broadcast_to(s, (1, n, self.hidden_size)).copy() for s in self.state)
        )
        hidden = self.lstm.forward(x, hx)  # (N, L, H)
        h_n, c_n = self.lstm.final_state()  # (1, N, H) each
        self.state = (h_n.mean(axis=1, keepdims=True), c_n.mean(axis=1, keepdims=True))  # (1, 1, H): batch mean
        logits = self.dense.forward(hidden.reshape(n * length, self.hidden_size))  # (N*L, V)
        self.output = logits.reshape(n, length, self.vocab_size).transpose(0, 2, 1)  # (N, V, L)
        return self.output

    __call__ = forward

    def backward(self, grad_output: Array) -> Array:
        g = check_same_shape(grad_output, self._forward_output(), "NextCharLSTM grad_output")
        n, vocab, length = g.shape
        rows = g.transpose(0, 2, 1).reshape(n * length, vocab)  # (N, V, L) -> (N*L, V)
        grad_hidden = self.dense.backward(rows)  # (N*L, H)
        return self.lstm.backward(grad_hidden.reshape(n, length, self.hidden_size))  # (N, L, V)


class CrossEntropyLoss(SequenceSoftmaxCrossEntropy):
    """``nn.CrossEntropyLoss()`` on ``(N, V, L)`` logits: class axis second, mean over the N*L positions.

    Shape: prediction (N, V, L); target class indices (N, L) (or one-hot (N, V, L)).

    Forward: ``L = -sum_{n,t} log softmax_v(Z[n, :, t])[y_{n,t}] / (N L)``.
    Backward: ``dL/dZ[n, :, t] = (softmax_v(Z[n, :, t]) - onehot(y_{n,t})) / (N L)``, (N, V, L).
    """

    def __init__(self) -> None:
        super().__init__("mean")

    def forward(self, prediction: Array, target: np.ndarray[Any, Any]) -> float:
        pred = np.asarray(prediction)
        if pred.ndim != 3:
            raise ValueError(f"CrossEntropyLoss prediction has shape {pred.shape}, expected (N, V, L)")
        if isinstance(target, np.ndarray) and target.shape == pred.shape:
            target = target.transpose(0, 2, 1)  # one-hot (N, V, L) -> (N, L, V)
        return super().forward(pred.transpose(0, 2, 1), target)  # (N, L, V) positions

    __call__ = forward

    def backward(self) -> Array:
        return super().backward().transpose(0, 2, 1)  # (N, L, V) -> (N, V, L)


def train_step(
    model: NextCharLSTM, loss: CrossEntropyLoss, optimizer: so.Optimizer, inputs: Array, targets: Array
) -> float:
    """One step of the book's loop: ``zero_grad``, forward (carrying the state), loss, backward,
    ``step``; returns the loss before the update."""
    optimizer.zero_grad()
    value = loss.forward(model.forward(inputs), targets)
    model.backward(loss.backward())
    optimizer.step()
    return value


def evaluate(model: NextCharLSTM, loss: CrossEntropyLoss, batches: Iterable[tuple[Array, Array]]) -> float:
    """The mean loss over every position of ``batches`` (non-overlapping validation chunks), each
    batch from a zero state; the carried training state is kept aside and restored."""
    kept = model.state
    total, positions = 0.0, 0
    try:
        for inputs, targets in batches:
            model.reset_state()
            count = int(np.prod(np.shape(targets)))
            total += loss.forward(model.forward(inputs), targets) * count
            positions += count
    finally:
        model.state = kept
    if positions == 0:
        raise ValueError("evaluate: no validation batches")
    return total / positions
