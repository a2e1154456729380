"""``dlfs-parity show NAME``: the two twins' source side by side, for study.

Each twin is found by import: ``scratch.<stem>.<Component>`` and ``torch_ref.<stem>.<Component>``,
its source read with ``inspect``. A torch twin that is a torch built-in under our name
(``Sigmoid = nn.Sigmoid``) has no source of ours: we show the alias line and name the built-in.
Under the two columns come the component's parity figures, from running its operator cases in
float64 (training-run cases take seconds each: they are named, for ``dlfs-parity check``).
"""

from __future__ import annotations

import importlib
import inspect
import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

from parity_tests.opcase import OpCase
from parity_tests.registry import Case, select
from parity_tests.summary import case_table, run_all, totals_line

#: Where torch built-ins are usually reached from, most idiomatic first.
_TORCH_NAMESPACES = (
    "torch.nn",
    "torch.nn.functional",
    "torch.nn.utils",
    "torch.optim",
    "torch.optim.lr_scheduler",
    "torch",
)
_MIN_COLUMN = 36


@dataclass(frozen=True)
class Source:
    """Lines of one twin's definition and where they live."""

    path: str
    start: int
    lines: tuple[str, ...]
    note: str = ""


def _relative(path: str | None) -> str:
    if path is None:
        return "?"
    p = Path(path).resolve()
    root = Path(__file__).resolve().parent.parent
    return str(p.relative_to(root)) if p.is_relative_to(root) else str(p)


def _public_torch_name(obj: object) -> str:
    name = getattr(obj, "__name__", "")
    for namespace in _TORCH_NAMESPACES:
        try:
            if getattr(importlib.import_module(namespace), name, None) is obj:
                return f"{namespace}.{name}"
        except ImportError:  # pragma: no cover - every namespace above ships with torch
            continue
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', name)}"


def find_twin(package: str, stem: str, component: str) -> Source:
    """The definition of ``package.stem.component``, or the alias line when it is a library object."""
    module = importlib.import_module(f"{package}.{stem}")
    path = _relative(getattr(module, "__file__", None))
    obj = getattr(module, component, None)
    if obj is None:
        return Source(path, 0, (), f"{package}.{stem} defines no {component}")
    if str(getattr(obj, "__module__", "")).split(".")[0] == package:
        lines, start = inspect.getsourcelines(obj)
        bases = [_public_torch_name(b) for b in getattr(obj, "__bases__", ()) if b.__module__.startswith("torch.")]
        note = f"built on {', '.join(bases)}" if bases else ""
        return Source(_relative(inspect.getsourcefile(obj)), start, tuple(lines), note)
    text = inspect.getsource(module).splitlines(keepends=True)
    alias = re.compile(rf"^\s*({re.escape(component)}\s*=|.*\bimport\b.*\b{re.escape(component)}\b)")
    for i, line in enumerate(text):
        if alias.match(line):
            return Source(path, i + 1, (line,), f"{component} is the built-in {_public_torch_name(obj)}")
    return Source(path, 0, (), f"{component} is the built-in {_public_torch_name(obj)}")


def _render(src: Source, width: int) -> list[str]:
    """Header (path:lines, note) and numbered source, each line cut into chunks of ``width``."""

    def chunks(text: str, size: int) -> list[str]:
        return [text[j : j + size] for j in range(0, max(len(text), 1), size)]

    end = src.start + len(src.lines) - 1
    out = chunks(f"{src.path}:{src.start}-{end}" if src.lines else src.path, width)
    if src.note:
        out += chunks(f"({src.note})", width)
    out.append("─" * width)
    for i, line in enumerate(src.lines):
        first, *rest = chunks(line.rstrip("\n").expandtabs(4), width - 5)
        out.append(f"{src.start + i:4d} {first}")
        out.extend(f"   + {c}" for c in rest)
    return out


def side_by_side(left: Source, right: Source, width: int) -> str:
    """Two columns split by `` │ ``; below ``2 * _MIN_COLUMN`` columns, one twin under the other."""
    col = (width - 3) // 2
    if col < _MIN_COLUMN:
        return "\n".join([*_render(left, width), "", *_render(right, width)])
    a, b = _render(left, col), _render(right, col)
    a += [""] * (len(b) - len(a))
    b += [""] * (len(a) - len(b))
    return "\n".join(f"{x.ljust(col)} │ {y}".rstrip() for x, y in zip(a, b, strict=True))


def components(name: str) -> list[tuple[str, str, int, list[Case]]]:
    """``(stem, component, chapter, cases)`` for every pair ``name`` selects (in registry order).

    The chapter is the one that introduces the component: the least chapter of its cases (Trainer
    has cases in chapters 3 to 5).
    """
    found: dict[tuple[str, str], list[Case]] = {}
    for case in select([name]):
        found.setdefault((case.stem, case.component), []).append(case)
    return [(stem, comp, min(c.chapter for c in cases), cases) for (stem, comp), cases in found.items()]


def show(name: str, width: int | None = None, figures: bool = True) -> str:
    """The full ``show`` text for ``name`` (raises ``UnknownComponentError`` for an unknown one)."""
    width = width or shutil.get_terminal_size((120, 40)).columns
    blocks = []
    for stem, comp, chapter, cases in components(name):
        title = f"{stem}.{comp} — book chapter {chapter}"
        parts = [title, "═" * min(width, len(title))]
        parts.append(side_by_side(find_twin("scratch", stem, comp), find_twin("torch_ref", stem, comp), width))
        ops = [c for c in cases if isinstance(c, OpCase)]
        if figures and ops:
            rows = run_all(ops, dtypes=("float64",), device_list=("cpu",))
            parts += ["", f"Parity (float64, cpu, seed 0): {totals_line(rows)}", case_table(rows)]
        runs = [c.name for c in cases if not isinstance(c, OpCase)]
        if figures and runs:  # whole training runs take seconds each: named here, run by `check`
            parts += ["", textwrap.fill(f"Training-run cases (dlfs-parity check {comp}): {', '.join(runs)}", width)]
        blocks.append("\n".join(parts))
    return "\n\n".join(blocks)
