"""Speed at the book's sizes (``dlfs-parity bench book``): every component family, against the limit.

The registry's cases use test shapes (inputs like 3x6x5) where Python overhead is the whole story;
these are the sizes the book trains at:

- chapter 4: ``Dense`` 784 -> 89 and the MNIST MLP 784 -> 89 (tanh) -> 10, batch 60; the losses
  (mean squared error, softmax cross-entropy) on (60, 10); the optimizers (SGD, momentum,
  AdaGrad, and Adam when ``scratch.optimizers.Adam`` exists) stepping the MLP's 70,759 parameters;
- chapter 5: ``Conv2d`` at the first layer (60, 1 -> 16, 28x28, 5x5) and a deeper one (60, 16 -> 32,
  14x14, 5x5), the ``Conv2D`` layer (tanh, flatten) at the first, max and average pooling 2x2 on
  (60, 16, 28, 28);
- chapter 6: ``RNN``, ``GRU``, ``LSTM`` layers at batch 32, 25 steps, 62 -> 256, and the two-layer
  LSTM character model (vocabulary 62, hidden 256).

Each row times one forward+backward of both twins (an optimizer row: one ``step``) in alternating
blocks (``bench_limits.time_interleaved``), warm-up then median and IQR, in float32 and float64
at 1 and all threads. Beside every row: its FLOPs (``flops_formula``), the GFLOP/s each twin
reaches and its share of NumPy's GEMM peak measured in the same run (``peak_gflops``), the
target ratio of issue 13 (``target``, NaN where none is set) and ``verdict`` (``met``, ``missed``,
``-``). ``ratio`` = scratch median / torch median (> 1: the NumPy twin is slower).

Columns (``COLUMNS``): case, family, chapter, shapes, dtype, threads, flops, flops_formula,
scratch_median_s, scratch_iqr_s, torch_median_s, torch_iqr_s, ratio, scratch_gflops,
torch_gflops, peak_gflops, scratch_peak_share, torch_peak_share, target, verdict, noisy, note,
versions. ``noisy``: on either side the IQR exceeds the median (load from other processes).

Benchmarks are not tests: nothing asserts a time. The machine is shared: quote medians.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
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
from parity_tests.bench import all_threads, timed_callables
from parity_tests.cases.losses import loss_pair
from parity_tests.harness import versions
from parity_tests.opcase import Array, InputSpec, OpCase, TwinPair, module_pair
from parity_tests.textui import fmt_ratio, fmt_seconds, text_table

#: The chapter 4 MLP and batch; the chapter 6 sequence sizes.
MNIST_N, MLP_WIDTHS = 60, (784, 89, 10)
SEQ_N, SEQ_L, VOCAB, HIDDEN = 32, 25, 62, 256
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}

COLUMNS = [
    "case",
    "family",
    "chapter",
    "shapes",
    "dtype",
    "threads",
    "flops",
    "flops_formula",
    "scratch_median_s",
    "scratch_iqr_s",
    "torch_median_s",
    "torch_iqr_s",
    "ratio",
    "scratch_gflops",
    "torch_gflops",
    "peak_gflops",
    "scratch_peak_share",
    "torch_peak_share",
    "target",
    "verdict",
    "noisy",
    "note",
    "versions",
]


@dataclass(frozen=True)
class BookCase:
    """A benchmark at the book's size: ``make(dtype)`` returns the two timed closures and the shapes."""

    name: str
    family: str
    chapter: int
    flops: float
    make: Callable[[str], tuple[dict[str, Callable[[], object]], str]]


def target(family: str, name: str, dtype: str) -> float:
    """Issue 13's ceiling on scratch/torch for this row (NaN: no target set)."""
    if family in ("dense", "mlp", "loss", "optimizer"):
        return 1.0
    if family in ("recurrent", "charmodel"):
        return 1.0 if dtype == "float64" else 1.5
    if family == "conv" and name.startswith("Conv2d_deep") and dtype == "float32":
        return 2.0
    return float("nan")


# -- case builders -------------------------------------------------------------------------------
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


