"""Input validation shared by the scratch twin: clear errors instead of silent broadcasts."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.floating[Any]]

#: The dtypes the twins compute in (float16 and longdouble have no torch twin on CPU worth comparing).
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_plain_array(x: object, name: str) -> np.ndarray[Any, Any]:
    """Refuse anything but an ndarray, and the two ndarray subclasses whose arithmetic differs.

    ``np.matrix`` makes ``*`` a matrix product and stays 2-d after every reduction;
    ``np.ma.MaskedArray`` skips masked entries in some operations and not in others. Either would
    give wrong numbers in silence or fail deep inside numpy, so both are refused here with the fix.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy ndarray, got {type(x).__name__}")
    if isinstance(x, np.matrix):
        raise TypeError(f"{name} is an np.matrix; pass np.asarray({name.split()[-1]}) (a plain ndarray)")
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(f"{name} is a masked array, which the twins cannot honour; pass .filled(value) instead")
    return x


def check_size(value: object, name: str) -> int:
    """A size argument (features, channels): an ``int`` (or numpy integer) >= 1; ``True`` is refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def as_float_array(x: object, name: str, *, allow_nan: bool = False) -> Array:
    """Return ``x`` as a floating ndarray, or raise a ``TypeError``/``ValueError`` naming the problem."""
    x = check_plain_array(x, name)
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have a floating dtype (float32 or float64), got {x.dtype}")
    if not allow_nan and not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def check_shape(x: Array, expected: tuple[int | str | None, ...], name: str) -> None:
    """Raise ``ValueError`` unless ``x.shape`` matches ``expected``.

    An ``int`` must match exactly; a ``str`` is a free axis with a label for the message
    (``"N"``, ``"L"``, ``"C"``, ``"H"``, ``"W"``); ``None`` is a free axis labelled ``"N"``.
    The leading axis is the batch: a size of 0 there is reported as an empty batch.

    >>> check_shape(np.zeros((3, 4)), ("N", "L", 4), "x")
    Traceback (most recent call last):
    ...
    ValueError: x has shape (3, 4), expected (N, L, 4)
    """
    fixed = [(e, s) for e, s in zip(expected, x.shape, strict=False) if not isinstance(e, (str, type(None)))]
    if x.ndim != len(expected) or any(e != s for e, s in fixed):
        want = "(" + ", ".join("N" if e is None else str(e) for e in expected) + ")"
        raise ValueError(f"{name} has shape {x.shape}, expected {want}")
    if x.ndim > 0 and x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {x.shape})")


def check_input(x: object, expected: tuple[int | str | None, ...], name: str) -> Array:
    """``as_float_array`` then ``check_shape``: the usual guard at the top of ``forward``."""
    arr = as_float_array(x, name)
    check_shape(arr, expected, name)
    return arr


def check_same_shape(grad: object, reference: Array, name: str) -> Array:
    """Guard at the top of ``backward``: the upstream gradient must match the cached output."""
    arr = as_float_array(grad, name)
    if arr.shape != reference.shape:
        raise ValueError(f"{name} has shape {arr.shape}, expected {reference.shape} (the output's shape)")
    if arr.dtype != reference.dtype:
        raise TypeError(f"{name} has dtype {arr.dtype}, expected {reference.dtype} (the output's dtype)")
    return arr
