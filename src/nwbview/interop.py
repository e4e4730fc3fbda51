"""Hand a session to movement and pynapple, on the session's real clock and in physical units.

- :func:`to_movement` gives a pose Dataset that the installed movement takes as is: its dimension
  names (movement >= 0.17 says ``keypoint``/``individual``, older versions ``keypoints``/
  ``individuals``), its attrs (``ds_type``, ``fps``, ``time_unit``, ``source_software``) and the
  file's timestamps (movement's own ``from_nwb_file`` rebuilds time from one frame rate, which drifts
  from the real frame times where frames were dropped or the clock jitters).
- :func:`to_pynapple` gives pynapple objects (``Tsd``, ``TsdFrame``, ``IntervalSet``) with the
  real timestamps, values in physical units (NWB's ``conversion`` and ``offset`` applied, LFP in
  microvolts) and the unit in the column metadata (``units``) of a ``TsdFrame``.

movement and pynapple are optional: ``pip install 'nwbview[interop]'``. Without them, these
functions raise :class:`~nwbview.errors.MissingDependencyError` saying so.

This module sits at the top level beside ``batching``: it uses :class:`~nwbview.session.Session`
and never imports matplotlib, Qt or napari.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Sequence

import numpy as np
import xarray as xr

from nwbview.errors import DataShapeError, NWBViewError, NWBViewWarning, require

__all__ = ["to_movement", "to_pynapple", "movement_dims", "dims_for_version", "PYNAPPLE_KINDS"]

#: the stream kinds :func:`to_pynapple` converts from a session by default (LFP only when asked:
#: it is read whole)
PYNAPPLE_KINDS = ("position", "head_direction", "pose", "timeseries", "result", "intervals")
_SINGULAR = ("keypoint", "individual")
_PLURAL = ("keypoints", "individuals")
_COLUMN_ORDER = {"individual": 0, "individuals": 0, "keypoint": 1, "keypoints": 1, "space": 3}


# ---------------------------------------------------------------------------------------- movement


def movement_dims() -> tuple[str, str]:
    """The ``(keypoint, individual)`` dimension names of the installed movement.

    movement 0.17 renamed ``keypoints``/``individuals`` to ``keypoint``/``individual``; this asks
    the installed version (its validator's ``DIM_NAMES``, else its version number).

    Raises
    ------
    MissingDependencyError
        movement is not installed.

    Examples
    --------
    >>> movement_dims()  # doctest: +SKIP
    ('keypoints', 'individuals')
    """
    movement = require("movement", feature="to_movement", extra="interop")
    try:
        from movement.validators.datasets import ValidPosesInputs

        names = tuple(ValidPosesInputs.DIM_NAMES)
    except (ImportError, AttributeError):
        names = ()
    if "keypoint" in names:
        return _SINGULAR
    if "keypoints" in names:
        return _PLURAL
    return dims_for_version(getattr(movement, "__version__", ""))


def dims_for_version(version: str) -> tuple[str, str]:
    """The dimension names movement ``version`` uses: singular from 0.17 on.

    Examples
    --------
    >>> dims_for_version("0.16.2"), dims_for_version("0.17.0"), dims_for_version("1.0")
    (('keypoints', 'individuals'), ('keypoint', 'individual'), ('keypoint', 'individual'))
    """
    parts = []
    for piece in str(version).split(".")[:2]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits) if digits else 0)
    major, minor = (parts + [0, 0])[:2]
    return _SINGULAR if (major, minor) >= (0, 17) else _PLURAL


def to_movement(
    data: Any,
    *,
    pose: str | None = None,
    coordinates: str = "native",
    dims: str | None = None,
) -> xr.Dataset:
    """A pose as a movement "poses" Dataset, on the file's own timestamps.

    Parameters
    ----------
    data : xarray.Dataset, Session, or source
        A pose Dataset (what :meth:`Session.pose` returns, or a movement Dataset of either
        naming), an open :class:`~nwbview.session.Session`, or what :func:`nwbview.open` takes
        (a path, a URL, an ``NWBFile``), which is opened and closed again.
    pose
        With a session or source: the pose stream (as :meth:`Session.pose` takes it).
    coordinates : {"native", "world", "pixel"}, default: "native"
        With a session or source: the spatial frame (``world`` needs a calibration).
    dims : {None, "singular", "plural"}, default: None
        The dimension names: None asks the installed movement (see :func:`movement_dims`);
        ``"singular"`` (``keypoint``, ``individual``: movement >= 0.17) or ``"plural"``
        (``keypoints``, ``individuals``) need no movement installed.

    Returns
    -------
    xarray.Dataset
        ``position (time, space, keypoint[s], individual[s])`` and ``confidence (time,
        keypoint[s], individual[s])``; ``time`` in seconds on the session clock (the stored
        timestamps, never rebuilt from a rate); attrs ``ds_type="poses"``, ``fps`` (the median
        frame rate, for savers that number frames), ``time_unit="seconds"``, ``source_software``,
        ``source_file`` (the NWB file, when known), nwbview's ``units``/``space_unit``, ``source``,
        ``reference_frame`` and ``coordinates``. Every attr is one netCDF can store
        (``ds.to_netcdf`` works).

    Notes
    -----
    World coordinates have y up, pixel coordinates y down: movement's orientation functions
    (``compute_forward_vector``, ``compute_head_direction_vector``) take
    ``camera_view="top_down"`` for a pose in pixels of a camera above the arena and
    ``camera_view="bottom_up"`` for the same pose in world coordinates.

    Raises
    ------
    MissingDependencyError
        ``dims`` is None and movement is not installed.
    DataShapeError
        ``data`` is not a pose (no ``position`` with time, space, keypoint and individual dims).

    Examples
    --------
    >>> import nwbview
    >>> from nwbview.interop import to_movement
    >>> with nwbview.open("session.nwb") as s:  # doctest: +SKIP
    ...     ds = to_movement(s, coordinates="world")
    >>> from movement.kinematics import compute_speed  # doctest: +SKIP
    >>> compute_speed(ds.position).sel(keypoints="snout")  # doctest: +SKIP

    Without movement installed, name the layout:

    >>> ds = to_movement(pose_dataset, dims="singular")  # doctest: +SKIP
    >>> ds.position.dims  # doctest: +SKIP
    ('time', 'space', 'keypoint', 'individual')
    """
    if dims not in (None, "singular", "plural"):
        raise NWBViewError(f"Invalid dims {dims!r}. Must be one of (None, 'singular', 'plural').")
    kp, ind = movement_dims() if dims is None else (_SINGULAR if dims == "singular" else _PLURAL)
    ds, source_file = _pose_dataset(data, pose, coordinates)
    ds = ds.rename({d: (kp if d in ("keypoint", "keypoints") else ind) for d in ds.dims
                    if d in ("keypoint", "keypoints", "individual", "individuals") and d not in (kp, ind)})
    missing = {"time", "space", kp, ind} - set(ds["position"].dims)
    if missing:
        raise DataShapeError(f"A pose needs position dims (time, space, {kp}, {ind}); position has {ds['position'].dims}, lacking {sorted(missing)}.")
    position = ds["position"].transpose("time", "space", kp, ind)
    if "confidence" in ds:
        confidence = ds["confidence"].transpose("time", kp, ind)
    else:
        confidence = xr.full_like(position.isel(space=0, drop=True), np.nan)
    t = np.asarray(ds["time"].values, dtype=np.float64)
    attrs = dict(ds.attrs)
    attrs.update(ds_type="poses", time_unit="seconds", source_software=str(attrs.get("source_software") or "nwbview"))
    fps = _median_rate(t)
    if fps is not None:
        attrs["fps"] = fps
    if source_file and not attrs.get("source_file"):
        attrs["source_file"] = source_file
    unit = str(attrs.get("space_unit") or attrs.get("units") or "")
    out = xr.Dataset(
        {
            "position": position.copy(data=np.asarray(position.values, dtype=np.float64)).assign_attrs(units=unit),
            "confidence": confidence.copy(data=np.asarray(confidence.values, dtype=np.float64)).assign_attrs(units=""),
        },
        attrs=_netcdf_attrs(attrs),
    )
    return out.assign_coords(
        time=t, space=[str(v) for v in out["space"].values],
        **{kp: [str(v) for v in out[kp].values], ind: [str(v) for v in out[ind].values]},
    )


def _pose_dataset(data: Any, pose: str | None, coordinates: str) -> tuple[xr.Dataset, str | None]:
    """The pose Dataset of ``data`` and the local NWB path it came from (None when unknown)."""
    if isinstance(data, xr.Dataset):
        if pose is not None or coordinates != "native":
            raise NWBViewError("pose= and coordinates= choose a stream of a session; a Dataset is converted as it is.")
        return data, None
    if isinstance(data, xr.DataArray):
        raise DataShapeError(
            "to_movement takes a pose Dataset (Session.pose()), a Session or an NWB source; got a DataArray. "
            "A position DataArray has no keypoints: pass the session, or its pose."
        )
    with _session(data) as s:
        return s.pose(pose, coordinates=coordinates), s.path


def _median_rate(t: np.ndarray) -> float | None:
    """1 / the median interval of the times (None with fewer than two increasing samples)."""
    dt = np.diff(t[np.isfinite(t)])
    dt = dt[dt > 0]
    return round(float(1.0 / np.median(dt)), 6) if dt.size else None


def _netcdf_attrs(attrs: dict) -> dict:
    """Attrs netCDF can store: None dropped, booleans as 0/1, nested lists and dicts as JSON text."""
    out: dict = {}
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (bool, np.bool_)):
            out[key] = int(value)
        elif isinstance(value, (str, int, float, np.integer, np.floating)):
            out[key] = value
        elif isinstance(value, (list, tuple, np.ndarray)) and np.ndim(value) == 1 and len(value) and all(
                isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in value):
            out[key] = np.asarray(value)
        else:
            out[key] = json.dumps(value, default=str)
    return out


# ---------------------------------------------------------------------------------------- pynapple


def to_pynapple(
    data: Any,
    *,
    kinds: Sequence[str] = PYNAPPLE_KINDS,
    coordinates: str = "native",
) -> Any:
    """nwbview's data as pynapple objects, on the session's clock and in physical units.

    Parameters
    ----------
    data : xarray.DataArray, xarray.Dataset, Session, or source
        A ``(time,)`` DataArray becomes a ``Tsd``; ``(time, ...)`` a ``TsdFrame``, one column per
        value of the other dims (``x``, ``y``; channel numbers; ``snout_x`` for a pose), with the
        unit and each dim's label as column metadata (``units``, ``space``, ``keypoint``, ...).
        A Dataset becomes a dict of its variables so converted. A session (or what
        :func:`nwbview.open` takes) becomes a dict of its streams, keyed by stream name (by
        NWB path where two share a name): ``TimeIntervals`` become ``IntervalSet``.
    kinds
        With a session: the stream kinds to convert (see ``Session.inventory()``). ``"lfp"`` is
        left out by default because it is read whole; add it for short files.
    coordinates : {"native", "world", "pixel"}, default: "native"
        With a session: the spatial frame of positions and poses.

    Returns
    -------
    pynapple.Tsd, pynapple.TsdFrame, or dict
        Times in seconds (the stored timestamps, or ``starting_time + arange(n) / rate``); values
        with NWB's ``conversion`` and ``offset`` applied (pynapple's ``load_file`` gives the raw
        stored numbers). A ``Tsd`` has no place for a unit in pynapple: its unit is the source's
        ``attrs["units"]`` (``radians`` for head direction).

    Raises
    ------
    MissingDependencyError
        pynapple is not installed.

    Examples
    --------
    >>> from nwbview.interop import to_pynapple
    >>> objs = to_pynapple("session.nwb")  # doctest: +SKIP
    >>> objs["position"].metadata  # doctest: +SKIP
       units
    x  centimeters
    y  centimeters
    >>> hd = to_pynapple(s.head_direction())  # a Tsd, in radians  # doctest: +SKIP
    """
    nap = require("pynapple", feature="to_pynapple", extra="interop")
    if isinstance(data, xr.DataArray):
        return _array_to_pynapple(nap, data)
    if isinstance(data, xr.Dataset):
        return {str(k): _array_to_pynapple(nap, v.assign_attrs({**data.attrs, **v.attrs})) for k, v in data.data_vars.items()}
    with _session(data) as s:
        return _session_to_pynapple(nap, s, kinds, coordinates)


def _array_to_pynapple(nap: Any, da: xr.DataArray) -> Any:
    if "time" not in da.dims:
        raise DataShapeError(f"A pynapple object needs a time dimension; {da.name or 'the array'} has dims {da.dims}.")
    # columns read individual, keypoint, then space: "snout_x"
    extra = sorted((d for d in da.dims if d != "time"), key=lambda d: _COLUMN_ORDER.get(d, 2))
    da = da.transpose("time", *extra)
    t = np.asarray(da["time"].values, dtype=np.float64)
    values = np.asarray(da.values)
    if not extra:
        return nap.Tsd(t=t, d=values, time_units="s")
    kept = [d for d in extra if da.sizes[d] > 1] or extra[-1:]
    grids = np.meshgrid(*[np.asarray(da[d].values if d in da.coords else np.arange(da.sizes[d])) for d in extra], indexing="ij")
    labels = {d: g.reshape(-1) for d, g in zip(extra, grids)}
    if len(kept) == 1:
        columns = list(labels[kept[0]])
    else:
        columns = ["_".join(str(labels[d][i]) for d in kept) for i in range(values[0].size)]
    metadata = {"units": [str(da.attrs.get("units", ""))] * len(columns)}
    metadata.update({d: [str(v) for v in labels[d]] for d in extra if len(extra) > 1})
    return nap.TsdFrame(t=t, d=values.reshape(t.size, -1), time_units="s", columns=columns, metadata=metadata)


def _intervals_to_pynapple(nap: Any, table: Any) -> Any:
    """A ``TimeIntervals`` table as an ``IntervalSet``; its other one-value-per-row columns become metadata."""
    start = np.asarray(table["start_time"].data[:], dtype=np.float64)
    end = np.asarray(table["stop_time"].data[:], dtype=np.float64)
    metadata = {}
    for name in table.colnames:
        if name in ("start_time", "stop_time"):
            continue
        try:
            column = np.asarray(table[name].data[:])
        except (TypeError, ValueError, KeyError):
            continue
        if column.shape == start.shape and column.dtype.kind in "biufUSO":
            metadata[name] = [v.decode() if isinstance(v, bytes) else v for v in column.tolist()]
    order = np.argsort(start, kind="stable")
    return nap.IntervalSet(start=start[order], end=end[order], time_units="s",
                           metadata={k: [v[i] for i in order] for k, v in metadata.items()} or None)


def _session_to_pynapple(nap: Any, s: Any, kinds: Sequence[str], coordinates: str) -> dict:
    from nwbview.io.inventory import KINDS

    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise NWBViewError(f"Invalid kinds {unknown}. Each must be one of {KINDS}.")
    items = [i for i in s.inventory() if i.kind in kinds]
    names = [i.name for i in items]
    out: dict = {}
    for info in items:
        key = info.name if names.count(info.name) == 1 else info.path
        try:
            if info.kind == "intervals":
                out[key] = _intervals_to_pynapple(nap, info.obj)
            elif info.kind == "pose":
                pose = s.pose(info.path, coordinates=coordinates)
                out[key] = _array_to_pynapple(nap, pose["position"].assign_attrs(units=pose.attrs.get("units", "")))
                out[f"{key}_confidence"] = _array_to_pynapple(nap, pose["confidence"])
            elif info.kind == "position":
                out[key] = _array_to_pynapple(nap, s.position(info.path, coordinates=coordinates))
            elif info.kind == "head_direction":
                out[key] = _array_to_pynapple(nap, s.head_direction(info.path))
            elif info.kind == "lfp":
                out[key] = _array_to_pynapple(nap, s.lfp(info.path))
            elif info.kind in ("timeseries", "result") and info.t_start is not None:
                out[key] = _array_to_pynapple(nap, s.timeseries(info.path))
        except NWBViewError as exc:
            warnings.warn(f"to_pynapple left out {info.path}: {exc}", NWBViewWarning, stacklevel=3)
    return out


class _session:
    """``data`` as an open Session: a Session as it is, anything else opened (and closed after)."""

    def __init__(self, data: Any):
        self.data, self.opened = data, None

    def __enter__(self):
        from nwbview.session import Session, open as open_session

        if isinstance(self.data, Session):
            return self.data
        if not isinstance(self.data, (str, os.PathLike)) and type(self.data).__name__ != "NWBFile":
            raise NWBViewError(
                f"Expected a pose Dataset, a DataArray, a Session, an NWBFile or a path/URL; got {type(self.data).__name__}."
            )
        self.opened = open_session(self.data)
        return self.opened

    def __exit__(self, *exc):
        if self.opened is not None:
            self.opened.close()
