"""The finite-difference oracle: directional derivatives with a measured error bar.

The oracle checks a scratch backward against the scratch forward alone (it knows nothing of
torch). For an objective ``f`` (``<v, F(x)>`` for a random upstream ``v``) and a unit direction
``u``, the analytic directional derivative ``<u, grad f>`` is compared with the central difference

    D(h) = (f(x + h u) - f(x - h u)) / (2 h).

Its error has two parts, both measured rather than assumed:

- truncation, ``h^2 f'''(x)[u, u, u] / 6``: ``D(2h) - D(h)`` is three times it (the next term is
  ``O(h^4)``), so ``|D(2h) - D(h)|`` bounds it with room to spare. A kink (ReLU, max, clip) between
  the sample points usually makes the difference large and the row lenient; one within a small
  fraction of ``h`` of ``x`` could still mislead it, which the small step makes rare (no oracle row
  failed in the 100-seed sweep: 35,300 rows, worst budget 0.25);
- rounding: each evaluation of ``f`` rounds at about ``eps * sum |v * F(x)|`` (``eps`` the float64
  unit roundoff), which the division by ``2h`` magnifies; ``ROUND_FACTOR`` covers the few roundings
  per output element of the deepest cases (checked by the 100-seed sweep recorded in
  ``parity_tests/sweep_budgets.csv``, class ``oracle``).

The row passes when every direction's ``|analytic - D(h)|`` is within ``SAFETY * error``.
Small tensors (``size <= JACOBIAN_MAX``) are checked along every coordinate axis, i.e. the full
row ``v^T J`` element by element; larger ones along ``RANDOM_DIRECTIONS`` random unit directions
(the full Jacobian of every tensor up to 128 elements cost 2.5x more, mostly in the 50-step
recurrent cases). With these settings a relative error of 1e-6 in a gradient fails the oracle by
itself (tested, and planted for every component family in ``parity_tests/mutants/subtle.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from parity_tests.harness import Comparison, Tolerance

Array = npt.NDArray[np.float64]

#: Step of the central difference for a tensor of RMS size <= 1 (scaled up for larger ones).
FD_STEP = 1e-5
#: Roundings per output element allowed for in the evaluation of the objective.
ROUND_FACTOR = 16.0
#: How many error bars a direction may use before the row fails.
SAFETY = 4.0
#: Tensors up to this many elements get the full Jacobian row (every coordinate direction).
JACOBIAN_MAX = 32
#: Random unit directions for larger tensors.
RANDOM_DIRECTIONS = 4
UNIT_ROUNDOFF = float(np.finfo(np.float64).eps) / 2

REASON = (
    f"central difference D(h), h={FD_STEP:g}*max(1, rms x), along unit directions (every axis up to "
    f"{JACOBIAN_MAX} elements, else {RANDOM_DIRECTIONS} random); error bar per direction = |D(2h) - D(h)| "
    f"(truncation, >= 3x D(h)'s) + {ROUND_FACTOR:g}*u*sum|v F|/h (rounding, u = 1.1e-16); bound {SAFETY:g} error bars"
)


def step_for(x: Array) -> float:
    """The step ``h`` for tensor ``x``: ``FD_STEP``, scaled by its RMS size when that exceeds 1."""
    rms = float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0
    return FD_STEP * max(1.0, rms)


def directions(shape: tuple[int, ...], rng: np.random.Generator) -> Array:
    """Unit directions ``(k, *shape)``: every coordinate axis for small tensors, else random ones."""
    size = int(np.prod(shape))
    if size <= JACOBIAN_MAX:
        return np.eye(size).reshape((size, *shape))
    u = rng.standard_normal((RANDOM_DIRECTIONS, size))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return u.reshape((RANDOM_DIRECTIONS, *shape))


@dataclass(frozen=True)
class Estimate:
    """Numeric directional derivatives and their error bars, one per direction."""

    numeric: Array
    error: Array


def central_differences(objective: Callable[[Array], float], x: Array, dirs: Array, magnitude: float) -> Estimate:
    """``D(h)`` of ``objective`` at ``x`` along each of ``dirs``, with the error bar of the module docstring.

    ``magnitude`` is ``sum |v * F(x)|``, the size of the terms the objective adds up.
    """
    h = step_for(x)
    numeric, error = np.empty(len(dirs)), np.empty(len(dirs))
    rounding = ROUND_FACTOR * UNIT_ROUNDOFF * max(magnitude, np.finfo(np.float64).tiny) / h
    for k, u in enumerate(dirs):
        d1 = (objective(x + h * u) - objective(x - h * u)) / (2 * h)
        d2 = (objective(x + 2 * h * u) - objective(x - 2 * h * u)) / (4 * h)
        numeric[k] = d1
        error[k] = abs(d2 - d1) + rounding
    return Estimate(numeric, error)


def fail_tolerance() -> Tolerance:
    """The tolerance recorded on an oracle row that failed before any difference was taken."""
    return Tolerance(0.0, 0.0, "no comparison: the gradient is missing or misshapen")


def judge(analytic: Array, estimate: Estimate) -> tuple[Comparison, Tolerance]:
    """Compare analytic directional derivatives with the estimate; the row's comparison and tolerance."""
    a, b, bar = np.asarray(analytic, dtype=np.float64), estimate.numeric, SAFETY * estimate.error
    diff = np.abs(a - b)
    budget = np.where(diff == 0, 0.0, diff / bar)
    budget = np.where(np.isnan(budget), np.inf, budget)
    worst = int(np.argmax(budget))
    tol = Tolerance(float(bar.max()), 0.0, REASON)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(diff == 0, 0.0, diff / np.abs(b))
    comparison = Comparison(
        max_abs=float(diff.max()),
        max_rel=float(np.nanmax(rel)) if not np.isnan(rel).all() else float("nan"),
        budget_used=float(budget[worst]),
        worst_index=f"direction {worst}",
        scratch_value=float(a[worst]),
        torch_value=float(b[worst]),  # here: the numeric derivative, the oracle's reference
        passed=bool(budget[worst] <= 1.0),
    )
    return comparison, tol
