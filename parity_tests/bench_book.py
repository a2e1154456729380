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

The cases themselves (sizes, FLOPs, how each twin is built) are in ``bench_book_cases.py``.
Benchmarks are not tests: nothing asserts a time. The machine is shared: quote medians.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from parity_tests import bench_limits as bl
from parity_tests.bench import all_threads
from parity_tests.bench_book_cases import BookCase, book_cases
from parity_tests.harness import versions
from parity_tests.textui import fmt_ratio, fmt_seconds, text_table

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


def target(family: str, name: str, dtype: str) -> float:
    """Issue 13's ceiling on scratch/torch for this row (NaN: no target set)."""
    if family in ("dense", "mlp", "loss", "optimizer"):
        return 1.0
    if family in ("recurrent", "charmodel"):
        return 1.0 if dtype == "float64" else 1.5
    if family == "conv" and name.startswith("Conv2d_deep") and dtype == "float32":
        return 2.0
    return float("nan")


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
