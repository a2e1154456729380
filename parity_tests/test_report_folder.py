"""Specification: ``report --out`` never damages a report or someone's files (issue 10).

The report is built beside ``--out`` and swapped in when complete; ``--out`` may be new, empty or
an earlier report's folder (its marker file), anything else needs ``--force``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dlfs_parity.cli import main
from reports import build, folder
from reports.folder import MARKER, ReportError

SMALL = ["--quick", "--only", "Sigmoid", "--no-experiments"]


def _snapshot(path: Path) -> dict[str, str]:
    """Every file under ``path`` with a hash of its bytes."""
    files = [p for p in path.rglob("*") if p.is_file()]
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _no_screenshots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "take_screenshots", lambda *a, **k: None)


def test_an_empty_out_is_refused_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rows.csv").write_text("mine")
    assert main(["report", "--out", "", *SMALL]) == 2
    assert "--out is empty" in capsys.readouterr().err
    assert _snapshot(tmp_path) == {"rows.csv": hashlib.sha256(b"mine").hexdigest()}


def test_the_current_folder_is_refused_even_with_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for out in (".", str(tmp_path), str(tmp_path.parent)):
        with pytest.raises(ReportError, match="current folder"):
            folder.check_target(out, force=True)


def test_a_folder_of_other_files_is_refused_unless_forced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_screenshots(monkeypatch)
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("my own page")
    assert main(["report", "--out", str(site), *SMALL]) == 2
    err = capsys.readouterr().err
    assert "holds files no report made (index.html)" in err and "--force" in err
    assert (site / "index.html").read_text() == "my own page"
    assert main(["report", "--out", str(site), *SMALL, "--force"]) == 0
    assert (site / MARKER).is_file() and "my own page" not in (site / "index.html").read_text()


def test_a_new_an_empty_and_an_earlier_reports_folder_are_accepted(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / MARKER).write_text("")
    (earlier / "REPORT.md").write_text("old")
    for out in (tmp_path / "new" / "deeper", empty, earlier):
        assert folder.check_target(out) == out


def test_a_narrower_rerun_leaves_no_stale_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_screenshots(monkeypatch)
    out = tmp_path / "report"
    assert main(["report", "--out", str(out), *SMALL]) == 0
    assert {"bench.csv", "speed.png"} <= set(os.listdir(out))
    assert main(["report", "--out", str(out), *SMALL, "--no-bench"]) == 0
    assert not {"bench.csv", "speed.png"} & set(os.listdir(out))
    assert "bench.csv" not in (out / "REPORT.md").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # no temporary folder left beside it


@pytest.fixture(scope="module")
def earlier_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete report (mutants and bench included), made once for the interruption tests."""
    out = tmp_path_factory.mktemp("earlier") / "report"
    mp = pytest.MonkeyPatch()
    mp.setattr(build, "take_screenshots", lambda *a, **k: None)
    try:
        assert main(["report", "--out", str(out), *SMALL]) == 0
    finally:
        mp.undo()
    return out


def _interrupt(*args: Any, **kwargs: Any) -> Any:
    raise KeyboardInterrupt


def _half_written_csv(self: pd.DataFrame, path: Any = None, *args: Any, **kwargs: Any) -> None:
    Path(path).write_text("case,dtype\nactivation_sig")  # a truncated file, then Ctrl-C
    raise KeyboardInterrupt


PHASES: dict[str, tuple[Any, str, Callable[..., Any]]] = {
    "cases": (build, "run_all", _interrupt),
    "mutants": (build, "run_mutants", _interrupt),
    "experiments": (build, "_run_experiments", _interrupt),
    "bench": (build, "_run_bench", _interrupt),
    "plots": (build, "_write_plots", _interrupt),
    "rows.csv half written": (pd.DataFrame, "to_csv", _half_written_csv),
    "REPORT.md": (build, "render", _interrupt),
    "site": (build, "build_site", _interrupt),
    "screenshots": (build, "take_screenshots", _interrupt),
}


@pytest.mark.parametrize("phase", list(PHASES))
def test_an_interrupt_in_any_phase_leaves_the_previous_report_whole(
    phase: str, earlier_report: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(earlier_report)
    if phase != "screenshots":
        _no_screenshots(monkeypatch)
    if phase != "experiments":
        monkeypatch.setattr(build, "_run_experiments", lambda *a, **k: None)
    owner, name, replacement = PHASES[phase]
    monkeypatch.setattr(owner, name, replacement)
    with pytest.raises(KeyboardInterrupt):
        build.build_report(earlier_report, quick=True, only=["Sigmoid"])
    assert _snapshot(earlier_report) == before
    assert sorted(p.name for p in earlier_report.parent.iterdir()) == ["report"]  # the temporary folder is gone


def test_a_failed_swap_puts_the_previous_report_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / MARKER).write_text("")
    (out / "REPORT.md").write_text("previous")
    real = os.replace
    calls: list[tuple[Any, Any]] = []

    def second_rename_fails(src: Any, dst: Any) -> None:
        calls.append((src, dst))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(folder.os, "replace", second_rename_fails)
    with pytest.raises(ReportError, match="No space left"), folder.staged(out) as tmp:
        (tmp / "REPORT.md").write_text("new")
    assert (out / "REPORT.md").read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_a_temporary_folder_left_by_a_killed_run_is_cleaned_up(tmp_path: Path) -> None:
    out = tmp_path / "report"
    stale = tmp_path / ".report.abc123.tmp"
    stale.mkdir()
    (stale / MARKER).write_text("")
    foreign = tmp_path / ".report.keep.tmp"  # no marker: not ours, left alone
    foreign.mkdir()
    with folder.staged(out) as tmp:
        (tmp / "REPORT.md").write_text("new")
    assert not stale.exists() and foreign.exists() and (out / "REPORT.md").read_text() == "new"


def test_a_bug_in_the_site_fails_the_report_but_keeps_the_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_site(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("template bug")

    monkeypatch.setattr(build, "build_site", broken_site)
    out = tmp_path / "report"
    outcome = build.build_report(out, quick=True, only=["Sigmoid"], experiments=False)
    assert not outcome.passed and "the study site failed to build (ValueError: template bug)" in outcome.summary
    assert {"REPORT.md", "rows.csv", "mutants.csv"} <= set(os.listdir(out))
    assert "**FAIL**: the study site failed to build" in (out / "REPORT.md").read_text()


def test_an_out_that_is_a_link_is_replaced_by_the_report_and_its_target_kept(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / MARKER).write_text("")
    (target / "REPORT.md").write_text("old")
    link = tmp_path / "report"
    link.symlink_to(target)
    with folder.staged(link) as tmp:
        (tmp / "REPORT.md").write_text("new")
    assert not link.is_symlink() and (link / "REPORT.md").read_text() == "new"
    assert (target / "REPORT.md").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "report"]
