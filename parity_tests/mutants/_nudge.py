"""Building blocks of subtle mutants: a function's result, off by a tiny relative amount.

``nudged(original, rel)`` wraps a scratch function or method so that its result comes back with
one element (the largest in magnitude, so the error is ``rel`` relative to the biggest value) or
every element (``every=True``) multiplied by ``1 + rel``. Results may be an array, a float, a
tuple of them (``item`` picks the entry) or a dict of arrays (``item`` picks the key).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

#: The operator-check mutants' relative error: six orders below float64's operator tolerances.
OPERATOR_REL = 1e-7
#: The oracle mutants' relative error: what the finite-difference oracle must catch on its own.
ORACLE_REL = 1e-6


def scale(value: Any, rel: float, every: bool) -> Any:
    """``value`` with its largest-magnitude element (or every element) times ``1 + rel``."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        return value * (1.0 + rel)
    arr = np.array(value, copy=True)
    if every:
        return arr * np.asarray(1.0 + rel, dtype=arr.dtype)
    flat = arr.reshape(-1)
    i = int(np.argmax(np.abs(flat)))
    flat[i] = flat[i] * (1.0 + rel)
    return arr


def nudged(original: Callable[..., Any], rel: float, *, every: bool = False, item: Any = None) -> Callable[..., Any]:
    """A replacement for ``original`` whose result is off by ``rel`` (see the module docstring)."""

    @functools.wraps(original)
    def replacement(*args: Any, **kwargs: Any) -> Any:
        out = original(*args, **kwargs)
        if isinstance(out, dict):
            keys = list(out) if every and item is None else [item if item is not None else next(iter(out))]
            return {k: scale(v, rel, every) if k in keys else v for k, v in out.items()}
        if isinstance(out, tuple):
            picked = 0 if item is None else item
            return tuple(scale(v, rel, every) if i == picked else v for i, v in enumerate(out))
        return scale(out, rel, every)

    return replacement
