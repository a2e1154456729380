"""Chapter 6: recurrent cells (one time step). Twin: ``scratch/rnn_cells.py``.

The twins are torch's own cells: ``nn.RNNCell`` (tanh), ``nn.GRUCell`` (gates r, z, n) and
``nn.LSTMCell`` (gates i, f, g, o), parameters ``weight_ih``, ``weight_hh``, ``bias_ih``,
``bias_hh``. Torch has no GRU with the reset gate applied before the hidden matmul (the book's
form), so ``GRUCell(reset_after=False)`` computes that step from torch ops (``book_gru_cell``)
and autograd differentiates it.
"""

from __future__ import annotations

import torch
from torch import nn

RNNCell = nn.RNNCell


def book_gru_cell(
    input: torch.Tensor,
    hx: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias_ih: torch.Tensor,
    bias_hh: torch.Tensor,
) -> torch.Tensor:
    """The book's GRU step, in torch's parameter layout (input (N, I), hx (N, H) -> (N, H)).

    ``r = s(W_ir x + b_ir + W_hr h + b_hr)``, ``z = s(W_iz x + b_iz + W_hz h + b_hz)``,
    ``n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)``, ``h' = (1 - z) * n + z * h``.
    """
    hidden = hx.shape[1]
    gi = nn.functional.linear(input, weight_ih, bias_ih)  # (N, 3H)
    gh_rz = nn.functional.linear(hx, weight_hh[: 2 * hidden], bias_hh[: 2 * hidden])  # (N, 2H)
    i_r, i_z, i_n = gi.chunk(3, dim=1)
    h_r, h_z = gh_rz.chunk(2, dim=1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    reset_hidden = nn.functional.linear(r * hx, weight_hh[2 * hidden :], bias_hh[2 * hidden :])  # (N, H)
    n = torch.tanh(i_n + reset_hidden)
    return (1 - z) * n + z * hx


class GRUCell(nn.GRUCell):
    """``nn.GRUCell``, or the book's GRU step with ``reset_after=False`` (same parameters).

    Args:
        input_size: I; hidden_size: H.
        reset_after: ``True`` (PyTorch): ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``;
            ``False`` (the book): ``n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)``.
    """

    def __init__(self, input_size: int, hidden_size: int, reset_after: bool = True) -> None:
        if not isinstance(reset_after, bool):
            raise TypeError(f"GRUCell reset_after must be True (PyTorch) or False (the book), got {reset_after!r}")
        super().__init__(input_size, hidden_size)
        self.reset_after = reset_after

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        if self.reset_after:
            return super().forward(input, hx)
        if input.dim() != 2 or input.shape[1] != self.input_size:
            raise ValueError(f"GRUCell input has shape {tuple(input.shape)}, expected (N, {self.input_size})")
        shape = (input.shape[0], self.hidden_size)
        if hx is None:
            hx = input.new_zeros(shape)
        if tuple(hx.shape) != shape:
            raise ValueError(f"GRUCell h has shape {tuple(hx.shape)}, expected {shape}")
        return book_gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


LSTMCell = nn.LSTMCell
