"""``dlfs-parity bench book`` / ``bench models``, and the speed section a report can print.

- ``main(kind, names, ...)``: what the CLI runs: the book-size components (``bench_book``) or the
  training steps and epochs (``bench_models``), both dtypes by default, a table, the GEMM peak
  each row was set against, and with ``csv`` the rows.
- ``report_frames(quick)``: the DataFrames a report needs, ``{"book": ..., "models": ...}``
  (columns ``bench_book.COLUMNS`` / ``bench_models.COLUMNS``, documented in those modules).
- ``speed_markdown(book, models, test_shapes)``: the speed section in that order, the registry's
  test-shape timings (``bench.COLUMNS`` rows) last, as an appendix; with the FLOP formulas,
  the GEMM peaks and a line on the GPU (``gpu_line``).

``python -m parity_tests.bench_speed book|models [NAME...] [--quick] [--out DIR]`` writes the
CSV and the markdown section into ``DIR``. Benchmarks are not tests: nothing asserts a time.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from parity_tests import bench_book, bench_models
from parity_tests import bench_limits as bl
from parity_tests.textui import fmt_ratio, fmt_seconds, markdown_table

KINDS = ("book", "models")


def gpu_line() -> str:
    """Where the torch twin's CUDA timings would come from, or that there is no GPU here."""
    if torch.cuda.is_available():
        return f"GPU: {torch.cuda.get_device_name(0)} present; CUDA timings are not part of this run."
    return "GPU: no GPU here (the CUDA column is empty)."


def run(
    kind: str,
    names: Sequence[str] | None = None,
    dtypes: Sequence[str] = ("float32", "float64"),
    threads: Sequence[int] | None = None,
    min_time: float = 0.2,
    quick: bool = False,
) -> pd.DataFrame:
    """The rows of ``bench book`` or ``bench models`` (``ValueError`` on an unknown name)."""
    if kind == "book":
        cases = bench_book.select_cases(names)
        return bench_book.run(cases, dtypes, threads, min_time=0.01 if quick else min_time)
    if kind == "models":
        models = bench_models.select_models(names)
        return bench_models.run(models, dtypes, threads, quick=quick, repeats=2 if quick else 3)
    raise ValueError(f"unknown benchmark {kind!r}; choose from {', '.join(KINDS)}")


def report_frames(quick: bool = False) -> dict[str, pd.DataFrame]:
    """Both speed tables for a report; ``quick``: one thread, a few cases, 3-step epochs."""
    if quick:
        book = run("book", ["Dense", "LSTM"], threads=[1], quick=True)
        models = run("models", ["boston"], dtypes=("float64",), threads=[1], quick=True)
    else:
        book, models = run("book"), run("models")
    return {"book": book, "models": models}


def peaks_line(book: pd.DataFrame) -> str:
    """The GEMM peaks the rows were set against, per dtype and thread count."""
    if book.empty:
        return ""
    peaks = book.drop_duplicates(["dtype", "threads"])
    parts = [f"{r.dtype}, {r.threads} thread(s): {r.peak_gflops:.0f} GFLOP/s" for r in peaks.itertuples()]
    text = "NumPy's GEMM peak in this run (the fastest square A @ B, n = 512 and 1024): " + "; ".join(parts) + "."
    by_dtype = peaks.sort_values("threads").groupby("dtype")["peak_gflops"]
    if any(len(p) > 1 and p.iloc[-1] < p.iloc[0] for _, p in by_dtype):
        text += (
            " More threads gave a lower peak than one: other processes hold the cores, so the multi-thread"
            " rows measure the neighbours more than the code; read the 1-thread rows."
        )
    return text


def _book_body(book: pd.DataFrame) -> list[list[object]]:
    return [
        [
            r.case,
            r.dtype,
            r.threads,
            fmt_seconds(r.scratch_median_s),
            fmt_seconds(r.torch_median_s),
            fmt_ratio(r.ratio),
            "-" if r.verdict == "-" else f"≤ {r.target:g} {r.verdict}" + (" (noisy)" if r.noisy else ""),
            f"{r.scratch_gflops:.1f} / {r.torch_gflops:.1f}",
            f"{r.scratch_peak_share:.0%} / {r.torch_peak_share:.0%}",
        ]
        for r in book.itertuples()
    ]


