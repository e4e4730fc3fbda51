"""User-facing errors and warnings.

Every error a user can cause (a bad file, a missing video, a wrong name) is an
:class:`NWBViewError`. Its message says what was wrong, why, and how to fix it.
The CLI prints these messages without a traceback and exits with code 1.
"""

from __future__ import annotations

import functools
import re

__all__ = [
    "NWBViewError",
    "InvalidFileError",
    "MissingFileError",
    "StreamNotFoundError",
    "AmbiguousStreamError",
    "TimestampError",
    "DataShapeError",
    "VideoError",
    "CalibrationError",
    "WriteError",
    "FileLockedError",
    "NWBViewWarning",
    "RenamedError",
    "renamed_keywords",
    "MissingDependencyError",
    "require",
]


_NUMPY_SCALAR = re.compile(r"\bnp\.(?:float|int|uint|complex)\d*\(([^()]*)\)|\bnp\.(?:True|False)_\b|\bnp\.str_\(('[^']*')\)")


def plain_numbers(text: str) -> str:
    """``np.float64(9.75)`` -> ``9.75``: numpy 2's scalar reprs have no place in a message."""
    return _NUMPY_SCALAR.sub(lambda m: m.group(1) or m.group(2) or m.group(0)[3:-1], text)


class NWBViewError(Exception):
    """Base class of every error nwbview raises for bad input."""

    def __init__(self, *args):
        if args and isinstance(args[0], str):
            args = (plain_numbers(args[0]), *args[1:])
        super().__init__(*args)


class InvalidFileError(NWBViewError):
    """A file is not an NWB file, or is truncated or corrupt."""


class MissingFileError(NWBViewError, FileNotFoundError):
    """A file (NWB or external video) does not exist where it should."""


class StreamNotFoundError(NWBViewError, KeyError):
    """No stream of the asked kind or name is in the session."""

    def __str__(self) -> str:  # KeyError quotes its message; we do not want that
        return str(self.args[0]) if self.args else ""


class AmbiguousStreamError(NWBViewError):
    """Several streams match and no name was given to choose one."""


class TimestampError(NWBViewError):
    """Timestamps go backwards, hold NaN, or do not match the data."""


class DataShapeError(NWBViewError):
    """Data has a shape or length that does not fit what is expected."""


class VideoError(NWBViewError):
    """A video cannot be opened or decoded."""


class CalibrationError(NWBViewError):
    """A calibration cannot be fitted or is invalid."""


class WriteError(NWBViewError):
    """Results cannot be written into an NWB file."""


class FileLockedError(WriteError):
    """The file is open (locked) in another process."""


class OutputPathError(NWBViewError):
    """An output file (video, image, figure, table) cannot be written where asked."""


class NWBViewWarning(UserWarning):
    """Something a user should know that does not stop the work."""


class RenamedError(NWBViewError, TypeError):
    """A keyword or option of nwbview 0.1 that 0.2 renamed (see docs/api-conventions.md)."""


def renamed_keywords(**renames: str):
    """Refuse the 0.1 names of a function's keywords, naming the 0.2 ones.

    ``renames`` maps an old keyword to its new name, or to a sentence saying what replaced it
    (anything with a space). An old keyword is never silently accepted: a value may have changed
    meaning with its name (``trail`` -> ``trail_s``).

    Examples
    --------
    >>> @renamed_keywords(trail_seconds="trail_s")
    ... def f(*, trail_s=2.0):
    ...     return trail_s
    >>> f(trail_s=1.0)
    1.0
    >>> try:
    ...     f(trail_seconds=1.0)
    ... except RenamedError as e:
    ...     print(e)
    f(trail_seconds=...) was renamed in nwbview 0.2: use trail_s=... instead.
    """

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            for old in renames.keys() & kwargs.keys():
                raise RenamedError(renamed_message(f"{fn.__qualname__}({old}=...)", renames[old], python=True))
            return fn(*args, **kwargs)

        inner.__renamed__ = dict(renames)
        return inner

    return wrap


def renamed_message(old: str, new: str, *, python: bool) -> str:
    """The one sentence for a renamed keyword or CLI option."""
    if " " in new:
        return f"{old} was removed in nwbview 0.2: {new}"
    return f"{old} was renamed in nwbview 0.2: use {new}{'=...' if python else ''} instead."


class MissingDependencyError(NWBViewError, ImportError):
    """An optional package that one feature needs is not installed."""


def require(module: str, *, feature: str, extra: str):
    """Import ``module`` for ``feature``, or say in one sentence which extra installs it.

    Examples
    --------
    >>> require("json", feature="reading JSON", extra="core").__name__
    'json'
    >>> try:
    ...     require("no_such_package", feature="this", extra="interop")
    ... except MissingDependencyError as e:
    ...     print(e)
    this needs the package 'no_such_package', which is not installed. Install it with: pip install 'nwbview[interop]'.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"{feature} needs the package {module.split('.')[0]!r}, which is not installed. "
            f"Install it with: pip install 'nwbview[{extra}]'."
        ) from None
