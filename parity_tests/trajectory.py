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
   restore an earlier model), stacked on axis 0.

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

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from parity_tests.data import Split, as_dtype
from parity_tests.harness import Comparison, Tolerance, compare, make_row, np_dtype, tolerance_for
from parity_tests.opcase import EXACT, copy_state
from scratch.trainer import BeforeStep, History, Permutation, seeded_permutation

Row = dict[str, Any]
#: ``(dtype, device) -> History``: trains the side's network in place.
FitFn = Callable[[str, str], History]


@dataclass
class TrainingPair:
    """Two networks of the same architecture and how to train each (see the module docstring).

    ``scratch_net`` is a scratch ``Module`` with its initial weights; ``torch_net`` an
    ``nn.Module`` whose weights are overwritten by the scratch ones before training.
    """

    scratch_net: Any
    torch_net: torch.nn.Module
    scratch_fit: FitFn
    torch_fit: FitFn


@dataclass
class TrajectoryResult:
    """The rows, both histories, and the trained pair (for test metrics)."""

    rows: list[Row]
    scratch: History
    torch: History
    pair: TrainingPair


def stacked_params(history: History, final: dict[str, Any]) -> dict[str, np.ndarray]:
    """Each parameter's values after every epoch and at the end, stacked: ``(epochs + 1, *shape)``."""
    snapshots = [*history.epoch_params, final]
    return {k: np.stack([np.asarray(s[k], dtype=np.float64) for s in snapshots]) for k in final}


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
            rows.append(
                make_row(
                    case=self,
                    seed=seed,
                    dtype=dtype,
                    device=device,
                    check=check,
                    target=target,
                    comparison=comp,
                    tol=t,
                    shapes=shapes,
                )
            )

        row("state_dict", "parameters", copy_state(pair.scratch_net, pair.torch_net), EXACT)
        hist_s = pair.scratch_fit(dtype, device)
        hist_t = pair.torch_fit(dtype, device)
        row("trajectory", "loss", compare(hist_s.step_losses, hist_t.step_losses, tol))
        row("trajectory", "eval_loss", compare(hist_s.eval_losses, hist_t.eval_losses, tol))
        row("trajectory", "lr", compare(hist_s.lrs, hist_t.lrs, tol))  # the rate each epoch trained with
        params_s = stacked_params(hist_s, pair.scratch_net.state_dict())
        final_t = {k: v.detach().cpu().numpy() for k, v in pair.torch_net.state_dict().items()}
        params_t = stacked_params(hist_t, final_t)
        for name in params_s:
            comp = compare(params_s[name], params_t[name], tol) if name in params_t else Comparison.failure("no twin")
            row("trajectory", name, comp)
        return TrajectoryResult(rows, hist_s, hist_t, pair)

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
            before_step=scratch_before_step,
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

    return TrainingPair(scratch_net, torch_net, scratch_fit, torch_fit)
