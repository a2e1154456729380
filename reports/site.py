"""The study site: ``index.html``, one page per component, the full report and the book's bugs.

Pages come from jinja2 templates (``reports/templates``); markdown (``REPORT.md``, experiment
notes) is rendered with markdown-it-py, code with Pygments and the LaTeX maths of the study
catalogue (``parity_tests.study``) to MathML with latex2mathml, so the site needs no network and
no JavaScript. Result rows are shown by their columns, so rows with new columns or new ``check``
kinds appear without changes here.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import pandas as pd
from latex2mathml.converter import convert
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from parity_tests.mutation import Mutant, MutantResult, all_mutants
from parity_tests.registry import UnknownComponentError, select
from parity_tests.study import Snippet, Study, catalogue, sources, uses_autograd
from parity_tests.textui import fmt_budget

if TYPE_CHECKING:
    from reports.build import ReportData

TEMPLATES = Path(__file__).parent / "templates"
#: Columns that every row of one component page shares (said once in the page's title).
_SAME_ON_A_PAGE = ("component", "stem", "chapter", "versions")
#: Rows shown on a component page (the rest are in rows.csv): the failing ones and the closest calls.
MAX_ROWS = 300
_FEATURE_COLUMNS = ("chapter", "name", "scratch", "torch", "parity", "trajectory", "speed")
#: Columns shown first, in this order, when a row has them; the others follow as they come.
_FIRST = ("case", "source", "dtype", "device", "check", "target", "budget_used", "passed", "worst_index")


@dataclass
class ComponentPage:
    """One component: its study list and everything the report measured about it."""

    stem: str
    component: str
    chapter: int
    study: Study | None
    file: str = ""
    scratch: list[Snippet] = field(default_factory=list)
    torch: list[Snippet] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.stem}.{self.component}"


def mathml(latex: str) -> str:
    """One display equation as MathML (``<math display="block">``)."""
    return str(convert(latex, display="block"))


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown(text: str) -> str:
    """Markdown (CommonMark plus pipe tables) as HTML; raw HTML in the text is escaped."""
    return str(_markdown().render(text))


_FORMATTER = HtmlFormatter(cssclass="highlight")


def code_html(snip: Snippet) -> str:
    if not snip.code:
        return ""
    formatter = HtmlFormatter(cssclass="highlight", linenos="inline", linenostart=max(snip.start, 1))
    return str(highlight(snip.code, PythonLexer(), formatter))


def cell(value: Any, column: str = "") -> str:
    """A result value for a table cell: budgets as ``1.2e-03``, floats to 4 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value) and column != "budget_used"):
        return ""
    if column == "budget_used":
        return fmt_budget(value)
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "NO"
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)


def frame_table(df: pd.DataFrame, hide: tuple[str, ...] = _SAME_ON_A_PAGE) -> tuple[list[str], list[list[str]]]:
    """Headers and cells of ``df``: the ``_FIRST`` columns first, then every other column it has."""
    if df.empty:
        return [], []
    shown = [c for c in df.columns if c not in hide]
    order = [c for c in _FIRST if c in shown] + [c for c in shown if c not in _FIRST]
    body = [[cell(v, c) for c, v in zip(order, r, strict=True)] for r in df[order].itertuples(index=False)]
    return [str(c) for c in order], body


