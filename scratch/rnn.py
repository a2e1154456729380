"""Chapter 6: whole-sequence recurrent layers RNN (tanh), GRU and LSTM, batch first.

Twin: ``torch_ref/rnn.py`` (``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` with ``batch_first=True``).

A layer owns one cell (``scratch/rnn_cells.py``) and stores its parameters under PyTorch's
single-layer names ``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, so its
``state_dict`` loads into ``torch.nn.LSTM(I, H, batch_first=True)`` (GRU, RNN) unchanged.

Forward (input (N, L, I), ``hx`` = h_0 (1, N, H), or ``(h_0, c_0)`` for LSTM, zeros by default):
    ``GI = X W_ih^T + b_ih`` for all L steps in one matmul (N, L, G*H); then for t = 0..L-1
    ``state_t = step(GI[:, t], state_{t-1})`` and ``output[:, t] = h_t`` (N, L, H).
    The final state is kept in ``h_n`` (and ``c_n``), (1, N, H) like torch's.
Backward through time (grad_output (N, L, H)): for t = L-1..0 the gradient reaching ``h_t`` is
    ``grad_output[:, t]`` plus what step t+1 sent back (``c_t`` gets only the latter);
    ``step_backward`` turns it into ``dGI[:, t]``, ``dGH[:, t]`` (at ``h_{t-1} W_hh^T + b_hh``)
    and the gradient of ``state_{t-1}``. Then, over all N*L rows at once (``weight_grads``):
    ``dX = dGI W_ih`` (N, L, I); ``dW_ih = sum_{n,t} dGI^T x``; ``db_ih = sum_{n,t} dGI``;
    ``dW_hh = sum_{n,t} dGH^T h_{t-1}``; ``db_hh = sum_{n,t} dGH``; ``grad_hx`` is the gradient
    of ``hx`` (shaped like it).

Speed: the recurrence itself is L small GEMMs forward and one backward per step (``dh W_hh``); the
input projection and the three weight gradients are four large GEMMs outside the loop.

Differences from torch's API: ``forward`` returns the output only (the book's shape; torch returns
``(output, h_n)``), and a 2-D (unbatched) input is an error here.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from scratch import rnn_cells
from scratch._checks import Array, as_float_array, check_same_shape, check_shape
from scratch._recurrent_cell import Cache, RecurrentCell, State, check_state, weight_grads
from scratch.module import Module


def forward_through_time(cell: RecurrentCell, gi: Array, state: State) -> tuple[Array, State, list[Cache]]:
    """Run ``cell.step`` over ``gi`` (N, L, G*H) from ``state``; return outputs (N, L, H), last state, caches."""
    n, length, _ = gi.shape
    outputs = np.empty((n, length, cell.hidden_size), dtype=gi.dtype)
    caches: list[Cache] = []
    # The same W_hh (G*H, H), stored transposed: each step's ``h @ W_hh.T`` then reads a C-ordered
    # (H, G*H) matrix, which OpenBLAS multiplies ~1.5x faster in float32 at the book's sizes.
    weight_hh = np.ascontiguousarray(cell.weight_hh.data.T).T
    for t in range(length):
        state, cache = cell.step(gi[:, t], state, weight_hh)
        outputs[:, t] = state[0]
        caches.append(cache)
    return outputs, state, caches


def grad_reaching_state(grad_output_t: Array, grad_from_next: State) -> State:
    """The gradient reaching ``state_t``: ``h_t`` feeds both the output at t and step t+1, so
    ``dh_t = grad_output[:, t] + dh_t(from t+1)``; an LSTM's ``c_t`` feeds only step t+1."""
    return (grad_output_t + grad_from_next[0], *grad_from_next[1:])


class ThroughTime(NamedTuple):
    """What backpropagation through time returns: per-step gradients stacked (N, L, G*H), the
    gradient of the initial state, and the hidden-weight gradients the steps summed themselves
    (the book's GRU; ``None`` for the other cells, whose ``dW_hh`` is ``dGH^T H_prev`` in one GEMM)."""

    gates_input: Array
    gates_hidden: Array | None
    initial_state: State
    summed_hh: tuple[Array, Array] | None


