"""Build the comparison report: run everything, write ``REPORT.md``, the raw rows and the plots.

``build_report(out_dir, quick)`` runs the registry's cases (float64 and float32 on the CPU, plus
CUDA when a GPU is present), the mutant catalogue, every experiment and the benchmark, then writes
to ``out_dir``:

- the study site (``reports.site``): ``index.html`` (feature table by chapter, pass counts, the
  headline results beside the book's), ``components/<stem>.<Name>.html`` (maths, both twins'
  code with helpers, parity rows, speed, planted bugs, training curves), ``report.html`` (this
  report as a page), ``errata.html`` (the book's bugs) and ``style.css``;
- ``screenshots/``: the index and two component pages, when Chromium is installed;
- ``REPORT.md``: summary, tables, conventions, experiments, mutants, speed, environment;
- ``rows.csv`` / ``rows.json``: every result row (cases and experiments' trajectory rows);
- ``mutants.csv``, ``bench.csv``, ``bench_conv.csv`` (the chapter 5 conv target, both dtypes);
- ``budget_heatmap.png``, ``speed.png``, ``conv_batch_curve.png``, ``curves_<experiment>.png``,
  ``figure_<experiment>_<k>.png`` (an experiment's own pictures, ``ExperimentResult.figures``).

The folder is built beside ``out_dir`` and swapped in only when complete (``reports.folder``):
an interrupted run leaves the previous report whole. Progress goes to stderr.

``quick`` skips float32 for cases slower than ``QUICK_CASE_SECONDS`` in
float64 (after an untimed warm-up run, so that the first case does not pay the one-off start-up
costs), stops each mutant at its first catch, runs each experiment with ``--quick`` and a short
benchmark (one case per component; the conv target at one thread and three batch sizes).
"""

from __future__ import annotations

import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from parity_tests.harness import DTYPES
from parity_tests.mutation import MUTANT_COLUMNS, Mutant, MutantResult, all_mutants, cases_of
from parity_tests.opcase import OpCase
from parity_tests.registry import Case, UnknownComponentError, devices, select
from parity_tests.summary import run_all, run_mutants
from parity_tests.textui import Progress
from reports import plots
from reports.browser import take_screenshots
from reports.folder import ReportError, prepare_folder, staged
from reports.markdown import render
from reports.site import build_site

#: In quick mode, a case whose float64 run(s) took longer than this is not run again in float32.
QUICK_CASE_SECONDS = 1.0
#: Quick mode's conv batch curve (of ``parity_tests.cases.conv.BATCH_CURVE``; 60 is the book's batch).
QUICK_CONV_BATCHES = (1, 8, 60)


@dataclass
class ReportData:
    """Everything the report shows; ``render`` turns it into markdown."""

    rows: pd.DataFrame
    mutants: list[MutantResult] = field(default_factory=list)
    mutant_baseline: list[str] = field(default_factory=list)  # failures of the unmutated selection
    experiments: dict[str, Any] = field(default_factory=dict)  # name -> ExperimentResult
    experiment_errors: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    bench: pd.DataFrame = field(default_factory=pd.DataFrame)
    conv: pd.DataFrame = field(default_factory=pd.DataFrame)  # bench_conv.run rows (chapter 5 target)
    conv_breakdown: pd.DataFrame | None = None  # bench_conv.breakdown of the worst miss, if any
    plots: dict[str, str] = field(default_factory=dict)  # title -> file name
    quick: bool = False
    float64_only: list[str] = field(default_factory=list)  # quick mode: slow cases not run in float32
    started: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class ReportOutcome:
    path: Path
    passed: bool
    summary: str


def _baseline(rows: pd.DataFrame, mutants: list[Mutant]) -> list[str]:
    """The unmutated float64 rows of the mutants' cases (already run in the cases phase) that fail."""
    names = {c.name for c in cases_of(mutants)}
    if rows.empty or not names:
        return []
    bad = rows[rows["case"].isin(names) & (rows["dtype"] == "float64") & ~rows["passed"].astype(bool)]
    return [f"{r.case} {r.check}[{r.target}] budget {r.budget_used:.3g}" for r in bad.itertuples()]


def _mutants_for(cases: list[Case], restricted: bool) -> list[Mutant]:
    """Every mutant, or (with ``--only``) those whose components share a case with ``cases``."""
    if not restricted:
        return list(all_mutants())
    names = {c.name for c in cases}
    chosen = []
    for m in all_mutants():
        try:
            if {c.name for c in select(list(m.components))} & names:
                chosen.append(m)
        except ValueError:
            continue
    return chosen


