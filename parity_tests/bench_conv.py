"""Chapter 5 speed: the conv ratios the issue asks for, where the scratch time goes, the batch curve.

Issue 4 times forward+backward of the vectorised scratch conv and of torch on the CPU, both at
the same thread count, at the book's shape (batch 60, 1 -> 16 channels, 28x28, 5x5) and a deeper
one (batch 60, 16 -> 32, 14x14, 5x5), in float32 and float64, against the target scratch/torch
<= ``TARGET``; the loop version against the vectorised one at a small size; and the time of both
twins against the batch size. The shapes are the ``BENCH`` cases of ``parity_tests/cases/conv.py``.

- ``run``: bench rows (``parity_tests.bench.COLUMNS``) of those cases, forward+backward only;
- ``summary`` / ``loop_slowdown`` / ``batch_curve``: the three views of those rows;
- ``breakdown``: the scratch forward and backward cut into their pieces (pad, im2col copy, the
  three GEMMs, the col2im scatter) beside torch's whole forward+backward, and ``torch_backend``,
  the kernel family torch picks: the evidence behind a missed target (``explanation``);
- ``summary_text`` (what ``dlfs-parity bench conv`` prints) and ``plot_batch_curve``.

Why the deep shape misses in float32 (medians on the project's shared 2-core AVX-512 Xeon, one
thread; they move by about 20% from run to run): torch's float32 CPU convolution is oneDNN's
direct convolution (``_ConvBackend.Mkldnn``; ``ONEDNN_VERBOSE=1`` shows ``jit:avx512_core`` for
forward, backward-data and backward-weights on channel-blocked layouts): about 9 ms for
forward+backward, with no column matrix. The scratch twin takes about 36 ms: forward 10 ms (pad
0.5, im2col copy 3.4, GEMM 4.5) and backward 26 ms (grad_weight GEMMs and batch sum 8.2, grad_input
GEMM 5.4, col2im's 25 strided adds 11.1). Its three OpenBLAS GEMMs alone (18 ms) take twice
torch's whole step, so no cheaper copying meets 1.5x; merged into one large GEMM each (after a
2.6 ms transposed copy of the columns) they still take 16 ms, more than 1.5 x 9 ms. In float64
oneDNN has no kernel and torch falls back to ``Slow2d`` (im2col + GEMM, the scratch twin's own
algorithm): there the ratio is 0.8 to 0.9 (64-70 ms against 72-87 ms).

With two threads the book's shape in float64 misses too (about 2x): the scratch twin does not
speed up (9.4 -> 10.7 ms; NumPy runs in parallel only inside each BLAS call, and pad, im2col and
col2im stay on one core) while torch halves (10.7 -> 5.1 ms).

``python -m parity_tests.bench_conv --out DIR`` writes ``bench_conv.csv``, ``summary.txt`` and
``batch_curve.png``. Benchmarks are not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from parity_tests.bench import noisy, run_bench, time_call, timed_callables
from parity_tests.cases.conv import BATCH_CURVE, BENCH
from parity_tests.harness import np_dtype
from parity_tests.opcase import OpCase
from parity_tests.textui import fmt_ratio, fmt_seconds, text_table

TARGET = 1.5
BOOK, DEEP = "Conv2d_bench_book_n60_1to16_28x28_k5", "Conv2d_bench_deep_n60_16to32_14x14_k5"
SHAPES = {"book": BOOK, "deep": DEEP}
SHAPE_TEXT = {"book": "batch 60, 1->16, 28x28, 5x5", "deep": "batch 60, 16->32, 14x14, 5x5"}
LOOPS, VECTORISED = "conv2d_loops_bench_small", "conv2d_bench_small"
_TIMES = ["scratch_median_s", "torch_median_s"]

SUMMARY_HEADERS = ["shape", "dtype", "threads", "scratch fwd+bwd", "torch fwd+bwd", "ratio", f"target <= {TARGET}"]
LOOP_HEADERS = ["dtype", "threads", "conv2d_loops", "conv2d (vectorised)", "slowdown"]
BREAKDOWN_HEADERS = ["piece", "median", "share of scratch fwd+bwd"]

#: ``breakdown``'s pieces in the order the scratch twin runs them; the last two are whole steps.
PIECES = {
    "pad": "forward: zero padding (np.pad)",
    "im2col": "forward: im2col copy of the window view",
    "gemm_forward": "forward: GEMM W2 @ cols",
    "forward": "forward, whole",
    "gemm_grad_weight": "backward: grad_weight GEMMs G3 @ cols^T and batch sum",
    "gemm_grad_input": "backward: grad_input GEMM W2^T @ G3",
    "col2im": "backward: col2im, kH*kW strided adds",
    "backward": "backward, whole",
    "scratch_forward_backward": "scratch forward+backward",
    "torch_forward_backward": "torch forward+backward",
}

BACKENDS = {
    "Mkldnn": "oneDNN's direct convolution: JIT-compiled kernels on channel-blocked layouts, no column matrix",
    "Slow2d": "im2col + GEMM, the scratch twin's own algorithm",
}


def run(
    dtypes: Sequence[str] = ("float32", "float64"),
    threads: Sequence[int] | None = None,
    min_time: float = 0.2,
    progress: Callable[[int, int, str], None] | None = None,
    cases: Sequence[OpCase] = BENCH,
) -> pd.DataFrame:
    """Forward+backward bench rows of the conv ``BENCH`` cases (threads default: 1 and all cores)."""
    fb = ("forward_backward",)
    frames = [run_bench(cases, d, threads, min_time, progress, phases=fb) for d in dtypes]
    return pd.concat(frames, ignore_index=True)


def has_summary(df: pd.DataFrame) -> bool:
    """Whether ``df`` holds forward+backward rows of the book's or the deep shape."""
    return bool(_fb(df)["case"].isin([BOOK, DEEP]).any()) if not df.empty else False


