"""Chapter 6: recurrent cells (one time step): RNNCell (tanh), GRUCell, LSTMCell.

Twin: ``torch_ref/rnn_cells.py`` (``nn.RNNCell``, ``nn.GRUCell``, ``nn.LSTMCell``).

Every cell holds PyTorch's parameters ``weight_ih (G*H, I)``, ``weight_hh (G*H, H)``,
``bias_ih (G*H,)``, ``bias_hh (G*H,)`` with ``G`` gate blocks stacked in torch's order (RNN: 1;
GRU: r, z, n; LSTM: i, f, g, o). The book stores ``W (I+H, H)`` per gate on ``[x, h]`` and orders
the LSTM gates f, i, c, o; here one matmul per weight computes every gate, then the result is split.

A step is split in two so the sequence layers (``scratch/rnn.py``) can project the whole input
sequence with one matmul: ``gi = x W_ih^T + b_ih`` (``input_projection``), then ``step(gi, state)``
adds ``gh = h W_hh^T + b_hh`` and applies the gates. ``step_backward`` returns the gradient at
``gi`` (``dgi``), the gradient of the previous state, and the gradient at ``gh`` (``dgh``); every
weight gradient is then computed in one place, ``weight_grads`` in ``scratch/_recurrent_cell.py``
(``dW_ih = dgi^T x``, ``dW_hh = dgh^T h``, ...), once per sequence rather than once per step.
The book's GRU is the exception: its n block multiplies ``r * h``, so its step returns its own
``dW_hh``. That plumbing (parameters, init, checks, the one-step ``forward``/``backward``) is the
base class ``RecurrentCell``; this file holds the maths of each cell.

Speed (chapter 6 sizes, batch 32, hidden 256): the step functions work in place where that costs
no clarity (``a += gi``; the gates overwrite their pre-activation buffer; ``sigmoid_`` takes four
passes where ``activations.stable_sigmoid`` takes eight) and write each gate gradient into a
preallocated block. Each line still carries its equation in a comment.

The state is a tuple: ``(h,)`` for RNN and GRU, ``(h, c)`` for LSTM, each ``(N, H)``.
The step functions live at module level (``lstm_step``, ``gru_step_backward``, ...) so that a
planted bug can replace one of them (``parity_tests/mutants/rnn.py``).
"""

from __future__ import annotations

import numpy as np

from scratch._checks import Array
from scratch._recurrent_cell import Cache, RecurrentCell, State, StepGrads


def sigmoid_(x: Array) -> Array:
    """``x <- 1 / (1 + exp(-x))`` in place (four passes, no temporaries); returns ``x``.

    Accurate everywhere, with no cancellation: for ``x`` below about -88 (float32) or -709
    (float64) ``exp(-x)`` overflows to ``inf`` and ``1 / (1 + inf) = 0`` is the correct limit, so
    the overflow warning is silenced here, for that one ``exp``. (``activations.stable_sigmoid``
    takes eight passes to avoid the overflow; in the recurrent loop the passes are the cost.)
    """
    np.negative(x, out=x)
    with np.errstate(over="ignore"):
        np.exp(x, out=x)
    x += 1.0
    return np.reciprocal(x, out=x)


def _blocks(a: Array, count: int) -> list[Array]:
    """The ``count`` gate blocks of ``a`` (N, count*H) as (N, H) views (no copies)."""
    hidden = a.shape[1] // count
    return [a[:, k * hidden : (k + 1) * hidden] for k in range(count)]


def rnn_step(gi: Array, state: State, weight_hh: Array, bias_hh: Array) -> tuple[State, Cache]:
    """Elman step ``h' = tanh(gi + h W_hh^T + b_hh)``; ``gi``, ``h``, ``h'`` are (N, H)."""
    (h,) = state
    a = h @ weight_hh.T  # (N, H); the sums below and the tanh reuse its buffer
    a += gi
    a += bias_hh
    h_new = np.tanh(a, out=a)
    return (h_new,), (h, h_new)


def rnn_step_backward(grad_state: State, cache: Cache, weight_hh: Array) -> StepGrads:
    """``da = dh' (1 - h'^2)``; ``dgi = dgh = da``; ``dh = da W_hh`` (``dW_hh = da^T h``, ``db_hh = sum_n da``)."""
    (grad_h,) = grad_state
    _, h_new = cache  # (h, h'): h is the input of dW_hh, which ``weight_grads`` forms
    da = grad_h * (1.0 - h_new * h_new)  # da = dh' (1 - h'^2), (N, H)
    return StepGrads(da, (da @ weight_hh,), gates_hidden=da)  # dW_hh, db_hh: ``weight_grads``


