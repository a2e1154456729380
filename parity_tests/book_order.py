"""The book's batch order: which rows its ``Trainer`` puts in each batch, for a given seed.

The book's chapter 3-4 ``Trainer.fit`` draws its epoch orders from NumPy's *global* legacy random
stream, and other code draws from that stream in between. In the order the book's code runs:

1. ``fit`` calls ``np.random.seed(seed)``.
2. Every epoch, ``permute_data`` draws ``perm = np.random.permutation(n)`` and *replaces* the
   training arrays by ``X[perm]``: permutations compose, so epoch ``e`` visits the original rows
   in the order ``perm_0[perm_1[...perm_e]]``, read as ``order_e = order_{e-1}[perm_e]``.
3. The layers set themselves up at the first forward pass, i.e. in epoch 0 *after* its
   permutation: each ``Dense`` calls ``np.random.seed(network_seed)`` (when that seed is truthy:
   the book tests ``if self.seed``) and then draws its weight ``(in, out)`` and bias ``(1, out)``
   from the normal distribution. Epoch 1's permutation therefore continues the stream left by the
   *last* Dense layer's draws.
4. Batches are consecutive slices of the permuted rows (the last one partial).

``book_permutation`` replays that sequence of calls on a private ``np.random.RandomState`` (the
generator behind the global functions; seeding it is what ``np.random.seed`` does), so it
reproduces the book's batches exactly without touching the global stream. It returns a
``permutation(epoch, n)`` function, the shape both trainers take (``scratch.trainer.Permutation``):
a pure function of ``epoch``, each result the indices of the original rows in that epoch's order.

Not modelled: the book's (non-inverted) dropout draws its masks from the same global stream in
every training batch, so with dropout the book's orders after epoch 0 differ from these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.integer[Any]]
Permutation = Callable[[int, int], IntArray]


def _check_shapes(dense_shapes: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    shapes = [tuple(s) for s in dense_shapes]
    if not shapes:
        raise ValueError("book_permutation needs the (in, out) shape of at least one Dense layer")
    for s in shapes:
        if len(s) != 2 or any(not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1 for v in s):
            raise ValueError(f"each Dense shape must be (in_features, out_features) of positive ints, got {s!r}")
    return [(int(a), int(b)) for a, b in shapes]


def book_permutation(
    seed: int, dense_shapes: Sequence[tuple[int, int]], *, network_seed: int | None = None
) -> Permutation:
    """The book's epoch orders for ``fit(seed=seed)`` on a network of these Dense layers.

    Args:
        seed: the ``seed`` passed to the book's ``Trainer.fit``.
        dense_shapes: ``(in_features, out_features)`` of each Dense layer, input to output (the
            sizes of the weights each draws at set-up; the scale of the draw does not matter).
        network_seed: the ``seed`` of the book's ``NeuralNetwork`` (which every layer reseeds
            with); ``None`` means the same as ``seed``, as in the book's notebooks. ``0`` means no
            reseeding (the book tests ``if self.seed``).

    Returns:
        ``permutation(epoch, n)``: indices of the ``n`` original training rows in epoch
        ``epoch``'s order (0-based epochs).
    """
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    shapes = _check_shapes(dense_shapes)
    reseed = seed if network_seed is None else network_seed
    replays: dict[int, tuple[np.random.RandomState, list[IntArray]]] = {}

    def permutation(epoch: int, n: int) -> IntArray:
        if not isinstance(epoch, int | np.integer) or isinstance(epoch, bool) or epoch < 0:
            raise ValueError(f"epoch must be an int >= 0, got {epoch!r}")
        if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive int (the number of training rows), got {n!r}")
        if n not in replays:
            replays[n] = (np.random.RandomState(seed), [])  # fit's np.random.seed(seed)
        stream, orders = replays[n]
        while len(orders) <= epoch:
            previous = orders[-1] if orders else np.arange(n)
            orders.append(previous[stream.permutation(n)])  # permute_data on the already permuted rows
            if len(orders) == 1:  # first forward pass of epoch 0: the Dense layers set themselves up
                for fan_in, fan_out in shapes:
                    if reseed:
                        stream.seed(reseed)
                    stream.normal(0.0, 1.0, (fan_in, fan_out))
                    stream.normal(0.0, 1.0, (1, fan_out))
        return orders[epoch].copy()

    return permutation
