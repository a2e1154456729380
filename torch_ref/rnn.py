"""Chapter 6: whole-sequence recurrent layers, batch first. Twin: ``scratch/rnn.py``.

``RNN``, ``GRU`` and ``LSTM`` are ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` with one layer and
``batch_first=True``: input (N, L, I), ``hx`` = h_0 (1, N, H) or ``(h_0, c_0)``; they return
``(output (N, L, H), h_n)`` (LSTM: ``(output, (h_n, c_n))``) and their parameters are
``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``. Unlike the built-ins they
reject a 2-D (unbatched) input, an empty batch and an empty sequence, with the scratch twin's
messages. NaN differs: the scratch twin rejects a NaN input, torch propagates it to the output.
``GRU(reset_after=False)`` is the book's GRU, looped over time with ``book_gru_cell`` and
differentiated by autograd.
"""

from __future__ import annotations

import torch
from torch import nn

from torch_ref.rnn_cells import book_gru_cell


def _check_batched(module: nn.RNNBase, input: torch.Tensor) -> None:
    """(N, L, input_size) with N, L > 0, worded as ``scratch._checks.check_shape`` words it."""
    name, shape = type(module).__name__, tuple(input.shape)
    if input.dim() != 3 or shape[2] != module.input_size:
        raise ValueError(f"{name} input has shape {shape}, expected (N, L, {module.input_size})")
    if shape[0] == 0:
        raise ValueError(f"{name} input is an empty batch (shape {shape})")
    if shape[1] == 0:
        raise ValueError(f"{name} input is an empty sequence (shape {shape})")


class RNN(nn.RNN):
    """``nn.RNN(input_size, hidden_size, batch_first=True)``, tanh.

    ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size, batch_first=True)

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        _check_batched(self, input)
        return super().forward(input, hx)


class GRU(nn.GRU):
    """``nn.GRU(input_size, hidden_size, batch_first=True)``, or the book's GRU (``reset_after=False``).

    Args:
        reset_after: ``True`` (PyTorch): reset multiplies ``W_hn h + b_hn``; ``False`` (the
            book): reset multiplies ``h`` before the matmul. Same parameters either way.
    """

    def __init__(self, input_size: int, hidden_size: int, reset_after: bool = True) -> None:
        if not isinstance(reset_after, bool):
            raise TypeError(f"GRU reset_after must be True (PyTorch) or False (the book), got {reset_after!r}")
        super().__init__(input_size, hidden_size, batch_first=True)
        self.reset_after = reset_after

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        _check_batched(self, input)
        if self.reset_after:
            return super().forward(input, hx)
        shape = (1, input.shape[0], self.hidden_size)
        h = input.new_zeros(shape) if hx is None else hx
        if tuple(h.shape) != shape:
            raise ValueError(f"GRU h_0 has shape {tuple(h.shape)}, expected {shape}")
        h = h[0]  # (N, H)
        weight_ih, weight_hh, bias_ih, bias_hh = self.all_weights[0]  # the *_l0 parameters
        outputs = []
        for x_t in input.unbind(dim=1):  # x_t (N, I)
            h = book_gru_cell(x_t, h, weight_ih, weight_hh, bias_ih, bias_hh)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h.unsqueeze(0)  # (N, L, H), (1, N, H)


class LSTM(nn.LSTM):
    """``nn.LSTM(input_size, hidden_size, batch_first=True)``, gates i, f, g, o; ``hx = (h_0, c_0)``."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size, batch_first=True)

    def forward(  # type: ignore[override]
        self, input: torch.Tensor, hx: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        _check_batched(self, input)
        return super().forward(input, hx)
