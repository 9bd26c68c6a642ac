"""What every task's reader shares: located errors, reading a text file, seeded subsets.

Bad input is reported as :class:`DataFormatError` naming the file and 1-based line, because a
training run that dies on line 48,213 of a file is only debuggable if the message says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TypeVar

import numpy as np

T = TypeVar("T")
PathArg = str | PathLike[str]


class DataFormatError(ValueError):
    """Bad input data, located as precisely as possible.

    The message is ``'<path>:<line>: <reason>'`` (``'<path>: <reason>'`` when no line applies,
    e.g. a missing or empty file), the format editors and terminals turn into a link. It is a
    :class:`ValueError` so callers that only care about "bad value" need not know this class.
    """

    def __init__(self, path: PathArg, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[PathArg, int | None, str]]:
        # Keep the three-argument constructor working through pickling (multiprocessing).
        return (type(self), (self.path, self.line, self.reason))


def read_text(path: PathArg) -> str:
    """Read a UTF-8 text file, turning OS and decoding errors into located DataFormatErrors."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError as e:
        raise DataFormatError(path, None, "no such file") from e
    except IsADirectoryError as e:
        raise DataFormatError(path, None, "is a directory, expected a data file") from e
    except OSError as e:
        raise DataFormatError(path, None, f"cannot read file: {e.strerror or e}") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DataFormatError(path, line, f"not valid UTF-8 ({e.reason})") from e


def sample_subset(sentences: Sequence[T], size: int | None, seed: int) -> list[T]:
    """Draw a deterministic low-resource training subset.

    Uses ``numpy.random.default_rng(seed).choice(len, size, replace=False)`` so the same seed
    gives the same subset on every machine, and returns the items in file order (sorted by
    index), so subsets of different sizes are easy to compare. ``size=None`` returns a copy
    of everything.
    """
    n = len(sentences)
    if size is None:
        return list(sentences)
    if isinstance(size, bool) or not isinstance(size, int | np.integer):
        raise TypeError(f"subset size must be an int or None, got {type(size).__name__}")
    if n == 0:
        raise ValueError("cannot sample a subset from an empty collection")
    if size < 1 or size > n:
        raise ValueError(
            f"subset size must be between 1 and {n} (the number of sentences), got {size}"
        )
    idx = np.random.default_rng(seed).choice(n, size=int(size), replace=False)
    return [sentences[i] for i in sorted(idx.tolist())]
