"""Specification: the README stays true to the code."""

from pathlib import Path

import pytest

from reports.features import END, START, feature_table, splice

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_feature_table_is_the_generated_one() -> None:
    text = README.read_text(encoding="utf-8")
    assert splice(text, feature_table()) == text, "run: python -m reports.features --write README.md"


def test_readme_starts_with_the_install_and_test_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "pip install torch==2.13.0" in text
    assert "dlfs-parity report --out report" in text
    assert ".venv/bin/python -m pytest -q" in text
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/python -m pytest -q" in ci, ".ci/run must run the README's test command"


def test_splice_refuses_a_readme_without_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        splice("no table here", "| a |")
    assert START in splice(f"x {START} old {END} y", "new") and "old" not in splice(f"{START} old {END}", "new")
