"""The one registry of cases. Tests, the CLI and the report all read it.

Each module in ``parity_tests/cases/`` defines ``CASES``: a list of objects with ``name``,
``component``, ``stem``, ``chapter`` and ``run(dtype, device, seed) -> list[row]`` (``OpCase`` for
operators, trajectory cases for training runs). ``all_cases()`` gathers them in module order.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, Protocol

import pandas as pd

import parity_tests.cases


class Case(Protocol):
    name: str
    component: str
    stem: str
    chapter: int

    def run(self, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> list[dict[str, Any]]: ...


class SelectionError(ValueError):
    """A selection of cases that cannot run as asked (unknown name, bad seed): a usage error."""


class UnknownComponentError(SelectionError):
    """A name given on the command line matches no case, component, stem or chapter."""


class BadSeedError(SelectionError):
    """A seed or seed count that no generator takes (negative, or a count below 1)."""


def seed_list(seed: int = 0, count: int = 1) -> list[int]:
    """The seeds ``seed, seed + 1, ..., seed + count - 1``; raises ``BadSeedError`` naming a bad value."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise BadSeedError(f"seed must be an integer >= 0, got {seed!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise BadSeedError(f"the number of seeds must be an integer >= 1, got {count!r}")
    return list(range(seed, seed + count))


#: Seeds every ``assert_case_passes`` runs (pytest's ``--seeds N`` sets them once, at start-up).
_suite_seeds: tuple[int, ...] = (0,)


def set_suite_seeds(count: int) -> None:
    """Make the suite's case tests run seeds ``0..count-1`` (called once by ``conftest.py``)."""
    global _suite_seeds
    _suite_seeds = tuple(seed_list(0, count))


def suite_seeds() -> tuple[int, ...]:
    """The seeds the suite's case tests run (``(0,)`` unless pytest got ``--seeds``)."""
    return _suite_seeds


@lru_cache(maxsize=1)
def all_cases() -> tuple[Case, ...]:
    """Every registered case, from every module of ``parity_tests.cases``; names are unique."""
    cases: list[Case] = []
    for info in sorted(pkgutil.iter_modules(parity_tests.cases.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"parity_tests.cases.{info.name}")
        cases.extend(getattr(module, "CASES", []))
    names = [c.name for c in cases]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RuntimeError(f"duplicate case names in the registry: {dupes}")
    return tuple(cases)


def qualified(case: Case) -> str:
    """``stem.Component``: the name of the pair in both twins (``layers.Dense``)."""
    return f"{case.stem}.{case.component}"


def select(names: Sequence[str] | None = None, cases: Iterable[Case] | None = None) -> list[Case]:
    """Cases matching any of ``names``: a case name, component, ``stem.Component``, stem or ``chN``.

    Raises ``UnknownComponentError`` naming every name that matches nothing.
    """
    pool = list(all_cases() if cases is None else cases)
    if not names:
        return pool

    def keys(c: Case) -> set[str]:
        return {c.name, c.component, qualified(c), c.stem, f"ch{c.chapter}"}

    unknown = [n for n in names if not any(n in keys(c) for c in pool)]
    if unknown:
        known = sorted({qualified(c) for c in pool})
        raise UnknownComponentError(f"unknown component(s) {unknown}; known: {', '.join(known)}")
    return [c for c in pool if keys(c) & set(names)]


def devices() -> list[str]:
    """``cpu``, plus ``cuda`` when a GPU is present (set up for reproducible float32: TF32 off)."""
    import torch

    if not torch.cuda.is_available():
        return ["cpu"]
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return ["cpu", "cuda"]


def run_cases(
    cases: Sequence[Case],
    dtypes: Sequence[str] = ("float64", "float32"),
    device_list: Sequence[str] = ("cpu",),
    seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """Run cases x dtypes x devices; return all rows as a DataFrame (columns of ``make_row``).

    Torch's deterministic-algorithms flag is on while the cases run and restored afterwards.
    """
    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    previous = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    torch.use_deterministic_algorithms(True)  # the gate's kernels; restored so later timings run the usual ones
    rows: list[dict[str, Any]] = []
    jobs = [(c, d, dev) for c in cases for dev in device_list for d in dtypes]
    try:
        for i, (case, dtype, device) in enumerate(jobs):
            if progress is not None:
                progress(i, len(jobs), f"{case.name} {dtype} {device}")
            rows.extend(case.run(dtype=dtype, device=device, seed=seed))
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
    if progress is not None:
        progress(len(jobs), len(jobs), "done")
    return pd.DataFrame(rows)


def failure_table(rows: Iterable[dict[str, Any]]) -> str:
    """A readable table of the failing rows, for assertion messages and the CLI."""
    bad = [r for r in rows if not r["passed"]]
    lines = [
        f"{r['case']} {r['dtype']} {r['device']} {r['check']}[{r['target']}]: budget {r['budget_used']:.3g} "
        f"at {r['worst_index']} scratch={r['scratch_value']!r} torch={r['torch_value']!r} {r['note']}"
        for r in bad
    ]
    return "\n".join(lines)


def case_params(stem: str) -> list[Any]:
    """``pytest.param`` per case of ``stem``, id = case name, marked ``chN`` for its chapter."""
    import pytest

    return [
        pytest.param(c, id=c.name, marks=getattr(pytest.mark, f"ch{c.chapter}")) for c in all_cases() if c.stem == stem
    ]


def assert_case_passes(case: Case, dtype: str, device: str = "cpu") -> None:
    """Run a case over the suite's seeds; fail with the table of its failing rows, if any."""
    for seed in suite_seeds():
        rows = case.run(dtype=dtype, device=device, seed=seed)
        assert rows, f"{case.name} produced no rows"
        failing = failure_table(rows)
        assert not failing, f"{case.name} ({dtype}, seed {seed}) failed:\n{failing}"
