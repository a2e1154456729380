"""Specification: every ``layers`` case matches torch in float64 (the gate) and float32."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import scratch.layers as sl
import torch_ref.layers as tl

BAD_DENSE_INPUTS = {
    "wrong_width": (np.ones((4, 12)), ValueError, r"Dense input has shape \(4, 12\), expected \(N, 13\)"),
    "not_2d": (np.ones(13), ValueError, r"expected \(N, 13\)"),
    "integer_dtype": (np.ones((4, 13), dtype=np.int64), TypeError, "floating dtype.*int64"),
    "empty_batch": (np.ones((0, 13)), ValueError, "empty batch"),
    "nan": (np.full((4, 13), np.nan), ValueError, "NaN"),
    "not_an_array": ([[1.0] * 13], TypeError, "numpy ndarray"),
}


@pytest.mark.ch3
@pytest.mark.parametrize("bad", BAD_DENSE_INPUTS.values(), ids=list(BAD_DENSE_INPUTS))
def test_dense_rejects_bad_input_with_a_clear_error(bad: tuple[object, type[Exception], str]) -> None:
    x, error, message = bad
    layer = sl.Dense(13, 1, rng=np.random.default_rng(0))
    with pytest.raises(error, match=message):
        layer.forward(x)  # type: ignore[arg-type]


@pytest.mark.ch3
def test_dense_rejects_a_gradient_of_the_wrong_shape() -> None:
    layer = sl.Dense(13, 2, rng=np.random.default_rng(0))
    layer.forward(np.ones((4, 13)))
    with pytest.raises(ValueError, match=r"grad_output has shape \(4, 3\), expected \(4, 2\)"):
        layer.backward(np.ones((4, 3)))


@pytest.mark.ch3
def test_dense_state_dict_loads_into_nn_linear_and_rejects_wrong_shapes() -> None:
    layer = sl.Dense(5, 3, rng=np.random.default_rng(0))
    linear = torch.nn.Linear(5, 3, dtype=torch.float64)
    linear.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 5))
    np.testing.assert_allclose(linear(torch.from_numpy(x)).detach().numpy(), layer.forward(x), rtol=1e-12)
    with pytest.raises(ValueError, match="'weight' has shape"):
        layer.load_state_dict({"weight": np.ones((5, 3)), "bias": np.ones(3)})
    with pytest.raises(KeyError, match="missing keys"):
        layer.load_state_dict({"weight": np.ones((3, 5))})


@pytest.mark.ch3
@pytest.mark.parametrize("twin", [sl, tl], ids=["scratch", "torch"])
def test_dense_rejects_an_activation_given_by_name(twin: object) -> None:
    with pytest.raises(TypeError, match="activation must be"):
        twin.Dense(3, 2, "sigmoid")  # type: ignore[attr-defined]


@pytest.mark.ch3
@pytest.mark.parametrize(
    ("sizes", "error", "match"),
    [
        ((0, 2), ValueError, "in_features must be >= 1"),
        ((3, -1), ValueError, "out_features must be >= 1"),
        ((2.5, 2), TypeError, "in_features must be an int"),
        ((True, 3), TypeError, "in_features must be an int"),
    ],
)
def test_scratch_dense_rejects_sizes_that_are_not_positive_integers(sizes: tuple, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        sl.Dense(*sizes)


def _backward_before_forward_cases() -> dict[str, tuple[Callable[[], Any], tuple[Any, ...]]]:
    import scratch.activations as sa
    import scratch.conv as sc
    import scratch.operations as so
    import scratch.pooling as sp

    grad = (np.ones((2, 3)),)
    return {
        "WeightMultiply": (lambda: so.WeightMultiply(np.ones((3, 3))), grad),
        "BiasAdd": (lambda: so.BiasAdd(np.ones(3)), grad),
        "Sigmoid": (sa.Sigmoid, grad),
        "ReLU": (sa.ReLU, grad),
        "Dense": (lambda: sl.Dense(3, 3), grad),
        "Dropout": (lambda: sl.Dropout(0.5), grad),
        "Flatten": (sl.Flatten, grad),
        "Conv2d": (lambda: sc.Conv2d(1, 2, 3), (np.ones((1, 2, 4, 4)),)),
        "MaxPool2d": (lambda: sp.MaxPool2d(2), (np.ones((1, 1, 2, 2)),)),
    }


BACKWARD_BEFORE_FORWARD = _backward_before_forward_cases()


@pytest.mark.ch3
@pytest.mark.parametrize("name", list(BACKWARD_BEFORE_FORWARD))
def test_backward_before_forward_names_the_component(name: str) -> None:
    make, args = BACKWARD_BEFORE_FORWARD[name]
    with pytest.raises(RuntimeError, match=rf"{name}\.backward called before forward"):
        make().backward(*args)


@pytest.mark.ch3
def test_dense_refuses_to_mix_dtypes_like_torch() -> None:
    layer = sl.Dense(3, 2, rng=np.random.default_rng(0))  # float64 parameters
    with pytest.raises(TypeError, match=r"Dense input has dtype float32, but weight is float64"):
        layer.forward(np.ones((4, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="float32 or float64"):
        layer.forward(np.ones((4, 3), dtype=np.float16))
    layer.forward(np.ones((4, 3)))
    with pytest.raises(TypeError, match=r"grad_output has dtype float32, expected float64"):
        layer.backward(np.ones((4, 2), dtype=np.float32))
    torch_layer = tl.Dense(3, 2)
    with pytest.raises(RuntimeError, match="dtype"):
        torch_layer(torch.ones(4, 3, dtype=torch.float16))
