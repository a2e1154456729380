"""Self-test: planted bugs (mutants) applied to the scratch twin one at a time.

Each module in ``parity_tests/mutants/`` defines ``MUTANTS``. A mutant replaces one attribute
(a method or function) of the scratch twin for the duration of its run, through
``unittest.mock.patch.object``; the cases of the components it names then run in float64.

Every mutant declares the check that must catch it (``Mutant.expect``), and its verdict is one
of three outcomes:

- ``caught``: a row of the declared check family failed (see ``check_family``);
- ``crashed``: no such row failed, but a case raised under the mutant (a crash proves nothing
  about the checks: it is not a catch);
- ``missed``: neither (rows of other families may have failed; the evidence says so).

A verdict means something only when the unmutated selection passes: ``baseline_failures`` runs
it first, and the CLI refuses to test mutants against a failing baseline. The book's own bugs
are among the mutants, each marked with its number in the project's list of the book's bugs.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from unittest import mock

import parity_tests.mutants
from parity_tests.harness import SANITY_CHECKS
from parity_tests.registry import Case, select

#: The check families a mutant may declare, and what their rows are.
EXPECTS: dict[str, str] = {
    "operator": "twin comparison of one operator: forward, grad_<name>, value rows, optimizer step_<k> rows, "
    "init statistics",
    "oracle": "the finite-difference oracle (check finite_difference), which knows nothing of torch",
    "lockstep": "lockstep training parity (check lockstep): every step from a shared state",
    "trajectory": "free-running training parity (check trajectory)",
}

#: Outcomes, in the order the CLI and ``mutants.csv`` count them.
OUTCOMES = ("caught", "crashed", "missed")


def check_family(check: str) -> str:
    """The family of a row's ``check``: one of ``EXPECTS``, ``sanity`` or ``error``."""
    if check == "finite_difference":
        return "oracle"
    if check in ("lockstep", "trajectory"):
        return check
    if check in SANITY_CHECKS:
        return "sanity"
    if check == "error":
        return "error"
    return "operator"


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
        book_bug: the bug's number in the project's list of the book's bugs, when it is one.
        expect: the check family that must catch it, a key of ``EXPECTS``.
    """

    name: str
    description: str
    target: Any
    attribute: str
    replacement: Any
    components: tuple[str, ...]
    book_bug: int | None = None
    expect: str = "operator"

    def __post_init__(self) -> None:
        if self.expect not in EXPECTS:
            raise ValueError(f"mutant {self.name!r}: expect must be one of {sorted(EXPECTS)}, not {self.expect!r}")


@dataclass(frozen=True)
class MutantResult:
    """The verdict on one mutant.

    ``failing_rows`` counts the failing rows of the declared family; ``other_failing`` those of
    other families (not a catch); ``crashed`` the cases that raised. ``caught`` is True only for
    the outcome ``caught``.
    """

    name: str
    description: str
    book_bug: int | None
    caught: bool
    failing_rows: int
    total_rows: int
    evidence: str
    crashed: int = 0
    expect: str = "operator"
    other_failing: int = 0
    lockstep_failing: int = 0
    free_running_failing: int = 0

    @property
    def outcome(self) -> str:
        """``caught``, ``crashed`` or ``missed`` (see the module docstring)."""
        if self.caught:
            return "caught"
        return "crashed" if self.crashed else "missed"

    @property
    def caught_by_a_check(self) -> bool:
        """Kept for callers of the two-outcome API: the same as ``caught``."""
        return self.caught

    def record(self) -> dict[str, Any]:
        """One line of ``mutants.csv`` (the columns are ``MUTANT_COLUMNS``)."""
        return {
            "mutant": self.name,
            "expect": self.expect,
            "outcome": self.outcome,
            "book_bug": self.book_bug,
            "failing_rows": self.failing_rows,
            "other_failing_rows": self.other_failing,
            "crashed_cases": self.crashed,
            "lockstep_failing_rows": self.lockstep_failing,
            "free_running_failing_rows": self.free_running_failing,
            "total_rows": self.total_rows,
            "evidence": self.evidence,
            "description": self.description,
        }


#: The columns of ``mutants.csv``, each with its meaning (the CLI's ``--csv`` and the report).
MUTANT_COLUMNS: dict[str, str] = {
    "mutant": "the planted bug's name",
    "expect": "the check family that must catch it (operator, oracle, lockstep, trajectory)",
    "outcome": "caught (a row of that family failed), crashed (a case raised, no such row failed) or missed",
    "book_bug": "its number in the list of the book's bugs, if it is one",
    "failing_rows": "failing rows of the declared family",
    "other_failing_rows": "failing rows of other families (never counted as a catch)",
    "crashed_cases": "cases that raised under the mutant",
    "lockstep_failing_rows": "failing lockstep rows (training runs checked at every step), whatever was declared",
    "free_running_failing_rows": "failing free-running trajectory rows: the two verdicts side by side",
    "total_rows": "rows run under the mutant",
    "evidence": "the first failing row of the declared family, else the first crash or other failure",
    "description": "what the bug does",
}


@lru_cache(maxsize=1)
def all_mutants() -> tuple[Mutant, ...]:
    mutants: list[Mutant] = []
    for info in sorted(pkgutil.iter_modules(parity_tests.mutants.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"parity_tests.mutants.{info.name}")
        mutants.extend(getattr(module, "MUTANTS", []))
    return tuple(mutants)


def _describe(r: dict[str, Any]) -> str:
    return f"{r['case']} {r['check']}[{r['target']}] budget {r['budget_used']:.3g}"


def run_mutant(
    mutant: Mutant,
    seed: int = 0,
    *,
    first_catch: bool = False,
    order: Callable[[Case], float] | None = None,
    rows_filter: Callable[[dict[str, Any]], bool] | None = None,
) -> MutantResult:
    """Apply ``mutant``, run its components' cases in float64, and give the verdict.

    ``first_catch`` stops at the first case with a failing row of the declared family (the verdict
    is the same; the row counts then cover only the cases run), trying the cases in ``order``
    (cheapest first, say). ``rows_filter`` keeps only the rows it accepts (e.g. the oracle's rows,
    to show that the oracle alone catches a mutant).
    """
    cases: list[Case] = select(list(mutant.components))
    if order is not None:
        cases.sort(key=order)
    failing, other, total, crashed = 0, 0, 0, 0
    by_check = {"lockstep": 0, "trajectory": 0}
    evidence, fallback = "", ""
    with mock.patch.object(mutant.target, mutant.attribute, mutant.replacement), warnings.catch_warnings():
        # A mutant's overflow or 0/0 must reach the checks as inf/NaN (which fail their rows), not
        # escape as a RuntimeWarning turned error: that would be a crash, not a catch.
        warnings.simplefilter("ignore", RuntimeWarning)
        for case in cases:
            try:
                rows = case.run(dtype="float64", device="cpu", seed=seed)
            except Exception as exc:  # a crash is reported as a crash, never as a catch
                crashed += 1
                fallback = fallback or f"{case.name}: raised {type(exc).__name__}: {exc}"
                continue
            rows = [r for r in rows if rows_filter is None or rows_filter(r)]
            total += len(rows)
            for r in rows:
                if r["passed"]:
                    continue
                if r["check"] in by_check:
                    by_check[r["check"]] += 1
                if check_family(r["check"]) == mutant.expect:
                    failing += 1
                    evidence = evidence or _describe(r)
                else:
                    other += 1
                    fallback = fallback or f"only other checks failed: {_describe(r)}"
            if first_catch and failing:
                break
    return MutantResult(
        mutant.name,
        mutant.description,
        mutant.book_bug,
        failing > 0,
        failing,
        total,
        evidence or fallback,
        crashed,
        mutant.expect,
        other,
        by_check["lockstep"],
        by_check["trajectory"],
    )


def cases_of(mutants: Iterable[Mutant]) -> list[Case]:
    """The cases the mutants run, each once, in registry order."""
    names: set[str] = set()
    for m in mutants:
        names |= {c.name for c in select(list(m.components))}
    return [c for c in select(None) if c.name in names]


def baseline_failures(mutants: Iterable[Mutant], seed: int = 0) -> list[str]:
    """Run the mutants' cases unmutated (float64, CPU, ``seed``); describe every failure or crash.

    An empty list means the baseline passes, so a failing row under a mutant is the mutant's doing.
    """
    problems: list[str] = []
    for case in cases_of(mutants):
        try:
            rows = case.run(dtype="float64", device="cpu", seed=seed)
        except Exception as exc:
            problems.append(f"{case.name}: raised {type(exc).__name__}: {exc}")
            continue
        problems.extend(_describe(r) for r in rows if not r["passed"])
    return problems


def outcome_counts(results: Iterable[MutantResult]) -> dict[str, int]:
    """How many results have each outcome (keys ``OUTCOMES``, in order)."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for r in results:
        counts[r.outcome] += 1
    return counts
