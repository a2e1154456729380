"""Registry cases for the chapter 6 character model (stem ``charlm``).

- ``RecurrentLayer`` (recurrent layer + output projection) for each cell, from a zero state, and
  from a state carried over from a warm-up batch of another size (its detached batch mean).
- ``CharLM``: two stacked LSTM layers.
- Training runs (``TrajectoryCase``): both twins train from the same weights on the same
  overlapping windows of a short text (vocabulary from that text, hidden 8, 120 steps), with the
  book's update (clip every gradient element to [-2, 2], then AdaGrad) and a torch-style variant
  (mean loss, norm clipping, GRU, two layers). Every step's loss and the parameters every 40
  steps are compared.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import scratch.charlm as sc
import scratch.losses as sL
import scratch.optimizers as so
import torch_ref.charlm as tc
import torch_ref.losses as tL
import torch_ref.optimizers as to
from parity_tests.opcase import Array, InputSpec, OpCase, TwinPair
from parity_tests.text import CharWindows, default_corpus
from parity_tests.trajectory import TrainingPair, TrajectoryCase
from scratch.trainer import History

N, L, I, H, O = 3, 6, 5, 4, 7  # batch, length, input, hidden, output


def _layer_case(cell: str, carried: bool) -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        scratch = sc.RecurrentLayer(cell, I, H, O, rng=rng)
        twin = tc.RecurrentLayer(cell, I, H, O)
        warm = rng.standard_normal((N + 2, L - 1, I))  # a batch of another shape sets the carried state

        held: dict[str, Any] = {}

        def scratch_forward(ins: dict[str, Array]) -> Array:
            scratch.reset_state()
            if carried:
                scratch.forward(warm.astype(ins["input"].dtype))
                held["state"] = scratch.state
            return scratch.forward(ins["input"])

        def fd_forward(ins: dict[str, Array]) -> Array:
            # the carried state is detached: the oracle holds it fixed, a constant input
            scratch.state = held["state"]
            return scratch.forward(ins["input"])

        def scratch_backward(v: Array) -> dict[str, Array]:
            return {"input": scratch.backward(v), **scratch.grads}

        def torch_forward(ins: dict[str, torch.Tensor]) -> torch.Tensor:
            twin.reset_state()
            if carried:
                twin(torch.tensor(warm, dtype=ins["input"].dtype, device=ins["input"].device))
            return twin(ins["input"])

        fd = fd_forward if carried else None
        return TwinPair(scratch_forward, scratch_backward, torch_forward, scratch, twin, fd)

    return OpCase(
        name=f"recurrent_layer_{cell}{'_carried' if carried else ''}",
        component="RecurrentLayer",
        stem="charlm",
        chapter=6,
        op_class="recurrent",
        inputs={"input": InputSpec((N, L, I))},
        build=build,
    )


def _model_case() -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        scratch = sc.CharLM(O, H, num_layers=2, cell="lstm", rng=rng)
        twin = tc.CharLM(O, H, num_layers=2, cell="lstm")

        def scratch_forward(ins: dict[str, Array]) -> Array:
            scratch.reset_state()
            return scratch.forward(ins["input"])

        def scratch_backward(v: Array) -> dict[str, Array]:
            return {"input": scratch.backward(v), **scratch.grads}

        def torch_forward(ins: dict[str, torch.Tensor]) -> torch.Tensor:
            twin.reset_state()
            return twin(ins["input"])

        return TwinPair(scratch_forward, scratch_backward, torch_forward, scratch, twin)

    return OpCase("charlm_lstm_2layers", "CharLM", "charlm", 6, "recurrent", {"input": InputSpec((N, L, O))}, build)


def training_pair(
    scratch_model: sc.CharLM,
    torch_model: tc.CharLM,
    windows: CharWindows,
    steps: int,
    *,
    optimizer: str = "adagrad_book",
    lr: float = 0.01,
    reduction: str = "sum",
    clip_value: float | None = 2.0,
    max_norm: float | None = None,
    snapshot_every: int = 40,
) -> TrainingPair:
    """Both twins run ``steps`` of ``train_step`` on ``windows`` in its (shared) batch order.

    optimizer: ``adagrad`` (PyTorch's form), ``adagrad_book`` (the book's) or ``sgd``.
    """
    starts = windows.starts(steps)

    def make_scratch_opt(params: list[Any]) -> so.Optimizer:
        if optimizer == "sgd":
            return so.SGD(params, lr)
        return so.AdaGrad(params, lr=lr, form="book" if optimizer == "adagrad_book" else "torch")

    def make_torch_opt(params: Any) -> torch.optim.Optimizer:
        if optimizer == "sgd":
            return to.SGD(params, lr)
        return to.AdaGrad(params, lr=lr, form="book" if optimizer == "adagrad_book" else "torch")

    def scratch_fit(dtype: str, device: str) -> History:
        scratch_model.reset_state()
        opt, loss, history = (
            make_scratch_opt(scratch_model.parameters()),
            sL.SequenceSoftmaxCrossEntropy(reduction),
            History(),
        )
        for k, start in enumerate(starts, 1):
            x, y = windows.batch(int(start), dtype)
            history.step_losses.append(sc.train_step(scratch_model, loss, opt, x, y, clip_value, max_norm))
            if k % snapshot_every == 0:
                history.epoch_params.append(scratch_model.state_dict())
        return history

    def torch_fit(dtype: str, device: str) -> History:
        torch_model.reset_state()
        opt, loss, history = (
            make_torch_opt(torch_model.parameters()),
            tL.SequenceSoftmaxCrossEntropy(reduction),
            History(),
        )
        for k, start in enumerate(starts, 1):
            x, y = (torch.tensor(a, device=device) for a in windows.batch(int(start), dtype))
            history.step_losses.append(tc.train_step(torch_model, loss, opt, x, y, clip_value, max_norm))
            if k % snapshot_every == 0:
                history.epoch_params.append(
                    {k: v.detach().cpu().numpy().copy() for k, v in torch_model.state_dict().items()}
                )
        return history

    return TrainingPair(scratch_model, torch_model, scratch_fit, torch_fit)


#: A short slice of the default corpus: its own vocabulary keeps the test models small.
SHORT_TEXT_CHARS = 3000


def _trajectory(name: str, cell: str, num_layers: int, batch_size: int, **options: Any) -> TrajectoryCase:
    def build(rng: np.random.Generator) -> TrainingPair:
        windows = CharWindows(default_corpus()[:SHORT_TEXT_CHARS], batch_size)
        vocab = windows.vocabulary.size
        scratch_model = sc.CharLM(vocab, 8, num_layers, cell, rng=rng)
        return training_pair(scratch_model, tc.CharLM(vocab, 8, num_layers, cell), windows, 120, **options)

    return TrajectoryCase(name, "CharLM", "charlm", 6, build)


CASES = [
    *(_layer_case(cell, carried) for cell in ("rnn", "gru", "lstm") for carried in (False, True)),
    _model_case(),
    _trajectory("charlm_train_book", "lstm", 1, 8),
    _trajectory(
        "charlm_train_torch_style",
        "gru",
        2,
        4,
        optimizer="adagrad",
        lr=0.05,
        reduction="mean",
        clip_value=None,
        max_norm=0.5,
    ),
]
