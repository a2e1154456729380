"""Chapter 3: Boston housing, three models trained in both twins (``dlfs-parity train boston``).

The book's protocol: features standardised on all 506 rows, split 354 / 152
with ``random_state=80718``; SGD lr 0.01, batch 32, 50 epochs, test loss every 10 epochs with
early stopping. Each model trains in both twins from the same standard-normal weights and on the
same batches; the table puts each twin's test MAE / RMSE beside the book's, and the trajectory
rows compare every step's loss and every epoch's parameters (float64, the gate, and float32).

The book's figures come from its own draw of initial weights (NumPy's legacy generator, reseeded
per layer) and batch order. By default we draw our own (``--seeds`` shows how much MAE / RMSE move
between draws); ``--book`` replays the book's draws for ``--seed`` (``parity_tests/book_mode.py``,
``parity_tests/book_order.py``) and, with the book's seed, reproduces its printed figures.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd
import torch

from parity_tests import options
from parity_tests.cases.trainer import BOSTON_MODELS, boston_data, boston_pair
from parity_tests.experiments import ExperimentResult
from parity_tests.experiments._claims import EXPERIMENT_CONTROLS, against_controls, lockstep_columns
from parity_tests.lockstep import drain
from parity_tests.trajectory import TrainingPair, TrajectoryCase

NAME = "boston"
CHAPTER = 3
DESCRIPTION = "Boston housing: linear, 13 sigmoid + 1, 13-13 sigmoid + 1 (SGD 0.01, batch 32, 50 epochs)"

#: Test MAE / RMSE of the book's chapter 3 notebook.
BOOK_FIGURES: dict[str, tuple[float, float]] = {
    "linear": (3.52, 5.01),
    "sigmoid_13": (2.60, 4.03),
    "sigmoid_13_13": (2.45, 3.83),
}
DEFAULT_SEED = 20190501  # the seed the book's notebooks pass to fit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=options.positive_int, default=50, help="training epochs (book: 50)")
    parser.add_argument("--seed", type=options.seed, default=DEFAULT_SEED, help="initial weights and batch order")
    parser.add_argument(
        "--seeds", type=options.non_negative_int, default=5, help="extra seeds for the MAE/RMSE spread (0: none)"
    )
    parser.add_argument("--no-early-stopping", action="store_true", help="train every epoch (book: early stopping)")
    parser.add_argument(
        "--book",
        action="store_true",
        help="the book's own initial weights and batch order for --seed (reproduces its chapter 3 figures)",
    )


def metrics(prediction: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Test MAE and RMSE in $1000s."""
    error = np.asarray(prediction, dtype=np.float64) - np.asarray(target, dtype=np.float64)
    return float(np.mean(np.abs(error))), float(np.sqrt(np.mean(error**2)))


def twin_metrics(pair: TrainingPair, dtype: str) -> dict[str, tuple[float, float]]:
    """MAE / RMSE of both trained twins on the test split, in eval mode."""
    d = boston_data()
    X_test = d.X_test.astype(dtype)
    pair.scratch_net.eval()
    pair.torch_net.eval()
    with torch.no_grad():
        torch_pred = pair.torch_net(torch.tensor(X_test, device=next(pair.torch_net.parameters()).device))
    return {
        "scratch": metrics(pair.scratch_net.forward(X_test), d.y_test),
        "torch": metrics(torch_pred.cpu().numpy(), d.y_test),
    }


def _case(model: str, epochs: int, early_stopping: bool, book_seed: int | None = None) -> TrajectoryCase:
    hidden = BOSTON_MODELS[model]

    def build(rng: np.random.Generator) -> TrainingPair:
        return boston_pair(hidden, rng, epochs=epochs, early_stopping=early_stopping, book_seed=book_seed)

    return TrajectoryCase(
        f"boston_{model}_book_protocol", "Trainer", "trainer", CHAPTER, build, controls=EXPERIMENT_CONTROLS
    )


