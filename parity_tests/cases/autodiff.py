"""Registry cases for ``autodiff`` (chapter 6): scalar expressions through both ``NumberWithGrad``s.

Scalars do not fit ``OpCase``'s array interface, so ``AutodiffCase`` is its own small case: one
named expression, written once as a Python function of its leaves, is built with the scratch
``NumberWithGrad`` and with the torch twin (autograd on 0-d tensors). Rows:

- ``forward``: the expression's value.
- ``grad_<leaf>``: each leaf's gradient after ``out.backward(g)`` with a random upstream ``g``.
- ``finite_difference`` (float64, CPU): each leaf's gradient against the central difference of
  ``g f`` from the scratch forward, with an error bar from two step sizes (``parity_tests.oracle``).
  This oracle knows no torch.

float32: the scratch twin computes with Python floats, which are float64; there is no float32
scratch to compare. The float32 rows therefore run the torch twin in float32 from the same
leaves (rounded to float32 first, so both sides start from identical inputs) against the float64
scratch result: they measure torch's single-precision rounding under the float32 tolerances, and
each row says so in its ``note``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

import scratch.autodiff as sad
import torch_ref.autodiff as tad
from parity_tests import oracle
from parity_tests.harness import Comparison, Tolerance, compare, make_row, np_dtype, tolerance_for

Row = dict[str, Any]
ANY = (-2.0, 2.0)  # leaves used only where every real is in the domain
POS = (0.5, 2.0)  # bases of log, pow and divisors: safely positive
F32_NOTE = "scratch is float64 (Python floats); torch float32 from the same float32 leaves"


@dataclass(frozen=True)
class AutodiffCase:
    """One expression, checked on both twins.

    Args:
        name: unique case id.
        build: ``(**leaves) -> node``; uses only the public API shared by both twins.
        leaves: leaf name -> ``(low, high)`` range its value is drawn from (uniform).
        op_class: tolerance class (see ``parity_tests.harness.TOLERANCES``).
    """

    name: str
    build: Callable[..., Any]
    leaves: tuple[tuple[str, tuple[float, float]], ...]
    op_class: str = "elementwise"
    component: str = "NumberWithGrad"
    stem: str = "autodiff"
    chapter: int = 6

    def draw(self, rng: np.random.Generator, dtype: str) -> dict[str, float]:
        """Leaf values; rounded to ``dtype`` so both twins start from the same numbers."""
        dt = np_dtype(dtype)
        return {n: float(dt.type(rng.uniform(lo, hi))) for n, (lo, hi) in self.leaves}

    def scratch_value(self, values: dict[str, float]) -> float:
        """The scratch forward alone (the finite-difference objective)."""
        return float(self.build(**{n: sad.NumberWithGrad(v) for n, v in values.items()}).value)

    def run(self, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> list[Row]:
        rng = np.random.default_rng(seed)
        values = self.draw(rng, dtype)
        g = float(rng.standard_normal())  # random upstream gradient, never 1
        tol = tolerance_for(dtype, self.op_class)
        note = F32_NOTE if dtype == "float32" else ""
        shapes = "scalars " + ",".join(values)
        rows: list[Row] = []

        def row(check: str, target: str, comp: Comparison, t: Tolerance = tol) -> None:
            if note and not comp.note:
                comp = replace(comp, note=note)
            rows.append(
                make_row(
                    case=self,
                    seed=seed,
                    dtype=dtype,
                    device=device,
                    check=check,
                    target=target,
                    comparison=comp,
                    tol=t,
                    shapes=shapes,
                )
            )

        leaves_s = {n: sad.NumberWithGrad(v) for n, v in values.items()}
        tdt = getattr(torch, dtype)
        leaves_t = {n: tad.NumberWithGrad(torch.tensor(v, dtype=tdt, device=device)) for n, v in values.items()}
        out_s = self.build(**leaves_s)
        out_t = self.build(**leaves_t)
        row("forward", "output", compare(out_s.value, out_t.value, tol))
        out_s.backward(g)
        out_t.backward(g)
        for n in values:
            row(f"grad_{n}", n, compare(leaves_s[n].grad, leaves_t[n].grad, tol))

        if dtype == "float64" and device == "cpu":
            for n, v in values.items():

                def objective(x: np.ndarray, n: str = n) -> float:
                    return g * self.scratch_value({**values, n: float(x[0])})

                estimate = oracle.central_differences(objective, np.array([v]), np.ones((1, 1)), abs(g * out_s.value))
                comp, fd_tol = oracle.judge(np.array([leaves_s[n].grad]), estimate)
                row("finite_difference", n, comp, fd_tol)
        return rows


def _case(
    name: str, build: Callable[..., Any], op_class: str = "elementwise", **leaves: tuple[float, float]
) -> AutodiffCase:
    return AutodiffCase(name, build, tuple(leaves.items()), op_class)


# --------------------------------------------------------------------- one case per operator
OPERATOR_CASES = [
    _case("ad_add", lambda a, b: a + b, a=ANY, b=ANY),
    _case("ad_radd", lambda a: 1.5 + a, a=ANY),
    _case("ad_sub", lambda a, b: a - b, a=ANY, b=ANY),
    _case("ad_rsub", lambda a: 2.0 - a, a=ANY),
    _case("ad_mul", lambda a, b: a * b, a=ANY, b=ANY),
    _case("ad_rmul", lambda a: 3.0 * a, a=ANY),
    _case("ad_div", lambda a, b: a / b, a=ANY, b=POS),
    _case("ad_rdiv", lambda a: 2.0 / a, a=POS),
    _case("ad_pow_int", lambda a: a**3, a=ANY),
    _case("ad_pow_frac", lambda a: a**2.5, a=POS),
    _case("ad_pow", lambda a, b: a**b, a=POS, b=ANY),
    _case("ad_rpow", lambda a: 2.0**a, a=ANY),
    _case("ad_neg", lambda a: -a, a=ANY),
    _case("ad_exp", lambda a: a.exp(), a=ANY),
    _case("ad_log", lambda a: a.log(), a=POS),
    _case("ad_tanh", lambda a: a.tanh(), a=ANY),
    _case("ad_sigmoid", lambda a: a.sigmoid(), a=ANY),
]


# ----------------------------------------------------------------------- composite graphs
def _reuse(a: Any) -> Any:
    """The book's example of bug 6: ``b = 4a; c = b + b``, so dc/da = 8."""
    b = 4 * a
    return b + b


