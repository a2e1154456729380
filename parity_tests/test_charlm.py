"""Specification of the chapter 6 character model: the book's layer shape, the carried state,
sampling, and training parity of both twins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import scratch.charlm as sc
import torch_ref.charlm as tc
from parity_tests.cases import charlm as cases
from parity_tests.registry import failure_table
from parity_tests.text import default_corpus
from parity_tests.train import get_experiment, run_experiment
from parity_tests.trajectory import TrajectoryCase

pytestmark = pytest.mark.ch6


def test_book_training_run_lowers_the_loss_in_both_twins() -> None:
    case = next(c for c in cases.CASES if isinstance(c, TrajectoryCase) and c.name == "charlm_train_book")
    result = case.train("float64")
    assert not failure_table(result.rows)
    for history in (result.scratch, result.torch):
        losses = np.array(history.step_losses)
        assert len(losses) >= 100
        assert losses[-20:].mean() < 0.9 * losses[:5].mean()


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_state_dict_keys_and_shapes_match_between_twins(cell: str) -> None:
    scratch = sc.CharLM(6, 4, num_layers=2, cell=cell, rng=np.random.default_rng(0)).state_dict()
    twin = tc.CharLM(6, 4, num_layers=2, cell=cell).state_dict()
    assert {k: v.shape for k, v in scratch.items()} == {k: tuple(v.shape) for k, v in twin.items()}
    assert "layers.1.proj.weight" in scratch and "layers.0.rnn.weight_hh_l0" in scratch


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_carried_state_is_the_batch_mean_of_the_final_state(cell: str) -> None:
    rng = np.random.default_rng(1)
    layer = sc.RecurrentLayer(cell, 3, 5, 2, rng=rng)
    layer.forward(rng.standard_normal((4, 6, 3)))
    final = layer.rnn.final_state()
    finals = final if isinstance(final, tuple) else (final,)
    assert layer.state is not None and len(layer.state) == len(finals)
    for carried, last in zip(layer.state, finals, strict=True):
        assert carried.shape == (1, 1, 5)
        np.testing.assert_allclose(carried[0, 0], last[0].mean(axis=0), rtol=1e-14)


def test_carried_state_starts_the_next_batch_and_reset_forgets_it() -> None:
    rng = np.random.default_rng(2)
    layer = sc.RecurrentLayer("gru", 3, 4, 3, rng=rng)
    x = rng.standard_normal((2, 5, 3))
    first = layer.forward(x)
    second = layer.forward(x)
    assert not np.allclose(first, second)
    layer.reset_state()
    np.testing.assert_array_equal(layer.forward(x), first)


def test_torch_carried_state_is_detached_so_steps_chain() -> None:
    model = tc.CharLM(5, 3, cell="lstm").double()
    x = torch.eye(5, dtype=torch.float64)[torch.randint(0, 5, (2, 4))]
    for _ in range(2):  # a second backward would fail if the state kept the first graph
        model(x).sum().backward()
    state = model.layers[0].state
    assert isinstance(state, tuple) and all(not s.requires_grad for s in state)


def test_scratch_sampling_is_seeded_in_range_and_keeps_the_state() -> None:
    model = sc.CharLM(6, 4, rng=np.random.default_rng(3))
    model.forward(np.eye(6)[np.random.default_rng(4).integers(0, 6, (2, 5))])
    before = [layer.state for layer in model.layers]
    a = model.sample(0, 30, np.random.default_rng(7))
    b = model.sample(0, 30, np.random.default_rng(7))
    assert a == b and len(a) == 30 and all(0 <= i < 6 for i in a)
    assert model.sample(0, 30, np.random.default_rng(8)) != a
    assert all(s is t for s, t in zip(before, [layer.state for layer in model.layers], strict=True))


def test_torch_sampling_is_seeded_and_in_range() -> None:
    model = tc.CharLM(6, 4)
    a = model.sample(1, 20, torch.Generator().manual_seed(5))
    b = model.sample(1, 20, torch.Generator().manual_seed(5))
    assert a == b and len(a) == 20 and all(0 <= i < 6 for i in a)


def test_scratch_sampling_follows_the_softmax() -> None:
    # one step from a fixed state: the empirical frequencies approach softmax(logits)
    model = sc.CharLM(4, 3, cell="rnn", rng=np.random.default_rng(6))
    x = np.zeros((1, 1, 4))
    x[0, 0, 2] = 1.0
    logits = model.forward(x)[0, 0]
    model.reset_state()
    p = np.exp(logits) / np.exp(logits).sum()
    rng = np.random.default_rng(0)
    draws = [model.sample(2, 1, rng)[0] for _ in range(4000)]
    freq = np.bincount(draws, minlength=4) / 4000
    np.testing.assert_allclose(freq, p, atol=0.03)  # 4 sds of a binomial mean at n=4000


@pytest.mark.parametrize("side", ["scratch", "torch"])
def test_charlm_rejects_bad_input(side: str) -> None:
    if side == "scratch":
        make, conv = (lambda *a, **k: sc.CharLM(*a, **k, rng=np.random.default_rng(0))), (lambda a: a)
    else:
        make, conv = tc.CharLM, torch.tensor  # type: ignore[assignment]
    with pytest.raises(ValueError, match="unknown cell"):
        make(5, 3, cell="transformer")
    with pytest.raises(ValueError, match="vocab_size"):
        make(0, 3)
    with pytest.raises(ValueError, match="num_layers"):
        make(5, 3, num_layers=0)
    model: Any = make(5, 3)
    with pytest.raises(ValueError, match="shape"):
        model(conv(np.zeros((2, 4, 6))))
    with pytest.raises(ValueError, match="shape"):
        model(conv(np.zeros((4, 5))))
    generator = np.random.default_rng(0) if side == "scratch" else torch.Generator()
    with pytest.raises(ValueError, match="start index"):
        model.sample(5, 3, generator)
    with pytest.raises(TypeError, match="start must be a character index"):
        model.sample(1.5, 3, generator)


def test_scratch_recurrent_layer_names_the_batch_and_sequence_axes() -> None:
    with pytest.raises(ValueError, match=r"^RecurrentLayer input has shape \(3, 4\), expected \(N, L, 4\)$"):
        sc.RecurrentLayer("lstm", 4, 5, 2).forward(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"^CharLM input has shape \(2, 3, 4\), expected \(N, L, 5\)$"):
        sc.CharLM(5, 3).forward(np.zeros((2, 3, 4)))


def test_scratch_charlm_rejects_non_float_and_nan_input() -> None:
    model = sc.CharLM(5, 3, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="floating"):
        model.forward(np.zeros((2, 4, 5), dtype=np.int64))
    with pytest.raises(ValueError, match="NaN"):
        model.forward(np.full((2, 4, 5), np.nan))
    with pytest.raises(ValueError, match="empty batch"):
        model.forward(np.zeros((0, 4, 5)))


def test_scratch_backward_before_forward_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="backward called before forward"):
        sc.RecurrentLayer("rnn", 3, 4, 2).backward(np.zeros((1, 2, 2)))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        sc.CharLM(3, 4).backward(np.zeros((1, 2, 3)))


def test_train_charlm_quick_agrees_every_step_and_samples_from_both_twins(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(default_corpus()[:20_000], encoding="utf-8")
    result = run_experiment(get_experiment("charlm"), ["--quick", "--text", str(corpus), "--sample-length", "40"])
    assert result.rows and not failure_table(result.rows)
    (curve,) = result.curves.values()
    assert len(curve["scratch"]) == len(curve["torch"]) >= 100
    assert "scratch twin" in result.text and "torch twin" in result.text
    assert {r["check"] for r in result.rows} >= {"trajectory", "sampling"}
    (entry,) = result.table.to_dict("records")
    assert (entry["steps"], entry["hidden"], entry["parity"]) == (100, 32, "pass")  # the 100-step bar


def test_train_charlm_short_run_honours_steps_and_hidden_and_makes_no_parity_claim(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(default_corpus()[:20_000], encoding="utf-8")
    argv = ["--quick", "--steps", "30", "--hidden", "8", "--text", str(corpus), "--sample-length", "10"]
    result = run_experiment(get_experiment("charlm"), argv)
    (entry,) = result.table.to_dict("records")
    assert (entry["steps"], entry["hidden"]) == (30, 8)  # --quick does not override what was asked
    assert entry["parity"] == "agrees, 30 < 100 steps: no claim"
    assert "this run makes no parity claim" in result.text
    ((label, curve),) = result.curves.items()
    assert label.endswith("loss per character") and max(curve["scratch"]) < 10  # ln(vocab) scale, not the sum


def test_train_charlm_rejects_a_missing_text_file(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        run_experiment(get_experiment("charlm"), ["--text", str(tmp_path / "missing.txt")])
    assert exc.value.code == 2
