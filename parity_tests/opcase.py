"""Operator cases: state_dict bijection, forward, random-upstream backward, finite differences.

A case builds a ``TwinPair`` (the scratch and torch sides behind one small interface), feeds
both the same inputs, and emits one row per check:

1. ``state_dict``: scratch parameters copied into the torch twin; the key sets and shapes must be
   equal and reading them back must give the same bits (every parameter written and read once).
2. ``forward``: the outputs.
3. ``grad_<input>`` / ``grad_<param>``: backward of a random upstream gradient ``v`` (never ones:
   a sum hides transposes and softmax errors) against autograd.
4. ``finite_difference`` (float64, CPU only): ``<u, J^T v>`` from the scratch backward against
   the central difference of ``<v, f>`` along unit directions ``u`` (every axis of a small
   tensor, random ones for a large tensor), with an error bar measured from two step sizes, for
   every differentiable input and every parameter (``parity_tests.oracle``). This oracle knows
   nothing of torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from parity_tests import oracle
from parity_tests.harness import Comparison, RowLog, Tolerance, compare, np_dtype, tolerance_for

Array = npt.NDArray[Any]
Row = dict[str, Any]


@dataclass(frozen=True)
class InputSpec:
    """How to draw one input.

    kind: ``normal`` (standard normal), ``positive`` (uniform in [0.5, 2]), ``uniform`` (in
    [-1, 1]), ``onehot`` (one-hot rows over the last axis), ``indices`` (int64 class indices in
    ``[0, classes)``), ``probs`` (rows of a softmax: positive, summing to one).
    Integer and one-hot inputs are never differentiated.
    """

    shape: tuple[int, ...]
    kind: str = "normal"
    differentiable: bool = True
    classes: int = 0

    def draw(self, rng: np.random.Generator) -> Array:
        if self.kind == "normal":
            return rng.standard_normal(self.shape)
        if self.kind == "positive":
            return rng.uniform(0.5, 2.0, self.shape)
        if self.kind == "uniform":
            return rng.uniform(-1.0, 1.0, self.shape)
        if self.kind == "probs":
            z = rng.standard_normal(self.shape)
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        if self.kind == "indices":
            return rng.integers(0, self.classes, self.shape).astype(np.int64)
        if self.kind == "onehot":
            idx = rng.integers(0, self.shape[-1], self.shape[:-1])
            return np.eye(self.shape[-1])[idx]
        raise ValueError(f"unknown input kind {self.kind!r}")

    @property
    def grad(self) -> bool:
        return self.differentiable and self.kind not in ("indices", "onehot")


@dataclass
class TwinPair:
    """The two sides of a case behind one interface.

    ``scratch_backward(v)`` runs after ``scratch_forward`` and returns gradients keyed by the names
    of the differentiable inputs and of the scratch module's parameters. ``fd_forward``, when
    given, is the function whose derivative the scratch gradients are (the finite-difference
    oracle's objective) where that is not ``scratch_forward`` itself: a state carried in from an
    earlier batch held fixed, or a loss whose gradient is by design that of another value.
    """

    scratch_forward: Callable[[dict[str, Array]], Array]
    scratch_backward: Callable[[Array], Mapping[str, Array]]
    torch_forward: Callable[[dict[str, torch.Tensor]], torch.Tensor]
    scratch_module: Any = None
    torch_module: torch.nn.Module | None = None
    fd_forward: Callable[[dict[str, Array]], Array] | None = None


def module_pair(scratch: Any, torch_module: torch.nn.Module, input_name: str = "input") -> TwinPair:
    """The usual pair: a scratch ``forward``/``backward``/``grads`` object and an ``nn.Module``."""

    def backward(v: Array) -> dict[str, Array]:
        grad_input = scratch.backward(v)
        return {input_name: grad_input, **scratch.grads}

    return TwinPair(
        scratch_forward=lambda ins: scratch.forward(ins[input_name]),
        scratch_backward=backward,
        torch_forward=lambda ins: torch_module(ins[input_name]),
        scratch_module=scratch,
        torch_module=torch_module,
    )


def grad_check_name(name: str) -> str:
    return f"grad_{name}"


def dtype_failure(value: Any, dt: np.dtype[Any]) -> Comparison | None:
    """A failed ``Comparison`` when a scratch array is not in the case's dtype, else ``None``.

    A silent float64 upcast would let a float32 row pass for the wrong reason. 0-d values are
    exempt: a loss is returned as a Python float, computed in the case's dtype.
    """
    arr = np.asarray(value)
    if arr.ndim > 0 and arr.dtype != dt:
        return Comparison.failure(f"scratch array has dtype {arr.dtype}, but the case runs in {dt}")
    return None


#: The tolerance of the state-dict copy: the bits must survive the round trip unchanged.
EXACT = Tolerance(0.0, 0.0, "exact copy: scratch -> torch -> numpy moves bits, no arithmetic")


def copy_state(scratch_module: Any, torch_module: torch.nn.Module) -> Comparison:
    """Copy scratch -> torch and check the mapping is a bijection that moves exact bits.

    The key sets and every shape must be equal (else a failed ``Comparison`` naming the
    difference, and nothing is copied); after ``load_state_dict(strict=True)`` the torch state
    read back must equal the scratch state bit for bit (compared under ``EXACT``).
    """
    src = scratch_module.state_dict()
    dst = torch_module.state_dict()
    if set(src) != set(dst):
        only_s, only_t = sorted(set(src) - set(dst)), sorted(set(dst) - set(src))
        return Comparison.failure(f"keys differ: scratch-only {only_s}, torch-only {only_t}")
    for k in src:
        if tuple(src[k].shape) != tuple(dst[k].shape):
            return Comparison.failure(f"{k}: {src[k].shape} vs {tuple(dst[k].shape)}", k)
    device = next(iter(dst.values())).device if dst else "cpu"
    torch_module.load_state_dict({k: torch.tensor(v, device=device) for k, v in src.items()}, strict=True)
    back = {k: t.detach().cpu().numpy() for k, t in torch_module.state_dict().items()}
    flat_s = np.concatenate([src[k].ravel() for k in sorted(src)]) if src else np.zeros(0)
    flat_t = np.concatenate([back[k].ravel() for k in sorted(src)]) if src else np.zeros(0)
    return compare(flat_s, flat_t, EXACT)


@dataclass
class OpCase:
    """A registry case for one component in one configuration.

    Args:
        name: unique case id, e.g. ``dense_sigmoid``.
        component: the public class or function name shared by both twins, e.g. ``Dense``.
        stem: the module stem in both twins, e.g. ``layers``.
        chapter: the book chapter (also the pytest marker ``chN``).
        op_class: tolerance class (see ``parity_tests.harness.TOLERANCES``).
        inputs: name -> ``InputSpec``; drawn in this order from the case's generator.
        build: ``rng -> TwinPair``; build the scratch side from ``rng``, the torch side bare
            (its parameters are copied from the scratch side).
        tolerances: per-dtype overrides, each a ``Tolerance`` with its own reason.
        fd: run the finite-difference oracle (off only where the function is not differentiable).
    """

    name: str
    component: str
    stem: str
    chapter: int
    op_class: str
    inputs: dict[str, InputSpec]
    build: Callable[[np.random.Generator], TwinPair]
    tolerances: dict[str, Tolerance] = field(default_factory=dict)
    fd: bool = True

    def tolerance(self, dtype: str) -> Tolerance:
        return self.tolerances.get(dtype) or tolerance_for(dtype, self.op_class)

    def run(self, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> list[Row]:
        """Run every check of this case and return its rows."""
        dt = np_dtype(dtype)
        tdt = getattr(torch, dtype)
        rng = np.random.default_rng(seed)
        pair = self.build(rng)
        raw = {n: spec.draw(rng) for n, spec in self.inputs.items()}
        inputs = {n: (a.astype(dt) if a.dtype.kind == "f" else a) for n, a in raw.items()}
        shapes = " ".join(f"{n}{tuple(a.shape)}" for n, a in inputs.items())
        tol = self.tolerance(dtype)
        log = RowLog(self, seed, dtype, device, shapes)

        def row(check: str, target: str, comp: Comparison, t: Tolerance = tol) -> None:
            log.add(check, target, comp, t)

        if pair.scratch_module is not None:
            pair.scratch_module.to(dt)
        if pair.torch_module is not None:
            pair.torch_module.to(device=device, dtype=tdt)
        if pair.torch_module is not None and pair.scratch_module is not None:
            if pair.scratch_module.state_dict() or pair.torch_module.state_dict():
                row("state_dict", "parameters", copy_state(pair.scratch_module, pair.torch_module), EXACT)

        t_inputs = {
            n: torch.tensor(a, device=device, requires_grad=self.inputs[n].grad and a.dtype.kind == "f")
            for n, a in inputs.items()
        }
        out_s = pair.scratch_forward(inputs)
        out_t = pair.torch_forward(t_inputs)
        row("forward", "output", dtype_failure(out_s, dt) or compare(out_s, out_t.detach().cpu().numpy(), tol))

        v = rng.standard_normal(np.shape(out_s)).astype(dt)  # random upstream gradient
        grads_s = pair.scratch_backward(v)
        out_t.backward(torch.tensor(v, device=device))
        for n, t in t_inputs.items():
            if t.requires_grad:
                ref = t.grad.cpu().numpy() if t.grad is not None else np.zeros(t.shape)
                row(grad_check_name(n), n, self._grad_comparison(grads_s, n, ref, tol, dt))
        if pair.torch_module is not None:
            for n, p in pair.torch_module.named_parameters():
                ref = p.grad.cpu().numpy() if p.grad is not None else np.zeros(tuple(p.shape))
                row(grad_check_name(n), n, self._grad_comparison(grads_s, n, ref, tol, dt))

        if self.fd and dtype == "float64" and device == "cpu":
            for target, (comp, fd_tol) in self._finite_differences(pair, inputs, v, grads_s, rng).items():
                row("finite_difference", target, comp, fd_tol)
        return log.rows

    @staticmethod
    def _grad_comparison(
        grads: Mapping[str, Array], name: str, ref: Array, tol: Tolerance, dt: np.dtype[Any]
    ) -> Comparison:
        if name not in grads:
            return Comparison.failure(f"scratch wrote no gradient for {name!r}")
        return dtype_failure(grads[name], dt) or compare(grads[name], ref, tol)

    def _finite_differences(
        self,
        pair: TwinPair,
        inputs: dict[str, Array],
        v: Array,
        grads: Mapping[str, Array],
        rng: np.random.Generator,
    ) -> dict[str, tuple[Comparison, Tolerance]]:
        """The oracle's comparison per differentiable input and parameter (see ``parity_tests.oracle``)."""
        forward = pair.fd_forward or pair.scratch_forward
        magnitude = float(np.sum(np.abs(v * forward(inputs))))
        out: dict[str, tuple[Comparison, Tolerance]] = {}

        def check(name: str, x: Array, objective: Callable[[Array], float]) -> None:
            if name not in grads:
                out[name] = (Comparison.failure(f"scratch wrote no gradient for {name!r}"), oracle.fail_tolerance())
                return
            if np.shape(grads[name]) != x.shape:
                note = f"gradient of {name!r} has shape {np.shape(grads[name])}, expected {x.shape}"
                out[name] = (Comparison.failure(note), oracle.fail_tolerance())
                return
            dirs = oracle.directions(x.shape, rng)
            analytic = dirs.reshape(len(dirs), -1) @ np.asarray(grads[name], dtype=np.float64).ravel()
            out[name] = oracle.judge(analytic, oracle.central_differences(objective, x, dirs, magnitude))

        for n, spec in self.inputs.items():
            if spec.grad:

                def of_input(x: Array, n: str = n) -> float:
                    return float(np.sum(v * forward({**inputs, n: x})))

                check(n, inputs[n], of_input)
        if pair.scratch_module is not None:
            for n, p in pair.scratch_module.named_parameters():
                original = p.data

                def objective(x: Array, p: Any = p) -> float:
                    p.data = x
                    return float(np.sum(v * forward(inputs)))

                try:
                    check(n, original, objective)
                finally:
                    p.data = original
        return out