def gru_step(gi: Array, state: State, weight_hh: Array, bias_hh: Array) -> tuple[State, Cache]:
    """PyTorch's GRU: reset applied after the hidden matmul.

    ``gh = h W_hh^T + b_hh`` (N, 3H); ``r = s(gi_r + gh_r)``, ``z = s(gi_z + gh_z)``,
    ``n = tanh(gi_n + r * gh_n)``, ``h' = (1 - z) * n + z * h``.
    """
    (h,) = state
    hidden = h.shape[1]
    gh = h @ weight_hh.T  # (N, 3H)
    gh += bias_hh
    i_n = gi[:, 2 * hidden :]
    h_n = gh[:, 2 * hidden :]
    rz = sigmoid_(gi[:, : 2 * hidden] + gh[:, : 2 * hidden])  # (N, 2H): r and z side by side
    r, z = rz[:, :hidden], rz[:, hidden:]
    n = r * h_n  # n = tanh(gi_n + r * gh_n), in one buffer
    n += i_n
    np.tanh(n, out=n)
    h_new = h - n  # h' = (1 - z) n + z h = n + z (h - n)
    h_new *= z
    h_new += n
    return (h_new,), (h, r, z, n, h_n)


def gru_step_backward(grad_state: State, cache: Cache, weight_hh: Array) -> StepGrads:
    """Backward of ``gru_step``.

    ``dn = dh'(1-z)``, ``dz = dh'(h-n)``, ``da_n = dn(1-n^2)``, ``dr = da_n gh_n``;
    ``dgi = [dr r(1-r), dz z(1-z), da_n]``, ``dgh = [dr r(1-r), dz z(1-z), da_n r]``;
    ``dh = dh' z + dgh W_hh`` (``dW_hh = dgh^T h``, ``db_hh = sum_n dgh``, summed by ``weight_grads``).
    """
    (grad_h,) = grad_state
    h, r, z, n, h_n = cache
    dgi = np.empty((h.shape[0], 3 * h.shape[1]), dtype=h.dtype)  # (N, 3H), blocks r, z, n
    da_r, da_z, da_n = _blocks(dgi, 3)
    da_n[...] = grad_h * (1.0 - z) * (1.0 - n * n)  # da_n = dh' (1 - z) (1 - n^2)
    da_r[...] = da_n * h_n * r * (1.0 - r)  # da_r = da_n gh_n r (1 - r)
    da_z[...] = grad_h * (h - n) * z * (1.0 - z)  # da_z = dh' (h - n) z (1 - z)
    dgh = dgi.copy()  # (N, 3H): the r and z blocks are the same for the hidden matmul...
    dgh[:, 2 * h.shape[1] :] *= r  # ...the n block is multiplied by r: d(gh_n) = da_n r
    grad_prev = dgh @ weight_hh  # dh = dh' z + dgh W_hh
    grad_prev += grad_h * z
    return StepGrads(dgi, (grad_prev,), gates_hidden=dgh)  # dW_hh = dgh^T h, db_hh: ``weight_grads``


def book_gru_step(gi: Array, state: State, weight_hh: Array, bias_hh: Array) -> tuple[State, Cache]:
    """The book's GRU: reset applied before the hidden matmul (Keras ``reset_after=False``).

    ``r``, ``z`` as in ``gru_step`` from ``h W_hh[:2H]^T + b_hh[:2H]``;
    ``n = tanh(gi_n + (r * h) W_hn^T + b_hn)``; ``h' = (1 - z) * n + z * h`` (the book's
    ``u * h + (1 - u) * h~`` with ``u = z``).
    """
    (h,) = state
    hidden = h.shape[1]
    w_rz, w_n = weight_hh[: 2 * hidden], weight_hh[2 * hidden :]  # (2H, H), (H, H)
    rz = h @ w_rz.T  # (N, 2H)
    rz += gi[:, : 2 * hidden]
    rz += bias_hh[: 2 * hidden]
    sigmoid_(rz)  # r and z side by side
    r, z = rz[:, :hidden], rz[:, hidden:]
    rh = r * h
    n = rh @ w_n.T  # n = tanh(gi_n + (r h) W_hn^T + b_hn), in one buffer
    n += gi[:, 2 * hidden :]
    n += bias_hh[2 * hidden :]
    np.tanh(n, out=n)
    h_new = h - n  # h' = (1 - z) n + z h = n + z (h - n)
    h_new *= z
    h_new += n
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
    dgi = np.empty((h.shape[0], 3 * hidden), dtype=h.dtype)  # (N, 3H), blocks r, z, n
    da_r, da_z, da_n = _blocks(dgi, 3)
    da_rz = dgi[:, : 2 * hidden]  # (N, 2H) view: r and z side by side
    da_n[...] = grad_h * (1.0 - z) * (1.0 - n * n)  # da_n = dh' (1 - z) (1 - n^2)
    grad_rh = da_n @ w_n  # d(rh) = da_n W_hn
    da_r[...] = grad_rh * h * r * (1.0 - r)  # da_r = d(rh) h r (1 - r)
    da_z[...] = grad_h * (h - n) * z * (1.0 - z)  # da_z = dh' (h - n) z (1 - z)
    grad_prev = da_rz @ w_rz  # dh = dh' z + d(rh) r + dgh_rz W_hh[:2H]
    grad_prev += grad_h * z
    grad_prev += grad_rh * r
    grad_weight_hh = np.concatenate([da_rz.T @ h, da_n.T @ rh], axis=0)  # (3H, H)
    return StepGrads(dgi, (grad_prev,), grad_weight_hh, dgi.sum(axis=0))  # the hidden biases get dgi too


