"""Chapter 7: the convolutional autoencoder, and the ``Unflatten`` reshape its decoder needs.

Twin: ``torch_ref/autoencoder.py``. The book builds it in PyTorch only (chapter 7); here it is
also built from the scratch layers of chapters 3-5, with a hand-written backward.

Architecture (the book's ``Encoder`` / ``Decoder`` / ``Autoencoder``; ``H x W`` the image, 28x28
in the book; every convolution 5x5 with "same" padding 2, stride 1, with bias, then tanh)::

    encoder  conv1   Conv2D(1 -> 14)                       (N, 1, H, W)  -> (N, 14, H, W)
             conv2   Conv2D(14 -> 7), flatten              (N, 14, H, W) -> (N, 7*H*W)
             dense1  Dense(7*H*W -> hidden_dim), tanh      (N, 7*H*W)    -> (N, hidden_dim)
    decoder  dense1  Dense(hidden_dim -> 7*H*W), tanh      (N, hidden_dim) -> (N, 7*H*W)
             unflatten                                     (N, 7*H*W)    -> (N, 7, H, W)
             conv1   Conv2D(7 -> 14)                       (N, 7, H, W)  -> (N, 14, H, W)
             conv2   Conv2D(14 -> 1)                       (N, 14, H, W) -> (N, 1, H, W)

The decoder's convolutions are ordinary convolutions, as in the book's code (its layers module
also defines a ``DeconvLayer``, ``nn.ConvTranspose2d``, which the autoencoder does not use; the
book notes that a transposed convolution is needed only when a stride above 1 shrinks the image).
With stride 1 and "same" padding the two are the same family anyway: a transposed convolution
equals a convolution with the kernel flipped in both spatial axes and its channel axes swapped.

Backward runs the chain in reverse: each layer turns ``grad_output`` into ``grad_input`` and
writes its parameters' gradients; ``Unflatten``'s backward is the reshape back. ``grads`` and
``state_dict()`` are keyed like the torch twin's (``encoder.conv1.weight``, ...), so weights move
between the twins unchanged.

Initial weights: PyTorch's default for ``nn.Conv2d`` and ``nn.Linear``, which the book's chapter 7
code keeps: weight and bias uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``, ``fan_in`` the input
width (``C_in * k * k`` for a convolution), drawn here from the given ``rng``.

The book's ``forward`` returns ``(reconstruction, encoding)``; ours returns the reconstruction
(what the loss needs) and ``encode(x)`` gives the encoding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from scratch._checks import Array, as_float_array, check_input, check_same_shape, check_shape
from scratch.activations import Tanh
from scratch.layers import Conv2D, Dense, Layer
from scratch.operations import Operation

#: The book's channels (encoder 1 -> 14 -> 7, decoder 7 -> 14 -> 1) and kernel side.
CHANNELS = (14, 7)
KERNEL_SIZE = 5


def image_hw(image_size: int | tuple[int, int]) -> tuple[int, int]:
    """``(H, W)`` from a side or a pair; both must be positive integers."""
    hw = (image_size, image_size) if isinstance(image_size, (int, np.integer)) else tuple(image_size)
    if len(hw) != 2 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1 for s in hw):
        raise ValueError(f"image_size must be a positive int or a pair (H, W) of them, got {image_size!r}")
    return int(hw[0]), int(hw[1])


def _check_hidden_dim(hidden_dim: object) -> int:
    if not isinstance(hidden_dim, (int, np.integer)) or isinstance(hidden_dim, bool) or hidden_dim < 1:
        raise ValueError(f"hidden_dim must be a positive integer, got {hidden_dim!r}")
    return int(hidden_dim)


class Unflatten(Operation):
    """Chapter 7: split axis ``dim`` into ``unflattened_size`` (C order). Twin: ``nn.Unflatten``.

    Args:
        dim: the axis to split, ``>= 1`` (axis 0 is the batch).
        unflattened_size: its new shape; the product must equal the axis' length.

    Forward: ``Y = X.reshape(X.shape[:dim] + unflattened_size + X.shape[dim+1:])``.
    Backward: ``dX = G.reshape(X.shape)``: a reshape moves no element, so its gradient is the
    inverse reshape (in the same C order; any other order would scramble the pixels).

    Shape: ``(N, C*H*W)`` -> ``(N, C, H, W)`` with ``dim=1``, ``unflattened_size=(C, H, W)``.
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool) or dim < 1:
            raise ValueError(f"Unflatten dim must be an int >= 1 (axis 0 is the batch), got {dim!r}")
        sizes = tuple(unflattened_size)
        if not sizes or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in sizes):
            raise ValueError(f"Unflatten unflattened_size must be positive ints, got {unflattened_size!r}")
        self.dim = int(dim)
        self.unflattened_size = tuple(int(s) for s in sizes)

    def _check_input(self, input: Array) -> Array:
        x = as_float_array(input, "Unflatten input")
        check_shape(x, (None,) * max(x.ndim, 1), "Unflatten input")  # a non-empty batch axis
        if x.ndim <= self.dim or x.shape[self.dim] != math.prod(self.unflattened_size):
            raise ValueError(
                f"Unflatten input has shape {x.shape}, expected axis {self.dim} of size "
                f"{math.prod(self.unflattened_size)} (to split into {self.unflattened_size})"
            )
        return x

    def _output(self) -> Array:
        shape = self.input.shape
        return self.input.reshape(shape[: self.dim] + self.unflattened_size + shape[self.dim + 1 :])  # (N, C, H, W)

    def _input_grad(self, grad_output: Array) -> Array:
        return grad_output.reshape(self.input.shape)  # (N, C, H, W) -> (N, C*H*W)


