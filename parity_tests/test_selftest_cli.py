"""Specification of the honest self-test and the seed sweep on the command line.

``mutate`` runs the unmutated selection first and refuses to judge mutants against a failing
baseline; a bad seed is a usage error; every mutant gets one of three outcomes, in the table and in
``mutants.csv``; ``check --seeds N`` runs every case over N seeds; pass totals leave sanity rows out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import scratch.activations as sa
from dlfs_parity.cli import main
from parity_tests import mutation
from parity_tests.mutation import MUTANT_COLUMNS, Mutant
from parity_tests.summary import pass_totals, totals_line

pytestmark = pytest.mark.ch3


def _sigmoid_off(self: sa.Sigmoid) -> Any:
    return 1.0 / (1.0 + np.exp(-self.input)) + 1e-3  # a clear forward error


def _raises(self: sa.Sigmoid) -> Any:
    raise RuntimeError("planted crash")


def _mutants() -> tuple[Mutant, ...]:
    return (
        Mutant("sigmoid_off", "forward off", sa.Sigmoid, "_output", _sigmoid_off, ("Sigmoid",)),
        Mutant("sigmoid_crash", "raises", sa.Sigmoid, "_output", _raises, ("Sigmoid",)),
        Mutant("sigmoid_same", "no bug", sa.Sigmoid, "_output", sa.Sigmoid._output, ("Sigmoid",)),
    )


def test_mutate_reports_three_outcomes_and_writes_them_to_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mutation, "all_mutants", _mutants)
    csv = tmp_path / "mutants.csv"
    assert main(["mutate", "--csv", str(csv)]) == 1
    out = capsys.readouterr().out
    assert "1/3 planted bugs caught by the check they declare; 1 crashed, 1 missed" in out
    table = pd.read_csv(csv)
    assert list(table.columns) == list(MUTANT_COLUMNS)
    assert dict(zip(table["mutant"], table["outcome"], strict=True)) == {
        "sigmoid_off": "caught",
        "sigmoid_crash": "crashed",
        "sigmoid_same": "missed",
    }


def test_mutate_refuses_a_failing_baseline(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mutation, "all_mutants", _mutants)
    monkeypatch.setattr(sa.Sigmoid, "_input_grad", lambda self, g: 0.0 * g)  # the unmutated code is now wrong
    assert main(["mutate", "sigmoid_off"]) == 2
    assert "baseline fails: nothing was tested" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["mutate", "sigmoid_off", "--seed", "-5"], ["check", "Sigmoid", "--seed", "-1"]])
def test_a_negative_seed_is_a_usage_error_not_a_failed_row(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mutation, "all_mutants", _mutants)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--seed" in err and "must be an integer in [0," in err


def test_check_seeds_runs_every_case_over_n_seeds_and_leaves_sanity_rows_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "rows.csv"
    assert main(["check", "dense_sigmoid_5x3", "--seed", "3", "--seeds", "2", "--csv", str(csv)]) == 0
    rows = pd.read_csv(csv)
    assert sorted(rows["seed"].unique()) == [3, 4]
    assert set(rows.loc[rows["check"] == "state_dict", "kind"]) == {"sanity"}
    totals = pass_totals(rows)
    assert totals["sanity"] == 2 and totals["checks"] == len(rows) - 2 and totals["case_runs"] == 2
    assert "over 2 seeds" in capsys.readouterr().out
    assert totals_line(rows).endswith("; 2 sanity rows not counted)")
    assert main(["check", "Sigmoid", "--seeds", "0"]) == 2


def test_pytest_seeds_option_makes_every_case_test_run_each_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    from parity_tests import registry

    (case,) = registry.select(["activation_tanh"])
    seen: list[int] = []

    class Recording:
        name, component, stem, chapter = case.name, case.component, case.stem, case.chapter

        def run(self, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> list[dict[str, Any]]:
            seen.append(seed)
            return case.run(dtype, device, seed)

    monkeypatch.setattr(registry, "_suite_seeds", tuple(registry.seed_list(0, 3)))  # what ``--seeds 3`` sets
    registry.assert_case_passes(Recording(), "float64")
    assert seen == [0, 1, 2]