def backward_through_time(cell: RecurrentCell, grad_output: Array, caches: list[Cache]) -> ThroughTime:
    """BPTT: ``grad_output`` (N, L, H) -> ``dGI``, ``dGH`` (N, L, G*H), the initial state's gradient."""
    n, length, hidden = grad_output.shape
    grad_gi = np.empty((n, length, cell.gates * hidden), dtype=grad_output.dtype)
    grad_gh = np.empty_like(grad_gi)
    deferred = np.zeros(length, dtype=bool)  # steps whose dW_hh comes from dGH
    aliased = np.zeros(length, dtype=bool)  # steps whose dGH is their dGI
    grad_state: State = tuple(np.zeros((n, hidden), dtype=grad_output.dtype) for _ in cell.state_names)
    grad_weight_hh = np.zeros_like(cell.weight_hh.data)
    grad_bias_hh = np.zeros_like(cell.bias_hh.data)
    for t in reversed(range(length)):
        step = cell.step_backward(grad_reaching_state(grad_output[:, t], grad_state), caches[t])
        grad_gi[:, t] = step.gates_input
        grad_state = step.state
        if step.weight_hh is not None and step.bias_hh is not None:  # the book's GRU: its own sums
            grad_weight_hh += step.weight_hh
            grad_bias_hh += step.bias_hh
            grad_gh[:, t] = 0.0
        if step.gates_hidden is step.gates_input:  # RNN, LSTM: dGH = dGI, stored once
            aliased[t] = deferred[t] = True
        elif step.gates_hidden is not None:
            grad_gh[:, t] = step.gates_hidden
            deferred[t] = True
    summed = None if deferred.all() else (grad_weight_hh, grad_bias_hh)
    if aliased.all():
        return ThroughTime(grad_gi, grad_gi, grad_state, summed)
    grad_gh[:, aliased] = grad_gi[:, aliased]
    return ThroughTime(grad_gi, grad_gh if deferred.any() else None, grad_state, summed)


class _RecurrentLayer(Module):
    """The sequence loop shared by RNN, GRU and LSTM; subclasses only choose the cell."""

    def __init__(self, cell: RecurrentCell) -> None:
        super().__init__()
        self.cell = cell  # not registered as a module: its parameters appear once, as *_l0
        for name, param in cell.named_parameters():
            self.register_parameter(f"{name}_l0", param)
        self.input_size = cell.input_size
        self.hidden_size = cell.hidden_size
        self.h_n: Array | None = None
        self.grad_hx: Array | State | None = None

    def forward(self, input: Array, hx: Array | State | None = None) -> Array:
        """``input`` (N, L, I), ``hx`` (1, N, H) or LSTM ``(h_0, c_0)`` -> output (N, L, H)."""
        name = type(self).__name__
        x = as_float_array(input, f"{name} input")
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"{name} input has shape {x.shape}, expected (N, L, {self.input_size}) (batch first)")
        check_shape(x, ("N", "L", self.input_size), f"{name} input")  # empty batch
        if x.shape[1] == 0:
            raise ValueError(f"{name} input is an empty sequence (shape {x.shape})")
        names = tuple(f"{name} {s}_0" for s in self.cell.state_names)
        shape = (1, x.shape[0], self.hidden_size)  # (num_layers=1, N, H), torch's layout
        state = check_state(hx, shape, names, x.dtype)
        n, length, _ = x.shape
        flat_x = x.reshape(n * length, self.input_size)  # (N*L, I): one 2-D GEMM, not N batched ones
        gi = self.cell.input_projection(flat_x).reshape(n, length, -1)  # (N, L, G*H): every step's gates
        output, last, caches = forward_through_time(self.cell, gi, tuple(s[0] for s in state))
        self._x, self._h0, self._caches, self.output = x, state[0][0], caches, output
        self._save_for_backward(input=x)  # backward reads it (weight_ih's gradient)
        self.h_n = last[0][None]  # (1, N, H)
        self._last = last
        return output

    __call__ = forward

    def backward(self, grad_output: Array) -> Array:
        """``grad_output`` (N, L, H) -> ``grad_input`` (N, L, I); fills ``grads`` and ``grad_hx``."""
        name = type(self).__name__
        if self.h_n is None:
            raise RuntimeError(f"{name}.backward called before forward")
        g = check_same_shape(grad_output, self._forward_output(), f"{name} grad_output")
        self._check_unchanged()
        bptt = backward_through_time(self.cell, g, self._caches)
        n, length, rows = bptt.gates_input.shape
        flat = n * length  # every weight gradient below is one GEMM over all N*L rows
        h_prev = np.concatenate([self._h0[:, None], self.output[:, :-1]], axis=1)  # (N, L, H): h_{t-1}
        grad_gh = None if bptt.gates_hidden is None else bptt.gates_hidden.reshape(flat, rows)
        grad_input = weight_grads(
            self.cell,
            self._x.reshape(flat, self.input_size),  # (N*L, I)
            bptt.gates_input.reshape(flat, rows),  # (N*L, G*H)
            h_prev.reshape(flat, self.hidden_size),  # (N*L, H)
            grad_gh,
            bptt.summed_hh,
        )
        first = tuple(s[None] for s in bptt.initial_state)  # (1, N, H) each
        self.grad_hx = first[0] if len(first) == 1 else first
        return grad_input.reshape(n, length, self.input_size)  # (N, L, I)

    def final_state(self) -> Array | State:
        """The state after the last step, shaped like ``hx``: ``h_n``, or LSTM ``(h_n, c_n)``.

        Pass it as the next call's ``hx`` to continue a sequence (detached: backward stops there).
        """
        if self.h_n is None:
            raise RuntimeError(f"{type(self).__name__} has no final state before forward")
        last = tuple(s[None] for s in self._last)  # (1, N, H) each
        return last[0] if len(last) == 1 else last


