"""Chapter 6: recurrent cells (one time step): RNNCell (tanh), GRUCell, LSTMCell.

Twin: ``torch_ref/rnn_cells.py`` (``nn.RNNCell``, ``nn.GRUCell``, ``nn.LSTMCell``).

Every cell holds PyTorch's parameters ``weight_ih (G*H, I)``, ``weight_hh (G*H, H)``,
``bias_ih (G*H,)``, ``bias_hh (G*H,)`` with ``G`` gate blocks stacked in torch's order (RNN: 1;
GRU: r, z, n; LSTM: i, f, g, o). The book stores ``W (I+H, H)`` per gate on ``[x, h]`` and orders
the LSTM gates f, i, c, o; here one matmul per weight computes every gate, then the result is split.

A step is split in two so the sequence layers (``scratch/rnn.py``) can project the whole input
sequence with one matmul: ``gi = x W_ih^T + b_ih`` (``input_projection``), then ``step(gi, state)``
adds ``gh = h W_hh^T + b_hh`` and applies the gates. ``step_backward`` returns the gradient at
``gi`` (from which ``dx = dgi W_ih``, ``dW_ih = dgi^T x``, ``db_ih = sum_n dgi``), the gradient of
the previous state and the ``weight_hh``/``bias_hh`` gradients of this step. That plumbing
(parameters, init, checks, the one-step ``forward``/``backward``) is the base class
``RecurrentCell`` in ``scratch/_recurrent_cell.py``; this file holds the maths of each cell.

The state is a tuple: ``(h,)`` for RNN and GRU, ``(h, c)`` for LSTM, each ``(N, H)``.
The step functions live at module level (``lstm_step``, ``gru_step_backward``, ...) so that a
planted bug can replace one of them (``parity_tests/mutants/rnn.py``).
"""

from __future__ import annotations

import numpy as np

from scratch._checks import Array
from scratch._recurrent_cell import Cache, RecurrentCell, State, StepGrads
from scratch.activations import stable_sigmoid


def rnn_step(gi: Array, state: State, weight_hh: Array, bias_hh: Array) -> tuple[State, Cache]:
    """Elman step ``h' = tanh(gi + h W_hh^T + b_hh)``; ``gi``, ``h``, ``h'`` are (N, H)."""
    (h,) = state
    h_new = np.tanh(gi + h @ weight_hh.T + bias_hh)
    return (h_new,), (h, h_new)


def rnn_step_backward(grad_state: State, cache: Cache, weight_hh: Array) -> StepGrads:
    """``da = dh' (1 - h'^2)``; ``dgi = da``; ``dh = da W_hh``; ``dW_hh = da^T h``; ``db_hh = sum_n da``."""
    (grad_h,) = grad_state
    h, h_new = cache
    da = grad_h * (1.0 - h_new * h_new)  # (N, H)
    return StepGrads(da, (da @ weight_hh,), da.T @ h, da.sum(axis=0))


def gru_step(gi: Array, state: State, weight_hh: Array, bias_hh: Array) -> tuple[State, Cache]:
    """PyTorch's GRU: reset applied after the hidden matmul.

    ``gh = h W_hh^T + b_hh`` (N, 3H); ``r = s(gi_r + gh_r)``, ``z = s(gi_z + gh_z)``,
    ``n = tanh(gi_n + r * gh_n)``, ``h' = (1 - z) * n + z * h``.
    """
    (h,) = state
    gh = h @ weight_hh.T + bias_hh  # (N, 3H)
    i_r, i_z, i_n = np.split(gi, 3, axis=1)
    h_r, h_z, h_n = np.split(gh, 3, axis=1)
    r = stable_sigmoid(i_r + h_r)  # stable: exp of -|a| only, no overflow for large |a|
    z = stable_sigmoid(i_z + h_z)
    n = np.tanh(i_n + r * h_n)
    h_new = (1.0 - z) * n + z * h
    return (h_new,), (h, r, z, n, h_n)


