"""Specification: ``dlfs-parity train chapter7`` runs the Boston MLP, the MNIST CNN and the LSTM
character model in both twins with lockstep parity over every step and the book's figures beside
ours; ``train autoencoder`` draws the book's t-SNE map of both twins' codes side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from parity_tests.experiments import _chapter7_cnn, _chapter7_lstm, _tsne, chapter7
from parity_tests.train import experiment_parser, get_experiment, run_experiment

pytestmark = pytest.mark.ch7


def test_models_option_picks_in_the_chapters_order_and_rejects_unknown_names() -> None:
    assert chapter7.chosen_models("lstm,boston") == ["boston", "lstm"]
    assert chapter7.chosen_models(None) == ["boston", "cnn", "lstm", "autoencoder"]
    with pytest.raises(argparse.ArgumentTypeError, match="unknown \\['rnn'\\]"):
        chapter7.chosen_models("cnn,rnn")
    with pytest.raises(SystemExit):  # argparse: a usage error, not a traceback
        experiment_parser(get_experiment("chapter7")).parse_args(["--models", "rnn"])


def test_tsne_maps_of_equal_codes_are_equal_and_the_picture_is_a_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((40, 28))
    s_map, t_map, gap = _tsne.tsne_maps(codes, codes.copy())
    assert s_map.shape == (40, 2) and gap == 0.0  # the book's random state makes the map deterministic
    path = _tsne.drawer(s_map, t_map, rng.integers(0, 10, 40))(tmp_path / "tsne.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_quick_chapter7_runs_the_cnn_and_the_lstm_in_lockstep_beside_the_book() -> None:
    result = run_experiment(get_experiment("chapter7"), ["--quick", "--models", "cnn,lstm"])
    assert result.rows and all(r["passed"] for r in result.rows), [r for r in result.rows if not r["passed"]][:3]
    cnn, lstm = result.table.to_dict("records")
    assert cnn["metric"] == "test accuracy %" and cnn["book"] == _chapter7_cnn.BOOK_TEST_ACCURACY
    assert cnn["lockstep"] == "pass" and cnn["lockstep steps"] == "4/4" and cnn["lockstep evals"] == 1
    assert cnn["scratch"] == cnn["torch"]
    assert lstm["metric"] == "validation loss" and lstm["book"] == _chapter7_lstm.BOOK_VALIDATION_LOSS
    assert lstm["lockstep"] == "pass" and lstm["lockstep steps"] == f"{_chapter7_lstm.QUICK_STEPS}/20"
    assert abs(lstm["scratch"] - lstm["torch"]) < 1e-9
    locked = {r["target"] for r in result.rows if r["check"] == "lockstep"}
    expected = {"carried[h]", "carried[c]", "eval_loss", "grad[conv1.weight]", "state[lstm.weight_hh_l0.exp_avg_sq]"}
    assert expected <= locked
    assert "train autoencoder" in result.text


@pytest.mark.slow
def test_quick_autoencoder_draws_both_twins_tsne_maps(tmp_path: Path) -> None:
    png = tmp_path / "tsne.png"
    result = run_experiment(get_experiment("autoencoder"), ["--quick", "--tsne-png", str(png)])
    (row,) = result.table.to_dict("records")
    assert row["max |code diff|"] < 1e-10  # the twins' codes agree to rounding
    assert png.read_bytes()[:4] == b"\x89PNG"
    (draw,) = result.figures.values()
    assert draw(tmp_path / "again.png").is_file()


@pytest.mark.slow
def test_train_chapter7_runs_the_autoencoder_too_with_its_tsne_figure() -> None:
    result = run_experiment(get_experiment("chapter7"), ["--quick", "--models", "autoencoder"])
    (row,) = result.table.to_dict("records")
    assert row["model"] == "conv_autoencoder" and row["lockstep"] == "pass"
    assert result.rows and all(r["passed"] for r in result.rows)
    assert list(result.figures) == ["t-SNE of the codes, scratch and torch"]
    assert "controls" in result.text
