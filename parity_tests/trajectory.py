"""Training-run parity: both twins train from the same weights on the same batches.

A ``TrajectoryCase`` is a registry case (``name, component, stem, chapter, run``) whose check is a
whole training run. Its ``build(rng)`` returns a ``TrainingPair``: an untrained scratch network, a
bare torch network of the same architecture, and for each side a function ``(dtype, device) ->
Run`` that starts that side's own training loop, paused after every step (``parity_tests.lockstep``).
``train(dtype, device, seed)`` checks the run twice, and the rows say which check each rests on:

1. **lockstep** (the gate, ``check="lockstep"``): both loops run side by side; after every step
   and every evaluation the whole training state is compared at the case's *operator* tolerance
   (``lockstep_class``), then the scratch twin is reset to the torch twin's state. Every step of
   the full-length run is checked at rounding level, however chaotic the run.
2. **free-running** (a study figure with an honest claim, ``check="trajectory"``): a fresh scratch
   network trains on its own and is compared with the torch run (which lockstep never touches).
   ``controls`` more scratch runs get one ulp of noise on every parameter before every step
   (``ulp_noise_hook``); the *horizon* is the first step where a control's deviation from the plain
   scratch run uses more than ``HORIZON_FRACTION`` of the fixed trajectory tolerance. Free-running
   rows pass or fail only over the steps (epochs, evaluations) before the horizon, and say so; past
   it two runs of the same twin disagree as much as the twins may, and end-of-run figures are set
   against the controls' spread instead (the experiments do that).

Everything else, the batch order and any per-step randomness (dropout masks), must be given to
both sides by the build function: use a pure function of (epoch, step) such as
``scratch.trainer.seeded_permutation``, never a shared stateful generator.

For networks trained by ``Trainer.iter_fit`` on an in-memory ``Split``, ``trainer_pair`` writes the
two run functions; other loops (the chapter 6 language model) write their own. Example (the
Boston linear model)::

    def build(rng):
        s = scratch.network.NeuralNetwork([sl.Dense(13, 1, rng=rng)], sL.MeanSquaredError())
        t = torch_ref.network.NeuralNetwork([tl.Dense(13, 1)], tL.MeanSquaredError())
        return trainer_pair(s, t, boston(), lambda p: so.SGD(p, 0.01), lambda p: to.SGD(p, 0.01),
                            dict(epochs=50, eval_every=10, batch_size=32, early_stopping=False))

    TrajectoryCase("boston_linear", "Trainer", "trainer", 3, build)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from parity_tests.data import Split, as_dtype
from parity_tests.harness import Comparison, RowLog, Tolerance, compare, lockstep_tolerance, np_dtype, tolerance_for
from parity_tests.lockstep import Run, drain, lockstep
from parity_tests.opcase import EXACT, copy_state
from scratch.trainer import BeforeStep, History, Permutation, seeded_permutation

Row = dict[str, Any]
#: ``(dtype, device) -> Run``: starts one side's training loop (nothing runs until iterated).
RunFn = Callable[[str, str], Run]
#: The controls' horizon: the first step where a control's deviation from the plain run uses more
#: than this share of the fixed trajectory tolerance. A tenth, so that the twins' own rounding,
#: which grows like the controls' (e-fold every 2-7 steps in the chaotic runs), still has a factor
#: 10 of room at the last step claimed; it costs those runs a few steps of claim.
HORIZON_FRACTION = 0.1
#: Default number of ulp-noise controls per run (experiments use more for end-of-run spreads).
CONTROLS = 2


@dataclass
class TrainingPair:
    """Two networks of the same architecture and how to start each one's training loop.

    ``scratch_net`` is a scratch ``Module`` with its initial weights; ``torch_net`` an
    ``nn.Module`` whose weights are overwritten by the scratch ones before training.
    ``scratch_noise``: an extra per-step hook for the scratch side, set only for the ulp-noise
    controls (``trainer_pair`` honours it; a pair that ignores it gets controls equal to the plain
    run, hence a horizon at the end of the run).
    """

    scratch_net: Any
    torch_net: torch.nn.Module
    scratch_run: RunFn
    torch_run: RunFn
    scratch_noise: BeforeStep | None = None


@dataclass
class TrajectoryResult:
    """The rows; the free-running scratch history and the torch history; the networks as trained
    (``pair.scratch_net`` from the free scratch run, ``pair.torch_net`` from the torch run); the
    controls' histories and networks; the lockstep pause counts; the free-running horizon (steps)."""

    rows: list[Row]
    scratch: History
    torch: Any
    pair: TrainingPair
    controls: list[History] = field(default_factory=list)
    control_nets: list[Any] = field(default_factory=list)
    lockstep_steps: int = 0
    lockstep_evaluations: int = 0
    horizon: int | None = None


