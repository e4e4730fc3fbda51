"""The errors of the annotated video export and snapshot (all :class:`~nwbview.errors.NWBViewError`).

Examples
--------
>>> from nwbview.render import TimeRangeError
>>> issubclass(TimeRangeError, ValueError)
True
"""

from __future__ import annotations

from nwbview.errors import NWBViewError, StreamNotFoundError
from nwbview.errors import OutputPathError as _OutputPathError

__all__ = ["ExportError", "TimeRangeError", "OutputPathError", "ChannelError"]


class ExportError(NWBViewError):
    """An annotated video or snapshot cannot be made as asked."""


class TimeRangeError(ExportError, ValueError):
    """The asked time range is invalid or holds no frame."""


class OutputPathError(ExportError, _OutputPathError):
    """The output file cannot be written where asked."""


class ChannelError(ExportError, StreamNotFoundError):
    """An asked channel does not exist."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
