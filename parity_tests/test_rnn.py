"""Specification of the chapter 6 recurrent twins: cells (``rnn_cells``) and layers (``rnn``).

Registry cases check forward, every gradient (input, initial state, parameters) and the
finite-difference oracle; the tests below add what the registry cannot say: the scratch
``state_dict`` loads into torch's own built-ins unchanged, state carries across calls, and bad
input is refused with a clear error.
"""

from __future__ import annotations

import doctest
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import scratch.rnn as sr
import scratch.rnn_cells as sc
import torch_ref.rnn as tr
import torch_ref.rnn_cells as tc
from parity_tests.harness import TOLERANCES

pytestmark = pytest.mark.ch6

I, H = 4, 5
TOL = TOLERANCES[("float64", "recurrent")]
LAYERS = {"RNN": (sr.RNN, nn.RNN), "GRU": (sr.GRU, nn.GRU), "LSTM": (sr.LSTM, nn.LSTM)}
CELLS = {
    "RNNCell": (sc.RNNCell, nn.RNNCell),
    "GRUCell": (sc.GRUCell, nn.GRUCell),
    "LSTMCell": (sc.LSTMCell, nn.LSTMCell),
}


def _tensors(state: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.tensor(v) for k, v in state.items()}


def _close(a: Any, b: torch.Tensor) -> None:
    np.testing.assert_allclose(a, b.detach().numpy(), rtol=TOL.rtol, atol=TOL.atol)


@pytest.mark.parametrize("name", LAYERS)
def test_scratch_layer_state_dict_loads_into_torch_builtin(name: str) -> None:
    scratch_cls, torch_cls = LAYERS[name]
    rng = np.random.default_rng(1)
    layer = scratch_cls(I, H, rng=rng)
    builtin = torch_cls(I, H, batch_first=True).double()
    builtin.load_state_dict(_tensors(layer.state_dict()), strict=True)
    x = rng.standard_normal((2, 6, I))
    out, last = builtin(torch.tensor(x))
    _close(layer.forward(x), out)
    _close(layer.h_n, last[0] if name == "LSTM" else last)
    if name == "LSTM":
        _close(layer.c_n, last[1])


