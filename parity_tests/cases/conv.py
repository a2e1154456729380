"""Registry cases for chapter 5's convolution: ``conv2d`` (vectorised), ``conv2d_loops``,
the ``Conv2d`` operation, and the layers ``Flatten`` and ``Conv2D``.

The functional cases treat ``input``, ``weight`` and ``bias`` all as inputs, so every one gets a
gradient row against autograd and a finite-difference row. Shapes cover kernel sizes 1, 3 and 5,
the book's "same" padding and explicit padding, stride 1 and 2 (with a remainder row/column the
forward never reads), batch 1 and batch > 1, with and without bias.

``BENCH`` holds the benchmark shapes (``dlfs-parity bench conv``): the book's first layer
(batch 60, 1 -> 16 channels, 28x28, 5x5), a deeper one (batch 60, 16 -> 32, 14x14, 5x5), the same
first layer over a range of batch sizes (the time-versus-batch curve) and the loop form at a
small size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import scratch.activations as sa
import scratch.conv as sc
import scratch.layers as sl
import torch_ref.activations as ta
import torch_ref.conv as tc
import torch_ref.layers as tl
from parity_tests.opcase import InputSpec, OpCase, TwinPair, module_pair

_IMPLS: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {
    "conv2d": (sc.conv2d_forward, sc.conv2d_backward, tc.conv2d),
    "conv2d_loops": (sc.conv2d_loops_forward, sc.conv2d_loops_backward, tc.conv2d_loops),
}


def _functional(
    component: str,
    n: int,
    c: int,
    o: int,
    hw: tuple[int, int],
    k: int,
    stride: int,
    padding: int | None,
    bias: bool,
    name: str = "",
) -> OpCase:
    forward, backward, torch_fn = _IMPLS[component]

    def build(rng: np.random.Generator) -> TwinPair:
        cache: dict[str, sc.ConvCache] = {}

        def scratch_forward(ins: dict[str, Any]) -> Any:
            out, cache["last"] = forward(ins["input"], ins["weight"], ins.get("bias"), stride, padding)
            return out

        def scratch_backward(v: Any) -> dict[str, Any]:
            grad_input, grad_weight, grad_bias = backward(v, cache["last"])
            grads = {"input": grad_input, "weight": grad_weight}
            return grads if grad_bias is None else {**grads, "bias": grad_bias}

        def torch_forward(ts: dict[str, Any]) -> Any:
            return torch_fn(ts["input"], ts["weight"], ts.get("bias"), stride, padding)

        return TwinPair(scratch_forward, scratch_backward, torch_forward)

    inputs = {"input": InputSpec((n, c, *hw)), "weight": InputSpec((o, c, k, k))}
    if bias:
        inputs["bias"] = InputSpec((o,))
    pad = "same" if padding is None else f"p{padding}"
    return OpCase(
        name=name or f"{component}_n{n}_c{c}to{o}_{hw[0]}x{hw[1]}_k{k}_s{stride}_{pad}" + ("" if bias else "_nobias"),
        component=component,
        stem="conv",
        chapter=5,
        op_class="conv",
        inputs=inputs,
        build=build,
    )


def _module(n: int, c: int, o: int, hw: int, k: int, stride: int = 1, bias: bool = True, name: str = "") -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        scratch = sc.Conv2d(c, o, k, stride, None, bias, rng=rng)
        return module_pair(scratch, tc.Conv2d(c, o, k, stride, None, bias))

    return OpCase(
        name=name or f"Conv2d_n{n}_c{c}to{o}_{hw}x{hw}_k{k}_s{stride}" + ("" if bias else "_nobias"),
        component="Conv2d",
        stem="conv",
        chapter=5,
        op_class="conv",
        inputs={"input": InputSpec((n, c, hw, hw))},
        build=build,
    )


def _conv2d_layer(dropout: float, flatten: bool) -> OpCase:
    n, c, o, hw, k = 3, 2, 3, 6, 3
    out_shape = (n, o * hw * hw) if flatten else (n, o, hw, hw)

    def build(rng: np.random.Generator) -> TwinPair:
        scratch = sl.Conv2D(c, o, k, sa.Tanh(), flatten=flatten, dropout=dropout, rng=rng)
        torch_module = tl.Conv2D(c, o, k, ta.Tanh(), flatten=flatten, dropout=dropout)
        if dropout > 0:  # the harness draws the mask and hands the same one to both twins
            mask = (rng.random(out_shape) >= dropout).astype(np.float64)
            scratch.dropout.mask_source = lambda shape: mask  # type: ignore[union-attr]
            torch_module.dropout.mask_source = lambda shape: mask
        return module_pair(scratch, torch_module)

    return OpCase(
        name=f"conv2d_layer_tanh{'_flatten' if flatten else ''}{f'_dropout{dropout:g}' if dropout else ''}",
        component="Conv2D",
        stem="layers",
        chapter=5,
        op_class="conv",
        inputs={"input": InputSpec((n, c, hw, hw))},
        build=build,
    )


def _flatten() -> OpCase:
    return OpCase(
        name="flatten_nchw",
        component="Flatten",
        stem="layers",
        chapter=5,
        op_class="elementwise",
        inputs={"input": InputSpec((3, 2, 4, 5))},
        build=lambda rng: module_pair(sl.Flatten(), tl.Flatten()),
    )


CASES = [
    _functional("conv2d", 2, 3, 4, (7, 6), 3, 1, None, True),
    _functional("conv2d", 2, 2, 3, (8, 8), 5, 1, None, False),
    _functional("conv2d", 3, 4, 2, (5, 5), 1, 1, None, True),
    _functional("conv2d", 1, 2, 3, (6, 6), 3, 1, None, True),
    _functional("conv2d", 2, 3, 2, (6, 5), 3, 1, 0, True),
    _functional("conv2d", 2, 3, 2, (9, 8), 3, 2, 1, True),
    _functional("conv2d", 2, 2, 3, (11, 10), 5, 2, 0, False),
    _functional("conv2d", 2, 2, 2, (7, 7), 1, 2, None, True),
    _functional("conv2d_loops", 2, 2, 3, (5, 5), 3, 1, None, True),
    _functional("conv2d_loops", 2, 2, 2, (7, 6), 5, 2, 2, False),
    _module(2, 3, 4, 6, 3),
    _module(2, 2, 3, 7, 5, stride=2, bias=False),
    _flatten(),
    _conv2d_layer(0.0, False),
    _conv2d_layer(0.0, True),
    _conv2d_layer(0.2, True),
]

#: The book's first layer over batch sizes (60 is the book's): the time-versus-batch curve of both twins.
BATCH_CURVE = (1, 8, 16, 32, 60, 128)

BENCH = [
    *(_module(n, 1, 16, 28, 5, bias=False, name=f"Conv2d_bench_book_n{n}_1to16_28x28_k5") for n in BATCH_CURVE),
    _module(60, 16, 32, 14, 5, bias=False, name="Conv2d_bench_deep_n60_16to32_14x14_k5"),
    _functional("conv2d", 2, 2, 4, (8, 8), 3, 1, None, False, name="conv2d_bench_small"),
    _functional("conv2d_loops", 2, 2, 4, (8, 8), 3, 1, None, False, name="conv2d_loops_bench_small"),
]