def torch_default_init(layer: Conv2D | Dense, rng: np.random.Generator) -> None:
    """Redraw ``layer``'s weight and bias as ``nn.Conv2d`` / ``nn.Linear`` do by default:
    uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]`` (``kaiming_uniform_(a=sqrt(5))`` for the weight)."""
    state = layer.state_dict()
    fan_in = state["weight"][0].size  # in_features, or C_in * k * k
    bound = 1.0 / math.sqrt(fan_in)
    layer.load_state_dict({k: rng.uniform(-bound, bound, v.shape) for k, v in state.items()})


class _Chain(Layer):
    """The autoencoder's parts: named layers run forward in order and backward in reverse.

    Subclasses build their layers, then hand them to ``_chain`` (which registers them under their
    names and, given ``rng``, redraws their weights with ``torch_default_init``).
    """

    layers: tuple[Layer | Operation, ...] = ()

    def __init__(self, hidden_dim: int, image_size: int | tuple[int, int]) -> None:
        super().__init__([])
        self.hidden_dim, self.image_size = _check_hidden_dim(hidden_dim), image_hw(image_size)
        self.flat_features = CHANNELS[1] * self.image_size[0] * self.image_size[1]  # 7*H*W

    def _chain(self, rng: np.random.Generator | None, **named: Layer | Operation) -> None:
        self.layers = tuple(named.values())
        for name, layer in named.items():
            self.register_module(name, layer)
            if rng is not None and isinstance(layer, (Conv2D, Dense)):
                torch_default_init(layer, rng)

    def _input_shape(self) -> tuple[int | str | None, ...]:
        raise NotImplementedError

    def forward(self, input: Array) -> Array:
        name = f"{type(self).__name__} input"
        x = check_input(input, self._input_shape(), name)
        self._check_parameter_dtype(x, name)
        for layer in self.layers:
            x = layer.forward(x)
        self.output = x
        return x

    __call__ = forward

    def backward(self, grad_output: Array) -> Array:
        grad = check_same_shape(grad_output, self._forward_output(), f"{type(self).__name__} grad_output")
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad


class Encoder(_Chain):
    """The book's ``Encoder``: two tanh convolutions, flatten, a tanh ``Dense`` to ``hidden_dim``.

    Shape: ``(N, 1, H, W)`` -> ``(N, hidden_dim)``. Parameters ``conv1.*``, ``conv2.*``, ``dense1.*``.
    """

    def __init__(
        self, hidden_dim: int = 28, image_size: int | tuple[int, int] = 28, *, rng: np.random.Generator | None = None
    ) -> None:
        super().__init__(hidden_dim, image_size)
        rng = np.random.default_rng() if rng is None else rng
        c1, c2 = CHANNELS
        self.conv1 = Conv2D(1, c1, KERNEL_SIZE, Tanh(), rng=rng)  # (N, 14, H, W)
        self.conv2 = Conv2D(c1, c2, KERNEL_SIZE, Tanh(), flatten=True, rng=rng)  # (N, 7*H*W)
        self.dense1 = Dense(self.flat_features, self.hidden_dim, Tanh(), rng=rng)  # (N, hidden_dim)
        self._chain(rng, conv1=self.conv1, conv2=self.conv2, dense1=self.dense1)

    def _input_shape(self) -> tuple[int | str | None, ...]:
        return ("N", 1, *self.image_size)


