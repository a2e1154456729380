"""Chapter 7 (``dlfs-parity train chapter7``): the Boston MLP, the MNIST CNN, the LSTM character model
and the convolutional autoencoder.

``--models`` picks among ``boston``, ``cnn``, ``lstm`` and ``autoencoder`` (default all four, in that
order; the CNN and the LSTM are in ``_chapter7_cnn.py`` and ``_chapter7_lstm.py``; the autoencoder
runs as ``dlfs-parity train autoencoder`` runs it with its defaults, t-SNE map included).

The Boston MLP, trained by both twins' ``PyTorchTrainer``:

The book's chapter 7 notebook: ``BostonModel(hidden_size=13, hidden_dropout=0.8)`` (``Dense(13 -> 13,
tanh)``, dropout keeping 0.8, ``Dense(13 -> 1)``), ``MSELoss``, ``SGD(lr=0.001, momentum=0.9)``,
``fit(epochs=100, eval_every=10, final_lr_exp=0.001)`` with the default batch 32, on chapter 3's
standardised 354 / 152 split. Its final rate equals its starting one, so the book's decay is a
no-op (``gamma = 1``); we keep the call (``lr_decay="book"``) as the book makes it. Test MSE in eval
mode, beside the book's 14.37. The book's weights are PyTorch's default init from its own seed and
its batch order comes from NumPy's global generator; ours are drawn from ``--seed``, so compare the
book's figure with the spread over seeds, not expecting equality.

Both twins start from the same weights, see the same batches and drop the same units
(``parity_tests/cases/pytorch_trainer.py``); the trajectory rows compare every step's loss, the
evaluations, the per-epoch rates and the parameters after every epoch, in float64 (the gate) and
float32.
"""

from __future__ import annotations

import argparse
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import torch

from parity_tests import options
from parity_tests.cases.pytorch_trainer import pytorch_trainer_pair
from parity_tests.data import Split, boston
from parity_tests.experiments import ExperimentResult, _chapter7_cnn, _chapter7_lstm
from parity_tests.experiments._chapter7_cnn import Part
from parity_tests.experiments._claims import lockstep_columns
from parity_tests.lockstep import drain
from parity_tests.trajectory import TrainingPair, TrajectoryCase

NAME = "chapter7"
CHAPTER = 7
DESCRIPTION = "Boston MLP and MNIST CNN (PyTorchTrainer, SGD momentum); LSTM next-character model (Adam)"
MODELS = ("boston", "cnn", "lstm", "autoencoder")
BOOK_TEST_MSE = 14.37
LR, FINAL_LR, BATCH, EVAL_EVERY = 0.001, 0.001, 32, 10
DEFAULT_SEED = 20190325  # the seed the book's chapter 7 notebook passes to torch.manual_seed


@lru_cache(maxsize=1)
def boston_data() -> Split:
    return boston()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--models", type=chosen_models, default=list(MODELS), help=f"comma-separated, from {', '.join(MODELS)}"
    )
    parser.add_argument("--epochs", type=options.positive_int, default=100, help="Boston training epochs (book: 100)")
    parser.add_argument(
        "--seed", type=options.seed, default=DEFAULT_SEED, help="initial weights, batch order, dropout masks"
    )
    parser.add_argument(
        "--seeds",
        type=options.non_negative_int,
        default=4,
        help="Boston: extra seeds for the MSE spread (0: none)",
    )
    _chapter7_cnn.add_arguments(parser)
    _chapter7_lstm.add_arguments(parser)


