"""Training experiments (``dlfs-parity train NAME``) and their report sections.

Each module here defines:

- ``NAME``: the CLI name (``boston``, ``mnist``, ``cnn``, ``charlm``); ``CHAPTER``; ``DESCRIPTION``.
- ``add_arguments(parser)``: its CLI options (``--quick`` is added for every experiment).
- ``run(args) -> ExperimentResult``: trains both twins and returns the results.
- optionally ``check_arguments(args) -> str | None``: a problem with the options taken together
  (one option checks itself with its ``type=``), returned as a one-line message; ``None`` if fine.

The CLI prints ``ExperimentResult.table`` and the parity summary; the report writes the table,
plots the curves and appends the trajectory rows to the result rows.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd


@dataclass
class ExperimentResult:
    """What one experiment produced.

    Attributes:
        name: the experiment's ``NAME``.
        table: results beside the book's figures (one row per model / variant).
        curves: ``{run label: {"scratch": losses per step, "torch": losses per step}}``.
        rows: trajectory parity rows (``parity_tests.harness.make_row`` format).
        text: notes for the reader (data caveats, sample text, ...), markdown.
        figures: the experiment's own pictures, ``{title: draw}``; ``draw(path)`` writes a PNG at
            ``path`` and returns it (the report calls it with a path in its folder).
    """

    name: str
    table: pd.DataFrame
    curves: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""
    figures: dict[str, Callable[[Path], Path]] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    name: str
    chapter: int
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], ExperimentResult]
    check_arguments: Callable[[argparse.Namespace], str | None] | None = None


def _load(module: ModuleType) -> Experiment:
    check = getattr(module, "check_arguments", None)
    return Experiment(module.NAME, module.CHAPTER, module.DESCRIPTION, module.add_arguments, module.run, check)


def all_experiments() -> dict[str, Experiment]:
    """Every experiment module in this package, keyed by ``NAME``."""
    found: dict[str, Experiment] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "NAME"):
            exp = _load(module)
            found[exp.name] = exp
    return found
