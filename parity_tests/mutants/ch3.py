"""Planted bugs in the chapter 3 training stack: loss, optimizer, operations, activation, trainer.

Each replaces one method of the scratch twin; the registry cases named in ``components`` must catch
it (operator cases through their gradient rows, training runs through their trajectories).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import scratch.activations as sa
import scratch.layers as sl
import scratch.losses as sL
import scratch.operations as so
import scratch.optimizers as sopt
import scratch.trainer as st
from parity_tests.mutation import Mutant
from scratch._checks import Array
from scratch.module import Parameter


def _mse_grad_not_divided(self: sL.MeanSquaredError) -> Array:
    return 2.0 * (self.prediction - self.target)  # forgets the 1/N (or 1/(N*D))


def _mse_batchmean_divides_by_all_elements(self: sL.MeanSquaredError) -> int:
    return self.prediction.size if self.reduction != "sum" else 1  # batchmean behaves like mean


def _sgd_ascends(self: sopt.SGD, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
    param.data += group["lr"] * grad  # wrong sign: gradient ascent


def _sgd_lr_twice(self: sopt.SGD, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
    param.data -= group["lr"] * group["lr"] * grad  # lr applied twice


def _bias_grad_averaged(self: so.BiasAdd, grad_output: Array) -> Array:
    return np.mean(grad_output, axis=0)  # averaged instead of summed over the batch


def _weight_grad_transposed(self: so.WeightMultiply, grad_output: Array) -> Array:
    # (in, N) @ (N, out) -> (in, out): the book's layout, squeezed back into (out, in) without transposing
    return (self.input.T @ grad_output).reshape(self.param.shape)


def _sigmoid_grad_from_input(self: sa.Sigmoid, grad_output: Array) -> Array:
    return grad_output * self.input * (1.0 - self.input)  # s'(x) taken at the input, not the output


def _layer_backward_in_forward_order(self: sl.Layer, grad_output: Array) -> Array:
    grad = grad_output
    for op in self.operations:  # forward order: the activation's derivative is applied last, not first
        grad = op.backward(grad)
    return grad


def _never_improves_after_first(self: st.Trainer, epoch: int, loss: float) -> bool:
    first = self._best is None
    if first:
        self.best_loss, self._best = loss, (epoch, self.net.state_dict())
    return first  # stops at the second evaluation whatever the loss did


def _book_early_stopping_restore(self: st.Trainer, epoch: int, loss: float) -> bool:
    """The book's restore: on a test loss that does not improve, it goes back to the copy taken at
    the start of the failing evaluation's epoch (after epoch ``e - 1``), a model that was never
    evaluated when ``eval_every > 1``; with ``eval_every = 1`` that copy is the best model."""
    if loss < self.best_loss:
        self.best_loss = loss
        self._best = (epoch, self.net.state_dict())
        return True
    if len(self.history.epoch_params) >= 2:  # BUG: the model after epoch e - 1, not the best one evaluated
        self._best = (epoch - 1, self.history.epoch_params[-2])
    return False


MUTANTS = [
    Mutant(
        "mse_grad_not_divided",
        "MSE gradient 2(P - Y) without dividing by the number of elements or rows",
        sL.MeanSquaredError,
        "_input_grad",
        _mse_grad_not_divided,
        ("MeanSquaredError",),
    ),
    Mutant(
        "mse_batchmean_is_mean",
        "the book's batchmean reduction divides by N*D like PyTorch's mean",
        sL.MeanSquaredError,
        "_divisor",
        _mse_batchmean_divides_by_all_elements,
        ("MeanSquaredError",),
    ),
    Mutant(
        "sgd_ascends",
        "SGD adds lr * g instead of subtracting it",
        sopt.SGD,
        "_update",
        _sgd_ascends,
        ("SGD", "boston_linear", "boston_sigmoid_13"),
    ),
    Mutant(
        "sgd_lr_twice",
        "SGD steps by lr^2 * g",
        sopt.SGD,
        "_update",
        _sgd_lr_twice,
        ("SGD", "boston_linear", "boston_sigmoid_13"),
    ),
    Mutant(
        "bias_grad_averaged",
        "BiasAdd gradient averaged over the batch instead of summed",
        so.BiasAdd,
        "_param_grad",
        _bias_grad_averaged,
        ("BiasAdd", "NeuralNetwork"),
    ),
    Mutant(
        "weight_grad_transposed",
        "WeightMultiply gradient computed in the (in, out) layout and reshaped, not transposed",
        so.WeightMultiply,
        "_param_grad",
        _weight_grad_transposed,
        ("WeightMultiply", "NeuralNetwork"),
    ),
    Mutant(
        "sigmoid_grad_from_input",
        "Sigmoid backward uses x(1 - x) with the input x instead of s(1 - s) with the output",
        sa.Sigmoid,
        "_input_grad",
        _sigmoid_grad_from_input,
        ("Sigmoid", "NeuralNetwork"),
    ),
    Mutant(
        "layer_backward_in_forward_order",
        "Layer backward runs its operations in forward order instead of in reverse",
        sl.Layer,
        "backward",
        _layer_backward_in_forward_order,
        ("Dense", "NeuralNetwork"),
    ),
    Mutant(
        "early_stopping_too_eager",
        "Trainer stops at the second evaluation even when the test loss improved",
        st.Trainer,
        "_improved",
        _never_improves_after_first,
        ("trainer",),
        expect="lockstep",
    ),
    Mutant(
        "book_early_stopping_restore",
        "early stopping restores the copy taken at the start of the failing evaluation's epoch, never evaluated "
        "when eval_every > 1 (the book's code)",
        st.Trainer,
        "_improved",
        _book_early_stopping_restore,
        ("early_stopping_overshoot_every_2",),
        book_bug=11,
        expect="lockstep",
    ),
]
