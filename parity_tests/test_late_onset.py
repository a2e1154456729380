"""The late-onset planted bugs (``mutants/late_onset.py``): the lockstep check catches each one, the
free-running check alone misses it. Both verdicts, side by side, are the proof that lockstep earns
its cost."""

from __future__ import annotations

from unittest import mock

import pytest

from parity_tests.mutants.late_onset import MUTANTS
from parity_tests.mutation import Mutant
from parity_tests.registry import select

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_lockstep_catches_and_free_running_misses(mutant: Mutant) -> None:
    cases = select(list(mutant.components))
    assert cases, mutant.components
    with mock.patch.object(mutant.target, mutant.attribute, mutant.replacement):
        rows = [r for case in cases for r in case.run("float64", "cpu", 0)]
    lockstep = sorted({r["target"] for r in rows if r["check"] == "lockstep" and not r["passed"]})
    free = sorted({r["target"] for r in rows if r["check"] == "trajectory" and not r["passed"]})
    assert lockstep, f"{mutant.name}: no lockstep row failed"
    assert not free, f"{mutant.name}: the free-running rows caught it too ({free}): not a late-onset proof"


def test_a_late_subtle_error_fails_every_full_boston_run_and_train_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 9's bar: a 1e-9 gradient error from step 300 fails every full-length run that reaches it."""
    from dlfs_parity.cli import main

    (mutant,) = [m for m in MUTANTS if m.name == "late_gradient_trainer"]
    with mock.patch.object(mutant.target, mutant.attribute, mutant.replacement):
        code = main(["train", "boston", "--seeds", "0", "--no-early-stopping"])
    out = capsys.readouterr().out
    assert code == 1
    for model in ("linear", "sigmoid_13", "sigmoid_13_13"):
        assert f"boston_{model}_book_protocol" in out
    failing = [line for line in out.splitlines() if "_book_protocol" in line and "float64" in line and "FAIL" in line]
    assert len(failing) == 3, out  # every float64 run fails (float32's tolerance cannot see 1e-9)
