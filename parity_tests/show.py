"""``dlfs-parity show NAME``: a component's study list in the terminal.

For each component ``NAME`` selects: its chapter and section, the forward and backward maths as
text, then both twins' code side by side, each with the helpers it delegates to (the study list
of ``parity_tests.study``: ``Dense`` shows ``WeightMultiply``, ``BiasAdd``, ``Layer.forward``...).
A torch twin that is a torch built-in under our name (``Sigmoid = nn.Sigmoid``) shows its alias
line, names the built-in, spells out what it computes and says "backward: autograd". Under the
code come the component's parity figures, from running its operator cases in float64
(training-run cases take seconds each: they are named, for ``dlfs-parity check``).
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence

from parity_tests.opcase import OpCase
from parity_tests.registry import Case, select
from parity_tests.study import Snippet, Study, maths_text, sources, study_for, uses_autograd
from parity_tests.summary import case_table, run_all, totals_line

_MIN_COLUMN = 36


def _chunks(text: str, size: int) -> list[str]:
    return [text[j : j + size] for j in range(0, max(len(text), 1), size)]


def _render(snippets: list[Snippet], width: int, preface: Sequence[str] = ()) -> list[str]:
    """Each snippet: a header (name, path:lines, note), a rule and its numbered source, cut to ``width``."""
    out = [c for line in preface for c in (textwrap.wrap(line, width, subsequent_indent="    ") or [""])]
    for src in snippets:
        lines = src.code.splitlines()
        where = f"{src.path}:{src.start}-{src.start + len(lines) - 1}" if lines else src.path
        out += _chunks(f"{src.title}  ({where})", width)
        if src.note:
            out += _chunks(f"({src.note})", width)
        out.append("─" * width)
        for i, line in enumerate(lines):
            first, *rest = _chunks(line.expandtabs(4), width - 5)
            out.append(f"{src.start + i:4d} {first}")
            out.extend(f"   + {c}" for c in rest)
        out.append("")
    return out


def _torch_preface(study: Study | None, torch: list[Snippet]) -> list[str]:
    """For a torch built-in: what it computes; and "backward: autograd" when the twin has no backward."""
    lines = []
    if study is not None and any(s.builtin for s in torch):
        lines += [
            "What the torch built-in computes:",
            *(f"  {maths_text(m)}" for m in study.torch_maths or study.forward),
        ]
    if uses_autograd(torch):
        lines.append("backward: autograd")
    return [*lines, ""] if lines else []


def side_by_side(left: list[Snippet], right: list[Snippet], width: int, preface: Sequence[str] = ()) -> str:
    """Scratch and torch in two columns split by `` │ ``; below ``2 * _MIN_COLUMN`` columns, one under the other."""
    col = (width - 3) // 2
    if col < _MIN_COLUMN:
        return "\n".join([*_render(left, width), "", *_render(right, width, preface)])
    a, b = _render(left, col), _render(right, col, preface)
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
        study = study_for(stem, comp)
        title = f"{stem}.{comp} — book chapter {chapter}" + (f" · {study.section}" if study else "")
        parts = [title, "═" * min(width, len(title))]
        if study is not None:
            for label, maths in (("Forward", study.forward), ("Backward", study.backward)):
                parts += [
                    f"{label}:",
                    *(
                        textwrap.fill(maths_text(m), width, initial_indent="  ", subsequent_indent="    ")
                        for m in maths
                    ),
                ]
            parts.append("")
        scratch, torch = sources(study, stem, comp)
        parts.append(side_by_side(scratch, torch, width, _torch_preface(study, torch)))
        ops = [c for c in cases if isinstance(c, OpCase)]
        if figures and ops:
            rows = run_all(ops, dtypes=("float64",), device_list=("cpu",))
            parts += ["", f"Parity (float64, cpu, seed 0): {totals_line(rows)}", case_table(rows)]
        runs = [c.name for c in cases if not isinstance(c, OpCase)]
        if figures and runs:  # whole training runs take seconds each: named here, run by `check`
            parts += ["", textwrap.fill(f"Training-run cases (dlfs-parity check {comp}): {', '.join(runs)}", width)]
        blocks.append("\n".join(parts))
    return "\n\n".join(blocks)