def _spread(model: str, epochs: int, early_stopping: bool, seeds: list[int]) -> tuple[float, float, float, float]:
    """Mean and standard deviation of MAE and RMSE over ``seeds`` (scratch twin: the twins agree)."""
    scores = []
    for seed in seeds:
        pair = _case(model, epochs, early_stopping).build(np.random.default_rng(seed))
        drain(pair.scratch_run("float64", "cpu"))
        pair.scratch_net.eval()
        scores.append(metrics(pair.scratch_net.forward(boston_data().X_test), boston_data().y_test))
    a = np.asarray(scores)
    return float(a[:, 0].mean()), float(a[:, 0].std()), float(a[:, 1].mean()), float(a[:, 1].std())


def run(args: argparse.Namespace) -> ExperimentResult:
    epochs = min(args.epochs, 20) if args.quick else args.epochs
    n_spread = min(args.seeds, 2) if args.quick else args.seeds
    early_stopping = not args.no_early_stopping
    table: list[dict[str, Any]] = []
    curves: dict[str, dict[str, list[float]]] = {}
    rows: list[dict[str, Any]] = []
    claims: list[str] = []
    for model, (book_mae, book_rmse) in BOOK_FIGURES.items():
        case = _case(model, epochs, early_stopping, args.seed if args.book else None)
        entry: dict[str, Any] = {"model": model, "book MAE": book_mae, "book RMSE": book_rmse}
        for dtype in ("float64", "float32"):
            result = case.train(dtype, "cpu", args.seed)
            rows.extend(result.rows)
            curves[f"{model} {dtype}"] = {"scratch": result.scratch.step_losses, "torch": result.torch.step_losses}
            scores = twin_metrics(result.pair, dtype)
            suffix = "" if dtype == "float64" else " f32"
            for side in ("scratch", "torch"):
                entry[f"{side} MAE{suffix}"], entry[f"{side} RMSE{suffix}"] = scores[side]
            if dtype == "float64":
                entry.update(lockstep_columns(result))
                entry["epochs run"] = len(result.scratch.epoch_params)
                entry["kept epoch"] = result.scratch.restored_epoch or len(result.scratch.epoch_params)
                X_test = boston_data().X_test
                maes = [metrics(net.eval().forward(X_test), boston_data().y_test)[0] for net in result.control_nets]
                claims.append(f"{model}: " + against_controls("torch's test MAE", scores["torch"][0], maes, "{:.6g}"))
        if n_spread:
            seeds = [args.seed + 1 + k for k in range(n_spread)]
            mae, mae_sd, rmse, rmse_sd = _spread(model, epochs, early_stopping, seeds)
            entry[f"MAE over {n_spread} seeds"] = f"{mae:.2f} ± {mae_sd:.2f}"
            entry[f"RMSE over {n_spread} seeds"] = f"{rmse:.2f} ± {rmse_sd:.2f}"
        table.append(entry)
    book = (
        "Book mode (--book): the initial weights are the book's own draw for this seed (every Dense layer "
        "reseeds NumPy's legacy stream and draws W (in, out) then B (1, out) from N(0, 1)) and the batches "
        "are the ones the book's Trainer draws from the global stream (parity_tests/book_order.py); with the "
        "book's seed 20190501 the test MAE / RMSE equal the book's printed figures.\n\n"
        if args.book
        else ""
    )
    text = book + (
        f"Settings: SGD lr 0.01, batch 32, {epochs} epochs, eval every 10, early stopping "
        f"{'on' if early_stopping else 'off'}, seed {args.seed}. Loss: the book's MSE (sum over outputs / batch "
        "rows; equal to PyTorch's mean for one output). Both twins start from the same standard-normal weights "
        "and see the same batches; the book's figures come from its own draw of weights and batches, so compare "
        "them with the spread over seeds rather than expecting equality. 'kept epoch' is the model early "
        "stopping kept (the last one whose test loss improved).\n\n"
        "Parity: every step and evaluation of each run is checked in lockstep (both twins step from the torch "
        "twin's state and are compared at the operator tolerance; 'lockstep steps'); the free-running comparison "
        "holds up to 'free horizon' steps, where ulp-noise controls of the scratch twin leave rounding level. "
        "End-of-run figures against those controls (float64):\n\n" + "\n".join(f"- {c}" for c in claims)
    )
    return ExperimentResult(NAME, pd.DataFrame(table).round(3), curves, rows, text)
