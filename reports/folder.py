"""The report folder: which ``--out`` folders a report may replace, and the build-then-swap.

A report is built in a temporary folder beside ``--out`` (``.NAME.*.tmp``) and only swapped in
once it is complete, so an interrupted or failed run leaves the previous report whole, and a
narrower rerun leaves none of the previous run's files behind (the folder is replaced, not
written into).

``--out`` may name a folder that does not exist yet, an empty folder, or a folder an earlier
report made (it holds the marker file ``MARKER``). Anything else (a folder of someone's own
files, the current folder, an empty name) is refused; ``--force`` allows replacing a folder of
other files, never the folder you are in or one above it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: The file that marks a folder as one a report made (and may replace).
MARKER = ".dlfs-parity-report"


class ReportError(Exception):
    """The report folder cannot be created, written or replaced."""


def _made_by_a_report(path: Path) -> bool:
    return (path / MARKER).is_file()


def check_target(out_dir: str | Path, force: bool = False) -> Path:
    """Say whether a report may be written to ``out_dir``; raise ``ReportError`` with the reason if not.

    Returns the folder as an absolute path. Nothing is created or changed.
    """
    if str(out_dir).strip() == "":
        raise ReportError("--out is empty: name a folder for the report (it is never written into the current folder)")
    out = Path(out_dir).expanduser().absolute()
    here = Path.cwd().resolve()
    if out.resolve() == here or out.resolve() in here.parents:
        raise ReportError(f"--out {out_dir} is the current folder or one above it; name a folder of its own")
    if out.exists() and not out.is_dir():
        raise ReportError(f"cannot write the report folder {out_dir}: it is a file, not a directory")
    if out.is_dir() and not force and not _made_by_a_report(out):
        try:
            entries = sorted(p.name for p in out.iterdir())
        except OSError as exc:
            raise ReportError(f"cannot read the report folder {out_dir}: {exc.strerror or exc}") from exc
        if entries:
            shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
            raise ReportError(
                f"--out {out_dir} holds files no report made ({shown}); name a new or empty folder,"
                " or add --force to replace the whole folder"
            )
    return out


def prepare_folder(out_dir: str | Path, force: bool = False) -> Path:
    """Check ``out_dir`` (``check_target``) and prove its parent folder is writable.

    Returns the absolute report folder; raises ``ReportError`` naming ``out_dir`` if it cannot be made.
    """
    out = check_target(out_dir, force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{out.name}.", suffix=".probe", dir=out.parent):
            pass
    except OSError as exc:
        raise ReportError(f"cannot write the report folder {out_dir}: {exc.strerror or exc}") from exc
    return out


def _leftovers(out: Path) -> Iterator[Path]:
    """Temporary folders of earlier runs into ``out`` that were killed before they could clean up."""
    for p in out.parent.glob(f".{out.name}.*.tmp"):
        if p.is_dir() and _made_by_a_report(p):
            yield p


@contextlib.contextmanager
def _no_interrupt() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back for the two renames of the swap; it arrives right after."""
    blockable = hasattr(signal, "pthread_sigmask")
    if blockable:
        try:
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        except (OSError, ValueError):
            blockable = False
    try:
        yield
    finally:
        if blockable:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``out``; on success replace ``out`` with it.

    On any exception (``KeyboardInterrupt`` included) the temporary folder is removed and ``out``
    is left exactly as it was. The marker is written first, so a temporary folder left by a
    killed run is recognised and removed by the next run.
    """
    for stale in _leftovers(out):
        shutil.rmtree(stale, ignore_errors=True)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise ReportError(f"cannot write the report folder {out}: {exc.strerror or exc}") from exc
    try:
        (tmp / MARKER).write_text("made by dlfs-parity report; the next report replaces this folder\n")
        yield tmp
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a report is for reading
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap(new: Path, out: Path) -> None:
    """Put ``new`` in place of ``out`` (which may not exist), then delete the old folder."""
    old = out.with_name(f".{out.name}.{os.getpid()}.old")
    with _no_interrupt():
        if out.exists():
            os.replace(out, old)
        try:
            os.replace(new, out)
        except OSError as exc:
            if old.exists():
                os.replace(old, out)
            raise ReportError(f"cannot put the new report in place at {out}: {exc.strerror or exc}") from exc
    if old.is_symlink():  # --out was a link to a folder: the link goes, the folder it named stays
        old.unlink()
    else:
        shutil.rmtree(old, ignore_errors=True)
