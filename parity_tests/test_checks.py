"""Specification of the scratch twin's input guards (``scratch/_checks.py``): the messages name
every axis, with a label for each free one."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import scratch._checks as checks
from scratch.conv import Conv2d
from scratch.pooling import MaxPool2d

pytestmark = pytest.mark.ch1


@pytest.mark.parametrize(
    ("expected", "message"),
    [
        (("N", "L", 4), r"expected \(N, L, 4\)$"),
        ((None, None, 4), r"expected \(N, N, 4\)$"),  # None is still read "N"
        (("N", "C", "H", "W"), r"expected \(N, C, H, W\)$"),
        (("N", 5), r"expected \(N, 5\)$"),
    ],
)
def test_check_shape_labels_free_axes(expected: tuple[int | str | None, ...], message: str) -> None:
    with pytest.raises(ValueError, match=r"^x has shape \(3, 4\), " + message):
        checks.check_shape(np.zeros((3, 4)), expected, "x")


def test_labelled_axes_match_any_size_and_the_leading_one_must_not_be_empty() -> None:
    checks.check_shape(np.zeros((3, 7, 4)), ("N", "L", 4), "x")
    with pytest.raises(ValueError, match=r"^x is an empty batch \(shape \(0, 7, 4\)\)$"):
        checks.check_shape(np.zeros((0, 7, 4)), ("N", "L", 4), "x")


def test_image_layers_name_channels_height_and_width() -> None:
    with pytest.raises(ValueError, match=r"expected \(N, C, H, W\)$"):
        MaxPool2d(2).forward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"expected \(N, 3, H, W\)$"):
        Conv2d(3, 2, 3).forward(np.zeros((2, 4, 5, 5)))


def test_docstring_examples_run() -> None:
    result = doctest.testmod(checks)
    assert result.attempted > 0 and result.failed == 0
