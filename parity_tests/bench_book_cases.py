"""The cases of ``dlfs-parity bench book``: every component family at the book's sizes.

Each ``BookCase`` knows its family, its FLOPs (``bench_limits``' formulas) and how to build the two
timed closures (one forward+backward of each twin, or one optimizer ``step``) in a dtype. The
sizes are listed in ``parity_tests/bench_book.py``, which runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import scratch.charlm as scl
import scratch.conv as sc
import scratch.layers as sl
import scratch.losses as sL
import scratch.network as sn
import scratch.optimizers as so
import scratch.pooling as sp
import scratch.rnn as sr
import torch_ref.charlm as tcl
import torch_ref.conv as tc
import torch_ref.layers as tl
import torch_ref.losses as tL
import torch_ref.network as tn
import torch_ref.optimizers as to
import torch_ref.pooling as tp
import torch_ref.rnn as tr
from parity_tests import bench_limits as bl
from parity_tests.bench import timed_callables
from parity_tests.cases.losses import loss_pair
from parity_tests.opcase import Array, InputSpec, OpCase, TwinPair, module_pair

#: The chapter 4 MLP and batch; the chapter 6 sequence sizes.
MNIST_N, MLP_WIDTHS = 60, (784, 89, 10)
SEQ_N, SEQ_L, VOCAB, HIDDEN = 32, 25, 62, 256
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


@dataclass(frozen=True)
class BookCase:
    """A benchmark at the book's size: ``make(dtype)`` returns the two timed closures and the shapes."""

    name: str
    family: str
    chapter: int
    flops: float
    make: Callable[[str], tuple[dict[str, Callable[[], object]], str]]


def _from_opcase(case: OpCase) -> Callable[[str], tuple[dict[str, Callable[[], object]], str]]:
    """Forward+backward closures of an ``OpCase`` (as ``dlfs-parity bench`` builds them)."""

    def make(dtype: str) -> tuple[dict[str, Callable[[], object]], str]:
        fns, shapes = timed_callables(case, dtype)
        return {"scratch": fns["scratch_forward_backward"], "torch": fns["torch_forward_backward"]}, shapes

    return make


def _op(name: str, component: str, stem: str, chapter: int, inputs: dict[str, InputSpec], build: Any) -> OpCase:
    return OpCase(name, component, stem, chapter, "matmul", inputs, build)


def _mlp(rng: np.random.Generator) -> TwinPair:
    """The chapter 4 MNIST network without its loss: Dense(784 -> 89, tanh), Dense(89 -> 10)."""
    import scratch.activations as sa
    import torch_ref.activations as ta

    (i, h, o) = MLP_WIDTHS
    scratch = sn.NeuralNetwork([sl.Dense(i, h, sa.Tanh(), rng=rng), sl.Dense(h, o, rng=rng)], sL.MeanSquaredError())
    twin = tn.NeuralNetwork([tl.Dense(i, h, ta.Tanh()), tl.Dense(h, o)], tL.MeanSquaredError())
    return module_pair(scratch, twin)


def _sequence_layer(kind: str) -> Callable[[np.random.Generator], TwinPair]:
    def build(rng: np.random.Generator) -> TwinPair:
        layer = getattr(sr, kind)(VOCAB, HIDDEN, rng=rng)
        twin = getattr(tr, kind)(VOCAB, HIDDEN)

        def backward(v: Array) -> dict[str, Array]:
            return {"input": layer.backward(v), **layer.grads}

        return TwinPair(
            lambda ins: layer.forward(ins["input"]), backward, lambda ins: twin(ins["input"])[0], layer, twin
        )

    return build


