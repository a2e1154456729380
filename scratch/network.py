"""Chapter 3: NeuralNetwork, a stack of layers with a loss on top.

Twin: ``torch_ref/network.py``. The layers are registered as ``layers.0``, ``layers.1``, ... so
``state_dict()`` keys are the torch twin's (``layers.0.weight``), whose layers sit in an
``nn.ModuleList`` named ``layers``.
"""

from __future__ import annotations

from collections.abc import Sequence

from scratch._checks import Array
from scratch.layers import Layer
from scratch.losses import Loss
from scratch.module import Module


class NeuralNetwork(Module):
    """``P = layer_L(... layer_1(X))`` and ``loss(P, Y)``.

    Args:
        layers: the layers, applied in order.
        loss: the loss applied to the last layer's output.

    Forward: ``X_0 = X``, ``X_l = layer_l(X_{l-1})``, ``P = X_L``.
    Backward: ``G_L = dL/dP`` (from the loss), ``G_{l-1} = layer_l.backward(G_l)``; each layer
    writes its parameters' gradients on the way.
    """

    def __init__(self, layers: Sequence[Layer], loss: Loss) -> None:
        if not layers:
            raise ValueError("NeuralNetwork needs at least one layer")
        if not isinstance(loss, Loss):
            raise TypeError(f"loss must be a scratch Loss, got {type(loss).__name__}")
        super().__init__()
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Module):
                raise TypeError(f"layer {i} must be a scratch Module, got {type(layer).__name__}")
            self.register_module(f"layers.{i}", layer)  # keys layers.0.weight, as in nn.ModuleList
        self.loss = loss
        self.register_module("loss", loss)

    def forward(self, input: Array) -> Array:
        """The prediction ``P``; each layer checks and caches its input."""
        x = input
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, grad_output: Array) -> Array:
        """Back-propagate ``dL/dP`` through the layers in reverse; returns ``dL/dX``."""
        grad = grad_output
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def train_batch(self, input: Array, target: Array) -> float:
        """Forward, loss, backward on one batch; returns the loss. The optimizer steps separately."""
        prediction = self.forward(input)
        loss = self.loss.forward(prediction, target)
        self.backward(self.loss.backward())
        return loss