@pytest.mark.parametrize("name", CELLS)
def test_scratch_cell_state_dict_loads_into_torch_builtin(name: str) -> None:
    scratch_cls, torch_cls = CELLS[name]
    rng = np.random.default_rng(2)
    cell = scratch_cls(I, H, rng=rng)
    builtin = torch_cls(I, H).double()
    builtin.load_state_dict(_tensors(cell.state_dict()), strict=True)
    x, h = rng.standard_normal((3, I)), rng.standard_normal((3, H))
    if name == "LSTMCell":
        c = rng.standard_normal((3, H))
        h_new, c_new = cell.forward(x, (h, c))
        ref_h, ref_c = builtin(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
        _close(h_new, ref_h)
        _close(c_new, ref_c)
    else:
        _close(cell.forward(x, h), builtin(torch.tensor(x), torch.tensor(h)))


def test_torch_twins_are_the_builtins_batch_first() -> None:
    for twin, builtin in ((tr.RNN(I, H), nn.RNN), (tr.GRU(I, H), nn.GRU), (tr.LSTM(I, H), nn.LSTM)):
        assert isinstance(twin, builtin)
        assert twin.batch_first and twin.num_layers == 1
    assert tc.RNNCell is nn.RNNCell and tc.LSTMCell is nn.LSTMCell and isinstance(tc.GRUCell(I, H), nn.GRUCell)


def test_book_gru_differs_from_torch_gru_on_the_same_weights() -> None:
    rng = np.random.default_rng(3)
    torch_form = sr.GRU(I, H, rng=rng)
    book_form = sr.GRU(I, H, reset_after=False)
    book_form.load_state_dict(torch_form.state_dict())
    x = rng.standard_normal((2, 5, I))
    h0 = rng.standard_normal((1, 2, H))
    assert np.abs(torch_form.forward(x, h0) - book_form.forward(x, h0)).max() > 1e-3


def test_book_gru_equals_nn_gru_when_the_reset_gate_is_open() -> None:
    """With r = 1, ``W_hn (r * h) + b_hn`` and ``r * (W_hn h + b_hn)`` coincide: an oracle for
    both book-form twins that neither wrote, ``nn.GRU`` itself."""
    rng = np.random.default_rng(5)
    book = sr.GRU(I, H, reset_after=False, rng=rng)
    state = book.state_dict()
    state["bias_ih_l0"][:H] = 60.0  # r = sigmoid(60 + O(1)) rounds to exactly 1.0 in float64
    book.load_state_dict(state)
    torch_book = tr.GRU(I, H, reset_after=False).double()
    builtin = nn.GRU(I, H, batch_first=True).double()
    torch_book.load_state_dict(_tensors(state))
    builtin.load_state_dict(_tensors(state))
    x, h0 = rng.standard_normal((2, 7, I)), rng.standard_normal((1, 2, H))
    reference, _ = builtin(torch.tensor(x), torch.tensor(h0))
    _close(book.forward(x, h0), reference)
    _close(torch_book(torch.tensor(x), torch.tensor(h0))[0].detach().numpy(), reference)


@pytest.mark.parametrize("name", LAYERS)
def test_final_state_continues_the_sequence(name: str) -> None:
    rng = np.random.default_rng(4)
    layer = LAYERS[name][0](I, H, rng=rng)
    x = rng.standard_normal((3, 9, I))
    whole = layer.forward(x)
    first = layer.forward(x[:, :4])
    rest = layer.forward(x[:, 4:], layer.final_state())
    np.testing.assert_allclose(np.concatenate([first, rest], axis=1), whole, rtol=1e-13, atol=1e-15)


def test_final_state_before_forward_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no final state"):
        sr.RNN(I, H).final_state()


@pytest.mark.parametrize("module", [sr.LSTM(I, H), sc.LSTMCell(I, H), sc.GRUCell(I, H)])
def test_backward_before_forward_is_an_error(module: Any) -> None:
    with pytest.raises(RuntimeError, match="backward called before forward"):
        module.backward(np.zeros((2, 3, H)))


def test_docstring_examples_run() -> None:
    result = doctest.testmod(sr)
    assert result.attempted > 0 and result.failed == 0


# -- bad input: every entry point names the problem ----------------------------------------------


@pytest.mark.parametrize("name", LAYERS)
def test_layer_rejects_bad_input(name: str) -> None:
    layer = LAYERS[name][0](I, H, rng=np.random.default_rng(0))
    x = np.zeros((2, 3, I))
    with pytest.raises(ValueError, match=r"input has shape \(2, 3, 7\), expected \(N, L, 4\)"):
        layer.forward(np.zeros((2, 3, 7)))
    with pytest.raises(ValueError, match="input has shape"):
        layer.forward(np.zeros((3, I)))  # 2-D: unbatched sequences are not accepted
    with pytest.raises(TypeError, match="floating dtype"):
        layer.forward(np.zeros((2, 3, I), dtype=np.int64))
    with pytest.raises(ValueError, match="NaN or infinite"):
        layer.forward(np.full((2, 3, I), np.nan))
    with pytest.raises(ValueError, match="empty batch"):
        layer.forward(np.zeros((0, 3, I)))
    with pytest.raises(ValueError, match="empty sequence"):
        layer.forward(np.zeros((2, 0, I)))
    with pytest.raises(TypeError, match="parameters are float64"):
        layer.forward(x.astype(np.float32))
    layer.forward(x)
    with pytest.raises(ValueError, match="grad_output has shape"):
        layer.backward(np.zeros((2, 3, H + 1)))


@pytest.mark.parametrize("name", ["RNN", "GRU"])
def test_layer_rejects_h0_of_wrong_shape(name: str) -> None:
    layer = LAYERS[name][0](I, H)
    x = np.zeros((2, 3, I))
    with pytest.raises(ValueError, match=r"h_0 has shape \(2, 5\), expected \(1, 2, 5\)"):
        layer.forward(x, np.zeros((2, H)))
    with pytest.raises(TypeError, match="h_0 has dtype float32"):
        layer.forward(x, np.zeros((1, 2, H), dtype=np.float32))


def test_lstm_rejects_bad_initial_state() -> None:
    layer = sr.LSTM(I, H)
    x = np.zeros((2, 3, I))
    with pytest.raises(TypeError, match=r"hx must be a tuple"):
        layer.forward(x, np.zeros((1, 2, H)))
    with pytest.raises(ValueError, match=r"c_0 has shape \(1, 3, 5\)"):
        layer.forward(x, (np.zeros((1, 2, H)), np.zeros((1, 3, H))))


@pytest.mark.parametrize("name", CELLS)
def test_cell_rejects_bad_input(name: str) -> None:
    cell = CELLS[name][0](I, H)
    with pytest.raises(ValueError, match=r"input has shape \(2, 3\), expected \(N, 4\)"):
        cell.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"input has shape \(2, 3, 4\)"):
        cell.forward(np.zeros((2, 3, I)))
    with pytest.raises(TypeError, match="floating dtype"):
        cell.forward(np.zeros((2, I), dtype=np.int32))
    bad_h = np.zeros((3, H))
    hx = (bad_h, np.zeros((2, H))) if name == "LSTMCell" else bad_h
    with pytest.raises(ValueError, match=r"h has shape \(3, 5\), expected \(2, 5\)"):
        cell.forward(np.zeros((2, I)), hx)


