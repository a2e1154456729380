"""Specification: every bad command-line option is a one-line usage error (exit 2), found at parse time.

Each case runs ``cli.main(argv)`` in-process with the commands' work (checking, benchmarking,
training, showing) replaced by a function that fails the test: the option must be refused before
any of it starts. The message must be a single line on stderr naming the option, with no traceback;
stdout stays empty.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import dlfs_parity.cli as cli
import parity_tests.bench as bench
import parity_tests.show as show
from parity_tests.experiments import all_experiments
from parity_tests.options import SEED_MAX, available_device, positive_float, seed

pytestmark = pytest.mark.ch3

SHORT_TEXT = "abcdefghijklmnopqrstuvwxyz0123"  # 30 characters: enough for one window, not a batch of 32

#: (argv, words the one-line message must contain: the option and what is wrong).
CASES: list[tuple[list[str], list[str]]] = [
    (["bench", "--threads", "0"], ["--threads", "positive integer", "0"]),
    (["bench", "--threads", "1", "-2"], ["--threads", "positive integer", "-2"]),
    (["bench", "--min-time", "nan"], ["--min-time", "finite number > 0", "nan"]),
    (["bench", "--min-time", "inf"], ["--min-time", "finite number > 0", "inf"]),
    (["bench", "--min-time", "-1"], ["--min-time", "finite number > 0", "-1"]),
    (["bench", "--min-time", "fast"], ["--min-time", "must be a number", "'fast'"]),
    (["check", "Dense", "--seed", "-5"], ["--seed", f"[0, {SEED_MAX}]", "-5"]),
    (["check", "Dense", "--seed", "1.5"], ["--seed", "must be an integer", "'1.5'"]),
    (["mutate", "--seed", "-1"], ["--seed", "-1"]),
    (["show", "Dense", "--width", "-5"], ["--width", ">= 20", "-5"]),
    (["show", "Dense", "--width", "0"], ["--width", ">= 20", "0"]),
    (["train", "boston", "--epochs", "0"], ["--epochs", "positive integer", "0"]),
    (["train", "boston", "--seeds", "-3"], ["--seeds", ">= 0", "-3"]),
    (["train", "boston", "--seed", "-1"], ["--seed", "-1"]),
    (["train", "mnist", "--epochs", "-1"], ["--epochs", ">= 2", "-1"]),
    (["train", "mnist", "--epochs", "0"], ["--epochs", ">= 2", "0"]),
    (["train", "mnist", "--epochs", "1"], ["--epochs", ">= 2", "learning-rate decay", "1"]),
    (["train", "chapter2", "--batch-size", "0"], ["--batch-size", "positive integer", "0"]),
    (["train", "chapter2", "--learning-rate", "-1"], ["--learning-rate", "finite number > 0", "-1"]),
    (["train", "chapter2", "--device", "nosuch"], ["--device", "unknown device", "'nosuch'"]),
    (["train", "chapter2", "--quick", "--linear-iterations", "5"], ["--linear-iterations 5", "at least 10"]),
    (["train", "chapter7", "--epochs", "0"], ["--epochs", "positive integer"]),
    (["train", "charlm", "--lr", "-1"], ["--lr", "finite number > 0", "-1"]),
    (["train", "charlm", "--lr", "nan"], ["--lr", "finite number > 0", "nan"]),
    (["train", "charlm", "--batch-size", "0"], ["--batch-size", "positive integer"]),
    (["train", "charlm", "--text", "{short}"], ["--batch-size 32", "30 characters", "at least 57"]),
    (["train", "charlm", "--text", "{short}", "--batch-size", "6"], ["--batch-size 6", "at least 31"]),
    (["train", "charlm", "--text", "/nonexistent.txt"], ["--text", "does not exist"]),
    (["train", "cnn", "--data-dir", "/nonexistent"], ["--data-dir", "'/nonexistent' does not exist"]),
    (["train", "cnn", "--data-dir", "{file}"], ["--data-dir", "is a file, not a folder"]),
    (["train", "cnn", "--quick", "--data-dir", "{folder}"], ["--data-dir", "not used with --quick"]),
    (["train", "mnist", "--data-dir", "{file}"], ["--data-dir", "is a file, not a folder"]),
    (["train", "autoencoder", "--data-dir", "/nonexistent"], ["--data-dir", "does not exist"]),
    (["train", "autoencoder", "--epochs", "0"], ["--epochs", "positive integer"]),
    (["train", "autoencoder", "--quick", "--data-dir", "{folder}"], ["--data-dir", "not used with --quick"]),
]
if not torch.cuda.is_available():
    CASES.append((["train", "chapter2", "--device", "cuda"], ["--device", "'cuda' is not available here"]))


def _no_work(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a bad option must stop the command before any work starts")


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command's work fails the test: the options must be refused while parsing."""
    monkeypatch.setattr(cli, "run_all", _no_work)
    monkeypatch.setattr(cli, "run_mutants", _no_work)
    monkeypatch.setattr(bench, "run_bench", _no_work)
    monkeypatch.setattr(show, "show", _no_work)
    for exp in all_experiments().values():
        monkeypatch.setattr(importlib.import_module(exp.run.__module__), "run", _no_work)


@pytest.mark.parametrize(("argv", "words"), CASES, ids=[" ".join(argv) for argv, _ in CASES])
def test_a_bad_option_is_one_line_naming_it_and_exit_2(
    argv: list[str], words: list[str], no_work: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short = tmp_path / "short.txt"
    short.write_text(SHORT_TEXT, encoding="utf-8")
    a_file = tmp_path / "mnist.npz"
    a_file.write_bytes(b"not a folder")
    places = {"{short}": str(short), "{file}": str(a_file), "{folder}": str(tmp_path)}
    assert cli.main([places.get(a, a) for a in argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"dlfs-parity {argv[0]}")
    assert all(w in lines[0] for w in words), lines[0]


def test_good_values_pass_the_option_types() -> None:
    assert seed("0") == 0 and seed(str(SEED_MAX)) == SEED_MAX
    assert positive_float("1e-3") == 1e-3
    assert available_device("cpu") == "cpu"
    with pytest.raises(argparse.ArgumentTypeError, match="must be an integer in"):
        seed(str(SEED_MAX + 1))


def test_mutate_counts_numpy_warnings_instead_of_printing_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def planted_bug_run(*args: Any, **kwargs: Any) -> list[Any]:
        np.log(np.zeros(2))  # what a planted bug does: divide by zero, a RuntimeWarning
        np.exp(np.array([1000.0]))  # overflow, another
        return []

    monkeypatch.setattr(cli, "run_mutants", planted_bug_run)
    assert cli.main(["mutate", "Dense"]) == 0
    out, err = capsys.readouterr()
    assert "RuntimeWarning" not in err and "divide by zero" not in err
    assert "2 numpy RuntimeWarnings from the planted bugs were silenced" in out