def _fb(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["phase"] == "forward_backward"]


def _verdict(ratio: float) -> str:
    return "-" if not np.isfinite(ratio) else ("met" if ratio <= TARGET else "missed")


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per shape x dtype x thread count: both medians, the ratio, ``met``/``missed``, ``noisy``."""
    fb = _fb(df)
    fb = fb.assign(noisy=noisy(fb))
    out = []
    for shape, case in SHAPES.items():
        for r in fb[fb["case"] == case].sort_values(["dtype", "threads"]).to_dict("records"):
            ratio = float(r["ratio"])
            out.append(
                {
                    "shape": shape,
                    "dtype": r["dtype"],
                    "threads": int(r["threads"]),
                    "scratch_median_s": float(r["scratch_median_s"]),
                    "torch_median_s": float(r["torch_median_s"]),
                    "ratio": ratio,
                    "verdict": _verdict(ratio),
                    "noisy": bool(r["noisy"]),
                }
            )
    return pd.DataFrame(out, columns=["shape", "dtype", "threads", *_TIMES, "ratio", "verdict", "noisy"])


def loop_slowdown(df: pd.DataFrame) -> pd.DataFrame:
    """Per dtype x thread count: the loop version's scratch median over the vectorised one's."""
    fb = _fb(df)
    loops = fb[fb["case"] == LOOPS].set_index(["dtype", "threads"])["scratch_median_s"]
    vectorised = fb[fb["case"] == VECTORISED].set_index(["dtype", "threads"])["scratch_median_s"]
    both = pd.DataFrame({"loops_median_s": loops, "vectorised_median_s": vectorised}).dropna()
    both["slowdown"] = both["loops_median_s"] / both["vectorised_median_s"]
    return both.reset_index().sort_values(["dtype", "threads"]).reset_index(drop=True)


def _batch(case: str) -> int | None:
    """The batch size of a book-layer bench case (``Conv2d_bench_book_n60_...`` -> 60), else ``None``."""
    found = re.match(r"Conv2d_bench_book_n(\d+)_", case)
    return int(found.group(1)) if found else None


def bench_cases(batches: Sequence[int] = BATCH_CURVE) -> list[OpCase]:
    """The ``BENCH`` cases of the summary (book, deep, the loop pair) and of the batch curve at ``batches``."""
    return [c for c in BENCH if c.name in (BOOK, DEEP, LOOPS, VECTORISED) or _batch(c.name) in batches]


def batch_curve(df: pd.DataFrame) -> pd.DataFrame:
    """Forward+backward seconds of both twins at the book's layer, per batch size."""
    fb = _fb(df)
    batches = pd.Series([_batch(str(c)) for c in fb["case"]], index=fb.index, dtype="Int64")
    rows = fb.assign(batch=batches).dropna(subset=["batch"]).astype({"batch": int})
    cols = ["dtype", "threads", "batch", *_TIMES, "ratio"]
    return rows[cols].sort_values(["dtype", "threads", "batch"]).reset_index(drop=True)