@pytest.mark.parametrize("name", CELLS)
def test_cell_backward_rejects_a_gradient_unlike_the_new_state(name: str) -> None:
    cell = CELLS[name][0](I, H)
    cell.forward(np.zeros((2, I)))
    lstm = name == "LSTMCell"
    wrong = (np.zeros((2, H + 1)), np.zeros((2, H))) if lstm else np.zeros((2, H + 1))
    with pytest.raises(ValueError, match="grad_output has shape"):
        cell.backward(wrong)
    with pytest.raises(TypeError, match=f"grad_output must hold {2 if lstm else 1} arrays"):
        cell.backward((np.zeros((2, H)),) * (1 if lstm else 2))


@pytest.mark.parametrize("cls", [sc.RNNCell, sc.GRUCell, sc.LSTMCell, sr.RNN, sr.GRU, sr.LSTM])
def test_sizes_must_be_positive_ints(cls: Any) -> None:
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        cls(I, 0)
    with pytest.raises(ValueError, match="input_size must be a positive int"):
        cls(2.5, H)


@pytest.mark.parametrize("cls", [sc.GRUCell, sr.GRU, tc.GRUCell, tr.GRU])
def test_gru_reset_after_must_be_a_bool(cls: Any) -> None:
    with pytest.raises(TypeError, match="reset_after must be True"):
        cls(I, H, "book")


@pytest.mark.parametrize("twin", [tr.RNN(I, H), tr.GRU(I, H), tr.GRU(I, H, reset_after=False), tr.LSTM(I, H)])
def test_torch_twin_rejects_unbatched_wrong_width_or_empty_input(twin: nn.Module) -> None:
    with pytest.raises(ValueError, match=r"expected \(N, L, 4\)"):
        twin(torch.zeros(3, I))
    with pytest.raises(ValueError, match=r"expected \(N, L, 4\)"):
        twin(torch.zeros(2, 3, I + 1))
    with pytest.raises(ValueError, match=r"input is an empty batch \(shape \(0, 3, 4\)\)"):  # as in scratch
        twin(torch.zeros(0, 3, I))
    with pytest.raises(ValueError, match=r"input is an empty sequence \(shape \(2, 0, 4\)\)"):
        twin(torch.zeros(2, 0, I))


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("shape", [(0, 3, I), (2, 0, I)], ids=["empty_batch", "empty_sequence"])
def test_twins_reject_empty_input_in_the_same_words(name: str, shape: tuple[int, ...]) -> None:
    twin = getattr(tr, name)(I, H)
    with pytest.raises(ValueError) as scratch_error:
        LAYERS[name][0](I, H).forward(np.zeros(shape))
    with pytest.raises(ValueError) as torch_error:
        twin(torch.zeros(shape, dtype=torch.float64))
    assert str(torch_error.value) == str(scratch_error.value)


def test_torch_book_gru_rejects_h0_of_wrong_shape() -> None:
    with pytest.raises(ValueError, match=r"h_0 has shape \(2, 5\)"):
        tr.GRU(I, H, reset_after=False)(torch.zeros(2, 3, I), torch.zeros(2, H))
