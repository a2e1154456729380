"""``dlfs-parity``: list, check, train, mutate, bench, show and report the twins.

Exit codes: 0 everything passed; 1 a parity check failed, a mutant was missed or a training run
diverged; 2 bad usage (unknown component, experiment or device; an option value out of range,
checked by the ``type=`` callables of ``parity_tests/options.py`` before any work starts;
unwritable report folder). A usage error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from parity_tests import options
from parity_tests.data import DataError
from parity_tests.harness import DTYPES
from parity_tests.mutation import Mutant
from parity_tests.registry import (
    SelectionError,
    UnknownComponentError,
    all_cases,
    devices,
    failure_table,
    seed_list,
    select,
)
from parity_tests.summary import case_table, run_all, run_mutants, totals_line
from parity_tests.textui import Progress, text_table

DESCRIPTION = "Deep Learning from Scratch, twice (NumPy and PyTorch): list, check, train, mutate, bench, show, report."
#: ``show --width`` below this many columns cannot fit a line number and a few characters of code.
SHOW_MIN_WIDTH = 20
EPILOG = "Names select cases by case name, component (Dense), stem.Component (layers.Dense), stem or chapter (ch3)."


class UsageError(Exception):
    """Bad input on the command line: printed without a traceback, exit code 2."""


def _dtypes(choice: str) -> tuple[str, ...]:
    return DTYPES if choice == "all" else (choice,)


def _devices(choice: str) -> list[str]:
    available = devices()
    if choice == "all":
        return available
    if choice not in available:
        raise UsageError(f"device {choice!r} is not available here (available: {', '.join(available)})")
    return [choice]


def _write_csv(df: pd.DataFrame, path: str | None) -> None:
    if path is None:
        return
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(path, index=False)
    except OSError as exc:
        raise UsageError(f"cannot write CSV {path}: {exc.strerror or exc}") from exc
    print(f"wrote {path}")


def cmd_list(args: argparse.Namespace) -> int:
    seen: dict[tuple[int, str, str], int] = {}
    for c in all_cases():
        key = (c.chapter, c.stem, c.component)
        seen[key] = seen.get(key, 0) + 1
    body = [
        [f"ch{ch}", f"{stem}.{comp}", n, f"scratch/{stem}.py", f"torch_ref/{stem}.py"]
        for (ch, stem, comp), n in seen.items()
    ]
    print(
        text_table(
            ["chapter", "component", "cases", "scratch twin", "torch twin"], sorted(body, key=lambda r: int(r[0][2:]))
        )
    )
    print(f"\n{len(seen)} components, {len(all_cases())} cases.")
    try:
        from parity_tests.experiments import all_experiments

        names = ", ".join(sorted(all_experiments())) or "none yet"
    except Exception as exc:  # an experiment module that fails to import must not break `list`
        names = f"(could not load: {type(exc).__name__}: {exc})"
    print(f"Experiments (dlfs-parity train NAME): {names}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    seeds = seed_list(args.seed, args.seeds)
    cases = select(args.names)
    device_list = _devices(args.device)
    progress = Progress("check", enabled=sys.stderr.isatty())
    rows = run_all(cases, dtypes=_dtypes(args.dtype), device_list=device_list, seeds=seeds, progress=progress)

    print(case_table(rows))
    print(f"\n{totals_line(rows)}")
    if "float32" in _dtypes(args.dtype):
        from parity_tests.calibration import recorded_floor_line

        print(
            recorded_floor_line() or "float32 detection floor: not recorded (python -m parity_tests.calibration floor)"
        )
    failing = failure_table(rows.to_dict("records"))  # type: ignore[arg-type]
    if failing:
        print(f"\nFailing checks (budget_used > 1 means outside the tolerance):\n{failing}")
    _write_csv(rows, args.csv)
    return 0 if bool(rows["passed"].all()) else 1


def cmd_train(args: argparse.Namespace) -> int:
    from parity_tests.train import get_experiment, result_passed, result_text, run_experiment

    if args.name is None:
        from parity_tests.experiments import all_experiments

        found = all_experiments()
        body = [[name, f"ch{e.chapter}", e.description] for name, e in sorted(found.items())]
        print(text_table(["experiment", "chapter", "description"], body) if body else "No experiments yet.")
        print("\nRun one with: dlfs-parity train NAME [--quick]; options: dlfs-parity train NAME --help")
        return 0
    exp = get_experiment(args.name)
    try:
        result = run_experiment(exp, args.rest)
    except SystemExit as exc:  # the experiment's own parser: --help (0) or a bad option (2, already printed)
        return exc.code if isinstance(exc.code, int) else 2
    print(result_text(result))
    return 0 if result_passed(result) else 1


def select_mutants(names: Sequence[str]) -> list[Mutant]:
    """Mutants named in ``names``, or whose components' cases overlap the cases ``names`` select.

    A name is a mutant's name or anything ``registry.select`` takes (case, component,
    ``stem.Component``, stem, ``chN``); none: every mutant. Raises ``UsageError`` for a name that
    is neither, or when the names match no mutant.
    """
    from parity_tests import mutation

    mutants = mutation.all_mutants()
    if not names:
        return list(mutants)
    mutant_names = {m.name for m in mutants}
    others = [n for n in names if n not in mutant_names]
    try:
        wanted = {c.name for c in select(others)} if others else set()
    except UnknownComponentError as exc:
        unknown = [n for n in others if not _selects(n)]
        raise UsageError(
            f"unknown name(s) {unknown}: not a mutant, case, component, stem.Component, stem or chapter"
            f" (see `dlfs-parity list`); mutants: {', '.join(sorted(mutant_names))}"
        ) from exc
    chosen = [m for m in mutants if m.name in names or _cases_of(m) & wanted]
    if not chosen:
        raise UsageError(f"no mutant covers {list(names)}; mutants: {', '.join(sorted(mutant_names))}")
    return chosen


def _selects(name: str) -> bool:
    try:
        select([name])
    except UnknownComponentError:
        return False
    return True


def _cases_of(mutant: Mutant) -> set[str]:
    """Names of the cases that ``mutation.run_mutant`` runs under ``mutant``."""
    try:
        return {c.name for c in select(list(mutant.components))}
    except UnknownComponentError:
        return set()


def cmd_mutate(args: argparse.Namespace) -> int:
    from parity_tests.mutation import MUTANT_COLUMNS, baseline_failures, outcome_counts

    seed_list(args.seed)
    mutants = select_mutants(args.names)
    problems = baseline_failures(mutants, seed=args.seed)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise UsageError(f"baseline fails: nothing was tested (the unmutated selection fails: {shown})")
    progress = Progress("mutate", enabled=sys.stderr.isatty())
    # A planted bug often makes NaN or overflow: numpy's RuntimeWarnings about it are expected
    # and would bury the table, so they are counted and summed up in one line instead.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        results = run_mutants(mutants, seed=args.seed, progress=progress, first_catch=args.quick)
    numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    for w in caught:
        if not issubclass(w.category, RuntimeWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    body = [
        [
            r.name,
            f"#{r.book_bug}" if r.book_bug else "",
            r.expect,
            r.outcome if r.caught else r.outcome.upper(),
            f"{r.failing_rows}/{r.total_rows}",
            r.evidence or r.description,
        ]
        for r in results
    ]
    print(text_table(["mutant", "book bug", "expect", "outcome", "failing rows", "evidence"], body))
    counts = outcome_counts(results)
    not_caught = [r.name for r in results if not r.caught]
    print(
        f"\n{counts['caught']}/{len(results)} planted bugs caught by the check they declare; "
        f"{counts['crashed']} crashed, {counts['missed']} missed (only a catch by the declared check counts)."
        + (f" Not caught: {', '.join(not_caught)}" if not_caught else "")
    )
    if numeric:
        print(f"({len(numeric)} numpy RuntimeWarnings from the planted bugs were silenced.)")
    frame = pd.DataFrame([r.record() for r in results], columns=list(MUTANT_COLUMNS))
    _write_csv(frame, args.csv)
    return 1 if not_caught else 0


def cmd_bench(args: argparse.Namespace) -> int:
    from parity_tests.bench import bench_table, run_bench, select_bench

    if args.names and args.names[0] in ("book", "models"):  # the book's sizes / whole training (bench_speed)
        from parity_tests import bench_speed

        dtypes = _dtypes(args.dtype or "all")
        try:
            bench_speed.main(args.names[0], args.names[1:], dtypes, args.threads, args.min_time, args.quick, args.csv)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        return 0
    cases = select_bench(args.names)
    progress = Progress("bench", enabled=sys.stderr.isatty())
    frames = [run_bench(cases, d, args.threads, args.min_time, progress) for d in _dtypes(args.dtype or "float64")]
    df = pd.concat(frames, ignore_index=True)
    print(bench_table(df))
    print("\nratio = scratch median / torch median (> 1: the NumPy twin is slower).")
    _write_csv(df, args.csv)
    _conv_summary(df, args.min_time, args.csv)
    return 0


def _conv_summary(df: pd.DataFrame, min_time: float, csv: str | None) -> None:
    """Chapter 5's target when the book's or the deep conv shape was benched (``bench conv``, ``ch5``...).

    Prints the verdicts and the loop slowdown, times the pieces of the worst miss, and with
    ``--csv PATH`` draws the time-versus-batch curve beside it (``PATH``'s stem + ``_batch_curve.png``).
    """
    from parity_tests import bench_conv

    if not bench_conv.has_summary(df):
        return
    miss = bench_conv.worst_miss(bench_conv.summary(df))
    breakdown = bench_conv.breakdown(miss[1], miss[0], miss[2], min_time) if miss else None
    print(f"\n{bench_conv.summary_text(df, breakdown)}")
    if csv is not None:
        path = Path(csv).with_name(f"{Path(csv).stem}_batch_curve.png")
        if bench_conv.plot_batch_curve(bench_conv.batch_curve(df), path) is not None:
            print(f"wrote {path}")


def cmd_show(args: argparse.Namespace) -> int:
    from parity_tests.show import show

    print(show(args.name, width=args.width, figures=not args.no_figures))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from reports.build import ReportError, build_report

    try:
        outcome = build_report(
            args.out,
            quick=args.quick,
            only=args.only,
            experiments=not args.no_experiments,
            mutants=not args.no_mutants,
            bench=not args.no_bench,
            force=args.force,
        )
    except ReportError as exc:
        raise UsageError(str(exc)) from exc
    print(f"wrote {outcome.path}; {outcome.summary}")
    return 0 if outcome.passed else 1


def build_parser() -> argparse.ArgumentParser:
    parser = options.OneLineParser(prog="dlfs-parity", description=DESCRIPTION, epilog=EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="components, chapters and twin paths")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("check", help="parity table of the selected cases (exit 1 on any failure)", epilog=EPILOG)
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--dtype", choices=[*DTYPES, "all"], default="float64", help="default float64 (the gate)")
    p.add_argument("--device", choices=["cpu", "cuda", "all"], default="cpu")
    p.add_argument("--seed", type=options.seed, default=0, help="the first seed of every case's inputs (>= 0)")
    p.add_argument(
        "--seeds", type=options.positive_int, default=1, metavar="N", help="run every case over N seeds from --seed"
    )
    p.add_argument("--csv", metavar="PATH", help="write every result row to PATH")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("train", help="train both twins on a book experiment (no NAME: list them)")
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="the experiment's options, e.g. --quick")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("mutate", help="plant each known bug; exit 0 only when every one is caught")
    p.add_argument("names", nargs="*", metavar="NAME", help="mutant names, or NAMES as for check (default: all)")
    p.add_argument("--seed", type=options.seed, default=0, help="seed of every case's inputs (>= 0)")
    p.add_argument("--quick", action="store_true", help="stop each mutant at the first case that catches it")
    p.add_argument("--csv", metavar="PATH")
    p.set_defaults(func=cmd_mutate)

    bench_epilog = (
        f"{EPILOG} Selecting the conv benchmark shapes (conv, Conv2d, ch5) adds the chapter 5 target."
        " 'bench book [NAME...]': every component family at the book's sizes, with FLOPs, GFLOP/s and"
        " the GEMM peak; 'bench models [NAME...]': one training step and one epoch of each experiment's model."
    )
    p = sub.add_parser("bench", help="forward/backward timings of both twins, ratio scratch/torch", epilog=bench_epilog)
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--dtype", choices=[*DTYPES, "all"], help="default float64; book and models: all")
    p.add_argument("--threads", type=options.positive_int, nargs="+", help="thread counts (default: 1 and all cores)")
    p.add_argument(
        "--min-time", type=options.positive_float, default=0.1, help="seconds of timing per phase and side (> 0)"
    )
    p.add_argument("--csv", metavar="PATH", help="the rows; with the conv shapes also PATH's stem + _batch_curve.png")
    p.add_argument(
        "--quick",
        action="store_true",
        help="book: 10 ms timing blocks; models: 3-step epochs, a hidden-16 char model (CI)",
    )
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("show", help="the two twins' source side by side, with the parity figures", epilog=EPILOG)
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--width",
        type=options.at_least(SHOW_MIN_WIDTH, "room for line numbers and code"),
        help=f"columns, >= {SHOW_MIN_WIDTH} (default: the terminal's)",
    )
    p.add_argument("--no-figures", action="store_true", help="skip running the cases")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("report", help="run everything and write the study site, REPORT.md, rows and plots to DIR")
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="a new or empty folder, or one an earlier report made (replaced whole when the new report is complete)",
    )
    p.add_argument("--force", action="store_true", help="replace DIR even if it holds files no report made")
    p.add_argument("--quick", action="store_true", help="short experiments and bench (CI)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these components' cases, mutants and bench")
    p.add_argument("--no-experiments", action="store_true")
    p.add_argument("--no-mutants", action="store_true")
    p.add_argument("--no-bench", action="store_true")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or argparse's own usage message (2): return, don't exit
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args))
    except (SelectionError, UsageError, DataError) as exc:
        print(f"dlfs-parity {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (``dlfs-parity show Dense | head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 141  # 128 + SIGPIPE, what a shell reports for a pipe closed early


if __name__ == "__main__":
    sys.exit(main())
