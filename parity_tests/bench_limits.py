"""Fair timing and the machine's limit: interleaved blocks, thread pinning, NumPy's GEMM peak, FLOPs.

- ``time_interleaved``: times several callables (the scratch and the torch side of one case) in
  alternating blocks under the same thread count, so that load from other processes falls on both
  sides alike instead of on whichever ran second. Each callable is warmed up, a block is sized to
  about ``min_time / min_blocks`` from the warm-up, and rounds of one block per side (the order
  flips every round) run until each side has ``min_blocks`` blocks and ``min_time`` seconds.
  Reports the median and the inter-quartile range of the per-call block times.
- ``pinned``: ``threadpoolctl.threadpool_limits`` pins the BLAS/OpenMP pools NumPy uses and
  ``torch.set_num_threads`` torch's intra-op pool; the caller's torch count comes back afterwards.
- ``gemm_peak``: the GFLOP/s NumPy's BLAS reaches on a square matrix product (n = 512 and 1024,
  the better of the two) at a dtype and thread count: the "machine's limit" every row is set
  against. On the project's 2-core AVX-512 Xeon it is about 150-170 GFLOP/s on one thread and
  300-330 on two in float32, about half that in float64.
- FLOP formulas per family (``FLOP_FORMULAS``): the multiply-adds of the GEMMs (or
  convolutions) of one forward+backward, each counted as 2 FLOPs. Elementwise work is left out
  except for families that have nothing else (losses, pooling, optimizers), whose formulas count
  one FLOP per element operation and which are memory-bound: their peak share is not meant to
  approach 1.

Benchmarks are not tests: nothing asserts a time.
"""

from __future__ import annotations

import itertools
import time
import timeit
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache, partial

import numpy as np
import torch
from threadpoolctl import threadpool_limits

MIN_BLOCKS = 5
WARMUP = 3
PEAK_SIZES = (512, 1024)

#: family -> the FLOPs of one forward+backward, in words (sizes as in the case's ``shapes``).
FLOP_FORMULAS = {
    "dense": "6*N*I*O (Y = X W^T, dX = G W, dW = G^T X)",
    "mlp": "sum over layers of 6*N*I*O",
    "loss": "10*N*C (elementwise: softmax/exp, log, sums, the gradient; memory-bound)",
    "conv": "6*N*C_out*C_in*kH*kW*OH*OW (forward, grad_input, grad_weight)",
    "pool": "3*N*C*H*W (a window read forward, a scatter backward; memory-bound)",
    "recurrent": "6*N*L*G*H*(I+H) (G gates: 1 RNN, 3 GRU, 4 LSTM; input and hidden GEMMs, their two gradients)",
    "charmodel": "sum over layers of 6*N*L*(G*H*(I+H) + H*O) (recurrent GEMMs + the layer's projection to O)",
    "optimizer": "k*P for P parameters (k = 2 SGD, 4 momentum, 6 AdaGrad, 12 Adam; memory-bound)",
    "model": "the GEMM FLOPs of the model's forward+backward per step, times the steps",
}


@contextmanager
def pinned(threads: int) -> Iterator[None]:
    """NumPy's BLAS and torch's intra-op pool both limited to ``threads`` inside the block."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(previous)


def time_interleaved(
    fns: Mapping[str, Callable[[], object]],
    threads: int,
    min_time: float,
    min_blocks: int = MIN_BLOCKS,
    warmup: int = WARMUP,
) -> dict[str, tuple[float, float]]:
    """``name -> (median, IQR)`` seconds per call, timed in alternating blocks (see the module docstring)."""
    if not fns:
        return {}
    with pinned(threads):
        number: dict[str, int] = {}
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(warmup):  # caches, allocator, lazy init
                fn()
            once = (time.perf_counter() - start) / max(warmup, 1)
            number[name] = max(1, round(min_time / min_blocks / max(once, 1e-9)))
        timers = {name: timeit.Timer(fn) for name, fn in fns.items()}
        times: dict[str, list[float]] = {name: [] for name in fns}
        order = list(fns)

        def done() -> bool:
            return all(len(t) >= min_blocks and sum(t) * number[n] >= min_time for n, t in times.items())

        while not done():
            for name in order:
                times[name].append(timers[name].timeit(number[name]) / number[name])
            order.reverse()  # s, t, then t, s: neither side always runs right after the other
    out = {}
    for name, t in times.items():
        q1, median, q3 = np.percentile(t, [25, 50, 75])
        out[name] = (float(median), float(q3 - q1))
    return out


@cache
def gemm_peak(dtype: str, threads: int, repeat: int = 7) -> float:
    """GFLOP/s of NumPy's ``A @ B`` (n x n, the best of ``PEAK_SIZES``) at ``dtype`` and ``threads``.

    The fastest of ``repeat`` products per size, not the median: a peak is what the hardware can
    do, and on a shared machine the median is what the neighbours let it do. Measured once per
    process and argument set (cached), so every row of a run is set against the same figure.
    """
    rng = np.random.default_rng(0)
    best = 0.0
    with pinned(threads):
        for n in PEAK_SIZES:
            a = rng.standard_normal((n, n)).astype(dtype)
            b = rng.standard_normal((n, n)).astype(dtype)
            a @ b  # warm-up: thread pool start, page faults
            fastest = min(timeit.repeat(partial(np.matmul, a, b), number=1, repeat=repeat))
            best = max(best, 2.0 * n**3 / fastest / 1e9)
    return best


def gflops(flops: float, seconds: float) -> float:
    """``flops / seconds`` in GFLOP/s (NaN when either is missing)."""
    if not (np.isfinite(flops) and np.isfinite(seconds)) or seconds <= 0:
        return float("nan")
    return flops / seconds / 1e9


# -- FLOPs of one forward+backward, per family (the formulas of ``FLOP_FORMULAS``) ----------------
def dense_flops(n: int, widths: tuple[int, ...]) -> float:
    """``sum 6*N*I*O`` over the consecutive pairs of ``widths`` (one pair: a single Dense)."""
    return float(sum(6 * n * i * o for i, o in itertools.pairwise(widths)))


def conv_flops(n: int, c_in: int, c_out: int, k: int, out_hw: tuple[int, int]) -> float:
    return 6.0 * n * c_out * c_in * k * k * out_hw[0] * out_hw[1]


def recurrent_flops(n: int, length: int, gates: int, input_size: int, hidden: int) -> float:
    return 6.0 * n * length * gates * hidden * (input_size + hidden)


def charmodel_flops(n: int, length: int, gates: int, sizes: tuple[int, ...], hidden: int) -> float:
    """``sizes`` are the widths between layers (V, H, ..., V): layer k reads ``sizes[k]`` features,
    runs its recurrence at ``hidden`` and projects to ``sizes[k + 1]``."""
    return float(
        sum(
            recurrent_flops(n, length, gates, i, hidden) + 6.0 * n * length * hidden * o
            for i, o in itertools.pairwise(sizes)
        )
    )
