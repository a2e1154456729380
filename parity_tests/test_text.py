"""Specification of the chapter 6 text pipeline: corpus, sorted vocabulary, the book's windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from parity_tests.text import SEQUENCE_LENGTH, CharWindows, Vocabulary, default_corpus, load_text, one_hot

pytestmark = pytest.mark.ch6


def test_default_corpus_is_pydoc_topics_in_sorted_key_order() -> None:
    from pydoc_data.topics import topics

    text = default_corpus()
    first = min(topics)
    assert text.startswith(topics[first])
    assert len(text) == sum(len(v) for v in topics.values())
    assert len(text) > 100_000


def test_load_text_reads_a_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("héllo wörld " * 10, encoding="utf-8")
    assert load_text(path) == "héllo wörld " * 10


def test_load_text_without_path_is_the_default_corpus() -> None:
    assert load_text(None) == default_corpus()


def test_load_text_rejects_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_text(tmp_path / "nope.txt")


def test_load_text_rejects_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("")
    with pytest.raises(ValueError, match="empty"):
        load_text(path)


def test_load_text_rejects_a_too_short_file(tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_text("x" * SEQUENCE_LENGTH)
    with pytest.raises(ValueError, match="needs at least 26"):
        load_text(path)


def test_load_text_rejects_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(("caf\xe9 " * 20).encode("latin-1"))
    with pytest.raises(ValueError, match="UTF-8"):
        load_text(path)


def test_vocabulary_is_sorted_and_round_trips() -> None:
    vocab = Vocabulary.from_text("banana bread")
    assert vocab.chars == (" ", "a", "b", "d", "e", "n", "r")
    codes = vocab.encode("bread")
    assert codes.tolist() == [2, 6, 4, 1, 3]
    assert vocab.decode(codes) == "bread"


def test_vocabulary_rejects_unknown_characters_and_indices() -> None:
    vocab = Vocabulary.from_text("abc")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("abz")
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        vocab.decode([0, 3])


def test_one_hot_marks_one_entry_per_row() -> None:
    idx = np.array([[0, 2], [1, 1]])
    hot = one_hot(idx, 3)
    assert hot.shape == (2, 2, 3)
    assert np.array_equal(hot.argmax(-1), idx)
    assert np.array_equal(hot.sum(-1), np.ones((2, 2)))
    with pytest.raises(TypeError, match="integer"):
        one_hot(np.zeros((2, 2)), 3)


def test_windows_overlap_like_the_book_and_targets_are_shifted_by_one() -> None:
    text = "abcdefghijklmnopqrstuvwxyz" * 3
    windows = CharWindows(text, batch_size=4, sequence_length=5)
    x, y = windows.indices(8)
    decode = windows.vocabulary.decode
    assert [decode(r) for r in x] == [text[8 + i : 13 + i] for i in range(4)]
    assert [decode(r) for r in y] == [text[9 + i : 14 + i] for i in range(4)]
    xs, ys = windows.batch(8)
    assert xs.shape == ys.shape == (4, 5, windows.vocabulary.size)
    assert np.array_equal(xs.argmax(-1), x)


def test_batch_starts_step_by_batch_size_and_wrap_before_running_off_the_end() -> None:
    text = "0123456789" * 3  # 30 characters
    windows = CharWindows(text, batch_size=4, sequence_length=5)
    # the last window of a batch at s reads s + N + L - 1 < 30 -> s <= 21
    assert windows.starts(8).tolist() == [0, 4, 8, 12, 16, 20, 0, 4]
    _, y = windows.indices(20)
    assert windows.vocabulary.decode(y[-1]) == text[24:29]


def test_shuffled_order_is_seeded_and_covers_every_position() -> None:
    text = "the quick brown fox jumps over the lazy dog " * 4
    a = CharWindows(text, 8, 10, shuffle=True, seed=3).starts(40)
    b = CharWindows(text, 8, 10, shuffle=True, seed=3).starts(40)
    c = CharWindows(text, 8, 10, shuffle=True, seed=4).starts(40)
    positions = CharWindows(text, 8, 10).positions
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert sorted(a[: len(positions)].tolist()) == positions.tolist()


def test_windows_reject_too_short_text_and_bad_sizes() -> None:
    with pytest.raises(ValueError, match="needs at least 30"):
        CharWindows("x" * 29, batch_size=5, sequence_length=25)
    with pytest.raises(ValueError, match="positive"):
        CharWindows("x" * 100, batch_size=0)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        CharWindows("x" * 100, batch_size=2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sequence_length must be an int"):
        CharWindows("x" * 100, batch_size=2, sequence_length=True)
    with pytest.raises(ValueError, match="out of range"):
        CharWindows("abcdefghij" * 3, batch_size=4, sequence_length=5).indices(22)


def _book_loop_starts(text_length: int, batch_size: int, sequence_length: int, num_batches: int) -> list[int]:
    """The book's chapter 6 training loop, re-enacted: check, reset, read a batch, step by N."""
    start, out = 0, []
    for _ in range(num_batches):
        if start + sequence_length + batch_size + 1 > text_length:
            start = 0
        out.append(start)
        start += batch_size
    return out


@pytest.mark.parametrize("length", [13, 14, 15, 16, 29, 30])
def test_book_wrap_rule_draws_the_books_batch_starts(length: int) -> None:
    text = ("abcdefghij" * 3)[:length]
    windows = CharWindows(text, batch_size=3, sequence_length=4, wrap="book")
    assert windows.starts(25).tolist() == _book_loop_starts(length, 3, 4, 25)


def test_default_wrap_keeps_the_last_batch_that_fits_where_the_book_skips_it() -> None:
    text = "abcdefghijklm"  # 13 = N + L + 2N with N = 3, L = 4: the batch at 6 ends on the last character
    ours, book = CharWindows(text, 3, 4), CharWindows(text, 3, 4, wrap="book")
    assert ours.positions.tolist() == [0, 3, 6]
    assert book.positions.tolist() == [0, 3]
    _, y = ours.indices(6)
    assert ours.vocabulary.decode(y[-1]) == text[9:13]  # every target character exists
    with pytest.raises(ValueError, match="unknown CharWindows wrap rule"):
        CharWindows(text, 3, 4, wrap="late")
    with pytest.raises(ValueError, match=r"needs at least 8 \(wrap='book'\)"):
        CharWindows("abcdefg", 3, 4, wrap="book")
