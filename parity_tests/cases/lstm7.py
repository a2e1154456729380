"""Registry cases for chapter 7's LSTM next-character model (``NextCharLSTM``, stem ``lstm7``).

- The model from a zero state and from a state carried over from a warm-up batch of another size.
- Its loss, ``CrossEntropyLoss`` over ``(N, V, L)`` logits and ``(N, L)`` class indices.
- A training run (``lstm7_train_small``): the book's chapter 7 protocol scaled down, on a short
  lower-cased slice of the default corpus (vocabulary ~30, hidden = vocabulary): the 80/20
  contiguous split, training on overlapping windows in text order with h and c carried between
  batches (compared at every pause as ``carried[h]`` / ``carried[c]``), Adam(lr 1e-3, weight_decay
  1e-5), the validation loss on non-overlapping chunks every few steps (``kind="eval"`` pauses).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import scratch.lstm7 as sl
import scratch.optimizers as so
import torch_ref.lstm7 as tl
import torch_ref.optimizers as to
from parity_tests.lockstep import Event, Run
from parity_tests.opcase import Array, InputSpec, OpCase, TwinPair
from parity_tests.text import CharWindows, Vocabulary, default_corpus, one_hot
from parity_tests.trajectory import TrainingPair, TrajectoryCase
from scratch.trainer import History

#: The book's chapter 7 protocol: sequence length, Adam's rate and weight decay, the split.
SEQUENCE_LENGTH, LR, WEIGHT_DECAY, TRAIN_FRACTION = 50, 1e-3, 1e-5, 0.8
N, L, V = 3, 6, 7  # operator cases: batch, length, vocabulary


def _model_case(carried: bool) -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        scratch, twin = sl.NextCharLSTM(V, 5, rng=rng), tl.NextCharLSTM(V, 5)
        warm = rng.standard_normal((N + 2, L - 1, V))  # a batch of another shape sets the carried state

        def scratch_forward(ins: dict[str, Array]) -> Array:
            scratch.reset_state()
            if carried:
                scratch.forward(warm.astype(ins["input"].dtype))
            return scratch.forward(ins["input"])

        def scratch_backward(v: Array) -> dict[str, Array]:
            return {"input": scratch.backward(v), **scratch.grads}

        def torch_forward(ins: dict[str, torch.Tensor]) -> torch.Tensor:
            twin.reset_state()
            if carried:
                twin(torch.tensor(warm, dtype=ins["input"].dtype, device=ins["input"].device))
            return twin(ins["input"])

        return TwinPair(scratch_forward, scratch_backward, torch_forward, scratch, twin)

    # with a carried state the finite difference of a weight also moves the warm-up batch's state,
    # a path the detached state cuts on purpose: only the torch checks apply
    return OpCase(f"next_char_lstm{'_carried' if carried else ''}", "NextCharLSTM", "lstm7", 7, "recurrent",
                  {"input": InputSpec((N, L, V))}, build, fd=not carried)  # fmt: skip


def _loss_case() -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        scratch, twin = sl.CrossEntropyLoss(), tl.CrossEntropyLoss()
        return TwinPair(
            lambda ins: np.asarray(scratch.forward(ins["prediction"], ins["target"])),
            lambda v: {"prediction": v * scratch.backward()},  # a scalar loss: its gradient scaled by v
            lambda ins: twin(ins["prediction"], ins["target"]),
        )

    return OpCase("cross_entropy_nvl_4x7x6", "CrossEntropyLoss", "lstm7", 7, "loss",
                  {"prediction": InputSpec((4, 7, 6)),
                   "target": InputSpec((4, 6), kind="indices", differentiable=False, classes=7)}, build)  # fmt: skip


# --- data: the chapter's split, windows and chunks -------------------------------------------------


@dataclass
class NextCharData:
    """The chapter's data: ``windows`` over the first 80% of the text (overlapping, in text order,
    the shared vocabulary of the whole text) and ``chunks``, the validation inputs and targets
    ``(C, L)`` cut from the last 20% without overlap (chunk ``k`` is characters ``kL .. kL + L - 1``,
    its target the same shifted by one)."""

    windows: CharWindows
    chunk_inputs: np.ndarray
    chunk_targets: np.ndarray

    @classmethod
    def from_text(cls, text: str, batch_size: int, sequence_length: int = SEQUENCE_LENGTH) -> NextCharData:
        vocabulary = Vocabulary.from_text(text)
        cut = int(len(text) * TRAIN_FRACTION)
        windows = CharWindows(text[:cut], batch_size, sequence_length, vocabulary=vocabulary)
        codes = vocabulary.encode(text[cut:])
        count = (len(codes) - 1) // sequence_length
        if count < 1:
            raise ValueError(f"the validation text ({len(codes)} characters) holds no chunk of {sequence_length} + 1")
        rows = np.arange(count)[:, None] * sequence_length + np.arange(sequence_length)[None, :]  # (C, L)
        return cls(windows, codes[rows], codes[rows + 1])

    @property
    def vocab_size(self) -> int:
        return self.windows.vocabulary.size

    def batch(self, start: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
        """One-hot inputs (N, L, V) and target indices (N, L) of the training batch at ``start``."""
        x, y = self.windows.indices(start)
        return one_hot(x, self.vocab_size, dtype), y

    def validation(self, dtype: str, batch: int = 256) -> list[tuple[np.ndarray, np.ndarray]]:
        """The validation chunks as one-hot inputs and target indices, ``batch`` chunks at a time."""
        return [(one_hot(self.chunk_inputs[i : i + batch], self.vocab_size, dtype), self.chunk_targets[i : i + batch])
                for i in range(0, len(self.chunk_inputs), batch)]  # fmt: skip


def lstm_pair(scratch_model: sl.NextCharLSTM, torch_model: tl.NextCharLSTM, data: NextCharData, steps: int,
              eval_every: int, *, lr: float = LR, weight_decay: float = WEIGHT_DECAY) -> TrainingPair:  # fmt: skip
    """Both twins take ``steps`` Adam steps on ``data``'s windows in text order (wrapping at the
    end), the validation loss after every ``eval_every`` steps and at the end."""
    starts = data.windows.starts(steps)
    pair: TrainingPair  # assigned below; scratch_run reads its ``scratch_noise`` when it runs

    def scratch_run(dtype: str, device: str) -> Run:
        scratch_model.reset_state()
        opt = so.Adam(scratch_model.parameters(), lr=lr, weight_decay=weight_decay)
        loss, val = sl.CrossEntropyLoss(), data.validation(dtype)

        def step(k: int, start: int) -> float:
            if pair.scratch_noise is not None:
                pair.scratch_noise(0, k)
            return sl.train_step(scratch_model, loss, opt, *data.batch(start, dtype))

        history = History()
        events = _loop(history, starts, step, lambda: sl.evaluate(scratch_model, loss, val), scratch_model.state_dict,
                       eval_every, lr)  # fmt: skip
        return Run(events, scratch_model, opt, lambda: history, carried_state(scratch_model), load_state(scratch_model))

    def torch_run(dtype: str, device: str) -> Run:
        torch_model.reset_state()
        opt = to.Adam(torch_model.parameters(), lr=lr, weight_decay=weight_decay)
        loss = tl.CrossEntropyLoss()
        val = [(torch.tensor(x, device=device), torch.tensor(y, device=device)) for x, y in data.validation(dtype)]

        def step(k: int, start: int) -> float:
            x, y = (torch.tensor(a, device=device) for a in data.batch(start, dtype))
            return tl.train_step(torch_model, loss, opt, x, y)

        def snapshot() -> dict[str, Any]:
            return {k: v.detach().cpu().numpy().copy() for k, v in torch_model.state_dict().items()}

        history = History()
        events = _loop(history, starts, step, lambda: tl.evaluate(torch_model, loss, val), snapshot, eval_every, lr)
        return Run(events, torch_model, opt, lambda: history, carried_state(torch_model))

    pair = TrainingPair(scratch_model, torch_model, scratch_run, torch_run)
    return pair


def _loop(history: History, starts: Any, step: Callable[[int, int], float], evaluate: Callable[[], float],
          snapshot: Callable[[], Any], every: int, lr: float) -> Iterator[Event]:  # fmt: skip
    """One pause per step (``step(k, start)``); after every ``every`` steps and after the last, the
    validation loss (an ``eval`` pause) and a parameter snapshot (``history.epoch_params``)."""
    history.lrs.append(lr)
    for k, start in enumerate(starts):
        history.step_losses.append(step(k, int(start)))
        yield Event("step", 0, k, history.step_losses[-1])
        if (k + 1) % every == 0 or k + 1 == len(starts):
            history.epoch_params.append(snapshot())
            history.eval_epochs.append(k + 1)
            history.eval_losses.append(evaluate())
            yield Event("eval", 0, k, history.eval_losses[-1])
    yield Event("end", 0)


def carried_state(model: Any) -> Callable[[], dict[str, Any]]:
    """The carried ``h`` and ``c`` (each (1, 1, H)), by name; empty before the first batch."""
    return lambda: dict(zip("hc", model.state or (), strict=False))


def load_state(model: sl.NextCharLSTM) -> Callable[[dict[str, Any]], None]:
    """Write carried ``h`` and ``c`` into the scratch model (in its parameters' dtype)."""

    def load(states: dict[str, Any]) -> None:
        dtype = model.dense.parameters()[0].data.dtype
        model.state = (np.array(states["h"], dtype=dtype), np.array(states["c"], dtype=dtype)) if states else None

    return load


ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyz .,\n")


def small_text(chars: int = 4000) -> str:
    """A lower-cased slice of the default corpus with only letters, space, ``.``, ``,`` and newline."""
    return "".join(c for c in default_corpus()[:chars].lower() if c in ALLOWED)


def _train_case() -> TrajectoryCase:
    def build(rng: np.random.Generator) -> TrainingPair:
        data = NextCharData.from_text(small_text(), batch_size=4, sequence_length=12)
        vocab = data.vocab_size
        return lstm_pair(sl.NextCharLSTM(vocab, rng=rng), tl.NextCharLSTM(vocab), data, steps=30, eval_every=10)

    return TrajectoryCase("lstm7_train_small", "NextCharLSTM", "lstm7", 7, build, lockstep_class="recurrent")


CASES = [_model_case(False), _model_case(True), _loss_case(), _train_case()]
