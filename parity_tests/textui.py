"""Text output shared by the CLI and the report: tables, number formats, a progress bar.

Tables and the progress bar go through ``rich``. A table is a list of rows of strings, printed
as plain text (no colour codes, one row per line, however wide, so ``grep`` and pipes work),
right-aligned where the column holds numbers. The progress bar (with an ETA) is drawn on a
terminal only; in logs (CI) a plain line is printed every few seconds instead.
"""

from __future__ import annotations

import io
import math
import sys
import time
import weakref
from collections.abc import Sequence
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text


def fmt_budget(value: Any) -> str:
    """``budget_used`` for people: ``0`` for exact agreement, ``inf``/``nan`` as words, else 2 digits."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf"
    if x == 0.0:
        return "0"
    return f"{x:.1e}"


def fmt_seconds(value: Any) -> str:
    """A duration with a readable unit: ``812 ns``, ``41.3 us``, ``2.05 ms``, ``1.20 s``."""
    seconds = float(value)
    if not math.isfinite(seconds):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_ratio(value: Any) -> str:
    """A time ratio ``1.48x``; ``-`` when either time is missing."""
    x = float(value)
    return f"{x:.2f}x" if math.isfinite(x) else "-"


def verdict(passed: Any) -> str:
    return "PASS" if bool(passed) else "FAIL"


def _is_number(text: str) -> bool:
    head = text.split(" ")[0].rstrip("%x")
    try:
        float(head.split("/")[0])
    except ValueError:
        return text in ("inf", "nan", "-")
    return True


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table (``rich``): a rule under the header, numeric columns right-aligned.

    Cells are taken literally (``grad[weight]`` is not rich markup); the table is as wide as its
    widest row, so no cell is wrapped or cut.
    """
    cells = [[str(c) for c in r] for r in rows]
    numeric = [bool(cells) and all(_is_number(r[i]) for r in cells if r[i]) for i in range(len(headers))]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, highlight=False)
    for h, num in zip(headers, numeric, strict=True):
        table.add_column(Text(h), justify="right" if num else "left", no_wrap=True)
    for r in cells:
        table.add_row(*(Text(c) for c in r))
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    console = Console(file=io.StringIO(), width=sum(widths) + 3 * len(widths) + 2, color_system=None, emoji=False)
    console.print(table)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in str(text).splitlines()).strip("\n")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table (pipes in cells escaped)."""

    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out.extend("| " + " | ".join(cell(v) for v in r) + " |" for r in rows)
    return "\n".join(out)


class Progress:
    """Progress of a long run on stderr: a ``rich`` bar with an ETA on a terminal.

    Called as ``progress(done, total, what)``. Not on a terminal (CI logs), a line such as
    ``cases [ 3/40   7%]    12s  dense_sigmoid float32 cpu`` is printed every few seconds and at
    the end. ``enabled=False`` prints nothing.
    """

    def __init__(self, label: str, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.start = time.monotonic()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last = -1e9
        self._bar: RichProgress | None = None
        self._task: Any = None

    def _start_bar(self, total: int) -> RichProgress:
        bar = RichProgress(
            TextColumn(self.label),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=Console(file=self.stream),
            auto_refresh=False,  # redrawn on each call: no thread left behind if the run is interrupted
        )
        bar.start()
        weakref.finalize(self, bar.stop)  # the cursor comes back even when the run stops early
        self._task = bar.add_task("", total=total)
        return bar

    def __call__(self, done: int, total: int, what: str) -> None:
        if not self.enabled:
            return
        if self.tty:
            self._bar = self._bar or self._start_bar(total)
            self._bar.update(self._task, completed=done, total=total, description=what)
            self._bar.refresh()
            if done >= total:
                self._bar.stop()
            return
        now = time.monotonic()
        if done >= total or now - self.last >= 5.0:  # logs: a line every 5 s at most, and the last
            pct = 100 * done // max(total, 1)
            text = f"{self.label} [{done:>{len(str(total))}}/{total} {pct:3d}%] {now - self.start:5.0f}s  {what}"
            self.stream.write(text + "\n")
            self.stream.flush()
            self.last = now
