"""The study catalogue: what to read for each component, in both twins, and its maths.

A component's own class often holds no computation: ``Dense`` is an ``__init__`` that chains
``WeightMultiply``, ``BiasAdd`` and an activation, and ``Layer.forward`` runs them. Each ``Study``
names the helpers a reader needs beside the component (``helpers`` in ``scratch``,
``torch_helpers`` in ``torch_ref``, as ``stem.Name`` or ``stem.Class.method``), and the forward
and backward maths as LaTeX display equations. ``show`` prints this list in the terminal and the
report's study site renders it (the maths as MathML).

Where the torch twin is a torch built-in (``Sigmoid = nn.Sigmoid``) or subclasses one, its page
spells out what the built-in computes (``torch_maths``, or the forward maths when that is empty)
and says "backward: autograd".
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Study:
    """The study list of one component pair (``stem.Name`` in both twins).

    Args:
        name: ``stem.Name``, as in the registry (``layers.Dense``).
        section: the book's section (or topic) that introduces it.
        forward: LaTeX of the forward maths, one display equation per entry.
        backward: LaTeX of the backward maths (gradients), one display equation per entry.
        helpers: scratch helpers it delegates to (``operations.WeightMultiply``,
            ``layers.Layer.forward``), in reading order.
        torch_helpers: torch_ref helpers it delegates to.
        torch_maths: what the torch built-in computes, when it differs from ``forward``.
        experiments: training experiments (``dlfs-parity train NAME``) that use it.
    """

    name: str
    section: str
    forward: tuple[str, ...]
    backward: tuple[str, ...]
    helpers: tuple[str, ...] = ()
    torch_helpers: tuple[str, ...] = ()
    torch_maths: tuple[str, ...] = ()
    experiments: tuple[str, ...] = ()

    @property
    def stem(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def component(self) -> str:
        return self.name.split(".", 1)[1]


@dataclass(frozen=True)
class Snippet:
    """The source of one definition (or the alias line of a torch built-in) and where it lives."""

    title: str
    path: str
    start: int
    code: str
    note: str = ""
    builtin: bool = False  # a torch object under our name, or a class built on one


def catalogue() -> dict[str, Study]:
    """Every study list, keyed by ``stem.Name``, in book order."""
    from parity_tests.study import ch1_4, ch5_7

    return {s.name: s for s in (*ch1_4.STUDIES, *ch5_7.STUDIES)}


def study_for(stem: str, component: str) -> Study | None:
    return catalogue().get(f"{stem}.{component}")


def _relative(path: str | None) -> str:
    if path is None:
        return "?"
    p = Path(path).resolve()
    root = Path(__file__).resolve().parents[2]
    return str(p.relative_to(root)) if p.is_relative_to(root) else str(p)


def _torch_name(obj: object) -> str:
    name = getattr(obj, "__name__", "")
    for namespace in ("torch.nn", "torch.nn.functional", "torch.nn.utils", "torch.optim", "torch.optim.lr_scheduler"):
        try:
            if getattr(importlib.import_module(namespace), name, None) is obj:
                return f"{namespace}.{name}"
        except ImportError:  # pragma: no cover - every namespace above ships with torch
            continue
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', name)}"


def snippet(package: str, dotted: str) -> Snippet:
    """The source of ``package.dotted`` (``scratch``, ``layers.Layer.forward``).

    A name bound to a library object (``Sigmoid = nn.Sigmoid``) gives its alias line and names
    the library object; a name that does not exist gives an empty snippet saying so.
    """
    stem, *attrs = dotted.split(".")
    title = f"{package}.{dotted}"
    module = importlib.import_module(f"{package}.{stem}")
    obj: Any = module
    for attr in attrs:
        obj = getattr(obj, attr, None)
        if obj is None:
            return Snippet(title, _relative(module.__file__), 0, "", f"{package}.{stem} defines no {'.'.join(attrs)}")
    obj = inspect.unwrap(obj)
    owner = str(getattr(obj, "__module__", "") or "").split(".")[0]
    if owner == package:
        lines, start = inspect.getsourcelines(obj)
        bases = [b for b in getattr(obj, "__bases__", ()) if str(b.__module__).startswith("torch")]
        note = f"built on {', '.join(_torch_name(b) for b in bases)}" if bases else ""
        path = _relative(inspect.getsourcefile(obj))
        return Snippet(title, path, start, "".join(lines), note, builtin=bool(bases))
    text = inspect.getsource(module).splitlines(keepends=True)
    last = attrs[-1] if attrs else stem
    alias = re.compile(rf"^\s*({re.escape(last)}\s*=|.*\bimport\b.*\b{re.escape(last)}\b)")
    note = f"{last} is the built-in {_torch_name(obj)}"
    for i, line in enumerate(text):
        if alias.match(line):
            return Snippet(title, _relative(module.__file__), i + 1, line, note, builtin=True)
    return Snippet(title, _relative(module.__file__), 0, "", note, builtin=True)


def sources(study: Study | None, stem: str, component: str) -> tuple[list[Snippet], list[Snippet]]:
    """Both twins' reading lists: the component itself, then its helpers (scratch, torch_ref)."""
    name = f"{stem}.{component}"
    left = [snippet("scratch", name), *(snippet("scratch", h) for h in (study.helpers if study else ()))]
    right = [snippet("torch_ref", name), *(snippet("torch_ref", h) for h in (study.torch_helpers if study else ()))]
    return left, right


