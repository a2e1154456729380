"""Test-suite setup: one BLAS thread and one torch thread; ``--seeds N``.

``pytest --seeds N`` makes every registry-case test (``registry.assert_case_passes``) run seeds
``0..N-1`` instead of seed 0 alone. The suite keeps no shared files or mutable globals between
tests (files go to ``tmp_path``), so ``pytest -n auto`` (pytest-xdist) spreads it over cores;
each worker process sets the seeds itself at start-up.

Parity does not depend on thread count, and on a small shared machine multithreaded BLAS on the
suite's tiny matrices mostly waits on locks (seen 10-70x slower under load). Benchmarks, which do
care about threads, pin their own counts (``parity_tests/bench.py``).
"""

from collections.abc import Iterator

import pytest
import torch
from threadpoolctl import threadpool_limits

from parity_tests.registry import set_suite_seeds


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--seeds", type=int, default=1, metavar="N", help="run every registry case over seeds 0..N-1 (default 1)"
    )


def pytest_configure(config: pytest.Config) -> None:
    seeds = config.getoption("--seeds")
    if seeds < 1:
        raise pytest.UsageError(f"--seeds must be at least 1, got {seeds}")
    set_suite_seeds(seeds)


@pytest.fixture(autouse=True, scope="session")
def _single_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(previous)
