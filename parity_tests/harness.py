"""Comparison primitives: tolerances as data, the error budget, and the result row.

Every check ends in one row. ``budget_used = max |a - b| / (atol + rtol * |b|)`` over all
elements (``a`` is the scratch value, ``b`` the reference), so a row passes when it is <= 1, and
the row names the worst index with both values there.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Tolerance:
    """An ``allclose``-style bound and the reason it is that wide."""

    atol: float
    rtol: float
    reason: str


_F64 = (
    "float64 on both sides: differences come only from rounding and summation order; the bound is "
    "n*eps (eps 2.2e-16) for an n-term sum, so rtol leaves room for n up to ~1e4/depth"
)
_F32 = "float32 on both sides: single-precision rounding (eps 1.2e-7) accumulated over the reduction"

_BOOK_CE = (
    "the book's cross-entropy value adds log(1 - q) terms, q the softmax clipped to [e, 1 - e]: near the "
    "clip one ulp of q ({u}) moves log(1 - q) by up to 4 ulp / e (e = 1e-9 in float64, the dtype's eps in "
    "float32), {b} per saturated element before the batch mean of 60; atol covers some 10 such elements "
    "(measured in float64: up to 0.28 of 1e-8 over 6 seeds of the registry's book runs); the loss value only: "
    "its gradient (q - y)/N is well conditioned and keeps the step's tolerance"
)

#: Tolerances per (dtype, op class). Every entry carries its reason. A 100-seed sweep of every
#: operator case in both dtypes on CPU (189,100 rows, 2026-11-30, ``parity_tests/sweep_budgets.csv``)
#: failed no row; its worst float64 budgets per class: elementwise 0.36 (the optimizer steps, where
#: the elementwise tolerance meets lr * g updates), matmul 0.004, reduction 0.001, loss 0.002, conv
#: 0.003, recurrent 0.005; float32: elementwise 0.39, the others 0.006-0.035. The slack above that
#: is for other BLAS/cuBLAS summation orders, not for the twins to disagree. (The chapter 1 central
#: difference, the init statistics and the finite-difference oracle carry their own derived bounds.)
TOLERANCES: dict[tuple[str, str], Tolerance] = {
    ("float64", "elementwise"): Tolerance(1e-15, 1e-13, _F64 + "; elementwise ops round a few times (~450 ulp)"),
    ("float64", "matmul"): Tolerance(1e-13, 1e-11, _F64 + "; inner products of length <= ~1000"),
    ("float64", "reduction"): Tolerance(1e-13, 1e-11, _F64 + "; sums of up to ~1e4 terms"),
    ("float64", "loss"): Tolerance(1e-13, 1e-11, _F64 + "; log/exp and a mean over the batch"),
    ("float64", "conv"): Tolerance(1e-12, 1e-10, _F64 + "; im2col GEMMs vs direct/cuDNN convolution"),
    ("float64", "recurrent"): Tolerance(1e-12, 1e-10, _F64 + "; compounded through up to 50 time steps"),
    ("float64", "trajectory"): Tolerance(1e-10, 1e-8, _F64 + " compounded over hundreds of SGD steps"),
    ("float64", "book_ce_value"): Tolerance(5e-8, 1e-11, _F64 + "; " + _BOOK_CE.format(u="1.1e-16", b="4e-7")),
    ("float32", "elementwise"): Tolerance(1e-6, 1e-5, _F32),
    ("float32", "matmul"): Tolerance(1e-5, 1e-4, _F32),
    ("float32", "reduction"): Tolerance(1e-5, 1e-4, _F32),
    ("float32", "loss"): Tolerance(1e-5, 1e-4, _F32),
    ("float32", "conv"): Tolerance(1e-4, 1e-3, _F32 + " over long im2col inner products"),
    ("float32", "recurrent"): Tolerance(1e-4, 1e-3, _F32 + " compounded through time steps"),
    ("float32", "trajectory"): Tolerance(
        2e-3, 2e-2, _F32 + "; compounded over tens of SGD steps (registry runs use <= 1/3 of it, 2026-11-26)"
    ),
    ("float32", "lockstep"): Tolerance(
        2e-4,
        1e-4,
        _F32 + "; one training step: a gradient near zero is a batch sum of terms that cancel; on Boston "
        "|p - y| reaches ~50 and |x| ~9, so sum |terms| ~ 1e3 and eps * sum |terms| ~ 1e-4; measured over 27 "
        "seeds of every registry run: at most 3.5e-5 (2026-11-30)",
    ),
    ("float32", "book_ce_value"): Tolerance(
        1e-1, 1e-4, _F32 + "; " + _BOOK_CE.format(u="6e-8", b="0.5") + "; float32: up to 1.5e-2 over 27 seeds"
    ),
}

DTYPES = ("float64", "float32")


def lockstep_tolerance(dtype: str, op_class: str) -> Tolerance:
    """The tolerance of one lockstep training step of class ``op_class``: the class's own, and in
    float32 no tighter than the ``lockstep`` floor (batch sums that cancel; see its reason)."""
    tol = tolerance_for(dtype, op_class)
    floor = TOLERANCES.get((dtype, "lockstep"))
    if floor is None or (tol.atol >= floor.atol and tol.rtol >= floor.rtol):
        return tol
    return Tolerance(max(tol.atol, floor.atol), max(tol.rtol, floor.rtol), f"{tol.reason}; {floor.reason}")


def tolerance_for(dtype: str, op_class: str) -> Tolerance:
    """Look up the tolerance for a dtype and op class, or raise naming the unknown key."""
    try:
        return TOLERANCES[(dtype, op_class)]
    except KeyError:
        known = sorted({c for _, c in TOLERANCES})
        raise KeyError(f"no tolerance for dtype {dtype!r} and op class {op_class!r}; op classes: {known}") from None


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing a scratch array with its reference."""

    max_abs: float
    max_rel: float
    budget_used: float
    worst_index: str
    scratch_value: float
    torch_value: float
    passed: bool
    note: str = ""

    @classmethod
    def failure(cls, note: str, where: str = "") -> Comparison:
        """A failed check that has no numbers to compare (missing key, wrong shape, crash)."""
        inf, nan = float("inf"), float("nan")
        return cls(inf, inf, inf, where, nan, nan, False, note)


