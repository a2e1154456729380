"""Planted bugs in chapter 2's hand-written gradients (``scratch/regression.py``).

All three are the book's own (``book_facts.md`` bug 7): its chapter 2 code neither divides the
gradients by the batch size nor keeps one hidden bias gradient per unit (it sums them into one
number, so every hidden bias moves by the same step). Each part is planted on its own.
"""

from __future__ import annotations

import numpy as np

import scratch.regression as sr
from parity_tests.mutation import Mutant
from scratch.regression import Cache, Weights

_linear_gradients = sr.linear_regression_gradients
_two_layer_gradients = sr.two_layer_gradients


def linear_gradients_not_divided_by_batch(cache: Cache, weights: Weights) -> Weights:
    """The book's ``dL/dP = 2 (P - y)``, missing the mean's ``1 / N``."""
    n = cache["X"].shape[0]
    return {k: n * g for k, g in _linear_gradients(cache, weights).items()}


def two_layer_gradients_not_divided_by_batch(cache: Cache, weights: Weights) -> Weights:
    """The same missing ``1 / N`` in the two-layer network."""
    n = cache["X"].shape[0]
    return {k: n * g for k, g in _two_layer_gradients(cache, weights).items()}


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
        "two-layer network gradients not divided by the batch size",
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
