"""The README's feature table, generated from the registry (never edited by hand).

Rows are the components with registry cases, then the ``PLANNED`` ones not built yet. Each cell
is derived from the code as it is:

- scratch / torch: the public name imports from ``scratch.<stem>`` / ``torch_ref.<stem>``;
- parity: the registry has operator/value cases for it (forward, gradients, finite differences);
  ``-`` for a component checked only through whole training runs (the trainers);
- trajectory: it is trained in whole runs compared step by step: its own training-run cases, or
  those named in ``TRAJECTORIES`` (``-``: none planned);
- speed: ``dlfs-parity bench`` times its operator cases (``-``: nothing a forward/backward timing
  would measure, e.g. a derivative formula or an optimizer step).

``python -m reports.features --write README.md`` rewrites the table between its markers; a test
fails when the README's table differs from the generated one.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from parity_tests.registry import all_cases

START = "<!-- features:start -->"
END = "<!-- features:end -->"


#: Components the project means to twin that may not be in the registry yet: (chapter, stem, name).
PLANNED: tuple[tuple[int, str, str], ...] = ()

_BOSTON = ("boston_linear", "boston_sigmoid_13", "boston_sigmoid_13_13")
_MNIST = ("mnist_softmax_ce_torch", "mnist_softmax_ce_book")
_CHARLM = ("charlm_train_book", "charlm_train_torch_style")

#: Training-run cases that exercise a component (``stem.Name`` -> registry case names). The
#: trajectory cell is "yes" only when every named case is in the registry.
TRAJECTORIES: dict[str, tuple[str, ...]] = {
    "operations.WeightMultiply": _BOSTON,
    "operations.BiasAdd": _BOSTON,
    "activations.Linear": _BOSTON,
    "activations.Sigmoid": _BOSTON[1:],
    "layers.Dense": _BOSTON + _MNIST,
    "losses.MeanSquaredError": (*_BOSTON, "mnist_mse_sigmoid_book", "mnist_mse_sigmoid_torch"),
    "network.NeuralNetwork": _BOSTON,
    "optimizers.SGD": _BOSTON,
    "activations.Tanh": _MNIST,
    "losses.SoftmaxCrossEntropy": _MNIST,
    "optimizers.SGDMomentum": ("mnist_momentum_book", "mnist_momentum_torch"),
    "optimizers.LinearDecay": ("mnist_linear_decay_book", "mnist_linear_decay_torch"),
    "optimizers.ExponentialDecay": ("mnist_exponential_decay_book", "mnist_exponential_decay_torch"),
    "init.dense_init": ("mnist_glorot_linear_book", "mnist_glorot_linear_torch"),
    "layers.Dropout": ("mnist_dropout_book", "mnist_dropout_torch"),
    "layers.Conv2D": ("cnn_torch_50_steps",),
    "layers.Flatten": ("cnn_torch_50_steps",),
    "conv.conv2d": ("cnn_torch_50_steps",),
    "rnn.LSTM": _CHARLM[:1],
    "rnn.GRU": _CHARLM[1:],
    "charlm.RecurrentLayer": _CHARLM,
    "losses.SequenceSoftmaxCrossEntropy": _CHARLM,
    "optimizers.AdaGrad": _CHARLM,
    "optimizers.clip_grad_value_": _CHARLM[:1],
    "optimizers.clip_grad_norm_": _CHARLM[1:],
    "autoencoder.ConvAutoencoder": ("autoencoder_mnist14_20_steps",),
    "autoencoder.Unflatten": ("autoencoder_mnist14_20_steps",),
    "pytorch_trainer.PyTorchTrainer": ("pytorch_trainer_boston_torch_decay", "pytorch_trainer_boston_book_decay"),
    "optimizers.Adam": ("lstm7_train_small",),
    "lstm7.CrossEntropyLoss": ("lstm7_train_small",),
}


def is_training_run(case: object) -> bool:
    """Training-run cases (whole fits compared step by step) as opposed to operator checks."""
    return "Trajectory" in type(case).__name__ or type(case).__name__ == "TrainCase"


def _importable(package: str, stem: str, name: str) -> bool:
    try:
        module = importlib.import_module(f"{package}.{stem}")
    except ImportError:
        return False
    return hasattr(module, name)


def feature_rows() -> list[tuple[str, ...]]:
    """One row per component: every component with registry cases, then planned ones not there yet."""
    cases = all_cases()
    names = {c.name for c in cases}
    chapter: dict[tuple[str, str], int] = {}
    checked: set[tuple[str, str]] = set()
    trained: set[tuple[str, str]] = set()
    benched: set[tuple[str, str]] = set()
    for c in cases:
        key = (c.stem, c.component)
        chapter[key] = min(chapter.get(key, c.chapter), c.chapter)
        (trained if is_training_run(c) else checked).add(key)
        if type(c).__name__ == "OpCase":
            benched.add(key)
    order = sorted(chapter, key=lambda k: chapter[k])
    rows: list[tuple[str, ...]] = []
    for stem, name in order:
        runs = TRAJECTORIES.get(f"{stem}.{name}", ())
        if (stem, name) in trained:
            traj = "yes"
        elif runs:
            traj = "yes" if all(t in names for t in runs) else "missing"
        else:
            traj = "-"
        key = (stem, name)
        parity = "yes" if key in checked else ("-" if key in trained else "missing")
        speed = "yes" if key in benched else "-"
        rows.append(_row(chapter[key], stem, name, parity, traj, speed))
    for ch, stem, name in PLANNED:
        if (stem, name) not in chapter:
            rows.append(_row(ch, stem, name, "missing", "missing", "-"))
    return rows


def _row(chapter: int, stem: str, name: str, parity: str, traj: str, speed: str) -> tuple[str, ...]:
    def mark(flag: bool) -> str:
        return "yes" if flag else "missing"

    scratch = mark(_importable("scratch", stem, name))
    torch = mark(_importable("torch_ref", stem, name))
    return (str(chapter), f"`{stem}.{name}`", scratch, torch, parity, traj, speed)


def feature_table() -> str:
    """The markdown table (without markers)."""
    header = ("ch", "component", "scratch", "torch", "parity", "trajectory", "speed")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in feature_rows()]
    return "\n".join(lines)


def splice(readme: str, table: str) -> str:
    """Replace the text between the markers with ``table``; raise if the markers are missing."""
    if START not in readme or END not in readme:
        raise ValueError(f"README has no {START} ... {END} markers")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print or write the README feature table.")
    parser.add_argument("--write", type=Path, help="README file to update in place")
    args = parser.parse_args(argv)
    table = feature_table()
    if args.write is None:
        print(table)
        return 0
    args.write.write_text(splice(args.write.read_text(encoding="utf-8"), table), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