def compare(scratch: Any, reference: Any, tol: Tolerance) -> Comparison:
    """Compare two arrays elementwise under ``tol``; a shape mismatch or NaN fails the row."""
    a = np.asarray(scratch, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape:
        return Comparison.failure(f"shape {a.shape} vs {b.shape}")
    if a.size == 0:
        return Comparison(0.0, 0.0, 0.0, "", np.nan, np.nan, True, "empty")
    diff = np.abs(a - b)
    with np.errstate(divide="ignore", invalid="ignore"):
        budget = diff / (tol.atol + tol.rtol * np.abs(b))
        rel = diff / np.abs(b)
    budget = np.where(diff == 0, 0.0, budget)  # exact agreement uses no budget, even at zero tolerance
    budget = np.where(np.isnan(budget), np.inf, budget)  # NaN on either side never passes
    worst = np.unravel_index(int(np.argmax(budget)), a.shape)
    rel = np.where(diff == 0, 0.0, rel)
    used = float(budget[worst])
    return Comparison(
        max_abs=float(np.nanmax(diff)) if not np.isnan(diff).all() else float("nan"),
        max_rel=float(np.nanmax(rel)) if not np.isnan(rel).all() else float("nan"),
        budget_used=used,
        worst_index=str(tuple(int(i) for i in worst)),
        scratch_value=float(a[worst]),
        torch_value=float(b[worst]),
        passed=bool(used <= 1.0),
    )


@lru_cache(maxsize=1)
def versions() -> str:
    """Library versions a row was produced with."""
    import torch

    return f"python={platform.python_version()} numpy={np.__version__} torch={torch.__version__}"


#: Checks that compare a thing with itself (a copy read back, one generator run twice): they
#: cannot catch a bug in the maths, so their rows are ``kind="sanity"`` and stay out of pass totals.
SANITY_CHECKS = frozenset({"state_dict", "same_seed"})
#: Row kinds: ``parity`` rows compare the twins (or a twin with an oracle); ``sanity`` rows cannot fail
#: for a wrong formula. Only parity rows count in pass totals (``parity_tests.summary.pass_totals``).
KINDS = ("parity", "sanity")


def make_row(
    *,
    case: Any,
    seed: int,
    dtype: str,
    device: str,
    check: str,
    target: str,
    comparison: Comparison,
    tol: Tolerance,
    shapes: str = "",
    kind: str | None = None,
) -> dict[str, Any]:
    """One result row (the columns of the results DataFrame).

    ``kind`` is ``parity`` or ``sanity`` (see ``KINDS``); by default ``sanity`` for the checks of
    ``SANITY_CHECKS``, else ``parity``. A case passes ``sanity`` itself for rows that compare a thing
    with itself under another check name. ``tol_class`` names the row's tolerance class: the case's
    ``op_class`` (per-case overrides included), ``oracle`` for the finite-difference rows, ``exact``
    for zero tolerances, ``other`` for cases without an op class.
    """
    if kind is None:
        kind = "sanity" if check in SANITY_CHECKS else "parity"
    if check == "finite_difference":
        tol_class = "oracle"
    elif tol.atol == 0.0 and tol.rtol == 0.0:
        tol_class = "exact"
    else:
        tol_class = getattr(case, "op_class", None) or "other"
    if kind not in KINDS:
        raise ValueError(f"row kind must be one of {KINDS}, not {kind!r}")
    return {
        "component": case.component,
        "stem": case.stem,
        "chapter": case.chapter,
        "case": case.name,
        "seed": seed,
        "shapes": shapes,
        "dtype": dtype,
        "device": device,
        "check": check,
        "kind": kind,
        "target": target,
        "max_abs": comparison.max_abs,
        "max_rel": comparison.max_rel,
        "budget_used": comparison.budget_used,
        "worst_index": comparison.worst_index,
        "scratch_value": comparison.scratch_value,
        "torch_value": comparison.torch_value,
        "tol_class": tol_class,
        "atol": tol.atol,
        "rtol": tol.rtol,
        "tolerance_reason": tol.reason,
        "passed": comparison.passed,
        "note": comparison.note,
        "versions": versions(),
    }


@dataclass
class RowLog:
    """The rows of one run of a case: the fields they all share are given once.

    ``log.add(check, target, comparison, tol)`` appends ``make_row(...)`` with this run's
    ``case``, ``seed``, ``dtype``, ``device`` and ``shapes``.
    """

    case: Any
    seed: int
    dtype: str
    device: str
    shapes: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, check: str, target: str, comparison: Comparison, tol: Tolerance, kind: str | None = None) -> None:
        self.rows.append(
            make_row(
                case=self.case,
                seed=self.seed,
                dtype=self.dtype,
                device=self.device,
                check=check,
                target=target,
                comparison=comparison,
                tol=tol,
                shapes=self.shapes,
                kind=kind,
            )
        )


def np_dtype(dtype: str) -> np.dtype[Any]:
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose from {DTYPES}")
    return np.dtype(dtype)


def as_float64(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    return np.asarray(x, dtype=np.float64)
