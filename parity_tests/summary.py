"""Results for the CLI and the report: crash-tolerant runners of cases and mutants, and summaries.

Rows have the columns of ``harness.make_row``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from parity_tests.harness import SANITY_CHECKS, Comparison, Tolerance, make_row
from parity_tests.mutation import Mutant, MutantResult, run_mutant
from parity_tests.opcase import OpCase
from parity_tests.registry import Case, run_cases
from parity_tests.textui import fmt_budget, text_table, verdict


def error_row(case: Case, dtype: str, device: str, seed: int, exc: Exception) -> dict[str, Any]:
    """A failed ``error`` row for a case that raised instead of returning rows."""
    comparison = Comparison.failure(f"raised {type(exc).__name__}: {exc}")
    tol = Tolerance(0.0, 0.0, "no comparison: the case raised")
    return make_row(
        case=case, seed=seed, dtype=dtype, device=device, check="error", target="run", comparison=comparison, tol=tol
    )


def run_all(
    cases: Sequence[Case],
    dtypes: Sequence[str],
    device_list: Sequence[str],
    seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
    seconds: dict[str, float] | None = None,
    seeds: Sequence[int] | None = None,
) -> pd.DataFrame:
    """``registry.run_cases``, one case x dtype x device x seed at a time, a raising case becoming an error row.

    ``seeds`` (default ``[seed]``) are the seeds each case runs. ``seconds``, when given, receives
    the wall time each case took (summed over its runs).
    """
    frames: list[pd.DataFrame] = []
    jobs = [(c, dev, d, s) for c in cases for dev in device_list for d in dtypes for s in (seeds or [seed])]
    for i, (case, device, dtype, s) in enumerate(jobs):
        if progress is not None:
            progress(i, len(jobs), f"{case.name} {dtype} {device} seed {s}")
        start = time.perf_counter()
        try:
            frames.append(run_cases([case], dtypes=[dtype], device_list=[device], seed=s))
        except Exception as exc:  # one broken case must not hide the others' results
            frames.append(pd.DataFrame([error_row(case, dtype, device, s, exc)]))
        if seconds is not None:
            seconds[case.name] = seconds.get(case.name, 0.0) + time.perf_counter() - start
    if progress is not None:
        progress(len(jobs), len(jobs), "done")
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _first_catch(mutant: Mutant, seed: int, cost: Mapping[str, float] | None) -> MutantResult:
    """``run_mutant`` cheapest case first, stopping at the first catch.

    ``cost`` (seconds per case name) orders the cases; without it, operator cases go first.
    """

    def key(case: Case) -> float:
        return cost.get(case.name, math.inf) if cost else float(not isinstance(case, OpCase))

    return run_mutant(mutant, seed=seed, first_catch=True, order=key)


def run_mutants(
    mutants: Sequence[Mutant],
    seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
    first_catch: bool = False,
    cost: Mapping[str, float] | None = None,
) -> list[MutantResult]:
    """``mutation.run_mutant`` for each; one that cannot run at all counts as crashed.

    ``first_catch`` stops each mutant at the first case that catches it (the quick mode), trying
    the cases in order of ``cost`` (seconds per case name, e.g. from ``run_all``): the verdict is
    the same, the row counts cover only the cases run.
    """
    results = []
    for i, m in enumerate(mutants):
        if progress is not None:
            progress(i, len(mutants), m.name)
        try:
            results.append(_first_catch(m, seed, cost) if first_catch else run_mutant(m, seed=seed))
        except Exception as exc:
            note = f"could not run: {type(exc).__name__}: {exc}"
            results.append(MutantResult(m.name, m.description, m.book_bug, False, 0, 0, note, 1, m.expect))
    if progress is not None:
        progress(len(mutants), len(mutants), "done")
    return results


def row_kinds(rows: pd.DataFrame) -> pd.Series:
    """Each row's kind (``parity`` or ``sanity``); rows written before the column existed get it from their check."""
    if "kind" in rows.columns:
        return rows["kind"].fillna("parity")
    return rows["check"].map(lambda c: "sanity" if c in SANITY_CHECKS else "parity")


def _worst(group: pd.DataFrame) -> pd.Series:
    parity = group[row_kinds(group) == "parity"] if len(group) else group
    budgets = parity["budget_used"].astype(float).replace(np.nan, np.inf)
    worst = parity.iloc[int(np.argmax(budgets.to_numpy()))] if len(parity) else None
    return pd.Series(
        {
            "checks": len(parity),
            "passed_checks": int(parity["passed"].astype(bool).sum()),
            "sanity_checks": len(group) - len(parity),
            "worst_budget": float(budgets.max()) if len(parity) else 0.0,
            "worst_check": f"{worst['check']}[{worst['target']}]" if worst is not None else "",
            "passed": bool(group["passed"].astype(bool).all()),
        }
    )


