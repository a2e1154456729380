"""Subtle planted bugs: one value off by a relative 1e-7 (operator checks) or a gradient by 1e-6 (oracle).

The gross mutants of the other modules show that the harness sees wrong formulas; these show how
small an error it sees. For every component family there is

- an ``operator`` mutant: one output element or one gradient element (the largest in magnitude)
  multiplied by ``1 + 1e-7``, which the twin comparison must catch, and
- where the family has a derivative, an ``oracle`` mutant: a gradient multiplied by ``1 + 1e-6``,
  which the finite-difference oracle must catch by its own rows (it knows nothing of torch).

Initialisation and optimizer updates have no derivative to check, so they have no oracle mutant.
"""

from __future__ import annotations

import math
from typing import Any

import scratch.activations as sa
import scratch.autodiff as sad
import scratch.autoencoder as sae
import scratch.charlm as sch
import scratch.conv as sc
import scratch.functions as sf
import scratch.init as si
import scratch.layers as sl
import scratch.losses as sL
import scratch.operations as so
import scratch.optimizers as sopt
import scratch.pooling as sp
import scratch.regression as sr
import scratch.rnn as srnn
from parity_tests.mutants._nudge import OPERATOR_REL, ORACLE_REL, nudged, scale
from parity_tests.mutation import Mutant
from scratch._checks import Array
from scratch.module import Parameter