def _diamond(a: Any, b: Any) -> Any:
    """Two paths from ``a`` meet twice: u and v both feed w, and u feeds the output again."""
    u = a.exp()
    v = (a * b).tanh()
    w = u * v + u / v
    return (w * u).log() - b * v


def _mixed(a: Any, b: Any) -> Any:
    """Every operator once, reflected ones included, with ``a`` and ``b`` reused throughout."""
    t = (1.5 + a) * (2.0 - b) - a / b + 3.0 * a.tanh()
    s = a**b + 2.0**b - (-a) ** 2 + (1.0 / b).log()
    return t * s.sigmoid() + (a - b).exp() * b**2.5


def _deep_chain(a: Any, w: Any, steps: int = 1200) -> Any:
    """``x_{k+1} = tanh(w x_k + a / 2)``, 1200 steps (~6000 nodes); a and w feed every step.

    A contraction (|w (1 - x^2)| < 1), so gradients neither vanish nor explode with depth.
    """
    x = a
    for _ in range(steps):
        x = (w * x + 0.5 * a).tanh()
    return x


def _sigmoid_tails(a: Any) -> Any:
    """Both tails of the sigmoid at |x| of 64 to 80: ``log sigmoid(-8a) + sigmoid(8a)``.

    The log reads the lower tail's relative accuracy (sigmoid(-70) ~ 4e-31, gradient ~ -8), which
    a ``1 - sigmoid(x)`` form would lose; the upper tail rounds to 1 (its gradient to ~0). The
    range stays inside float32's normal numbers so the float32 rows are meaningful too.
    """
    return (-8.0 * a).sigmoid().log() + (8.0 * a).sigmoid()


COMPOSITE_CASES = [
    _case("ad_reuse_book_example", _reuse, a=ANY),
    _case("ad_reuse_square", lambda a: a * a, a=ANY),
    _case("ad_diamond", _diamond, a=POS, b=POS),
    _case("ad_all_operators", _mixed, a=POS, b=POS),
    # 1200 steps, each gradient a sum of 1200 contributions: the reduction class's bound
    _case("ad_deep_chain_1200", _deep_chain, op_class="reduction", a=ANY, w=(0.3, 0.9)),
    _case("ad_sigmoid_tails", _sigmoid_tails, a=(8.0, 10.0)),
]

CASES = OPERATOR_CASES + COMPOSITE_CASES
