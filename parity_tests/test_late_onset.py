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
