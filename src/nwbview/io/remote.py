"""The network under remote sessions: HTTP(S) byte ranges and DANDI lookups.

- ``http(s)://...`` URLs (including DANDI asset download URLs) are probed and
  read by byte ranges here; :func:`nwbview.io.nwb.open_remote` reads an NWB file
  over them lazily with remfile + h5py (the ``stream`` extra).
- ``dandi://DANDISET_ID[@VERSION]/path/in/dandiset.nwb`` is resolved through
  the DANDI API with the ``dandi`` client (the ``dandi`` extra); relative
  external video paths are resolved against the asset's path in the dandiset.

Before anything is read, the server is probed with a one-byte range request:
a server that ignores ranges is refused (it would send the whole file), and
each network fault becomes one clear :class:`~nwbview.errors.NWBViewError`.
"""

from __future__ import annotations

import http.client
import os
import posixpath
import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

from nwbview.errors import MissingFileError, NWBViewError

__all__ = ["RemoteError", "probe_url", "http_range", "http_request", "resolve_dandi", "dandi_resolver", "timeout_s", "DANDI_API"]

DANDI_API = "https://api.dandiarchive.org/api"
_DANDI_RE = re.compile(r"^dandi://(?P<id>[^/@]+)(@(?P<version>[^/]+))?(/(?P<path>.*))?$")


class RemoteError(NWBViewError):
    """A remote source cannot be read: not found, refused, dropped, timed out, no ranges."""


def timeout_s(timeout: float | None = None) -> float:
    """The network timeout: the argument, else ``NWBVIEW_HTTP_TIMEOUT`` (seconds), else 30."""
    if timeout is not None:
        return float(timeout)
    return float(os.environ.get("NWBVIEW_HTTP_TIMEOUT", "30"))


@dataclass
class UrlInfo:
    url: str  # after redirects
    size: int


def _fault(url: str, exc: BaseException, timeout: float) -> NWBViewError:
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code == 404:
            return MissingFileError(f"{url} was not found on the server (HTTP 404). Check the URL (or the DANDI path).")
        if exc.code in (401, 403):
            return RemoteError(f"{url}: access denied (HTTP {exc.code}). The file may be embargoed or need credentials.")
        return RemoteError(f"{url}: the server answered HTTP {exc.code} {exc.reason}. Try again later or check the URL.")
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in str(reason):
        return RemoteError(
            f"{url}: no answer within {timeout:g} s (timed out). The server is slow or unreachable; raise the "
            "limit with NWBVIEW_HTTP_TIMEOUT=<seconds> (or open(..., timeout=...)) or try again later."
        )
    if isinstance(reason, ConnectionRefusedError):
        return RemoteError(f"{url}: connection refused. No server is listening there; check the host and port.")
    if isinstance(reason, (http.client.RemoteDisconnected, ConnectionResetError, http.client.IncompleteRead, BrokenPipeError)):
        return RemoteError(
            f"{url}: the server closed the connection before answering in full ({type(reason).__name__}). "
            "Try again; if it keeps happening the server may be overloaded or the URL wrong."
        )
    if isinstance(reason, socket.gaierror):
        return RemoteError(f"{url}: the host name cannot be resolved ({reason}). Check the URL and the network.")
    return RemoteError(f"{url}: {type(reason).__name__}: {reason}.")


def http_request(url: str, headers: dict, timeout: float):
    """Open ``url`` with these request headers (and nwbview's User-Agent); the response is a context manager.

    Network faults raise as ``urllib`` raises them (:func:`probe_url` and :func:`http_range`
    turn them into :class:`RemoteError`).

    Examples
    --------
    >>> with http_request("https://example.org/a.nwb", {"Range": "bytes=0-0"}, 30) as r:  # doctest: +SKIP
    ...     r.status
    206
    """
    req = urllib.request.Request(url, headers={"User-Agent": "nwbview", **headers})
    return urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 - http(s) only, checked by callers


