"""Chapter 6: the machinery shared by the recurrent cells of ``scratch/rnn_cells.py``.

No twin of its own (torch's cells share ``nn.RNNCellBase``): the state and cache types, the
gradients one step returns (``StepGrads``), the initial-state check, and ``RecurrentCell``, the
base class that owns the parameters and turns a cell's ``step`` / ``step_backward`` (the maths,
in ``rnn_cells.py``) into the one-step module API. A step is split in two so the sequence layers
(``scratch/rnn.py``) can project the whole input sequence with one matmul:

    ``gi = x W_ih^T + b_ih`` (``input_projection``), then ``step(gi, state)`` adds
    ``gh = h W_hh^T + b_hh`` and applies the gates.
    ``step_backward`` returns the gradient at ``gi``, from which ``dx = dgi W_ih``,
    ``dW_ih = dgi^T x``, ``db_ih = sum_n dgi``, the gradient of the previous state and the
    ``weight_hh`` / ``bias_hh`` gradients of this step.
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
    """Gradients of one step: at ``gi`` (N, G*H), of the previous state, of weight_hh and bias_hh."""

    gates_input: Array
    state: State
    weight_hh: Array
    bias_hh: Array


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
        return x @ self.weight_ih.data.T + self.bias_ih.data

    def step(self, gi: Array, state: State) -> tuple[State, Cache]:
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
        self._x, self._cache, self._new_state = x, cache, new_state
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
        self.weight_ih.grad = step.gates_input.T @ self._x  # (G*H, I)
        self.bias_ih.grad = step.gates_input.sum(axis=0)
        self.weight_hh.grad = step.weight_hh
        self.bias_hh.grad = step.bias_hh
        self.grad_hx = step.state[0] if len(step.state) == 1 else step.state
        return step.gates_input @ self.weight_ih.data  # (N, I)
