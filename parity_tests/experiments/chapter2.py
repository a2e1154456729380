"""Chapter 2 experiment: the hand-written linear regression and two-layer network on Boston housing.

Both twins (``scratch/regression.py`` and ``torch_ref/regression.py``) train from the same
initial weights on the same batches (``seeded_permutation(seed)``); the loss of every step and the
final weights are compared (trajectory rows), and the test MAE / RMSE go beside the book's.

Settings (ours; the book's own chapter 2 hyper-parameters are not reproduced here): standard
normal initial weights, batches of 23, hidden layer of 13 sigmoid units, 1,000 SGD steps for the
linear model and 10,000 for the two-layer net, and a book-style learning rate of 0.001.

The book's chapter 2 gradients are not those of the mean loss (book bug 7), and the factor differs
by model: the linear model's are ``N`` times the true gradient (no ``1 / N``), the two-layer
network's ``N / 2`` times (no ``1 / N`` and no 2). Our gradients are true means, so each model
trains with its *equivalent learning rate*, the book-style rate times that factor: with ``N = 23``,
``0.001 x 23 = 0.023`` for the linear model and ``0.001 x 23 / 2 = 0.0115`` for the two-layer net.
That is the same step the book's code takes with a rate of 0.001. ``--learning-rate`` overrides
both with one rate of our own.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

import scratch.regression as sr
import torch_ref.regression as tr
from parity_tests.cases.regression import compare_training
from parity_tests.data import as_dtype, boston
from parity_tests.experiments import ExperimentResult
from parity_tests.mutants.regression import book_gradient_factor
from scratch._checks import Array
from scratch.trainer import seeded_permutation

NAME = "chapter2"
CHAPTER = 2
DESCRIPTION = "hand-written linear regression and two-layer network (chapter 2) on Boston housing"

#: The book's chapter 2 test figures (``book_facts.md``).
BOOK = {"linear": (3.56, 5.05), "two_layer": (2.60, 3.89)}
LABELS = {"linear": "linear regression", "two_layer": "two-layer net (13 sigmoid)"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=1, help="initial weights and batch order (default 1)")
    parser.add_argument(
        "--book-learning-rate",
        type=float,
        default=0.001,
        help="the book-style rate on un-averaged gradients; each model trains with its equivalent rate (0.001)",
    )
    parser.add_argument("--learning-rate", type=float, default=None, help="one rate of ours for both models")
    parser.add_argument("--batch-size", type=int, default=23, help="rows per step (default 23)")
    parser.add_argument("--hidden", type=int, default=13, help="hidden units of the two-layer net (default 13)")
    parser.add_argument("--linear-iterations", type=int, default=1000, help="SGD steps, linear (default 1000)")
    parser.add_argument("--two-layer-iterations", type=int, default=10000, help="SGD steps, two-layer (10000)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--device", default="cpu", help="device of the torch twin (default cpu)")


@dataclass(frozen=True)
class _Run:
    """Names the trajectory rows of one model's training run."""

    name: str
    component: str = "train"
    stem: str = "regression"
    chapter: int = CHAPTER


def _metrics(P: Array, y: Array) -> tuple[float, float]:
    """Test MAE and RMSE, in $1000s."""
    error = np.asarray(P, dtype=np.float64) - y
    return float(np.mean(np.abs(error))), float(np.sqrt(np.mean(error**2)))


def equivalent_learning_rate(model: str, book_learning_rate: float, batch_size: int) -> float:
    """The rate that makes a true-gradient SGD step equal to the book's chapter 2 step.

    ``lr = book_lr * factor``, with ``factor = N`` for ``"linear"`` and ``N / 2`` for
    ``"two_layer"`` (``N = batch_size``; see ``book_gradient_factor``).
    """
    return book_learning_rate * book_gradient_factor(model, batch_size)


def run(args: argparse.Namespace) -> ExperimentResult:
    data = as_dtype(boston(), np.dtype(args.dtype))
    scale = 10 if args.quick else 1
    iterations = {"linear": args.linear_iterations // scale, "two_layer": args.two_layer_iterations // scale}
    table, curves, rows = [], {}, []
    rates = {
        model: equivalent_learning_rate(model, args.book_learning_rate, args.batch_size)
        if args.learning_rate is None
        else args.learning_rate
        for model in ("linear", "two_layer")
    }
    for model in ("linear", "two_layer"):
        rng = np.random.default_rng(args.seed)
        in_features = data.X_train.shape[1]
        init = (
            sr.init_linear_regression(in_features, rng)
            if model == "linear"
            else sr.init_two_layer(in_features, args.hidden, rng)
        )
        weights = {k: v.astype(args.dtype) for k, v in init.items()}
        options = dict(
            learning_rate=rates[model],
            batch_size=args.batch_size,
            iterations=iterations[model],
            permutation=seeded_permutation(args.seed),
        )
        result = compare_training(
            _Run(f"chapter2_{model}"), data.X_train, data.y_train, weights, options, args.device, args.seed
        )
        rows += result.rows
        curves[LABELS[model]] = {"scratch": result.scratch_losses, "torch": result.torch_losses}
        torch_weights = {k: torch.tensor(v) for k, v in result.torch_weights.items()}
        predictions = {
            "scratch": sr.predict(data.X_test, result.scratch_weights),
            "torch": tr.predict(torch.tensor(data.X_test), torch_weights).numpy(),
        }
        for twin, P in predictions.items():
            mae, rmse = _metrics(P, data.y_test)
            book_mae, book_rmse = BOOK[model]
            table.append(
                {
                    "model": LABELS[model],
                    "twin": twin,
                    "steps": iterations[model],
                    "learning rate": rates[model],
                    "test MAE": round(mae, 3),
                    "test RMSE": round(rmse, 3),
                    "book MAE": book_mae,
                    "book RMSE": book_rmse,
                }
            )
    why = (
        "ours, given with --learning-rate"
        if args.learning_rate is not None
        else f"the step a book-style rate of {args.book_learning_rate:g} takes on the book's gradients, which are "
        f"N = {args.batch_size} times the true ones for the linear model and N/2 for the two-layer net"
    )
    text = (
        f"Boston housing, the book's protocol ({len(data.X_train)} train / {len(data.X_test)} test rows, "
        f"features standardised on all rows). SGD, batch {args.batch_size}, learning rate "
        f"{rates['linear']:g} (linear) and {rates['two_layer']:g} (two-layer) ({why}), hidden {args.hidden}, "
        f"seed {args.seed}, {args.dtype}. Each twin's metrics come from its own trained weights and `predict`."
    )
    return ExperimentResult(NAME, pd.DataFrame(table), curves, rows, text)
