"""The errata table: every planted bug it names exists and reproduces a bug of the same number."""

from __future__ import annotations

import pytest

from parity_tests.errata import ERRATA, PENDING_MUTANTS, Erratum, errata_markdown
from parity_tests.mutation import all_mutants


def _mutants() -> dict[str, int | None]:
    return {m.name: m.book_bug for m in all_mutants()}


@pytest.mark.parametrize("erratum", ERRATA, ids=[e.title.replace(" ", "_") for e in ERRATA])
def test_every_named_mutant_exists_with_the_errata_number(erratum: Erratum) -> None:
    known = _mutants()
    for name in erratum.mutants:
        if name not in known:
            # the two trainer mutants come from the trainer work; only they may be missing
            assert name in PENDING_MUTANTS, f"{name} is not a planted bug"
            continue
        assert known[name] == erratum.number, f"{name} has book_bug={known[name]}, the erratum says {erratum.number}"


def test_every_book_bug_mutant_has_an_erratum() -> None:
    named = {m for e in ERRATA for m in e.mutants}
    missing = sorted(name for name, bug in _mutants().items() if bug is not None and name not in named)
    assert not missing, f"book-bug mutants without an erratum: {missing}"


def test_errata_cover_the_known_bugs_once_each() -> None:
    assert sorted({e.number for e in ERRATA}) == list(range(1, 13))
    titles = [e.title for e in ERRATA]
    assert len(titles) == len(set(titles))


def test_errata_markdown_is_one_row_per_erratum_in_number_order() -> None:
    table = errata_markdown()
    rows = table.strip().splitlines()
    assert rows[0].startswith("| # | bug |") and len(rows) == 2 + len(ERRATA)
    numbers = [int(r.split("|")[1]) for r in rows[2:]]
    assert numbers == sorted(numbers)
    assert all(r.count("|") == 8 for r in rows)  # no stray pipe splits a cell
    assert "`book_mse_normalize_gradient`" in table
