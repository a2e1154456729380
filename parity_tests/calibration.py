"""Calibration figures: the seed sweep's worst budgets, and float32's detection floor.

- ``sweep_table(rows)``: per dtype and tolerance class, the number of parity rows, seeds and the
  worst ``budget_used`` (where, and its 99th percentile) over a seed sweep (``check --seeds N
  --csv``). ``SWEEP_CSV`` holds the last recorded sweep, for the report.
- ``detection_floor(dtype)``: per tolerance class, the smallest relative error in one gradient
  element (the largest in magnitude) that fails a ``grad_*`` row, found by bisection on a log
  grid over the class's operator cases. Below it, a float32 row cannot see a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parity_tests.harness import TOLERANCES
from parity_tests.mutants._nudge import scale
from parity_tests.opcase import Array, OpCase, TwinPair
from parity_tests.registry import all_cases
from parity_tests.summary import row_kinds

#: The recorded seed sweep (written by ``python -m parity_tests.calibration sweep ROWS.csv``).
SWEEP_CSV = Path(__file__).with_name("sweep_budgets.csv")
#: The recorded float32 detection floor (written by ``python -m parity_tests.calibration floor``).
FLOOR_CSV = Path(__file__).with_name("float32_floor.csv")
#: Relative errors tried by ``detection_floor``: 1e-9 .. 1e-1, four per decade.
GRID = np.logspace(-9, -1, 33)


def _table_class(row: pd.Series) -> str:
    """The row's ``tol_class``, or ``case-specific`` where the case overrides its class's tolerance."""
    cls = str(row["tol_class"])
    standard = TOLERANCES.get((str(row["dtype"]), cls))
    if standard is not None and (standard.atol, standard.rtol) != (float(row["atol"]), float(row["rtol"])):
        return "case-specific"
    return cls


def sweep_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Worst budget per (dtype, tolerance class) over the parity rows of a sweep.

    Rows whose case sets its own tolerance (a derived bound, say) form the ``case-specific`` class.
    """
    parity = rows[row_kinds(rows) == "parity"].copy()
    parity["budget_used"] = parity["budget_used"].astype(float)
    parity["tol_class"] = parity.apply(_table_class, axis=1)
    out = []
    for (dtype, cls), g in parity.groupby(["dtype", "tol_class"], sort=True):
        worst = g.iloc[int(np.argmax(g["budget_used"].to_numpy()))]
        out.append(
            {
                "dtype": dtype,
                "tol_class": cls,
                "rows": len(g),
                "seeds": g["seed"].nunique(),
                "failed": int((~g["passed"].astype(bool)).sum()),
                "worst_budget": float(worst["budget_used"]),
                "q99_budget": float(g["budget_used"].quantile(0.99)),
                "worst_row": f"{worst['case']} {worst['check']}[{worst['target']}] seed {worst['seed']}",
            }
        )
    return pd.DataFrame(out)


def _nudged_case(case: OpCase, rel: float) -> OpCase:
    """``case`` with the largest element of its first gradient multiplied by ``1 + rel``."""

    def build(rng: np.random.Generator) -> TwinPair:
        pair = case.build(rng)
        original = pair.scratch_backward

        def backward(v: Array) -> dict[str, Array]:
            grads = dict(original(v))
            first = next(iter(grads))
            grads[first] = scale(grads[first], rel, every=False).astype(np.asarray(grads[first]).dtype)
            return grads

        return replace(pair, scratch_backward=backward)

    return replace(case, build=build, fd=False)


def _caught(case: OpCase, rel: float, dtype: str, seed: int) -> bool:
    return any(
        not r["passed"] for r in _nudged_case(case, rel).run(dtype, "cpu", seed) if r["check"].startswith("grad_")
    )


def case_floor(case: OpCase, dtype: str = "float32", seed: int = 0) -> float:
    """The smallest ``GRID`` value whose error fails a gradient row of ``case`` (inf if none does)."""
    if any(not r["passed"] for r in case.run(dtype, "cpu", seed)):
        return float("nan")  # a failing baseline measures nothing
    lo, hi = -1, len(GRID) - 1
    if not _caught(case, float(GRID[hi]), dtype, seed):
        return float("inf")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _caught(case, float(GRID[mid]), dtype, seed):
            hi = mid
        else:
            lo = mid
    return float(GRID[hi])


