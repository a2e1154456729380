"""Chapter 6: the book's recurrent model shape and the character-level language model.

Twin: ``scratch/charlm.py``. ``RecurrentLayer`` = ``nn.RNN``/``nn.GRU``/``nn.LSTM`` (batch first,
``torch_ref/rnn.py``) + ``Dense`` (``nn.Linear``) output projection, with the hidden state carried
between batches as its detached batch mean; ``CharLM`` stacks them in an ``nn.ModuleList``, so the
``state_dict`` keys are ``layers.0.rnn.weight_ih_l0``, ..., ``layers.0.proj.weight``,
``layers.0.proj.bias``, the same as the scratch twin's.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from torch_ref.layers import Dense
from torch_ref.optimizers import clip_grad_norm_, clip_grad_value_
from torch_ref.rnn import GRU, LSTM, RNN

CELLS: dict[str, Callable[[int, int], nn.RNNBase]] = {"rnn": RNN, "gru": GRU, "lstm": LSTM}


def _check_size(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


class RecurrentLayer(nn.Module):
    """A recurrent layer and its output projection, with the hidden state carried between batches.

    Args:
        cell: ``"rnn"``, ``"gru"`` or ``"lstm"``; input_size: I; hidden_size: H; output_size: O.
        reset_after: GRU only; ``False`` is the book's GRU (``torch_ref.rnn.GRU(reset_after=False)``).
        single_bias: ``True`` is the book's one bias per gate: ``bias_hh_l0`` is deleted as a
            parameter of the ``nn.RNNBase`` and registered in its place as a non-persistent zero
            buffer of the same name, so the recurrent kernel still finds it while
            ``parameters()`` (hence any optimizer), ``state_dict()`` and autograd leave it out.
        weight_scale: ``None`` keeps PyTorch's init; a number ``s`` redraws every weight and bias
            from ``N(0, s)`` (``nn.init.normal_`` with ``generator``).
        generator: generator for that redraw.

    Shape: input (N, L, I) -> output (N, L, O). After each forward ``state`` holds the batch mean
    of the final state, detached, (1, 1, H) (``(h, c)`` for an LSTM); the next forward starts
    every row from it (zeros before the first batch or after ``reset_state``).
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        output_size: int,
        *,
        reset_after: bool = True,
        single_bias: bool = False,
        weight_scale: float | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose from {sorted(CELLS)}")
        check_book_options(cell, reset_after, single_bias, weight_scale)
        super().__init__()
        self.cell = cell
        self.input_size = _check_size("input_size", input_size)
        self.hidden_size = _check_size("hidden_size", hidden_size)
        self.output_size = _check_size("output_size", output_size)
        self.reset_after, self.single_bias, self.weight_scale = reset_after, single_bias, weight_scale
        self.rnn: nn.RNNBase = (
            GRU(input_size, hidden_size, reset_after) if cell == "gru" else CELLS[cell](input_size, hidden_size)
        )
        self.proj = Dense(hidden_size, output_size)
        if weight_scale is not None:
            with torch.no_grad():
                for param in self.parameters():
                    nn.init.normal_(param, 0.0, weight_scale, generator=generator)
        if single_bias:
            zero = torch.zeros_like(self.rnn.get_parameter("bias_hh_l0")).detach()
            del self.rnn.bias_hh_l0  # no longer a parameter ...
            self.rnn.register_buffer("bias_hh_l0", zero, persistent=False)  # ... but a fixed zero of that name
            self.rnn._init_flat_weights()  # the kernel's weight list now holds the buffer
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


def check_book_options(cell: str, reset_after: bool, single_bias: bool, weight_scale: float | None) -> None:
    """The scratch twin's checks of the book options."""
    for name, flag in (("reset_after", reset_after), ("single_bias", single_bias)):
        if not isinstance(flag, bool):
            raise TypeError(f"RecurrentLayer {name} must be True or False, got {flag!r}")
    if not reset_after and cell != "gru":
        raise ValueError(f"reset_after=False (the book's GRU) needs cell='gru', got cell={cell!r}")
    if weight_scale is not None and (
        not isinstance(weight_scale, int | float) or isinstance(weight_scale, bool) or not 0 < weight_scale < math.inf
    ):
        raise ValueError(f"weight_scale must be a positive finite number (a std) or None, got {weight_scale!r}")


class CharLM(nn.Module):
    """Stacked ``RecurrentLayer``s from one-hot characters (N, L, V) to logits (N, L, V).

    Args:
        vocab_size: V; hidden_size: H; num_layers: depth (inner layers project to H);
        cell: ``"lstm"`` (default), ``"gru"`` or ``"rnn"``;
        reset_after, single_bias, weight_scale, generator: every layer's book options.
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int,
        num_layers: int = 1,
        cell: str = "lstm",
        *,
        reset_after: bool = True,
        single_bias: bool = False,
        weight_scale: float | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.vocab_size = _check_size("vocab_size", vocab_size)
        _check_size("num_layers", num_layers)
        sizes = [vocab_size] + [hidden_size] * (num_layers - 1) + [vocab_size]
        self.layers = nn.ModuleList(
            RecurrentLayer(
                cell,
                sizes[i],
                hidden_size,
                sizes[i + 1],
                reset_after=reset_after,
                single_bias=single_bias,
                weight_scale=weight_scale,
                generator=generator,
            )
            for i in range(num_layers)
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
