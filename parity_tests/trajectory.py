"""Training-run parity (llm.c style): both twins train from the same weights on the same batches.

A ``TrajectoryCase`` is a registry case (``name, component, stem, chapter, run``) whose check is a
whole training run. Its ``build(rng)`` returns a ``TrainingPair``: an untrained scratch network, a
bare torch network of the same architecture, and one function per side that trains that network
and returns a ``History`` (``scratch.trainer.History``: per-step losses, per-epoch parameters,
evaluation losses). ``run(dtype, device, seed)``:

1. casts both networks to ``dtype`` (torch also to ``device``) and copies the scratch weights into
   the torch network (row ``state_dict``: keys, shapes and bits must match exactly);
2. calls both training functions;
3. emits ``check="trajectory"`` rows: target ``loss`` (the loss of every step, one vector),
   ``eval_loss`` (the test losses), ``lr`` (the learning rate of every epoch), and one row per
   parameter with its values after every epoch and after ``fit`` returned (early stopping may
   restore an earlier model), stacked on axis 0. A ``ControlledTrajectoryCase`` (chaotic runs)
   also trains 1-ulp-noise controls and allows the twins ``CONTROL_FACTOR`` times their drift.

Everything else, the batch order and any per-step randomness (dropout masks), must be given to
both sides by the build function: use a pure function of (epoch, step) such as
``scratch.trainer.seeded_permutation``, never a shared stateful generator (the scratch run would
consume it before the torch run starts).

For networks trained by ``Trainer.fit`` on an in-memory ``Split``, ``trainer_pair`` writes the two
training functions; other loops (the chapter 6 language model) write their own, returning
``History``. Example (the Boston linear model)::

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
import numpy.typing as npt
import torch

from parity_tests.data import Split, as_dtype
from parity_tests.harness import Comparison, Tolerance, compare, make_row, np_dtype, tolerance_for
from parity_tests.opcase import EXACT, copy_state
from scratch.trainer import BeforeStep, History, Permutation, seeded_permutation

Row = dict[str, Any]
#: K of the control envelope: the twins may diverge K times as far as the controls have so far;
#: ``CONTROL_RUNS`` noise streams, ``D`` the largest of their drifts (measurements in
#: ``ControlledTrajectoryCase``).
CONTROL_FACTOR = 200.0
CONTROL_RUNS = 2
#: ``(dtype, device) -> History``: trains the side's network in place.
FitFn = Callable[[str, str], History]


@dataclass
class TrainingPair:
    """Two networks of the same architecture and how to train each (see the module docstring).

    ``scratch_net`` is a scratch ``Module`` with its initial weights; ``torch_net`` an
    ``nn.Module`` whose weights are overwritten by the scratch ones before training.
    ``scratch_noise``: an extra per-step hook for the scratch side, set only by the control run
    of ``ControlledTrajectoryCase`` (``trainer_pair`` honours it).
    """

    scratch_net: Any
    torch_net: torch.nn.Module
    scratch_fit: FitFn
    torch_fit: FitFn
    scratch_noise: BeforeStep | None = None


@dataclass
class TrajectoryResult:
    """The rows, both histories, and the trained pair (for test metrics)."""

    rows: list[Row]
    scratch: History
    torch: History
    pair: TrainingPair
    controls: list[History] = field(default_factory=list)


def stacked_params(history: History, final: dict[str, Any]) -> dict[str, np.ndarray]:
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


def control_drift(run: Any, control: Any) -> np.ndarray:
    """``D[t] = max_{s <= t} max |run[s] - control[s]|`` (axis 0 is the step or epoch), shaped to
    broadcast against ``run``: the control's deviation so far, per step."""
    d = np.abs(np.asarray(run, dtype=np.float64) - np.asarray(control, dtype=np.float64))
    per_step = d.reshape(len(d), -1).max(axis=1) if d.size else np.zeros(len(d))
    return np.maximum.accumulate(per_step).reshape((-1,) + (1,) * (d.ndim - 1))


