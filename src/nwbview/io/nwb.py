"""Open NWB files and read their series: time, scaling, lazy data.

This module knows NWB's rules (timestamps vs ``starting_time`` + ``rate``,
``conversion`` and ``offset``, where objects live) and turns a file's problems
into :class:`~nwbview.errors.NWBViewError` messages. It never imports
matplotlib, Qt or napari.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from xarray.backends import BackendArray
from xarray.core import indexing

from nwbview.errors import (
    FileLockedError,
    InvalidFileError,
    MissingFileError,
    NWBViewError,
    TimestampError,
)
from nwbview.io.paths import is_remote

__all__ = [
    "OpenedFile",
    "open_nwb",
    "open_remote",
    "import_extensions",
    "cached_namespaces",
    "file_namespaces",
    "nwb_path",
    "series_length",
    "series_times",
    "series_window",
    "series_scale",
    "scaled_data",
    "check_times",
    "LazySeriesArray",
    "norm_name",
    "skeleton_nodes",
    "pose_keypoints",
    "looks_like_frame_numbers",
    "PIXEL_UNITS",
    "coordinate_pairs",
]

from nwbview.units import PIXEL_UNITS  # noqa: E402,F401  (re-exported: the one set lives in nwbview.units)

#: extensions whose Python classes must be imported before reading, so that pynwb builds their
#: objects (not generic containers) from a file, with the namespace each one's files cache
_EXTENSION_MODULES = {"ndx_pose": "ndx-pose", "ndx_video_calibration": "ndx-video-calibration"}


def cached_namespaces(h5: Any) -> set[str] | None:
    """The names of the namespaces an open HDF5 file caches (its ``/specifications``).

    ``None`` when the file caches none (written with ``cache_spec=False``) or they cannot be
    listed: then what the file uses is unknown. A cached namespace may be unused: pynwb caches
    every namespace its writing process had loaded.

    Examples
    --------
    >>> with h5py.File("session.nwb", "r") as h5:  # doctest: +SKIP
    ...     cached_namespaces(h5)
    {'core', 'hdmf-common', 'hdmf-experimental', 'ndx-pose'}
    """
    try:
        specs = h5.get("specifications")
        return set(specs.keys()) if isinstance(specs, h5py.Group) and len(specs) else None
    except Exception:  # noqa: BLE001 - a damaged file: pynwb's own read reports it
        return None


def file_namespaces(path: str | os.PathLike) -> set[str] | None:
    """:func:`cached_namespaces` of a local file (``None`` if it cannot be opened: its reader says why).

    Examples
    --------
    >>> "core" in file_namespaces("session.nwb")  # doctest: +SKIP
    True
    """
    try:
        with h5py.File(path, "r") as h5:
            return cached_namespaces(h5)
    except Exception:  # noqa: BLE001 - pynwb's open, next, reports what is wrong
        return None


def import_extensions(namespaces: set[str] | None = None) -> None:
    """Import the extensions nwbview reads (ndx-pose, ndx-video-calibration) that are installed.

    Call it before reading a file, so that pynwb builds their objects, not generic containers.

    Parameters
    ----------
    namespaces : set of str, optional
        The namespaces the file caches (:func:`cached_namespaces`): only the extensions among
        them are imported (importing ndx-pose costs 0.5-1 s; most files hold no pose). ``None``
        (unknown): all of them.

    Examples
    --------
    >>> import_extensions()
    >>> import_extensions({"core", "hdmf-common"})  # a file without extensions: nothing to import
    """
    import importlib

    for mod, namespace in _EXTENSION_MODULES.items():
        if namespaces is not None and namespace not in namespaces:
            continue
        try:
            importlib.import_module(mod)
        except ImportError:
            pass


@dataclass
class OpenedFile:
    """An open NWB file and what keeps it open.

    ``io`` is ``None`` when the caller handed us an ``NWBFile`` they own; then
    closing the session does not close their file.
    """

    nwbfile: Any
    io: Any = None
    path: str | None = None
    source: str = ""
    keep_alive: list = field(default_factory=list)
    #: URL of a remote file (after redirects): relative external paths resolve against it
    base_url: str | None = None
    #: for DANDI: maps a relative external path to the URL of that asset
    external_resolver: Any = None
    #: objects whose HDF5 headers could not be read (hdmf's BrokenLinkWarning), as NWB paths
    broken: list = field(default_factory=list)

    @property
    def folder(self) -> Path | None:
        """Folder that relative external paths are resolved against."""
        return Path(self.path).resolve().parent if self.path else None

    def close(self) -> None:
        if self.io is not None:
            try:
                self.io.close()
            finally:
                self.io = None
        for obj in reversed(self.keep_alive):
            close = getattr(obj, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing must not raise
                    pass
        self.keep_alive.clear()


def open_nwb(source: Any, *, timeout: float | None = None, cache: str | os.PathLike | None = None) -> OpenedFile:
    """Open an NWB file from a path or take an already open ``pynwb.NWBFile``.

    Parameters
    ----------
    source
        A path to a local ``.nwb`` (HDF5) file, an open ``pynwb.NWBFile``, or an
        ``http(s)://`` / ``dandi://`` URL (read lazily, see :func:`open_remote`).
    timeout, cache
        For remote sources: network timeout (s) and an on-disk cache folder.

    Returns
    -------
    OpenedFile
        The file, with the IO object that keeps it open.

    Raises
    ------
    MissingFileError
        The path does not exist.
    InvalidFileError
        The file is not HDF5, is truncated or corrupt, or is not NWB.
    FileLockedError
        Another process holds the file open for writing.

    Examples
    --------
    >>> f = open_nwb("session.nwb")  # doctest: +SKIP
    >>> f.nwbfile.session_id  # doctest: +SKIP
    'demo'
    """
    import pynwb

    if isinstance(source, pynwb.NWBFile):
        path = getattr(source, "container_source", None)
        return OpenedFile(nwbfile=source, io=None, path=path, source=str(path or "<NWBFile>"))
    if is_remote(source):
        return open_remote(source, timeout=timeout, cache=cache)
    if not isinstance(source, (str, os.PathLike)):
        raise NWBViewError(
            f"Cannot open {source!r} (a {type(source).__name__}): expected a path to an .nwb file, "
            "a URL, or an open pynwb.NWBFile."
        )
    path = Path(source).expanduser()
    if not path.exists():
        hint = ""
        if path.parent.exists():
            near = sorted(p.name for p in path.parent.glob("*.nwb"))[:5]
            if near:
                hint = f" NWB files in that folder: {', '.join(near)}."
        raise MissingFileError(f"No such NWB file: {path}.{hint} Check the path.")
    if path.is_dir():
        raise InvalidFileError(
            f"{path} is a folder, not an NWB file. Zarr NWB stores are not supported yet; "
            "pass an HDF5 .nwb file."
        )
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise InvalidFileError(
            f"Cannot read {path}: permission denied. Ask its owner for read access "
            f"(`chmod a+r {path}`), or copy it somewhere you can read it."
        ) from None
    if path.stat().st_size == 0:
        raise InvalidFileError(f"{path} is empty (0 bytes): it is not an NWB file. Was the copy interrupted?")
    if not h5py.is_hdf5(path):
        raise InvalidFileError(
            f"{path} is not an NWB file: it has no HDF5 signature. nwbview reads NWB 2.x files "
            "stored in HDF5 (.nwb); check that this is the right file and that it was copied whole."
        )
    import_extensions(file_namespaces(path))
    try:
        io = pynwb.NWBHDF5IO(str(path), mode="r", load_namespaces=True)
    except OSError as exc:
        raise _os_error(path, exc) from exc
    except Exception as exc:  # noqa: BLE001 - any library failure becomes one clear message
        raise InvalidFileError(
            f"Cannot open {path} as NWB: {type(exc).__name__}: {exc}. The file may be corrupt "
            "or written by a tool that does not follow the NWB schema."
        ) from exc
    try:
        nwbfile, broken = read_noting_damage(io)
    except OSError as exc:
        io.close()
        raise _os_error(path, exc) from exc
    except Exception as exc:  # noqa: BLE001
        io.close()
        raise InvalidFileError(
            f"Cannot read {path} as NWB: {type(exc).__name__}: {exc}. The file may be truncated or "
            "corrupt, or not follow the NWB schema (try `pynwb.validate` or NWB Inspector on it)."
        ) from exc
    return OpenedFile(nwbfile=nwbfile, io=io, path=str(path.resolve()), source=str(source), broken=broken)


def open_remote(source: str, *, timeout: float | None = None, cache: str | os.PathLike | None = None):
    """Open a remote NWB file lazily; returns an :class:`~nwbview.io.nwb.OpenedFile`.

    The remfile handle, the h5py file and the pynwb IO stay open together in
    the returned object until it is closed.

    Parameters
    ----------
    source
        ``http(s)://`` URL or ``dandi://ID[@VERSION]/path``.
    timeout
        Seconds to wait for the server (default ``NWBVIEW_HTTP_TIMEOUT`` or 30).
    cache
        A folder for remfile's on-disk cache of fetched chunks
        (default ``NWBVIEW_CACHE``, else none).

    Examples
    --------
    >>> s = nwbview.open("dandi://000409/sub-X/sub-X_ses-Y.nwb")  # doctest: +SKIP
    """
    import pynwb

    from nwbview.io.remote import RemoteError, dandi_resolver, probe_url, resolve_dandi

    resolver = None
    if source.startswith("dandi://"):
        dsrc = resolve_dandi(source)
        url = dsrc.url
        resolver = dandi_resolver(dsrc)
    else:
        url = source
    info = probe_url(url, timeout)
    try:
        import remfile
    except ImportError as exc:
        raise NWBViewError('Streaming NWB files needs remfile: pip install "nwbview[stream]".') from exc
    cache = cache if cache is not None else os.environ.get("NWBVIEW_CACHE")
    disk_cache = remfile.DiskCache(os.path.expanduser(str(cache))) if cache else None
    rf = remfile.File(info.url, disk_cache=disk_cache, _size=info.size)
    keep: list = [rf]
    try:
        h5 = h5py.File(rf, "r")
        keep.append(h5)
        import_extensions(cached_namespaces(h5))
        io = pynwb.NWBHDF5IO(file=h5, mode="r", load_namespaces=True)
        nwbfile, broken = read_noting_damage(io)
    except NWBViewError:
        for k in reversed(keep):
            k.close()
        raise
    except Exception as exc:  # noqa: BLE001
        for k in reversed(keep):
            try:
                k.close()
            except Exception:  # noqa: BLE001
                pass
        text = str(exc)
        if isinstance(exc, OSError) and ("signature" in text.lower() or "not an hdf5" in text.lower()):
            raise InvalidFileError(f"{source} is not an NWB (HDF5) file: {text}.") from exc
        raise RemoteError(f"Cannot read {source} as NWB over the network: {type(exc).__name__}: {exc}") from exc
    opened = OpenedFile(nwbfile=nwbfile, io=io, path=None, source=source, keep_alive=keep, broken=broken)
    opened.base_url = info.url
    opened.external_resolver = resolver
    return opened


def read_noting_damage(io: Any) -> tuple[Any, list[str]]:
    """``io.read()``, and the NWB paths of objects hdmf could not read (a damaged header).

    hdmf only warns about those and leaves them empty; nwbview refuses to use them, naming them.
    Warnings about cached namespaces are dropped (not the user's business); others pass on.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nwbfile = io.read()
    broken = []
    for w in caught:
        text = str(w.message)
        if w.category.__name__ == "BrokenLinkWarning":
            broken.append(text.rsplit(" at ", 1)[-1].strip().strip("/"))
        elif "namespace" not in text.lower():
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return nwbfile, broken


def _os_error(path: Path, exc: OSError) -> NWBViewError:
    text = str(exc)
    low = text.lower()
    if "truncated" in low or "signature" in low or "bad object header" in low:
        return InvalidFileError(f"{path} is truncated or corrupt: {text}. Copy the file again from its source.")
    if "unable to lock" in low or "file locking" in low or "resource temporarily unavailable" in low:
        return FileLockedError(
            f"{path} is locked by another process (HDF5 file locking): {text}. Close the program "
            "that has it open for writing, or wait for it to finish, then try again."
        )
    return InvalidFileError(f"Cannot read {path}: {text}. The file may be corrupt; copy it again from its source.")


# --------------------------------------------------------------------------------------------
# where objects live
# --------------------------------------------------------------------------------------------

_TOP_SECTIONS = (
    ("acquisition", "acquisition"),
    ("processing", "processing"),
    ("stimulus", "stimulus/presentation"),
    ("stimulus_template", "stimulus/templates"),
    ("analysis", "analysis"),
    ("scratch", "scratch"),
    ("intervals", "intervals"),
    ("devices", "general/devices"),
)


def nwb_path(obj: Any) -> str:
    """The HDF5-like path of a container inside its NWB file.

    Examples
    --------
    >>> nwb_path(nwbfile.processing["behavior"]["Position"]["position"])  # doctest: +SKIP
    'processing/behavior/Position/position'
    """
    from pynwb import NWBFile

    names: list[str] = []
    cur = obj
    while cur is not None and not isinstance(cur, NWBFile):
        parent = getattr(cur, "parent", None)
        names.append(cur.name)
        if isinstance(parent, NWBFile):
            for attr, prefix in _TOP_SECTIONS:
                section = getattr(parent, attr, None)
                if section is not None and any(v is cur for v in section.values()):
                    names.append(prefix)
                    break
            else:
                if parent.electrodes is cur:
                    return "general/extracellular_ephys/electrodes"
        cur = parent
    return "/".join(reversed(names))


# --------------------------------------------------------------------------------------------
# time and values
# --------------------------------------------------------------------------------------------


def series_length(ts: Any) -> int:
    """Number of samples of a TimeSeries (data rows, or timestamps for external data)."""
    data = getattr(ts, "data", None)
    if data is not None and hasattr(data, "shape") and len(data.shape) > 0 and data.shape[0] > 0:
        return int(data.shape[0])
    if data is not None and not hasattr(data, "shape"):
        try:
            n = len(data)
            if n:
                return n
        except TypeError:
            pass
    if ts.timestamps is not None:
        return int(len(ts.timestamps))
    return 0


def check_times(t: np.ndarray, what: str) -> np.ndarray:
    """Raise a :class:`TimestampError` if ``t`` holds NaN/inf or goes backwards."""
    t = np.asarray(t, dtype=np.float64)
    if t.ndim != 1:
        raise TimestampError(f"Timestamps of {what} have shape {t.shape}; expected one value per sample.")
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise TimestampError(
            f"Timestamps of {what} hold {bad.size} non-finite values (NaN or inf), the first at "
            f"index {bad[0]}. Every sample needs a time: fix the timestamps in the file (re-export them "
            "from the acquisition system), or drop those samples."
        )
    back = np.flatnonzero(np.diff(t) < 0)
    if back.size:
        i = int(back[0])
        raise TimestampError(
            f"Timestamps of {what} go backwards: index {i + 1} is {t[i + 1]!r} s after "
            f"{t[i]!r} s at index {i} ({back.size} such steps). Timestamps must not "
            "decrease; sort the samples by time or fix the clock in the file."
        )
    return t


def series_times(ts: Any, n: int | None = None, *, what: str | None = None) -> np.ndarray:
    """Sample times of a TimeSeries on the session clock, in seconds.

    Uses ``timestamps`` when present (never rebuilt from a rate), else
    ``starting_time + arange(n) / rate``. Checks that the times are finite and
    do not go backwards, and that their count equals the data's.

    Parameters
    ----------
    ts
        A ``pynwb.TimeSeries``.
    n
        Number of samples, when the data do not say it (external video).
    what
        Name used in error messages (default: the object's NWB path).

    Examples
    --------
    >>> series_times(nwbfile.acquisition["lfp"])[:3]  # doctest: +SKIP
    array([0.    , 0.0008, 0.0016])
    """
    what = what or nwb_path(ts)
    if ts.timestamps is not None:
        t = check_times(np.asarray(ts.timestamps[:], dtype=np.float64), what)
        n_data = _data_rows(ts)
        if n_data and n_data != t.size:
            raise TimestampError(
                f"{what} has {n_data} data samples but {t.size} timestamps. Each sample needs "
                "exactly one timestamp: the file was written with mismatched arrays; re-export it."
            )
        return t
    t0, rate = _rate_clock(ts, what)
    if n is None:
        n = series_length(ts)
    t = np.arange(n, dtype=np.float64)  # in place: no temporaries for long series
    t /= rate
    t += t0
    return t


def _rate_clock(ts: Any, what: str | None = None) -> tuple[float, float]:
    """``(starting_time, rate)`` of a rate-sampled series, checked as :func:`series_times` checks them."""
    rate = ts.rate
    if rate is None or not np.isfinite(rate) or rate <= 0:
        raise TimestampError(
            f"{what or nwb_path(ts)} has neither timestamps nor a valid sampling rate (rate={rate!r}). Add "
            "timestamps or a positive rate to the series."
        )
    return float(ts.starting_time or 0.0), float(rate)


def _first_at_or_after(x: float | None, t0: float, rate: float, n: int, default: int) -> int:
    """``searchsorted(starting_time + arange(n) / rate, x, side="left")`` without building the array.

    The candidate index comes from arithmetic and is then corrected by comparing
    with sample times computed exactly as :func:`series_times` computes them
    (``i / rate + starting_time`` in float64), so the answer is the same to the
    last bit.
    """
    if x is None:
        return default
    x = float(x)
    if x != x:  # NaN sorts after every time
        return n
    g = (x - t0) * rate
    if not np.isfinite(g):
        return 0 if g < 0 else n
    i = min(max(int(np.ceil(g)), 0), n)
    while i > 0 and (i - 1) / rate + t0 >= x:
        i -= 1
    while i < n and i / rate + t0 < x:
        i += 1
    return i


def series_window(
    ts: Any, start: float | None, stop: float | None, n: int | None = None, *, what: str | None = None
) -> tuple[int, int, np.ndarray] | None:
    """Sample indices and times of ``[start, stop)`` of a rate-sampled series, without its whole clock.

    For a series with ``starting_time`` + ``rate`` (no ``timestamps``), returns
    ``(i0, i1, times)`` where ``times = starting_time + arange(i0, i1) / rate``,
    equal, value for value, to ``series_times(ts)[i0:i1]`` and to the window that
    ``searchsorted`` would find in it; only ``i1 - i0`` times are computed, so
    the cost does not grow with the recording. Returns ``None`` for a series
    with timestamps (their window needs the timestamps themselves).

    Examples
    --------
    >>> i0, i1, t = series_window(nwbfile.acquisition["lfp"], 60.0, 70.0)  # doctest: +SKIP
    >>> t[0], i1 - i0  # doctest: +SKIP
    (60.0, 10000)
    """
    if ts.timestamps is not None:
        return None
    t0, rate = _rate_clock(ts, what)
    if n is None:
        n = series_length(ts)
    i0 = _first_at_or_after(start, t0, rate, n, 0)
    i1 = max(i0, _first_at_or_after(stop, t0, rate, n, n))
    t = np.arange(i0, i1, dtype=np.float64)
    t /= rate
    t += t0
    return i0, i1, t


def _data_rows(ts: Any) -> int:
    data = getattr(ts, "data", None)
    if data is None:
        return 0
    shape = getattr(data, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) else 0
    try:
        return len(data)
    except TypeError:
        return 0


def series_scale(ts: Any) -> tuple[float, float]:
    """``(conversion, offset)`` of a TimeSeries: physical = data * conversion + offset."""
    conversion = float(getattr(ts, "conversion", 1.0) or 1.0)
    offset = float(getattr(ts, "offset", 0.0) or 0.0)
    return conversion, offset


def scaled_data(ts: Any) -> np.ndarray:
    """A TimeSeries' whole data in physical units (``data * conversion + offset``), as float64.

    Examples
    --------
    >>> from pynwb.testing.mock.base import mock_TimeSeries
    >>> scaled_data(mock_TimeSeries(data=[1, 2], conversion=2.0, offset=1.0)).tolist()
    [3.0, 5.0]
    """
    conv, off = series_scale(ts)
    return np.asarray(ts.data[:], dtype=np.float64) * conv + off


class LazySeriesArray(BackendArray):
    """A TimeSeries' data as a lazily indexed, physically scaled array.

    Indexing reads only the asked rows and columns from the file (h5py) and
    returns ``data * gain + offset`` as float64, where ``gain`` may be one value
    or one per column (NWB's ``channel_conversion``).
    """

    def __init__(self, data: Any, gain: float | np.ndarray = 1.0, offset: float = 0.0):
        self._data = data
        self._gain = np.asarray(gain, dtype=np.float64)
        self._offset = float(offset)
        self.shape = tuple(int(s) for s in data.shape)
        self.dtype = np.dtype(np.float64)

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.OUTER, self._raw)

    def _raw(self, key: tuple) -> np.ndarray:
        ndim = len(self.shape)
        key = tuple(key) + (slice(None),) * (ndim - len(key))
        squeeze = tuple(i for i, k in enumerate(key) if isinstance(k, (int, np.integer)))
        key = tuple(slice(int(k), int(k) + 1) if isinstance(k, (int, np.integer)) else k for k in key)
        rows = key[0]
        if isinstance(rows, np.ndarray):
            # h5py wants sorted unique row lists: read the covering block, then pick
            lo, hi = (int(rows.min()), int(rows.max()) + 1) if rows.size else (0, 0)
            out = self._read((slice(lo, hi),) + key[1:])[rows - lo]
        else:
            out = self._read(key)
        return np.squeeze(out, axis=squeeze) if squeeze else out

    def _read(self, key: tuple) -> np.ndarray:
        """Read rows ``key[0]`` (a slice) and columns ``key[1]`` (slice or index array)."""
        if len(self.shape) == 1:
            return np.asarray(self._data[key[0]]).astype(np.float64) * float(self._gain) + self._offset
        cols = np.atleast_1d(np.arange(self.shape[1])[key[1]])
        uniq, inverse = np.unique(cols, return_inverse=True)
        if uniq.size == 0:
            raw = np.asarray(self._data[(key[0], slice(0, 0)) + key[2:]])
        elif uniq[-1] - uniq[0] + 1 == uniq.size:  # contiguous: one hyperslab
            raw = np.asarray(self._data[(key[0], slice(int(uniq[0]), int(uniq[-1]) + 1)) + key[2:]])
        else:
            raw = np.asarray(self._data[(key[0], [int(c) for c in uniq]) + key[2:]])
        raw = raw[:, inverse]
        gain = self._gain
        if gain.ndim == 1:
            gain = gain[cols].reshape((1, -1) + (1,) * (raw.ndim - 2))
        return raw.astype(np.float64) * gain + self._offset


