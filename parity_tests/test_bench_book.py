"""Specification of the book-size and whole-model benchmarks: they run and write their columns.

Benchmarks are not tests: nothing here asserts a time, only that the code runs on small cases,
alternates the twins, fills every documented column and leaves torch's global flags as it found them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from dlfs_parity.cli import main
from parity_tests import bench_book, bench_limits, bench_models, bench_speed
from parity_tests.registry import run_cases, select


def test_time_interleaved_alternates_the_sides_and_restores_torch_threads() -> None:
    calls: list[str] = []
    before = torch.get_num_threads()
    out = bench_limits.time_interleaved(
        {"scratch": lambda: calls.append("s"), "torch": lambda: calls.append("t")}, 1, 0.0, min_blocks=4, warmup=0
    )
    timed = "".join(calls)
    assert set(out) == {"scratch", "torch"} and all(m >= 0 and i >= 0 for m, i in out.values())
    assert "ssss" not in timed and "tttt" not in timed, timed  # never all of one side, then the other
    assert torch.get_num_threads() == before


def test_gemm_peak_is_a_positive_rate() -> None:
    assert 0 < bench_limits.gemm_peak("float64", 1, 2) < 1e5  # GFLOP/s; a CPU core is far below 1e5


def test_flop_formulas_count_the_gemms_of_a_forward_and_backward() -> None:
    n, i, o = 2, 3, 4
    # Y = X W^T, dX = G W, dW = G^T X: three products of n*i*o multiply-adds
    assert bench_limits.dense_flops(n, (i, o)) == 3 * 2 * n * i * o
    assert bench_limits.recurrent_flops(2, 5, 4, 3, 7) == 4 * bench_limits.recurrent_flops(2, 5, 1, 3, 7)
    conv = bench_limits.conv_flops(1, 2, 3, 5, (4, 4))
    assert conv == 3 * 2 * (3 * 4 * 4) * (2 * 5 * 5)  # three GEMMs of (C_out, OH*OW) x (C_in*k*k)


def test_targets_follow_issue_13() -> None:
    assert bench_book.target("mlp", "MLP", "float32") == 1.0
    assert bench_book.target("recurrent", "LSTM", "float32") == 1.5
    assert bench_book.target("recurrent", "LSTM", "float64") == 1.0
    assert bench_book.target("conv", "Conv2d_deep_n60", "float32") == 2.0
    assert np.isnan(bench_book.target("conv", "Conv2d_deep_n60", "float64"))


def test_every_family_has_a_case_and_a_formula() -> None:
    cases = bench_book.book_cases()
    families = {c.family for c in cases}
    assert {"dense", "mlp", "loss", "optimizer", "conv", "pool", "recurrent", "charmodel"} <= families
    assert families <= set(bench_limits.FLOP_FORMULAS)
    assert len({c.name for c in cases}) == len(cases)
    assert {"RNN_n32_l25_62to256", "GRU_n32_l25_62to256", "LSTM_n32_l25_62to256"} <= {c.name for c in cases}


def test_book_bench_writes_every_column_for_small_cases() -> None:
    cases = bench_book.select_cases(["MeanSquaredError", "SGD_step"])
    df = bench_book.run(cases, dtypes=("float32", "float64"), threads=[1], min_time=0.001)
    assert list(df.columns) == bench_book.COLUMNS
    assert len(df) == 2 * len(cases) and (df["note"] == "").all(), df["note"].tolist()
    assert (df[["scratch_median_s", "torch_median_s", "ratio", "peak_gflops", "scratch_gflops"]] > 0).all().all()
    assert set(df["verdict"]) <= {"met", "missed"}  # both families have a target
    assert "|" in bench_speed.speed_markdown(df)


def test_unknown_book_benchmark_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "book", "no_such_family"]) == 2
    assert "no book benchmark matches no_such_family" in capsys.readouterr().err


def test_cli_bench_book_writes_csv(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    argv = ["bench", "book", "MeanSquaredError", "--dtype", "float64", "--threads", "1", "--quick", "--csv", str(path)]
    assert main(argv) == 0
    df = pd.read_csv(path)
    assert list(df.columns) == bench_book.COLUMNS and len(df) == 1


def test_models_bench_quick_times_a_step_and_an_epoch() -> None:
    models = bench_models.select_models(["boston"])
    df = bench_models.run(models, dtypes=("float64",), threads=[1], quick=True, repeats=2)
    assert list(df.columns) == bench_models.COLUMNS
    assert df["what"].tolist() == ["step", "epoch"] and (df["note"] == "").all(), df["note"].tolist()
    assert df["steps"].tolist() == [1, bench_models.QUICK_STEPS]
    assert (df[["scratch_median_s", "torch_median_s"]] > 0).all().all()
    assert df["verdict"].tolist()[0] == "-" and df["verdict"].tolist()[1] in ("met", "missed")


def test_check_restores_torch_deterministic_flag() -> None:
    assert not torch.are_deterministic_algorithms_enabled()
    run_cases(select(["activation_sigmoid"]), dtypes=("float64",))
    assert not torch.are_deterministic_algorithms_enabled()  # later benchmarks run the usual kernels


def test_speed_section_leads_with_the_book_sizes_and_ends_with_the_test_shapes() -> None:
    book = pd.DataFrame([dict.fromkeys(bench_book.COLUMNS, 1.0) | {"case": "LSTM_book", "family": "recurrent"}])
    book = book.assign(dtype="float64", threads=1, verdict="met", noisy=False, flops_formula="6*N*L*G*H*(I+H)")
    models = pd.DataFrame([dict.fromkeys(bench_models.COLUMNS, 1.0) | {"model": "ch4_mnist_mlp", "what": "epoch"}])
    models = models.assign(dtype="float64", threads=1, verdict="met", steps=67)
    shapes = pd.DataFrame([{"case": "lstm_n3_l50", "dtype": "float64", "threads": 1, "phase": "forward_backward"}])
    shapes = shapes.assign(scratch_median_s=1e-3, torch_median_s=1e-3, ratio=1.0)
    text = bench_speed.speed_markdown(book, models, shapes)
    book_at, models_at, appendix_at = text.index("LSTM_book"), text.index("ch4_mnist_mlp"), text.index("lstm_n3_l50")
    assert book_at < models_at < appendix_at and "Appendix" in text[models_at:appendix_at]
    assert "GPU" in text and "6*N*L*G*H*(I+H)" in text


def test_cli_bench_models_writes_csv(tmp_path: Path) -> None:
    path = tmp_path / "models.csv"
    argv = ["bench", "models", "boston", "--dtype", "float64", "--threads", "1", "--quick", "--csv", str(path)]
    assert main(argv) == 0
    df = pd.read_csv(path)
    assert list(df.columns) == bench_models.COLUMNS and df["what"].tolist() == ["step", "epoch"]
