"""Local path or URL: the one rule every module uses to tell them apart.

A source is remote when it is a string ``SCHEME://...`` whose scheme is one nwbview reads from:
``http``, ``https``, ``s3`` or ``dandi`` (in any case). Anything else is a local path.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["is_remote", "normalize_path"]

_REMOTE_SCHEMES = frozenset({"http", "https", "s3", "dandi"})


def is_remote(source: Any) -> bool:
    """True for a ``http(s)://``, ``s3://`` or ``dandi://`` source; False for a local path.

    Parameters
    ----------
    source
        A path, a URL, or anything else (only a ``str`` can be remote).

    Examples
    --------
    >>> is_remote("https://example.org/session.nwb"), is_remote("DANDI://000409/sub-1/a.nwb")
    (True, True)
    >>> is_remote("data/session.nwb"), is_remote("http"), is_remote(None)
    (False, False, False)
    """
    return isinstance(source, str) and "://" in source and source.split("://", 1)[0].lower() in _REMOTE_SCHEMES


def normalize_path(path: str | os.PathLike) -> str:
    """A remote source as it is; a local path made absolute (from the current folder).

    Examples
    --------
    >>> normalize_path("https://example.org/clip.mp4")
    'https://example.org/clip.mp4'
    >>> import os; normalize_path("clip.mp4") == os.path.join(os.getcwd(), "clip.mp4")
    True
    """
    if is_remote(path):
        return path
    return os.path.abspath(os.fspath(path))
