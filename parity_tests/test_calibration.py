"""Specification of the calibration figures: the sweep table and float32's detection floor."""

from __future__ import annotations

import pandas as pd
import pytest

from parity_tests.calibration import case_floor, floor_line, sweep_table
from parity_tests.harness import tolerance_for
from parity_tests.opcase import OpCase
from parity_tests.registry import select

pytestmark = pytest.mark.ch3


def _row(case: str, dtype: str, cls: str, budget: float, seed: int, atol: float, rtol: float, **kw: object) -> dict:
    base = {"case": case, "dtype": dtype, "tol_class": cls, "budget_used": budget, "seed": seed, "check": "forward"}
    return {**base, "target": "output", "atol": atol, "rtol": rtol, "passed": budget <= 1, "kind": "parity", **kw}


def test_sweep_table_gives_the_worst_budget_per_class_and_keeps_sanity_and_overrides_apart() -> None:
    f64 = tolerance_for("float64", "matmul")
    rows = pd.DataFrame(
        [
            _row("a", "float64", "matmul", 0.2, 0, f64.atol, f64.rtol),
            _row("b", "float64", "matmul", 0.5, 1, f64.atol, f64.rtol),
            _row("c", "float64", "matmul", 0.9, 1, 1e-3, 0.0),  # the case's own bound
            _row("d", "float64", "matmul", 7.0, 0, 0.0, 0.0, kind="sanity"),
        ]
    )
    table = sweep_table(rows).set_index("tol_class")
    assert table.loc["matmul", "worst_budget"] == 0.5 and table.loc["matmul", "rows"] == 2
    assert table.loc["matmul", "worst_row"] == "b forward[output] seed 1"
    assert table.loc["case-specific", "worst_budget"] == 0.9
    assert int(table["failed"].sum()) == 0


def test_float32_detection_floor_lies_within_a_decade_above_the_class_rtol() -> None:
    (case,) = select(["activation_tanh"])
    assert isinstance(case, OpCase)
    rtol = tolerance_for("float32", case.op_class).rtol
    floor = case_floor(case, "float32")
    assert rtol <= floor <= 10 * rtol
    line = floor_line(pd.DataFrame([{"dtype": "float32", "tol_class": "elementwise", "max_floor": floor}]))
    assert line.startswith("float32 detection floor") and "elementwise" in line
