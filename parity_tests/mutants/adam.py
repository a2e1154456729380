"""Planted bugs in the chapter 7 Adam twin (``scratch.optimizers.Adam``).

Two classic slips and one subtle one. Each replaces ``Adam._update`` and must be caught by a
failing row of the Adam cases (``parity_tests/cases/optimizers_adam.py``), not by a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import scratch.optimizers as so
from parity_tests.mutation import Mutant
from scratch._checks import Array
from scratch.module import Parameter

#: The subtle mutant's relative error in every step: far below what training would show.
SUBTLE_REL = 1e-7

Update = Callable[[so.Adam, Parameter, Array, dict[str, Any]], None]


def _adam_update(*, bias_correction: bool = True, eps_inside_sqrt: bool = False, scale: float = 1.0) -> Update:
    """An ``Adam._update`` written again, with one of three slips switched on."""

    def update(self: so.Adam, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
        if param not in self.state:
            zeros = np.zeros_like(param.data)
            self.state[param] = {"step": np.zeros(()), "exp_avg": zeros, "exp_avg_sq": zeros.copy()}
        state = self.state[param]
        beta1, beta2 = group["betas"]
        grad = grad + group["weight_decay"] * param.data
        state["step"] += 1
        t = float(state["step"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1.0 - beta1) * grad
        v *= beta2
        v += (1.0 - beta2) * grad * grad
        m_hat = m / (1.0 - beta1**t) if bias_correction else m
        v_hat = v / (1.0 - beta2**t) if bias_correction else v
        denom = np.sqrt(v_hat + group["eps"]) if eps_inside_sqrt else np.sqrt(v_hat) + group["eps"]
        param.data -= scale * group["lr"] * m_hat / denom

    return update


MUTANTS = [
    Mutant(
        "adam_without_bias_correction",
        "Adam uses the raw moments m and v, not m / (1 - b1^t) and v / (1 - b2^t): early steps are too small",
        so.Adam,
        "_update",
        _adam_update(bias_correction=False),
        ("Adam",),
    ),
    Mutant(
        "adam_eps_inside_sqrt",
        "Adam divides by sqrt(v^ + eps) instead of sqrt(v^) + eps: small-gradient elements barely move",
        so.Adam,
        "_update",
        _adam_update(eps_inside_sqrt=True),
        ("Adam",),
    ),
    Mutant(
        "adam_step_off_by_1e-7",
        "every Adam step is (1 + 1e-7) times too long: invisible in a loss curve, a float64 parity failure",
        so.Adam,
        "_update",
        _adam_update(scale=1.0 + SUBTLE_REL),
        ("Adam",),
    ),
]
