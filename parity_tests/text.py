"""Chapter 6 text data: the corpus, a sorted vocabulary, the book's overlapping windows, one-hot.

Used by the character-level language model (``scratch/charlm.py`` and ``torch_ref/charlm.py``),
its registry cases and ``dlfs-parity train charlm``. No network: the default corpus is the
``pydoc_data.topics`` text every CPython carries (its topics joined in sorted key order, about
465k characters); ``load_text(path)`` reads any other UTF-8 file.

The book's windows (chapter 6 trainer): batch ``b`` starts at ``s = b * batch_size`` and holds the
``batch_size`` windows that start at ``s, s + 1, ..., s + batch_size - 1`` (so neighbouring rows
overlap in all but one character); each window is ``sequence_length`` characters of input and the
same window shifted right by one as the target. When the next batch would run off the end of the
text, the position wraps to 0 (``CharWindows(wrap=...)`` says exactly when: ours, or the book's
rule, which wraps one character earlier). The book built its vocabulary from a Python ``set`` (an order that
changes from run to run); ours is sorted, so indices are the same in every run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

#: The book's sequence length for the character model.
SEQUENCE_LENGTH = 25

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.floating[Any]]


def default_corpus() -> str:
    """The embedded corpus: ``pydoc_data.topics.topics`` values joined in sorted key order."""
    from pydoc_data.topics import topics

    return "".join(topics[key] for key in sorted(topics))


def load_text(path: str | os.PathLike[str] | None = None, *, min_length: int = SEQUENCE_LENGTH + 1) -> str:
    """Read the corpus: the embedded default when ``path`` is ``None``, else a UTF-8 file.

    Raises:
        FileNotFoundError: ``path`` does not exist or is not a file.
        ValueError: the file is not UTF-8, is empty, or holds fewer than ``min_length`` characters
            (one window of ``SEQUENCE_LENGTH`` inputs plus the shifted target needs 26).
    """
    if path is None:
        return default_corpus()
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"text file {str(p)!r} does not exist or is not a file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"text file {str(p)!r} is not valid UTF-8: {exc}") from None
    if not text:
        raise ValueError(f"text file {str(p)!r} is empty")
    if len(text) < min_length:
        raise ValueError(
            f"text file {str(p)!r} has {len(text)} characters; the character model needs at least {min_length}"
        )
    return text


@dataclass(frozen=True)
class Vocabulary:
    """The characters of a text in sorted order, and the maps between characters and indices."""

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        if not text:
            raise ValueError("cannot build a vocabulary from empty text")
        return cls(tuple(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> IntArray:
        """Character indices of ``text``; a character outside the vocabulary raises ``ValueError``."""
        index = {c: i for i, c in enumerate(self.chars)}
        unknown = sorted(set(text) - set(index))
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {unknown[:10]!r}")
        return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, indices: npt.ArrayLike) -> str:
        idx = np.asarray(indices)
        if idx.size and (idx.min() < 0 or idx.max() >= self.size):
            raise ValueError(f"indices must lie in [0, {self.size}), got range [{idx.min()}, {idx.max()}]")
        return "".join(self.chars[int(i)] for i in idx.ravel())


def one_hot(indices: npt.ArrayLike, size: int, dtype: npt.DTypeLike = np.float64) -> FloatArray:
    """``(..., )`` integer indices -> ``(..., size)`` one-hot rows."""
    idx = np.asarray(indices)
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"one_hot needs integer indices, got {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise ValueError(f"indices must lie in [0, {size}), got range [{idx.min()}, {idx.max()}]")
    return np.eye(size, dtype=dtype)[idx]  # (..., size)


#: ``CharWindows`` wrap rules: ours (every batch that fits) and the book's (one character earlier).
WRAP_RULES = ("fit", "book")


class CharWindows:
    """The book's overlapping windows over an encoded text, as one-hot batches.

    Args:
        text: the corpus.
        batch_size: windows per batch (rows ``N``).
        sequence_length: characters per window (``L``, the book's 25).
        vocabulary: defaults to ``Vocabulary.from_text(text)``.
        shuffle: ``False`` (the book): batches in text order, which is what a hidden state carried
            from one batch to the next expects. ``True``: each pass over the text visits the batch
            positions in an order drawn from ``np.random.default_rng(seed)``.
        seed: seed of that order.
        wrap: when the position goes back to 0 (``s`` a batch start, ``N`` rows, ``L`` characters):

            - ``"fit"`` (default): after the last batch that fits, i.e. wrap when
              ``s + N + L > len(text)``. The last window of a batch starts at ``s + N - 1`` and its
              target ends at ``s + N + L - 1``, so ``s + N + L <= len(text)`` is exactly "every
              target character exists": no batch that fits is skipped.
            - ``"book"``: the book's loop, which wraps when ``s + L + N + 1 > len(text)``; it skips
              the last batch when that batch ends exactly at the end of the text (one spare
              character is required), so its batch sequence differs from ours only then.

    Shapes:
        ``inputs`` and ``targets`` ``(N, L, V)`` one-hot; ``targets[n, t] = inputs[n, t + 1]`` for
        ``t < L - 1`` and the character after the window at ``t = L - 1``.
    """

    def __init__(
        self,
        text: str,
        batch_size: int,
        sequence_length: int = SEQUENCE_LENGTH,
        *,
        vocabulary: Vocabulary | None = None,
        shuffle: bool = False,
        seed: int = 0,
        wrap: str = "fit",
    ) -> None:
        if wrap not in WRAP_RULES:
            raise ValueError(f"unknown CharWindows wrap rule {wrap!r}; choose from {WRAP_RULES}")
        for arg, value in (("batch_size", batch_size), ("sequence_length", sequence_length)):
            if not isinstance(value, int | np.integer) or isinstance(value, bool):
                raise TypeError(f"{arg} must be an int, got {type(value).__name__}")
        if batch_size < 1 or sequence_length < 1:
            raise ValueError(f"batch_size and sequence_length must be positive, got {batch_size}, {sequence_length}")
        spare = 1 if wrap == "book" else 0  # the book's rule keeps one character in reserve
        if len(text) < batch_size + sequence_length + spare:
            raise ValueError(
                f"text has {len(text)} characters; a batch of {batch_size} windows of {sequence_length} "
                f"needs at least {batch_size + sequence_length + spare} (wrap={wrap!r})"
            )
        self.vocabulary = Vocabulary.from_text(text) if vocabulary is None else vocabulary
        self.codes = self.vocabulary.encode(text)
        self.batch_size = batch_size
        self.sequence_length = sequence_length
        self.shuffle = shuffle
        self.seed = seed
        self.wrap = wrap
        # batch starts 0, N, 2N, ... while s + N + L <= len ("fit") or s + N + L + 1 <= len ("book")
        self.positions = np.arange(0, len(text) - batch_size - sequence_length + 1 - spare, batch_size)

    def indices(self, start: int) -> tuple[IntArray, IntArray]:
        """Input and target indices ``(N, L)`` of the batch whose first window starts at ``start``."""
        n, length = self.batch_size, self.sequence_length
        if not 0 <= start <= len(self.codes) - n - length:
            raise ValueError(f"batch start {start} out of range [0, {len(self.codes) - n - length}]")
        rows = start + np.arange(n)[:, None] + np.arange(length)[None, :]  # (N, L) window positions
        return self.codes[rows], self.codes[rows + 1]

    def batch(self, start: int, dtype: npt.DTypeLike = np.float64) -> tuple[FloatArray, FloatArray]:
        """One-hot ``(inputs, targets)``, each ``(N, L, V)``."""
        x, y = self.indices(start)
        return one_hot(x, self.vocabulary.size, dtype), one_hot(y, self.vocabulary.size, dtype)

    def starts(self, num_batches: int) -> IntArray:
        """The first ``num_batches`` batch starts, wrapping to the beginning of the text (or of a
        fresh seeded permutation when ``shuffle``) after the last position that fits."""
        if num_batches < 0:
            raise ValueError(f"num_batches must be >= 0, got {num_batches}")
        rng = np.random.default_rng(self.seed)
        passes = -(-num_batches // len(self.positions))
        order = [rng.permutation(self.positions) if self.shuffle else self.positions for _ in range(passes)]
        return np.concatenate(order)[:num_batches].astype(np.int64) if order else np.zeros(0, np.int64)

    def batches(self, num_batches: int, dtype: npt.DTypeLike = np.float64) -> Iterator[tuple[FloatArray, FloatArray]]:
        """``num_batches`` one-hot batches in the book's order (or the seeded shuffled order)."""
        for start in self.starts(num_batches):
            yield self.batch(int(start), dtype)