def summary_body(s: pd.DataFrame) -> list[list[Any]]:
    """Cells of ``SUMMARY_HEADERS`` for ``summary(df)``; a noisy row's verdict says so."""
    return [
        [
            f"{r['shape']} ({SHAPE_TEXT[r['shape']]})",
            r["dtype"],
            r["threads"],
            fmt_seconds(r["scratch_median_s"]),
            fmt_seconds(r["torch_median_s"]),
            fmt_ratio(r["ratio"]),
            f"{r['verdict']} (noisy)" if r["noisy"] else r["verdict"],
        ]
        for r in s.to_dict("records")
    ]


def loop_body(loops: pd.DataFrame) -> list[list[Any]]:
    """Cells of ``LOOP_HEADERS`` for ``loop_slowdown(df)``."""
    return [
        [r.dtype, r.threads, fmt_seconds(r.loops_median_s), fmt_seconds(r.vectorised_median_s), f"{r.slowdown:.1f}x"]
        for r in loops.itertuples()
    ]


def breakdown_body(b: pd.DataFrame) -> list[list[Any]]:
    """Cells of ``BREAKDOWN_HEADERS`` for ``breakdown(...)``."""
    medians = b["median_s"].to_dict()
    total = medians["scratch_forward_backward"]
    return [[PIECES[str(key)], fmt_seconds(t), f"{t / total:.0%}"] for key, t in medians.items()]


def torch_backend(dtype: str, shape: str = "deep") -> str:
    """The convolution backend torch picks on the CPU for ``shape`` in ``dtype`` (``Mkldnn``, ``Slow2d``...).

    Asks ``torch._C._select_conv_backend``, the dispatcher's own choice; ``unknown`` if that
    private hook is gone in another torch version.
    """
    x, weight, _ = _arrays(SHAPES[shape], dtype)
    k = weight.shape[2]
    try:
        backend = torch._C._select_conv_backend(
            torch.from_numpy(x), torch.from_numpy(weight), None, [1, 1], [k // 2] * 2, [1, 1], False, [0, 0], 1, None
        )
    except (AttributeError, RuntimeError, TypeError):
        return "unknown"
    return str(backend).rsplit(".", 1)[-1]


def _case(name: str) -> OpCase:
    return next(c for c in BENCH if c.name == name)


def _arrays(name: str, dtype: str) -> tuple[np.ndarray, np.ndarray, Any]:
    """The input, weight and scratch ``Conv2d`` of the bench case ``name`` (seed 0, as the bench draws them)."""
    case = _case(name)
    rng = np.random.default_rng(0)
    module = case.build(rng).scratch_module
    assert module is not None, f"{name} is a module case"
    module.to(np_dtype(dtype))
    x = case.inputs["input"].draw(rng).astype(np_dtype(dtype))
    return x, module.weight.data, module


def breakdown(dtype: str = "float32", shape: str = "deep", threads: int = 1, min_time: float = 0.1) -> pd.DataFrame:
    """Median and IQR (seconds) of each piece of the scratch conv, indexed by the keys of ``PIECES``.

    Times the twin's own helpers from ``scratch/conv.py`` one by one on the bench case's arrays,
    then both twins' whole forward+backward as ``dlfs-parity bench`` times them.
    """
    from scratch.conv import _col2im, _grad_weight, _im2col, _pad, conv2d_backward, conv2d_forward

    x, weight, module = _arrays(SHAPES[shape], dtype)
    n, c = x.shape[:2]
    c_out, _, kh, kw = weight.shape
    p, s = kh // 2, 1  # the bench cases are "same" convolutions with stride 1 (the book's)
    assert (module.padding, module.stride) in ((None, 1), (p, 1)), "breakdown assumes 'same' padding, stride 1"
    out, cache = conv2d_forward(x, weight, None, s, p)
    g = np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)
    g3 = g.reshape(n, c_out, -1)  # (N, C_out, OH*OW)
    w2 = weight.reshape(c_out, -1)  # (C_out, C*kH*kW)
    xp = _pad(x, p)  # (N, C, H+2p, W+2p)
    dcols = (w2.T @ g3).reshape(n, c, kh, kw, *out.shape[2:])  # (N, C, kH, kW, OH, OW)
    whole, _ = timed_callables(_case(SHAPES[shape]), dtype)
    fns: dict[str, Callable[[], object]] = {
        "pad": lambda: _pad(x, p),
        "im2col": lambda: _im2col(xp, kh, kw, s),
        "gemm_forward": lambda: np.matmul(w2, cache.cols),
        "forward": lambda: conv2d_forward(x, weight, None, s, p),
        "gemm_grad_weight": lambda: _grad_weight(g3, cache),
        "gemm_grad_input": lambda: np.matmul(w2.T, g3),
        "col2im": lambda: _col2im(dcols, xp.shape, s),
        "backward": lambda: conv2d_backward(g, cache),
        "scratch_forward_backward": whole["scratch_forward_backward"],
        "torch_forward_backward": whole["torch_forward_backward"],
    }
    previous = torch.get_num_threads()
    try:
        timed = {key: time_call(fn, threads, min_time) for key, fn in fns.items()}
    finally:
        torch.set_num_threads(previous)
    b = pd.DataFrame.from_dict(timed, orient="index", columns=["median_s", "iqr_s"])
    return b.assign(dtype=dtype, shape=shape, threads=threads)