def _charmodel(rng: np.random.Generator) -> TwinPair:
    model = scl.CharLM(VOCAB, HIDDEN, num_layers=2, cell="lstm", rng=rng)
    twin = tcl.CharLM(VOCAB, HIDDEN, num_layers=2, cell="lstm")

    def forward(ins: dict[str, Array]) -> Array:
        model.reset_state()
        return model.forward(ins["input"])

    def torch_forward(ins: dict[str, torch.Tensor]) -> torch.Tensor:
        twin.reset_state()
        return twin(ins["input"])

    return TwinPair(forward, lambda v: {"input": model.backward(v), **model.grads}, torch_forward, model, twin)


def _ce(rng: np.random.Generator) -> TwinPair:
    scratch, twin = sL.SoftmaxCrossEntropy(), tL.SoftmaxCrossEntropy()
    return TwinPair(
        lambda ins: np.asarray(scratch.forward(ins["input"], ins["target"])),
        lambda v: {"input": v * scratch.backward()},
        lambda ins: twin(ins["input"], ins["target"]),
        scratch,
        twin,
    )


def _optimizer_case(name: str, make_scratch: Callable[..., Any], make_torch: Callable[..., Any], k: int) -> BookCase:
    """One ``step()`` of both optimizers on the MLP's parameters, gradients drawn once."""
    (i, h, o) = MLP_WIDTHS
    shapes = [(h, i), (h,), (o, h), (o,)]

    def make(dtype: str) -> tuple[dict[str, Callable[[], object]], str]:
        rng = np.random.default_rng(0)
        params = [so_param(rng.standard_normal(s).astype(dtype) * 0.01) for s in shapes]
        for p in params:
            p.grad = rng.standard_normal(p.data.shape).astype(dtype)
        twins = [torch.nn.Parameter(torch.tensor(p.data.copy())) for p in params]
        for t, p in zip(twins, params, strict=True):
            t.grad = torch.tensor(p.grad)
        s_opt, t_opt = make_scratch(params), make_torch(twins)
        return {"scratch": s_opt.step, "torch": t_opt.step}, " ".join(str(s) for s in shapes)

    count = sum(int(np.prod(s)) for s in shapes)
    return BookCase(name, "optimizer", 4, float(k * count), make)


def so_param(data: Array) -> Any:
    from scratch.module import Parameter

    return Parameter(data)


