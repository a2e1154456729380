"""argparse types and the parser class of the ``dlfs-parity`` command line.

Every option is checked where it is parsed, so a user's mistake stops the command before any
work starts: argparse prints one line that names the option and the problem, and the command
exits with status 2 (usage). Exit status 1 stays reserved for a parity failure.

Each ``type=`` callable below takes the option's text and returns the parsed value, or raises
``argparse.ArgumentTypeError`` with a message that argparse prefixes with the option's name
(``argument --epochs: must be a positive integer, got 0``).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

#: Seeds go to ``np.random.default_rng`` and ``torch.manual_seed``; both accept this range.
SEED_MAX = 2**32 - 1


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr, then exit status 2.

    argparse's own ``error`` prints the whole usage block first; for a command with many options
    that buries the one line that matters. Subparsers made by ``add_subparsers`` inherit the class.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def positive_int(text: str) -> int:
    """An integer >= 1 (epochs, batch sizes, thread counts, widths...)."""
    number = _integer(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return number


def non_negative_int(text: str) -> int:
    """An integer >= 0 (counts where 0 means none)."""
    number = _integer(text)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text}")
    return number


def at_least(minimum: int, why: str = "") -> Callable[[str], int]:
    """An integer >= ``minimum``; ``why`` (the reason for the minimum) goes into the message."""
    reason = f" ({why})" if why else ""

    def parse(text: str) -> int:
        number = _integer(text)
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}{reason}, got {text}")
        return number

    parse.__name__ = f"integer >= {minimum}"
    return parse


def seed(text: str) -> int:
    """A random seed: an integer in ``[0, 2**32 - 1]`` (what NumPy's and torch's seeding accept)."""
    number = _integer(text)
    if not 0 <= number <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, {SEED_MAX}], got {text}")
    return number


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None


def positive_float(text: str) -> float:
    """A finite number > 0 (learning rates, seconds); ``nan`` and ``inf`` are refused."""
    number = _float(text)
    if not math.isfinite(number) or number <= 0.0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return number


def existing_folder(text: str) -> Path:
    """A folder that exists (a file, or nothing at that path, is refused with a message that says which)."""
    path = Path(text)
    if not text:
        raise argparse.ArgumentTypeError("must name a folder, got an empty string")
    if path.is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"folder {text!r} does not exist")
    return path


#: Device names the twins know; which of them work is asked of torch when one is named.
KNOWN_DEVICES = ("cpu", "cuda")


def available_device(text: str) -> str:
    """``cpu``, or ``cuda`` when torch sees a GPU (the same test as ``check --device``)."""
    from parity_tests.registry import devices  # imports torch: only when a device is named

    if text not in KNOWN_DEVICES:
        raise argparse.ArgumentTypeError(f"unknown device {text!r} (choose from {', '.join(KNOWN_DEVICES)})")
    available = devices()
    if text not in available:
        raise argparse.ArgumentTypeError(f"device {text!r} is not available here (available: {', '.join(available)})")
    return text