def probe_url(url: str, timeout: float | None = None) -> UrlInfo:
    """Check that ``url`` answers byte-range requests; return its final URL and size.

    Raises
    ------
    MissingFileError
        HTTP 404.
    RemoteError
        Refused, dropped, timed out, or the server does not support ranges.

    Examples
    --------
    >>> probe_url("https://example.org/session.nwb").size  # doctest: +SKIP
    104857600
    """
    t = timeout_s(timeout)
    if urlsplit(url).scheme not in ("http", "https"):
        raise RemoteError(f"{url}: only http(s) URLs can be streamed.")
    try:
        with http_request(url, {"Range": "bytes=0-0"}, t) as r:
            status = r.status
            final = r.geturl()
            content_range = r.headers.get("Content-Range", "")
            length = r.headers.get("Content-Length")
            if status == 206:
                r.read()
            # a 200 means the server ignores ranges: do not read the body
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _fault(url, exc, t) from exc
    if status != 206 or not content_range.startswith("bytes"):
        size = f" ({int(length) / 1e6:.0f} MB)" if length and length.isdigit() else ""
        raise RemoteError(
            f"{url}: the server does not support byte-range requests (it answered {status} to a range "
            f"request), so streaming would download the whole file{size}. nwbview refuses to do that "
            "silently: download the file and open the local copy."
        )
    m = re.match(r"bytes \d+-\d+/(\d+)", content_range)
    if not m:
        raise RemoteError(f"{url}: the server gave no file size (Content-Range {content_range!r}); cannot stream it.")
    return UrlInfo(url=final, size=int(m.group(1)))


def http_range(url: str, offset: int, size: int, timeout: float | None = None) -> bytes:
    """Bytes ``[offset, offset + size)`` of ``url`` (one range request)."""
    t = timeout_s(timeout)
    if size <= 0:
        return b""
    try:
        with http_request(url, {"Range": f"bytes={offset}-{offset + size - 1}"}, t) as r:
            if r.status != 206:
                raise RemoteError(f"{url}: the server ignored a range request (HTTP {r.status}).")
            return r.read()
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _fault(url, exc, t) from exc


# --------------------------------------------------------------------------------------------
# DANDI
# --------------------------------------------------------------------------------------------


@dataclass
class DandiSource:
    dandiset_id: str
    version: str | None
    path: str
    url: str  # download URL of the asset
    dandiset: Any = None  # dandi.dandiapi.RemoteDandiset, to resolve sibling assets


def _dandi_client(api_url: str | None):
    try:
        from dandi.dandiapi import DandiAPIClient
    except ImportError as exc:
        raise NWBViewError(
            'Opening dandi:// sources needs the dandi client: pip install "nwbview[dandi]".'
        ) from exc
    return DandiAPIClient(api_url=api_url or os.environ.get("NWBVIEW_DANDI_API", DANDI_API))


def resolve_dandi(source: str, *, api_url: str | None = None) -> DandiSource:
    """Resolve ``dandi://ID[@VERSION]/path`` to the asset's download URL through the DANDI API.

    Examples
    --------
    >>> resolve_dandi("dandi://000409/sub-CSHL047/sub-CSHL047_ses-b52182e7_behavior+ecephys+image.nwb").url  # doctest: +SKIP
    'https://api.dandiarchive.org/api/assets/.../download/'
    """
    m = _DANDI_RE.match(source)
    if not m or not m.group("path"):
        raise NWBViewError(
            f"Invalid DANDI source {source!r}: expected dandi://DANDISET_ID[@VERSION]/path/in/dandiset.nwb, "
            "e.g. dandi://000409/sub-X/sub-X_ses-Y.nwb."
        )
    client = _dandi_client(api_url)
    ds_id, version, path = m.group("id"), m.group("version"), m.group("path")
    try:
        from dandi.exceptions import NotFoundError
    except ImportError:  # pragma: no cover
        NotFoundError = LookupError  # noqa: N806
    try:
        dandiset = client.get_dandiset(ds_id, version, lazy=version is not None)
        asset = dandiset.get_asset_by_path(path)
    except NotFoundError as exc:
        raise MissingFileError(f"{source}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - the client raises requests' errors
        raise RemoteError(f"{source}: the DANDI API could not be asked ({type(exc).__name__}: {exc}).") from exc
    return DandiSource(ds_id, version, path, asset.base_download_url, dandiset)


def dandi_resolver(src: DandiSource) -> Callable[[str], str]:
    """A function mapping an external path relative to ``src`` (a video) to its asset's URL.

    Examples
    --------
    >>> resolve = dandi_resolver(resolve_dandi("dandi://000409/sub-X/sub-X_ses-Y.nwb"))  # doctest: +SKIP
    >>> resolve("sub-X_ses-Y_video.mp4")  # doctest: +SKIP
    'https://api.dandiarchive.org/api/assets/.../download/'
    """
    def resolve(relative: str) -> str:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(src.path), relative))
        try:
            return src.dandiset.get_asset_by_path(target).base_download_url
        except Exception as exc:  # noqa: BLE001
            raise MissingFileError(
                f"The external file {relative!r} of dandi://{src.dandiset_id}/{src.path} is not an asset of the "
                f"dandiset (looked for {target!r}): {exc}"
            ) from exc

    return resolve
