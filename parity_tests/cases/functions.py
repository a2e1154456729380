"""Registry cases for ``functions`` (chapter 1).

Two kinds of case:

- ``OpCase`` for each function: forward values, then the scratch twin's hand-written derivative
  (or ``*_backward``) against autograd on the torch twin's forward, for a random upstream
  gradient, plus the finite-difference oracle.
- ``ValueCase`` (``parity_tests/valuecase.py``) for the derivative and backward functions
  themselves: the scratch twin's hand-written result against the torch twin's, which autograd
  computed. Only values are compared (differentiating a derivative again is not part of chapter 1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

import scratch.functions as sf
import torch_ref.functions as tf
from parity_tests.harness import Tolerance
from parity_tests.opcase import Array, InputSpec, OpCase, TwinPair
from parity_tests.valuecase import ValueCase


def _pair(
    forward_s: Callable[[dict[str, Array]], Array],
    backward_s: Callable[[dict[str, Array], Array], Mapping[str, Array]],
    forward_t: Callable[[dict[str, torch.Tensor]], torch.Tensor],
) -> TwinPair:
    """A ``TwinPair`` of free functions: backward sees the inputs of the last forward."""
    seen: dict[str, Array] = {}

    def scratch_forward(ins: dict[str, Array]) -> Array:
        seen.clear()
        seen.update(ins)
        return forward_s(ins)

    return TwinPair(scratch_forward, lambda v: backward_s(seen, v), forward_t)


# Look the scratch functions up when a case runs, not when this module is imported, so that a
# planted mutant (``mock.patch.object(scratch.functions, ...)``) is the function that runs.
def _elementwise(name: str, **kwargs: float) -> OpCase:
    """``f(x)`` forward; backward ``v * f'(x)`` with the scratch twin's hand-written ``f'``."""
    suffix = "_book" if kwargs else ""
    return OpCase(
        name=f"{name}{suffix}",
        component=name,
        stem="functions",
        chapter=1,
        op_class="elementwise",
        inputs={"x": InputSpec((7, 5))},
        build=lambda rng: _pair(
            lambda ins: getattr(sf, name)(ins["x"], **kwargs),
            lambda ins, v: {"x": v * getattr(sf, f"{name}_deriv")(ins["x"], **kwargs)},
            lambda ins: getattr(tf, name)(ins["x"], **kwargs),
        ),
    )


def _elementwise_deriv(name: str, **kwargs: float) -> ValueCase:
    """The hand-written ``f'(x)`` against autograd's."""
    suffix = "_book" if kwargs else ""
    return ValueCase(
        name=f"{name}_deriv{suffix}",
        component=f"{name}_deriv",
        stem="functions",
        chapter=1,
        op_class="elementwise",
        inputs={"x": InputSpec((7, 5))},
        scratch_outputs=lambda ins: {"output": getattr(sf, f"{name}_deriv")(ins["x"], **kwargs)},
        torch_outputs=lambda ins: {"output": getattr(tf, f"{name}_deriv")(ins["x"], **kwargs)},
    )


#: Chains by the names of their links, first applied first; each side takes its own functions.
CHAINS = {"chain_2": ("square", "sigmoid"), "chain_3": ("leaky_relu", "sigmoid", "square")}


def _chain(name: str) -> OpCase:
    links = CHAINS[name]
    return OpCase(
        name=name,
        component="chain",
        stem="functions",
        chapter=1,
        op_class="elementwise",
        inputs={"x": InputSpec((7, 5))},
        build=lambda rng: _pair(
            lambda ins: sf.chain([getattr(sf, f) for f in links], ins["x"]),
            lambda ins, v: {"x": v * sf.chain_deriv([getattr(sf, f) for f in links], ins["x"])},
            lambda ins: tf.chain([getattr(tf, f) for f in links], ins["x"]),
        ),
    )


def _chain_deriv(name: str) -> ValueCase:
    links = CHAINS[name]
    return ValueCase(
        name=f"{name}_deriv",
        component="chain_deriv",
        stem="functions",
        chapter=1,
        op_class="elementwise",
        inputs={"x": InputSpec((7, 5))},
        scratch_outputs=lambda ins: {"output": sf.chain_deriv([getattr(sf, f) for f in links], ins["x"])},
        torch_outputs=lambda ins: {"output": tf.chain_deriv([getattr(tf, f) for f in links], ins["x"])},
    )