def lstm_step(gi: Array, state: State, weight_hh: Array, bias_hh: Array) -> tuple[State, Cache]:
    """LSTM step, gates in PyTorch's order i, f, g, o.

    ``a = gi + h W_hh^T + b_hh`` (N, 4H); ``i, f, o = s(a_i), s(a_f), s(a_o)``, ``g = tanh(a_g)``;
    ``c' = f * c + i * g``; ``h' = o * tanh(c')``.
    """
    h, c = state
    hidden = h.shape[1]
    a = h @ weight_hh.T  # (N, 4H); the gates overwrite it block by block
    a += gi
    a += bias_hh
    sigmoid_(a[:, : 2 * hidden])  # i = s(a_i), f = s(a_f): adjacent blocks, one call
    np.tanh(a[:, 2 * hidden : 3 * hidden], out=a[:, 2 * hidden : 3 * hidden])  # g = tanh(a_g)
    sigmoid_(a[:, 3 * hidden :])  # o = s(a_o)
    i, f, g, o = _blocks(a, 4)
    c_new = f * c  # c' = f c + i g
    c_new += i * g
    tanh_c = np.tanh(c_new)
    h_new = o * tanh_c  # h' = o tanh(c')
    return (h_new, c_new), (h, c, i, f, g, o, tanh_c)


def lstm_step_backward(grad_state: State, cache: Cache, weight_hh: Array) -> StepGrads:
    """Backward of ``lstm_step``.

    ``dc = dc' + dh' o (1 - tanh(c')^2)``; ``da = [dc g i(1-i), dc c f(1-f), dc i (1-g^2),
    dh' tanh(c') o(1-o)]``; ``dgi = da``; ``dh = da W_hh``; ``dc_prev = dc f``;
    ``dgh = da`` (``dW_hh = da^T h``, ``db_hh = sum_n da``, summed by ``weight_grads``).
    """
    grad_h, grad_c = grad_state
    h, c, i, f, g, o, tanh_c = cache
    dc = grad_h * o * (1.0 - tanh_c * tanh_c)  # dc = dc' + dh' o (1 - tanh(c')^2), (N, H)
    dc += grad_c
    da = np.empty((h.shape[0], 4 * h.shape[1]), dtype=h.dtype)  # (N, 4H), blocks i, f, g, o
    da_i, da_f, da_g, da_o = _blocks(da, 4)
    da_i[...] = dc * g * i * (1.0 - i)  # da_i = dc g i (1 - i)
    da_f[...] = dc * c * f * (1.0 - f)  # da_f = dc c f (1 - f)
    da_g[...] = dc * i * (1.0 - g * g)  # da_g = dc i (1 - g^2)
    da_o[...] = grad_h * tanh_c * o * (1.0 - o)  # da_o = dh' tanh(c') o (1 - o)
    return StepGrads(da, (da @ weight_hh, dc * f), gates_hidden=da)  # dW_hh = da^T h, db_hh: ``weight_grads``


class RNNCell(RecurrentCell):
    """Elman cell ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (backward: ``rnn_step_backward``).

    Shapes: input (N, I), hx (N, H), output (N, H); weights (H, I), (H, H); biases (H,).
    """

    def step(self, gi: Array, state: State, weight_hh: Array | None = None) -> tuple[State, Cache]:
        return rnn_step(gi, state, self.weight_hh.data if weight_hh is None else weight_hh, self.bias_hh.data)

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

    def step(self, gi: Array, state: State, weight_hh: Array | None = None) -> tuple[State, Cache]:
        w = self.weight_hh.data if weight_hh is None else weight_hh
        if self.reset_after:
            return gru_step(gi, state, w, self.bias_hh.data)
        return book_gru_step(gi, state, w, self.bias_hh.data)

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

    def step(self, gi: Array, state: State, weight_hh: Array | None = None) -> tuple[State, Cache]:
        return lstm_step(gi, state, self.weight_hh.data if weight_hh is None else weight_hh, self.bias_hh.data)

    def step_backward(self, grad_state: State, cache: Cache) -> StepGrads:
        return lstm_step_backward(grad_state, cache, self.weight_hh.data)
