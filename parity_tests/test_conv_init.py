"""Specification of ``Conv2D(weight_init=...)`` on both twins (the book's chapter 5 Glorot reachable)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import scratch.init as si
import scratch.layers as sl
import torch_ref.init as ti
import torch_ref.layers as tl

pytestmark = pytest.mark.ch5


@pytest.mark.parametrize("init", [si, ti])
def test_conv_fans_count_channels_only_for_the_books_glorot(init: object) -> None:
    assert init.conv_fans("glorot_book", 14, 7, 5) == (14, 7)  # type: ignore[attr-defined]
    assert init.conv_fans("glorot", 14, 7, 5) == (14 * 25, 7 * 25)  # type: ignore[attr-defined]


def test_books_conv_glorot_std_is_two_over_the_channel_sum() -> None:
    layer = sl.Conv2D(16, 16, 5, rng=np.random.default_rng(0), weight_init="glorot_book", bias=False)
    assert layer.conv.bias is None
    assert layer.conv.weight.data.std() == pytest.approx(2.0 / 32, rel=0.05)  # 6400 draws: sd of the std ~1%


def test_torch_conv_init_repeats_with_a_seeded_generator_and_keeps_the_default_without_a_scheme() -> None:
    a = tl.Conv2D(3, 4, 3, generator=torch.Generator().manual_seed(5), weight_init="glorot")
    b = tl.Conv2D(3, 4, 3, generator=torch.Generator().manual_seed(5), weight_init="glorot")
    assert a.bias is not None and b.bias is not None
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    torch.manual_seed(1)
    default = tl.Conv2D(3, 4, 3)
    bound = 1.0 / np.sqrt(3 * 9)  # nn.Conv2d's own init: |w| <= 1/sqrt(fan_in)
    assert default.weight.detach().abs().max().item() <= bound


@pytest.mark.parametrize("module", [sl, tl])
def test_conv2d_rejects_an_unknown_scheme(module: object) -> None:
    with pytest.raises(ValueError, match="unknown weight_init 'he'"):
        module.Conv2D(1, 2, 3, weight_init="he")  # type: ignore[attr-defined]
