"""Specification: initialisation schemes follow their formulas and torch's, and seeds reproduce weights."""

import math

import numpy as np
import pytest
import torch

import scratch.init as si
import scratch.layers as sl
import torch_ref.init as ti
import torch_ref.layers as tl


@pytest.mark.ch4
@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        ("standard", lambda fi, fo: 1.0),
        ("glorot", lambda fi, fo: math.sqrt(2.0 / (fi + fo))),
        ("glorot_uniform", lambda fi, fo: math.sqrt(2.0 / (fi + fo))),
        ("glorot_book", lambda fi, fo: 2.0 / (fi + fo)),
    ],
)
def test_init_std_follows_the_schemes_formula(scheme: str, expected: object) -> None:
    for fi, fo in [(784, 89), (89, 10), (13, 1)]:
        assert si.init_std(scheme, fi, fo) == pytest.approx(expected(fi, fo), rel=1e-15)  # type: ignore[operator]
        assert ti.init_std(scheme, fi, fo) == pytest.approx(expected(fi, fo), rel=1e-15)  # type: ignore[operator]


@pytest.mark.ch4
def test_glorot_is_the_square_root_of_the_books_value() -> None:
    assert si.init_std("glorot", 784, 89) ** 2 == pytest.approx(si.init_std("glorot_book", 784, 89), rel=1e-14)


@pytest.mark.ch4
@pytest.mark.parametrize("scheme", si.INIT_SCHEMES)
def test_same_seed_gives_same_dense_weights_on_each_twin(scheme: str) -> None:
    a = sl.Dense(30, 7, rng=np.random.default_rng(5), weight_init=scheme).state_dict()
    b = sl.Dense(30, 7, rng=np.random.default_rng(5), weight_init=scheme).state_dict()
    c = sl.Dense(30, 7, rng=np.random.default_rng(6), weight_init=scheme).state_dict()
    np.testing.assert_array_equal(a["weight"], b["weight"])
    assert not np.array_equal(a["weight"], c["weight"])
    ta_ = tl.Dense(30, 7, generator=torch.Generator().manual_seed(5), weight_init=scheme).state_dict()
    tb_ = tl.Dense(30, 7, generator=torch.Generator().manual_seed(5), weight_init=scheme).state_dict()
    torch.testing.assert_close(ta_["weight"], tb_["weight"], rtol=0, atol=0)


@pytest.mark.ch4
def test_dense_weight_init_uses_the_scheme() -> None:
    dense = sl.Dense(784, 89, rng=np.random.default_rng(0), weight_init="glorot")
    expected = math.sqrt(2.0 / (784 + 89))
    # sample std of 69,776 normals: relative sd 1/sqrt(2n) = 2.7e-3; 5% is ~18 sds
    assert dense.state_dict()["weight"].std() == pytest.approx(expected, rel=0.05)
    assert abs(dense.state_dict()["weight"].std() - 1.0) > 0.5  # not the standard init


@pytest.mark.ch4
def test_unknown_scheme_and_bad_fans_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown weight_init 'he'"):
        sl.Dense(3, 2, weight_init="he")
    with pytest.raises(ValueError, match="unknown weight_init 'he'"):
        tl.Dense(3, 2, weight_init="he")
    with pytest.raises(ValueError, match="fans must be positive"):
        si.init_std("glorot", 0, 3)
    with pytest.raises(ValueError, match="fans must be positive"):
        ti.init_std("glorot", 3, 0)
