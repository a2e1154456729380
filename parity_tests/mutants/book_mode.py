"""Planted bugs for the book-mode options: the book's own code where it is wrong.

Each replaces one method of the scratch twin with what the book's 2019 code computes there; the
registry cases named in ``components`` must catch it with a failing check row.
"""

from __future__ import annotations

import scratch.losses as sL
from parity_tests.mutation import Mutant
from scratch._checks import Array

_mse_input_grad = sL.MeanSquaredError._input_grad


def _mse_normalized_grad_without_jacobian(self: sL.MeanSquaredError) -> Array:
    if not self.normalize:
        return _mse_input_grad(self)
    return 2.0 * (self.normalized - self.target) / self._divisor()  # dL/dQ passed off as dL/dP


MUTANTS = [
    Mutant(
        "book_mse_normalize_gradient",
        "MeanSquaredError(normalize=True) returns 2 (P / sum P - Y) / N, ignoring the normalisation's "
        "Jacobian: not the gradient of its own value",
        sL.MeanSquaredError,
        "_input_grad",
        _mse_normalized_grad_without_jacobian,
        ("MeanSquaredError",),
        book_bug=10,
    ),
]
