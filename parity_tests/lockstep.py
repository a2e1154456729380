"""Lockstep training parity: every step of a real run, taken by both twins from one reference state.

Why. A long training run amplifies rounding: after a hundred or so steps two float64 runs of the
*same* twin, differing by one ulp, no longer agree, so comparing two free-running trajectories at
the end says little. Lockstep checks every step of the real run at rounding level instead:

1. both twins' own training loops run side by side, each paused after every event of its loop
   (a ``TrainEvent``: an optimizer step, an evaluation, the end) by its ``iter_fit`` generator;
2. at each pause the harness compares the two twins' whole training state -- the loss (or test
   loss), every parameter gradient, the updated parameters, the optimizer's buffers, the learning
   rate, and any carried state (an RNN's hidden state between batches) -- under the operator-class
   tolerance of the case (``check``'s float64 bounds, not a trajectory envelope);
3. then it copies the torch twin's state into the scratch twin (``sync``), so the next step of both
   starts from the same reference state, and resumes both loops.

So the comparison at a pause covers exactly what each twin's own code did since the last pause:
one step, or an epoch's end (scheduler, evaluation in eval mode, early stopping's decision and
restore). The torch twin is never touched: its run *is* the real run. A bug that begins at step
800 shows at step 800 with a budget as large as an operator check would give it.

What both twins must share and neither may compute for the other (the batch order, dropout masks)
is data the harness hands to both; the event sequences must then match (``events`` row).

A ``Run`` wraps one twin's paused loop; ``lockstep(scratch_run, torch_run, tol)`` returns one
``Comparison`` per target, each the worst over every pause, with the pause and index where it was
worst (``"e3 s17 (12, 4)"``: epoch 3, step 17, element (12, 4)).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parity_tests.harness import Comparison, Tolerance

#: ``() -> {name: array or tensor}`` and its inverse: state a step depends on beyond the
#: parameters and the optimizer (the carried hidden state of a recurrent model).
CarriedGet = Callable[[], dict[str, Any]]
CarriedSet = Callable[[dict[str, np.ndarray]], None]


@dataclass(frozen=True)
class Event:
    """A pause of a loop the harness writes itself (the chapter 6 language model's), with the fields
    of the twins' ``TrainEvent``: ``kind`` (``step``, ``eval``, ``end``), ``epoch``, ``step``, ``loss``,
    ``stopped``."""

    kind: str
    epoch: int
    step: int = -1
    loss: float = float("nan")
    stopped: bool = False


@dataclass
class Run:
    """One twin's training run, paused after every event of its own loop.

    Attributes:
        events: the loop (``trainer.iter_fit(...)``); each item has ``kind``, ``epoch``, ``step``,
            ``loss`` and ``stopped`` (``TrainEvent`` of either twin).
        model: the module trained (scratch ``Module`` or ``nn.Module``): ``named_parameters()``.
        optimizer: its optimizer: ``param_groups`` and ``state`` keyed by parameter.
        history: ``() -> History`` of the run (read once the loop has ended).
        carried / load_carried: extra state (see ``CarriedGet``), read on both sides, written on
            the scratch side.
    """

    events: Iterator[Any]
    model: Any
    optimizer: Any
    history: Callable[[], Any]
    carried: CarriedGet | None = None
    load_carried: CarriedSet | None = None


def drain(run: Run) -> Any:
    """Run the loop to its end without comparing (a free run); returns its history."""
    for _ in run.events:
        pass
    return run.history()


def as_numpy(x: Any) -> np.ndarray:
    """An ndarray view or copy of an ndarray, tensor or number (no torch import here)."""
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def read_state(run: Run, *, grads: bool) -> dict[str, np.ndarray]:
    """The run's training state by target name: ``param[k]``, ``grad[k]`` (when ``grads``),
    ``state[k.buffer]`` (optimizer buffers shaped like their parameter, or scalars such as a step
    count), ``lr`` (one per parameter group) and ``carried[k]``.

    Works on both twins: both keep ``named_parameters()``, ``p.grad``, ``optimizer.state[p]`` and
    ``optimizer.param_groups`` under PyTorch's names.
    """
    out: dict[str, np.ndarray] = {}
    named = list(run.model.named_parameters())
    for name, p in named:
        out[f"param[{name}]"] = as_numpy(p.data)
    if grads:
        for name, p in named:
            if p.grad is not None:
                out[f"grad[{name}]"] = as_numpy(p.grad)
    for name, p in named:
        for key, value in run.optimizer.state.get(p, {}).items():
            if value is not None and not isinstance(value, bool):
                out[f"state[{name}.{key}]"] = as_numpy(value)
    out["lr"] = np.array([float(g["lr"]) for g in run.optimizer.param_groups])
    if run.carried is not None:
        for key, value in run.carried().items():
            out[f"carried[{key}]"] = as_numpy(value)
    return out


def sync(scratch: Run, reference: dict[str, np.ndarray]) -> None:
    """Write the reference state into the scratch run: parameters (in place), the optimizer's
    buffers that the scratch optimizer keeps (fresh copies; dropped where the reference has none),
    learning rates and carried state. Gradients are not copied: every step writes its own."""
    named = dict(scratch.model.named_parameters())
    for name, p in named.items():
        np.copyto(p.data, reference[f"param[{name}]"], casting="same_kind")
    for name, p in named.items():
        buffers = scratch.optimizer.state.get(p)
        if buffers is None:
            continue
        for key in list(buffers):
            ref = reference.get(f"state[{name}.{key}]")
            if ref is None:
                del buffers[key]
            else:
                buffers[key] = np.array(ref, dtype=np.asarray(buffers[key]).dtype, copy=True)
        if not buffers:
            del scratch.optimizer.state[p]
    for group, lr in zip(scratch.optimizer.param_groups, reference["lr"], strict=True):
        group["lr"] = float(lr)
    if scratch.load_carried is not None:
        prefix = "carried["
        scratch.load_carried({k[len(prefix) : -1]: v for k, v in reference.items() if k.startswith(prefix)})


@dataclass
class Worst:
    """The worst budget one target used over every pause, where, and how many pauses it failed."""

    tol: Tolerance
    budget: float = 0.0
    where: str = ""
    scratch_value: float = float("nan")
    torch_value: float = float("nan")
    max_abs: float = 0.0
    max_rel: float = 0.0
    compared: int = 0
    failed: int = 0
    first_failure: str = ""
    problem: str = ""

    def add(self, a: np.ndarray | None, b: np.ndarray | None, label: str) -> None:
        """Fold in one pause's comparison of ``a`` (scratch) with ``b`` (reference)."""
        self.compared += 1
        if a is None or b is None or a.shape != b.shape:
            what = "missing in scratch" if a is None else "missing in torch" if b is None else "shape"
            shapes = f" {a.shape} vs {b.shape}" if a is not None and b is not None else ""
            self._fail(label, f"{what}{shapes} at {label}", float("inf"), "", float("nan"), float("nan"))
            return
        x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if x.size == 0:
            return
        diff = np.abs(x - y)
        with np.errstate(divide="ignore", invalid="ignore"):
            budget = np.where(diff == 0, 0.0, diff / (self.tol.atol + self.tol.rtol * np.abs(y)))
            rel = np.where(diff == 0, 0.0, diff / np.abs(y))
        budget = np.where(np.isnan(budget), np.inf, budget)  # NaN on either side never passes
        i = np.unravel_index(int(np.argmax(budget)), x.shape)
        self.max_abs = max(self.max_abs, float(np.nanmax(diff)) if not np.isnan(diff).all() else np.inf)
        self.max_rel = max(self.max_rel, float(np.nanmax(rel)) if not np.isnan(rel).all() else np.inf)
        used = float(budget[i])
        where = f"{label} {tuple(int(k) for k in i)}" if x.ndim else label
        if used > 1.0:
            self._fail(label, "", used, where, float(x[i]), float(y[i]))
        elif used > self.budget or not self.where:
            self.budget, self.where, self.scratch_value, self.torch_value = used, where, float(x[i]), float(y[i])

    def _fail(self, label: str, problem: str, used: float, where: str, a: float, b: float) -> None:
        self.failed += 1
        self.first_failure = self.first_failure or label
        self.problem = self.problem or problem
        if used >= self.budget:
            self.budget, self.where, self.scratch_value, self.torch_value = used, where or label, a, b

    def comparison(self, unit: str) -> Comparison:
        note = f"lockstep over {self.compared} {unit}"
        if self.failed:
            note += f"; failed at {self.failed}, first at {self.first_failure}"
        if self.problem:
            note += f" ({self.problem})"
        return Comparison(
            self.max_abs if not self.problem else float("inf"),
            self.max_rel if not self.problem else float("inf"),
            self.budget,
            self.where,
            self.scratch_value,
            self.torch_value,
            self.failed == 0,
            note,
        )


@dataclass
class LockstepResult:
    """One ``Comparison`` per target (``events``, ``loss``, ``eval_loss``, ``lr``, ``param[k]``,
    ``grad[k]``, ``state[k.buffer]``, ``carried[k]``), the pause counts and both histories."""

    comparisons: dict[str, Comparison]
    steps: int
    evaluations: int
    scratch_history: Any
    torch_history: Any
    units: dict[str, str] = field(default_factory=dict)


def label_of(event: Any) -> str:
    """``e3 s17`` for a step, ``e3 eval``, ``e3 end``."""
    return f"e{event.epoch} s{event.step}" if event.kind == "step" else f"e{event.epoch} {event.kind}"


def lockstep(scratch: Run, torch_run: Run, tol: Tolerance, loss_tol: Tolerance | None = None) -> LockstepResult:
    """Run both loops pause by pause, comparing and syncing (see the module docstring).

    ``tol`` bounds every target; ``loss_tol`` (default ``tol``) the loss values alone, for a loss
    whose value is worse conditioned than its gradient (the book's cross-entropy value).
    """
    worst: dict[str, Worst] = {}
    counts = {"step": 0, "eval": 0, "end": 0}

    def fold(target: str, a: Any, b: Any, label: str) -> None:
        bound = loss_tol if loss_tol is not None and target in ("loss", "eval_loss") else tol
        worst.setdefault(target, Worst(bound)).add(a, b, label)

    events = Worst(tol)
    while True:
        t_event = next(torch_run.events, None)
        s_event = next(scratch.events, None)
        if t_event is None and s_event is None:
            break
        key_s = None if s_event is None else (s_event.kind, s_event.epoch, s_event.step)
        key_t = None if t_event is None else (t_event.kind, t_event.epoch, t_event.step)
        if key_s != key_t or (s_event is not None and t_event is not None and s_event.stopped != t_event.stopped):
            said = " / ".join(
                "ended" if e is None else f"{label_of(e)}{' stop' * e.stopped}" for e in (s_event, t_event)
            )
            events._fail(label_of(t_event or s_event), f"the loops part: scratch / torch at {said}", np.inf, "", 0, 0)
            break
        assert s_event is not None and t_event is not None
        events.compared += 1
        counts[t_event.kind] += 1
        label = label_of(t_event)
        is_step = t_event.kind == "step"
        if t_event.kind != "end":
            fold("loss" if is_step else "eval_loss", np.float64(s_event.loss), np.float64(t_event.loss), label)
        s_state = read_state(scratch, grads=is_step)
        t_state = read_state(torch_run, grads=is_step)
        for target in sorted(set(s_state) | set(t_state)):
            if target not in s_state and target.startswith("state[") and t_state[target].ndim == 0:
                continue  # a counter torch keeps (Adagrad's "step") and the scratch update never reads
            fold(target, s_state.get(target), t_state.get(target), label)
        sync(scratch, t_state)
    comparisons = {"events": events.comparison("pauses")}
    comparisons.update({k: w.comparison("pauses") for k, w in worst.items()})
    units = {k: f"{w.compared} pauses" for k, w in worst.items()}
    return LockstepResult(comparisons, counts["step"], counts["eval"], scratch.history(), torch_run.history(), units)
