"""Specification of the book options of ``RecurrentLayer`` / ``CharLM`` (both twins).

The registry cases (``parity_tests/cases/charlm_book.py``) run through ``test_charlm``'s
``case_params("charlm")``; these tests pin the behaviour around them.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import scratch.charlm as sc
import scratch.optimizers as so
import torch_ref.charlm as tc
import torch_ref.optimizers as to

pytestmark = pytest.mark.ch6


def test_single_bias_leaves_bias_hh_out_of_parameters_and_state_on_both_twins() -> None:
    s = sc.CharLM(5, 4, num_layers=2, cell="lstm", rng=np.random.default_rng(0), single_bias=True)
    t = tc.CharLM(5, 4, num_layers=2, cell="lstm", single_bias=True)
    for keys in (set(s.state_dict()), {n for n, _ in t.named_parameters()}, set(t.state_dict())):
        assert not any("bias_hh" in k for k in keys)
        assert "layers.1.rnn.bias_ih_l0" in keys
    assert set(s.state_dict()) == set(t.state_dict())
    assert not s.layers[0].rnn.cell.bias_hh.data.any()
    assert not t.get_buffer("layers.0.rnn.bias_hh_l0").any()


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_single_bias_stays_zero_while_training_both_twins(cell: str) -> None:
    rng = np.random.default_rng(1)
    s = sc.RecurrentLayer(cell, 3, 4, 3, rng=rng, single_bias=True)
    t = tc.RecurrentLayer(cell, 3, 4, 3, single_bias=True).double()
    t.load_state_dict({k: torch.tensor(v) for k, v in s.state_dict().items()})
    s_opt, t_opt = so.AdaGrad(s.parameters(), lr=0.5), to.AdaGrad(t.parameters(), lr=0.5)
    x = rng.standard_normal((2, 5, 3))
    for _ in range(3):
        s_opt.zero_grad()
        s.forward(x)
        s.backward(np.ones((2, 5, 3)))
        s_opt.step()
        t_opt.zero_grad()
        t(torch.tensor(x)).sum().backward()
        t_opt.step()
    fixed = t.get_buffer("rnn.bias_hh_l0")
    assert not s.rnn.cell.bias_hh.data.any() and not fixed.any()
    assert fixed.dtype == torch.float64  # the buffer followed .double()
    for key, value in t.state_dict().items():
        np.testing.assert_allclose(s.state_dict()[key], value.numpy(), rtol=1e-10, atol=1e-12)


def test_two_biases_step_the_effective_bias_twice_as_far_as_the_books_one() -> None:
    # an RNN gate sees b_ih + b_hh; both get the same gradient, so SGD moves their sum by 2 lr g
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 5))
    book = sc.RecurrentLayer("rnn", 3, 4, 5, rng=rng, single_bias=True)
    ours = sc.RecurrentLayer("rnn", 3, 4, 5, rng=rng)
    ours.load_state_dict({**book.state_dict(), "rnn.bias_hh_l0": np.zeros(4)})  # the same function to start
    steps = []
    for layer in (ours, book):
        before = layer.rnn.cell.bias_ih.data + layer.rnn.cell.bias_hh.data
        layer.forward(x)
        layer.backward(g)
        so.SGD(layer.parameters(), lr=0.1).step()
        steps.append(layer.rnn.cell.bias_ih.data + layer.rnn.cell.bias_hh.data - before)
    np.testing.assert_allclose(steps[0], 2.0 * steps[1], rtol=1e-12)


def test_single_bias_layer_runs_in_float32() -> None:
    layer = sc.RecurrentLayer("gru", 3, 4, 2, rng=np.random.default_rng(4), single_bias=True, reset_after=False)
    layer.to(np.float32)
    out = layer.forward(np.ones((2, 3, 3), dtype=np.float32))
    assert out.dtype == np.float32


@pytest.mark.parametrize("module", [sc, tc])
def test_book_options_reject_bad_values(module: object) -> None:
    layer = module.RecurrentLayer  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="reset_after=False \\(the book's GRU\\) needs cell='gru'"):
        layer("lstm", 3, 4, 2, reset_after=False)
    with pytest.raises(ValueError, match="weight_scale must be a positive finite number"):
        layer("rnn", 3, 4, 2, weight_scale=0.0)
    with pytest.raises(TypeError, match="single_bias must be True or False"):
        layer("rnn", 3, 4, 2, single_bias="yes")
