"""Session: the lazy, typed view of one NWB file.

A :class:`Session` is what :func:`nwbview.open` returns. Its methods give each
kind of stream as xarray on the session clock, in physical units, with the
dims and attrs movement uses:

- ``position()``: ``(time, space)``
- ``head_direction()``: ``(time,)`` in radians
- ``pose()``: a Dataset with ``position (time, space, keypoint, individual)``
  and ``confidence (time, keypoint, individual)``
- ``lfp()`` and ``timeseries()``: ``(time, channel)``, read lazily
- ``video()``: a frame-accurate :class:`~nwbview.io.video.VideoReader`
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import xarray as xr
from xarray.core import indexing

from nwbview.errors import (
    renamed_keywords,
    AmbiguousStreamError,
    CalibrationError,
    DataShapeError,
    InvalidFileError,
    MissingFileError,
    NWBViewError,
    NWBViewWarning,
    StreamNotFoundError,
)
from nwbview.io.inventory import ExternalVideo, Inventory, StreamInfo, build_inventory, resolve_external_files
from nwbview.io.nwb import (
    LazySeriesArray,
    OpenedFile,
    norm_name,
    nwb_path,
    open_nwb,
    scaled_data,
    series_length,
    series_scale,
    series_times,
    series_window,
)
from nwbview.units import cm_per_unit, is_pixel_unit, normalize_unit, same_unit
from nwbview.io.nwb import coordinate_pairs as _coordinate_pairs
from nwbview.io.paths import is_remote

from nwbview.posedata import frame_number_times, one_recording, pose_dataset, stack_individuals, stackable

__all__ = ["Session", "open"]

_VOLT_FACTORS = {"v": 1.0, "volt": 1.0, "volts": 1.0, "mv": 1e-3, "millivolts": 1e-3, "uv": 1e-6, "µv": 1e-6, "microvolts": 1e-6}
_OUT_UNITS = {"uV": 1e-6, "mV": 1e-3, "V": 1.0}


def open(  # noqa: A001
    source: Any,
    *,
    video: str | os.PathLike | None = None,
    timeout: float | None = None,
    cache: str | None = None,
) -> "Session":
    """Open an NWB session.

    Parameters
    ----------
    source
        A path to a ``.nwb`` file, an already open ``pynwb.NWBFile`` (a file
        you streamed or built in memory), or, with the ``stream`` extra, an
        ``http(s)://`` or ``dandi://`` URL (read lazily: only the bytes needed).
    video
        The video file of a pose-only file (sleap-io, DLC2NWB and neuroconv's
        DeepLabCut interface write no ``ImageSeries``: their ``PoseEstimation``
        names its video only in ``original_videos``). Without it, that video is
        looked for beside the NWB file by its file name. It becomes the
        session's video (``s.video()``), and pose times stored as frame numbers
        are mapped through its frame times.
    timeout
        Remote sources: seconds to wait for the server (default 30, or
        ``NWBVIEW_HTTP_TIMEOUT``).
    cache
        Remote sources: a folder to cache fetched bytes on disk.

    Returns
    -------
    Session
        Keeps the file open until closed; use it as a context manager.

    Examples
    --------
    A mouse explored an open field; its session file has a video, tracked
    positions, pose keypoints and LFP:

    >>> import nwbview
    >>> with nwbview.open("demo_session.nwb") as s:  # doctest: +SKIP
    ...     pos = s.position()              # (time, space) in cm
    ...     theta = s.lfp(channels=[0], start=10, stop=20)

    A SLEAP file written by sleap-io, whose video was recorded on another machine:

    >>> s = nwbview.open("flies.nwb", video="videos/flies.mp4")  # doctest: +SKIP
    >>> s.pose().individual.values  # doctest: +SKIP
    array(['female', 'male'], dtype=object)
    """
    if video is not None:
        video = Path(os.fspath(video)).expanduser()
        if not video.is_file():
            raise MissingFileError(
                f"Video file not found: {video} (given as the session's video, video=). Check the path "
                f"(a relative path is taken from the current folder, {os.getcwd()})."
            )
    return Session(open_nwb(source, timeout=timeout, cache=cache), video=video)


class Session:
    """One NWB file, viewed as streams on a single session clock.

    Build it with :func:`nwbview.open`. The file stays open as long as the
    session does; close it with :meth:`close` or a ``with`` block.

    Examples
    --------
    >>> s = nwbview.open("demo_session.nwb")  # doctest: +SKIP
    >>> s.position().sel(space="x").mean()  # doctest: +SKIP
    >>> s.close()  # doctest: +SKIP
    """

    def __init__(self, opened: OpenedFile, video: str | os.PathLike | None = None):
        self._f = opened
        self._video_file = None if video is None else str(Path(os.fspath(video)).expanduser().resolve())
        self._inventory: Inventory | None = None
        self._times: dict[int, np.ndarray] = {}

    def _series_times(self, ts: Any, n: int | None = None) -> np.ndarray:
        """Times of a series, computed once per session (read-only array)."""
        key = id(ts)
        t = self._times.get(key)
        if t is None:
            t = series_times(ts, n=n)
            t.setflags(write=False)
            self._times[key] = t
        return t

    # -- life cycle --------------------------------------------------------------------------
    @property
    def nwbfile(self) -> Any:
        """The ``pynwb.NWBFile``."""
        return self._f.nwbfile

    @property
    def opened(self) -> OpenedFile:
        """The open file behind the session: its path or URL, the objects that keep a stream open."""
        return self._f

    @property
    def path(self) -> str | None:
        """Local path of the file (None for an in-memory or remote file)."""
        return self._f.path

    @property
    def source(self) -> str:
        """What the session was opened from (path or URL)."""
        return self._f.source

    @property
    def is_remote(self) -> bool:
        """True when the file is read over the network."""
        return is_remote(self._f.source)

    def close(self) -> None:
        """Close the file (if the session opened it)."""
        self._f.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<nwbview.Session {self.source}>"

    # -- inventory ---------------------------------------------------------------------------
    def inventory(self) -> Inventory:
        """Every stream nwbview can use, with its path, shape, unit, time range and problems.

        Examples
        --------
        >>> print(s.inventory())  # doctest: +SKIP
        """
        if self._inventory is None:
            self._inventory = build_inventory(self._f, video=self._video_file)
        return self._inventory

    def find_stream(self, kind: str, name: str | None = None, *, prefer=None, label: str | None = None) -> StreamInfo:
        """The one stream of a kind, by name: the one lookup every part of nwbview uses.

        Parameters
        ----------
        kind : {"video", "position", "head_direction", "pose", "lfp", "timeseries", ...}
            An inventory kind (:meth:`inventory` lists them).
        name : str, optional
            The stream's name or NWB object path. Matched in this order: the exact object path,
            the exact name, a path suffix, then the name ignoring case and punctuation. None: the
            file's only stream of that kind (or the one ``prefer`` picks among several).
        prefer : callable, optional
            ``StreamInfo -> bool``, choosing among several streams when no name is given.
        label : str, optional
            How the kind is called in error messages.

        Returns
        -------
        StreamInfo

        Raises
        ------
        StreamNotFoundError
            No stream of that kind, or none matching ``name`` (the message lists the candidates).
        AmbiguousStreamError
            Several match and none was chosen (the message lists them).

        Examples
        --------
        >>> with nwbview.open("session.nwb") as s:  # doctest: +SKIP
        ...     s.find_stream("position", "head").path
        'processing/behavior/Position/head'
        """
        info = self._pick_any(kind, name, prefer=prefer, label=label)
        self._check_readable(info.path)
        return info

    def _check_readable(self, path: str) -> None:
        """Refuse a stream whose HDF5 objects hdmf could not read (it would look empty)."""
        damaged = [p for p in self._f.broken if p == path or p.startswith(path + "/")]
        if damaged:
            raise InvalidFileError(
                f"{path} in {self.source} cannot be read: the HDF5 header of {', '.join(damaged)} is "
                "damaged (the file is corrupt there). Copy the file again from its source; other streams "
                "of the file can still be used."
            )

    def _pick_any(self, kind: str, name: str | None, *, prefer=None, label: str | None = None) -> StreamInfo:
        label = label or kind.replace("_", " ")
        items = self.inventory().of_kind(kind)
        if not items and kind == "video":
            missing = [p.details["_video_missing"] for p in self.inventory().of_kind("pose") if p.details.get("_video_missing")]
            if missing:
                raise MissingFileError(f"No video in {self.source}: {missing[0]}.")
        if not items:
            raise StreamNotFoundError(
                f"No {label} in {self.source}. `nwbview info {self.source}` lists what the file holds."
            )
        if name is not None:
            hits = _match(items, name)
            if not hits:
                raise StreamNotFoundError(
                    f"No {label} named {name!r} in {self.source}. Available: {_names(items)}."
                )
            if len(hits) > 1:
                raise AmbiguousStreamError(
                    f"Several {label} streams match {name!r}: {_names(hits)}. Pass the full NWB path."
                )
            return hits[0]
        if len(items) == 1:
            return items[0]
        if prefer is not None:
            preferred = [s for s in items if prefer(s)]
            if len(preferred) == 1:
                return preferred[0]
        option = {"lfp": "--lfp", "pose": "--pose", "head_direction": "--head-direction", "video": "--video", "position": "--position"}.get(kind)
        how = f" ({kind}=NAME, or {option} NAME on the command line)" if option else ""
        raise AmbiguousStreamError(
            f"{self.source} has {len(items)} {label} streams: {_names(items)}. Pass one of these "
            f"names (or NWB paths) to choose{how}."
        )

    # -- position ----------------------------------------------------------------------------
    @renamed_keywords(frame="coordinates")
    def position(self, name: str | None = None, *, coordinates: str = "native") -> xr.DataArray:
        """Tracked positions as ``(time, space)``.

        Parameters
        ----------
        name
            The ``Position`` container, a ``SpatialSeries`` name or its NWB path.
            With none, the only one is taken.
        coordinates : {"native", "world", "pixel"}, default: "native"
            ``native`` returns the stored values; ``world`` and ``pixel`` convert
            through the video calibration when the stored frame differs.

        Returns
        -------
        xarray.DataArray
            ``space = ["x", "y"]`` (or ``["x"]``, ``["x", "y", "z"]``), attrs
            ``units``, ``space_unit``, ``source``, ``reference_frame``, ``coordinates``.

        Examples
        --------
        >>> pos = s.position()  # doctest: +SKIP
        >>> pos.attrs["units"]  # doctest: +SKIP
        'cm'
        """
        series, labels = self._position_group(name)
        first = series[0]
        t = self._series_times(first)
        self._warn_clock([self._info_of(s) for s in series])
        if len(series) == 1:
            values = scaled_data(first)
            if values.ndim == 1:
                values = values[:, None]
            if labels is None:
                labels = ["x", "y", "z"][: values.shape[1]] if values.shape[1] <= 3 else [f"d{i}" for i in range(values.shape[1])]
        else:
            cols = []
            for s in series:
                v = scaled_data(s)
                if v.shape[0] != t.size:
                    raise DataShapeError(
                        f"The one-column position series of {nwb_path(first.parent)} differ in length "
                        f"({', '.join(f'{s.name}: {series_length(s)}' for s in series)}); they cannot "
                        "be combined. Pass one of their names."
                    )
                cols.append(v.reshape(-1))
            values = np.stack(cols, axis=1)
        unit = first.unit or ""
        native = "pixel" if is_pixel_unit(unit) else "world"
        da = xr.DataArray(
            values,
            dims=("time", "space"),
            coords={"time": t, "space": labels},
            name="position",
            attrs={
                "units": unit,
                "space_unit": unit,
                "source": nwb_path(first) if len(series) == 1 else nwb_path(first.parent),
                "reference_frame": getattr(first, "reference_frame", "") or "",
                "coordinates": native,
            },
        )
        if len(series) > 1:
            da.attrs["columns"] = [s.name for s in series]
        return self.to_coordinates(da, coordinates)

    def _info_of(self, obj: Any) -> StreamInfo | None:
        for s in self.inventory():
            if s.obj is obj:
                return s
        return None

    def _warn_clock(self, infos: Iterable[StreamInfo | None]) -> None:
        """Warn (once per stream and session) about a clock the inventory found suspicious."""
        done = self.__dict__.setdefault("_clock_warned", set())
        for info in infos:
            if info is None or info.path in done:
                continue
            done.add(info.path)
            for msg in info.details.get("_clock", []):
                warnings.warn(f"{info.path}: {msg}", NWBViewWarning, stacklevel=4)

    def _position_group(self, name: str | None) -> tuple[list, list[str] | None]:
        """The series a position is read from, and their space labels (None: from the data's columns).

        ``name`` is a ``Position`` container, a SpatialSeries (name or path), or columns of a
        container of one-column series: ``"x,y"`` or ``"Position/X,Y"``.
        """
        items = self.inventory().of_kind("position")
        if not items:
            raise StreamNotFoundError(f"No position in {self.source}. `nwbview info {self.source}` lists what the file holds.")
        groups: dict[str, list[StreamInfo]] = {}
        for s in items:
            parent = s.obj.parent
            key = nwb_path(parent) if type(parent).__name__ == "Position" else s.path
            groups.setdefault(key, []).append(s)
        how = "position=NAME, or --position NAME on the command line"
        if name is not None and "," in name:
            head, _, cols = name.strip("/").rpartition("/")
            columns = [c.strip() for c in cols.split(",") if c.strip()]
            cands = {k: m for k, m in groups.items() if not head or head in (k, k.rsplit("/", 1)[-1])}
            cands = {k: m for k, m in cands.items() if all(_column(m, c) is not None for c in columns)}
            if not cands:
                raise StreamNotFoundError(
                    f"No position container of {self.source} holds one-column series named {', '.join(map(repr, columns))}. "
                    f"Position series: {_names(items)}."
                )
            if len(cands) > 1:
                raise AmbiguousStreamError(
                    f"Several position containers hold columns {columns}: {', '.join(cands)}. Name the container: "
                    f"'{next(iter(cands))}/{','.join(columns)}'."
                )
            members = next(iter(cands.values()))
            chosen = [_column(members, c) for c in columns]
            if len(columns) > 3 or len(set(id(c) for c in chosen)) != len(chosen):
                raise NWBViewError(f"Invalid position columns {columns}: give 1 to 3 different columns, as x,y[,z].")
            for s in chosen:
                self._check_readable(s.path)
            return [s.obj for s in chosen], ["x", "y", "z"][: len(chosen)]
        if name is not None:
            for key, members in groups.items():
                if name in (key, key.rsplit("/", 1)[-1]):
                    chosen = members
                    break
            else:
                hits = _match(items, name)
                if not hits:
                    raise StreamNotFoundError(f"No position named {name!r} in {self.source}. Available: {_names(items)}.")
                if len(hits) > 1:
                    raise AmbiguousStreamError(f"Several positions match {name!r}: {_names(hits)}. Pass the full NWB path.")
                chosen = hits
        elif len(groups) == 1:
            chosen = next(iter(groups.values()))
        else:
            raise AmbiguousStreamError(
                f"{self.source} has {len(groups)} position streams: {', '.join(groups)}. Pass one of "
                f"these names ({how})."
            )
        if len(chosen) > 1:
            chosen, labels = self._from_group(chosen, how)
        else:
            labels = None
        for s in chosen:
            self._check_readable(s.path)
        return [s.obj for s in chosen], labels

    def _from_group(self, members: list[StreamInfo], how: str) -> tuple[list[StreamInfo], list[str] | None]:
        """What a ``Position`` container of several series gives: one multi-column series, or its coordinate columns."""
        where = nwb_path(members[0].obj.parent)
        multi = [s for s in members if len(s.shape) > 1 and s.shape[1] > 1]
        if len(multi) == 1:
            return multi, None
        if len(multi) > 1:
            named = [s for s in multi if _norm(_strip_prefix(s.name)) == "position"]
            if len(named) == 1:
                return named, None
            raise AmbiguousStreamError(
                f"{where} holds several position series ({', '.join(s.name for s in multi)}); pass one of "
                f"their names ({how})."
            )
        pairs = _coordinate_pairs([s.name for s in members])
        if not pairs:
            raise AmbiguousStreamError(
                f"{where} holds one-column series ({', '.join(s.name for s in members)}) and none is named as a "
                f"coordinate (x, y, z). Name the columns to use as x,y: position='{where.rsplit('/', 1)[-1]}/A,B' "
                f"(--position '{where.rsplit('/', 1)[-1]}/A,B')."
            )
        first = pairs[0]
        if len(pairs) > 1:
            done = self.__dict__.setdefault("_pair_warned", set())
            if where not in done:
                done.add(where)
                others = "; ".join(",".join(p) for p in pairs[1:])
                warnings.warn(
                    f"{where} holds several coordinate columns: {','.join(first)} is used as x,y; the others "
                    f"({others}) are not. To use them: position='{where.rsplit('/', 1)[-1]}/{pairs[1][0]},{pairs[1][1]}' "
                    f"(--position '{where.rsplit('/', 1)[-1]}/{pairs[1][0]},{pairs[1][1]}').",
                    NWBViewWarning,
                    stacklevel=4,
                )
        return [_column(members, c) for c in first], ["x", "y", "z"][: len(first)]

    # -- head direction ----------------------------------------------------------------------
    def head_direction(self, name: str | None = None) -> xr.DataArray:
        """Head direction as ``(time,)`` in radians (converted from degrees when stored so).

        Examples
        --------
        >>> hd = s.head_direction()  # doctest: +SKIP
        >>> hd.attrs["units"]  # doctest: +SKIP
        'radians'
        """
        info = self.find_stream("head_direction", name)
        self._warn_clock([info])
        ts = info.obj
        t = series_times(ts)
        v = scaled_data(ts)
        if v.ndim > 1:
            if v.shape[1] != 1:
                raise DataShapeError(
                    f"{info.path} has {v.shape[1]} columns; head direction needs one angle per sample."
                )
            v = v[:, 0]
        if normalize_unit(ts.unit) == "degrees":
            v = np.deg2rad(v)
        return xr.DataArray(
            v,
            dims=("time",),
            coords={"time": t},
            name="head_direction",
            attrs={"units": "radians", "source": info.path, "reference_frame": getattr(ts, "reference_frame", "") or ""},
        )

    # -- pose --------------------------------------------------------------------------------
    @renamed_keywords(frame="coordinates")
    def pose(self, name: str | None = None, *, coordinates: str = "native") -> xr.Dataset:
        """Pose keypoints as a movement-style Dataset.

        Keypoints are named by the skeleton's nodes (a converter's series name such
        as ``PoseEstimationSeriesSnout`` becomes ``snout``). Keypoint series with
        different times (sleap-io writes each node only where it was found) are
        combined on the union of their times, NaN where a keypoint is missing.

        Parameters
        ----------
        name
            A ``PoseEstimation`` name or path, or the name of a track (sleap-io's
            ``track=<name>`` containers). With none: the only one, or all of them
            as individuals when they are tracks of one recording (same video and
            skeleton) or share keypoints and times.
        coordinates : {"native", "world", "pixel"}, default: "native"
            ``world`` converts pixel keypoints to world units (cm) through the
            calibration of the video the pose links to.

        Returns
        -------
        xarray.Dataset
            ``position (time, space, keypoint, individual)`` and
            ``confidence (time, keypoint, individual)``.

        Examples
        --------
        >>> ds = s.pose(coordinates="world")  # doctest: +SKIP
        >>> ds.position.sel(keypoint="snout", space="x")  # doctest: +SKIP

        Two flies tracked by SLEAP and saved with sleap-io's ``save_nwb``:

        >>> s.pose().individual.values  # doctest: +SKIP
        array(['female', 'male'], dtype=object)
        >>> s.pose("male").sizes["individual"]  # doctest: +SKIP
        1
        """
        items = self.inventory().of_kind("pose")
        if name is None and len(items) > 1:
            parts = [pose_dataset(s, self._series_times) for s in items]
            if not (stackable(parts) or one_recording(items, parts)):
                raise AmbiguousStreamError(
                    f"{self.source} has {len(items)} pose estimations with different keypoints or times: "
                    f"{_names(items)}. Pass one name (pose=NAME, or --pose NAME on the command line)."
                )
            self._warn_clock(items)
            ds = frame_number_times(stack_individuals(parts), items, self.video_times)
            return self.to_coordinates(ds, coordinates, video=items[0].details.get("video"))
        info = self._pick_pose(name)
        self._warn_clock([info])
        ds = frame_number_times(pose_dataset(info, self._series_times), [info], self.video_times)
        return self.to_coordinates(ds, coordinates, video=info.details.get("video"))

    def _pick_pose(self, name: str | None) -> StreamInfo:
        if name is not None:
            items = self.inventory().of_kind("pose")
            if not _match(items, name):
                hits = [s for s in items if _norm(str(s.details.get("individual", ""))) == _norm(name)]
                if not hits:  # neuroconv's SLEAP interface: the track's container is PoseEstimation<Track>
                    hits = [s for s in items if _norm(_strip_prefix(s.name, "PoseEstimation")) == _norm(name)]
                if len(hits) == 1:
                    return hits[0]
        return self.find_stream("pose", name, label="pose estimation")

    # -- signals -----------------------------------------------------------------------------
    def lfp(
        self,
        name: str | None = None,
        *,
        channels: int | Sequence[int] | None = None,
        start: float | None = None,
        stop: float | None = None,
        units: str = "uV",
    ) -> xr.DataArray:
        """LFP (any ``ElectricalSeries``) as a lazy ``(time, channel)`` array.

        Nothing is read from the file until values are used; ``channels``,
        ``start`` and ``stop`` limit what is read.

        Parameters
        ----------
        name
            Series name or path. With none: the only ElectricalSeries, or the one
            inside an ``LFP``/``FilteredEphys`` container (or named like "lfp").
        channels
            Column indices of the series (0-based).
        start, stop
            Session time in seconds, half-open ``[start, stop)``.
        units : {"uV", "mV", "V"}, default: "uV"

        Examples
        --------
        Ten seconds of channel 3, in microvolts:

        >>> x = s.lfp(channels=[3], start=60, stop=70)  # doctest: +SKIP
        >>> x.values.shape  # doctest: +SKIP
        (12500, 1)
        """
        info = self.find_stream("lfp", name, prefer=_is_lfp_like, label="LFP (ElectricalSeries)")
        self._warn_clock([info])
        da = self._signal(info, units=units, start=start, stop=stop)
        return _select(da, channels, None, None)

    def timeseries(
        self,
        name: str,
        *,
        channels: int | Sequence[int] | None = None,
        start: float | None = None,
        stop: float | None = None,
    ) -> xr.DataArray:
        """Any TimeSeries by name or NWB path, as a lazy ``(time,)`` or ``(time, channel)`` array.

        Examples
        --------
        >>> s.timeseries("running_speed")  # doctest: +SKIP
        """
        items = [s for s in self.inventory() if s.kind in {"timeseries", "lfp", "position", "head_direction", "result"}]
        hits = _match(items, name)
        if not hits:
            raise StreamNotFoundError(f"No time series named {name!r} in {self.source}. Available: {_names(items)}.")
        if len(hits) > 1:
            raise AmbiguousStreamError(f"Several time series match {name!r}: {_names(hits)}. Pass the full NWB path.")
        units = "uV" if hits[0].kind == "lfp" else None
        return _select(self._signal(hits[0], units=units, start=start, stop=stop), channels, None, None)

    def _signal(
        self, info: StreamInfo, units: str | None, start: float | None = None, stop: float | None = None
    ) -> xr.DataArray:
        """The series as a lazy DataArray, cut to ``[start, stop)`` before it is built.

        A rate-sampled series gets the times of the window only
        (``starting_time + arange(i0, i1) / rate``): the cost of a window does not
        grow with the recording. Without a window, or for timestamps, the whole
        time coordinate is built (once per session).
        """
        ts = info.obj
        conv, off = series_scale(ts)
        gain: float | np.ndarray = conv
        cc = getattr(ts, "channel_conversion", None)
        if cc is not None:
            gain = conv * np.asarray(cc[:], dtype=np.float64)
        unit = ts.unit or ""
        if units is not None:
            if units not in _OUT_UNITS:
                raise NWBViewError(f"Invalid units {units!r}. Must be one of {sorted(_OUT_UNITS)}.")
            f = _VOLT_FACTORS.get(unit.lower())
            if f is None:
                warnings.warn(
                    f"{info.path} has unit {unit!r}, not volts; values are returned as stored, not in {units}.",
                    NWBViewWarning,
                    stacklevel=3,
                )
            else:
                scale = f / _OUT_UNITS[units]
                gain = np.asarray(gain) * scale
                off = off * scale
                unit = units
        data = ts.data
        if not hasattr(data, "shape"):
            data = np.asarray(data)
        backend = LazySeriesArray(data, gain=gain, offset=off)
        lazy = indexing.LazilyIndexedArray(backend)
        n = backend.shape[0]
        window = series_window(ts, start, stop, n=n) if (start is not None or stop is not None) else None
        if window is not None:
            i0, i1, t = window
        else:
            t = self._series_times(ts)
            if n != t.size:
                raise DataShapeError(f"{info.path}: {n} samples but {t.size} times.")
            i0, i1 = 0, n
            if start is not None or stop is not None:
                i0 = 0 if start is None else int(np.searchsorted(t, start, side="left"))
                i1 = max(i0, n if stop is None else int(np.searchsorted(t, stop, side="left")))
                t = t[i0:i1]
        if len(backend.shape) == 1:
            var = xr.Variable(("time",), lazy)
            coords: dict = {"time": t}
        else:
            var = xr.Variable(("time", "channel") + tuple(f"dim_{i}" for i in range(2, len(backend.shape))), lazy)
            coords = {"time": t, "channel": np.arange(backend.shape[1])}
            electrodes = _electrode_ids(ts)
            if electrodes is not None and len(electrodes) == backend.shape[1]:
                coords["electrode"] = ("channel", electrodes)
        if (i0, i1) != (0, n):
            var = var[i0:i1]  # still lazy: nothing is read
        return xr.DataArray(
            var,
            coords=coords,
            name=ts.name,
            attrs={"units": unit, "source": info.path, "rate": info.rate or np.nan},
        )

    # -- video -------------------------------------------------------------------------------
    def video(self, name: str | None = None, **reader_options: Any):
        """A frame-accurate, lazy reader of a video (``ImageSeries``, or the video file of a pose-only file).

        Parameters
        ----------
        name
            The ImageSeries name or path (or the video file's name); with none,
            the only video. A pose-only file's video is the one given to
            :func:`open` (``video=``) or, without it, the file named in
            ``PoseEstimation.original_videos`` found beside the NWB file; its
            frame times are the file's own.
        **reader_options
            Passed to :class:`~nwbview.io.video.VideoReader` (``crop``,
            ``downsample``, ``cache_size``).

        Returns
        -------
        VideoReader
            ``reader[i]`` is frame ``i`` as RGB; ``reader.times`` are frame times on
            the session clock.

        Examples
        --------
        >>> v = s.video()  # doctest: +SKIP
        >>> frame = v[v.frame_at(12.5)]  # doctest: +SKIP
        """
        info = self.find_stream("video", name, prefer=_given_video)
        self._warn_clock([info])
        obj = info.obj
        if isinstance(obj, ExternalVideo):  # the video of a pose-only file: frame times from the file itself
            from nwbview.io.video import VideoReader

            return VideoReader([obj.path], None, None, name=info.name, source=info.path, **reader_options)
        if obj.external_file is None:
            from nwbview.io.video import VideoReader

            return VideoReader.from_array(obj.data, series_times(obj), name=obj.name, **reader_options)
        files = resolve_external_files(obj, self._f)
        for f in files:
            if f["exists"] is False:
                where = (
                    f" (the file stores {f['stored']!r}, resolved against the NWB file's folder {self._f.folder})"
                    if f["stored"] != f["resolved"]
                    else ""
                )
                raise MissingFileError(
                    f"Video file of {info.path} not found: {f['resolved']}{where}. Put the video next to "
                    "the NWB file as it was recorded, or fix the path stored in the file."
                )
        from nwbview.io.video import VideoReader, probe_video

        paths = [f["resolved"] for f in files]
        sf = obj.starting_frame
        starting = [int(v) for v in sf[:]] if sf is not None else None
        if obj.timestamps is not None:
            times = series_times(obj)
        else:
            n = sum(int(probe_video(p)["n_frames"]) for p in paths)
            times = series_times(obj, n=n)
        return VideoReader(paths, starting, times, name=obj.name, source=info.path, **reader_options)

    def video_times(self, name: str | None = None) -> np.ndarray:
        """Frame times of a video on the session clock, without opening the video when possible.

        With timestamps in the file, they are used (cut to the frames the file
        holds when its index is known); otherwise the video is opened.

        Examples
        --------
        >>> t = s.video_times()  # doctest: +SKIP
        """
        from nwbview.io.video import cached_index_frames

        info = self.find_stream("video", name, prefer=_given_video)
        obj = info.obj
        if not isinstance(obj, ExternalVideo) and obj.external_file is not None and obj.timestamps is not None:
            t = self._series_times(obj, n=len(obj.timestamps))
            counts = [cached_index_frames(f["resolved"]) for f in resolve_external_files(obj, self._f)]
            if all(c is not None for c in counts):
                t = t[: min(t.size, sum(counts))]
            return t
        reader = self.video(info.path)
        try:
            return np.asarray(reader.times, dtype=np.float64)
        finally:
            reader.close()

    # -- calibration ---------------------------------------------------------------------------
    def calibration(self, video: str | None = None):
        """The stored pixel <-> world calibration of a video, or None when there is none.

        Examples
        --------
        >>> cal = s.calibration()  # doctest: +SKIP
        >>> cal.pixels_to_world([[320, 240]])  # doctest: +SKIP
        """
        from nwbview.calibration import Calibration

        cals = self.inventory().of_kind("calibration")
        if not cals:
            return None
        if video is None:
            videos = self.inventory().of_kind("video")
            if len(cals) == 1:
                return Calibration.from_nwb(cals[0].obj)
            if len(videos) == 1:
                video = videos[0].path
            else:
                raise AmbiguousStreamError(
                    f"{self.source} has {len(cals)} calibrations ({_names(cals)}); pass video=NAME."
                )
        vinfo = self.find_stream("video", video)
        for c in cals:
            if c.details.get("video") == vinfo.path:
                return Calibration.from_nwb(c.obj)
        return None

    def fit_calibration(
        self,
        video: str | None = None,
        *,
        landmarks: Any = None,
        transform_type: str = "auto",
        scale_bar: Sequence[float] | None = None,
        cm_per_px: float | None = None,
        unit: str = "cm",
    ):
        """Fit a pixel -> world calibration for a video of this session.

        Give exactly one of ``landmarks`` (a CSV path with ``label, pixel_x,
        pixel_y, world_x, world_y``, or a ``(labels, pixel, world)`` tuple),
        ``scale_bar`` (``x1, y1, x2, y2, length``) or ``cm_per_px``. The frame
        size is the video's own; tracked pixel positions (pose) are checked to
        fall inside the calibrated frame (a warning otherwise).

        Returns
        -------
        Calibration
            Not written anywhere: pass it to
            :func:`nwbview.results.calibration_result` and
            :func:`nwbview.io.write.write_results` to store it.

        Examples
        --------
        Four arena corners were measured on a frame of the video:

        >>> cal = s.fit_calibration(landmarks="demo_landmarks.csv")  # doctest: +SKIP
        >>> print(cal.summary())  # doctest: +SKIP
        """
        from nwbview import calibration as calib

        given = [x is not None for x in (landmarks, scale_bar, cm_per_px)]
        if sum(given) != 1:
            raise CalibrationError(
                "Give exactly one of landmarks (a CSV file), scale_bar (x1 y1 x2 y2 length) or cm_per_px."
            )
        size = self.video_size(video)
        if landmarks is not None:
            if isinstance(landmarks, (str, bytes)) or hasattr(landmarks, "__fspath__"):
                labels, pixel, world = calib.read_landmarks_csv(landmarks)
            else:
                labels, pixel, world = landmarks
            cal = calib.fit_landmarks(pixel, world, transform_type, labels=labels, frame_dimension=size, unit=unit)
        elif scale_bar is not None:
            if len(scale_bar) != 5:
                raise CalibrationError(f"scale_bar takes 5 numbers (x1 y1 x2 y2 length); got {list(scale_bar)}.")
            x1, y1, x2, y2, length = scale_bar
            cal = calib.from_scale_bar((x1, y1), (x2, y2), length, size, unit=unit)
        else:
            cal = calib.from_cm_per_px(cm_per_px, size, unit=unit)
        px = None
        if self.inventory().of_kind("pose"):
            try:
                ds = self.pose()
                if ds.attrs.get("coordinates") == "pixel":
                    px = ds["position"].transpose("time", "keypoint", "individual", "space").values.reshape(-1, 2)
            except NWBViewError:
                px = None
        calib.check_calibration(cal, positions_px=px)
        return cal

    def video_size(self, video: str | None = None) -> tuple[int, int]:
        """``(width, height)`` of a video's frames, from its files (or its ``dimension``).

        Examples
        --------
        >>> s.video_size()  # doctest: +SKIP
        (640, 480)
        """
        info = self.find_stream("video", video)
        try:
            reader = self.video(info.path)
        except MissingFileError:
            dim = info.details.get("dimension")
            if dim and len(dim) >= 2:
                return int(dim[0]), int(dim[1])
            raise
        try:
            return tuple(int(v) for v in reader.size)
        finally:
            reader.close()

    def to_coordinates(self, obj, coordinates: str, video: str | None = None):
        """A position (DataArray) or pose (Dataset) converted to pixel or world coordinates.

        Parameters
        ----------
        obj : xarray.DataArray or xarray.Dataset
            What :meth:`position` or :meth:`pose` returned (``attrs["coordinates"]`` says its frame).
        coordinates : {"native", "world", "pixel"}
            The target; "native" returns ``obj`` unchanged.
        video : str, optional
            The video whose calibration converts (default: the session's video).

        Returns
        -------
        Same type as ``obj``, with ``units``, ``space_unit`` and ``coordinates`` attrs updated.

        Raises
        ------
        CalibrationError
            A conversion is needed and the session has no calibration for that video.

        Examples
        --------
        >>> with nwbview.open("session.nwb") as s:  # doctest: +SKIP
        ...     px = s.to_coordinates(s.position(), "pixel")
        """
        allowed = ("native", "world", "pixel")
        if coordinates not in allowed:
            raise NWBViewError(f"Invalid coordinates {coordinates!r}. Must be one of {allowed}.")
        native = obj.attrs.get("coordinates")
        if coordinates == "native" or coordinates == native:
            return obj
        cal = self.calibration(video)
        if cal is None:
            raise CalibrationError(
                f"{obj.attrs.get('source')} is in {native} coordinates and the session has no video "
                f"calibration to convert it to {coordinates} coordinates. Add one with `nwbview calibrate`."
            )
        fn = cal.pixels_to_world if coordinates == "world" else cal.world_to_pixels
        unit = cal.unit if coordinates == "world" else "pixels"
        var = obj["position"] if isinstance(obj, xr.Dataset) else obj
        moved = var.transpose("space", ...).values
        xy = np.moveaxis(moved[:2], 0, -1) * self._world_scale(obj, cal, coordinates)
        out = np.moveaxis(np.asarray(fn(xy)), -1, 0)
        new = moved.copy()
        new[:2] = out
        new_var = var.copy(data=np.moveaxis(new, 0, var.dims.index("space")))
        new_var.attrs.update(units=unit, space_unit=unit, coordinates=coordinates,
                             reference_frame=cal.reference_frame if coordinates == "world" else "video pixels")
        if isinstance(obj, xr.Dataset):
            obj = obj.copy()
            obj["position"] = new_var
            obj.attrs.update(units=unit, space_unit=unit, coordinates=coordinates, reference_frame=new_var.attrs["reference_frame"])
            return obj
        return new_var

    @staticmethod
    def _world_scale(obj: Any, cal: Any, coordinates: str) -> float:
        """World values in ``obj``'s unit -> the calibration's unit (``cm`` and ``centimeters`` are one unit)."""
        have = obj.attrs.get("space_unit") or obj.attrs.get("units")
        if coordinates != "pixel" or not have or same_unit(have, cal.unit):
            return 1.0
        a, b = cm_per_unit(have), cm_per_unit(cal.unit)
        if a is None or b is None:
            raise CalibrationError(
                f"{obj.attrs.get('source')} is in {have!r} and the calibration in {cal.unit!r}; nwbview cannot "
                "convert one into the other. Store both in one length unit (e.g. centimeters)."
            )
        return a / b


# ------------------------------------------------------------------------------------------------


_norm = norm_name


def _match(items: Iterable[StreamInfo], name: str) -> list[StreamInfo]:
    items = list(items)
    for test in (
        lambda s: s.path == name.strip("/"),
        lambda s: s.name == name,
        lambda s: s.path.endswith("/" + name.strip("/")),
        lambda s: _norm(s.name) == _norm(name),
    ):
        hits = [s for s in items if test(s)]
        if hits:
            return hits
    return []


def _names(items: Iterable[StreamInfo]) -> str:
    return ", ".join(repr(s.path) for s in items)


def _given_video(s: StreamInfo) -> bool:
    return isinstance(s.obj, ExternalVideo) and s.obj.given


def _is_lfp_like(s: StreamInfo) -> bool:
    return s.details.get("container") in {"LFP", "FilteredEphys"} or "lfp" in s.name.lower()


def _column(members: list[StreamInfo], name: str) -> StreamInfo | None:
    """The one-column series of a group named ``name`` (exactly, else ignoring case), or None."""
    one = [s for s in members if len(s.shape) < 2 or s.shape[1] == 1]
    for test in (lambda s: s.name == name, lambda s: s.path == name.strip("/"), lambda s: _norm(s.name) == _norm(name)):
        hits = [s for s in one if test(s)]
        if len(hits) == 1:
            return hits[0]
    return None


def _strip_prefix(name: str, *prefixes: str) -> str:
    for prefix in prefixes or ("SpatialSeries",):
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):]
    return name


def _axis_labels(names: list[str]) -> list[str]:
    ends = [n.lower().rstrip("_ ")[-1:] for n in names]
    if sorted(ends) == sorted(["x", "y", "z"][: len(names)]) and len(set(ends)) == len(ends):
        return ends
    return ["x", "y", "z"][: len(names)] if len(names) <= 3 else [f"d{i}" for i in range(len(names))]


def _select(da: xr.DataArray, channels, start, stop) -> xr.DataArray:
    if start is not None or stop is not None:
        t = da["time"].values
        i0 = 0 if start is None else int(np.searchsorted(t, start, side="left"))
        i1 = t.size if stop is None else int(np.searchsorted(t, stop, side="left"))
        da = da.isel(time=slice(i0, max(i0, i1)))
    if channels is not None:
        if "channel" not in da.dims:
            raise NWBViewError(f"{da.attrs.get('source')} has one channel; do not pass channels.")
        n = da.sizes["channel"]
        ch = np.atleast_1d(np.asarray(channels))
        if ch.dtype.kind not in "iu" or ch.size == 0 or ch.min() < -n or ch.max() >= n:
            raise NWBViewError(
                f"Invalid channels {list(np.atleast_1d(channels))} for {da.attrs.get('source')}: it has "
                f"{n} channels, numbered 0 to {n - 1}."
            )
        da = da.isel(channel=ch)
    return da


def _electrode_ids(ts: Any) -> np.ndarray | None:
    try:
        return np.asarray(ts.electrodes.data[:], dtype=np.int64)
    except Exception:  # noqa: BLE001 - electrodes are optional for display
        return None