def _sgd_one_step_off(self: sopt.SGD, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
    param.data -= scale(group["lr"] * grad, OPERATOR_REL, every=False)  # one element's step off by 1e-7


def _tanh_local_derivative_off(rel: float) -> Any:
    def tanh(self: sad.NumberWithGrad) -> sad.NumberWithGrad:
        out = math.tanh(self.value)
        return self._node(out, "tanh", (self, (1.0 - out * out) * (1.0 + rel)))

    return tanh


def _operator(name: str, what: str, target: Any, attribute: str, components: tuple[str, ...], **kw: Any) -> Mutant:
    """One element of ``target.attribute``'s result off by a relative 1e-7."""
    replacement = nudged(getattr(target, attribute), OPERATOR_REL, **kw)
    return Mutant(name, f"{what} off by a relative 1e-7", target, attribute, replacement, components)


def _oracle(name: str, what: str, target: Any, attribute: str, components: tuple[str, ...], **kw: Any) -> Mutant:
    """Every element of the gradient ``target.attribute`` returns off by a relative 1e-6."""
    replacement = nudged(getattr(target, attribute), ORACLE_REL, every=True, **kw)
    return Mutant(name, f"{what} off by a relative 1e-6", target, attribute, replacement, components, expect="oracle")


MUTANTS = [
    # functions (chapter 1)
    _operator("subtle_sigmoid_deriv", "one element of sigmoid_deriv", sf, "sigmoid_deriv", ("sigmoid",)),
    _oracle("oracle_square_deriv", "square_deriv", sf, "square_deriv", ("square",)),
    # regression (chapter 2)
    _operator(
        "subtle_linear_regression_weight_grad",
        "one element of the linear model's weight gradient",
        sr,
        "linear_regression_gradients",
        ("linear_loss",),
        item="weight",
    ),
    _oracle(
        "oracle_two_layer_grads", "every gradient of the two-layer net", sr, "two_layer_gradients", ("two_layer_loss",)
    ),
    # operations and layers (chapter 3)
    _operator(
        "subtle_weight_multiply_grad",
        "one element of WeightMultiply's weight gradient",
        so.WeightMultiply,
        "_param_grad",
        ("WeightMultiply",),
    ),
    _oracle("oracle_bias_add_grad", "BiasAdd's bias gradient", so.BiasAdd, "_param_grad", ("BiasAdd",)),
    _operator("subtle_dense_input_grad", "one element of Dense's input gradient", sl.Layer, "backward", ("Dense",)),
    # activations
    _operator("subtle_tanh_output", "one output element of Tanh", sa.Tanh, "_output", ("Tanh",)),
    _operator("subtle_tanh_grad", "one element of Tanh's input gradient", sa.Tanh, "_input_grad", ("Tanh",)),
    _oracle("oracle_sigmoid_grad", "Sigmoid's input gradient", sa.Sigmoid, "_input_grad", ("Sigmoid",)),
    # losses
    _operator("subtle_mse_value", "MeanSquaredError's value", sL.MeanSquaredError, "_output", ("MeanSquaredError",)),
    _operator(
        "subtle_softmax_ce_grad",
        "one element of SoftmaxCrossEntropy's gradient",
        sL.SoftmaxCrossEntropy,
        "_input_grad",
        ("SoftmaxCrossEntropy",),
    ),
    _oracle(
        "oracle_softmax_ce_grad",
        "SoftmaxCrossEntropy's gradient (book variant included)",
        sL.SoftmaxCrossEntropy,
        "_input_grad",
        ("SoftmaxCrossEntropy",),
    ),
    _oracle(
        "oracle_mse_grad", "MeanSquaredError's gradient", sL.MeanSquaredError, "_input_grad", ("MeanSquaredError",)
    ),
    # init (chapter 4): caught by the exact scale row, which no sampling statistic could do
    _operator("subtle_init_std", "the initialisation std", si, "init_std", ("init",)),
    # optimizers
    Mutant(
        "subtle_sgd_step",
        "one element of SGD's step off by a relative 1e-7",
        sopt.SGD,
        "_update",
        _sgd_one_step_off,
        ("sgd_constant_lr",),
    ),
    # dropout
    _operator("subtle_dropout_grad", "one element of Dropout's input gradient", sl.Dropout, "backward", ("Dropout",)),
    _oracle("oracle_dropout_grad", "Dropout's input gradient", sl.Dropout, "backward", ("Dropout",)),
    # convolution and pooling (chapter 5)
    _operator("subtle_conv2d_input_grad", "one element of Conv2d's input gradient", sc.Conv2d, "backward", ("Conv2d",)),
    _oracle("oracle_conv2d_input_grad", "Conv2d's input gradient", sc.Conv2d, "backward", ("Conv2d",)),
    _operator(
        "subtle_maxpool_grad", "one element of MaxPool2d's input gradient", sp.MaxPool2d, "_input_grad", ("MaxPool2d",)
    ),
    _oracle("oracle_avgpool_grad", "AvgPool2d's input gradient", sp.AvgPool2d, "_input_grad", ("AvgPool2d",)),
    # recurrent layers and the character model (chapter 6)
    _operator("subtle_lstm_input_grad", "one element of LSTM's input gradient", srnn.LSTM, "backward", ("LSTM",)),
    _oracle("oracle_gru_input_grad", "GRU's input gradient", srnn.GRU, "backward", ("GRU",)),
    _operator(
        "subtle_recurrent_layer_grad",
        "one element of RecurrentLayer's input gradient",
        sch.RecurrentLayer,
        "backward",
        ("RecurrentLayer",),
    ),
    _oracle(
        "oracle_recurrent_layer_grad",
        "RecurrentLayer's input gradient (carried-state cases included)",
        sch.RecurrentLayer,
        "backward",
        ("RecurrentLayer",),
    ),
    # autodiff
    Mutant(
        "subtle_autodiff_tanh",
        "NumberWithGrad.tanh's local derivative off by a relative 1e-7",
        sad.NumberWithGrad,
        "tanh",
        _tanh_local_derivative_off(OPERATOR_REL),
        ("ad_tanh",),
    ),
    Mutant(
        "oracle_autodiff_tanh",
        "NumberWithGrad.tanh's local derivative off by a relative 1e-6",
        sad.NumberWithGrad,
        "tanh",
        _tanh_local_derivative_off(ORACLE_REL),
        ("ad_tanh",),
        expect="oracle",
    ),
    # autoencoder (chapter 7)
    _operator(
        "subtle_unflatten_grad",
        "one element of Unflatten's input gradient",
        sae.Unflatten,
        "_input_grad",
        ("Unflatten",),
    ),
    _oracle(
        "oracle_autoencoder_input_grad",
        "ConvAutoencoder's input gradient",
        sae.ConvAutoencoder,
        "backward",
        ("conv_autoencoder_n2_h4_6x6", "conv_autoencoder_n3_h3_6x5"),  # the operator cases, not the training run
    ),
]
