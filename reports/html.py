"""``index.html``: the report's markdown as a page, plus each component's twins side by side.

The markdown comes from ``reports.markdown.render`` and uses a small subset (headings,
paragraphs, bullet lists, pipe tables, images, inline code/bold), converted here without a
markdown library. Source is highlighted with Pygments when it is installed (pytest brings it),
plain ``<pre>`` otherwise.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from parity_tests.show import Source, find_twin

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1400px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
img { max-width: 100%; }
code { background: #f4f4f4; padding: 0 0.2em; }
.twins { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.twins pre { font-size: 0.78em; overflow-x: auto; background: #fafafa; padding: 0.5em; margin: 0; }
.path { font-family: monospace; font-weight: bold; }
details { margin: 0.4em 0; }
summary { cursor: pointer; }
"""


def _inline(text: str) -> str:
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"<em>\1</em>", out)


def _cells(line: str) -> list[str]:
    parts = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [_inline(p.strip().replace("\\|", "|")) for p in parts]


def markdown_to_html(md: str) -> str:
    """Convert the report's markdown subset to HTML."""
    out: list[str] = []
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := re.match(r"^(#{1,4}) (.*)$", line):
            level = len(m.group(1))
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
        elif line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append(lines[i])
                i += 1
            head = "".join(f"<th>{c}</th>" for c in _cells(block[0]))
            body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in _cells(r)) + "</tr>" for r in block[2:])
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            continue
        elif m := re.match(r"^!\[([^]]*)\]\(([^)]+)\)$", line):
            out.append(f'<p><img src="{html.escape(m.group(2))}" alt="{html.escape(m.group(1))}"></p>')
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
            continue
        elif line.strip():
            para = []
            while i < len(lines) and lines[i].strip() and not re.match(r"^(#|\||!\[|- )", lines[i]):
                para.append(lines[i])
                i += 1
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            continue
        i += 1
    return "\n".join(out)


def _highlight(src: Source) -> str:
    code = "".join(src.lines)
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # Pygments is optional
        return f"<pre>{html.escape(code)}</pre>"
    formatter = HtmlFormatter(linenos="inline", linenostart=max(src.start, 1), nowrap=False)
    return str(highlight(code, PythonLexer(), formatter))


def _twin(src: Source) -> str:
    note = f"<div><em>{html.escape(src.note)}</em></div>" if src.note else ""
    span = f":{src.start}-{src.start + len(src.lines) - 1}" if src.lines else ""
    return f'<div><div class="path">{html.escape(src.path + span)}</div>{note}{_highlight(src)}</div>'


def sources_html(pairs: Iterable[tuple[int, str, str]]) -> str:
    """A collapsed ``<details>`` per ``(chapter, stem, component)`` with both twins side by side."""
    parts = ["<h2>Source, side by side</h2>", "<p>NumPy twin on the left, PyTorch twin on the right.</p>"]
    for chapter, stem, comp in pairs:
        try:
            left, right = find_twin("scratch", stem, comp), find_twin("torch_ref", stem, comp)
        except Exception as exc:  # a module that fails to import is reported, not fatal
            parts.append(f"<p>{html.escape(stem)}.{html.escape(comp)}: {html.escape(str(exc))}</p>")
            continue
        parts.append(
            f"<details><summary>ch{chapter} <code>{html.escape(stem)}.{html.escape(comp)}</code></summary>"
            f'<div class="twins">{_twin(left)}{_twin(right)}</div></details>'
        )
    return "\n".join(parts)


def page(md: str, pairs: Iterable[tuple[int, str, str]]) -> str:
    """The whole ``index.html``."""
    try:
        from pygments.formatters import HtmlFormatter

        css = HtmlFormatter().get_style_defs(".highlight")
    except ImportError:
        css = ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>dlfs-parity report</title>'
        f"<style>{_STYLE}{css}</style></head><body>\n{markdown_to_html(md)}\n{sources_html(pairs)}\n</body></html>\n"
    )
