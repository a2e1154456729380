"""Chapter 6: the machinery shared by the recurrent cells of ``scratch/rnn_cells.py``.

No twin of its own (torch's cells share ``nn.RNNCellBase``): the state and cache types, the
gradients one step returns (``StepGrads``), the initial-state check, and ``RecurrentCell``, the
base class that owns the parameters and turns a cell's ``step`` / ``step_backward`` (the maths,
in ``rnn_cells.py``) into the one-step module API. A step is split in two so the sequence layers
(``scratch/rnn.py``) can project the whole input sequence with one matmul:

    ``gi = x W_ih^T + b_ih`` (``input_projection``), then ``step(gi, state)`` adds
    ``gh = h W_hh^T + b_hh`` and applies the gates.
    ``step_backward`` returns the gradient at ``gi``, the gradient of the previous state and the
    gradient at ``gh`` (``dgh``); ``weight_grads`` then turns them into every parameter gradient
    in one place: ``dx = dgi W_ih``, ``dW_ih = dgi^T x``, ``db_ih = sum dgi``,
    ``dW_hh = dgh^T h``, ``db_hh = sum dgh``. For one step the sums run over the N rows; for a
    sequence over all N*L rows at once, so each weight gradient is one GEMM after the recurrence
    instead of L small ones inside it.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np

from scratch._checks import Array, as_float_array, check_input, check_same_shape
from scratch.module import Module, Parameter

#: ``(h,)`` for RNN and GRU, ``(h, c)`` for LSTM, each (N, H).
State = tuple[Array, ...]
#: What a step's forward keeps for its backward (cell-specific arrays).
Cache = tuple[Array, ...]


class StepGrads(NamedTuple):
    """Gradients of one step.

    Attributes:
        gates_input: ``dgi``, at ``gi = x W_ih^T + b_ih`` (N, G*H).
        state: of the previous state, ``(dh,)`` or ``(dh, dc)``, each (N, H).
        weight_hh, bias_hh: this step's ``dW_hh`` (G*H, H) and ``db_hh`` (G*H,) when the cell
            computes them itself (the book's GRU, whose n block multiplies ``r * h``, not ``h``);
            ``None`` when ``gates_hidden`` is given instead.
        gates_hidden: ``dgh``, at ``gh = h W_hh^T + b_hh`` (N, G*H), where ``h`` is the previous
            hidden state: ``weight_grads`` sums ``dW_hh = dgh^T h`` over every step at once.
    """

    gates_input: Array
    state: State
    weight_hh: Array | None = None
    bias_hh: Array | None = None
    gates_hidden: Array | None = None


def weight_grads(
    cell: RecurrentCell,
    x: Array,
    grad_gates_input: Array,
    h_prev: Array,
    grad_gates_hidden: Array | None,
    summed_hh: tuple[Array, Array] | None = None,
) -> Array:
    """Every parameter gradient of ``cell``, in one place; returns ``dx`` (M, I).

    Rows are M = N (one step) or N*L (a whole sequence, flattened): ``x`` (M, I), ``dgi`` (M, G*H),
    ``h_prev`` (M, H), the hidden state each row's step started from, and ``dgh`` (M, G*H) or
    ``None``. ``summed_hh`` adds hidden-weight gradients the steps computed themselves.

    ``dW_ih = dgi^T x``; ``db_ih = sum_m dgi``; ``dW_hh = dgh^T h_prev (+ summed)``;
    ``db_hh = sum_m dgh (+ summed)``; ``dx = dgi W_ih``. Each is one GEMM or one reduction.
    """
    w_hh, b_hh = cell.weight_hh.data, cell.bias_hh.data
    grad_weight_hh = np.zeros_like(w_hh) if summed_hh is None else summed_hh[0]
    grad_bias_hh = np.zeros_like(b_hh) if summed_hh is None else summed_hh[1]
    # ``(A^T B)`` computed as ``(B^T A)^T``: the same products and sums, but OpenBLAS runs this
    # operand order ~1.3x faster in float64 at the book's sizes (measured; equal in float32).
    if grad_gates_hidden is not None:
        grad_weight_hh = grad_weight_hh + (h_prev.T @ grad_gates_hidden).T  # (G*H, H)
        grad_bias_hh = grad_bias_hh + grad_gates_hidden.sum(axis=0)
    cell.weight_ih.grad = np.ascontiguousarray((x.T @ grad_gates_input).T)  # (G*H, I)
    cell.bias_ih.grad = grad_gates_input.sum(axis=0)
    cell.weight_hh.grad = grad_weight_hh
    cell.bias_hh.grad = grad_bias_hh
    return grad_gates_input @ cell.weight_ih.data  # (M, I)


def check_state(hx: object, shape: tuple[int, ...], names: tuple[str, ...], dtype: Any) -> State:
    """The initial state as a tuple of arrays of ``shape`` (zeros when ``hx`` is None).

    ``hx`` is one array when ``names`` has one entry, else a tuple of that many (PyTorch's
    ``(h_0, c_0)``). Raises naming the problem on a wrong count, shape or dtype.
    """
    if hx is None:
        return tuple(np.zeros(shape, dtype=dtype) for _ in names)
    n = len(names)
    parts = (hx,) if n == 1 else hx
    if not isinstance(parts, tuple) or len(parts) != n:
        raise TypeError(f"hx must be a tuple {tuple(names)} of {n} arrays, got {type(hx).__name__}")
    out = []
    for part, name in zip(parts, names, strict=True):
        arr = as_float_array(part, name)
        if arr.shape != shape:
            raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
        if arr.dtype != dtype:
            raise TypeError(f"{name} has dtype {arr.dtype}, but the input is {np.dtype(dtype)}")
        out.append(arr)
    return tuple(out)


class RecurrentCell(Module):
    """Parameters, initialisation and the one-step forward/backward shared by the three cells.

    A subclass sets ``gates`` (G) and ``state_names`` and supplies ``step`` / ``step_backward``.
    Forward (input x (N, I)): ``gi = x W_ih^T + b_ih`` (N, G*H), then ``step(gi, state)``.
    Backward: ``step_backward`` gives ``dgi`` (N, G*H), the previous state's gradient and
    ``dW_hh``, ``db_hh``; then ``dx = dgi W_ih`` (N, I), ``dW_ih = dgi^T x``, ``db_ih = sum_n dgi``.
    """

    gates: ClassVar[int] = 1
    state_names: ClassVar[tuple[str, ...]] = ("h",)

    def __init__(self, input_size: int, hidden_size: int, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} {arg} must be a positive int, got {value!r}")
        rng = np.random.default_rng() if rng is None else rng
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        rows = self.gates * self.hidden_size
        bound = 1.0 / np.sqrt(self.hidden_size)  # PyTorch's init: U(-1/sqrt(H), 1/sqrt(H)) for all
        self.weight_ih = self._param("weight_ih", rng.uniform(-bound, bound, (rows, self.input_size)))
        self.weight_hh = self._param("weight_hh", rng.uniform(-bound, bound, (rows, self.hidden_size)))
        self.bias_ih = self._param("bias_ih", rng.uniform(-bound, bound, rows))
        self.bias_hh = self._param("bias_hh", rng.uniform(-bound, bound, rows))
        self.grad_hx: Array | State | None = None
        self._new_state: State = ()

    def _param(self, name: str, data: Array) -> Parameter:
        return self.register_parameter(name, Parameter(data))

    # -- the step API shared with the sequence layers ---------------------------------------
    def input_projection(self, x: Array) -> Array:
        """``gi = x W_ih^T + b_ih``: (..., I) -> (..., G*H), every gate in one matmul."""
        if x.dtype != self.weight_ih.data.dtype:
            raise TypeError(
                f"{type(self).__name__} input is {x.dtype}, but the parameters are {self.weight_ih.data.dtype}"
            )
        gi = x @ self.weight_ih.data.T
        gi += self.bias_ih.data  # in place: no second (..., G*H) array
        return gi

    def step(self, gi: Array, state: State, weight_hh: Array | None = None) -> tuple[State, Cache]:
        """``state' = cell(gi, state)``; ``weight_hh`` (default the parameter) may be the same values
        in another memory order (the sequence layers pass a transposed copy: a faster GEMM)."""
        raise NotImplementedError

    def step_backward(self, grad_state: State, cache: Cache) -> StepGrads:
        raise NotImplementedError

    # -- the one-step module API (twin of nn.RNNCell / nn.GRUCell / nn.LSTMCell) ----------------
    def forward(self, input: Array, hx: Array | State | None = None) -> Any:
        """One step. ``input`` (N, I); ``hx`` (N, H), or ``(h, c)`` for LSTM; zeros when None."""
        name = type(self).__name__
        x = check_input(input, (None, self.input_size), f"{name} input")
        shape = (x.shape[0], self.hidden_size)
        state = check_state(hx, shape, tuple(f"{name} {s}" for s in self.state_names), x.dtype)
        new_state, cache = self.step(self.input_projection(x), state)
        self._x, self._h, self._cache, self._new_state = x, state[0], cache, new_state
        return new_state[0] if len(new_state) == 1 else new_state

    __call__ = forward

    def backward(self, grad_output: Array | State) -> Array:
        """Gradient of the new state (``dh'``, or ``(dh', dc')`` for LSTM) -> ``dx`` (N, I).

        Fills the four parameter gradients and ``grad_hx`` (shaped like ``hx``).
        """
        name = type(self).__name__
        if not self._new_state:
            raise RuntimeError(f"{name}.backward called before forward")
        parts = grad_output if isinstance(grad_output, tuple) else (grad_output,)
        if len(parts) != len(self._new_state):
            raise TypeError(f"{name} grad_output must hold {len(self._new_state)} arrays, got {len(parts)}")
        grads = tuple(
            check_same_shape(g, s, f"{name} grad_output") for g, s in zip(parts, self._new_state, strict=True)
        )
        step = self.step_backward(grads, self._cache)
        summed = None if step.weight_hh is None or step.bias_hh is None else (step.weight_hh, step.bias_hh)
        self.grad_hx = step.state[0] if len(step.state) == 1 else step.state
        return weight_grads(self, self._x, step.gates_input, self._h, step.gates_hidden, summed)
