"""What an experiment may claim, said in words: lockstep totals, the free-running horizon, and
end-of-run figures against the spread of ulp-noise controls.

An experiment's table puts these beside its figures so that every verdict says which check it
rests on and over how many steps (``parity_tests/trajectory.py`` explains the two checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Controls per experiment run: the spread of end-of-run figures needs at least five.
EXPERIMENT_CONTROLS = 5


def lockstep_columns(result: Any) -> dict[str, Any]:
    """``lockstep steps``, ``lockstep evals``, ``lockstep worst budget`` (over every lockstep row),
    ``lockstep`` (pass / FAIL) and the free-running ``horizon`` (steps) of one ``TrajectoryResult``."""
    locked = [r for r in result.rows if r["check"] == "lockstep"]
    worst = max((float(r["budget_used"]) for r in locked), default=float("nan"))
    steps = len(result.torch.step_losses)
    return {
        "lockstep steps": f"{result.lockstep_steps}/{steps}",
        "lockstep evals": result.lockstep_evaluations,
        "lockstep worst budget": worst,
        "lockstep": "pass" if locked and all(r["passed"] for r in locked) else "FAIL",
        "free horizon": result.horizon,
    }


def spread(values: Sequence[float]) -> tuple[float, float]:
    """The controls' range ``(min, max)``."""
    return float(min(values)), float(max(values))


def against_controls(what: str, value: float, controls: Sequence[float], fmt: str = "{:.4g}") -> str:
    """``"torch's 90.1 lies inside the controls' 88.9-92.7 (5 runs)"`` (or outside, by how much)."""
    if not controls:
        return f"{what} {fmt.format(value)}: no controls"
    lo, hi = spread(controls)
    where = "inside" if lo <= value <= hi else "outside"
    span = f"{fmt.format(lo)}–{fmt.format(hi)}"
    return f"{what} {fmt.format(value)} lies {where} the controls' {span} ({len(controls)} runs)"