class Decoder(_Chain):
    """The book's ``Decoder``: a tanh ``Dense`` to ``7*H*W``, unflatten to ``(7, H, W)``, two tanh
    convolutions back to one channel.

    Shape: ``(N, hidden_dim)`` -> ``(N, 1, H, W)``. Parameters ``dense1.*``, ``conv1.*``, ``conv2.*``.
    """

    def __init__(
        self, hidden_dim: int = 28, image_size: int | tuple[int, int] = 28, *, rng: np.random.Generator | None = None
    ) -> None:
        super().__init__(hidden_dim, image_size)
        rng = np.random.default_rng() if rng is None else rng
        c1, c2 = CHANNELS
        self.dense1 = Dense(self.hidden_dim, self.flat_features, Tanh(), rng=rng)  # (N, 7*H*W)
        self.unflatten = Unflatten(1, (c2, *self.image_size))  # (N, 7, H, W)
        self.conv1 = Conv2D(c2, c1, KERNEL_SIZE, Tanh(), rng=rng)  # (N, 14, H, W)
        self.conv2 = Conv2D(c1, 1, KERNEL_SIZE, Tanh(), rng=rng)  # (N, 1, H, W)
        self._chain(rng, dense1=self.dense1, unflatten=self.unflatten, conv1=self.conv1, conv2=self.conv2)

    def _input_shape(self) -> tuple[int | str | None, ...]:
        return ("N", self.hidden_dim)


class ConvAutoencoder(_Chain):
    """Chapter 7: ``Y = decoder(encoder(X))``, trained to reconstruct its input ``X``.

    Args:
        hidden_dim: width of the encoding (the book's 28).
        image_size: ``H`` (square) or ``(H, W)``; the book's MNIST digits are 28.
        rng: generator for the initial weights (PyTorch's default rule; module docstring).

    Shape: input ``(N, 1, H, W)``, output ``(N, 1, H, W)`` in ``(-1, 1)`` (tanh); ``encode``
    gives ``(N, hidden_dim)``.

    Backward: ``dX = encoder.backward(decoder.backward(G))``; ``grads`` holds every parameter's
    gradient under the ``state_dict`` keys ``encoder.conv1.weight`` ... ``decoder.conv2.bias``
    (weights ``(C_out, C_in, 5, 5)`` and ``(out, in)``, PyTorch's layouts).

    Example::

        >>> ae = ConvAutoencoder(hidden_dim=4, image_size=6, rng=np.random.default_rng(0))
        >>> ae.forward(np.zeros((2, 1, 6, 6))).shape, ae.encode(np.zeros((2, 1, 6, 6))).shape
        ((2, 1, 6, 6), (2, 4))
    """

    def __init__(
        self, hidden_dim: int = 28, image_size: int | tuple[int, int] = 28, *, rng: np.random.Generator | None = None
    ) -> None:
        super().__init__(hidden_dim, image_size)
        rng = np.random.default_rng() if rng is None else rng
        self.encoder = Encoder(hidden_dim, image_size, rng=rng)
        self.decoder = Decoder(hidden_dim, image_size, rng=rng)
        self._chain(None, encoder=self.encoder, decoder=self.decoder)  # the parts drew their own weights

    def _input_shape(self) -> tuple[int | str | None, ...]:
        return ("N", 1, *self.image_size)

    def encode(self, input: Array) -> Array:
        """The encoding ``(N, hidden_dim)``. It overwrites the encoder's cache, so a ``backward``
        needs a fresh ``forward`` first (and gets a clear error without one)."""
        self.__dict__.pop("output", None)
        return self.encoder.forward(input)