def gru_step_backward(grad_state: State, cache: Cache, weight_hh: Array) -> StepGrads:
    """Backward of ``gru_step``.

    ``dn = dh'(1-z)``, ``dz = dh'(h-n)``, ``da_n = dn(1-n^2)``, ``dr = da_n gh_n``;
    ``dgi = [dr r(1-r), dz z(1-z), da_n]``, ``dgh = [dr r(1-r), dz z(1-z), da_n r]``;
    ``dh = dh' z + dgh W_hh``; ``dW_hh = dgh^T h``; ``db_hh = sum_n dgh``.
    """
    (grad_h,) = grad_state
    h, r, z, n, h_n = cache
    da_n = grad_h * (1.0 - z) * (1.0 - n * n)  # (N, H)
    da_r = da_n * h_n * r * (1.0 - r)
    da_z = grad_h * (h - n) * z * (1.0 - z)
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)  # (N, 3H)
    dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)  # (N, 3H)
    grad_prev = grad_h * z + dgh @ weight_hh
    return StepGrads(dgi, (grad_prev,), dgh.T @ h, dgh.sum(axis=0))


def book_gru_step(gi: Array, state: State, weight_hh: Array, bias_hh: Array) -> tuple[State, Cache]:
    """The book's GRU: reset applied before the hidden matmul (Keras ``reset_after=False``).

    ``r``, ``z`` as in ``gru_step`` from ``h W_hh[:2H]^T + b_hh[:2H]``;
    ``n = tanh(gi_n + (r * h) W_hn^T + b_hn)``; ``h' = (1 - z) * n + z * h`` (the book's
    ``u * h + (1 - u) * h~`` with ``u = z``).
    """
    (h,) = state
    hidden = h.shape[1]
    w_rz, w_n = weight_hh[: 2 * hidden], weight_hh[2 * hidden :]  # (2H, H), (H, H)
    gh_rz = h @ w_rz.T + bias_hh[: 2 * hidden]  # (N, 2H)
    i_r, i_z, i_n = np.split(gi, 3, axis=1)
    h_r, h_z = np.split(gh_rz, 2, axis=1)
    r = stable_sigmoid(i_r + h_r)
    z = stable_sigmoid(i_z + h_z)
    rh = r * h
    n = np.tanh(i_n + rh @ w_n.T + bias_hh[2 * hidden :])
    h_new = (1.0 - z) * n + z * h
    return (h_new,), (h, r, z, n, rh)


def book_gru_step_backward(grad_state: State, cache: Cache, weight_hh: Array) -> StepGrads:
    """Backward of ``book_gru_step``.

    ``da_n = dh'(1-z)(1-n^2)``, ``d(rh) = da_n W_hn``, ``dr = d(rh) h``, ``dz = dh'(h-n)``;
    ``dgi = dgh = [dr r(1-r), dz z(1-z), da_n]``;
    ``dh = dh' z + d(rh) r + dgh_rz W_hh[:2H]``; ``dW_hh = [dgh_rz^T h ; da_n^T (r h)]``.
    """
    (grad_h,) = grad_state
    h, r, z, n, rh = cache
    hidden = h.shape[1]
    w_rz, w_n = weight_hh[: 2 * hidden], weight_hh[2 * hidden :]
    da_n = grad_h * (1.0 - z) * (1.0 - n * n)  # (N, H)
    grad_rh = da_n @ w_n
    da_r = grad_rh * h * r * (1.0 - r)
    da_z = grad_h * (h - n) * z * (1.0 - z)
    da_rz = np.concatenate([da_r, da_z], axis=1)  # (N, 2H)
    grad_prev = grad_h * z + grad_rh * r + da_rz @ w_rz
    grad_weight_hh = np.concatenate([da_rz.T @ h, da_n.T @ rh], axis=0)  # (3H, H)
    dgi = np.concatenate([da_rz, da_n], axis=1)  # (N, 3H); the hidden biases get the same
    return StepGrads(dgi, (grad_prev,), grad_weight_hh, dgi.sum(axis=0))


def lstm_step(gi: Array, state: State, weight_hh: Array, bias_hh: Array) -> tuple[State, Cache]:
    """LSTM step, gates in PyTorch's order i, f, g, o.

    ``a = gi + h W_hh^T + b_hh`` (N, 4H); ``i, f, o = s(a_i), s(a_f), s(a_o)``, ``g = tanh(a_g)``;
    ``c' = f * c + i * g``; ``h' = o * tanh(c')``.
    """
    h, c = state
    a = gi + h @ weight_hh.T + bias_hh  # (N, 4H)
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i = stable_sigmoid(a_i)
    f = stable_sigmoid(a_f)
    g = np.tanh(a_g)
    o = stable_sigmoid(a_o)
    c_new = f * c + i * g
    tanh_c = np.tanh(c_new)
    h_new = o * tanh_c
    return (h_new, c_new), (h, c, i, f, g, o, tanh_c)


