"""Text output shared by the CLI and the report: aligned tables, number formats, a progress line.

No dependency beyond the standard library: tables are lists of rows of strings, right-aligned
where the column holds numbers.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO


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
    """Columns padded to their widest cell; numeric columns right-aligned; a rule under the header."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [bool(cells) and all(_is_number(r[i]) for r in cells if r[i]) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(list(headers)), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table (pipes in cells escaped)."""

    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out.extend("| " + " | ".join(cell(v) for v in r) + " |" for r in rows)
    return "\n".join(out)


class Progress:
    """A one-line progress report on stderr: ``[ 3/40  7%] 12s  dense_sigmoid float32 cpu``.

    On a terminal the line is rewritten in place; elsewhere (CI logs) a line is
    printed every few seconds and at the end.
    """

    def __init__(self, label: str, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.start = time.monotonic()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last = -1e9

    def __call__(self, done: int, total: int, what: str) -> None:
        if not self.enabled:
            return
        pct = 100 * done // max(total, 1)
        elapsed = time.monotonic() - self.start
        text = f"{self.label} [{done:>{len(str(total))}}/{total} {pct:3d}%] {elapsed:5.0f}s  {what}"
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r\033[K" + text + ("\n" if done >= total else ""))
        elif done >= total or now - self.last >= 5.0:  # logs: a line every 5 s at most, and the last
            self.stream.write(text + "\n")
            self.last = now
        self.stream.flush()
