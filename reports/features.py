"""The README's feature table, generated from the registry (never edited by hand).

Rows are the components with registry cases, then the ``PLANNED`` ones not built yet. Each cell
is derived from the code as it is:

- scratch / torch: the public name imports from ``scratch.<stem>`` / ``torch_ref.<stem>``;
- parity: the registry has operator cases for it (forward, gradients, finite differences);
- trajectory: the training-run cases named in ``TRAJECTORIES`` are in the registry (``-``: none
  planned);
- speed: ``dlfs-parity bench`` times its operator cases (every operator case is benchable).

``python -m reports.features --write README.md`` rewrites the table between its markers; a test
fails when the README's table differs from the generated one.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from parity_tests.registry import all_cases

START = "<!-- features:start -->"
END = "<!-- features:end -->"


#: Components the project means to twin that may not be in the registry yet: (chapter, stem, name).
PLANNED: tuple[tuple[int, str, str], ...] = (
    (7, "trainer", "PyTorchTrainer"),
    (7, "autoencoder", "ConvAutoencoder"),
)

#: Training-run cases that exercise a component (``stem.Name`` -> registry case names).
TRAJECTORIES: dict[str, tuple[str, ...]] = {}


def _importable(package: str, stem: str, name: str) -> bool:
    try:
        module = importlib.import_module(f"{package}.{stem}")
    except ImportError:
        return False
    return hasattr(module, name)


def feature_rows() -> list[tuple[str, ...]]:
    """One row per component: every component with registry cases, then planned ones not there yet."""
    cases = all_cases()
    names = {c.name for c in cases}
    seen: dict[tuple[str, str], int] = {}
    for c in cases:
        if type(c).__name__ == "OpCase":
            seen.setdefault((c.stem, c.component), c.chapter)
    components = sorted(((ch, stem, name) for (stem, name), ch in seen.items()), key=lambda t: t[0])
    components += [p for p in PLANNED if (p[1], p[2]) not in seen]
    rows: list[tuple[str, ...]] = []
    for chapter, stem, name in components:
        parity = (stem, name) in seen
        runs = TRAJECTORIES.get(f"{stem}.{name}", ())
        traj = ("yes" if all(t in names for t in runs) else "missing") if runs else "-"
        rows.append(
            (
                str(chapter),
                f"`{stem}.{name}`",
                "yes" if _importable("scratch", stem, name) else "missing",
                "yes" if _importable("torch_ref", stem, name) else "missing",
                "yes" if parity else "missing",
                traj,
                "yes" if parity else "missing",
            )
        )
    return rows


def feature_table() -> str:
    """The markdown table (without markers)."""
    header = ("ch", "component", "scratch", "torch", "parity", "trajectory", "speed")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in feature_rows()]
    return "\n".join(lines)


def splice(readme: str, table: str) -> str:
    """Replace the text between the markers with ``table``; raise if the markers are missing."""
    if START not in readme or END not in readme:
        raise ValueError(f"README has no {START} ... {END} markers")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print or write the README feature table.")
    parser.add_argument("--write", type=Path, help="README file to update in place")
    args = parser.parse_args(argv)
    table = feature_table()
    if args.write is None:
        print(table)
        return 0
    args.write.write_text(splice(args.write.read_text(encoding="utf-8"), table), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
