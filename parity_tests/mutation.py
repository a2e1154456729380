"""Self-test: planted bugs (mutants) applied to the scratch twin one at a time.

Each module in ``parity_tests/mutants/`` defines ``MUTANTS``. A mutant replaces one attribute
(a method or function) of the scratch twin for the duration of its run, through
``unittest.mock.patch.object``; the cases of the components it names then run in float64, and the
mutant counts as caught when any row fails (or a case raises). The book's own bugs are among them,
marked with their number in the errata (``parity_tests/errata.py``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from unittest import mock

import parity_tests.mutants
from parity_tests.registry import Case, select


@dataclass(frozen=True)
class Mutant:
    """One planted bug.

    Args:
        name: short id, e.g. ``relu_mask_always_open``.
        description: what the bug does, in a sentence.
        target: the scratch class or module that holds the attribute.
        attribute: the attribute to replace.
        replacement: the buggy version.
        components: registry selectors (see ``registry.select``) whose cases must catch it.
        book_bug: the bug's number in the errata (``parity_tests/errata.py``) when it is one of the book's own.
    """

    name: str
    description: str
    target: Any
    attribute: str
    replacement: Any
    components: tuple[str, ...]
    book_bug: int | None = None


@dataclass(frozen=True)
class MutantResult:
    name: str
    description: str
    book_bug: int | None
    caught: bool
    failing_rows: int
    total_rows: int
    evidence: str
    crashed: int = 0  # cases that raised under the mutant (counted in failing_rows too)

    @property
    def caught_by_a_check(self) -> bool:
        """At least one check row failed: caught by the harness, not only by a crash."""
        return self.failing_rows > self.crashed


@lru_cache(maxsize=1)
def all_mutants() -> tuple[Mutant, ...]:
    mutants: list[Mutant] = []
    for info in sorted(pkgutil.iter_modules(parity_tests.mutants.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"parity_tests.mutants.{info.name}")
        mutants.extend(getattr(module, "MUTANTS", []))
    return tuple(mutants)


def run_mutant(
    mutant: Mutant,
    seed: int = 0,
    *,
    first_catch: bool = False,
    order: Callable[[Case], float] | None = None,
) -> MutantResult:
    """Apply ``mutant``, run its components' cases in float64, and say whether anything failed.

    ``first_catch`` stops at the first case with a failing row (the verdict is the same; the row
    counts then cover only the cases run), trying the cases in ``order`` (cheapest first, say).
    """
    cases: list[Case] = select(list(mutant.components))
    if order is not None:
        cases.sort(key=order)
    failing, total, crashed, evidence = 0, 0, 0, ""
    with mock.patch.object(mutant.target, mutant.attribute, mutant.replacement):
        for case in cases:
            try:
                rows = case.run(dtype="float64", device="cpu", seed=seed)
            except Exception as exc:  # a crash under the mutant is a catch too
                failing += 1
                total += 1
                crashed += 1
                evidence = evidence or f"{case.name}: raised {type(exc).__name__}: {exc}"
                rows = []
            total += len(rows)
            for r in rows:
                if not r["passed"]:
                    failing += 1
                    evidence = evidence or (f"{r['case']} {r['check']}[{r['target']}] budget {r['budget_used']:.3g}")
            if first_catch and failing:
                break
    return MutantResult(
        mutant.name, mutant.description, mutant.book_bug, failing > 0, failing, total, evidence, crashed
    )
