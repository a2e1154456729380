"""Test-suite setup: one BLAS thread and one torch thread.

Parity does not depend on thread count, and on a small shared machine multithreaded BLAS on the
suite's tiny matrices mostly waits on locks (seen 10-70x slower under load). Benchmarks, which do
care about threads, pin their own counts (``parity_tests/bench.py``).
"""

from collections.abc import Iterator

import pytest
import torch
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _single_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(previous)