# -- running ---------------------------------------------------------------------------------------
def select_cases(names: Sequence[str] | None, cases: Sequence[BookCase] | None = None) -> list[BookCase]:
    """Cases whose name or family contains one of ``names`` (case-insensitive); all when none given."""
    pool = list(book_cases() if cases is None else cases)
    if not names:
        return pool
    wanted = [n.lower() for n in names]
    chosen = [c for c in pool if any(w in c.name.lower() or w == c.family for w in wanted)]
    if not chosen:
        raise ValueError(f"no book benchmark matches {', '.join(names)}; families: {sorted({c.family for c in pool})}")
    return chosen


def bench_row(case: BookCase, dtype: str, threads: int, min_time: float) -> dict[str, Any]:
    """One row of ``COLUMNS``: both twins timed in alternating blocks, with the limit beside them."""
    note = ""
    try:
        fns, shapes = case.make(dtype)
        t = bl.time_interleaved(fns, threads, min_time)
    except Exception as exc:  # a broken case is reported in its row, not fatal to the run
        shapes, t = "", {}
        note = f"raised {type(exc).__name__}: {exc}"
    nan = (float("nan"), float("nan"))
    (s_med, s_iqr), (t_med, t_iqr) = t.get("scratch", nan), t.get("torch", nan)
    peak = bl.gemm_peak(dtype, threads)
    s_gf, t_gf = bl.gflops(case.flops, s_med), bl.gflops(case.flops, t_med)
    ratio = s_med / t_med if t_med > 0 else float("nan")
    goal = target(case.family, case.name, dtype)
    verdict = "-" if not (np.isfinite(goal) and np.isfinite(ratio)) else ("met" if ratio <= goal else "missed")
    return {
        "case": case.name,
        "family": case.family,
        "chapter": case.chapter,
        "shapes": shapes,
        "dtype": dtype,
        "threads": threads,
        "flops": case.flops,
        "flops_formula": bl.FLOP_FORMULAS[case.family],
        "scratch_median_s": s_med,
        "scratch_iqr_s": s_iqr,
        "torch_median_s": t_med,
        "torch_iqr_s": t_iqr,
        "ratio": ratio,
        "scratch_gflops": s_gf,
        "torch_gflops": t_gf,
        "peak_gflops": peak,
        "scratch_peak_share": s_gf / peak,
        "torch_peak_share": t_gf / peak,
        "target": goal,
        "verdict": verdict,
        "noisy": bool(s_iqr > s_med or t_iqr > t_med),
        "note": note,
        "versions": versions(),
    }


def run(
    cases: Sequence[BookCase] | None = None,
    dtypes: Sequence[str] = ("float32", "float64"),
    threads: Sequence[int] | None = None,
    min_time: float = 0.2,
    progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """Rows (``COLUMNS``) of every case x dtype x thread count (threads default: 1 and all cores)."""
    chosen = book_cases() if cases is None else list(cases)
    counts = sorted({1, all_threads()}) if threads is None else list(threads)
    jobs = [(c, d, n) for c in chosen for d in dtypes for n in counts]
    rows = []
    for k, (case, dtype, n) in enumerate(jobs):
        if progress is not None:
            progress(k, len(jobs), f"{case.name} {dtype} {n} thr")
        rows.append(bench_row(case, dtype, n, min_time))
    if progress is not None:
        progress(len(jobs), len(jobs), "done")
    return pd.DataFrame(rows, columns=COLUMNS)


HEADERS = ["case", "dtype", "thr", "scratch", "torch", "ratio", "target", "GFLOP/s s / t", "peak", "share s / t"]


def table(df: pd.DataFrame) -> str:
    """The rows as text: medians, ratio and verdict, GFLOP/s of each twin against the GEMM peak."""

    def verdict(r: Any) -> str:
        text = "-" if r.verdict == "-" else f"<= {r.target:g} {r.verdict}"
        return f"{text} (noisy)" if r.noisy else text

    body = [
        [
            r.case,
            r.dtype,
            r.threads,
            fmt_seconds(r.scratch_median_s),
            fmt_seconds(r.torch_median_s),
            fmt_ratio(r.ratio),
            verdict(r),
            f"{r.scratch_gflops:.1f} / {r.torch_gflops:.1f}",
            f"{r.peak_gflops:.0f}",
            f"{r.scratch_peak_share:.0%} / {r.torch_peak_share:.0%}",
        ]
        for r in df.itertuples()
    ]
    return text_table(HEADERS, body)