# --------------------------------------------------------------------------------------------
# names and pose layouts
# --------------------------------------------------------------------------------------------

#: what converters put before a skeleton node's name in a PoseEstimationSeries name
#: (neuroconv's DeepLabCut, SLEAP and Lightning Pose interfaces: ``PoseEstimationSeriesSnout``)
SERIES_PREFIXES = ("PoseEstimationSeries",)


def norm_name(name: str) -> str:
    """A name without case, spaces, underscores and hyphens, for loose matching.

    Examples
    --------
    >>> norm_name("Tail_base") == norm_name("TailBase")
    True
    """
    return re.sub(r"[\s_\-]", "", str(name)).lower()


def skeleton_nodes(pe: Any) -> list[str]:
    """The node names of a ``PoseEstimation``'s skeleton (empty without one).

    Examples
    --------
    >>> skeleton_nodes(nwbfile.processing["behavior"]["PoseEstimation"])  # doctest: +SKIP
    ['snout', 'tail_base']
    """
    skel = getattr(pe, "skeleton", None)
    if skel is None or getattr(skel, "nodes", None) is None:
        return []
    return [n.decode() if isinstance(n, bytes) else str(n) for n in skel.nodes[:]]


def pose_keypoints(pe: Any) -> list[tuple[str, Any]]:
    """The keypoints of a ``PoseEstimation``: ``(name, PoseEstimationSeries)`` in the skeleton's order.

    A series is named by the skeleton node it matches: its own name when it is a
    node, else the node it equals once a converter's prefix (``PoseEstimationSeries``)
    is removed and case, spaces and underscores are ignored (neuroconv writes the
    node ``leftear`` as the series ``PoseEstimationSeriesLeftear``). A series that
    matches no node, or several, keeps its own name. Series that match a node come
    in the node order, the others after them, sorted by name (pynwb returns the
    series sorted by name, not in the order they were written).

    Examples
    --------
    >>> [k for k, _ in pose_keypoints(pe)]  # doctest: +SKIP
    ['snout', 'leftear', 'rightear', 'tailbase']
    """
    series = dict(pe.pose_estimation_series)
    nodes = skeleton_nodes(pe)
    by_norm: dict[str, list[str]] = {}
    for n in nodes:
        by_norm.setdefault(norm_name(n), []).append(n)
    names: dict[str, str] = {}
    for sname in series:
        if sname in nodes:
            names[sname] = sname
            continue
        base = sname
        for prefix in SERIES_PREFIXES:
            if base.startswith(prefix) and len(base) > len(prefix):
                base = base[len(prefix):]
                break
        hits = by_norm.get(norm_name(base), [])
        names[sname] = hits[0] if len(hits) == 1 else sname
    # two series naming one node: the one that is the node keeps it, the other its own name
    taken: dict[str, list[str]] = {}
    for sname, key in names.items():
        taken.setdefault(key, []).append(sname)
    for key, snames in taken.items():
        if len(snames) > 1:
            for sname in snames:
                if sname != key:
                    names[sname] = sname
    order = {n: i for i, n in enumerate(nodes)}
    ordered = sorted(series, key=lambda s: (0, order[names[s]], "") if names[s] in order else (1, 0, names[s]))
    return [(names[s], series[s]) for s in ordered]