def uses_autograd(snippets: list[Snippet]) -> bool:
    """Whether the torch twin leaves its backward to autograd (no ``backward`` of its own)."""
    return not any(re.search(r"def backward\(", s.code) for s in snippets)


_SYMBOLS = {
    r"\sigma": "σ",
    r"\odot": "⊙",
    r"\top": "T",
    r"\partial": "∂",
    r"\eta": "η",
    r"\mu": "μ",
    r"\alpha": "α",
    r"\epsilon": "ε",
    r"\varepsilon": "ε",
    r"\Delta": "Δ",
    r"\leftarrow": "←",
    r"\rightarrow": "→",
    r"\cdot": "·",
    r"\approx": "≈",
    r"\sim": "~",
    r"\le": "≤",
    r"\ge": "≥",
    r"\in": "∈",
    r"\lVert": "‖",
    r"\rVert": "‖",
    r"\star": "⋆",
    r"\ldots": "…",
}


_FONTS = "text|texttt|mathrm|mathcal|mathbb|mathrel|operatorname|mathbf|tilde|hat|bar"


def _group(text: str) -> str:
    """``text`` bracketed unless it is a single symbol: ``ih`` stays, ``t-1`` becomes ``(t-1)``."""
    return text if re.fullmatch(r"[\w'\\∂]+", text) else f"({text})"


def maths_text(latex: str) -> str:
    """A LaTeX display equation as plain text for the terminal (``\\sigma`` -> σ, ``\\frac{a}{b}`` -> (a)/(b))."""
    text = re.sub(r"\\partial\s*", "∂", latex).replace(r"\textstyle", "").replace(r"\tfrac", r"\frac")
    text = re.sub(r"\\bar\{(\w)\}", "\\1\u0304", text)  # \bar{v} -> v̄
    text = re.sub(r"\\hat\{(\w)\}", "\\1\u0302", text)  # \hat{x} -> x̂
    for _ in range(4):  # nested braces, innermost first
        text = re.sub(r"\^\{([^{}]*)\}", lambda m: "^" + _group(m.group(1)), text)
        text = re.sub(r"_\{([^{}]*)\}", lambda m: "_" + _group(m.group(1)), text)
        text = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", lambda m: f"{_group(m.group(1))}/{_group(m.group(2))}", text)
        text = re.sub(r"\\sqrt\{([^{}]*)\}", r"√(\1)", text)
        text = re.sub(rf"\\(?:{_FONTS})\{{([^{{}}]*)\}}", r"\1", text)
    text = re.sub(r"\\sum_\{([^{}]*)\}", r"Σ_\1 ", text).replace(r"\sum", "Σ")
    text = re.sub(r"\\max_\{([^{}]*)\}", r"max_\1 ", text)
    for word, symbol in sorted(_SYMBOLS.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(re.escape(word) + r"(?![A-Za-z])", symbol, text)
    text = re.sub(r"\\(left|right|big|Big|bigl|bigr)\b", "", text)
    text = re.sub(r"\\(quad|qquad)", "   ", text)
    text = re.sub(r"\\[,; ]", " ", text).replace(r"\!", "")
    text = re.sub(r"\\([A-Za-z]+)", r"\1", text)  # \tanh -> tanh, \log -> log, \max -> max
    text = text.replace("^\\top", "ᵀ").replace("^T", "ᵀ").replace("{", "").replace("}", "")
    return re.sub(r"[ ]{2,}", " ", text).strip()
