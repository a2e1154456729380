"""Registry cases for chapter 6's recurrent cells (stem ``rnn_cells``) and layers (stem ``rnn``).

Each case checks the forward output, the gradients of the input, of the initial state (inputs
``h0`` and, for LSTM, ``c0``) and of every parameter against autograd, plus the finite-difference
oracle. Sizes stay small (N=3, I=4, H=5) so 50-step sequences run in well under a second.
The LSTM cell's output is ``[h', c']`` concatenated on the last axis so both paths are checked.

On CUDA the torch twin runs cuDNN, whose float32 RNN kernels evaluate tanh approximately: on an
H100 (torch 2.11, TF32 off) one tanh step of ``nn.RNN`` was 5.7e-6 off float64 where the same
step with ReLU, or on the CPU, was ~1e-7. So CUDA float32 rows use far more of the float32 budget
than CPU rows (worst seen: 0.97 on ``rnn_n3_l50`` seed 0; 0.18-0.44 on seeds 1-5). No tolerance
was widened for it; if a CUDA float32 row fails here, look there first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import scratch.rnn as sr
import scratch.rnn_cells as sc
import torch_ref.rnn as tr
import torch_ref.rnn_cells as tc
from parity_tests.opcase import Array, InputSpec, OpCase, TwinPair

I, H = 4, 5  # input size, hidden size

#: kind -> (scratch cell, torch cell, scratch layer, torch layer, constructor kwargs)
KINDS: dict[str, tuple[Any, Any, Any, Any, dict[str, Any]]] = {
    "rnn": (sc.RNNCell, tc.RNNCell, sr.RNN, tr.RNN, {}),
    "gru": (sc.GRUCell, tc.GRUCell, sr.GRU, tr.GRU, {}),
    "book_gru": (sc.GRUCell, tc.GRUCell, sr.GRU, tr.GRU, {"reset_after": False}),
    "lstm": (sc.LSTMCell, tc.LSTMCell, sr.LSTM, tr.LSTM, {}),
}


def _hx(ins: dict[str, Any], lstm: bool) -> Any:
    """The ``hx`` argument both twins take: None, ``h0``, or ``(h0, c0)``."""
    if "h0" not in ins:
        return None
    return (ins["h0"], ins["c0"]) if lstm else ins["h0"]


def _state_grads(grad_hx: Any, lstm: bool) -> dict[str, Array]:
    return {"h0": grad_hx[0], "c0": grad_hx[1]} if lstm else {"h0": grad_hx}


def _cell_case(kind: str, n: int, with_state: bool) -> OpCase:
    scratch_cls, torch_cls, _, _, kwargs = KINDS[kind]
    lstm = kind == "lstm"

    def build(rng: np.random.Generator) -> TwinPair:
        cell = scratch_cls(I, H, **kwargs, rng=rng)
        twin = torch_cls(I, H, **kwargs)

        def scratch_forward(ins: dict[str, Array]) -> Array:
            out = cell.forward(ins["input"], _hx(ins, lstm))
            return np.concatenate(out, axis=1) if lstm else out  # LSTM: [h', c'] (N, 2H)

        def scratch_backward(v: Array) -> dict[str, Array]:
            grad_input = cell.backward((v[:, :H], v[:, H:]) if lstm else v)
            return {"input": grad_input, **_state_grads(cell.grad_hx, lstm), **cell.grads}

        def torch_forward(ins: dict[str, torch.Tensor]) -> torch.Tensor:
            out = twin(ins["input"], _hx(ins, lstm))
            return torch.cat(out, dim=1) if lstm else out

        return TwinPair(scratch_forward, scratch_backward, torch_forward, cell, twin)

    inputs = {"input": InputSpec((n, I))}
    if with_state:
        inputs["h0"] = InputSpec((n, H))
        if lstm:
            inputs["c0"] = InputSpec((n, H))
    return OpCase(
        name=f"{kind}_cell_n{n}" + ("" if with_state else "_zero_state"),
        component=scratch_cls.__name__,
        stem="rnn_cells",
        chapter=6,
        op_class="recurrent",
        inputs=inputs,
        build=build,
    )


def _layer_case(kind: str, n: int, length: int, with_state: bool) -> OpCase:
    _, _, scratch_cls, torch_cls, kwargs = KINDS[kind]
    lstm = kind == "lstm"

    def build(rng: np.random.Generator) -> TwinPair:
        layer = scratch_cls(I, H, **kwargs, rng=rng)
        twin = torch_cls(I, H, **kwargs)

        def scratch_backward(v: Array) -> dict[str, Array]:
            grad_input = layer.backward(v)
            return {"input": grad_input, **_state_grads(layer.grad_hx, lstm), **layer.grads}

        return TwinPair(
            scratch_forward=lambda ins: layer.forward(ins["input"], _hx(ins, lstm)),
            scratch_backward=scratch_backward,
            torch_forward=lambda ins: twin(ins["input"], _hx(ins, lstm))[0],  # the output sequence
            scratch_module=layer,
            torch_module=twin,
        )

    inputs = {"input": InputSpec((n, length, I))}
    if with_state:
        inputs["h0"] = InputSpec((1, n, H))
        if lstm:
            inputs["c0"] = InputSpec((1, n, H))
    return OpCase(
        name=f"{kind}_n{n}_l{length}" + ("" if with_state else "_zero_state"),
        component=scratch_cls.__name__,
        stem="rnn",
        chapter=6,
        op_class="recurrent",
        inputs=inputs,
        build=build,
    )


CASES = [
    *(_cell_case(kind, n, with_state) for kind in KINDS for n, with_state in ((3, True), (1, False))),
    *(
        _layer_case(kind, n, length, with_state)
        for kind in KINDS
        for n, length, with_state in ((3, 1, True), (3, 50, True), (1, 50, False))
    ),
]