def chosen_models(value: str | None) -> list[str]:
    """The ``--models`` list, checked: names from ``MODELS``, in ``MODELS`` order (an argparse type:
    a bad list is a one-line usage error)."""
    names = [m.strip() for m in (value or ",".join(MODELS)).split(",") if m.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown {unknown or 'empty list'}; choose from {', '.join(MODELS)}")
    return [m for m in MODELS if m in names]


def _case(epochs: int) -> TrajectoryCase:
    fit = {"epochs": epochs, "eval_every": EVAL_EVERY, "batch_size": BATCH, "final_lr_exp": FINAL_LR}

    def build(rng: np.random.Generator) -> TrainingPair:
        seed = int(rng.integers(2**31))
        return pytorch_trainer_pair(boston_data(), rng, LR, {**fit, "lr_decay": "book"}, seed=seed)

    return TrajectoryCase("pytorch_trainer_boston_book_protocol", "PyTorchTrainer", "pytorch_trainer", CHAPTER, build)


def test_mse(pair: TrainingPair, dtype: str) -> dict[str, float]:
    """Both trained twins' test MSE, in eval mode (dropout off)."""
    d = boston_data()
    X_test = d.X_test.astype(dtype)
    pair.scratch_net.eval()
    pair.torch_net.eval()
    with torch.no_grad():
        torch_pred = pair.torch_net(torch.tensor(X_test)).numpy()
    scratch_pred = pair.scratch_net.forward(X_test)
    return {side: float(np.mean((p - d.y_test) ** 2)) for side, p in (("scratch", scratch_pred), ("torch", torch_pred))}


def run_boston(args: argparse.Namespace) -> Part:
    epochs = min(args.epochs, 20) if args.quick else args.epochs
    n_spread = 0 if args.quick else args.seeds
    case = _case(epochs)
    entry: dict[str, Any] = {"model": "boston_mlp_13_tanh_dropout", "book test MSE": BOOK_TEST_MSE}
    rows: list[dict[str, Any]] = []
    curves: dict[str, dict[str, list[float]]] = {}
    for dtype in ("float64", "float32"):
        result = case.train(dtype, "cpu", args.seed)
        rows.extend(result.rows)
        curves[f"boston_mlp {dtype}"] = {"scratch": result.scratch.step_losses, "torch": result.torch.step_losses}
        suffix = "" if dtype == "float64" else " f32"
        for side, mse in test_mse(result.pair, dtype).items():
            entry[f"{side} test MSE{suffix}"] = mse
        entry.update({f"{k}{suffix}": v for k, v in lockstep_columns(result).items()})
    if n_spread:
        scores = []
        for k in range(n_spread):
            pair = case.build(np.random.default_rng(args.seed + 1 + k))
            pair.scratch_net.to(np.float64)
            drain(pair.scratch_run("float64", "cpu"))  # the twins agree: one side suffices
            pair.scratch_net.eval()
            d = boston_data()
            scores.append(float(np.mean((pair.scratch_net.forward(d.X_test) - d.y_test) ** 2)))
        entry[f"test MSE over {n_spread} seeds"] = f"{np.mean(scores):.2f} ± {np.std(scores):.2f}"
    text = (
        f"Settings: the book's chapter 7 Boston protocol, {epochs} epochs (book: 100), eval every {EVAL_EVERY} "
        f"(after epochs 1, 11, 21, ... as the book), batch {BATCH}, SGD lr {LR} momentum 0.9, final_lr_exp "
        f"{FINAL_LR} (equal to the starting rate in the book's call: no decay), dropout keep 0.8 (inverted, "
        f"as the book's nn.Dropout), seed {args.seed}. The book's 14.37 comes from its own draw of weights, "
        "batches and dropout masks; read it against the spread over seeds."
    )
    return Part(entry, curves, rows, text)


def run_autoencoder(args: argparse.Namespace) -> tuple[Part, dict[str, Any]]:
    """The chapter's convolutional autoencoder, as ``train autoencoder`` runs it (its defaults, and
    ``--quick`` when given): its float64 row, curves, rows and notes, and its t-SNE figure."""
    from parity_tests.experiments import autoencoder

    parser = argparse.ArgumentParser()
    autoencoder.add_arguments(parser)
    own = parser.parse_args([])
    own.quick, own.seed = args.quick, 0
    result = autoencoder.run(own)
    entry = {"model": "conv_autoencoder", **{str(k): v for k, v in result.table.iloc[0].to_dict().items()}}
    curves = {f"autoencoder {k}": v for k, v in result.curves.items()}
    return Part(entry, curves, result.rows, result.text), result.figures


def run(args: argparse.Namespace) -> ExperimentResult:
    runners = {"boston": run_boston, "cnn": _chapter7_cnn.run_cnn, "lstm": _chapter7_lstm.run_lstm}
    models = getattr(args, "models", None)
    chosen = models if isinstance(models, list) else chosen_models(models)
    parts = [runners[name](args) for name in chosen if name in runners]
    figures: dict[str, Any] = {}
    if "autoencoder" in chosen:
        part, figures = run_autoencoder(args)
        parts.append(part)
    curves = {label: curve for part in parts for label, curve in part.curves.items()}
    rows = [row for part in parts for row in part.rows]
    where = (
        "The autoencoder alone, with its options (epochs, full MNIST, the t-SNE file): `dlfs-parity train autoencoder`."
    )
    text = "\n\n".join([*(part.text for part in parts), where])
    table = pd.DataFrame([part.entry for part in parts]).round(3)
    for column in (c for c in table.columns if c.startswith("lockstep worst budget")):  # small: keep 2 digits
        table[column] = [f"{v:.2g}" for v in pd.DataFrame([p.entry for p in parts])[column]]
    return ExperimentResult(NAME, table, curves, rows, text, figures)
