"""Nox sessions: tests, lint, typecheck, parity, bench, bench_conv, bench_book, bench_models, report.

Each session installs the pinned CPU torch first (a bare ``torch`` would pull a CUDA build).
"""

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
TORCH = "torch==2.13.0"


def _install(session: nox.Session) -> None:
    session.install(TORCH)
    session.install("-e", ".[dev]")


@nox.session
def tests(session: nox.Session) -> None:
    _install(session)
    session.run("pytest", "-q", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    _install(session)
    session.run("mypy")


@nox.session
def parity(session: nox.Session) -> None:
    _install(session)
    session.run("dlfs-parity", "check", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    _install(session)
    session.run("dlfs-parity", "bench", *session.posargs)


@nox.session
def bench_conv(session: nox.Session) -> None:
    """Chapter 5's conv target in both dtypes; rows in report/bench-conv.csv, the batch curve beside them."""
    _install(session)
    session.run("dlfs-parity", "bench", "conv", "--dtype", "all", "--csv", "report/bench-conv.csv", *session.posargs)


@nox.session
def bench_book(session: nox.Session) -> None:
    """Every component family at the book's sizes, both dtypes, 1 and all threads; rows in report/bench-book.csv."""
    _install(session)
    session.run("dlfs-parity", "bench", "book", "--csv", "report/bench-book.csv", *session.posargs)


@nox.session
def bench_models(session: nox.Session) -> None:
    """One training step and one epoch of each experiment's model; rows in report/bench-models.csv."""
    _install(session)
    session.run("dlfs-parity", "bench", "models", "--csv", "report/bench-models.csv", *session.posargs)


@nox.session
def report(session: nox.Session) -> None:
    _install(session)
    session.run("dlfs-parity", "report", "--out", "report", *session.posargs)
