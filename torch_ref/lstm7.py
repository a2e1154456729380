"""Chapter 7: the book's LSTM next-character model, its loss, one step and the validation loss.

Twin: ``scratch/lstm7.py`` (the maths, shapes and parameter names are in its docstring). As in
the book: ``nn.LSTM(V, H, batch_first=True)``, ``nn.Linear(H, V)``, logits permuted to
``(batch, vocab, time)`` for ``nn.CrossEntropyLoss``. The book's model takes and returns the
``(h, c)`` pair and its loop keeps the detached batch mean; here the model keeps that state
itself (``state``, ``reset_state``), as chapter 6's ``RecurrentLayer`` does.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


class NextCharLSTM(nn.Module):
    """Chapter 7: ``nn.LSTM`` + ``nn.Linear`` over one-hot characters, (N, L, V) -> (N, V, L).

    Args:
        vocab_size: V; hidden_size: H (``None``: the book's ``H = V``).

    Attributes:
        lstm, dense: the layers. state: the carried ``(h, c)``, each (1, 1, H), or ``None``.
    """

    def __init__(self, vocab_size: int, hidden_size: int | None = None) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.hidden_size = vocab_size if hidden_size is None else hidden_size
        self.lstm = nn.LSTM(vocab_size, self.hidden_size, batch_first=True)
        self.dense = nn.Linear(self.hidden_size, vocab_size)
        self.state: tuple[torch.Tensor, torch.Tensor] | None = None

    def reset_state(self) -> None:
        self.state = None

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if input.dim() != 3 or input.shape[2] != self.vocab_size:
            raise ValueError(f"NextCharLSTM input has shape {tuple(input.shape)}, expected (N, L, {self.vocab_size})")
        n = input.shape[0]
        hx = None if self.state is None else tuple(s.expand(1, n, self.hidden_size).contiguous() for s in self.state)
        hidden, (h_n, c_n) = self.lstm(input, hx)  # (N, L, H); (1, N, H) each
        self.state = (h_n.mean(dim=1, keepdim=True).detach(), c_n.mean(dim=1, keepdim=True).detach())
        logits = self.dense(hidden)  # (N, L, V)
        return logits.permute(0, 2, 1)  # (N, V, L)


#: ``(N, V, L)`` logits and ``(N, L)`` class indices: the class axis second, mean over positions.
CrossEntropyLoss = nn.CrossEntropyLoss


def train_step(
    model: NextCharLSTM, loss: nn.Module, optimizer: torch.optim.Optimizer, inputs: torch.Tensor, targets: torch.Tensor
) -> float:
    """``zero_grad``, forward, loss, ``backward`` (autograd), ``step``; returns the loss."""
    optimizer.zero_grad()
    value = loss(model(inputs), targets)
    value.backward()
    optimizer.step()
    return float(value.item())


@torch.no_grad()
def evaluate(model: NextCharLSTM, loss: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """The mean loss over every position of ``batches``, each from a zero state; the training
    state is restored afterwards."""
    kept = model.state
    total, positions = 0.0, 0
    try:
        for inputs, targets in batches:
            model.reset_state()
            total += float(loss(model(inputs), targets).item()) * targets.numel()
            positions += targets.numel()
    finally:
        model.state = kept
    if positions == 0:
        raise ValueError("evaluate: no validation batches")
    return total / positions
