"""Render ``REPORT.md`` from the results gathered by ``reports.build``."""

from __future__ import annotations

import os
import platform
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from parity_tests.harness import DTYPES, TOLERANCES, versions
from parity_tests.mutation import outcome_counts
from parity_tests.summary import pass_totals, summarize, training_line
from parity_tests.textui import fmt_budget, markdown_table, verdict
from reports.conventions import CONVENTIONS
from reports.markdown_speed import speed_section

if TYPE_CHECKING:
    from reports.build import ReportData


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1 / 5 / 15 min)"
    except OSError:  # not available on this platform
        return "unknown"


def _environment(data: ReportData) -> list[str]:
    import torch

    from parity_tests.bench import all_threads

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return [
        f"- Date (UTC): {data.started}; took {data.seconds:.0f} s{' (quick mode)' if data.quick else ''}",
        f"- Versions: {versions()}",
        f"- Platform: {platform.platform()}",
        f"- CPU: {_cpu_model()}; {all_threads()} usable cores (os.cpu_count {os.cpu_count()}); GPU: {gpu}",
        f"- torch threads by default: {torch.get_num_threads()}; load average at the end {_load()}"
        " (timings on a busy machine are noisy)",
    ]


def _panel_key(panel: tuple[Any, ...]) -> tuple[int, str]:
    """float64 (the gate) first, then float32; cpu before cuda."""
    dtype, device = panel
    return (DTYPES.index(dtype) if dtype in DTYPES else len(DTYPES), str(device))


def chapter_table(rows: pd.DataFrame) -> str:
    s = summarize(rows, ["chapter", "dtype", "device", "case"])
    body = []
    groups = sorted(s.groupby(["chapter", "dtype", "device"]), key=lambda kg: (kg[0][0], *_panel_key(kg[0][1:])))
    for (ch, dt, dev), g in groups:
        body.append(
            [
                f"ch{ch}",
                dt,
                dev,
                f"{int(g['passed'].sum())}/{len(g)}",
                f"{int(g['passed_checks'].sum())}/{int(g['checks'].sum())}",
            ]
        )
    return markdown_table(["chapter", "dtype", "device", "cases passing", "checks passing"], body)


def _component_table(rows: pd.DataFrame) -> str:
    """Per component: passing cases and the worst budget (with its check) per dtype/device."""
    panels = sorted(set(zip(rows["dtype"], rows["device"], strict=True)), key=_panel_key)
    per_case = summarize(rows, ["chapter", "stem", "component", "dtype", "device", "case"])
    body = []
    for (ch, stem, comp), g in per_case.groupby(["chapter", "stem", "component"], sort=True):
        cells: list[Any] = [f"ch{ch}", f"{stem}.{comp}", g["case"].nunique()]
        for dt, dev in panels:
            p = g[(g["dtype"] == dt) & (g["device"] == dev)]
            if p.empty:
                cells.append("-")
                continue
            worst = p.loc[p["worst_budget"].astype(float).idxmax()]
            ok = f"{int(p['passed'].sum())}/{len(p)}"
            cells.append(
                f"{verdict(bool(p['passed'].all()))} {ok} · {fmt_budget(worst['worst_budget'])} {worst['worst_check']}"
            )
        body.append(cells)
    headers = ["chapter", "component", "cases", *(f"{dt} {dev}: passing · worst budget" for dt, dev in panels)]
    return markdown_table(headers, body)


def _closest(rows: pd.DataFrame, n: int = 10) -> list[str]:
    """The passing checks that used the most of their budget, per dtype: where to look first."""
    out = ["## Closest calls", "", "Passing checks that used the largest share of their tolerance.", ""]
    head = ["dtype", "device", "component", "case", "check", "budget", "atol", "rtol"]
    ok = rows[rows["passed"].astype(bool)]
    body = []
    for _, g in sorted(ok.groupby(["dtype", "device"]), key=lambda kg: _panel_key(kg[0])):
        top = g.assign(b=g["budget_used"].astype(float)).nlargest(n, "b")
        top = top.assign(atol=top["atol"].map(_fmt), rtol=top["rtol"].map(_fmt))
        body += [
            [
                r.dtype,
                r.device,
                f"{r.stem}.{r.component}",
                r.case,
                f"{r.check}[{r.target}]",
                fmt_budget(r.b),
                r.atol,
                r.rtol,
            ]
            for r in top.itertuples()
        ]
    return [*out, markdown_table(head, body), ""] if body else []