def _bench_cases(only: list[str] | None, quick: bool) -> list[OpCase]:
    """Operator cases to time: all, or those of ``only`` (a name with none, e.g. a training run, adds none)."""
    from parity_tests.bench import select_bench

    if only is None:
        return select_bench(None, include_bench=not quick)
    chosen: list[OpCase] = []
    for name in only:
        try:
            chosen += [c for c in select_bench([name], include_bench=not quick) if c not in chosen]
        except UnknownComponentError:
            continue
    return chosen


def conv_selected(only: list[str] | None) -> bool:
    """Whether ``only`` (``None``: everything) names any conv ``BENCH`` case: conv, Conv2d, ch5..."""
    from parity_tests.cases.conv import BENCH

    if only is None:
        return True
    for name in only:
        try:
            select([name], cases=BENCH)
        except UnknownComponentError:
            continue
        return True
    return False


def _run_conv_bench(data: ReportData, quick: bool, stream: TextIO) -> None:
    """The chapter 5 target (``parity_tests.bench_conv``): both dtypes; quick mode at 1 thread, 3 batch sizes."""
    from parity_tests import bench_conv

    if quick:
        cases, threads, min_time = bench_conv.bench_cases(QUICK_CONV_BATCHES), [1], 0.01
    else:
        cases, threads, min_time = bench_conv.bench_cases(), None, 0.2
    data.conv = bench_conv.run(threads=threads, min_time=min_time, progress=Progress("conv bench", stream), cases=cases)
    miss = bench_conv.worst_miss(bench_conv.summary(data.conv))
    if miss is not None:
        shape, dtype, n = miss
        data.conv_breakdown = bench_conv.breakdown(dtype, shape, n, min_time=0.02 if quick else 0.1)


def _warm_up(cases: list[Case]) -> None:
    """Run the first operator case once per device, untimed.

    The first case run pays one-off costs (lazy imports and initialisation in torch and the
    harness: about half a second on the CPU here; the CUDA context on a GPU) that have nothing
    to do with it; timed cold, a millisecond case reads as slow and quick mode would drop its
    float32 run.
    """
    first = next((c for c in cases if isinstance(c, OpCase)), None)
    if first is None:
        return
    for device in devices():
        try:
            first.run(dtype="float64", device=device, seed=0)
        except Exception:  # its timed run reports the error as a failing row
            continue


def _run_experiments(data: ReportData, quick: bool, stream: TextIO) -> None:
    from parity_tests.experiments import all_experiments
    from parity_tests.train import run_experiment

    try:
        found = all_experiments()
    except Exception as exc:
        data.experiment_errors["(loading)"] = f"{type(exc).__name__}: {exc}"
        return
    progress = Progress("experiments", stream)
    for i, (name, exp) in enumerate(found.items()):
        progress(i, len(found), name)
        data.descriptions[name] = f"Chapter {exp.chapter}: {exp.description}"
        try:
            data.experiments[name] = run_experiment(exp, ["--quick"] if quick else [])
        except Exception as exc:  # reported in REPORT.md, and the report's exit code says failed
            data.experiment_errors[name] = f"{type(exc).__name__}: {exc}"
            print(traceback.format_exc(), file=stream)
    progress(len(found), len(found), "done")


def _all_rows(data: ReportData) -> pd.DataFrame:
    parts = [data.rows.assign(source="case")]
    for name, result in data.experiments.items():
        if result.rows:
            parts.append(pd.DataFrame(result.rows).assign(source=f"experiment:{name}"))
    return pd.concat(parts, ignore_index=True)


def _write_plots(data: ReportData, out: Path) -> None:
    from parity_tests.bench import noisy
    from parity_tests.bench_conv import batch_curve, plot_batch_curve

    quiet = data.bench[~noisy(data.bench)] if not data.bench.empty else data.bench  # load artefacts left out
    made = {
        "Error budget used (component x check)": plots.budget_heatmap(data.rows, out / "budget_heatmap.png"),
        "Speed: scratch / torch": plots.speed_bars(quiet, out / "speed.png") if not quiet.empty else None,
        "Speed against batch size": plots.scaling(quiet, out / "scaling.png") if not quiet.empty else None,
        "Convolution: time against batch size": (
            plot_batch_curve(batch_curve(data.conv), out / "conv_batch_curve.png") if not data.conv.empty else None
        ),
    }
    for name, result in data.experiments.items():
        made[f"Training curves: {name}"] = plots.curves(name, result.curves, out / f"curves_{name}.png")
        for k, (title, draw) in enumerate(result.figures.items()):  # the experiment's own pictures
            made[f"{name}: {title}"] = draw(out / f"figure_{name}_{k}.png")
    data.plots = {title: p.name for title, p in made.items() if p is not None}


