"""Chapter 6: the book's recurrent model shape and the character-level language model.

Twin: ``scratch/charlm.py``. ``RecurrentLayer`` = ``nn.RNN``/``nn.GRU``/``nn.LSTM`` (batch first,
``torch_ref/rnn.py``) + ``Dense`` (``nn.Linear``) output projection, with the hidden state carried
between batches as its detached batch mean; ``CharLM`` stacks them in an ``nn.ModuleList``, so the
``state_dict`` keys are ``layers.0.rnn.weight_ih_l0``, ..., ``layers.0.proj.weight``,
``layers.0.proj.bias``, the same as the scratch twin's.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from torch_ref.layers import Dense
from torch_ref.optimizers import clip_grad_norm_, clip_grad_value_
from torch_ref.rnn import GRU, LSTM, RNN

CELLS: dict[str, Callable[[int, int], nn.Module]] = {"rnn": RNN, "gru": GRU, "lstm": LSTM}


def _check_size(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


class RecurrentLayer(nn.Module):
    """A recurrent layer and its output projection, with the hidden state carried between batches.

    Args:
        cell: ``"rnn"``, ``"gru"`` or ``"lstm"``; input_size: I; hidden_size: H; output_size: O.

    Shape: input (N, L, I) -> output (N, L, O). After each forward ``state`` holds the batch mean
    of the final state, detached, (1, 1, H) (``(h, c)`` for an LSTM); the next forward starts
    every row from it (zeros before the first batch or after ``reset_state``).
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, output_size: int) -> None:
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose from {sorted(CELLS)}")
        super().__init__()
        self.cell = cell
        self.input_size = _check_size("input_size", input_size)
        self.hidden_size = _check_size("hidden_size", hidden_size)
        self.output_size = _check_size("output_size", output_size)
        self.rnn = CELLS[cell](input_size, hidden_size)
        self.proj = Dense(hidden_size, output_size)
        self.state: tuple[torch.Tensor, ...] | None = None

    def reset_state(self) -> None:
        self.state = None

    def _initial_state(self, n: int) -> torch.Tensor | tuple[torch.Tensor, ...] | None:
        if self.state is None:
            return None
        full = tuple(s.expand(1, n, self.hidden_size).contiguous() for s in self.state)  # (1, N, H)
        return full if self.cell == "lstm" else full[0]

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if input.dim() != 3 or input.shape[2] != self.input_size:
            raise ValueError(f"RecurrentLayer input has shape {tuple(input.shape)}, expected (N, L, {self.input_size})")
        hidden, final = self.rnn(input, self._initial_state(input.shape[0]))  # (N, L, H)
        states = final if isinstance(final, tuple) else (final,)
        self.state = tuple(s.mean(dim=1, keepdim=True).detach() for s in states)  # (1, 1, H)
        return self.proj(hidden)  # nn.Linear acts on the last axis: (N, L, O)


class CharLM(nn.Module):
    """Stacked ``RecurrentLayer``s from one-hot characters (N, L, V) to logits (N, L, V).

    Args:
        vocab_size: V; hidden_size: H; num_layers: depth (inner layers project to H);
        cell: ``"lstm"`` (default), ``"gru"`` or ``"rnn"``.
    """

    def __init__(self, vocab_size: int, hidden_size: int, num_layers: int = 1, cell: str = "lstm") -> None:
        super().__init__()
        self.vocab_size = _check_size("vocab_size", vocab_size)
        _check_size("num_layers", num_layers)
        sizes = [vocab_size] + [hidden_size] * (num_layers - 1) + [vocab_size]
        self.layers = nn.ModuleList(
            RecurrentLayer(cell, sizes[i], hidden_size, sizes[i + 1]) for i in range(num_layers)
        )

    def reset_state(self) -> None:
        for layer in self.layers:
            layer.reset_state()  # type: ignore[operator]

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x = input
        for layer in self.layers:
            x = layer(x)
        return x

    @torch.no_grad()
    def sample(self, start: int, length: int, generator: torch.Generator | None = None) -> list[int]:
        """Generate ``length`` character indices after ``start`` with ``torch.multinomial``.

        Starts from the carried state and restores it afterwards.
        """
        if not isinstance(start, int) or isinstance(start, bool):
            raise TypeError(f"start must be a character index (int), got {type(start).__name__}")
        if not 0 <= start < self.vocab_size:
            raise ValueError(f"start index {start} out of range [0, {self.vocab_size})")
        _check_size("length", length)
        saved = [layer.state for layer in self.layers]
        weight = next(self.parameters())
        out, current = [], start
        for _ in range(length):
            x = torch.zeros(1, 1, self.vocab_size, dtype=weight.dtype, device=weight.device)
            x[0, 0, current] = 1.0
            probs = torch.softmax(self(x)[0, 0], dim=-1)  # (V,)
            current = int(torch.multinomial(probs, 1, generator=generator))
            out.append(current)
        for layer, state in zip(self.layers, saved, strict=True):
            layer.state = state
        return out


def train_step(
    model: CharLM,
    loss: nn.Module,
    optimizer: torch.optim.Optimizer,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    clip_value: float | None = 2.0,
    max_norm: float | None = None,
) -> float:
    """One step of the book's chapter 6 trainer: forward, loss, backward, clip, step."""
    optimizer.zero_grad()
    value = loss(model(inputs), targets)
    value.backward()
    if clip_value is not None:
        clip_grad_value_(model.parameters(), clip_value)
    if max_norm is not None:
        clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return float(value.item())
