"""Specification: the twins' API answers bad input with one clear error (both twins where both apply).

One parametrised matrix: each case builds the mistake in one twin and names the exception and the
words of its message. Further tests check what must hold after a refusal (a ``load_state_dict``
that fails changes nothing) and what must be accepted (numpy scalars as learning rates).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import scratch.activations as sa
import scratch.layers as sl
import scratch.losses as sL
import scratch.optimizers as so
import scratch.rnn as sr
import torch_ref.layers as tl
import torch_ref.losses as tL
from parity_tests import data

# np.asmatrix warns that np.matrix is discouraged: that is the point of refusing it
pytestmark = [pytest.mark.ch3, pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")]

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((4, 3))
ONE_HOT = np.eye(3)[[0, 2, 1, 0]]
X = RNG.standard_normal((5, 4))


def _scratch_sce(target: Any, sequence: bool = False) -> Callable[[], Any]:
    if sequence:
        return lambda: sL.SequenceSoftmaxCrossEntropy().forward(LOGITS[None], target[None])
    return lambda: sL.SoftmaxCrossEntropy().forward(LOGITS, target)


def _torch_sce(target: Any, sequence: bool = False) -> Callable[[], Any]:
    t = torch.as_tensor(target)
    if sequence:
        return lambda: tL.SequenceSoftmaxCrossEntropy()(torch.tensor(LOGITS)[None], t[None])
    return lambda: tL.SoftmaxCrossEntropy()(torch.tensor(LOGITS), t)


def _sgd_step_with_grad(grad: np.ndarray) -> Callable[[], None]:
    def run() -> None:
        params = dict(sl.Dense(4, 3, rng=np.random.default_rng(0)).named_parameters())
        params["weight"].grad = grad  # weight (3, 4)
        so.SGD(params.values(), lr=0.1).step()

    return run


def _scratch_modified_in_place(what: str) -> Callable[[], Any]:
    def run() -> Any:
        layer = sl.Dense(4, 3, sa.Tanh(), rng=np.random.default_rng(0))
        x = X.copy()
        y = layer.forward(x)
        (x if what == "input" else y)[0, 0] += 1.0
        return layer.backward(np.ones_like(y))

    return run


def _torch_modified_in_place(what: str) -> Callable[[], Any]:
    def run() -> Any:
        layer = tl.Dense(4, 3, torch.nn.Tanh()).double()
        x = torch.tensor(X)
        y = layer(x)
        with torch.no_grad():
            (x if what == "input" else y)[0, 0] += 1.0
        y.sum().backward()

    return run


def _target_modified_in_place(twin: str, loss: str) -> Callable[[], Any]:
    def run() -> Any:
        target = ONE_HOT.copy()
        if twin == "scratch":
            fn = sL.MeanSquaredError() if loss == "mse" else sL.SoftmaxCrossEntropy()
            fn.forward(LOGITS, target)
            target[[0, 1]] = target[[1, 0]]  # swap two rows: still one-hot, a different gradient
            return fn.backward()
        criterion = tL.MeanSquaredError() if loss == "mse" else tL.SoftmaxCrossEntropy()
        logits, target_t = torch.tensor(LOGITS, requires_grad=True), torch.tensor(target)
        value = criterion(logits, target_t)
        target_t[[0, 1]] = target_t[[1, 0]]
        value.backward()

    return run


def _lstm_input_modified_in_place() -> Any:
    lstm = sr.LSTM(3, 4, rng=np.random.default_rng(0))
    x = RNG.standard_normal((2, 5, 3))
    out = lstm.forward(x)
    x[1, 2, 0] = 7.0
    return lstm.backward(np.ones_like(out))


BAD_ROWS = np.array([[0.6, 0.6, -0.2], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])

#: (id, call, exception, regex of the message)
CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("scratch SCE rows sum to 2", _scratch_sce(2 * ONE_HOT), ValueError, "rows must sum to 1.*sums to 2"),
    ("torch SCE rows sum to 2", _torch_sce(2 * ONE_HOT), ValueError, "rows must sum to 1.*sums to 2"),
    ("scratch SCE negative entry", _scratch_sce(BAD_ROWS), ValueError, "negative entries"),
    ("torch SCE negative entry", _torch_sce(BAD_ROWS), ValueError, "negative entries"),
    ("scratch sequence SCE rows sum to 2", _scratch_sce(2 * ONE_HOT, True), ValueError, "rows must sum to 1"),
    ("torch sequence SCE rows sum to 2", _torch_sce(2 * ONE_HOT, True), ValueError, "rows must sum to 1"),
    ("scratch SCE bool one-hot", _scratch_sce(ONE_HOT.astype(bool)), TypeError, "dtype.*bool"),
    ("torch SCE bool one-hot", _torch_sce(ONE_HOT.astype(bool)), TypeError, "dtype torch.bool"),
    ("scratch SCE masked indices", _scratch_sce(np.ma.masked_array([0, 1, 2, 0])), TypeError, "masked array"),
    ("scratch SGD broadcast gradient", _sgd_step_with_grad(np.ones((1, 4))), ValueError, r"shape \(1, 4\).*\(3, 4\)"),
    ("scratch SGD lr True", lambda: so.SGD(sl.Dense(2, 1).parameters(), lr=True), ValueError, "learning rate"),
    ("scratch SGD lr nan", lambda: so.SGD(sl.Dense(2, 1).parameters(), lr=np.float32("nan")), ValueError, "finite"),
    ("scratch Conv2D dropout -0.5", lambda: sl.Conv2D(3, 2, 3, dropout=-0.5), ValueError, r"dropout.*\[0, 1\)"),
    ("torch Conv2D dropout -0.5", lambda: tl.Conv2D(3, 2, 3, dropout=-0.5), ValueError, r"dropout.*\[0, 1\)"),
    ("scratch Conv2D dropout 1.5", lambda: sl.Conv2D(3, 2, 3, dropout=1.5), ValueError, r"dropout.*\[0, 1\)"),
    ("torch Conv2D dropout 1.5", lambda: tl.Conv2D(3, 2, 3, dropout=1.5), ValueError, r"dropout.*\[0, 1\)"),
    ("scratch Dense(True, 3)", lambda: sl.Dense(True, 3), TypeError, "in_features must be an int, got bool"),
    ("torch Dense(True, 3)", lambda: tl.Dense(True, 3), TypeError, "in_features must be an int, got bool"),
    ("scratch Dense np.matrix", lambda: sl.Dense(4, 3).forward(np.asmatrix(X)), TypeError, "np.matrix"),
    ("scratch Dense masked", lambda: sl.Dense(4, 3).forward(np.ma.masked_array(X)), TypeError, "masked array"),
    ("scratch MSE np.matrix", lambda: sL.MeanSquaredError().forward(np.asmatrix(X), X), TypeError, "np.matrix"),
    (
        "scratch load_state_dict np.matrix",
        lambda: sl.Dense(2, 2).load_state_dict({"weight": np.asmatrix(np.eye(2)), "bias": np.zeros(2)}),
        TypeError,
        "must be an ndarray",
    ),
    ("scratch input changed in place", _scratch_modified_in_place("input"), RuntimeError, "modified by an inplace"),
    ("torch input changed in place", _torch_modified_in_place("input"), RuntimeError, "modified by an inplace"),
    ("scratch output changed in place", _scratch_modified_in_place("output"), RuntimeError, "modified by an inplace"),
    ("torch output changed in place", _torch_modified_in_place("output"), RuntimeError, "modified by an inplace"),
    ("scratch LSTM input changed in place", _lstm_input_modified_in_place, RuntimeError, "input of the last forward"),
    (
        "scratch MSE target changed in place",
        _target_modified_in_place("scratch", "mse"),
        RuntimeError,
        "modified by an",
    ),
    ("torch MSE target changed in place", _target_modified_in_place("torch", "mse"), RuntimeError, "modified by an"),
    (
        "scratch SCE target changed in place",
        _target_modified_in_place("scratch", "sce"),
        RuntimeError,
        "modified by an",
    ),
    ("torch SCE target changed in place", _target_modified_in_place("torch", "sce"), RuntimeError, "modified by an"),
    ("MNIST folder that is a file", lambda: data.load_mnist_dir(__file__), data.DataError, "is a file, not a folder"),
]


@pytest.mark.parametrize(("call", "error", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_one_clear_error(call: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as info:
        call()
    assert "\n" not in str(info.value).strip()


@pytest.mark.parametrize("twin", ["scratch", "torch"])
def test_probability_rows_and_one_hot_targets_are_accepted(twin: str) -> None:
    smooth = 0.9 * ONE_HOT + 0.1 / 3  # label smoothing: rows still sum to 1 within rounding
    for target in (ONE_HOT, smooth, smooth.astype(np.float32)):
        if twin == "scratch":
            value = sL.SoftmaxCrossEntropy().forward(LOGITS.astype(target.dtype), target)
        else:
            value = float(tL.SoftmaxCrossEntropy()(torch.tensor(LOGITS, dtype=torch.float64), torch.tensor(target)))
        assert value > 0


def test_load_state_dict_checks_every_entry_before_changing_any() -> None:
    layer = sl.Dense(3, 2, rng=np.random.default_rng(0))
    before = layer.state_dict()
    with pytest.raises(ValueError, match="'bias' has shape"):
        layer.load_state_dict({"weight": np.ones((2, 3)), "bias": np.ones(5)})
    for name, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=f"{name} changed by a refused load")


def test_load_state_dict_casts_to_the_module_dtype_like_torch() -> None:
    weights = {"weight": np.ones((2, 3), dtype=np.float32), "bias": np.zeros(2, dtype=np.float32)}
    scratch_layer = sl.Dense(3, 2, rng=np.random.default_rng(0))  # float64
    scratch_layer.load_state_dict(weights)
    torch_layer = tl.Dense(3, 2).double()
    torch_layer.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    assert {v.dtype for v in scratch_layer.state_dict().values()} == {np.dtype(np.float64)}
    assert {v.dtype for v in torch_layer.state_dict().values()} == {torch.float64}


@pytest.mark.parametrize("lr", [np.float32(0.01), np.float64(0.01), np.int64(1), 0.01])
def test_sgd_accepts_numpy_real_scalars_and_keeps_the_parameter_dtype(lr: Any) -> None:
    layer = sl.Dense(2, 1, rng=np.random.default_rng(0)).to(np.float32)
    for p in layer.parameters():
        p.grad = np.ones_like(p.data)
    so.SGD(layer.parameters(), lr=lr).step()
    assert all(p.data.dtype == np.float32 for p in layer.parameters())


def test_a_refused_sgd_step_moves_no_parameter() -> None:
    layer = sl.Dense(4, 3, rng=np.random.default_rng(0))
    before = layer.state_dict()
    params = dict(layer.named_parameters())
    params["bias"].grad = np.ones(3)  # fine, but listed first below: it must not move either
    params["weight"].grad = np.ones((1, 4))  # would broadcast over the 3 rows
    with pytest.raises(ValueError, match="not broadcast"):
        so.SGD([params["bias"], params["weight"]], lr=0.1).step()
    for name, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_forward_again_after_an_in_place_change_gives_the_changed_input_gradient() -> None:
    """The guard refuses a stale forward only: a fresh forward on the changed input is fine and matches torch."""
    layer = sl.Dense(4, 3, sa.Tanh(), rng=np.random.default_rng(0))
    twin = tl.Dense(4, 3, torch.nn.Tanh()).double()
    twin.load_state_dict({k: torch.tensor(v) for k, v in layer.state_dict().items()})
    x = X.copy()
    layer.forward(x)
    x *= 2.0
    y = layer.forward(x)
    layer.backward(np.ones_like(y))
    x_t = torch.tensor(x)
    twin(x_t).sum().backward()
    assert twin.weight.grad is not None
    # float64, the same products in both twins: they differ by rounding only
    np.testing.assert_allclose(layer.grads["weight"], twin.weight.grad.numpy(), rtol=1e-12, atol=1e-14)
