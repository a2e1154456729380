"""Self-test: every planted bug is caught by the check family it declares, and only that counts.

One test per mutant, over the whole catalogue (``parity_tests/mutants/``): gross ones, the book's
own bugs, the subtle 1e-7 ones (operator checks) and the 1e-6 gradient errors that the
finite-difference oracle must catch by itself. A crash, or a failure of another check family, is
not a catch.
"""

from __future__ import annotations

import pytest

from parity_tests.mutation import Mutant, all_mutants, run_mutant
from parity_tests.opcase import OpCase
from parity_tests.registry import Case, select


def _chapter(mutant: Mutant) -> int:
    return min(c.chapter for c in select(list(mutant.components)))


def _cheap_first(case: Case) -> float:
    return float(not isinstance(case, OpCase))


PARAMS = [pytest.param(m, id=m.name, marks=getattr(pytest.mark, f"ch{_chapter(m)}")) for m in all_mutants()]


@pytest.mark.parametrize("mutant", PARAMS)
def test_mutant_is_caught_by_the_check_it_declares(mutant: Mutant) -> None:
    result = run_mutant(mutant, first_catch=True, order=_cheap_first)
    assert result.outcome == "caught", (
        f"{mutant.name} ({mutant.expect}): {result.outcome}, {result.failing_rows} failing {mutant.expect} rows "
        f"of {result.total_rows}; {result.evidence}"
    )


def test_every_family_has_a_subtle_operator_mutant_and_an_oracle_mutant() -> None:
    from parity_tests.mutants import subtle

    stems = {c.stem for m in subtle.MUTANTS if m.expect == "operator" for c in select(list(m.components))}
    oracle_stems = {c.stem for m in subtle.MUTANTS if m.expect == "oracle" for c in select(list(m.components))}
    derivative_free = {"init", "optimizers"}  # no gradient for an oracle to check
    families = {"functions", "regression", "operations", "layers", "activations", "losses", "init", "optimizers"}
    families |= {"conv", "pooling", "rnn", "charlm", "autodiff", "autoencoder"}
    assert families <= stems, f"no subtle operator mutant for {sorted(families - stems)}"
    assert families - derivative_free <= oracle_stems, (
        f"no oracle mutant for {sorted(families - derivative_free - oracle_stems)}"
    )