def summarize(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """One line per group of ``by``: parity checks, those passed, sanity rows, the worst budget and where, PASS/FAIL.

    ``checks``, ``passed_checks`` and ``worst_budget`` count parity rows only; ``passed`` needs every
    row, sanity rows included (a failed copy makes the whole run meaningless).
    """
    columns = [*by, "checks", "passed_checks", "sanity_checks", "worst_budget", "worst_check", "passed"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    groups = rows.groupby(by, sort=False)
    parts = [pd.concat([pd.Series(dict(zip(by, key, strict=True))), _worst(g)]) for key, g in groups]
    return pd.DataFrame(parts).reset_index(drop=True)


CASE_KEYS = ["component", "case", "dtype", "device"]


def case_table(rows: pd.DataFrame) -> str:
    """The ``check`` table: one line per case x dtype x device (over every seed run)."""
    s = summarize(rows, CASE_KEYS)
    body = [
        [
            r.component,
            r.case,
            r.dtype,
            r.device,
            f"{r.passed_checks}/{r.checks}",
            fmt_budget(r.worst_budget),
            r.worst_check,
            verdict(r.passed),
        ]
        for r in s.itertuples()
    ]
    return text_table(["component", "case", "dtype", "device", "checks", "worst budget", "worst check", "result"], body)


def pass_totals(rows: pd.DataFrame) -> dict[str, int]:
    """The pass counts every report and CLI line shows, sanity rows left out.

    Keys: ``case_runs`` / ``case_runs_passed`` (case x dtype x device x seed; a run passes when
    every row does, sanity rows included), ``checks`` / ``checks_passed`` (parity rows only),
    ``sanity`` (rows that compare a thing with itself, not counted), ``seeds``.
    """
    if rows.empty:
        return dict.fromkeys(("case_runs", "case_runs_passed", "checks", "checks_passed", "sanity", "seeds"), 0)
    passed = rows["passed"].astype(bool)
    parity = row_kinds(rows) == "parity"
    keys = [*CASE_KEYS, "seed"] if "seed" in rows.columns else CASE_KEYS
    runs = passed.groupby([rows[k] for k in keys], sort=False).all()
    return {
        "case_runs": len(runs),
        "case_runs_passed": int(runs.sum()),
        "checks": int(parity.sum()),
        "checks_passed": int((passed & parity).sum()),
        "sanity": int((~parity).sum()),
        "seeds": int(rows["seed"].nunique()) if "seed" in rows.columns else 1,
    }


def totals_line(rows: pd.DataFrame) -> str:
    """``12/12 case runs pass (84/84 parity checks; 9 sanity rows not counted)``."""
    t = pass_totals(rows)
    seeds = f" over {t['seeds']} seeds" if t["seeds"] > 1 else ""
    return (
        f"{t['case_runs_passed']}/{t['case_runs']} case runs pass{seeds} "
        f"({t['checks_passed']}/{t['checks']} parity checks; "
        f"{t['sanity']} sanity row{'' if t['sanity'] == 1 else 's'} not counted)"
    )


def training_totals(rows: pd.DataFrame) -> dict[str, int]:
    """What the training-run rows claim, for the headline: ``runs`` checked in lockstep, the
    ``steps`` and ``evaluations`` they compared (every pause of every run), ``lockstep_checks`` /
    ``lockstep_passed`` (one row per run and target, each the worst over all its pauses), and the
    free-running ``trajectory_checks`` / ``trajectory_passed`` (each claimed up to its horizon)."""
    keys = ("runs", "runs_passed", "steps", "evaluations", "lockstep_checks", "lockstep_passed")
    totals = dict.fromkeys((*keys, "trajectory_checks", "trajectory_passed"), 0)
    if rows.empty:
        return totals
    lock = rows[rows["check"] == "lockstep"]
    passed = lock["passed"].astype(bool)
    run_keys = [k for k in ("case", "dtype", "device", "seed") if k in lock.columns]
    totals["runs"] = int(lock.groupby(run_keys).ngroups) if len(lock) else 0
    totals["runs_passed"] = int(passed.groupby([lock[k] for k in run_keys]).all().sum()) if len(lock) else 0
    for target, key in (("loss", "steps"), ("eval_loss", "evaluations")):
        notes = lock.loc[lock["target"] == target, "note"].astype(str) if "note" in lock.columns else pd.Series()
        totals[key] = int(notes.str.extract(r"lockstep over (\d+) pauses")[0].fillna(0).astype(int).sum())
    totals["lockstep_checks"], totals["lockstep_passed"] = len(lock), int(passed.sum())
    free = rows[rows["check"] == "trajectory"]
    totals["trajectory_checks"], totals["trajectory_passed"] = len(free), int(free["passed"].astype(bool).sum())
    return totals


def training_line(rows: pd.DataFrame) -> str:
    """``6/6 training runs pass in lockstep over 4,210 steps and 32 evaluations (180/180 checks at the
    operator tolerance); free-running: 96/96 checks pass up to the ulp-noise controls' horizon``."""
    t = training_totals(rows)
    if not t["runs"]:
        return "no training run was checked"
    return (
        f"{t['runs_passed']}/{t['runs']} training runs pass in lockstep over {t['steps']:,} steps and "
        f"{t['evaluations']:,} evaluations ({t['lockstep_passed']}/{t['lockstep_checks']} checks at the operator "
        f"tolerance, every step); free-running: {t['trajectory_passed']}/{t['trajectory_checks']} checks pass, "
        "each claimed only up to the ulp-noise controls' horizon"
    )