def worst_miss(s: pd.DataFrame) -> tuple[str, str, int] | None:
    """``(shape, dtype, threads)`` of the largest missed ratio at the fewest threads that miss, or ``None``."""
    missed = s[s["verdict"] == "missed"]
    if missed.empty:
        return None
    fewest = missed[missed["threads"] == missed["threads"].min()]
    worst = fewest.loc[fewest["ratio"].idxmax()]
    return str(worst["shape"]), str(worst["dtype"]), int(worst["threads"])


def explanation(s: pd.DataFrame, b: pd.DataFrame | None) -> str:
    """Why targets are missed, in numbers: ``b`` is the ``breakdown`` of ``worst_miss(s)``."""
    if not (s["verdict"] == "missed").any():
        return f"Every ratio above meets the target (<= {TARGET})."
    text = _where_the_time_goes(s, b) if b is not None and not b.empty else []
    text += _thread_scaling(s)
    return " ".join(text) or "A target is missed; no breakdown was timed."


def _where_the_time_goes(s: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    shape, dtype, threads = str(b["shape"].iloc[0]), str(b["dtype"].iloc[0]), int(b["threads"].iloc[0])
    t = b["median_s"]
    torch_s = t["torch_forward_backward"]
    gemms = t["gemm_forward"] + t["gemm_grad_weight"] + t["gemm_grad_input"]
    copies = t["pad"] + t["im2col"] + t["col2im"]
    backend = torch_backend(dtype, shape)
    text = [
        f"Where the time goes (timed again, piece by piece) at the {shape} shape ({SHAPE_TEXT[shape]}), {dtype},"
        f" {threads} thread(s): torch picks `{backend}` ({BACKENDS.get(backend, 'torch._C._select_conv_backend')})"
        f" and takes {fmt_seconds(torch_s)} for forward+backward. The scratch twin takes"
        f" {fmt_seconds(t['scratch_forward_backward'])}: its three batched GEMMs (NumPy's BLAS) {fmt_seconds(gemms)},"
        f" the copies around them (pad, im2col, col2im's scatter) {fmt_seconds(copies)}.",
    ]
    if gemms > TARGET * torch_s:
        direct = ": closing it takes a direct convolution kernel like oneDNN's, which NumPy does not have"
        text.append(
            f"The GEMMs alone are {gemms / torch_s:.1f}x torch's whole step, so removing every copy would still"
            f" miss the target{direct if backend == 'Mkldnn' else ''}."
        )
    else:
        text.append(f"The GEMMs alone are {gemms / torch_s:.1f}x torch's whole step: the copies are the gap.")
    other = "float64" if dtype == "float32" else "float32"
    same = s[(s["shape"] == shape) & (s["dtype"] == other) & (s["threads"] == threads)]
    if not same.empty:
        other_backend = torch_backend(other, shape)
        words = f" ({BACKENDS[other_backend]})" if other_backend in BACKENDS else ""
        text.append(
            f"In {other} torch picks `{other_backend}`{words} and the ratio at this shape is"
            f" {fmt_ratio(same['ratio'].iloc[0])}."
        )
    return text


def _thread_scaling(s: pd.DataFrame) -> list[str]:
    """A sentence on the rows that meet the target at the fewest threads and miss it at the most."""
    lo, hi = int(s["threads"].min()), int(s["threads"].max())
    if lo == hi:
        return []
    at = {(r["shape"], r["dtype"], r["threads"]): r for r in s.to_dict("records")}
    changed = []
    for shape, dtype in sorted({(a, d) for a, d, _ in at}):
        one, many = at.get((shape, dtype, lo)), at.get((shape, dtype, hi))
        if one is not None and many is not None and one["verdict"] == "met" and many["verdict"] == "missed":
            changed.append(
                f"{shape} {dtype} (scratch {fmt_seconds(one['scratch_median_s'])} -> "
                f"{fmt_seconds(many['scratch_median_s'])}, torch {fmt_seconds(one['torch_median_s'])} -> "
                f"{fmt_seconds(many['torch_median_s'])})"
            )
    if not changed:
        return []
    return [
        f"From {lo} to {hi} threads, {'; '.join(changed)} {'goes' if len(changed) == 1 else 'go'} from meeting"
        " the target to missing it: NumPy runs in parallel only inside each BLAS call (here small per-image"
        " GEMMs), while pad, im2col and col2im stay on one core; torch's convolution kernels spread the batch"
        " over the threads."
    ]


def summary_text(df: pd.DataFrame, b: pd.DataFrame | None = None) -> str:
    """What ``dlfs-parity bench conv`` prints after its table: target verdicts, loop slowdown, breakdown."""
    s = summary(df)
    parts = [
        f"Chapter 5 target: forward+backward, scratch / torch <= {TARGET} at the same thread count"
        " (threadpoolctl pins NumPy's BLAS, torch.set_num_threads torch's pool)",
        text_table(SUMMARY_HEADERS, summary_body(s)) if not s.empty else "(book and deep shapes not benched)",
    ]
    loops = loop_slowdown(df)
    if not loops.empty:
        parts += [
            "Loop version (conv2d_loops) against the vectorised conv2d, small size",
            text_table(LOOP_HEADERS, loop_body(loops)),
        ]
    if b is not None and not b.empty:
        parts += [explanation(s, b), text_table(BREAKDOWN_HEADERS, breakdown_body(b))]
    elif not s.empty:
        parts.append(explanation(s, None))
    return "\n\n".join(parts)


def plot_batch_curve(curve: pd.DataFrame, path: Path) -> Path | None:
    """Time per forward+backward against batch size, one panel per dtype, a line per twin x threads.

    ``None`` (no file) when fewer than two batch sizes were timed.
    """
    if curve.empty or curve["batch"].nunique() < 2:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, FuncFormatter

    def two_and_five(value: float, _: object) -> str:  # minor labels 2, 5, 20, 50... only: no overlaps
        return f"{value:g}" if f"{value:g}".lstrip("0.")[:1] in ("2", "5") else ""

    dtypes = sorted(curve["dtype"].unique())
    fig, axes = plt.subplots(1, len(dtypes), figsize=(5.5 * len(dtypes), 4), squeeze=False)
    for ax, dtype in zip(axes[0], dtypes, strict=True):
        for threads, group in curve[curve["dtype"] == dtype].groupby("threads"):
            ax.plot(group["batch"], group["scratch_median_s"] * 1e3, "o-", label=f"scratch, {threads} thr")
            ax.plot(group["batch"], group["torch_median_s"] * 1e3, "s--", label=f"torch, {threads} thr")
        ax.set(xlabel="batch size", ylabel="forward+backward (ms, log scale)", title=f"Conv 1->16, 28x28, 5x5, {dtype}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(FuncFormatter(two_and_five))
        batches = sorted(curve["batch"].unique())
        ax.set_xticks(batches, [str(b) for b in batches])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench_conv", help="output folder")
    parser.add_argument("--threads", type=int, nargs="+", help="default: 1 and all cores")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--min-time", type=float, default=0.2)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df = run(args.dtypes, args.threads, args.min_time)
    df.to_csv(out / "bench_conv.csv", index=False)
    miss = worst_miss(summary(df))
    b = breakdown(miss[1], miss[0], miss[2], args.min_time) if miss else None
    text = summary_text(df, b)
    (out / "summary.txt").write_text(text + "\n")
    plot_batch_curve(batch_curve(df), out / "batch_curve.png")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