def _failures(rows: pd.DataFrame, limit: int = 50) -> list[str]:
    bad = rows[~rows["passed"].astype(bool)]
    if bad.empty:
        return []
    body = [
        [
            r.case,
            r.dtype,
            r.device,
            f"{r.check}[{r.target}]",
            fmt_budget(r.budget_used),
            r.worst_index,
            f"{r.scratch_value:.6g}",
            f"{r.torch_value:.6g}",
            r.note,
        ]
        for r in bad.head(limit).itertuples()
    ]
    head = ["case", "dtype", "device", "check", "budget", "worst index", "scratch", "torch", "note"]
    more = [f"\n({len(bad) - limit} more in rows.csv)"] if len(bad) > limit else []
    return ["## Failing checks", "", markdown_table(head, body), *more, ""]


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)


def _experiments(data: ReportData) -> list[str]:
    out = ["## Training experiments (scratch and torch from the same weights and batches)", ""]
    if not data.experiments and not data.experiment_errors:
        out += ["No experiments were run.", ""]
    for name, result in data.experiments.items():
        out += [f"### {name}", "", data.descriptions.get(name, ""), ""]
        t = result.table
        out += [
            markdown_table(list(map(str, t.columns)), [[_fmt(v) for v in r] for r in t.itertuples(index=False)]),
            "",
        ]
        if result.rows:
            frame = pd.DataFrame(result.rows)
            worst = frame.loc[frame["check"] == "lockstep", "budget_used"].astype(float).max()
            out += [f"Training-run parity: {training_line(frame)}; worst lockstep budget {fmt_budget(worst)}.", ""]
        if f"Training curves: {name}" in data.plots:
            out += [f"![{name} curves]({data.plots[f'Training curves: {name}']})", ""]
        if result.text:
            out += [result.text.strip(), ""]
    for name, err in data.experiment_errors.items():
        out += [f"### {name}: FAILED TO RUN", "", f"`{err}`", ""]
    return out


def _mutants(data: ReportData) -> list[str]:
    if data.mutant_baseline:
        shown = "; ".join(data.mutant_baseline[:5])
        return ["## Planted bugs (mutants)", "", f"Baseline fails, so nothing was tested: {shown}.", ""]
    if not data.mutants:
        return ["## Planted bugs (mutants)", "", "No mutants were run.", ""]
    counts = outcome_counts(data.mutants)
    body = [
        [
            m.name,
            f"#{m.book_bug}" if m.book_bug else "",
            m.description,
            m.expect,
            m.outcome if m.caught else f"**{m.outcome.upper()}**",
            f"{m.failing_rows}/{m.total_rows}",
            m.evidence,
        ]
        for m in data.mutants
    ]
    head = ["mutant", "book bug", "what it does", "declared check", "outcome", "failing rows", "first evidence"]
    late = [m for m in data.mutants if m.expect == "lockstep"]
    side = [[m.name, f"{m.lockstep_failing} failing", f"{m.free_running_failing} failing", m.description] for m in late]
    out = [
        "## Planted bugs (mutants)",
        "",
        f"{counts['caught']}/{len(data.mutants)} caught by the check they declare; {counts['crashed']} crashed "
        f"and {counts['missed']} missed (a crash, or a failure of another check, is not a catch). The "
        "unmutated selection was run first and passed.",
        "",
        markdown_table(head, body),
        "",
    ]
    if side:
        out += [
            "### Training bugs: lockstep and free-running verdicts side by side",
            "",
            "Every training bug that the lockstep check must catch, with the rows each check failed. The "
            "late-onset ones (`late_*`, `dropout_eval_scale_off`, the book's early-stopping restore) act only "
            "late in a run or in eval mode and are subtle: the free-running rows, claimed only up to the "
            "controls' horizon and within the trajectory tolerance, miss them, while lockstep fails them at the "
            "pause where they begin. That is the proof that lockstep earns its cost. (In quick mode each mutant "
            "stops at the first case that catches it, so the counts cover fewer cases.)",
            "",
            markdown_table(["mutant", "lockstep rows", "free-running rows", "what it does"], side),
            "",
        ]
    return out