def looks_like_frame_numbers(t: Any) -> bool:
    """True when times look like video frame numbers, not seconds.

    At least 10 values, all whole numbers >= 0, strictly increasing, most of them
    one apart (a tracker that skips frames where it found nothing still counts).

    Examples
    --------
    >>> looks_like_frame_numbers(np.arange(3.0, 50.0))
    True
    >>> looks_like_frame_numbers(np.arange(50) / 30)
    False
    """
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    if t.size < 10 or not np.all(np.isfinite(t)) or t[0] < 0 or np.any(t != np.round(t)):
        return False
    d = np.diff(t)
    return bool(np.all(d >= 1) and np.median(d) == 1)


def coordinate_pairs(names: list[str]) -> list[tuple[str, ...]]:
    """Coordinate columns among one-column series names: ``[("x", "y"), ("X", "Y")]``.

    A coordinate column is named ``x``/``y``/``z`` after a common stem (``x``, ``pos_x``,
    ``led1 X``); columns such as ``time(ms)``, ``px`` or ``unused`` are not. Lower-case
    pairs come first, then the file's order.

    Examples
    --------
    >>> coordinate_pairs(["time(ms)", "X", "Y", "x", "y", "PX", "px", "px_total", "unused"])
    [('x', 'y'), ('X', 'Y')]
    """
    stems: dict[str, dict[str, str]] = {}
    for n in names:
        if not n or n[-1] not in "xyzXYZ":
            continue
        stem = n[:-1]
        if stem and stem[-1].isalnum() and not stem.endswith(("_", " ", "-", ".")) and stem[-1].isalpha():
            continue  # "px", "index": the letter ends a word, it is not an axis
        stems.setdefault(stem + ("|lower" if n[-1].islower() else "|upper"), {})[n[-1].lower()] = n
    out = []
    for key, axes in stems.items():
        if "x" in axes and "y" in axes:
            out.append((key.endswith("|upper"), tuple(axes[a] for a in "xyz" if a in axes)))
    out.sort(key=lambda p: p[0])
    return [p for _, p in out]
