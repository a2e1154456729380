"""Specification: NeuralNetwork forward/backward and train_batch match PyTorch; state_dict keys agree."""

import numpy as np
import pytest
import torch

import scratch.layers as sl
import scratch.losses as sL
import scratch.network as sn
import torch_ref.layers as tl
import torch_ref.losses as tL
import torch_ref.network as tn

pytestmark = pytest.mark.ch3


def _pair() -> tuple[sn.NeuralNetwork, tn.NeuralNetwork]:
    rng = np.random.default_rng(0)
    scratch = sn.NeuralNetwork([sl.Dense(3, 4, rng=rng), sl.Dense(4, 2, rng=rng)], sL.MeanSquaredError())
    torch_net = tn.NeuralNetwork([tl.Dense(3, 4), tl.Dense(4, 2)], tL.MeanSquaredError()).double()
    return scratch, torch_net


def test_network_state_dict_keys_match_torch() -> None:
    scratch, torch_net = _pair()
    assert list(scratch.state_dict()) == list(torch_net.state_dict())
    assert list(scratch.state_dict()) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]


def test_train_batch_returns_loss_and_fills_grads_like_torch() -> None:
    scratch, torch_net = _pair()
    torch_net.load_state_dict({k: torch.tensor(v) for k, v in scratch.state_dict().items()})
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    loss_s = scratch.train_batch(x, y)
    loss_t = torch_net.train_batch(torch.tensor(x), torch.tensor(y))
    assert loss_s == pytest.approx(loss_t, rel=1e-12)
    for name, p in torch_net.named_parameters():
        assert p.grad is not None
        np.testing.assert_allclose(scratch.grads[name], p.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_network_rejects_bad_input() -> None:
    scratch, torch_net = _pair()
    with pytest.raises(ValueError, match=r"\(5, 4\), expected \(N, 3\)"):
        scratch.forward(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="NaN"):
        scratch.forward(np.full((5, 3), np.nan))
    scratch.forward(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="grad_output has shape"):
        scratch.backward(np.zeros((5, 1)))
    with pytest.raises(TypeError, match="floating"):
        scratch.forward(np.zeros((5, 3), dtype=np.int32))
    with pytest.raises(ValueError, match="empty"):
        scratch.forward(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="shape"):
        scratch.train_batch(np.zeros((5, 3)), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="shape"):
        torch_net.train_batch(torch.zeros(5, 3, dtype=torch.float64), torch.zeros(5, 1, dtype=torch.float64))


@pytest.mark.parametrize("twin", [(sn, sL), (tn, tL)], ids=["scratch", "torch"])
def test_network_needs_layers(twin: tuple) -> None:
    network, losses = twin
    with pytest.raises(ValueError, match="at least one layer"):
        network.NeuralNetwork([], losses.MeanSquaredError())


def test_load_state_dict_takes_torch_tensors_and_is_strict() -> None:
    scratch, torch_net = _pair()
    scratch.load_state_dict(torch_net.state_dict())
    for name, value in torch_net.state_dict().items():
        np.testing.assert_array_equal(scratch.state_dict()[name], value.numpy())
    state = scratch.state_dict()
    with pytest.raises(KeyError, match=r"missing keys \['layers.1.bias'\]"):
        scratch.load_state_dict({k: v for k, v in state.items() if k != "layers.1.bias"})
    with pytest.raises(KeyError, match=r"unexpected keys \['extra'\]"):
        scratch.load_state_dict({**state, "extra": np.zeros(1)})
    with pytest.raises(ValueError, match=r"'layers.0.weight' has shape \(3, 4\), expected \(4, 3\)"):
        scratch.load_state_dict({**state, "layers.0.weight": np.zeros((3, 4))})
    with pytest.raises(TypeError, match="floating point"):
        scratch.load_state_dict({**state, "layers.0.bias": np.zeros(4, dtype=np.int64)})


def test_module_to_casts_to_float_dtypes_only() -> None:
    scratch, _ = _pair()
    assert all(v.dtype == np.float32 for v in scratch.to(np.float32).state_dict().values())
    with pytest.raises(TypeError, match="floating dtype"):
        scratch.to(np.int64)  # type: ignore[arg-type]