def detection_floor(dtype: str = "float32", per_class: int = 4, seed: int = 0) -> pd.DataFrame:
    """Per op class: the detection floor of up to ``per_class`` operator cases (min, median, max)."""
    by_class: dict[str, list[OpCase]] = {}
    for c in all_cases():
        if isinstance(c, OpCase) and len(by_class.setdefault(c.op_class, [])) < per_class:
            by_class[c.op_class].append(c)
    out: list[dict[str, Any]] = []
    for cls, cases in sorted(by_class.items()):
        floors = np.array([case_floor(c, dtype, seed) for c in cases])
        ok = floors[np.isfinite(floors)]
        out.append(
            {
                "dtype": dtype,
                "tol_class": cls,
                "cases": len(cases),
                "min_floor": float(ok.min()) if ok.size else float("nan"),
                "median_floor": float(np.median(ok)) if ok.size else float("nan"),
                "max_floor": float(ok.max()) if ok.size else float("nan"),
            }
        )
    return pd.DataFrame(out)


def floor_line(table: pd.DataFrame) -> str:
    """One line: ``float32 detection floor (relative error in one gradient element): elementwise 1e-5 ...``."""
    parts = [f"{r.tol_class} {r.max_floor:.0e}" for r in table.itertuples()]
    dtype = table["dtype"].iloc[0] if len(table) else "float32"
    return (
        f"{dtype} detection floor (smallest relative error in one gradient element caught, worst case): "
        + ", ".join(parts)
    )


#: Case types of the operator sweep: everything but whole training runs (those are lockstep's).
OPERATOR_TYPES = ("OpCase", "ValueCase", "AutodiffCase", "UpdateCase", "InitCase")


def operator_cases() -> list[Any]:
    """The registry's operator cases (no training runs), in registry order."""
    return [c for c in all_cases() if type(c).__name__ in OPERATOR_TYPES]


def run_sweep(first: int, count: int, out: Path, chunk: int = 5) -> None:
    """Run the operator cases in both dtypes over seeds ``first..first+count-1``, ``chunk`` seeds per CSV."""
    from parity_tests.summary import run_all

    out.mkdir(parents=True, exist_ok=True)
    for start in range(first, first + count, chunk):
        seeds = list(range(start, min(start + chunk, first + count)))
        rows = run_all(operator_cases(), ("float64", "float32"), ["cpu"], seeds=seeds)
        rows.to_csv(out / f"seeds_{seeds[0]:03d}_{seeds[-1]:03d}.csv", index=False)


def recorded_floor_line() -> str | None:
    """``floor_line`` of the recorded float32 floor (``FLOOR_CSV``), or None when none is recorded."""
    if not FLOOR_CSV.exists():
        return None
    return floor_line(pd.read_csv(FLOOR_CSV))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m parity_tests.calibration sweep ROWS.csv [...]``: record the sweep's table in ``SWEEP_CSV``.

    ``python -m parity_tests.calibration floor``: measure and print float32's detection floor.
    """
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["sweep"] and len(args) > 1:
        rows = pd.concat([pd.read_csv(p) for p in args[1:]], ignore_index=True)
        table = sweep_table(rows)
        table.to_csv(SWEEP_CSV, index=False)
        print(table.to_string(index=False))
        return 0
    if args[:1] == ["run"] and len(args) == 4:
        import torch
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(1)
        with threadpool_limits(limits=1):
            run_sweep(int(args[1]), int(args[2]), Path(args[3]))
        return 0
    if args[:1] == ["floor"]:
        table = detection_floor()
        table.to_csv(FLOOR_CSV, index=False)
        print(table.to_string(index=False))
        print(floor_line(table))
        return 0
    print(
        "usage: python -m parity_tests.calibration run FIRST COUNT DIR | sweep ROWS.csv [ROWS.csv ...] | floor",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