def lstm_step_backward(grad_state: State, cache: Cache, weight_hh: Array) -> StepGrads:
    """Backward of ``lstm_step``.

    ``dc = dc' + dh' o (1 - tanh(c')^2)``; ``da = [dc g i(1-i), dc c f(1-f), dc i (1-g^2),
    dh' tanh(c') o(1-o)]``; ``dgi = da``; ``dh = da W_hh``; ``dc_prev = dc f``;
    ``dW_hh = da^T h``; ``db_hh = sum_n da``.
    """
    grad_h, grad_c = grad_state
    h, c, i, f, g, o, tanh_c = cache
    dc = grad_c + grad_h * o * (1.0 - tanh_c * tanh_c)  # (N, H)
    da = np.concatenate(
        [dc * g * i * (1.0 - i), dc * c * f * (1.0 - f), dc * i * (1.0 - g * g), grad_h * tanh_c * o * (1.0 - o)],
        axis=1,
    )  # (N, 4H)
    return StepGrads(da, (da @ weight_hh, dc * f), da.T @ h, da.sum(axis=0))


class RNNCell(RecurrentCell):
    """Elman cell ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (backward: ``rnn_step_backward``).

    Shapes: input (N, I), hx (N, H), output (N, H); weights (H, I), (H, H); biases (H,).
    """

    def step(self, gi: Array, state: State) -> tuple[State, Cache]:
        return rnn_step(gi, state, self.weight_hh.data, self.bias_hh.data)

    def step_backward(self, grad_state: State, cache: Cache) -> StepGrads:
        return rnn_step_backward(grad_state, cache, self.weight_hh.data)


class GRUCell(RecurrentCell):
    """Gated recurrent unit, gates r, z, n (see ``gru_step`` / ``book_gru_step`` for the maths).

    Args:
        reset_after: ``True`` (PyTorch): ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``;
            ``False`` (the book): ``n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)``.
            Both keep torch's parameter layout, so the state_dict is the same either way.

    Shapes: input (N, I), hx (N, H), output (N, H); weights (3H, I), (3H, H); biases (3H,).
    """

    gates = 3

    def __init__(
        self, input_size: int, hidden_size: int, reset_after: bool = True, *, rng: np.random.Generator | None = None
    ) -> None:
        if not isinstance(reset_after, bool):
            raise TypeError(f"GRUCell reset_after must be True (PyTorch) or False (the book), got {reset_after!r}")
        super().__init__(input_size, hidden_size, rng=rng)
        self.reset_after = reset_after

    def step(self, gi: Array, state: State) -> tuple[State, Cache]:
        if self.reset_after:
            return gru_step(gi, state, self.weight_hh.data, self.bias_hh.data)
        return book_gru_step(gi, state, self.weight_hh.data, self.bias_hh.data)

    def step_backward(self, grad_state: State, cache: Cache) -> StepGrads:
        if self.reset_after:
            return gru_step_backward(grad_state, cache, self.weight_hh.data)
        return book_gru_step_backward(grad_state, cache, self.weight_hh.data)


class LSTMCell(RecurrentCell):
    """Long short-term memory cell, gates i, f, g, o (the book's order is f, i, c, o).

    ``forward(input, (h, c)) -> (h', c')``; ``backward((dh', dc')) -> dx``, ``grad_hx = (dh, dc)``
    (see ``lstm_step`` / ``lstm_step_backward``). Shapes: input (N, I), h, c (N, H);
    weights (4H, I), (4H, H); biases (4H,).
    """

    gates = 4
    state_names = ("h", "c")

    def step(self, gi: Array, state: State) -> tuple[State, Cache]:
        return lstm_step(gi, state, self.weight_hh.data, self.bias_hh.data)

    def step_backward(self, grad_state: State, cache: Cache) -> StepGrads:
        return lstm_step_backward(grad_state, cache, self.weight_hh.data)