# Non-square shapes throughout (N=4, in=3, out=5): a missing transpose cannot hide.
_XW = {"X": InputSpec((4, 3)), "W": InputSpec((3, 5))}


def _matrix(name: str) -> OpCase:
    """``name_forward`` against torch; backward by the scratch ``name_backward``."""

    def backward(ins: dict[str, Array], v: Array) -> dict[str, Array]:
        grad_X, grad_W = getattr(sf, f"{name}_backward")(ins["X"], ins["W"], v)
        return {"X": grad_X, "W": grad_W}

    return OpCase(
        name=name,
        component=f"{name}_forward",
        stem="functions",
        chapter=1,
        op_class="matmul",
        inputs=dict(_XW),
        build=lambda rng: _pair(
            lambda ins: getattr(sf, f"{name}_forward")(ins["X"], ins["W"]),
            backward,
            lambda ins: getattr(tf, f"{name}_forward")(ins["X"], ins["W"]),
        ),
    )


def _matrix_backward(name: str, grad_shape: tuple[int, ...]) -> ValueCase:
    """``name_backward``: the hand-written gradients against the torch twin's autograd ones."""

    def outputs(module: Any, ins: Mapping[str, Any]) -> dict[str, Any]:
        grad_X, grad_W = getattr(module, f"{name}_backward")(ins["X"], ins["W"], ins["grad_output"])
        return {"grad_X": grad_X, "grad_W": grad_W}

    return ValueCase(
        name=f"{name}_backward",
        component=f"{name}_backward",
        stem="functions",
        chapter=1,
        op_class="matmul",
        inputs={**_XW, "grad_output": InputSpec(grad_shape)},
        scratch_outputs=lambda ins: outputs(sf, ins),
        torch_outputs=lambda ins: outputs(tf, ins),
    )


DELTA = 1e-3  # the book's step for ``deriv``
SIGMOID_D3_MAX = 1 / 8  # max |s'''(x)| = |s'''(0)| = 1/8
X_S1_MAX = 0.23  # max |x s'(x)| over all x (about 0.224, at |x| ~ 1.54)


def _central_difference_tolerance(eps: float) -> Tolerance:
    """Truncation ``delta^2/6 max|s'''|`` plus rounding ``eps (2 max|s| + max|x s'|) / (2 delta)``."""
    truncation = DELTA**2 / 6 * SIGMOID_D3_MAX
    rounding = eps * (2 * 1.0 + X_S1_MAX) / (2 * DELTA) * 4  # x4: a few roundings per evaluation
    return Tolerance(
        truncation + rounding,
        0.0,
        f"central difference, delta={DELTA}: truncation delta^2/6*max|s'''| = {truncation:.2g} "
        f"plus rounding ~eps*(2 max|s| + max|x s'|)/(2 delta) x4 = {rounding:.2g} (eps={eps:.2g})",
    )


CENTRAL_DIFFERENCE = ValueCase(
    name="deriv_central_difference_sigmoid",
    component="deriv",
    stem="functions",
    chapter=1,
    op_class="elementwise",
    inputs={"x": InputSpec((7, 5))},
    scratch_outputs=lambda ins: {"output": sf.deriv(sf.sigmoid, ins["x"], DELTA)},
    torch_outputs=lambda ins: {"output": tf.deriv(tf.sigmoid, ins["x"])},
    tolerances={
        "float64": _central_difference_tolerance(float(np.finfo(np.float64).eps)),
        "float32": _central_difference_tolerance(float(np.finfo(np.float32).eps)),
    },
)

CASES = [
    _elementwise("square"),
    _elementwise("leaky_relu"),
    _elementwise("leaky_relu", negative_slope=0.2),
    _elementwise("sigmoid"),
    _elementwise_deriv("square"),
    _elementwise_deriv("leaky_relu"),
    _elementwise_deriv("leaky_relu", negative_slope=0.2),
    _elementwise_deriv("sigmoid"),
    CENTRAL_DIFFERENCE,
    _chain("chain_2"),
    _chain("chain_3"),
    _chain_deriv("chain_2"),
    _chain_deriv("chain_3"),
    _matrix("matmul"),
    _matrix("sigmoid_matmul"),
    _matrix("sigmoid_matmul_sum"),
    _matrix_backward("matmul", (4, 5)),
    _matrix_backward("sigmoid_matmul", (4, 5)),
    _matrix_backward("sigmoid_matmul_sum", ()),
]
