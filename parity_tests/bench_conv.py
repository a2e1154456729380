"""Chapter 5 speed report: the conv ratios the issue asks for and the time-versus-batch curve.

``dlfs-parity bench conv`` times every conv case (``parity_tests/bench.py``); this module runs
the benchmark-only shapes of ``parity_tests/cases/conv.py`` (``BENCH``) in float32 and float64 at
the given thread counts, and condenses them into:

- ``summary(df)``: forward+backward ratio scratch/torch at the book's shape (batch 60, 1 -> 16,
  28x28, 5x5) and the deeper one (batch 60, 16 -> 32, 14x14, 5x5), against the target 1.5, and
  the loop version's slowdown against the vectorised one at a small size;
- ``batch_curve(df)`` / ``plot_batch_curve``: forward+backward time of both twins at the book's
  layer for batch sizes ``BATCH_CURVE``.

``python -m parity_tests.bench_conv --out DIR`` writes ``bench_conv.csv``, ``summary.txt`` and
``batch_curve.png``. Benchmarks are not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from parity_tests.bench import run_bench
from parity_tests.cases.conv import BATCH_CURVE, BENCH

TARGET = 1.5
BOOK, DEEP = "Conv2d_bench_book_n60_1to16_28x28_k5", "Conv2d_bench_deep_n60_16to32_14x14_k5"
LOOPS, VECTORISED = "conv2d_loops_bench_small", "conv2d_bench_small"


def run(
    dtypes: Sequence[str] = ("float32", "float64"), threads: Sequence[int] = (1, 2), min_time: float = 0.2
) -> pd.DataFrame:
    """Bench rows (``parity_tests.bench.COLUMNS``) of every conv ``BENCH`` case."""
    return pd.concat([run_bench(BENCH, dtype=d, threads=list(threads), min_time=min_time) for d in dtypes])


def _fb(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["phase"] == "forward_backward"]


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per dtype x threads: the two shape ratios, whether each meets the target, the loop slowdown."""
    fb = _fb(df).set_index(["dtype", "threads", "case"]).sort_index()
    out = []
    for dtype, threads in sorted({(d, t) for d, t, _ in fb.index}):
        at = fb.loc[(dtype, threads)]
        book, deep = float(at.loc[BOOK, "ratio"]), float(at.loc[DEEP, "ratio"])
        loops = float(at.loc[LOOPS, "scratch_median_s"]) / float(at.loc[VECTORISED, "scratch_median_s"])
        out.append(
            {
                "dtype": dtype,
                "threads": threads,
                "book ratio": book,
                "book <= 1.5": book <= TARGET,
                "deep ratio": deep,
                "deep <= 1.5": deep <= TARGET,
                "loops / vectorised": loops,
            }
        )
    return pd.DataFrame(out)


def batch_curve(df: pd.DataFrame) -> pd.DataFrame:
    """Forward+backward seconds of both twins at the book's layer, per batch size."""
    rows = _fb(df)[_fb(df)["case"].str.startswith("Conv2d_bench_book_n")].copy()
    rows["batch"] = [int(re.search(r"_n(\d+)_", c).group(1)) for c in rows["case"]]  # type: ignore[union-attr]
    cols = ["dtype", "threads", "batch", "scratch_median_s", "torch_median_s", "ratio"]
    return rows[cols].sort_values(["dtype", "threads", "batch"]).reset_index(drop=True)


def plot_batch_curve(curve: pd.DataFrame, path: Path) -> Path:
    """Time per forward+backward against batch size, one panel per dtype, a line per twin x threads."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dtypes = sorted(curve["dtype"].unique())
    fig, axes = plt.subplots(1, len(dtypes), figsize=(5.5 * len(dtypes), 4), squeeze=False)
    for ax, dtype in zip(axes[0], dtypes, strict=True):
        for threads, group in curve[curve["dtype"] == dtype].groupby("threads"):
            ax.plot(group["batch"], group["scratch_median_s"] * 1e3, "o-", label=f"scratch, {threads} thr")
            ax.plot(group["batch"], group["torch_median_s"] * 1e3, "s--", label=f"torch, {threads} thr")
        ax.set(xlabel="batch size", ylabel="forward+backward (ms, log scale)", title=f"Conv 1->16, 28x28, 5x5, {dtype}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(list(BATCH_CURVE), [str(b) for b in BATCH_CURVE])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench_conv", help="output folder")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--min-time", type=float, default=0.2)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df = run(args.dtypes, args.threads, args.min_time)
    df.to_csv(out / "bench_conv.csv", index=False)
    curve = batch_curve(df)
    plot_batch_curve(curve, out / "batch_curve.png")
    text = "\n\n".join(
        [
            "Conv speed (forward+backward, medians; ratio = scratch / torch)",
            summary(df).round(2).to_string(index=False),
            "Time versus batch size (the book's first layer)",
            curve.assign(scratch_ms=curve.scratch_median_s * 1e3, torch_ms=curve.torch_median_s * 1e3)
            .drop(columns=["scratch_median_s", "torch_median_s"])
            .round(3)
            .to_string(index=False),
        ]
    )
    (out / "summary.txt").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
