"""Specification: MeanSquaredError matches PyTorch (both reductions) and rejects bad input."""

import numpy as np
import pytest
import torch

import scratch.losses as sL
import torch_ref.losses as tL

pytestmark = pytest.mark.ch3


def test_mse_reductions_follow_their_definitions() -> None:
    rng = np.random.default_rng(3)
    p, y = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    squared = (p - y) ** 2
    assert sL.MeanSquaredError().forward(p, y) == pytest.approx(squared.mean(), rel=1e-14)
    assert sL.MeanSquaredError("batchmean").forward(p, y) == pytest.approx(squared.sum(axis=1).mean(), rel=1e-14)
    assert sL.MeanSquaredError("sum").forward(p, y) == pytest.approx(squared.sum(), rel=1e-14)


def test_mse_default_is_torch_mseloss() -> None:
    rng = np.random.default_rng(4)
    p, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    reference = torch.nn.MSELoss()(torch.tensor(p), torch.tensor(y)).item()
    assert sL.MeanSquaredError().forward(p, y) == pytest.approx(reference, rel=1e-14)
    assert tL.MeanSquaredError()(torch.tensor(p), torch.tensor(y)).item() == pytest.approx(reference, rel=1e-14)


def test_mse_backward_is_scaled_residual() -> None:
    rng = np.random.default_rng(5)
    p, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    loss = sL.MeanSquaredError("batchmean")
    loss.forward(p, y)
    np.testing.assert_allclose(loss.backward(), 2 * (p - y) / 4, rtol=1e-14)


BAD_INPUTS = {
    "shape": (np.zeros((4, 1)), np.zeros(4), ValueError, "shape"),
    "dtype": (np.zeros((4, 1)), np.zeros((4, 1), dtype=np.int64), TypeError, "floating"),
    "nan": (np.full((4, 1), np.nan), np.zeros((4, 1)), ValueError, "NaN"),
    "empty": (np.zeros((0, 1)), np.zeros((0, 1)), ValueError, "empty"),
}


@pytest.mark.parametrize("bad", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_scratch_mse_rejects_bad_input(bad: tuple) -> None:
    prediction, target, error, words = bad
    with pytest.raises(error, match=words):
        sL.MeanSquaredError().forward(prediction, target)


@pytest.mark.parametrize("bad", [v for k, v in BAD_INPUTS.items() if k != "nan"], ids=["shape", "dtype", "empty"])
def test_torch_mse_rejects_bad_input(bad: tuple) -> None:
    prediction, target, error, words = bad
    with pytest.raises(error, match=words):
        tL.MeanSquaredError()(torch.tensor(prediction), torch.tensor(target))


@pytest.mark.parametrize("twin", [sL, tL], ids=["scratch", "torch"])
def test_mse_rejects_unknown_reduction(twin: object) -> None:
    with pytest.raises(ValueError, match="unknown reduction"):
        twin.MeanSquaredError("average")  # type: ignore[attr-defined]


@pytest.mark.parametrize("loss", [sL.MeanSquaredError, sL.SoftmaxCrossEntropy], ids=lambda c: c.__name__)
def test_loss_backward_before_forward_is_an_error(loss: type) -> None:
    with pytest.raises(RuntimeError, match=rf"{loss.__name__}\.backward called before forward"):
        loss().backward()


def test_a_failed_forward_leaves_no_stale_pair_for_backward() -> None:
    """The prediction of a rejected call must not meet the previous call's target in backward."""
    mse = sL.MeanSquaredError()
    mse.forward(np.zeros((4, 1)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="NaN"):
        mse.forward(np.ones((4, 1)), np.full((4, 1), np.nan))
    with pytest.raises(RuntimeError, match="after a failed one"):
        mse.backward()
