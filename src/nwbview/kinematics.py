"""Kinematics from positions and pose keypoints: xarray in, xarray out.

Derivatives use the real sample times (``numpy.gradient`` with the time
coordinate), so dropped frames and jitter do not bias them. NaN gaps are
respected: a sample next to a NaN has a NaN derivative; nothing is
interpolated across a gap.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import xarray as xr

from nwbview.errors import DataShapeError, NWBViewError, StreamNotFoundError

__all__ = [
    "compute_velocity",
    "compute_speed",
    "compute_acceleration",
    "compute_norm",
    "compute_head_direction",
    "smooth",
    "match_keypoint",
    "HEAD_NAMES",
    "TAIL_NAMES",
    "DEFAULT_MIN_CONFIDENCE",
    "mask_low_confidence",
    "pose_kinematics",
]

#: the one confidence rule of kinematics, heatmaps and overlays: a keypoint sample whose confidence
#: is below this is a gap (NaN confidence means "not given" and is kept)
DEFAULT_MIN_CONFIDENCE = 0.5

#: keypoint names tried, in order, for the head and the tail base
HEAD_NAMES = ("snout", "nose", "head")
TAIL_NAMES = ("tail_base", "tailbase", "tail_root", "tail")


def _check(da: xr.DataArray, what: str) -> xr.DataArray:
    if isinstance(da, xr.Dataset):
        if "position" not in da:
            raise NWBViewError(f"{what} needs a position DataArray or a pose Dataset with 'position'.")
        da = da["position"]
    if "time" not in da.dims:
        raise DataShapeError(f"{what} needs a 'time' dimension; got dims {da.dims}.")
    if da.sizes["time"] < 2:
        raise DataShapeError(f"{what} needs at least 2 samples in time; got {da.sizes['time']}.")
    return da


def unit_of(da: xr.DataArray) -> str:
    """The spatial unit of a position or pose (``space_unit``, else ``units``)."""
    return str(da.attrs.get("space_unit") or da.attrs.get("units") or "")


def _derivative(da: xr.DataArray) -> xr.DataArray:
    t = np.asarray(da["time"].values, dtype=np.float64)
    axis = da.get_axis_num("time")
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.gradient(np.asarray(da.values, dtype=np.float64), t, axis=axis)
    return da.copy(data=d)


def compute_velocity(position: xr.DataArray) -> xr.DataArray:
    """Velocity: the time derivative of position, per space axis.

    Parameters
    ----------
    position
        ``(time, space, ...)``, e.g. from ``session.position()`` or a pose's
        ``position`` variable.

    Returns
    -------
    xarray.DataArray
        Same dims, in ``<unit>/s``.

    Examples
    --------
    A mouse walks along x at 10 cm/s:

    >>> t = np.arange(0, 1, 0.1)
    >>> pos = xr.DataArray(np.c_[10 * t, 0 * t], dims=("time", "space"),
    ...                    coords={"time": t, "space": ["x", "y"]}, attrs={"units": "cm"})
    >>> compute_velocity(pos).sel(space="x").values.round(6)[:3]
    array([10., 10., 10.])
    """
    position = _check(position, "compute_velocity")
    v = _derivative(position)
    unit = unit_of(position)
    v.attrs = {**position.attrs, "units": f"{unit}/s", "space_unit": unit}
    v.attrs["log"] = position.attrs.get("log", "") + "compute_velocity;"
    v.name = "velocity"
    return v


def compute_norm(da: xr.DataArray) -> xr.DataArray:
    """Euclidean norm over the ``space`` dimension (NaN if any component is NaN).

    Examples
    --------
    >>> v = xr.DataArray([[3.0, 4.0]], dims=("time", "space"), coords={"space": ["x", "y"]})
    >>> float(compute_norm(v)[0])
    5.0
    """
    if "space" not in da.dims:
        raise DataShapeError(f"compute_norm needs a 'space' dimension; got dims {da.dims}.")
    out = np.sqrt((da**2).sum("space", skipna=False))
    out.attrs = dict(da.attrs)
    return out


def compute_speed(position: xr.DataArray) -> xr.DataArray:
    """Speed: the norm of the velocity.

    Returns
    -------
    xarray.DataArray
        ``(time, ...)`` without ``space``, in ``<unit>/s``.

    Examples
    --------
    >>> speed = compute_speed(session.position())  # doctest: +SKIP
    >>> speed.attrs["units"]  # doctest: +SKIP
    'cm/s'
    """
    out = compute_norm(compute_velocity(position))
    out.name = "speed"
    out.attrs["log"] = out.attrs.get("log", "") + "compute_speed;"
    return out


def compute_acceleration(position: xr.DataArray) -> xr.DataArray:
    """Acceleration vector: the second time derivative of position.

    Take :func:`compute_norm` of it for the magnitude.

    Examples
    --------
    >>> t = np.arange(0, 1, 0.01)
    >>> pos = xr.DataArray(np.c_[t**2, 0 * t], dims=("time", "space"),
    ...                    coords={"time": t, "space": ["x", "y"]}, attrs={"units": "m"})
    >>> float(compute_acceleration(pos).sel(space="x")[50].round(6))
    2.0
    """
    position = _check(position, "compute_acceleration")
    a = _derivative(_derivative(position))
    unit = unit_of(position)
    a.attrs = {**position.attrs, "units": f"{unit}/s^2", "space_unit": unit}
    a.attrs["log"] = position.attrs.get("log", "") + "compute_acceleration;"
    a.name = "acceleration"
    return a


def smooth(da: xr.DataArray, window_s: float, statistic: str = "median") -> xr.DataArray:
    """Centred rolling median or mean over ``window_s`` seconds.

    A window that holds a NaN gives NaN (gaps stay gaps).

    Parameters
    ----------
    statistic : {"median", "mean"}, default: "median"

    Examples
    --------
    >>> speed = smooth(compute_speed(session.position()), 0.2)  # doctest: +SKIP
    """
    allowed = ("median", "mean")
    if statistic not in allowed:
        raise NWBViewError(f"Invalid statistic {statistic!r}. Must be one of {allowed}.")
    if not (np.isfinite(window_s) and window_s > 0):
        raise NWBViewError(f"Invalid window {window_s!r} s: must be a positive number of seconds.")
    t = np.asarray(da["time"].values, dtype=np.float64)
    dt = float(np.median(np.diff(t))) if t.size > 1 else 1.0
    n = max(1, int(round(window_s / dt)))
    if n % 2 == 0:
        n += 1
    if statistic == "median":
        out = da.rolling(time=n, center=True, min_periods=n).median()
    else:
        out = _rolling_mean(da, n)
    out.attrs = {**da.attrs, "log": da.attrs.get("log", "") + f"smooth({window_s},{statistic});"}
    return out


def _rolling_mean(da: xr.DataArray, n: int) -> xr.DataArray:
    """Centred mean over ``n`` (odd) samples along time; NaN where the window holds a NaN or
    leaves the series (xarray's ``rolling(center=True, min_periods=n).mean()``).

    Done in numpy, whatever optional packages are installed: xarray hands a rolling mean to
    numbagg when it is installed, whose first call in a process compiles (1.5-2 s).
    """
    ax = da.get_axis_num("time")
    x = np.moveaxis(np.asarray(da.values), ax, -1)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    out = np.full(x.shape, np.nan, dtype=dtype)
    h = n // 2
    if x.shape[-1] >= n:
        windows = np.lib.stride_tricks.sliding_window_view(x.astype(dtype, copy=False), n, axis=-1)
        out[..., h : x.shape[-1] - h] = windows.sum(axis=-1) / n
    return da.copy(data=np.moveaxis(out, -1, ax))


def _norm(s: str) -> str:
    return re.sub(r"[\s_\-]", "", str(s)).lower()


def match_keypoint(available: Sequence[str], wanted: str | Sequence[str]) -> str:
    """Find a keypoint by name, ignoring case, spaces, dashes and underscores.

    Parameters
    ----------
    available
        The pose's keypoint names.
    wanted
        One name, or candidates tried in order.

    Examples
    --------
    >>> match_keypoint(["Snout", "Tail Base"], "tail_base")
    'Tail Base'
    >>> match_keypoint(["nose", "tailbase"], HEAD_NAMES)
    'nose'
    """
    cands = [wanted] if isinstance(wanted, str) else list(wanted)
    table = {_norm(a): a for a in available}
    for c in cands:
        hit = table.get(_norm(c))
        if hit is not None:
            return hit
    raise StreamNotFoundError(
        f"No keypoint named {' or '.join(repr(c) for c in cands)} in the pose; its keypoints are "
        f"{list(available)}. Pass the name to use."
    )


def compute_head_direction(
    pose: xr.Dataset | xr.DataArray,
    front: str | Sequence[str] = HEAD_NAMES,
    back: str | Sequence[str] = TAIL_NAMES,
) -> xr.DataArray:
    """Head direction from two keypoints: the angle of the vector back -> front.

    The angle is ``atan2(dy, dx)`` in the pose's own frame: counter-clockwise
    from +x in a world frame (y up); in a pixel frame (y down) the same formula
    turns clockwise on screen. Convert the pose to the world frame first
    (``session.pose(coordinates="world")``) for compass-style angles.

    Parameters
    ----------
    pose
        A pose Dataset (or its ``position``) with a ``keypoint`` dim.
    front, back
        Keypoint names (or candidates), matched ignoring case and separators.

    Returns
    -------
    xarray.DataArray
        ``(time, individual)`` in radians in ``(-pi, pi]``, NaN where a keypoint is NaN.

    Examples
    --------
    >>> hd = compute_head_direction(session.pose(coordinates="world"))  # doctest: +SKIP
    """
    pos = _check(pose, "compute_head_direction")
    if isinstance(pose, xr.Dataset):
        pos = pos.copy()
        pos.attrs = {**pose.attrs, **pos.attrs}
    if "keypoint" not in pos.dims:
        raise DataShapeError(f"compute_head_direction needs a 'keypoint' dimension; got dims {pos.dims}.")
    names = [str(k) for k in pos["keypoint"].values]
    f = match_keypoint(names, front)
    b = match_keypoint(names, back)
    vec = pos.sel(keypoint=f) - pos.sel(keypoint=b)
    ang = np.arctan2(vec.sel(space="y"), vec.sel(space="x"))
    ang = ang.drop_vars([c for c in ("space", "keypoint") if c in ang.coords])
    ang.attrs = {
        "units": "radians",
        "source": pos.attrs.get("source", ""),
        "coordinates": pos.attrs.get("coordinates", ""),
        "reference_frame": f"angle of {b} -> {f}, from +x, in the {pos.attrs.get('frame', 'pose')} frame",
        "log": pos.attrs.get("log", "") + f"compute_head_direction({f},{b});",
    }
    ang.name = "head_direction"
    return ang


def mask_low_confidence(pose: xr.Dataset, min_confidence: float | None = DEFAULT_MIN_CONFIDENCE) -> xr.Dataset:
    """A pose whose keypoint samples below ``min_confidence`` are gaps (NaN).

    The rule nwbview uses everywhere (kinematics, the movement heatmap, the pose
    overlay): a sample whose confidence is below the threshold is not used; a NaN
    confidence means the file gives none, and the sample is kept. The number of
    samples masked is recorded in ``attrs["low_confidence_samples"]``.

    Parameters
    ----------
    pose
        ``position (time, space, keypoint[, individual])`` and ``confidence``.
    min_confidence
        The threshold; None or 0 masks nothing.

    Examples
    --------
    >>> t = np.arange(3.0)
    >>> ds = xr.Dataset({"position": (("time", "space", "keypoint"), np.ones((3, 2, 1))),
    ...                  "confidence": (("time", "keypoint"), [[0.9], [0.1], [np.nan]])},
    ...                 coords={"time": t, "space": ["x", "y"], "keypoint": ["snout"]})
    >>> mask_low_confidence(ds, 0.5).position.sel(space="x", keypoint="snout").values
    array([ 1., nan,  1.])
    """
    if min_confidence is None or "confidence" not in pose:
        return pose
    if not np.isfinite(min_confidence) or min_confidence < 0:
        raise NWBViewError(f"Invalid min_confidence {min_confidence!r}: give a number >= 0 (0 keeps every sample).")
    low = pose["confidence"] < float(min_confidence)  # NaN compares False: kept
    out = pose.copy()
    out["position"] = pose["position"].where(~low)
    out.attrs = {**pose.attrs, "min_confidence": float(min_confidence),
                 "low_confidence_samples": int((low & pose["position"].notnull().all("space")).sum())}
    return out


def pose_kinematics(
    pose: xr.Dataset,
    keypoint: str | Sequence[str] = HEAD_NAMES,
    *,
    min_confidence: float | None = DEFAULT_MIN_CONFIDENCE,
    smooth_s: float | None = None,
    front: str | Sequence[str] = HEAD_NAMES,
    back: str | Sequence[str] = TAIL_NAMES,
) -> xr.Dataset:
    """Speed, acceleration and head direction of every individual of a pose.

    Samples below ``min_confidence`` are gaps (:func:`mask_low_confidence`)
    before anything is computed.

    Returns
    -------
    xarray.Dataset
        ``speed``, ``acceleration`` (magnitude) and, when the pose has a head
        and a tail keypoint, ``head_direction``, each ``(time, individual)``.

    Examples
    --------
    Two mice tracked by SLEAP:

    >>> k = pose_kinematics(s.pose(), min_confidence=0.5)  # doctest: +SKIP
    >>> k.speed.sel(individual="male").median()  # doctest: +SKIP
    """
    pose = mask_low_confidence(pose, min_confidence)
    if "individual" not in pose.dims:
        pose = pose.expand_dims(individual=["0"])
    names = [str(n) for n in pose.keypoint.values]
    kp = match_keypoint(names, keypoint)
    pos = pose["position"].sel(keypoint=kp, drop=True)
    pos.attrs = dict(pose.attrs)
    if smooth_s:
        pos = smooth(pos, smooth_s)
    speed = compute_speed(pos)
    acc = compute_norm(compute_acceleration(pos))
    out = xr.Dataset({"speed": speed.transpose("time", "individual"), "acceleration": acc.transpose("time", "individual")})
    out["acceleration"].attrs["units"] = f"{unit_of(pos)}/s^2"
    try:
        hd = compute_head_direction(pose, front, back)
        out["head_direction"] = hd.transpose("time", "individual")
    except StreamNotFoundError:
        pass  # no head and tail keypoints: no head direction
    out.attrs = {k: v for k, v in pose.attrs.items() if isinstance(v, (str, int, float))}
    out.attrs.update(keypoint=kp, min_confidence=-1.0 if min_confidence is None else float(min_confidence))
    return out
