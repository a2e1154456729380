"""Specification of the book's batch order (``parity_tests/book_order.py``).

The reference is a tiny re-enactment of the book's ``Trainer.fit`` on NumPy's global stream: seed,
then per epoch permute the (already permuted) rows and run the batches, the layers setting
themselves up (reseed, draw weight and bias) in the first batch. It records the rows of every batch.
"""

# The reference re-enacts the book on NumPy's legacy global stream on purpose.
# ruff: noqa: NPY002

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from parity_tests.book_order import book_permutation


@pytest.fixture
def global_stream() -> Iterator[None]:
    """The re-enactment uses NumPy's global stream: leave it as it was for the other tests."""
    saved = np.random.get_state()
    yield
    np.random.set_state(saved)


def _book_fit_batches(
    n: int, epochs: int, batch_size: int, seed: int, shapes: list[tuple[int, int]], network_seed: int
) -> list[list[list[int]]]:
    """Row ids of every batch of every epoch, as the book's Trainer draws them."""
    np.random.seed(seed)
    rows = np.arange(n)
    first = True
    epochs_out = []
    for _ in range(epochs):
        rows = rows[np.random.permutation(rows.shape[0])]
        batches = []
        for start in range(0, n, batch_size):
            if first:  # first forward pass: each Dense layer sets itself up
                for fan_in, fan_out in shapes:
                    if network_seed:
                        np.random.seed(network_seed)
                    np.random.normal(loc=0, scale=1.0, size=(fan_in, fan_out))
                    np.random.normal(loc=0, scale=1.0, size=(1, fan_out))
                first = False
            batches.append(rows[start : start + batch_size].tolist())
        epochs_out.append(batches)
    return epochs_out


@pytest.mark.parametrize(
    ("seed", "network_seed", "shapes"),
    [(1, 1, [(13, 1)]), (20190501, 20190501, [(13, 13), (13, 1)]), (5, 0, [(4, 3), (3, 2)]), (3, 7, [(6, 5)])],
)
def test_book_permutation_reproduces_the_books_batches(
    global_stream: None, seed: int, network_seed: int, shapes: list[tuple[int, int]]
) -> None:
    n, batch_size, epochs = 23, 5, 6
    expected = _book_fit_batches(n, epochs, batch_size, seed, shapes, network_seed)
    permutation = book_permutation(seed, shapes, network_seed=network_seed)
    for epoch in reversed(range(epochs)):  # any order of calls: a pure function of the epoch
        order = permutation(epoch, n)
        batches = [order[s : s + batch_size].tolist() for s in range(0, n, batch_size)]
        assert batches == expected[epoch], f"epoch {epoch}"


def test_book_permutation_leaves_the_global_stream_alone(global_stream: None) -> None:
    np.random.seed(0)
    before = np.random.get_state(legacy=False)
    book_permutation(1, [(3, 2)])(4, 10)
    after = np.random.get_state(legacy=False)
    assert np.array_equal(after["state"]["key"], before["state"]["key"])
    assert after["state"]["pos"] == before["state"]["pos"] and after["has_gauss"] == before["has_gauss"]


def test_reseeding_layers_change_every_later_epoch() -> None:
    with_reseed, without = book_permutation(1, [(13, 1)]), book_permutation(1, [(13, 1)], network_seed=0)
    assert np.array_equal(with_reseed(0, 50), without(0, 50))  # epoch 0 is drawn before set-up
    assert not np.array_equal(with_reseed(1, 50), without(1, 50))
    assert sorted(with_reseed(3, 50).tolist()) == list(range(50))


def test_book_permutation_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one Dense layer"):
        book_permutation(1, [])
    with pytest.raises(ValueError, match="positive ints"):
        book_permutation(1, [(13, 0)])
    permutation = book_permutation(1, [(2, 1)])
    with pytest.raises(ValueError, match="epoch must be an int >= 0"):
        permutation(-1, 5)
    with pytest.raises(ValueError, match="n must be a positive int"):
        permutation(0, 0)