class RNN(_RecurrentLayer):
    """Elman RNN over a sequence: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``.

    Args:
        input_size: I; hidden_size: H; rng: generator for torch's U(-1/sqrt(H), 1/sqrt(H)) init.

    Shapes: input (N, L, I); hx (1, N, H); output (N, L, H); ``weight_ih_l0`` (H, I),
    ``weight_hh_l0`` (H, H), biases (H,).
    """

    def __init__(self, input_size: int, hidden_size: int, *, rng: np.random.Generator | None = None) -> None:
        super().__init__(rnn_cells.RNNCell(input_size, hidden_size, rng=rng))


class GRU(_RecurrentLayer):
    """GRU over a sequence, gates r, z, n (``weight_ih_l0`` (3H, I), ``weight_hh_l0`` (3H, H)).

    Args:
        reset_after: ``True`` follows PyTorch (reset multiplies ``W_hn h + b_hn``); ``False`` is
            the book's GRU (reset multiplies ``h`` before the matmul). Same parameters either way.
    """

    def __init__(
        self, input_size: int, hidden_size: int, reset_after: bool = True, *, rng: np.random.Generator | None = None
    ) -> None:
        super().__init__(rnn_cells.GRUCell(input_size, hidden_size, reset_after, rng=rng))
        self.reset_after = reset_after


class LSTM(_RecurrentLayer):
    """LSTM over a sequence, gates i, f, g, o (``weight_ih_l0`` (4H, I), ``weight_hh_l0`` (4H, H)).

    ``hx = (h_0, c_0)``, each (1, N, H); after forward ``h_n``, ``c_n`` hold the final state;
    after backward ``grad_hx = (grad_h_0, grad_c_0)``.

    Example:
        >>> lstm = LSTM(4, 5, rng=np.random.default_rng(0))
        >>> out = lstm.forward(np.ones((3, 7, 4)))  # N=3 sequences of L=7 steps
        >>> out.shape, lstm.h_n.shape, sorted(lstm.state_dict())[:2]
        ((3, 7, 5), (1, 3, 5), ['bias_hh_l0', 'bias_ih_l0'])
        >>> lstm.backward(np.ones_like(out)).shape, lstm.grad_hx[1].shape
        ((3, 7, 4), (1, 3, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, *, rng: np.random.Generator | None = None) -> None:
        super().__init__(rnn_cells.LSTMCell(input_size, hidden_size, rng=rng))
        self.c_n: Array | None = None

    def forward(self, input: Array, hx: Array | State | None = None) -> Array:
        output = super().forward(input, hx)
        self.c_n = self._last[1][None]  # (1, N, H)
        return output

    __call__ = forward