def worst_first(rows: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """At most ``limit`` (``MAX_ROWS``) rows: every failing one first, then by budget used, largest first.

    A row without a number in ``budget_used`` (a crash) counts as the worst.
    """
    limit = MAX_ROWS if limit is None else limit
    if len(rows) <= limit:
        return rows
    budget = pd.to_numeric(rows["budget_used"], errors="coerce").fillna(float("inf"))
    failing = ~rows["passed"].astype(bool)
    order = pd.DataFrame({"failing": failing, "budget": budget}).sort_values(["failing", "budget"], ascending=False)
    return rows.loc[order.index[:limit]]


def _targets(mutant: Mutant) -> set[tuple[str, str]]:
    try:
        return {(c.stem, c.component) for c in select(list(mutant.components))}
    except UnknownComponentError:
        return set()


def mutant_verdict(m: MutantResult) -> str:
    """caught / crashed (every failing case raised) / MISSED; a result's own ``outcome`` when it has one."""
    outcome = getattr(m, "outcome", None)
    if isinstance(outcome, str):
        return "MISSED" if outcome.lower() == "missed" else outcome
    if not m.caught:
        return "MISSED"
    return "caught" if m.caught_by_a_check else "crashed"


def errata() -> list[dict[str, Any]]:
    """The book's bugs as records (field -> value), from ``parity_tests.errata.ERRATA`` when that module exists.

    Records are shown by their fields, whatever they are; a record's ``mutants`` (names) tie it to
    the planted bugs, else its ``number`` to their ``book_bug``.
    """
    try:
        module = importlib.import_module("parity_tests.errata")
    except ImportError:
        return []
    records = []
    for item in getattr(module, "ERRATA", ()):
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            records.append(dataclasses.asdict(item))
        elif isinstance(item, dict):
            records.append(dict(item))
    return records


def errata_of(mutant: Mutant, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records that describe ``mutant`` (by name, or by its ``book_bug`` number), less those two keys."""
    mine = [
        r
        for r in records
        if mutant.name in r.get("mutants", ()) or (not r.get("mutants") and r.get("number") == mutant.book_bug)
    ]
    return [{k: v for k, v in r.items() if k not in ("mutants", "number")} for r in mine]


def component_pages(pairs: list[tuple[int, str, str]]) -> list[ComponentPage]:
    """Pages for ``(chapter, stem, component)`` pairs in book order: chapter, then the catalogue's order."""
    studies = catalogue()
    order = {name: i for i, name in enumerate(studies)}
    pairs = sorted(set(pairs), key=lambda p: (p[0], order.get(f"{p[1]}.{p[2]}", len(order)), p[1], p[2]))
    pages = []
    for chapter, stem, comp in pairs:
        page = ComponentPage(stem, comp, chapter, studies.get(f"{stem}.{comp}"), f"components/{stem}.{comp}.html")
        page.scratch, page.torch = sources(page.study, stem, comp)
        pages.append(page)
    return pages


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(mathml=mathml, markdown=markdown, code=code_html, cell=cell)
    return env


def _component_context(
    page: ComponentPage, data: ReportData, mutants: list[tuple[Mutant, MutantResult]]
) -> dict[str, Any]:
    rows = data.rows
    mine = rows[(rows["stem"] == page.stem) & (rows["component"] == page.component)] if not rows.empty else rows
    for name, result in data.experiments.items():
        extra = pd.DataFrame(result.rows)
        if not extra.empty and {"stem", "component"} <= set(extra.columns):
            hit = extra[(extra["stem"] == page.stem) & (extra["component"] == page.component)]
            mine = pd.concat([mine, hit.assign(source=f"experiment {name}")], ignore_index=True)
    timed = [b for b in (data.bench, data.conv) if not b.empty]  # the conv target's rows are the book's sizes
    bench = pd.concat(timed, ignore_index=True) if timed else pd.DataFrame()
    speed = bench[(bench["stem"] == page.stem) & (bench["component"] == page.component)] if not bench.empty else bench
    records = errata()
    planted = [
        {"mutant": m, "result": r, "verdict": mutant_verdict(r), "errata": errata_of(m, records)}
        for m, r in mutants
        if (page.stem, page.component) in _targets(m)
    ]
    study = page.study
    curves = [
        (name, data.plots[f"Training curves: {name}"])
        for name in (study.experiments if study else ())
        if f"Training curves: {name}" in data.plots
    ]
    builtin = any(s.builtin for s in page.torch)
    torch_maths = (study.torch_maths or study.forward) if (study and builtin) else ()
    passed = bool(mine["passed"].astype(bool).all()) if not mine.empty else None
    return {
        "page": page,
        "study": study,
        "rows": frame_table(worst_first(mine)),
        "rows_left_out": max(len(mine) - MAX_ROWS, 0),
        "passed": passed,
        "n_rows": len(mine),
        "speed": frame_table(speed),
        "planted": planted,
        "curves": curves,
        "torch_maths": torch_maths,
        "autograd": uses_autograd(page.torch),
    }


def build_site(
    out: Path, data: ReportData, report_md: str, passed: bool, summary: str, pairs: list[tuple[int, str, str]]
) -> list[Path]:
    """Write the site into ``out``; return the component pages written (book order)."""
    from reports.features import feature_rows
    from reports.markdown import chapter_table

    env = _environment()
    pages = component_pages(pairs)
    by_name = {m.name: m for m in all_mutants()}
    mutants = [(by_name[r.name], r) for r in data.mutants if r.name in by_name]
    (out / "components").mkdir(exist_ok=True)
    css = (TEMPLATES / "style.css").read_text(encoding="utf-8") + _FORMATTER.get_style_defs(".highlight")
    (out / "style.css").write_text(css, encoding="utf-8")
    links = {p.name: p.file for p in pages}
    common = {"summary": summary, "passed": passed, "root": ""}
    features: list[dict[str, str | None]] = []
    for r in feature_rows():
        row: dict[str, str | None] = dict(zip(_FEATURE_COLUMNS, r, strict=True))
        row["name"] = r[1].strip("`")
        row["link"] = links.get(r[1].strip("`"))
        features.append(row)
    experiments = [
        (
            name,
            data.descriptions.get(name, ""),
            result.table.columns.tolist(),
            [[cell(v) for v in r] for r in result.table.itertuples(index=False)],
        )
        for name, result in data.experiments.items()
    ]
    book_bugs = [(m, r, mutant_verdict(r)) for m, r in mutants if m.book_bug]
    records = errata()
    index = env.get_template("index.html.j2").render(
        **common,
        pages=pages,
        features=features,
        chapters=markdown(chapter_table(data.rows)) if not data.rows.empty else "",
        experiments=experiments,
        experiment_errors=data.experiment_errors,
        mutants=[(m, r, mutant_verdict(r)) for m, r in mutants],
        plots=data.plots,
    )
    (out / "index.html").write_text(index, encoding="utf-8")
    (out / "report.html").write_text(
        env.get_template("report.html.j2").render(**common, body=markdown(report_md)), encoding="utf-8"
    )
    (out / "errata.html").write_text(
        env.get_template("errata.html.j2").render(
            **common,
            book_bugs=book_bugs,
            errata={m.name: errata_of(m, records) for m, _, _ in book_bugs},
            links=_bug_links(book_bugs, links),
        ),
        encoding="utf-8",
    )
    written = []
    for i, page in enumerate(pages):
        context = _component_context(page, data, mutants)
        prev_page = pages[i - 1] if i > 0 else None
        next_page = pages[i + 1] if i + 1 < len(pages) else None
        text = env.get_template("component.html.j2").render(
            {**common, "root": "../", "prev": prev_page, "next": next_page, **context}
        )
        path = out / page.file
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _bug_links(
    book_bugs: list[tuple[Mutant, MutantResult, str]], links: dict[str, str]
) -> dict[str, list[tuple[str, str]]]:
    """Per mutant, the component pages (name, file) of the pairs it targets that have a page."""
    out: dict[str, list[tuple[str, str]]] = {}
    for m, _, _ in book_bugs:
        names = sorted({f"{s}.{c}" for s, c in _targets(m)})
        out[m.name] = [(n, links[n]) for n in names if n in links]
    return out
