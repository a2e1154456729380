"""Planted bugs in chapter 2's hand-written gradients (``scratch/regression.py``).

All three are the book's own (``book_facts.md`` bug 7): its chapter 2 code neither divides the
gradients by the batch size nor keeps one hidden bias gradient per unit (it sums them into one
number, so every hidden bias moves by the same step). Each part is planted on its own.

The size of the missing factor differs by model (``BOOK_GRADIENT_FACTOR``). The linear model's
``dL/dP = -2 (y - P)`` lacks only the mean's ``1 / N``: ``N`` times the true gradient. The
two-layer network's ``dL/dP = -(y - P)`` drops the 2 as well: ``N / 2`` times the true gradient.
"""

from __future__ import annotations

import numpy as np

import scratch.regression as sr
from parity_tests.mutation import Mutant
from scratch.regression import Cache, Weights

_linear_gradients = sr.linear_regression_gradients
_two_layer_gradients = sr.two_layer_gradients


def book_gradient_factor(model: str, batch_size: int) -> float:
    """How many times the true (mean-loss) gradient the book's chapter 2 gradient is, for ``model``
    (``"linear"``: ``N``; ``"two_layer"``: ``N / 2``) and a batch of ``batch_size`` rows."""
    if model not in ("linear", "two_layer"):
        raise ValueError(f"unknown chapter 2 model {model!r}; choose from ('linear', 'two_layer')")
    return float(batch_size) if model == "linear" else batch_size / 2.0


def linear_gradients_not_divided_by_batch(cache: Cache, weights: Weights) -> Weights:
    """The book's ``dL/dP = 2 (P - y)``, missing the mean's ``1 / N``: ``N`` times the true gradient."""
    factor = book_gradient_factor("linear", cache["X"].shape[0])
    return {k: factor * g for k, g in _linear_gradients(cache, weights).items()}


def two_layer_gradients_not_divided_by_batch(cache: Cache, weights: Weights) -> Weights:
    """The book's ``dL/dP = P - y``: no ``1 / N`` and no 2, so ``N / 2`` times the true gradient."""
    factor = book_gradient_factor("two_layer", cache["X"].shape[0])
    return {k: factor * g for k, g in _two_layer_gradients(cache, weights).items()}


def two_layer_hidden_bias_gradient_collapsed(cache: Cache, weights: Weights) -> Weights:
    """``grad_bias1`` summed over the batch *and* the hidden units: one number for every unit."""
    grads = _two_layer_gradients(cache, weights)
    return {**grads, "bias1": np.full_like(grads["bias1"], grads["bias1"].sum())}


MUTANTS = [
    Mutant(
        "book_linear_gradients_not_divided_by_batch",
        "linear regression gradients not divided by the batch size",
        sr,
        "linear_regression_gradients",
        linear_gradients_not_divided_by_batch,
        ("regression",),
        book_bug=7,
    ),
    Mutant(
        "book_two_layer_gradients_not_divided_by_batch",
        "two-layer network gradients neither divided by the batch size nor multiplied by 2 (N/2 times too large)",
        sr,
        "two_layer_gradients",
        two_layer_gradients_not_divided_by_batch,
        ("regression",),
        book_bug=7,
    ),
    Mutant(
        "book_hidden_bias_gradient_collapsed",
        "the hidden bias gradient collapsed to one scalar shared by every hidden unit",
        sr,
        "two_layer_gradients",
        two_layer_hidden_bias_gradient_collapsed,
        ("regression",),
        book_bug=7,
    ),
]
