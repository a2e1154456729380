"""Specification of chapter 7's Adam: scratch from first principles against ``torch.optim.Adam``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import scratch.optimizers as so
import torch_ref.optimizers as to
from parity_tests.cases import optimizers_adam
from parity_tests.cases.optimizers_adam import AdamCase
from parity_tests.mutants.adam import MUTANTS
from parity_tests.mutation import Mutant, run_mutant
from parity_tests.registry import Case, assert_case_passes
from scratch.layers import Dense
from scratch.module import Parameter
from torch_ref.layers import Dense as TorchDense

pytestmark = pytest.mark.ch7

CASES = [pytest.param(c, id=c.name) for c in optimizers_adam.CASES]


@pytest.mark.parametrize("case", CASES)
def test_adam_matches_torch_float64(case: Case) -> None:
    assert_case_passes(case, "float64")


@pytest.mark.parametrize("case", CASES)
def test_adam_matches_torch_float32(case: Case) -> None:
    assert_case_passes(case, "float32")


def test_adam_matches_torch_over_50_steps_with_weight_decay() -> None:
    case = AdamCase("adam_50_steps", {"lr": 0.01, "weight_decay": 1e-3}, steps=50)
    assert_case_passes(case, "float64")


def test_adam_trains_a_dense_layer_like_torch_for_50_steps() -> None:
    rng = np.random.default_rng(3)
    layer = Dense(4, 3, rng=rng)
    twin = TorchDense(4, 3).double()
    twin.load_state_dict({k: torch.tensor(v) for k, v in layer.state_dict().items()})
    s_opt = so.Adam(layer.parameters(), lr=0.05, weight_decay=1e-5)
    t_opt = to.Adam(twin.parameters(), lr=0.05, weight_decay=1e-5)
    x, y = rng.standard_normal((16, 4)), rng.standard_normal((16, 3))
    first = float(np.mean((layer.forward(x) - y) ** 2))
    for _ in range(50):
        s_opt.zero_grad()
        layer.forward(x)
        layer.backward(2.0 * (layer.output - y) / y.size)  # the gradient of the mean squared error
        s_opt.step()
        t_opt.zero_grad()
        torch.nn.functional.mse_loss(twin(torch.tensor(x)), torch.tensor(y)).backward()
        t_opt.step()
    for key, value in twin.state_dict().items():
        np.testing.assert_allclose(layer.state_dict()[key], value.numpy(), rtol=1e-10, atol=1e-12)  # 50 steps
    assert float(np.mean((layer.forward(x) - y) ** 2)) < first, "50 Adam steps lower the loss"


def test_adam_first_step_moves_each_element_by_lr() -> None:
    # after one step m^ = g and v^ = g^2, so the step is lr * g / (|g| + eps): lr against the gradient's sign
    p = Parameter(np.array([1.0, 1.0, 1.0]))
    p.grad = np.array([3.0, -0.5, 1e-3])
    opt = so.Adam([p], lr=0.1, eps=0.0)
    opt.step()
    np.testing.assert_allclose(p.data, [0.9, 1.1, 0.9], rtol=1e-14)
    assert sorted(opt.state[p]) == ["exp_avg", "exp_avg_sq", "step"]
    assert float(opt.state[p]["step"]) == 1.0


def test_adam_weight_decay_is_added_to_the_gradient_not_to_the_parameter() -> None:
    # L2 form: with a zero gradient the decayed gradient wd * p drives a step of lr (sign of p)
    p = Parameter(np.array([2.0, -4.0]))
    p.grad = np.zeros(2)
    so.Adam([p], lr=0.1, eps=0.0, weight_decay=0.5).step()
    np.testing.assert_allclose(p.data, [1.9, -3.9], rtol=1e-14)
    assert np.array_equal(p.grad, np.zeros(2)), "the stored gradient is left alone"


@pytest.mark.parametrize("module", [so, to])
def test_adam_rejects_bad_options(module: object) -> None:
    params = [Parameter(np.zeros(2))] if module is so else [torch.nn.Parameter(torch.zeros(2))]
    adam = module.Adam  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="learning rate"):
        adam(params, lr=0.0)
    with pytest.raises(ValueError, match="beta2 must be a number in"):
        adam(params, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="betas must be a pair"):
        adam(params, betas=(0.9,))
    with pytest.raises(ValueError, match="eps must be"):
        adam(params, eps=float("nan"))
    with pytest.raises(ValueError, match="weight_decay must be"):
        adam(params, weight_decay=-1e-5)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_adam_mutant_is_caught_by_a_check(mutant: Mutant) -> None:
    result = run_mutant(mutant)
    assert result.caught_by_a_check, f"{mutant.name}: {result.failing_rows} failing rows, {result.crashed} crashes"


def test_adam_state_copied_by_key_from_torch_continues_identically() -> None:
    # lockstep parity hands torch's optimizer state to the scratch twin by key, mid-run
    rng = np.random.default_rng(6)
    start = rng.standard_normal(5)
    t_param = torch.nn.Parameter(torch.tensor(start))
    t_opt = to.Adam([t_param], lr=0.01, weight_decay=0.1)
    for _ in range(3):
        t_param.grad = torch.tensor(rng.standard_normal(5))
        t_opt.step()
    s_param = Parameter(t_param.detach().numpy().copy())
    s_opt = so.Adam([s_param], lr=0.01, weight_decay=0.1)
    s_opt.state[s_param] = {k: v.detach().numpy().copy() for k, v in t_opt.state[t_param].items()}
    for _ in range(3):
        g = rng.standard_normal(5)
        s_param.grad = g.copy()
        t_param.grad = torch.tensor(g)
        s_opt.step()
        t_opt.step()
    np.testing.assert_allclose(s_param.data, t_param.detach().numpy(), rtol=1e-13, atol=1e-15)
    assert float(s_opt.state[s_param]["step"]) == 6.0