def stacked_params(history: Any, final: dict[str, Any]) -> dict[str, np.ndarray]:
    """Each parameter's values after every epoch and at the end, stacked: ``(epochs + 1, *shape)``."""
    snapshots = [*history.epoch_params, final]
    return {k: np.stack([np.asarray(s[k], dtype=np.float64) for s in snapshots]) for k in final}


def chain_hooks(*hooks: BeforeStep | None) -> BeforeStep | None:
    """One ``before_step`` calling each given hook in order (``None`` when none is given)."""
    live = [h for h in hooks if h is not None]
    if not live:
        return None

    def before_step(epoch: int, step: int) -> None:
        for hook in live:
            hook(epoch, step)

    return before_step


def ulp_noise_hook(net: Any, seed: int, stream: int = 0) -> BeforeStep:
    """``before_step(epoch, step)``: move every parameter of the scratch ``net`` one ulp up or down,
    signs from ``default_rng([seed, stream, epoch, step])`` (a control's per-step rounding noise)."""

    def before_step(epoch: int, step: int) -> None:
        rng = np.random.default_rng([seed, stream, epoch, step])
        for p in net.parameters():
            toward = np.where(rng.random(p.data.shape) < 0.5, -np.inf, np.inf).astype(p.data.dtype)
            p.data = np.nextafter(p.data, toward)  # one ulp of the parameter's own dtype

    return before_step


def horizon(run: Any, controls: Sequence[Any], tol: Tolerance, fraction: float = HORIZON_FRACTION) -> int:
    """The first index (axis 0: step, evaluation or epoch) where a control deviates from ``run`` by
    more than ``fraction`` of ``atol + rtol |run|``; ``len(run)`` when none does (or no control).

    Indices a control did not reach (it stopped early) count as left: the horizon is at most the
    shortest control's length.
    """
    x = np.asarray(run, dtype=np.float64)
    n = len(x)
    if not controls:
        return n
    h = n
    for c in controls:
        y = np.asarray(c, dtype=np.float64)
        m = min(n, len(y))
        if y.shape[1:] != x.shape[1:]:
            return 0
        if m == 0:
            return 0
        bound = fraction * (tol.atol + tol.rtol * np.abs(x[:m]))
        out = (np.abs(x[:m] - y[:m]) > bound).reshape(m, -1).any(axis=1)
        first = int(np.argmax(out)) if out.any() else m
        h = min(h, first)
    return h


def within_horizon(a: Any, b: Any, controls: Sequence[Any], tol: Tolerance, unit: str) -> Comparison:
    """``compare(a, b)`` over the indices before the controls' ``horizon`` (of ``a``), with a note
    saying over how many of how many ``unit`` the claim rests."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    h = horizon(x, controls, tol)
    n = min(len(x), len(y))
    if len(x) != len(y):
        extra = f"; the runs made {len(x)} / {len(y)} {unit} (scratch / torch)"
        if h >= n:
            return Comparison.failure(f"free-running: lengths differ{extra}")
    else:
        extra = ""
    k = min(h, n)
    comp = compare(x[:k], y[:k], tol)
    claim = f"free-running, first {k} of {len(y)} {unit}"
    claim += " (the controls' horizon)" if h < len(y) and controls else ""
    if k == 0:
        claim += ": no claim"
    note = f"{claim}{extra}" + (f"; {comp.note}" if comp.note and comp.note != "empty" else "")
    return replace(comp, note=note)


def steps_within(a: Any, b: Any, tol: Tolerance) -> int:
    """How many leading steps have ``|a - b| <= atol + rtol |b|`` (the losses of two runs)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    bad = np.flatnonzero(np.abs(x - y) > tol.atol + tol.rtol * np.abs(y))
    return int(bad[0]) if bad.size else n


