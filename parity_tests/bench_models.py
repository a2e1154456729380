"""Speed of whole training (``dlfs-parity bench models``): one step and one epoch of each experiment's model.

Each model is built as its experiment builds it (``parity_tests/cases``), both twins from the same
weights, and trained by its own twin's trainer (``TrainingPair.scratch_run`` / ``torch_run``, run to the end):

========================  =====================================================================
``ch3_boston_mlp``        Dense(13 -> 13, sigmoid) + Dense(13 -> 1), MSE, SGD 0.01, batch 32;
                          an epoch is the 354 training rows (12 steps) and one evaluation.
``ch4_mnist_mlp``         Dense(784 -> 89, tanh) + Dense(89 -> 10), softmax cross-entropy,
                          SGD 0.1, batch 60; an epoch is the 4,000 packaged digits (67 steps).
``ch5_cnn``               Conv2D(1 -> 16, 5x5, tanh, flatten, dropout 0.8) + Dense(12544 -> 10),
                          SGDMomentum(0.1, 0.9), batch 60; an epoch is 4,000 digits (67 steps).
``ch6_charlm``            LSTM(62 -> 256) + projection, the book's summed cross-entropy, clipping,
                          AdaGrad, batch 32 x 25 characters; an "epoch" is 100 steps (the
                          experiment's shortest claimed run), not a pass over the corpus.
``ch7_autoencoder``       ConvAutoencoder(hidden 28) on 28x28 digits, MSE, SGDMomentum(0.01, 0.9),
                          batch 60; an epoch is 4,000 digits (67 steps).
========================  =====================================================================

``step`` times ``fit`` over one batch (its trainer's set-up and one evaluation included); ``epoch``
times a whole epoch. Both sides run in alternating blocks (``bench_limits.time_interleaved``, one
call per block) under the same thread count. ``quick`` shrinks every epoch to 3 steps and the
character model to hidden size 16 (CI and the tests). Columns (``COLUMNS``): model, chapter,
what (``step``/``epoch``), steps, dtype, threads, scratch_median_s, scratch_iqr_s, torch_median_s,
torch_iqr_s, ratio, target (1.0 for a float64 epoch, NaN otherwise), verdict, note, versions.

Benchmarks are not tests: nothing asserts a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from parity_tests import bench_limits as bl
from parity_tests.bench import all_threads
from parity_tests.data import Split, subset
from parity_tests.harness import np_dtype, versions
from parity_tests.lockstep import drain
from parity_tests.textui import fmt_ratio, fmt_seconds, text_table
from parity_tests.trajectory import TrainingPair

COLUMNS = [
    "model",
    "chapter",
    "what",
    "steps",
    "dtype",
    "threads",
    "scratch_median_s",
    "scratch_iqr_s",
    "torch_median_s",
    "torch_iqr_s",
    "ratio",
    "target",
    "verdict",
    "note",
    "versions",
]
QUICK_STEPS = 3
CHARLM_EPOCH_STEPS = 100


@dataclass(frozen=True)
class ModelBench:
    """``build(steps, quick)`` returns the twins set to train ``steps`` steps (``None``: one full epoch)."""

    name: str
    chapter: int
    batch: int
    build: Callable[[int | None, bool], TrainingPair]


def _rows(split: Split, steps: int | None, batch: int) -> Split:
    """``split`` cut to ``steps`` batches of training rows (all when ``None``) and one batch of test rows."""
    n = len(split.X_train) if steps is None else steps * batch
    return subset(split, n, batch)


def _boston(steps: int | None, quick: bool) -> TrainingPair:
    import scratch.optimizers as so
    import torch_ref.optimizers as to
    from parity_tests.cases.trainer import BOSTON_LR, boston_data, boston_nets
    from parity_tests.trajectory import trainer_pair

    s, t = boston_nets((13,), np.random.default_rng(0))
    data = _rows(boston_data(), steps, 32)
    fit = {"epochs": 1, "eval_every": 1, "batch_size": 32, "early_stopping": False, "seed": 0}
    return trainer_pair(s, t, data, lambda p: so.SGD(p, BOSTON_LR), lambda p: to.SGD(p, BOSTON_LR), fit)


def _mnist(steps: int | None, quick: bool) -> TrainingPair:
    from parity_tests.cases.mnist import CONFIGS, build_pair
    from parity_tests.data import mnist

    config = next(c for c in CONFIGS if c.name == "softmax_ce")
    fit = {"epochs": 1, "eval_every": 1, "batch_size": 60, "early_stopping": False}
    return build_pair(config, "torch", _rows(mnist(), steps, 60), np.random.default_rng(0), fit)


def _cnn(steps: int | None, quick: bool) -> TrainingPair:
    from parity_tests.cases.cnn import cnn_pair
    from parity_tests.data import mnist

    fit = {"epochs": 1, "eval_every": 1, "early_stopping": False}
    return cnn_pair("torch", _rows(mnist(), steps, 60), np.random.default_rng(0), fit)


def _charlm(steps: int | None, quick: bool) -> TrainingPair:
    import scratch.charlm as sc
    import torch_ref.charlm as tc
    from parity_tests.cases.charlm import training_pair
    from parity_tests.text import SEQUENCE_LENGTH, CharWindows, load_text

    windows = CharWindows(load_text(None), 32, SEQUENCE_LENGTH)
    vocab, hidden = windows.vocabulary.size, 16 if quick else 256
    model = sc.CharLM(vocab, hidden, 1, "lstm", rng=np.random.default_rng(0))
    count = CHARLM_EPOCH_STEPS if steps is None else steps
    return training_pair(model, tc.CharLM(vocab, hidden, 1, "lstm"), windows, count, snapshot_every=count)


def _autoencoder(steps: int | None, quick: bool) -> TrainingPair:
    from parity_tests.cases.autoencoder import BATCH, HIDDEN_DIM, autoencoder_data, autoencoder_pair

    data = _rows(autoencoder_data(), steps, BATCH)
    fit = {"epochs": 1, "eval_every": 1, "batch_size": BATCH}
    return autoencoder_pair(data, HIDDEN_DIM, np.random.default_rng(0), fit)


MODELS = [
    ModelBench("ch3_boston_mlp", 3, 32, _boston),
    ModelBench("ch4_mnist_mlp", 4, 60, _mnist),
    ModelBench("ch5_cnn", 5, 60, _cnn),
    ModelBench("ch6_charlm", 6, 32, _charlm),
    ModelBench("ch7_autoencoder", 7, 60, _autoencoder),
]


def _prepared(model: ModelBench, what: str, dtype: str, quick: bool) -> tuple[dict[str, Callable[[], object]], int]:
    """The two timed closures (one ``fit`` each) and the steps one call trains."""
    steps = 1 if what == "step" else (QUICK_STEPS if quick else None)
    pair = model.build(steps, quick)
    pair.scratch_net.to(np_dtype(dtype))
    pair.torch_net.to(dtype=getattr(torch, dtype))
    pair.torch_net.load_state_dict({k: torch.tensor(v) for k, v in pair.scratch_net.state_dict().items()})
    count = steps if steps is not None else _epoch_steps(model)
    return {
        "scratch": lambda: drain(pair.scratch_run(dtype, "cpu")),
        "torch": lambda: drain(pair.torch_run(dtype, "cpu")),
    }, count


def _epoch_steps(model: ModelBench) -> int:
    if model.name == "ch6_charlm":
        return CHARLM_EPOCH_STEPS
    from parity_tests.cases.trainer import boston_data
    from parity_tests.data import mnist

    rows = len(boston_data().X_train) if model.name == "ch3_boston_mlp" else len(mnist().X_train)
    return -(-rows // model.batch)


def run(
    models: Sequence[ModelBench] = MODELS,
    dtypes: Sequence[str] = ("float64", "float32"),
    threads: Sequence[int] | None = None,
    whats: Sequence[str] = ("step", "epoch"),
    quick: bool = False,
    repeats: int = 3,
    progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """Rows (``COLUMNS``) of every model x step/epoch x dtype x thread count (default 1 and all cores).

    A step is timed in blocks of about 0.2 s; an epoch in ``repeats`` blocks of one epoch per side.
    """
    counts = sorted({1, all_threads()}) if threads is None else list(threads)
    jobs = [(m, w, d, n) for m in models for w in whats for d in dtypes for n in counts]
    rows: list[dict[str, Any]] = []
    for k, (model, what, dtype, n) in enumerate(jobs):
        if progress is not None:
            progress(k, len(jobs), f"{model.name} {what} {dtype} {n} thr")
        note, steps, t = "", 0, {}
        try:
            fns, steps = _prepared(model, what, dtype, quick)
            if what == "step":
                t = bl.time_interleaved(fns, n, 0.2, min_blocks=repeats, warmup=1)
            else:
                t = bl.time_interleaved(fns, n, 0.0, min_blocks=repeats, warmup=0 if not quick else 1)
        except Exception as exc:  # a model that cannot be built here is reported, not fatal
            note = f"raised {type(exc).__name__}: {exc}"
        nan = (float("nan"), float("nan"))
        (s_med, s_iqr), (t_med, t_iqr) = t.get("scratch", nan), t.get("torch", nan)
        ratio = s_med / t_med if t_med > 0 else float("nan")
        goal = 1.0 if (what == "epoch" and dtype == "float64") else float("nan")
        ok = np.isfinite(goal) and np.isfinite(ratio)
        rows.append(
            {
                "model": model.name,
                "chapter": model.chapter,
                "what": what,
                "steps": steps,
                "dtype": dtype,
                "threads": n,
                "scratch_median_s": s_med,
                "scratch_iqr_s": s_iqr,
                "torch_median_s": t_med,
                "torch_iqr_s": t_iqr,
                "ratio": ratio,
                "target": goal,
                "verdict": ("met" if ratio <= goal else "missed") if ok else "-",
                "note": note,
                "versions": versions(),
            }
        )
    if progress is not None:
        progress(len(jobs), len(jobs), "done")
    return pd.DataFrame(rows, columns=COLUMNS)


HEADERS = ["model", "what", "steps", "dtype", "thr", "scratch", "torch", "ratio", "target"]


def table(df: pd.DataFrame) -> str:
    """The rows as text: medians of both twins, the ratio and the verdict."""
    return text_table(HEADERS, body(df))


def body(df: pd.DataFrame, at_most: str = "<=") -> list[list[object]]:
    """One line per row under ``HEADERS`` (the terminal table and the report's section share it)."""
    return [
        [
            r.model,
            r.what,
            r.steps,
            r.dtype,
            r.threads,
            fmt_seconds(r.scratch_median_s),
            fmt_seconds(r.torch_median_s),
            fmt_ratio(r.ratio),
            "-" if r.verdict == "-" else f"{at_most} {r.target:g} {r.verdict}",
        ]
        for r in df.itertuples()
    ]


def select_models(names: Sequence[str] | None) -> list[ModelBench]:
    """Models whose name contains one of ``names`` (all when none given)."""
    if not names:
        return list(MODELS)
    chosen = [m for m in MODELS if any(n.lower() in m.name for n in names)]
    if not chosen:
        raise ValueError(f"no model matches {', '.join(names)}; models: {', '.join(m.name for m in MODELS)}")
    return chosen
