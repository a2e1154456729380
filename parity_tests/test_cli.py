"""Specification of the ``dlfs-parity`` command line: output, files and exit codes.

The commands run in-process through ``cli.main(argv)`` on the chapter 3 components (Dense,
Sigmoid), which are small and fast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import parity_tests.experiments as experiments
import parity_tests.mutation as mutation
import parity_tests.train as train
import scratch.activations as sa
from dlfs_parity.cli import main, select_mutants
from parity_tests.bench import COLUMNS
from parity_tests.experiments import Experiment, ExperimentResult
from parity_tests.mutation import Mutant
from parity_tests.registry import select
from reports import plots
from reports.build import ReportError, prepare_folder

pytestmark = pytest.mark.ch3


def _sigmoid_without_exp(self: sa.Sigmoid) -> np.ndarray:
    return 0.5 + self.input / 4  # first-order Taylor: right at 0 only


def test_list_names_components_chapters_and_twin_paths(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if "layers.Dense" in row)
    assert "ch3" in line and "scratch/layers.py" in line and "torch_ref/layers.py" in line


def test_check_one_component_passes_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "Dense"]) == 0
    out = capsys.readouterr().out
    assert "dense_sigmoid_13x13" in out and "PASS" in out and "FAIL" not in out


def test_check_float32_uses_float32_tolerances(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "layers.Dense", "--dtype", "float32"]) == 0
    rows = [r for r in capsys.readouterr().out.splitlines() if "dense_" in r]
    assert rows and all("float32" in r and "PASS" in r for r in rows)


def test_check_exits_1_and_shows_the_failure_when_a_twin_is_wrong(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sa.Sigmoid, "_output", _sigmoid_without_exp)
    assert main(["check", "Sigmoid"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "Failing checks" in out and "forward[output]" in out


def test_check_reports_a_case_that_raises_as_a_failure_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: sa.Sigmoid) -> np.ndarray:
        raise ValueError("planted crash")

    monkeypatch.setattr(sa.Sigmoid, "_output", broken)
    assert main(["check", "Sigmoid", "Dense"]) == 1
    out = capsys.readouterr().out
    assert "raised ValueError: planted crash" in out
    assert "activation_sigmoid" in out and "dense_linear_13x1" in out  # the others still ran


def test_check_unknown_component_exits_2_with_a_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "Dense", "NoSuchLayer"]) == 2
    captured = capsys.readouterr()
    assert "unknown component" in captured.err and "NoSuchLayer" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_an_unknown_dtype_is_a_usage_error_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "Dense", "--dtype", "float16"]) == 2
    assert "invalid choice: 'float16'" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message for a machine without a GPU")
def test_check_on_cuda_without_a_gpu_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "Dense", "--device", "cuda"]) == 2
    assert "cuda" in capsys.readouterr().err


def test_check_csv_holds_every_result_row(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    assert main(["check", "Sigmoid", "--dtype", "all", "--csv", str(path)]) == 0
    rows = pd.read_csv(path)
    assert set(rows["dtype"]) == {"float64", "float32"}
    assert {"component", "check", "budget_used", "worst_index", "passed"} <= set(rows.columns)
    assert rows["passed"].all()


def _mutant(name: str, replacement: object) -> Mutant:
    return Mutant(name, "test mutant", sa.Sigmoid, "_output", replacement, ("Sigmoid",))


def test_mutate_exits_0_only_when_every_mutant_is_caught(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    caught = _mutant("sigmoid_taylor", _sigmoid_without_exp)
    monkeypatch.setattr(mutation, "all_mutants", lambda: (caught,))
    assert main(["mutate"]) == 0
    assert "caught" in capsys.readouterr().out

    harmless = _mutant("sigmoid_unchanged", sa.Sigmoid._output)  # no bug planted: must be missed
    monkeypatch.setattr(mutation, "all_mutants", lambda: (caught, harmless))
    assert main(["mutate"]) == 1
    out = capsys.readouterr().out
    assert "MISSED" in out and "sigmoid_unchanged" in out
    assert main(["mutate", "--quick"]) == 1  # stopping at the first catch keeps the verdicts


def test_mutate_names_select_like_check_names_by_chapter_stem_component_or_mutant_name() -> None:
    def cases_of(m: Mutant) -> set[str]:
        return {c.name for c in select(list(m.components))}

    ch6 = {c.name for c in select(["ch6"])}
    by_chapter = select_mutants(["ch6"])
    assert by_chapter and all(cases_of(m) & ch6 for m in by_chapter)
    rnn = {c.name for c in select(["rnn"])}
    by_stem = select_mutants(["rnn"])
    assert by_stem and all(cases_of(m) & rnn for m in by_stem)
    assert {m.name for m in by_stem} < {m.name for m in by_chapter}  # the RNN stem is part of chapter 6
    assert [m.name for m in select_mutants(["relu_mask_always_open"])] == ["relu_mask_always_open"]


def test_mutate_an_unknown_name_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mutate", "ch6", "no_such_thing"]) == 2
    err = capsys.readouterr().err
    assert "no_such_thing" in err and "mutants:" in err and "Traceback" not in err


def test_show_prints_both_twins_with_paths_chapter_and_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "Dense", "--width", "160"]) == 0
    out = capsys.readouterr().out
    assert "scratch/layers.py" in out and "torch_ref/layers.py" in out
    assert "chapter 3" in out and "class Dense" in out and "PASS" in out
    assert max(len(line) for line in out.splitlines()) <= 160


def test_show_names_the_torch_builtin_behind_an_alias(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "Sigmoid", "--no-figures", "--width", "120"]) == 0
    out = capsys.readouterr().out
    assert "Sigmoid = nn.Sigmoid" in out and "torch.nn.Sigmoid" in out


def test_bench_writes_csv_with_both_twins_timings_and_ratio(tmp_path: Path) -> None:
    path = tmp_path / "bench.csv"
    assert main(["bench", "activation_sigmoid", "--threads", "1", "--min-time", "0.001", "--csv", str(path)]) == 0
    df = pd.read_csv(path)
    assert list(df.columns) == COLUMNS
    assert sorted(df["phase"]) == ["backward", "forward", "forward_backward"]
    assert (df["scratch_median_s"] > 0).all() and (df["torch_median_s"] > 0).all()
    assert np.allclose(df["ratio"], df["scratch_median_s"] / df["torch_median_s"])


def test_bench_dtype_all_times_both_dtypes_and_only_conv_shapes_add_the_chapter_5_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bench.csv"
    argv = ["bench", "activation_sigmoid", "--dtype", "all", "--threads", "1", "--min-time", "0.001"]
    assert main([*argv, "--csv", str(path)]) == 0
    assert set(pd.read_csv(path)["dtype"]) == {"float64", "float32"}
    assert "Chapter 5 target" not in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["bench.csv"]


def _fake_experiment(passed: bool) -> Experiment:
    """A stand-in experiment: the CLI and report must work off the interface alone."""

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--epochs", type=int, default=3)

    def run(args: argparse.Namespace) -> ExperimentResult:
        steps = 2 if args.quick else args.epochs
        row = {"component": "Fake", "stem": "fake", "chapter": 3, "case": "fake_run", "dtype": "float64"}
        row |= {"device": "cpu", "check": "trajectory", "target": "loss", "budget_used": 0.5 if passed else 3.0}
        row |= {"passed": passed, "worst_index": "(0,)", "scratch_value": 1.0, "torch_value": 1.0}
        table = pd.DataFrame({"model": ["fake"], "steps": [steps], "book MAE": [3.52]})
        curves = {"fake": {"scratch": [3.0, 2.0, 1.0], "torch": [3.0, 2.0, 1.0 + 1e-12]}}
        return ExperimentResult("fake", table, curves, [row], "a note")

    return Experiment("fake", 3, "a stand-in experiment", add_arguments, run)


def test_train_runs_an_experiment_with_its_own_options(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train, "all_experiments", lambda: {"fake": _fake_experiment(True)})
    assert main(["train", "fake", "--epochs", "7"]) == 0
    out = capsys.readouterr().out
    assert "fake" in out and "7" in out and "PASS" in out
    monkeypatch.setattr(train, "all_experiments", lambda: {"fake": _fake_experiment(False)})
    assert main(["train", "fake", "--quick"]) == 1


def test_train_unknown_experiment_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "no_such_experiment"]) == 2
    assert "unknown experiment" in capsys.readouterr().err


def test_report_quick_writes_markdown_rows_and_plots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(experiments, "all_experiments", lambda: {"fake": _fake_experiment(True)})
    out = tmp_path / "report"
    argv = ["report", "--out", str(out), "--quick", "--only", "Dense", "Sigmoid", "--no-mutants"]
    assert main(argv) == 0
    names = {p.name for p in out.iterdir()}
    assert {"REPORT.md", "index.html", "rows.csv", "rows.json", "bench.csv", "budget_heatmap.png", "speed.png"} <= names
    assert "curves_fake.png" in names
    text = (out / "REPORT.md").read_text()
    assert "layers.Dense" in text and "activations.Sigmoid" in text and "### fake" in text
    assert "<table>" in (out / "index.html").read_text()
    page = (out / "components" / "layers.Dense.html").read_text()
    assert "scratch/layers.py" in page and "torch_ref/layers.py" in page
    rows = pd.read_csv(out / "rows.csv")
    assert {"case", "experiment:fake"} == set(rows["source"])
    assert set(rows["dtype"]) >= {"float64", "float32"}
    assert len(json.loads((out / "rows.json").read_text())) == len(rows)


def test_report_into_an_unwritable_folder_names_the_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    target = blocker / "report"
    with pytest.raises(ReportError, match="a_file/report"):
        prepare_folder(target)
    assert main(["report", "--out", str(target), "--quick", "--only", "Sigmoid"]) == 2
    assert str(target) in capsys.readouterr().err


def test_report_with_an_unknown_only_name_exits_2_and_creates_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    assert main(["report", "--out", str(out), "--quick", "--only", "NoSuchLayer"]) == 2
    assert "NoSuchLayer" in capsys.readouterr().err
    assert not out.exists()


def test_report_into_an_existing_file_says_it_is_not_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.txt"
    target.write_text("a file")
    assert main(["report", "--out", str(target), "--quick", "--only", "Sigmoid"]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert target.read_text() == "a file"


def test_report_of_a_broken_twin_says_fail_and_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sa.Sigmoid, "_output", _sigmoid_without_exp)
    out = tmp_path / "report"
    argv = [
        "report",
        "--out",
        str(out),
        "--quick",
        "--only",
        "Sigmoid",
        "--no-mutants",
        "--no-experiments",
        "--no-bench",
    ]
    assert main(argv) == 1
    text = (out / "REPORT.md").read_text()
    assert "**FAIL**" in text and "## Failing checks" in text and "activation_sigmoid" in text


def test_report_only_a_training_run_and_a_component_benches_the_operator_cases(tmp_path: Path) -> None:
    out = tmp_path / "report"
    argv = ["report", "--out", str(out), "--quick", "--only", "boston_linear", "Sigmoid", "--no-mutants"]
    assert main([*argv, "--no-experiments"]) == 0
    assert set(pd.read_csv(out / "bench.csv")["case"]) == {"activation_sigmoid"}
    assert set(pd.read_csv(out / "rows.csv")["case"]) == {"activation_sigmoid", "boston_linear"}


def test_scaling_plot_draws_shapes_benched_at_three_batch_sizes(tmp_path: Path) -> None:
    def row(n: int, channels: int) -> dict[str, object]:
        shapes = f"input({n}, {channels}, 28, 28)"
        return {"component": "Conv2d", "shapes": shapes, "phase": "forward_backward", "threads": 1}

    timing = {"scratch_median_s": 1e-3, "torch_median_s": 5e-4}
    two_sizes = pd.DataFrame([row(n, 1) | timing for n in (1, 8)] + [row(60, 16) | timing])
    assert plots.scaling(two_sizes, tmp_path / "none.png") is None  # (60, 16, ...) is another shape
    three_sizes = pd.DataFrame([row(n, 1) | timing for n in (1, 8, 60)])
    assert plots.scaling(three_sizes, tmp_path / "scaling.png") == tmp_path / "scaling.png"
    assert (tmp_path / "scaling.png").stat().st_size > 0