@dataclass
class TrajectoryCase:
    """A registry case whose check is a training run of both twins (see the module docstring).

    Args:
        name: unique case id, e.g. ``boston_linear``.
        component: the public name the run exercises, e.g. ``Trainer``.
        stem: module stem (also the selection key), e.g. ``trainer``.
        chapter: book chapter (pytest marker ``chN``).
        build: ``rng -> TrainingPair``; the scratch network is drawn from ``rng``.
        lockstep_class: the operator tolerance class of one step (``matmul`` for MLPs, ``conv``,
            ``recurrent``): the lockstep rows use ``lockstep_tolerance(dtype, lockstep_class)``
            (the class's own tolerance; in float32 no tighter than the ``lockstep`` floor).
        loss_class: the class of the lockstep ``loss`` / ``eval_loss`` rows when the loss value is
            worse conditioned than the step (``book_ce_value``); default ``lockstep_class``.
        controls: ulp-noise control runs that set the free-running horizon.
        tolerances: per-dtype overrides of the free-running ``trajectory`` tolerance, each with its reason.
        lockstep_tolerances: per-dtype overrides of the lockstep tolerance, each with its reason
            (a step whose conditioning the operator class does not cover).
    """

    name: str
    component: str
    stem: str
    chapter: int
    build: Callable[[np.random.Generator], TrainingPair]
    lockstep_class: str = "matmul"
    controls: int = CONTROLS
    loss_class: str | None = None
    lockstep_tolerances: dict[str, Tolerance] = field(default_factory=dict)
    tolerances: dict[str, Tolerance] = field(default_factory=dict)

    def tolerance(self, dtype: str) -> Tolerance:
        return self.tolerances.get(dtype) or tolerance_for(dtype, "trajectory")

    def _pair(self, dtype: str, device: str, seed: int) -> tuple[TrainingPair, Comparison]:
        """A freshly built pair, cast to ``dtype``, the scratch weights copied into the torch net."""
        pair = self.build(np.random.default_rng(seed))
        pair.scratch_net.to(np_dtype(dtype))
        pair.torch_net.to(device=device, dtype=getattr(torch, dtype))
        return pair, copy_state(pair.scratch_net, pair.torch_net)

    def train(
        self, dtype: str = "float64", device: str = "cpu", seed: int = 0, *, free: bool = True
    ) -> TrajectoryResult:
        """Lockstep, then (``free``) the free-running comparison and its controls; rows and histories."""
        pair, copied = self._pair(dtype, device, seed)
        shapes = " ".join(f"{k}{tuple(v.shape)}" for k, v in pair.scratch_net.state_dict().items())
        log = RowLog(self, seed, dtype, device, shapes)
        log.add("state_dict", "parameters", copied, EXACT)
        step_tol = self.lockstep_tolerances.get(dtype) or lockstep_tolerance(dtype, self.lockstep_class)
        loss_tol = lockstep_tolerance(dtype, self.loss_class) if self.loss_class else step_tol
        locked = lockstep(pair.scratch_run(dtype, device), pair.torch_run(dtype, device), step_tol, loss_tol)
        for target, comp in locked.comparisons.items():
            log.add("lockstep", target, comp, loss_tol if target in ("loss", "eval_loss") else step_tol)
        hist_t = locked.torch_history
        if not free:
            return TrajectoryResult(log.rows, locked.scratch_history, hist_t, pair, [], [], locked.steps,
                                    locked.evaluations)  # fmt: skip
        own, _ = self._pair(dtype, device, seed)
        hist_s = drain(own.scratch_run(dtype, device))
        controls = [self._control(dtype, device, seed, stream) for stream in range(self.controls)]
        hist_c = [h for h, _ in controls]
        tol = self.tolerance(dtype)
        final_t = {k: v.detach().cpu().numpy() for k, v in pair.torch_net.state_dict().items()}
        params_s = stacked_params(hist_s, own.scratch_net.state_dict())
        params_t = stacked_params(hist_t, final_t)
        params_c = [stacked_params(h, net.state_dict()) for h, net in controls]
        losses_s = hist_s.step_losses
        log.add("trajectory", "loss", within_horizon(losses_s, hist_t.step_losses, [h.step_losses for h in hist_c],
                                                     tol, "steps"), tol)  # fmt: skip
        evals_c = [h.eval_losses for h in hist_c]
        log.add("trajectory", "eval_loss", within_horizon(hist_s.eval_losses, hist_t.eval_losses, evals_c, tol,
                                                          "evaluations"), tol)  # fmt: skip
        # The rates follow the schedule, not the chaos: compared over the epochs both free runs trained
        # (early stopping, a decision on a chaotic test loss, may end them apart; lockstep checks the decisions).
        n_lr = min(len(hist_s.lrs), len(hist_t.lrs))
        log.add("trajectory", "lr", within_horizon(hist_s.lrs[:n_lr], hist_t.lrs[:n_lr], [], tol, "epochs"), tol)
        for name in params_s:
            snap_c = [p[name][:-1] for p in params_c]  # per epoch; the final models may differ in age
            comp = (
                within_horizon(params_s[name][:-1], params_t[name][:-1], snap_c, tol, "epochs")
                if name in params_t
                else Comparison.failure("no twin")
            )
            log.add("trajectory", name, comp, tol)
        h = horizon(losses_s, [c.step_losses for c in hist_c], tol)
        result_pair = TrainingPair(own.scratch_net, pair.torch_net, own.scratch_run, pair.torch_run)
        return TrajectoryResult(log.rows, hist_s, hist_t, result_pair, hist_c, [net for _, net in controls],
                                locked.steps, locked.evaluations, h)  # fmt: skip

    def _control(self, dtype: str, device: str, seed: int, stream: int) -> tuple[History, Any]:
        """The scratch twin trained again with one ulp of noise before every step."""
        pair = self.build(np.random.default_rng(seed))
        pair.scratch_net.to(np_dtype(dtype))
        pair.scratch_noise = ulp_noise_hook(pair.scratch_net, seed, stream)
        return drain(pair.scratch_run(dtype, device)), pair.scratch_net

    def run(self, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> list[Row]:
        return self.train(dtype, device, seed).rows


def trainer_pair(
    scratch_net: Any,
    torch_net: torch.nn.Module,
    data: Split,
    scratch_optimizer: Callable[[list[Any]], Any],
    torch_optimizer: Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer],
    fit_kwargs: dict[str, Any],
    *,
    permutation: Permutation | None = None,
    scratch_before_step: BeforeStep | None = None,
    torch_before_step: BeforeStep | None = None,
    scratch_scheduler: Callable[[Any], Any] | None = None,
    torch_scheduler: Callable[[torch.optim.Optimizer], Any] | None = None,
) -> TrainingPair:
    """A ``TrainingPair`` whose sides run ``Trainer.iter_fit`` of their twin on ``data``.

    Args:
        scratch_optimizer / torch_optimizer: ``params -> optimizer`` (built once the network
            has its dtype); e.g. ``lambda p: SGD(p, lr=0.01)``.
        fit_kwargs: passed to both ``fit`` calls (epochs, eval_every, batch_size, early_stopping).
        permutation: the batch order of both sides; default ``seeded_permutation(fit seed)``.
        scratch_before_step / torch_before_step: per-step hooks that give each side the same
            per-step state (e.g. dropout masks from a pure function of (epoch, step)).
        scratch_scheduler / torch_scheduler: ``optimizer -> scheduler`` (``step()`` per epoch).
    """
    from scratch.trainer import Trainer as ScratchTrainer
    from torch_ref.trainer import Trainer as TorchTrainer

    order = permutation or seeded_permutation(int(fit_kwargs.get("seed", 1)))
    pair: TrainingPair  # assigned below; scratch_run reads its ``scratch_noise`` when it runs

    def scratch_run(dtype: str, device: str) -> Run:
        d = as_dtype(data, np_dtype(dtype))
        optimizer = scratch_optimizer(scratch_net.parameters())
        scheduler = scratch_scheduler(optimizer) if scratch_scheduler else None
        trainer = ScratchTrainer(scratch_net, optimizer)
        events = trainer.iter_fit(
            d.X_train, d.y_train, d.X_test, d.y_test, **fit_kwargs, permutation=order,
            before_step=chain_hooks(scratch_before_step, pair.scratch_noise), scheduler=scheduler,
        )  # fmt: skip
        return Run(events, scratch_net, optimizer, lambda: trainer.history)

    def torch_run(dtype: str, device: str) -> Run:
        arrays = (data.X_train, data.y_train, data.X_test, data.y_test)  # fit's argument order
        X_train, y_train, X_test, y_test = (torch.tensor(a, dtype=getattr(torch, dtype), device=device) for a in arrays)
        optimizer = torch_optimizer(torch_net.parameters())
        scheduler = torch_scheduler(optimizer) if torch_scheduler else None
        trainer = TorchTrainer(torch_net, optimizer)  # type: ignore[arg-type]
        events = trainer.iter_fit(
            X_train, y_train, X_test, y_test, **fit_kwargs, permutation=order, before_step=torch_before_step,
            scheduler=scheduler,
        )  # fmt: skip
        return Run(events, torch_net, optimizer, lambda: trainer.history)

    pair = TrainingPair(scratch_net, torch_net, scratch_run, torch_run)
    return pair