def book_cases() -> list[BookCase]:
    """Every family at the book's sizes, in chapter order (Adam only when both twins have it)."""
    (i, h, o) = MLP_WIDTHS
    n = MNIST_N
    cases = [
        BookCase(
            "Dense_784to89_n60",
            "dense",
            3,
            bl.dense_flops(n, (i, h)),
            _from_opcase(
                _op(
                    "dense",
                    "Dense",
                    "layers",
                    3,
                    {"input": InputSpec((n, i))},
                    lambda rng: module_pair(sl.Dense(i, h, rng=rng), tl.Dense(i, h)),
                )
            ),
        ),
        BookCase(
            "MLP_784-89-10_n60",
            "mlp",
            4,
            bl.dense_flops(n, MLP_WIDTHS),
            _from_opcase(_op("mlp", "NeuralNetwork", "network", 4, {"input": InputSpec((n, i))}, _mlp)),
        ),
        BookCase(
            "MeanSquaredError_60x10",
            "loss",
            3,
            10.0 * n * o,
            _from_opcase(
                _op(
                    "mse",
                    "MeanSquaredError",
                    "losses",
                    3,
                    {"prediction": InputSpec((n, o)), "target": InputSpec((n, o), differentiable=False)},
                    lambda rng: loss_pair(sL.MeanSquaredError(), tL.MeanSquaredError()),
                )
            ),
        ),
        BookCase(
            "SoftmaxCrossEntropy_60x10",
            "loss",
            4,
            10.0 * n * o,
            _from_opcase(
                _op(
                    "ce",
                    "SoftmaxCrossEntropy",
                    "losses",
                    4,
                    {"input": InputSpec((n, o)), "target": InputSpec((n, o), "onehot")},
                    _ce,
                )
            ),
        ),
    ]
    optimizers: list[tuple[str, Any, Any, int]] = [
        ("SGD", lambda p: so.SGD(p, 0.1), lambda p: to.SGD(p, 0.1), 2),
        ("SGDMomentum", lambda p: so.SGDMomentum(p, 0.1, 0.9), lambda p: to.SGDMomentum(p, 0.1, 0.9), 4),
        ("AdaGrad", lambda p: so.AdaGrad(p, lr=0.01), lambda p: to.AdaGrad(p, lr=0.01), 6),
    ]
    if hasattr(so, "Adam") and hasattr(to, "Adam"):  # added on another branch: benched once it exists
        optimizers.append(("Adam", lambda p: so.Adam(p, lr=0.001), lambda p: to.Adam(p, lr=0.001), 12))
    cases += [_optimizer_case(f"{name}_step_mlp_params", s, t, k) for name, s, t, k in optimizers]
    for name, c, oc, hw in (
        ("Conv2d_book_n60_1to16_28x28_k5", 1, 16, 28),
        ("Conv2d_deep_n60_16to32_14x14_k5", 16, 32, 14),
    ):
        op = _op(
            name,
            "Conv2d",
            "conv",
            5,
            {"input": InputSpec((n, c, hw, hw))},
            lambda rng, c=c, oc=oc: module_pair(
                sc.Conv2d(c, oc, 5, 1, None, False, rng=rng), tc.Conv2d(c, oc, 5, 1, None, False)
            ),
        )
        cases.append(BookCase(name, "conv", 5, bl.conv_flops(n, c, oc, 5, (hw, hw)), _from_opcase(op)))
    cases.append(_conv2d_layer_case())
    for component in ("MaxPool2d", "AvgPool2d"):
        op = _op(
            component,
            component,
            "pooling",
            5,
            {"input": InputSpec((n, 16, 28, 28))},
            lambda rng, c=component: module_pair(getattr(sp, c)(2), getattr(tp, c)(2)),
        )
        cases.append(BookCase(f"{component}_k2_n60_16x28x28", "pool", 5, 3.0 * n * 16 * 28 * 28, _from_opcase(op)))
    for kind, g in GATES.items():
        op = _op(kind, kind, "rnn", 6, {"input": InputSpec((SEQ_N, SEQ_L, VOCAB))}, _sequence_layer(kind))
        flops = bl.recurrent_flops(SEQ_N, SEQ_L, g, VOCAB, HIDDEN)
        cases.append(BookCase(f"{kind}_n32_l25_62to256", "recurrent", 6, flops, _from_opcase(op)))
    op = _op("charlm", "CharLM", "charlm", 6, {"input": InputSpec((SEQ_N, SEQ_L, VOCAB), "onehot")}, _charmodel)
    flops = bl.charmodel_flops(SEQ_N, SEQ_L, 4, (VOCAB, HIDDEN, VOCAB), HIDDEN)
    cases.append(BookCase("CharLM_lstm_2layers_n32_l25_v62_h256", "charmodel", 6, flops, _from_opcase(op)))
    return cases


def _conv2d_layer_case() -> BookCase:
    """The chapter 5 ``Conv2D`` layer (1 -> 16, 5x5, tanh, flatten) at batch 60, the CNN's first layer."""
    import scratch.activations as sa
    import torch_ref.activations as ta

    n = MNIST_N

    def build(rng: np.random.Generator) -> TwinPair:
        scratch = sl.Conv2D(1, 16, 5, sa.Tanh(), flatten=True, rng=rng)
        return module_pair(scratch, tl.Conv2D(1, 16, 5, ta.Tanh(), flatten=True))

    op = _op("conv2d_layer", "Conv2D", "layers", 5, {"input": InputSpec((n, 1, 28, 28))}, build)
    return BookCase(
        "Conv2D_layer_tanh_flatten_n60_1to16_28x28", "conv", 5, bl.conv_flops(n, 1, 16, 5, (28, 28)), _from_opcase(op)
    )
