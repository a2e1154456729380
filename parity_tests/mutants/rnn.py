"""Planted bugs in the chapter 6 recurrent twins (``scratch/rnn_cells.py``, ``scratch/rnn.py``).

Two of them are the book's own GRU bugs (``book_bug`` 3 and 4), planted in the book-form
GRU (``reset_after=False``); the others are classic slips: the book's LSTM gate order read in
PyTorch's layout, and backpropagation through time that forgets to carry ``dh`` backwards.
"""

from __future__ import annotations

import numpy as np

import scratch.rnn as sr
import scratch.rnn_cells as sc
from parity_tests.mutation import Mutant
from scratch._checks import Array
from scratch._recurrent_cell import Cache, State, StepGrads

_lstm_step = sc.lstm_step
_book_gru_step = sc.book_gru_step


def _blocks(a: Array, order: list[int], axis: int) -> Array:
    """Reorder the equal gate blocks of ``a`` along ``axis``."""
    parts = np.split(a, 4 if len(order) == 4 else 3, axis=axis)
    return np.concatenate([parts[k] for k in order], axis=axis)


def lstm_step_book_gate_order(gi: Array, state: State, weight_hh: Array, bias_hh: Array) -> tuple[State, Cache]:
    """Weights laid out in PyTorch's i, f, g, o order, read as the book's f, i, c, o."""
    order = [1, 0, 2, 3]  # block 0 (torch's i) used as f, block 1 (torch's f) used as i
    return _lstm_step(_blocks(gi, order, 1), state, _blocks(weight_hh, order, 0), _blocks(bias_hh, order, 0))


def book_gru_update_reuses_reset(gi: Array, state: State, weight_hh: Array, bias_hh: Array) -> tuple[State, Cache]:
    """Book bug 3: the update gate is computed from the reset gate's pre-activation (z = r)."""
    order = [0, 0, 2]  # the z block replaced by the r block, in the inputs and the weights
    return _book_gru_step(_blocks(gi, order, 1), state, _blocks(weight_hh, order, 0), _blocks(bias_hh, order, 0))


def book_gru_backward_ignores_output(grad_state: State, cache: Cache, weight_hh: Array) -> StepGrads:
    """Book bug 4: no gradient flows into the gates; only ``h' = ... + z * h`` passes ``dh' z`` back."""
    (grad_h,) = grad_state
    h, _, z, _, _ = cache
    gates = np.zeros((h.shape[0], weight_hh.shape[0]), dtype=h.dtype)  # (N, 3H)
    return StepGrads(gates, (grad_h * z,), np.zeros_like(weight_hh), np.zeros(weight_hh.shape[0], dtype=h.dtype))


def bptt_without_hidden_carry(grad_output_t: Array, grad_from_next: State) -> State:
    """BPTT where ``dh_{t-1}`` sent back by step t is dropped: ``h_t`` only sees ``grad_output[:, t]``."""
    return (grad_output_t, *grad_from_next[1:])


MUTANTS = [
    Mutant(
        name="lstm_gates_book_order",
        description="LSTM weights in PyTorch's i, f, g, o blocks read in the book's f, i, c, o order",
        target=sc,
        attribute="lstm_step",
        replacement=lstm_step_book_gate_order,
        components=("LSTMCell", "LSTM"),
    ),
    Mutant(
        name="book_gru_update_reuses_reset",
        description="book GRU forward: the update gate reuses the reset gate's pre-activation (z = r)",
        target=sc,
        attribute="book_gru_step",
        replacement=book_gru_update_reuses_reset,
        components=("GRUCell", "GRU"),
        book_bug=3,
    ),
    Mutant(
        name="book_gru_backward_ignores_output",
        description="book GRU backward ignores the output path: every gate and input gradient is zero",
        target=sc,
        attribute="book_gru_step_backward",
        replacement=book_gru_backward_ignores_output,
        components=("GRUCell", "GRU"),
        book_bug=4,
    ),
    Mutant(
        name="bptt_hidden_grad_not_carried",
        description="backprop through time drops the hidden-state gradient sent to the previous step",
        target=sr,
        attribute="grad_reaching_state",
        replacement=bptt_without_hidden_carry,
        components=("RNN", "GRU", "LSTM"),
    ),
]
