"""Chapter 7's LSTM next-character model (part of ``dlfs-parity train chapter7``) in both twins.

The book (chapter 7): ``nn.LSTM(batch_first=True)`` + ``nn.Linear`` with hidden size equal to the
vocabulary (62 characters on its text), h and c carried to the next batch as the detached batch
mean, an 80/20 contiguous split, training on overlapping windows of 50 characters, evaluation on
non-overlapping chunks, ``Adam(lr=1e-3, weight_decay=1e-5)``, one epoch: validation loss 2.331.

Here (``scratch/lstm7.py``, ``parity_tests/cases/lstm7.py``): the same model and optimizer on
``--text`` (default: the ``pydoc_data.topics`` corpus, 465k characters, 103 distinct, so hidden
size 103 and a uniform guess costs ``log 103 = 4.63`` nats against the book's ``log 62 = 4.13``);
the training windows in text order (batch ``b`` holds the windows starting at ``bN .. bN + N - 1``);
each validation chunk scored from a zero state. One epoch over every overlapping window is some
12,000 steps of batch 32, far too long for a CPU parity run: ``--steps`` (default 300) or
``--lstm-epochs`` sets the length. Every step is checked in lockstep at the recurrent operator
tolerance, including the carried h and c; the validation loss at each evaluation too.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import numpy as np

import scratch.lstm7 as sl
import torch_ref.lstm7 as tl
from parity_tests.cases.lstm7 import LR, SEQUENCE_LENGTH, WEIGHT_DECAY, NextCharData, lstm_pair
from parity_tests.experiments._chapter7_cnn import Part
from parity_tests.experiments._claims import EXPERIMENT_CONTROLS, against_controls, lockstep_columns
from parity_tests.text import load_text
from parity_tests.trajectory import TrainingPair, TrajectoryCase

BOOK_VALIDATION_LOSS = 2.331
BATCH, STEPS, EVALUATIONS = 32, 300, 5
#: ``--quick``: 20 steps, the validation loss on the first 64 chunks.
QUICK_STEPS, QUICK_CHUNKS = 20, 64


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--text", help="LSTM: UTF-8 text file (default: the embedded pydoc corpus)")
    parser.add_argument("--steps", type=int, default=STEPS, help=f"LSTM training steps (default {STEPS})")
    parser.add_argument("--lstm-epochs", type=int, help="LSTM: train this many passes over every window instead")
    parser.add_argument("--lstm-batch-size", type=int, default=BATCH, help=f"LSTM windows per batch ({BATCH})")


def unigram_loss(data: NextCharData) -> float:
    """Cross-entropy of the validation targets under the training text's character frequencies
    (add-one smoothed): what a model that ignores the context scores."""
    counts = np.bincount(data.windows.codes, minlength=data.vocab_size) + 1.0
    log_p = np.log(counts / counts.sum())
    return float(-np.mean(log_p[data.chunk_targets]))


def run_lstm(args: argparse.Namespace) -> Part:
    quick = bool(getattr(args, "quick", False))
    data = NextCharData.from_text(load_text(getattr(args, "text", None)), int(getattr(args, "lstm_batch_size", BATCH)))
    epochs = getattr(args, "lstm_epochs", None)
    steps = int(epochs * len(data.windows.positions) if epochs else getattr(args, "steps", STEPS))
    steps = QUICK_STEPS if quick else steps
    if quick:
        data = dataclasses.replace(data, chunk_inputs=data.chunk_inputs[:QUICK_CHUNKS],
                                   chunk_targets=data.chunk_targets[:QUICK_CHUNKS])  # fmt: skip
    every = max(1, steps // EVALUATIONS)
    vocab = data.vocab_size

    def build(rng: np.random.Generator) -> TrainingPair:
        return lstm_pair(sl.NextCharLSTM(vocab, rng=rng), tl.NextCharLSTM(vocab), data, steps, every)

    case = TrajectoryCase(f"lstm7_{steps}_steps", "NextCharLSTM", "lstm7", 7, build, "recurrent",
                          controls=EXPERIMENT_CONTROLS)  # fmt: skip
    result = case.train("float64", "cpu", int(args.seed))
    final = {"scratch": result.scratch.eval_losses[-1], "torch": result.torch.eval_losses[-1]}
    controls = [h.eval_losses[-1] for h in result.controls]
    windows = len(data.windows.positions)
    seen = int(data.windows.starts(steps).max()) + data.windows.batch_size + SEQUENCE_LENGTH  # characters read
    seen = min(seen, len(data.windows.codes))
    entry: dict[str, Any] = {
        "model": f"lstm_next_char_h{vocab}",
        "data": f"{'--text' if getattr(args, 'text', None) else 'pydoc corpus'}, vocabulary {vocab}",
        "steps": steps,
        "metric": "validation loss",
        "book": BOOK_VALIDATION_LOSS,
        "scratch": final["scratch"],
        "torch": final["torch"],
        "baseline": f"uniform {np.log(vocab):.3f}, unigram {unigram_loss(data):.3f}",
        "torch vs controls": against_controls("torch's", final["torch"], controls, "{:.4f}"),
        **lockstep_columns(result),
    }
    curves = {"lstm_next_char float64": {"scratch": result.scratch.step_losses, "torch": result.torch.step_losses}}
    text = (
        f"LSTM next-character model: {steps} steps of batch {data.windows.batch_size}, windows of "
        f"{SEQUENCE_LENGTH} (one epoch would be {windows:,} steps; these read the first {seen:,} of the "
        f"{len(data.windows.codes):,} training characters), Adam lr {LR} weight_decay {WEIGHT_DECAY}, "
        f"hidden = vocabulary = {vocab}; validation loss on {len(data.chunk_inputs):,} non-overlapping chunks "
        f"every {every} steps. The book's {BOOK_VALIDATION_LOSS} comes from a full epoch on its own text "
        "(vocabulary 62); ours is on another text, with another vocabulary and far fewer steps, so read it "
        "against the uniform guess (log V) and the unigram baseline, not against the book's figure. "
        "Parity: every step in lockstep, carried h and c included (the gate); the final validation loss of "
        "torch against five ulp-noise controls."
    )
    return Part(entry, curves, result.rows, text)
