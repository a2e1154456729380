"""Chapter 3: Operation, ParamOperation, WeightMultiply, BiasAdd.

Twin: ``torch_ref/operations.py``. An ``Operation`` caches its input in ``forward`` and turns an
upstream gradient into the input gradient in ``backward``; a ``ParamOperation`` also writes the
gradient of its one parameter. Shapes are checked at both ends.

Book layout note: the book stores W as ``(in, out)`` and computes ``X W``; we store PyTorch's
``weight (out, in)`` and compute ``X W^T`` so that state dicts move between the twins unchanged.
"""

from __future__ import annotations

import numpy as np

from scratch._checks import Array, as_float_array, check_input, check_same_shape, check_shape
from scratch.module import Module, Parameter


class Operation(Module):
    """One differentiable step ``Y = f(X)``.

    Subclasses implement ``_output()`` (reading ``self.input``) and ``_input_grad(grad_output)``;
    ``forward`` and ``backward`` add the caching and the shape checks around them. The input must be
    a finite float array with a non-empty leading batch axis; a subclass that needs a particular
    shape overrides ``_check_input``.
    """

    input: Array
    output: Array

    def forward(self, input: Array) -> Array:
        x = self._check_input(input)
        self._check_parameter_dtype(x, f"{type(self).__name__} input")
        self.input = x
        self.output = self._output()
        return self.output

    __call__ = forward

    def _check_input(self, input: Array) -> Array:
        name = f"{type(self).__name__} input"
        x = as_float_array(input, name)
        check_shape(x, (None,) * max(x.ndim, 1), name)  # a batch axis, not empty; 0-d is rejected
        return x

    def backward(self, grad_output: Array) -> Array:
        grad_output = check_same_shape(grad_output, self._forward_output(), f"{type(self).__name__} grad_output")
        grad_input = self._input_grad(grad_output)
        assert grad_input.shape == self.input.shape, "grad_input must have the input's shape"
        return grad_input

    def _output(self) -> Array:
        raise NotImplementedError

    def _input_grad(self, grad_output: Array) -> Array:
        raise NotImplementedError


class ParamOperation(Operation):
    """An ``Operation`` with one parameter, registered under ``name`` (``weight`` or ``bias``)."""

    def __init__(self, name: str, param: Array) -> None:
        super().__init__()
        self.param = self.register_parameter(name, Parameter(param))

    def backward(self, grad_output: Array) -> Array:
        grad_input = super().backward(grad_output)
        grad_param = self._param_grad(grad_output)
        assert grad_param.shape == self.param.shape, "grad of a parameter must have its shape"
        self.param.grad = grad_param
        return grad_input

    def _param_grad(self, grad_output: Array) -> Array:
        raise NotImplementedError


class WeightMultiply(ParamOperation):
    """``Y = X W^T`` with ``weight`` W of shape ``(out_features, in_features)``.

    Backward: ``dX = G W`` (N, in); ``dW = G^T X`` (out, in).
    """

    def __init__(self, weight: Array) -> None:
        weight = as_float_array(weight, "WeightMultiply weight")
        if weight.ndim != 2:
            raise ValueError(f"WeightMultiply weight must be 2-D (out_features, in_features), got shape {weight.shape}")
        super().__init__("weight", weight)

    def _check_input(self, input: Array) -> Array:
        return check_input(input, (None, self.param.shape[1]), "WeightMultiply input")  # (N, in_features)

    def _output(self) -> Array:
        return self.input @ self.param.data.T  # (N, in) @ (in, out) -> (N, out)

    def _input_grad(self, grad_output: Array) -> Array:
        return grad_output @ self.param.data  # (N, out) @ (out, in) -> (N, in)

    def _param_grad(self, grad_output: Array) -> Array:
        return grad_output.T @ self.input  # (out, N) @ (N, in) -> (out, in)


class BiasAdd(ParamOperation):
    """``Y = X + b`` with ``bias`` b of shape ``(out_features,)`` broadcast over the batch.

    Backward: ``dX = G``; ``db = sum_n G[n]``.
    """

    def __init__(self, bias: Array) -> None:
        bias = as_float_array(bias, "BiasAdd bias")
        if bias.ndim != 1:
            raise ValueError(f"bias must be 1-D (out_features,), got shape {bias.shape}")
        super().__init__("bias", bias)

    def _check_input(self, input: Array) -> Array:
        return check_input(input, (None, self.param.shape[0]), "BiasAdd input")  # (N, out_features): no broadcast

    def _output(self) -> Array:
        return self.input + self.param.data

    def _input_grad(self, grad_output: Array) -> Array:
        return grad_output

    def _param_grad(self, grad_output: Array) -> Array:
        return np.sum(grad_output, axis=0)  # (N, out) -> (out,)