def _raw_files(data: ReportData) -> list[str]:
    """The CSV/JSON files this report writes (a file for a phase that did not run is not listed)."""
    names = ["rows.csv", "rows.json", "mutants.csv"]
    names += ["bench.csv"] if not data.bench.empty else []
    return names + (["bench_conv.csv"] if not data.conv.empty else [])


def render(data: ReportData) -> tuple[str, bool, str]:
    """The markdown, whether everything passed, and a one-line summary."""
    rows = data.rows
    cases = summarize(rows, ["case", "dtype", "device"])
    every = pd.concat([rows, *(pd.DataFrame(res.rows) for res in data.experiments.values() if res.rows)])
    every = every if len(every) else rows
    totals = pass_totals(rows)
    experiment_rows_pass = all(bool(r["passed"]) for res in data.experiments.values() for r in res.rows)
    counts = outcome_counts(data.mutants)
    baseline_ok = not data.mutant_baseline
    passed = (
        bool(cases["passed"].all())
        and counts["caught"] == len(data.mutants)
        and baseline_ok
        and experiment_rows_pass
        and not data.experiment_errors
    )
    mutants = (
        f"{counts['caught']}/{len(data.mutants)} planted bugs caught by the check they declare "
        f"({counts['crashed']} crashed, {counts['missed']} missed)"
        if baseline_ok
        else "planted bugs NOT tested: the unmutated baseline fails"
    )
    summary = (
        f"{totals['case_runs_passed']}/{totals['case_runs']} case runs pass "
        f"({totals['checks_passed']}/{totals['checks']} parity checks; {totals['sanity']} sanity rows, which compare "
        f"a thing with itself, not counted); {training_line(every)}; {mutants}; "
        f"{len(data.experiments)} experiments run ({len(data.experiment_errors)} failed to run)"
    )
    md = ["# dlfs-parity report", "", f"**{verdict(passed)}**: {summary}.", ""]
    if data.quick:
        md += [
            "*Quick mode*: cases that took over a second in float64 are not run in float32"
            f" ({len(data.float64_only)}: {', '.join(data.float64_only) or 'none'}); each mutant stops at the",
            "first case that catches it; experiments with `--quick`; benchmark of one case per component,",
            "5 ms per timing; the conv target at one thread and three batch sizes, 10 ms per timing.",
            "",
        ]
    md += [
        "Every component of *Deep Learning from Scratch* exists twice: NumPy (`scratch/`) and PyTorch",
        "(`torch_ref/`). Each check reports `budget_used = max |a - b| / (atol + rtol |b|)` and passes",
        "when it is <= 1. float64 is the gate; float32 runs with its own tolerances.",
        "",
    ]
    md += ["## Pass counts per chapter", "", chapter_table(rows), ""]
    md += ["## Components: pass counts and worst budget", "", _component_table(rows), ""]
    if "Error budget used (component x check)" in data.plots:
        md += [f"![error budget heatmap]({data.plots['Error budget used (component x check)']})", ""]
    md += _failures(rows)
    md += _closest(rows)
    md += [
        "## Conventions: the book vs PyTorch",
        "",
        "Our default follows PyTorch; the book's variant is an explicit option on both twins, parity-checked",
        "like the rest. The book's code bugs are not reproduced: they are planted as mutants (below).",
        "",
    ]
    md += [markdown_table(["topic", "book (2019)", "PyTorch (our default)"], CONVENTIONS), ""]
    md += [
        "## Tolerances",
        "",
        markdown_table(
            ["dtype", "op class", "atol", "rtol", "why"],
            [[d, c, t.atol, t.rtol, t.reason] for (d, c), t in TOLERANCES.items()],
        ),
        "",
    ]
    md += _experiments(data)
    md += _mutants(data)
    md += speed_section(data)
    md += [
        "## Environment",
        "",
        *_environment(data),
        "",
        "Raw rows: " + "; ".join(f"`{name}`" for name in _raw_files(data)) + ".",
        "",
    ]
    return "\n".join(md), passed, summary
