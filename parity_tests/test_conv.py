"""Specification of chapter 5's convolution: ``conv2d``, ``conv2d_loops``, ``Conv2d``, and the
layers ``Flatten`` and ``Conv2D`` (their registry cases run in ``test_layers.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import parity_tests.mutants.conv as conv_mutants
import scratch.activations as sa
import scratch.conv as sc
import scratch.layers as sl
import torch_ref.conv as tc
from parity_tests.registry import select

pytestmark = pytest.mark.ch5


@st.composite
def _conv_config(draw: Any) -> dict[str, Any]:
    k = draw(st.sampled_from([1, 3, 5]))
    padding = draw(st.sampled_from([None, 0, 1, 2]))
    p = k // 2 if padding is None else padding
    return {
        "n": draw(st.integers(1, 2)),
        "c": draw(st.integers(1, 3)),
        "o": draw(st.integers(1, 3)),
        "h": draw(st.integers(max(1, k - 2 * p), 7)),
        "w": draw(st.integers(max(1, k - 2 * p), 7)),
        "k": k,
        "stride": draw(st.integers(1, 2)),
        "padding": padding,
        "bias": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


@settings(max_examples=25, deadline=None)
@given(_conv_config())
def test_conv2d_loops_matches_vectorised_forward_and_backward(cfg: dict[str, Any]) -> None:
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal((cfg["n"], cfg["c"], cfg["h"], cfg["w"]))
    w = rng.standard_normal((cfg["o"], cfg["c"], cfg["k"], cfg["k"]))
    b = rng.standard_normal(cfg["o"]) if cfg["bias"] else None
    out, cache = sc.conv2d_forward(x, w, b, cfg["stride"], cfg["padding"])
    out_loops, cache_loops = sc.conv2d_loops_forward(x, w, b, cfg["stride"], cfg["padding"])
    np.testing.assert_allclose(out_loops, out, rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(out.shape)
    for fast, slow in zip(sc.conv2d_backward(g, cache), sc.conv2d_loops_backward(g, cache_loops), strict=True):
        if fast is None or slow is None:
            assert fast is None and slow is None and b is None
        else:
            np.testing.assert_allclose(slow, fast, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_conv2d_default_padding_is_torch_same(k: int) -> None:
    rng = np.random.default_rng(k)
    x, w = rng.standard_normal((2, 2, 6, 7)), rng.standard_normal((3, 2, k, k))
    ours = sc.conv2d(x, w)
    ref = F.conv2d(torch.tensor(x), torch.tensor(w), padding="same").numpy()
    assert ours.shape == (x.shape[0], 3, *x.shape[2:])
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)


def test_conv2d_module_state_dict_matches_nn_conv2d() -> None:
    scratch = sc.Conv2d(3, 5, 3, rng=np.random.default_rng(0))
    reference = tc.Conv2d(3, 5, 3)
    assert {k: v.shape for k, v in scratch.state_dict().items()} == {
        k: tuple(v.shape) for k, v in reference.state_dict().items()
    }
    assert set(sc.Conv2d(3, 5, 3, bias=False).state_dict()) == set(tc.Conv2d(3, 5, 3, bias=False).state_dict())


def test_conv2d_layer_exposes_only_weight_and_bias() -> None:
    layer = sl.Conv2D(1, 4, 5, sa.Tanh(), flatten=True, dropout=0.2, rng=np.random.default_rng(0))
    assert {k: v.shape for k, v in layer.state_dict().items()} == {"weight": (4, 1, 5, 5), "bias": (4,)}
    assert layer.forward(np.zeros((2, 1, 6, 6))).shape == (2, 4 * 6 * 6)


_X = np.zeros((2, 3, 5, 5))
_W = np.zeros((4, 3, 3, 3))


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((np.zeros((2, 2, 5, 5)), _W), {}, ValueError, "input has shape"),
        ((np.zeros((3, 5, 5)), _W), {}, ValueError, "input has shape"),
        ((np.zeros((0, 3, 5, 5)), _W), {}, ValueError, "empty batch"),
        ((np.zeros((2, 3, 5, 5), dtype=np.int64), _W), {}, TypeError, "floating dtype"),
        ((np.full((2, 3, 5, 5), np.nan), _W), {}, ValueError, "NaN"),
        ((_X, np.zeros((4, 3, 3))), {}, ValueError, "weight has shape"),
        ((_X, _W, np.zeros(3)), {}, ValueError, "bias has shape"),
        ((_X, _W), {"stride": 0}, ValueError, "stride"),
        ((_X, _W), {"padding": -1}, ValueError, "padding"),
        ((np.zeros((1, 3, 2, 2)), np.zeros((4, 3, 5, 5))), {"padding": 0}, ValueError, "smaller than the kernel"),
    ],
)
@pytest.mark.parametrize("fn", [sc.conv2d, sc.conv2d_loops])
def test_conv2d_rejects_bad_input(
    fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        fn(*args, **kwargs)


def test_conv2d_module_rejects_bad_input_and_grad_output() -> None:
    conv = sc.Conv2d(3, 4, 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="Conv2d input has shape"):
        conv.forward(np.zeros((2, 1, 5, 5)))
    out = conv.forward(_X)
    with pytest.raises(ValueError, match="grad_output has shape"):
        conv.backward(np.zeros(out.shape[:-1]))
    with pytest.raises(ValueError, match="positive sizes"):
        sc.Conv2d(3, 0, 3)
    with pytest.raises(ValueError, match="stride"):
        sc.Conv2d(3, 4, 3, stride=0)


def test_flatten_and_conv2d_layer_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="empty batch"):
        sl.Flatten().forward(np.zeros((0, 2, 3)))
    with pytest.raises(TypeError, match="floating dtype"):
        sl.Flatten().forward(np.zeros((2, 3), dtype=np.int32))
    layer = sl.Conv2D(1, 2, 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="Conv2D input has shape"):
        layer.forward(np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="Conv2D dropout must be"):
        sl.Conv2D(1, 2, 3, dropout=1.0)


def test_cnn_trajectory_catches_the_book_weight_gradient_bug() -> None:
    # the chapter's CNN training run is chaotic; its lockstep rows must still flag a real bug at rounding level
    (case,) = select(["cnn_torch_50_steps"])
    mutant = next(m for m in conv_mutants.MUTANTS if m.name == "conv_weight_grad_right_only_for_batch_1")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mutant.target, mutant.attribute, mutant.replacement)
        rows = case.run(dtype="float64")
    failing = {r["target"] for r in rows if not r["passed"] and r["check"] == "lockstep"}
    assert {"grad[layers.0.weight]", "param[layers.0.weight]"} <= failing


@pytest.mark.parametrize(
    "pair", [(sc.conv2d_forward, sc.conv2d_backward), (sc.conv2d_loops_forward, sc.conv2d_loops_backward)]
)
def test_conv2d_backward_rejects_a_grad_output_of_the_wrong_shape(pair: Any) -> None:
    forward, backward = pair
    out, cache = forward(_X, _W, None, 2)
    with pytest.raises(ValueError, match="grad_output has shape"):
        backward(np.zeros((out.shape[0], out.shape[1], out.shape[2] + 1, out.shape[3])), cache)
    with pytest.raises(TypeError, match="floating dtype"):
        backward(np.zeros(out.shape, dtype=np.int64), cache)