def _aligned(a: Any, b: Any, controls: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``a`` and ``b`` over the steps all runs made, and ``D`` (the largest of the controls')
    broadcast against them."""
    n = min(len(a), len(b), *(len(c) for c in controls))
    x, y = np.asarray(a[:n], dtype=np.float64), np.asarray(b[:n], dtype=np.float64)
    if x.shape != y.shape:
        return x, y, x
    return x, y, np.broadcast_to(np.max([control_drift(x, c[:n]) for c in controls], axis=0), x.shape)


def envelope_compare(
    a: Any, b: Any, controls: Sequence[Any], tol: Tolerance, factor: float | None = None
) -> Comparison:
    """``compare`` under the control envelope ``|a - b| <= atol + rtol |b| + K D[t]`` (``D`` the
    largest ``control_drift(a, c)`` of the ``controls``, ``K = CONTROL_FACTOR``), over the steps
    all runs made."""
    k = CONTROL_FACTOR if factor is None else factor
    x, y, drift = _aligned(a, b, controls)
    plain = compare(x, y, tol)  # max_abs, max_rel, the shape check
    if plain.note:  # shape mismatch or nothing to compare
        return plain
    diff = np.abs(x - y)
    with np.errstate(divide="ignore", invalid="ignore"):
        budget = np.where(diff == 0, 0.0, diff / (tol.atol + tol.rtol * np.abs(y) + k * drift))
    budget = np.where(np.isnan(budget), np.inf, budget)
    worst = np.unravel_index(int(np.argmax(budget)), x.shape)
    note = f"control envelope: atol + rtol|b| + {k:g} x control drift so far ({float(drift[worst]):.2g} here)"
    if len(x) < max(len(a), len(b)):
        lengths = " / ".join(str(len(v)) for v in (a, b, *controls))
        note += f"; first {len(x)} of {lengths} (scratch / torch / controls)"
    used, where = float(budget[worst]), str(tuple(int(i) for i in worst))
    return replace(plain, budget_used=used, worst_index=where, passed=used <= 1.0, note=note,
                   scratch_value=float(x[worst]), torch_value=float(y[worst]))  # fmt: skip


def steps_within(a: npt.ArrayLike, b: npt.ArrayLike, tol: Tolerance) -> int:
    """How many leading steps have ``|a - b| <= atol + rtol |b|`` (the losses of two runs)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    bad = np.flatnonzero(np.abs(x - y) > tol.atol + tol.rtol * np.abs(y))
    return int(bad[0]) if bad.size else n


def factor_needed(a: Any, b: Any, controls: Sequence[Any], tol: Tolerance) -> float:
    """The smallest ``K`` under which ``envelope_compare`` passes: ``max_t (|a - b| - atol - rtol |b|)
    / D[t]`` over the steps where the fixed tolerance is not enough (0 if it always is; inf if the
    controls had not moved there). The measurement behind ``CONTROL_FACTOR``."""
    x, y, drift = _aligned(a, b, controls)
    excess = np.abs(x - y) - (tol.atol + tol.rtol * np.abs(y))
    live = excess > 0
    with np.errstate(divide="ignore"):
        return float((excess[live] / drift[live]).max()) if live.any() else 0.0


@dataclass
class TrajectoryCase:
    """A registry case whose check is a training run of both twins.

    Args:
        name: unique case id, e.g. ``boston_linear``.
        component: the public name the run exercises, e.g. ``Trainer``.
        stem: module stem (also the selection key), e.g. ``trainer``.
        chapter: book chapter (pytest marker ``chN``).
        build: ``rng -> TrainingPair``; the scratch network is drawn from ``rng``.
        tolerances: per-dtype overrides of the ``trajectory`` tolerance, each with its reason.
    """

    name: str
    component: str
    stem: str
    chapter: int
    build: Callable[[np.random.Generator], TrainingPair]
    tolerances: dict[str, Tolerance] = field(default_factory=dict)

    def tolerance(self, dtype: str) -> Tolerance:
        return self.tolerances.get(dtype) or tolerance_for(dtype, "trajectory")

    def train(self, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> TrajectoryResult:
        """Train both twins and compare; returns the rows with both histories."""
        dt = np_dtype(dtype)
        pair = self.build(np.random.default_rng(seed))
        pair.scratch_net.to(dt)
        pair.torch_net.to(device=device, dtype=getattr(torch, dtype))
        tol = self.tolerance(dtype)
        shapes = " ".join(f"{k}{tuple(v.shape)}" for k, v in pair.scratch_net.state_dict().items())
        rows: list[Row] = []

        def row(check: str, target: str, comp: Comparison, t: Tolerance = tol) -> None:
            rows.append(make_row(
                case=self, seed=seed, dtype=dtype, device=device, check=check, target=target,
                comparison=comp, tol=t, shapes=shapes,
            ))  # fmt: skip

        row("state_dict", "parameters", copy_state(pair.scratch_net, pair.torch_net), EXACT)
        hist_s = pair.scratch_fit(dtype, device)
        hist_t = pair.torch_fit(dtype, device)
        final_t = {k: v.detach().cpu().numpy() for k, v in pair.torch_net.state_dict().items()}
        runs = [
            (hist_s, stacked_params(hist_s, pair.scratch_net.state_dict())),
            (hist_t, stacked_params(hist_t, final_t)),
        ]
        controls = self.control_runs(dtype, device, seed)
        if controls:
            runs += controls
            n_epochs = min(len(h.epoch_params) for h, _ in runs)  # early stopping may end runs apart
            if any(len(h.epoch_params) != n_epochs for h, _ in runs):  # then the final models differ in age
                runs = [(h, {k: v[:n_epochs] for k, v in p.items()}) for h, p in runs]

        def check(a: Any, b: Any, cs: list[Any]) -> Comparison:
            return envelope_compare(a, b, cs, tol) if controls else compare(a, b, tol)

        hist_c = [h for h, _ in controls]
        row("trajectory", "loss", check(hist_s.step_losses, hist_t.step_losses, [h.step_losses for h in hist_c]))
        row("trajectory", "eval_loss", check(hist_s.eval_losses, hist_t.eval_losses, [h.eval_losses for h in hist_c]))
        n_lr = min(len(hist_s.lrs), len(hist_t.lrs)) if controls else None
        row("trajectory", "lr", compare(hist_s.lrs[:n_lr], hist_t.lrs[:n_lr], tol))  # not chaotic: fixed tol
        (_, params_s), (_, params_t), *params_c = runs
        for name in params_s:
            comp = check(params_s[name], params_t[name], [p[name] for _, p in params_c]) if name in params_t else None
            row("trajectory", name, comp or Comparison.failure("no twin"))
        return TrajectoryResult(rows, hist_s, hist_t, pair, hist_c)

    def control_runs(self, dtype: str, device: str, seed: int) -> list[tuple[History, dict[str, np.ndarray]]]:
        """The noise controls (``ControlledTrajectoryCase``); a plain case has none."""
        return []

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
    """A ``TrainingPair`` whose sides run ``Trainer.fit`` of their twin on ``data``.

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
    pair: TrainingPair  # assigned below; scratch_fit reads its ``scratch_noise`` when it runs

    def scratch_fit(dtype: str, device: str) -> History:
        d = as_dtype(data, np_dtype(dtype))
        optimizer = scratch_optimizer(scratch_net.parameters())
        scheduler = scratch_scheduler(optimizer) if scratch_scheduler else None
        trainer = ScratchTrainer(scratch_net, optimizer)
        return trainer.fit(
            d.X_train,
            d.y_train,
            d.X_test,
            d.y_test,
            **fit_kwargs,
            permutation=order,
            before_step=chain_hooks(scratch_before_step, pair.scratch_noise),
            scheduler=scheduler,
        )

    def torch_fit(dtype: str, device: str) -> History:
        arrays = (data.X_train, data.y_train, data.X_test, data.y_test)  # fit's argument order
        X_train, y_train, X_test, y_test = (torch.tensor(a, dtype=getattr(torch, dtype), device=device) for a in arrays)
        optimizer = torch_optimizer(torch_net.parameters())
        scheduler = torch_scheduler(optimizer) if torch_scheduler else None
        trainer = TorchTrainer(torch_net, optimizer)  # type: ignore[arg-type]
        return trainer.fit(
            X_train,
            y_train,
            X_test,
            y_test,
            **fit_kwargs,
            permutation=order,
            before_step=torch_before_step,
            scheduler=scheduler,
        )

    pair = TrainingPair(scratch_net, torch_net, scratch_fit, torch_fit)
    return pair


@dataclass
class ControlledTrajectoryCase(TrajectoryCase):
    """A trajectory case for a chaotic run: the twins are held to a per-step control envelope.

    Chapter 4's MNIST runs over many epochs and chapter 5's CNN (lr 0.1, momentum 0.9) amplify
    rounding: one ulp grows e-fold every 2-7 steps until two runs of the *same* twin differ at
    O(1), so no fixed tolerance holds to the end. A control is the scratch twin trained again with
    every parameter moved one ulp (random sign, ``ulp_noise_hook``) before *every* step: fresh
    noise at every step, as the twins' own rounding differences enter at every step (a nudge of
    the initial weights alone models none of the later ones). Each step's loss, each evaluation
    loss and each parameter after every epoch must satisfy ``|a - b| <= atol + rtol |b| + K D[t]``,
    ``D[t]`` the largest deviation from the plain scratch run up to ``t`` of ``CONTROL_RUNS``
    controls (``control_drift``; parameters: the tensor's max-abs deviation per epoch). A running
    max, not the value at ``t``: a loss difference is the weight difference projected on one
    batch's gradient and passes near zero by chance. ``D`` is ~1e-16 in the first steps, so a bug
    that acts early is caught there. Learning rates are not chaotic: fixed tolerance. Runs that
    early stopping ended at different epochs are compared over the epochs all ran.

    Measured with ``factor_needed`` (the least K a loss row passes with; float64, packaged
    MNIST, seed 20190119, 50 epochs). With one control the twins needed up to 134 (exponential
    decay, torch conventions), 36, 22 and 7 (the 50-step CNN); but so did the control itself: a
    second control, differing only in its noise seed, needed up to 191 against the first. The
    twins' rounding behaves like another noise stream, and the ratio of two random projections
    has a heavy (Cauchy-like) tail. Against the larger drift of two controls the tail shrinks: a
    third control needed at most 41 (30 triples); over the 18 full chapter 4 runs (both
    conventions) the twins needed median 1.5, at most 48 (``glorot_linear``, torch; its twins and
    controls leave the fixed tolerance at steps 140 and 158: noise), the CNN epoch 0.14. Hence
    ``CONTROL_RUNS = 2`` and ``K = CONTROL_FACTOR = 200``, 4x the largest need seen, the same for
    every case. K costs little power: ``D`` grows e-fold every 2-7 steps, so doubling K moves the
    step where the envelope grows vacuous by 1-5 steps, and ``D`` is ~1e-16 at the start. A pair
    whose ``scratch_fit`` ignores ``TrainingPair.scratch_noise`` gets ``D = 0``: the fixed tolerance.
    """

    def control_runs(self, dtype: str, device: str, seed: int) -> list[tuple[History, dict[str, np.ndarray]]]:
        runs = []
        for stream in range(CONTROL_RUNS):
            pair = self.build(np.random.default_rng(seed))
            pair.scratch_net.to(np_dtype(dtype))
            pair.scratch_noise = ulp_noise_hook(pair.scratch_net, seed, stream)
            history = pair.scratch_fit(dtype, device)
            runs.append((history, stacked_params(history, pair.scratch_net.state_dict())))
        return runs
