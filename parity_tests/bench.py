"""Speed of the twins: forward, backward and forward+backward of each operator case.

Both sides run the same case (``OpCase.build`` and ``OpCase.inputs``), in the same dtype, under
the same thread count: ``threadpoolctl.threadpool_limits`` pins the BLAS/OpenMP pools numpy uses
and ``torch.set_num_threads`` torch's intra-op pool. Each phase is warmed up, then both sides are
timed with ``timeit.Timer`` (garbage collector off) in alternating blocks of repeated calls (each
about a fifth of ``min_time``, sized from the warm-up; ``bench_limits.time_interleaved``) until
each side has spent ``min_time`` seconds in at least five blocks; we report the median and the
inter-quartile range of the per-call block times and the ratio scratch/torch of the medians
(> 1: scratch is slower). Alternating the sides, rather than timing all of one then all of the
other, puts the load of other processes on both alike. ``noisy`` flags rows whose timings look
like load from other processes.

These are the registry's test shapes, where Python overhead dominates; the book's sizes are
``parity_tests/bench_book.py`` (``dlfs-parity bench book``) and whole training steps and epochs
``parity_tests/bench_models.py`` (``dlfs-parity bench models``).

Phases: ``forward`` (the torch side builds its autograd graph, as scratch caches for backward),
``backward`` (one upstream gradient pushed back through the cached forward; torch through
``autograd.grad(..., retain_graph=True)``) and ``forward_backward``.

Case modules may define ``BENCH = [OpCase, ...]`` with larger, benchmark-only shapes; ``bench
NAMES`` selects from ``CASES + BENCH``. Benchmarks are not tests: nothing asserts a time.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

import parity_tests.cases
from parity_tests.bench_limits import time_interleaved
from parity_tests.harness import np_dtype, versions
from parity_tests.opcase import OpCase
from parity_tests.registry import all_cases, select
from parity_tests.textui import fmt_ratio, fmt_seconds, text_table

PHASES = ("forward", "backward", "forward_backward")
NOISE_FACTOR = 3.0  # ``noisy``: how far past the scaling bound a median must be to flag its row
COLUMNS = [
    "case",
    "component",
    "stem",
    "chapter",
    "shapes",
    "dtype",
    "threads",
    "phase",
    "scratch_median_s",
    "scratch_iqr_s",
    "torch_median_s",
    "torch_iqr_s",
    "ratio",
    "note",
    "versions",
]


def all_threads() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def bench_pool() -> list[OpCase]:
    """Every operator case of the registry, then every ``BENCH`` case of the case modules."""
    pool = [c for c in all_cases() if isinstance(c, OpCase)]
    for info in sorted(pkgutil.iter_modules(parity_tests.cases.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            pool.extend(getattr(importlib.import_module(f"parity_tests.cases.{info.name}"), "BENCH", []))
    return pool


def select_bench(names: Sequence[str] | None, include_bench: bool = True) -> list[OpCase]:
    """Cases to time: ``names`` as in ``registry.select``, from CASES (+ BENCH)."""
    pool = bench_pool() if include_bench else [c for c in all_cases() if isinstance(c, OpCase)]
    return [c for c in select(names, cases=pool) if isinstance(c, OpCase)]


def one_per_component(cases: Sequence[OpCase]) -> list[OpCase]:
    """The first case of each ``stem.Component`` (the quick benchmark of the quick report)."""
    first: dict[tuple[str, str], OpCase] = {}
    for case in cases:
        first.setdefault((case.stem, case.component), case)
    return list(first.values())


def timed_callables(case: OpCase, dtype: str, seed: int = 0) -> tuple[dict[str, Callable[[], object]], str]:
    """The six timed closures (``scratch_forward`` ... ``torch_forward_backward``) and the shapes."""
    dt = np_dtype(dtype)
    rng = np.random.default_rng(seed)
    pair = case.build(rng)
    raw = {n: spec.draw(rng) for n, spec in case.inputs.items()}
    inputs = {n: (a.astype(dt) if a.dtype.kind == "f" else a) for n, a in raw.items()}
    shapes = " ".join(f"{n}{tuple(a.shape)}" for n, a in inputs.items())
    module = pair.torch_module
    if pair.scratch_module is not None:
        pair.scratch_module.to(dt)
    if module is not None:
        module.to(dtype=getattr(torch, dtype))
        if pair.scratch_module is not None and pair.scratch_module.state_dict():
            module.load_state_dict({k: torch.tensor(v) for k, v in pair.scratch_module.state_dict().items()})
    t_inputs = {
        n: torch.tensor(a, requires_grad=case.inputs[n].grad and a.dtype.kind == "f") for n, a in inputs.items()
    }
    leaves = [t for t in t_inputs.values() if t.requires_grad]
    leaves += [p for p in module.parameters() if p.requires_grad] if module is not None else []
    v = rng.standard_normal(np.shape(pair.scratch_forward(inputs))).astype(dt)
    v_t = torch.tensor(v)
    graph = {"out": pair.torch_forward(t_inputs)}

    def scratch_forward_backward() -> object:
        pair.scratch_forward(inputs)
        return pair.scratch_backward(v)

    def torch_backward() -> object:
        return torch.autograd.grad(graph["out"], leaves, v_t, retain_graph=True)

    def torch_forward_backward() -> object:
        return torch.autograd.grad(pair.torch_forward(t_inputs), leaves, v_t)

    fns: dict[str, Callable[[], object]] = {
        "scratch_forward": lambda: pair.scratch_forward(inputs),
        "scratch_backward": lambda: pair.scratch_backward(v),
        "scratch_forward_backward": scratch_forward_backward,
        "torch_forward": lambda: pair.torch_forward(t_inputs),
    }
    if leaves:  # nothing to differentiate: only the forward is timed
        fns["torch_backward"] = torch_backward
        fns["torch_forward_backward"] = torch_forward_backward
    return fns, shapes


def time_call(fn: Callable[[], object], threads: int, min_time: float) -> tuple[float, float]:
    """Median and IQR (seconds per call) of one callable (``bench_limits.time_interleaved`` of one)."""
    return time_interleaved({"fn": fn}, threads, min_time)["fn"]


def bench_case(
    case: OpCase,
    dtype: str = "float64",
    threads: Sequence[int] = (1,),
    min_time: float = 0.1,
    phases: Sequence[str] = PHASES,
) -> list[dict[str, Any]]:
    """One row per thread count x phase (columns ``COLUMNS``)."""
    rows: list[dict[str, Any]] = []
    try:
        fns, shapes = timed_callables(case, dtype)
    except Exception as exc:  # a broken case is reported, not fatal to the whole benchmark
        fns, shapes, note = {}, "", f"setup raised {type(exc).__name__}: {exc}"
    else:
        note = ""
    for n in threads:
        for phase in phases:
            row_note = note
            sides = {side: fns[f"{side}_{phase}"] for side in ("scratch", "torch") if f"{side}_{phase}" in fns}
            try:  # both sides in alternating blocks: load from other processes falls on both alike
                t = time_interleaved(sides, n, min_time)
            except Exception as exc:
                t = {}
                row_note = row_note or f"{phase} raised {type(exc).__name__}: {exc}"
            t = {side: t.get(side, (np.nan, np.nan)) for side in ("scratch", "torch")}
            rows.append(
                {
                    "case": case.name,
                    "component": case.component,
                    "stem": case.stem,
                    "chapter": case.chapter,
                    "shapes": shapes,
                    "dtype": dtype,
                    "threads": n,
                    "phase": phase,
                    "scratch_median_s": t["scratch"][0],
                    "scratch_iqr_s": t["scratch"][1],
                    "torch_median_s": t["torch"][0],
                    "torch_iqr_s": t["torch"][1],
                    "ratio": t["scratch"][0] / t["torch"][0] if t["torch"][0] > 0 else np.nan,
                    "note": row_note,
                    "versions": versions(),
                }
            )
    return rows


def run_bench(
    cases: Sequence[OpCase],
    dtype: str = "float64",
    threads: Sequence[int] | None = None,
    min_time: float = 0.1,
    progress: Callable[[int, int, str], None] | None = None,
    phases: Sequence[str] = PHASES,
) -> pd.DataFrame:
    """Time every case at each thread count (default: 1 and all cores), in each of ``phases``."""
    counts = sorted({1, all_threads()}) if threads is None else list(threads)
    rows: list[dict[str, Any]] = []
    previous = torch.get_num_threads()
    try:
        for i, case in enumerate(cases):
            if progress is not None:
                progress(i, len(cases), case.name)
            rows.extend(bench_case(case, dtype, counts, min_time, phases))
    finally:
        torch.set_num_threads(previous)
    if progress is not None:
        progress(len(cases), len(cases), "done")
    return pd.DataFrame(rows, columns=COLUMNS)


def noisy(df: pd.DataFrame) -> pd.Series:
    """Rows whose timings look like load from other processes rather than the code (bool, by row).

    A row is flagged when, on either side, the IQR of its blocks is larger than their median, or
    its median is more than ``NOISE_FACTOR`` times what another thread count of the same case,
    dtype and phase allows: at most the same time with more threads, at most ``n'/n`` times
    slower with ``n < n'`` threads (perfect scaling). On a quiet machine neither happens; on a
    shared one a block that waited for a core inflates one median (a 30 ms torch time for a
    microsecond op reads as a 0.01x ratio).
    """
    flags = np.zeros(len(df), dtype=bool)
    threads = df["threads"].to_numpy(dtype=float)
    groups = [np.asarray(rows) for rows in df.groupby(["case", "dtype", "phase"], sort=False).indices.values()]
    for side in ("scratch", "torch"):
        median = df[f"{side}_median_s"].to_numpy(dtype=float)
        flags |= df[f"{side}_iqr_s"].to_numpy(dtype=float) > median
        for rows in groups:  # positions of one case x dtype x phase, one per thread count
            n, m = threads[rows], median[rows]
            allowed = m[None, :] * np.maximum(1.0, n[None, :] / n[:, None])  # [row, other]: the bound other sets
            np.fill_diagonal(allowed, np.inf)
            flags[rows] |= (m[:, None] > NOISE_FACTOR * allowed).any(axis=1)
    return pd.Series(flags, index=df.index)


def bench_table(df: pd.DataFrame) -> str:
    """Readable timings: median +- IQR of each side and the ratio scratch/torch."""

    def cell(median: Any, iqr: Any) -> str:
        return f"{fmt_seconds(median)} ± {fmt_seconds(iqr)}" if np.isfinite(float(median)) else "-"

    body = [
        [
            r.case,
            r.threads,
            r.phase,
            cell(r.scratch_median_s, r.scratch_iqr_s),
            cell(r.torch_median_s, r.torch_iqr_s),
            fmt_ratio(r.ratio),
        ]
        for r in df.itertuples()
    ]
    return text_table(["case", "threads", "phase", "scratch (median ± IQR)", "torch (median ± IQR)", "ratio"], body)
