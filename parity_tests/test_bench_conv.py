"""Specification of the chapter 5 speed summary: verdicts, loop slowdown, noise flags, report section.

Synthetic bench rows stand in for timings, so nothing here depends on the machine's speed
(benchmarks are not tests); only the last test times anything, at the smallest size and budget.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlfs_parity.cli import main
from parity_tests import bench_conv as bc
from parity_tests.bench import COLUMNS, noisy
from reports.build import ReportData, conv_selected
from reports.markdown_speed import speed_section

pytestmark = pytest.mark.ch5


def _row(case: str, dtype: str, threads: int, scratch: float, torch: float, **kw: float) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(COLUMNS, "")
    row |= {"case": case, "dtype": dtype, "threads": threads, "phase": "forward_backward"}
    row |= {"scratch_median_s": scratch, "torch_median_s": torch, "ratio": scratch / torch}
    row |= {"scratch_iqr_s": kw.get("scratch_iqr", scratch / 20), "torch_iqr_s": kw.get("torch_iqr", torch / 20)}
    row["shapes"] = "input(2, 2, 8, 8) weight(4, 2, 3, 3)" if "small" in case else "input(60, 1, 28, 28)"
    return row


def _bench() -> pd.DataFrame:
    """Book shape under target in float32 (0.5x), deep missed in float32 (4x), loops 40x slower."""
    rows = []
    for dtype in ("float32", "float64"):
        rows += [
            _row(bc.BOOK, dtype, 1, 5e-3, 10e-3 if dtype == "float32" else 4e-3),
            _row(bc.DEEP, dtype, 1, 40e-3, 10e-3 if dtype == "float32" else 50e-3),
            _row(bc.VECTORISED, dtype, 1, 2e-4, 4e-4),
            _row(bc.LOOPS, dtype, 1, 8e-3, 4e-4),
            _row("Conv2d_bench_book_n1_1to16_28x28_k5", dtype, 1, 4e-4, 7e-4),
        ]
    return pd.DataFrame(rows, columns=COLUMNS)


def _breakdown() -> pd.DataFrame:
    ms = {"pad": 0.5, "im2col": 3.4, "gemm_forward": 4.5, "forward": 10, "gemm_grad_weight": 8.2}
    ms |= {"gemm_grad_input": 5.4, "col2im": 11.1, "backward": 26, "scratch_forward_backward": 36}
    ms |= {"torch_forward_backward": 9}
    b = pd.DataFrame({"median_s": {k: v * 1e-3 for k, v in ms.items()}, "iqr_s": 1e-5})
    return b.assign(dtype="float32", shape="deep", threads=1)


def test_summary_gives_each_shape_and_dtype_its_ratio_and_verdict_against_1_5() -> None:
    s = bc.summary(_bench()).set_index(["shape", "dtype"])
    assert s.loc[("book", "float32"), "ratio"] == pytest.approx(0.5)
    assert s.loc[("book", "float64"), "verdict"] == "met"  # 1.25 <= 1.5
    assert s.loc[("deep", "float32"), "verdict"] == "missed"  # 4.0 > 1.5
    assert s.loc[("deep", "float64"), "verdict"] == "met"
    assert not s["noisy"].any()
    assert bc.worst_miss(bc.summary(_bench())) == ("deep", "float32", 1)


def test_the_loop_slowdown_is_the_loop_versions_scratch_time_over_the_vectorised_ones() -> None:
    loops = bc.loop_slowdown(_bench())
    assert list(loops["dtype"]) == ["float32", "float64"]
    assert np.allclose(loops["slowdown"], 40.0)


def test_a_summary_row_with_an_iqr_above_its_median_is_marked_noisy() -> None:
    rows = _bench()
    rows.loc[rows["case"] == bc.BOOK, "torch_iqr_s"] = 1.0
    s = bc.summary(rows)
    assert s.loc[s["shape"] == "book", "noisy"].all() and not s.loc[s["shape"] == "deep", "noisy"].any()
    assert [cells[-1] for cells in bc.summary_body(s)] == ["met (noisy)", "met (noisy)", "missed", "met"]


def test_noisy_flags_a_time_far_beyond_what_the_other_thread_count_allows() -> None:
    rows = pd.DataFrame(
        [
            _row("tiny", "float64", 1, 1e-5, 3e-4),  # torch 1 thread: 0.3 ms
            _row("tiny", "float64", 2, 1e-5, 32e-3),  # torch 2 threads: 32 ms, a 0.01x ratio
            _row("gemm", "float64", 1, 10e-3, 10e-3),
            _row("gemm", "float64", 2, 5e-3, 5.5e-3),  # perfect and near-perfect scaling: plausible
            _row("super", "float64", 1, 10e-3, 1e-3),  # scratch 1 thread is 10x its 2-thread time:
            _row("super", "float64", 2, 1e-3, 1e-3),  # more than twice (perfect scaling) x 3
        ]
    )
    assert list(noisy(rows)) == [False, True, False, False, True, False]


def test_summary_text_names_the_target_the_loop_slowdown_and_explains_the_miss_with_the_breakdown() -> None:
    text = bc.summary_text(_bench(), _breakdown())
    assert "<= 1.5" in text and "missed" in text and "40.0x" in text
    assert "col2im" in text and "36 ms" in text and "9 ms" in text
    assert "The GEMMs alone are 2.0x torch's whole step" in text  # (4.5 + 8.2 + 5.4) / 9


def test_a_target_met_at_one_thread_and_missed_at_two_is_explained_by_how_each_twin_scales() -> None:
    two = _bench().assign(threads=2)
    two.loc[two["case"] == bc.BOOK, "torch_median_s"] = 2.5e-3  # torch 4x faster (float32), scratch unchanged
    two["ratio"] = two["scratch_median_s"] / two["torch_median_s"]  # book: 2.0 in both dtypes
    s = bc.summary(pd.concat([_bench(), two], ignore_index=True))
    text = bc.explanation(s, None)
    assert "From 1 to 2 threads, book float32 (scratch 5 ms -> 5 ms, torch 10 ms -> 2.5 ms)" in text
    assert "book float64" in text and "go from meeting the target to missing it" in text
    assert "Where the time goes" not in text  # no breakdown given


def test_the_report_speed_section_shows_the_conv_target_loop_slowdown_explanation_and_curve() -> None:
    data = ReportData(rows=pd.DataFrame(), conv=_bench(), conv_breakdown=_breakdown())
    data.plots = {"Convolution: time against batch size": "conv_batch_curve.png"}
    md = "\n".join(speed_section(data))
    assert "### Convolution speed (chapter 5 target)" in md
    assert "3/4 rows meet it" in md
    assert "| deep (batch 60, 16->32, 14x14, 5x5) | float32 | 1 | 40 ms | 10 ms | 4.00x | missed |" in md
    assert "vectorised `conv2d` at input(2, 2, 8, 8) weight(4, 2, 3, 3): 40x slower." in md
    assert "col2im" in md and "![conv time against batch size](conv_batch_curve.png)" in md


def test_the_report_speed_table_marks_noisy_rows_instead_of_printing_a_bare_ratio() -> None:
    phases = ("forward", "backward", "forward_backward")
    rows = [_row("tiny", "float64", n, 1e-5, t) | {"phase": p} for n, t in ((1, 3e-4), (2, 32e-3)) for p in phases]
    md = "\n".join(speed_section(ReportData(rows=pd.DataFrame(), bench=pd.DataFrame(rows, columns=COLUMNS))))
    assert "1/2 rows noisy." in md and "| noisy (0.00x) |" in md and "shared machine" in md
    assert "dlfs-parity bench" in md


def test_the_batch_curve_needs_two_batch_sizes(tmp_path: Path) -> None:
    curve = bc.batch_curve(_bench())
    assert sorted(curve["batch"].unique()) == [1, 60]
    assert bc.plot_batch_curve(curve, tmp_path / "curve.png") == tmp_path / "curve.png"
    assert bc.plot_batch_curve(curve[curve["batch"] == 60], tmp_path / "none.png") is None


def test_bench_of_the_conv_shapes_prints_the_chapter_5_summary_and_writes_the_curve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = [bc.BOOK, "Conv2d_bench_book_n1_1to16_28x28_k5", bc.VECTORISED, bc.LOOPS]
    path = tmp_path / "conv.csv"
    assert main(["bench", *names, "--threads", "1", "--min-time", "0.001", "--csv", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Chapter 5 target" in out and "book (batch 60" in out and "slowdown" in out
    assert (tmp_path / "conv_batch_curve.png").stat().st_size > 0


def test_a_quick_report_of_conv_runs_the_chapter_5_target_and_writes_its_curve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bc, "run", lambda **kw: _bench())  # the timings themselves are not under test
    monkeypatch.setattr(bc, "breakdown", lambda *args, **kw: _breakdown())
    out = tmp_path / "report"
    argv = ["report", "--out", str(out), "--quick", "--only", "Conv2d", "--no-mutants", "--no-experiments"]
    assert main(argv) == 0
    text = (out / "REPORT.md").read_text()
    assert "### Convolution speed (chapter 5 target)" in text and "missed" in text
    assert {"bench_conv.csv", "conv_batch_curve.png"} <= {p.name for p in out.iterdir()}
    assert "Convolution speed" in (out / "report.html").read_text()  # the full report, as a page of the site


def test_the_report_runs_the_conv_target_only_when_its_names_select_a_conv_bench_shape() -> None:
    assert conv_selected(None) and conv_selected(["conv"]) and conv_selected(["ch5"])
    assert conv_selected(["Dense", "Conv2d"]) and not conv_selected(["Dense", "Sigmoid"])
