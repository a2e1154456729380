"""The ``## Speed`` section of ``REPORT.md``: the bench table, its plots and the chapter 5 conv target."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from parity_tests.textui import fmt_ratio, fmt_seconds, markdown_table

if TYPE_CHECKING:
    from reports.build import ReportData


def speed_section(data: ReportData) -> list[str]:
    """The ``## Speed`` section: the bench table with noisy rows marked, its plots, the conv target."""
    from parity_tests.bench import NOISE_FACTOR, noisy

    b = data.bench
    if b.empty and data.conv.empty:
        return []
    out = [
        "## Speed",
        "",
        "Medians of repeated runs (IQR in bench.csv); ratio = scratch / torch, > 1: NumPy slower. Speed is",
        "measured on a shared machine: other processes' load lands in some timings. A row is marked *noisy*",
        f"when a side's IQR exceeds its median or its median is over {NOISE_FACTOR:g}x what the other thread",
        "count allows (the same time with more threads, n'/n times slower with n < n' threads): a load",
        "artefact, not the code. The plots leave noisy rows out; rerun `dlfs-parity bench NAMES` to time them.",
        "",
    ]
    if not b.empty:
        out += _speed_table(b.assign(noisy=noisy(b)))
    if "Speed: scratch / torch" in data.plots:
        out += [f"![speed]({data.plots['Speed: scratch / torch']})", ""]
    if "Speed against batch size" in data.plots:
        out += [f"![speed against batch size]({data.plots['Speed against batch size']})", ""]
    return out + _conv_speed(data)


def _speed_table(b: pd.DataFrame) -> list[str]:
    """One row per case x thread count; a noisy row's ratios are marked so, not printed bare."""
    body = []
    flagged = 0
    for (case, threads), g in b.groupby(["case", "threads"], sort=False):
        by = g.set_index("phase")
        fb = by.loc["forward_backward"]
        is_noisy = bool(g["noisy"].any())
        flagged += is_noisy
        ratios = [fmt_ratio(by.loc[p, "ratio"]) for p in ("forward", "backward", "forward_backward")]
        body.append(
            [
                case,
                fb["shapes"],
                threads,
                fmt_seconds(fb.at["scratch_median_s"]),
                fmt_seconds(fb.at["torch_median_s"]),
                *(f"noisy ({r})" if is_noisy else r for r in ratios),
            ]
        )
    head = ["case", "shapes", "threads", "scratch fwd+bwd", "torch fwd+bwd", "ratio fwd", "ratio bwd", "ratio fwd+bwd"]
    return [f"{flagged}/{len(body)} rows noisy.", "", markdown_table(head, body), ""]


def _conv_speed(data: ReportData) -> list[str]:
    """The chapter 5 target: book and deep shapes in both dtypes, the loop slowdown, the miss explained."""
    from parity_tests import bench_conv as bc

    if data.conv.empty or not bc.has_summary(data.conv):
        return []
    s = bc.summary(data.conv)
    met = int((s["verdict"] == "met").sum())
    out = [
        "### Convolution speed (chapter 5 target)",
        "",
        "Forward+backward of the vectorised scratch `Conv2d` (im2col + batched GEMM, `scratch/conv.py`)",
        "against `nn.Conv2d` on the CPU, both pinned to the same thread count, at the book's first layer",
        f"and a deeper one. Target: scratch / torch <= {bc.TARGET}; {met}/{len(s)} rows meet it"
        f" (`dlfs-parity bench conv --dtype all` reruns it; rows in `bench_conv.csv`).",
        "",
        markdown_table(bc.SUMMARY_HEADERS, bc.summary_body(s)),
        "",
    ]
    loops = bc.loop_slowdown(data.conv)
    if not loops.empty:
        small = data.conv.loc[data.conv["case"] == bc.VECTORISED, "shapes"].iloc[0]
        low, high = f"{loops['slowdown'].min():.0f}x", f"{loops['slowdown'].max():.0f}x"
        out += [
            f"The loop version (`conv2d_loops`, the book's form) against the vectorised `conv2d` at {small}:"
            f" {low if low == high else f'{low} to {high}'} slower.",
            "",
            markdown_table(bc.LOOP_HEADERS, bc.loop_body(loops)),
            "",
        ]
    b = data.conv_breakdown
    out += [bc.explanation(s, b), ""]
    if b is not None and not b.empty:
        out += [markdown_table(bc.BREAKDOWN_HEADERS, bc.breakdown_body(b)), ""]
    if "Convolution: time against batch size" in data.plots:
        out += [f"![conv time against batch size]({data.plots['Convolution: time against batch size']})", ""]
    return out
