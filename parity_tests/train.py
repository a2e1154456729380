"""``dlfs-parity train NAME``: run one experiment of ``parity_tests.experiments`` from the CLI.

Every experiment gets its own argument parser (its ``add_arguments`` plus ``--quick``), so
``dlfs-parity train boston --help`` lists that experiment's options. The report builds the same
parser to run each experiment with its defaults.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import pandas as pd

from parity_tests.experiments import Experiment, ExperimentResult, all_experiments
from parity_tests.options import OneLineParser
from parity_tests.registry import UnknownComponentError
from parity_tests.summary import case_table, totals_line


def experiment_parser(exp: Experiment) -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=f"dlfs-parity train {exp.name}", description=f"Chapter {exp.chapter}: {exp.description}"
    )
    exp.add_arguments(parser)
    try:
        parser.add_argument("--quick", action="store_true", help="a short run (CI, the quick report)")
    except argparse.ArgumentError:  # the experiment defined its own --quick
        pass
    try:  # every experiment takes --book; those without their own already run the book's protocol
        parser.add_argument(
            "--book", action="store_true", help="book mode: this experiment already follows the book's protocol"
        )
    except argparse.ArgumentError:  # the experiment's own --book (its book mode differs from its default)
        pass
    return parser


def get_experiment(name: str) -> Experiment:
    found = all_experiments()
    if name not in found:
        known = ", ".join(sorted(found)) or "none yet"
        raise UnknownComponentError(f"unknown experiment {name!r}; known: {known}")
    return found[name]


def run_experiment(exp: Experiment, argv: Sequence[str] = ()) -> ExperimentResult:
    """Parse ``argv`` with the experiment's parser, check the options together, and run it.

    A bad option stops here with one line on stderr and ``SystemExit(2)``, before any training.
    """
    parser = experiment_parser(exp)
    args = parser.parse_args(list(argv))
    problem = exp.check_arguments(args) if exp.check_arguments is not None else None
    if problem:
        parser.error(problem)
    return exp.run(args)


def result_text(result: ExperimentResult) -> str:
    """The results table beside the book's figures, then the trajectory parity summary and notes."""
    parts = [f"== {result.name} ==", result.table.to_string(index=False)]
    if result.rows:
        rows = pd.DataFrame(result.rows)
        parts += ["", f"Training-run parity: {totals_line(rows)}", case_table(rows)]
    if result.text:
        parts += ["", result.text.strip()]
    return "\n".join(parts)


def result_passed(result: ExperimentResult) -> bool:
    return all(bool(r["passed"]) for r in result.rows)
