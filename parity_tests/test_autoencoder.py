"""Specification of chapter 7's convolutional autoencoder and its ``Unflatten``: every registry case
(operators and the short training run) matches torch, the book's architecture and state-dict keys,
PyTorch's default initial weights, clear errors for bad input, and the planted bugs are caught."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

import parity_tests.mutants.autoencoder as ae_mutants
import scratch.autoencoder as sa
import torch_ref.autoencoder as ta
from parity_tests.registry import select

pytestmark = pytest.mark.ch7


def test_book_architecture_has_the_same_keys_and_shapes_in_both_twins() -> None:
    scratch = sa.ConvAutoencoder(rng=np.random.default_rng(0))  # the book's: hidden 28, 28x28 digits
    expected = {
        "encoder.conv1.weight": (14, 1, 5, 5),
        "encoder.conv1.bias": (14,),
        "encoder.conv2.weight": (7, 14, 5, 5),
        "encoder.conv2.bias": (7,),
        "encoder.dense1.weight": (28, 7 * 28 * 28),
        "encoder.dense1.bias": (28,),
        "decoder.dense1.weight": (7 * 28 * 28, 28),
        "decoder.dense1.bias": (7 * 28 * 28,),
        "decoder.conv1.weight": (14, 7, 5, 5),
        "decoder.conv1.bias": (14,),
        "decoder.conv2.weight": (1, 14, 5, 5),
        "decoder.conv2.bias": (1,),
    }
    assert {k: v.shape for k, v in scratch.state_dict().items()} == expected
    assert {k: tuple(v.shape) for k, v in ta.ConvAutoencoder().state_dict().items()} == expected


def test_state_dicts_move_both_ways_and_the_twins_then_agree() -> None:
    rng = np.random.default_rng(1)
    scratch = sa.ConvAutoencoder(3, (6, 5), rng=rng)
    reference = ta.ConvAutoencoder(3, (6, 5)).double()
    scratch.load_state_dict(reference.state_dict())  # torch -> scratch (tensors accepted)
    x = rng.uniform(-1.0, 1.0, (2, 1, 6, 5))
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
        expected_code = reference.encode(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(scratch.forward(x), expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(scratch.encode(x), expected_code, rtol=1e-12, atol=1e-14)
    other = ta.ConvAutoencoder(3, (6, 5)).double()
    other.load_state_dict({k: torch.from_numpy(v) for k, v in scratch.state_dict().items()})  # scratch -> torch
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), reference.state_dict()[k].numpy())


def test_shapes_of_the_reconstruction_and_the_encoding() -> None:
    ae = sa.ConvAutoencoder(hidden_dim=5, image_size=(7, 6), rng=np.random.default_rng(0))
    x = np.zeros((3, 1, 7, 6))
    out = ae.forward(x)
    assert out.shape == x.shape and np.all(np.abs(out) < 1.0)  # tanh output
    assert ae.encode(x).shape == (3, 5)
    assert ae.encoder.forward(x).shape == (3, 5) and ae.decoder.forward(np.zeros((3, 5))).shape == x.shape


def test_backward_fills_a_gradient_for_every_parameter_under_state_dict_keys() -> None:
    ae = sa.ConvAutoencoder(4, 6, rng=np.random.default_rng(0))
    out = ae.forward(np.random.default_rng(1).uniform(-1.0, 1.0, (2, 1, 6, 6)))
    grad_input = ae.backward(np.ones_like(out))
    assert grad_input.shape == out.shape
    assert {k: v.shape for k, v in ae.grads.items()} == {k: v.shape for k, v in ae.state_dict().items()}


def test_initial_weights_follow_pytorchs_default_rule() -> None:
    ae = sa.ConvAutoencoder(rng=np.random.default_rng(0))
    for name, value in ae.state_dict().items():
        layer = name.rsplit(".", 1)[0]
        fan_in = ae.state_dict()[f"{layer}.weight"][0].size  # C_in * 5 * 5, or in_features
        bound = 1.0 / math.sqrt(fan_in)
        assert np.abs(value).max() <= bound, name
        if value.size >= 100:  # a uniform draw reaches close to its bound
            assert np.abs(value).max() > 0.9 * bound, name


def test_same_rng_same_weights() -> None:
    a = sa.ConvAutoencoder(4, 6, rng=np.random.default_rng(3)).state_dict()
    b = sa.ConvAutoencoder(4, 6, rng=np.random.default_rng(3)).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)


_AE = sa.ConvAutoencoder(4, 6, rng=np.random.default_rng(0))
BAD_INPUTS: dict[str, tuple[Any, type[Exception], str]] = {
    "wrong_size": (
        np.zeros((2, 1, 6, 5)),
        ValueError,
        r"ConvAutoencoder input has shape \(2, 1, 6, 5\), expected \(N, 1, 6, 6\)",
    ),
    "two_channels": (np.zeros((2, 2, 6, 6)), ValueError, r"expected \(N, 1, 6, 6\)"),
    "flat_images": (np.zeros((2, 36)), ValueError, r"expected \(N, 1, 6, 6\)"),
    "empty_batch": (np.zeros((0, 1, 6, 6)), ValueError, "empty batch"),
    "integer_dtype": (np.zeros((2, 1, 6, 6), dtype=np.int64), TypeError, "floating dtype.*int64"),
    "float32_into_float64_weights": (np.zeros((2, 1, 6, 6), dtype=np.float32), TypeError, "dtype float32, but"),
    "nan": (np.full((2, 1, 6, 6), np.nan), ValueError, "NaN"),
    "not_an_array": ([[[[0.0] * 6] * 6]], TypeError, "numpy ndarray"),
}


@pytest.mark.parametrize("bad", BAD_INPUTS.values(), ids=list(BAD_INPUTS))
def test_autoencoder_rejects_bad_input_with_a_clear_error(bad: tuple[Any, type[Exception], str]) -> None:
    x, error, message = bad
    with pytest.raises(error, match=message):
        _AE.forward(x)


def test_encoder_and_decoder_reject_bad_input_by_name() -> None:
    with pytest.raises(ValueError, match=r"Encoder input has shape \(2, 1, 5, 6\), expected \(N, 1, 6, 6\)"):
        _AE.encode(np.zeros((2, 1, 5, 6)))
    with pytest.raises(ValueError, match=r"Decoder input has shape \(2, 3\), expected \(N, 4\)"):
        _AE.decoder.forward(np.zeros((2, 3)))


def test_backward_checks_its_gradient_and_needs_a_fresh_forward() -> None:
    ae = sa.ConvAutoencoder(4, 6, rng=np.random.default_rng(0))
    with pytest.raises(RuntimeError, match=r"ConvAutoencoder\.backward called before forward"):
        ae.backward(np.zeros((2, 1, 6, 6)))
    out = ae.forward(np.zeros((2, 1, 6, 6)))
    with pytest.raises(ValueError, match=r"grad_output has shape \(2, 1, 6, 5\), expected \(2, 1, 6, 6\)"):
        ae.backward(np.zeros((2, 1, 6, 5)))
    with pytest.raises(TypeError, match="grad_output has dtype float32, expected float64"):
        ae.backward(out.astype(np.float32))
    ae.encode(np.zeros((2, 1, 6, 6)))  # overwrites the encoder's cache: the old forward is gone
    with pytest.raises(RuntimeError, match="called before forward"):
        ae.backward(np.zeros_like(out))


def test_float32_module_trains_in_float32() -> None:
    ae = sa.ConvAutoencoder(4, 6, rng=np.random.default_rng(0))
    ae.to(np.float32)
    out = ae.forward(np.zeros((2, 1, 6, 6), dtype=np.float32))
    assert out.dtype == np.float32 and ae.backward(out).dtype == np.float32
    assert all(g.dtype == np.float32 for g in ae.grads.values())


@pytest.mark.parametrize(
    ("args", "match"),
    [((0, 6), "hidden_dim"), ((2.5, 6), "hidden_dim"), ((4, 0), "image_size"), ((4, (6,)), "image_size")],
)
def test_constructor_rejects_bad_sizes(args: tuple[Any, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sa.ConvAutoencoder(*args)


def test_unflatten_matches_nn_unflatten_and_rejects_bad_input() -> None:
    x = np.arange(2 * 3 * 20, dtype=np.float64).reshape(2, 3, 20)
    ours = sa.Unflatten(2, (4, 5)).forward(x)
    np.testing.assert_array_equal(ours, ta.Unflatten(2, (4, 5))(torch.from_numpy(x)).numpy())
    with pytest.raises(ValueError, match=r"Unflatten input has shape \(2, 3, 20\), expected axis 2 of size 21"):
        sa.Unflatten(2, (3, 7)).forward(x)
    with pytest.raises(ValueError, match="empty batch"):
        sa.Unflatten(1, (2, 3)).forward(np.zeros((0, 6)))
    with pytest.raises(ValueError, match="dim must be an int >= 1"):
        sa.Unflatten(0, (2, 3))
    with pytest.raises(ValueError, match="positive ints"):
        sa.Unflatten(1, (2, 0))
    with pytest.raises(RuntimeError, match=r"Unflatten\.backward called before forward"):
        sa.Unflatten(1, (2, 3)).backward(np.zeros((1, 2, 3)))


def test_channels_last_unflatten_fools_the_finite_difference_oracle_but_not_torch() -> None:
    # forward and backward agree with each other, so only the comparison with the torch twin can tell
    mutant = next(m for m in ae_mutants.MUTANTS if m.name == "unflatten_channels_last")
    (case,) = select(["unflatten_dim1_2x3x4"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mutant.target, mutant.attribute, mutant.replacement)
        rows = case.run(dtype="float64")
    verdicts = {r["check"]: r["passed"] for r in rows}
    assert verdicts["finite_difference"] and not verdicts["forward"] and not verdicts["grad_input"]