def speed_markdown(
    book: pd.DataFrame, models: pd.DataFrame | None = None, test_shapes: pd.DataFrame | None = None
) -> str:
    """The speed section: book sizes first, then models, the registry's test shapes as an appendix."""
    parts = [
        "## Speed at the book's sizes",
        "Forward+backward (an optimizer: one step) of both twins, alternating blocks, medians; the machine"
        " may be shared, so read medians, not single runs. ratio = scratch / torch (> 1: NumPy is slower).",
        peaks_line(book),
        gpu_line(),
    ]
    if not book.empty:
        headers = ["case", "dtype", "thr", "scratch", "torch", "ratio", "target", "GFLOP/s s / t", "peak share s / t"]
        parts.append(markdown_table(headers, _book_body(book)))
        formulas = book.drop_duplicates("family")[["family", "flops_formula"]]
        parts.append("FLOPs per family: " + "; ".join(f"{f}: {t}" for f, t in formulas.itertuples(index=False)) + ".")
    if models is not None and not models.empty:
        parts.append("### One training step and one epoch of each experiment's model")
        parts.append(markdown_table(bench_models.HEADERS, bench_models.body(models, "≤")))
    if test_shapes is not None and not test_shapes.empty:
        parts.append("### Appendix: the registry's test shapes")
        parts.append("Tiny inputs (e.g. 3x6x5): Python overhead, not arithmetic, sets these times.")
        body = [
            [
                r.case,
                r.dtype,
                r.threads,
                r.phase,
                fmt_seconds(r.scratch_median_s),
                fmt_seconds(r.torch_median_s),
                fmt_ratio(r.ratio),
            ]
            for r in test_shapes.itertuples()
        ]
        parts.append(markdown_table(["case", "dtype", "thr", "phase", "scratch", "torch", "ratio"], body))
    return "\n\n".join(p for p in parts if p)


def main(
    kind: str,
    names: Sequence[str] | None = None,
    dtypes: Sequence[str] = ("float32", "float64"),
    threads: Sequence[int] | None = None,
    min_time: float = 0.2,
    quick: bool = False,
    csv: str | None = None,
) -> pd.DataFrame:
    """Run, print the table (and the peaks), write ``csv`` when given; returns the rows."""
    df = run(kind, names, dtypes, threads, min_time, quick)
    if kind == "book":
        print(bench_book.table(df))
        print(f"\n{peaks_line(df)}")
        print("FLOPs: " + "; ".join(f"{f}: {bl.FLOP_FORMULAS[f]}" for f in dict.fromkeys(df["family"])))
    else:
        print(bench_models.table(df))
    print("\nratio = scratch median / torch median (> 1: the NumPy twin is slower); medians of alternating blocks.")
    missed = df[df["verdict"] == "missed"]
    if not missed.empty:
        print(
            f"{len(missed)} of {int((df['verdict'] != '-').sum())} targets missed (benchmarks are not tests: exit 0)."
        )
    if csv is not None:
        Path(csv).parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(csv, index=False)
        print(f"wrote {csv}")
    return df


def _cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("names", nargs="*")
    parser.add_argument("--threads", type=int, nargs="+")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="bench_speed")
    args = parser.parse_args(argv)
    out = Path(args.out)
    df = main(args.kind, args.names, threads=args.threads, quick=args.quick, csv=str(out / f"bench_{args.kind}.csv"))
    md = speed_markdown(df) if args.kind == "book" else speed_markdown(pd.DataFrame(), df)
    (out / f"bench_{args.kind}.md").write_text(md + "\n")
    return 0 if np.isfinite(df.filter(like="median").to_numpy(dtype=float)).any() else 1


if __name__ == "__main__":
    raise SystemExit(_cli())
