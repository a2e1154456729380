"""The package roles point one way (import-linter's contracts in ``pyproject.toml``).

- ``scratch`` imports numpy only: neither torch, nor the torch twin, nor anything above it;
- ``torch_ref`` never imports ``scratch``: a bug in a shared protocol would otherwise be the same on
  both sides and pass every parity check; what both twins share (batch orders, dropout masks) is
  data the harness hands to both;
- layers: ``dlfs_parity`` (the command line) > ``reports`` (the report builder) > ``parity_tests``
  (harness, catalogue and tests) > the twins. Only test modules reach up, to exercise the CLI and
  the report; they are listed one by one in the contract.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if lint is None:
        pytest.fail("lint-imports (import-linter, a dev dependency) is not installed")
    done = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 kept, 0 broken" in done.stdout


def test_no_module_of_torch_ref_names_scratch() -> None:
    """The same rule without import-linter, by source text (it also forbids a lazy import in a function)."""
    offenders = [p.name for p in (ROOT / "torch_ref").glob("*.py") if "import scratch" in p.read_text()
                 or "from scratch" in p.read_text()]  # fmt: skip
    assert offenders == []