def _run_bench(data: ReportData, only: list[str] | None, quick: bool, stream: TextIO) -> None:
    from parity_tests.bench import one_per_component, run_bench

    cases = _bench_cases(only, quick)
    cases = one_per_component(cases) if quick else cases
    data.bench = run_bench(cases, min_time=0.005 if quick else 0.1, progress=Progress("bench", stream))
    if conv_selected(only):
        _run_conv_bench(data, quick, stream)


def _write(data: ReportData, out: Path, cases: list[Case], stream: TextIO) -> tuple[bool, str]:
    """Every file of the report into ``out`` (a fresh folder); returns (passed, summary)."""
    _write_plots(data, out)
    rows = _all_rows(data)
    rows.to_csv(out / "rows.csv", index=False)
    rows.to_json(out / "rows.json", orient="records", indent=1)
    pd.DataFrame([m.record() for m in data.mutants], columns=list(MUTANT_COLUMNS)).to_csv(
        out / "mutants.csv", index=False
    )
    if not data.bench.empty:
        data.bench.to_csv(out / "bench.csv", index=False)
    if not data.conv.empty:
        data.conv.to_csv(out / "bench_conv.csv", index=False)
    markdown, passed, summary = render(data)
    (out / "REPORT.md").write_text(markdown, encoding="utf-8")
    pairs = [
        (min(c.chapter for c in cases if (c.stem, c.component) == k), *k)
        for k in {(c.stem, c.component): 0 for c in cases}
    ]
    t0 = time.monotonic()
    try:
        pages = build_site(out, data, markdown, passed, summary, pairs)
    except Exception as exc:  # a bug in the site must not throw away the run: the rows and REPORT.md still land
        print(traceback.format_exc(), file=stream)
        failure = f"the study site failed to build ({type(exc).__name__}: {exc})"
        (out / "REPORT.md").write_text(f"{markdown}\n**FAIL**: {failure}.\n", encoding="utf-8")
        return False, f"{summary}; {failure}"
    t1 = time.monotonic()
    take_screenshots(out, pages, stream)
    print(
        f"site: {len(pages)} component pages in {t1 - t0:.1f} s, screenshots in {time.monotonic() - t1:.1f} s",
        file=stream,
    )
    return passed, summary


def build_report(
    out_dir: str | Path,
    quick: bool = False,
    only: list[str] | None = None,
    experiments: bool = True,
    mutants: bool = True,
    bench: bool = True,
    stream: TextIO | None = None,
    force: bool = False,
) -> ReportOutcome:
    """Run cases, mutants, experiments and bench; write the report folder; say whether all passed.

    ``only`` restricts the cases (and the mutants and bench to those cases); experiments run
    unless ``experiments`` is false. The folder is built beside ``out_dir`` and replaces it only
    when complete. Raises ``ReportError`` if ``out_dir`` may not or cannot be written (see
    ``reports.folder``; ``force`` allows replacing a folder of other files) and
    ``UnknownComponentError`` for a name in ``only`` that selects nothing.
    """
    stream = sys.stderr if stream is None else stream
    cases = select(only)  # unknown names fail here, before any folder is made
    out = prepare_folder(out_dir, force)
    t0 = time.monotonic()
    data = ReportData(
        rows=pd.DataFrame(), quick=quick, started=datetime.now(timezone.utc).isoformat(timespec="seconds")
    )
    seconds: dict[str, float] = {}  # per case; quick mode orders the mutants' cases by it
    if quick:  # float64 (the gate) for every case; float32 only for those that took under a second
        _warm_up(cases)
        f64 = run_all(cases, ("float64",), devices(), progress=Progress("cases float64", stream), seconds=seconds)
        fast = [c for c in cases if seconds[c.name] <= QUICK_CASE_SECONDS]
        data.float64_only = [c.name for c in cases if seconds[c.name] > QUICK_CASE_SECONDS]
        f32 = run_all(fast, ("float32",), devices(), progress=Progress("cases float32", stream))
        data.rows = pd.concat([r for r in (f64, f32) if not r.empty], ignore_index=True)
    else:
        data.rows = run_all(cases, DTYPES, devices(), progress=Progress("cases", stream))
    if mutants:
        chosen = _mutants_for(cases, only is not None)
        data.mutant_baseline = _baseline(data.rows, chosen)
        if not data.mutant_baseline:  # a catch means something only when the unmutated cases pass
            progress = Progress("mutants", stream)
            data.mutants = run_mutants(chosen, progress=progress, first_catch=quick, cost=seconds)
    if experiments:
        _run_experiments(data, quick, stream)
    if bench:
        _run_bench(data, only, quick, stream)
    data.seconds = time.monotonic() - t0
    try:
        with staged(out) as tmp:
            passed, summary = _write(data, tmp, cases, stream)
    except OSError as exc:
        raise ReportError(f"cannot write the report into {out_dir}: {exc.strerror or exc}") from exc
    return ReportOutcome(out / "REPORT.md", passed, summary)
