"""The book's own initial weights, so that ``--book`` runs start where the book's code starts.

The book's chapter 3-4 ``Dense`` layer sets itself up at its first forward pass: when its network
has a seed it calls ``np.random.seed(seed)`` (every layer reseeds with the *same* seed, so layers
of equal shape start identical) and draws, from NumPy's legacy normal stream, its weight
``W (in, out)`` and then its bias ``B (1, out)``, both ``N(0, scale)``: scale 1 for the
``"standard"`` init, ``2 / (in + out)`` for the book's ``"glorot"`` (written without the square
root). ``book_dense_state`` replays those draws on a private ``RandomState`` and returns them in
our twins' layout (``weight (out, in) = W^T``, ``bias (out,) = B[0]``), keyed like ``state_dict``.

Together with ``parity_tests.book_order.book_permutation`` (the book's batch order for the same
seed) this reproduces the book's chapter 3 runs from their seeds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
#: The book's init names -> std of the normal draw for fans ``(in, out)``.
BOOK_SCALES = {"standard": lambda n_in, n_out: 1.0, "glorot": lambda n_in, n_out: 2.0 / (n_in + n_out)}


def book_dense_state(
    shapes: Sequence[tuple[int, int]], seed: int, init: str = "standard", names: Sequence[str] | None = None
) -> dict[str, F64]:
    """``{"<name>.weight": (out, in), "<name>.bias": (out,)}`` as the book's layers draw them.

    Args:
        shapes: ``(in_features, out_features)`` of each Dense layer, input to output.
        seed: the network's seed (every layer reseeds with it; ``0`` would mean no reseeding in
            the book, which this replay does not model).
        init: ``"standard"`` or ``"glorot"`` (the book's).
        names: each layer's ``state_dict`` prefix; default ``layers.0``, ``layers.1``, ...
            (networks with other layers in between, e.g. dropout, name their Dense layers).
    """
    if init not in BOOK_SCALES:
        raise ValueError(f"unknown book init {init!r}; choose from {sorted(BOOK_SCALES)}")
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed <= 0:
        raise ValueError(f"the book's network seed must be a positive int, got {seed!r}")
    prefixes = [f"layers.{i}" for i in range(len(shapes))] if names is None else list(names)
    if len(prefixes) != len(shapes):
        raise ValueError(f"{len(shapes)} shapes but {len(prefixes)} names")
    state: dict[str, F64] = {}
    for prefix, (n_in, n_out) in zip(prefixes, shapes, strict=True):
        stream = np.random.RandomState(seed)  # the layer's np.random.seed(seed)
        scale = BOOK_SCALES[init](n_in, n_out)
        weight = stream.normal(loc=0.0, scale=scale, size=(n_in, n_out))  # W (in, out)
        bias = stream.normal(loc=0.0, scale=scale, size=(1, n_out))  # B (1, out)
        state[f"{prefix}.weight"] = np.ascontiguousarray(weight.T)  # (out, in)
        state[f"{prefix}.bias"] = bias[0].copy()  # (out,)
    return state


def book_conv_weight(in_channels: int, out_channels: int, kernel: int, seed: int) -> F64:
    """The book's chapter 5 ``Conv2D`` weight for a network seed, in our layout ``(C_out, C_in, k, k)``.

    The book's conv layer reseeds like its Dense layers and draws its one parameter
    ``(C_in, C_out, k, k)`` from ``N(0, 2 / (C_in + C_out))`` (its Glorot, channels only, no square
    root); it has no bias.
    """
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed <= 0:
        raise ValueError(f"the book's network seed must be a positive int, got {seed!r}")
    stream = np.random.RandomState(seed)
    scale = BOOK_SCALES["glorot"](in_channels, out_channels)
    weight = stream.normal(loc=0.0, scale=scale, size=(in_channels, out_channels, kernel, kernel))
    return np.ascontiguousarray(weight.transpose(1, 0, 2, 3))  # (C_in, C_out, k, k) -> (C_out, C_in, k, k)
