"""Build the pynwb containers nwbview writes back (pure: no file is touched).

Each builder takes what nwbview computed (xarray, a calibration) and returns a
container; :func:`nwbview.io.write.write_results` writes them. Each result
records its provenance (nwbview, its version, the function and parameters) as
``nwbview: {json}`` in the ``comments`` of a TimeSeries or the
``description`` of other containers, so ``nwbview info`` can list it.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import xarray as xr

from nwbview.errors import DataShapeError, renamed_keywords
from nwbview.io.streams import PROVENANCE_PREFIX, read_provenance

__all__ = [
    "provenance",
    "read_provenance",
    "speed_result",
    "acceleration_result",
    "head_direction_result",
    "kinematics_results",
    "session_kinematics",
    "calibration_result",
    "heatmap_result",
    "RESULT_SUFFIX",
    "result_name",
]

#: every name nwbview writes into a file ends with this, so it never collides with what the file
#: already holds (a file's own ``head_direction``, ``speed``, ...): an overwrite replaces only
#: nwbview's results, and readers that key objects by name (pynapple's ``load_file``) see plain keys
RESULT_SUFFIX = "_nwbview"


def result_name(name: str) -> str:
    """The name nwbview writes a result under: ``name`` + :data:`RESULT_SUFFIX` (once).

    Examples
    --------
    >>> result_name("speed"), result_name("HeadDirection_nwbview")
    ('speed_nwbview', 'HeadDirection_nwbview')
    """
    return name if name.endswith(RESULT_SUFFIX) else name + RESULT_SUFFIX


def provenance(function: str, **parameters: Any) -> str:
    """A provenance string: ``nwbview: {"software": "nwbview", "version": ..., ...}``.

    Examples
    --------
    >>> provenance("compute_speed", source="position").startswith("nwbview: ")
    True
    """
    from nwbview import __version__

    body = {"software": "nwbview", "version": __version__, "function": function, "parameters": parameters}
    return PROVENANCE_PREFIX + json.dumps(body, sort_keys=True, default=str)


def _series_1d(da: xr.DataArray, what: str) -> tuple[np.ndarray, np.ndarray]:
    if da.ndim != 1 or da.dims != ("time",):
        extra = [d for d in da.dims if d != "time"]
        raise DataShapeError(
            f"{what} must be one value per time to be stored as a TimeSeries; it has extra dims {extra}. "
            f"Select one (e.g. .sel(keypoint='snout', individual=...))."
        )
    return np.asarray(da["time"].values, dtype=np.float64), np.asarray(da.values, dtype=np.float64)


def _scalar_series(da: xr.DataArray, name: str, what: str, function: str, description: str, params: dict) -> Any:
    """A ``(time,)`` DataArray as a ``TimeSeries`` with its units, times and provenance."""
    from pynwb import TimeSeries

    t, v = _series_1d(da, what)
    source = da.attrs.get("source", "")
    return TimeSeries(
        name=name,
        data=v,
        unit=str(da.attrs.get("units", "")),
        timestamps=t,
        description=f"{description} of {source or 'the tracked position'}, computed by nwbview.",
        comments=provenance(function, input=source, **params),
    )


def speed_result(speed: xr.DataArray, name: str = "speed_nwbview", **params: Any) -> Any:
    """Speed as a ``TimeSeries`` with units and provenance.

    Examples
    --------
    >>> ts = speed_result(nwbview.compute_speed(s.position()))  # doctest: +SKIP
    >>> ts.unit  # doctest: +SKIP
    'cm/s'
    """
    return _scalar_series(speed, name, "speed", "compute_speed", "Speed", params)


def acceleration_result(acceleration: xr.DataArray, name: str = "acceleration_nwbview", **params: Any) -> Any:
    """The magnitude of an acceleration vector (``(time, space)``) as a ``TimeSeries``.

    Examples
    --------
    >>> ts = acceleration_result(nwbview.compute_acceleration(s.position()))  # doctest: +SKIP
    """
    from nwbview.kinematics import compute_norm

    mag = compute_norm(acceleration) if "space" in acceleration.dims else acceleration
    mag.attrs = {**acceleration.attrs, **mag.attrs, "units": acceleration.attrs.get("units", mag.attrs.get("units", ""))}
    return _scalar_series(mag, name, "acceleration", "compute_acceleration", "Magnitude of the acceleration", params)


def head_direction_result(hd: xr.DataArray, name: str = "HeadDirection_nwbview", **params: Any) -> Any:
    """Head direction (radians) as a ``CompassDirection`` of one ``SpatialSeries`` per individual.

    The series is ``head_direction_nwbview`` (``head_direction_<individual>_nwbview`` with several
    individuals): named apart from a head direction the file already holds.

    Examples
    --------
    >>> cd = head_direction_result(nwbview.compute_head_direction(s.pose(coordinates="world")))  # doctest: +SKIP
    >>> list(cd.spatial_series)  # doctest: +SKIP
    ['head_direction_nwbview']
    """
    from pynwb.behavior import CompassDirection, SpatialSeries

    if "individual" in hd.dims and hd.sizes["individual"] == 1:
        hd = hd.isel(individual=0, drop=True)
    several = "individual" in hd.dims
    series = []
    for ind in hd.individual.values if several else [None]:
        t, v = _series_1d(hd.sel(individual=ind, drop=True) if several else hd, "head direction")
        extra = {"individual": str(ind)} if several else {}
        series.append(SpatialSeries(
            name=result_name(f"head_direction_{ind}" if several else "head_direction"), data=v, unit="radians",
            timestamps=t, reference_frame=str(hd.attrs.get("reference_frame", "")) or "counter-clockwise from +x",
            description=f"Head direction{f' of {ind}' if several else ''}, computed by nwbview.",
            comments=provenance("compute_head_direction", input=hd.attrs.get("source", ""), **extra, **params),
        ))
    return CompassDirection(name=name, spatial_series=series)


@renamed_keywords(source="tracking")
def session_kinematics(
    session: Any,
    *,
    tracking: str = "position",
    keypoint: str | None = None,
    smooth_s: float | None = None,
    min_confidence: float | None = None,
    pose: str | None = None,
    position: str | None = None,
) -> xr.Dataset:
    """Speed, acceleration and head direction of a session, per individual.

    Parameters
    ----------
    tracking : {"position", "pose"}, default: "position"
        What the kinematics come from.
    keypoint
        With ``tracking="pose"``: the keypoint whose speed is computed (default
        the head, matched as in :data:`nwbview.kinematics.HEAD_NAMES`).
    smooth_s
        Smooth positions with a centred rolling median of this many seconds first.
    min_confidence
        Pose samples below this confidence are gaps (default
        :data:`nwbview.kinematics.DEFAULT_MIN_CONFIDENCE`).
    pose, position
        The pose and position streams to use (names as ``session.pose`` and
        ``session.position`` take them); default: the only one.

    Returns
    -------
    xarray.Dataset
        ``speed`` and ``acceleration`` (``(time,)`` from a position,
        ``(time, individual)`` from a pose) and, with a pose that has head and
        tail keypoints, ``head_direction (time, individual)``.

    Examples
    --------
    >>> k = session_kinematics(s, tracking="pose")  # doctest: +SKIP
    >>> k.speed.sel(individual="female")  # doctest: +SKIP
    """
    from nwbview import kinematics as k
    from nwbview.errors import NWBViewError

    allowed = ("position", "pose")
    if tracking not in allowed:
        raise NWBViewError(f"Invalid tracking {tracking!r}. Must be one of {allowed}.")
    threshold = k.DEFAULT_MIN_CONFIDENCE if min_confidence is None else float(min_confidence)
    coordinates = "world" if session.calibration() is not None else "native"
    ds = None
    if tracking == "pose" or len(session.inventory().of_kind("pose")):
        try:
            ds = session.pose(pose, coordinates=coordinates)
        except NWBViewError:
            if tracking == "pose":
                raise
            ds = None  # head direction only: a pose that cannot be read leaves it out
    if tracking == "pose":
        out = k.pose_kinematics(ds, keypoint or k.HEAD_NAMES, min_confidence=threshold, smooth_s=smooth_s)
        out.attrs["source"] = str(ds.attrs.get("source", ""))
    else:
        pos = session.position(position)
        if smooth_s:
            pos = k.smooth(pos, smooth_s)
        speed = k.compute_speed(pos)
        acc = k.compute_norm(k.compute_acceleration(pos))
        acc.attrs["units"] = f"{k.unit_of(pos)}/s^2"
        out = xr.Dataset({"speed": speed, "acceleration": acc}, attrs={"source": str(pos.attrs.get("source", "")), "min_confidence": threshold})
        if ds is not None:
            try:
                hd = k.pose_kinematics(ds, k.HEAD_NAMES if keypoint is None else keypoint, min_confidence=threshold)
            except NWBViewError:
                hd = None
            if hd is not None and "head_direction" in hd:
                out["head_direction"] = hd["head_direction"]
    out["speed"].attrs.setdefault("units", "")
    out.attrs["source_kind"] = tracking
    return out


@renamed_keywords(source="tracking")
def kinematics_results(session: Any, *, kinematics: xr.Dataset | None = None, **options: Any) -> list:
    """Speed, acceleration and (with a pose) head direction of a session, as containers.

    Computed by :func:`session_kinematics` with ``options`` (its keywords: ``tracking``,
    ``keypoint``, ``smooth_s``, ``min_confidence``, ``pose``, ``position``), or pass its result
    as ``kinematics`` (``options`` then only go into the provenance). With several individuals,
    speed and acceleration are ``TimeSeries`` with one column per individual (their names in the
    description, in column order) and head direction holds one series per individual
    (``head_direction_<individual>``).

    Examples
    --------
    >>> with nwbview.open("session.nwb") as s:  # doctest: +SKIP
    ...     write_results("session.nwb", kinematics_results(s, tracking="pose"))
    """
    from pynwb import TimeSeries

    if kinematics is None:
        kinematics = session_kinematics(session, **options)
    kd = kinematics
    params = {"tracking": "position", **options, "keypoint": kd.attrs.get("keypoint", options.get("keypoint")),
              "min_confidence": kd.attrs.get("min_confidence")}
    params = {k_: v for k_, v in params.items() if v is not None}
    out = []
    for var, builder in (("speed", speed_result), ("acceleration", acceleration_result)):
        da = kd[var]
        da.attrs.setdefault("source", kd.attrs.get("source", ""))
        if "individual" in da.dims and da.sizes["individual"] == 1:
            da = da.isel(individual=0, drop=True)
        if "individual" not in da.dims:
            out.append(builder(da, **params))
            continue
        inds = [str(i) for i in da.individual.values]
        da = da.transpose("time", "individual")
        fn = "compute_speed" if var == "speed" else "compute_acceleration"
        out.append(TimeSeries(
            name=result_name(var), data=np.asarray(da.values, np.float64), unit=str(da.attrs.get("units", "")),
            timestamps=np.asarray(da.time.values, np.float64),
            description=f"{var.capitalize()} of {kd.attrs.get('source', 'the pose')}, one column per individual: "
                        f"{', '.join(inds)}; computed by nwbview.",
            comments=provenance(fn, input=kd.attrs.get("source", ""), individuals=inds, **params),
        ))
    if "head_direction" in kd:
        out.append(head_direction_result(kd["head_direction"], **params))
    return out


class calibration_result:  # noqa: N801 - used like a builder function
    """A ``VideoCalibration`` to be built inside the file it is written to.

    It links to that file's ImageSeries, so it is a factory:
    :func:`~nwbview.io.write.write_results` calls it with the ``NWBFile``.

    Parameters
    ----------
    calibration
        A fitted :class:`~nwbview.calibration.Calibration`.
    video_path
        NWB path of the ImageSeries it calibrates (e.g. ``acquisition/BehaviorVideo``).

    Examples
    --------
    >>> cal = s.fit_calibration(landmarks="landmarks.csv")  # doctest: +SKIP
    >>> write_results("session.nwb", calibration_result(cal, "acquisition/BehaviorVideo"))  # doctest: +SKIP
    """

    def __init__(self, calibration: Any, video_path: str, name: str = "VideoCalibration", **params: Any):
        self.calibration = calibration
        self.video_path = video_path
        self.name = self.result_name = name
        self.params = params

    def __call__(self, nwbfile: Any) -> Any:
        from nwbview.errors import StreamNotFoundError
        from nwbview.io.nwb import nwb_path

        video = next((o for o in nwbfile.objects.values() if type(o).__name__ in {"ImageSeries", "OpticalSeries"} and nwb_path(o) == self.video_path), None)
        if video is None:
            raise StreamNotFoundError(f"The file has no ImageSeries at {self.video_path}; the calibration cannot link to it.")
        cal = self.calibration
        desc = provenance(f"calibration.{cal.method}", transform_type=cal.transform_type, **self.params)
        return cal.to_nwb(image_series=video, name=self.name, description=desc)


def heatmap_result(heatmap: xr.DataArray, name: str | None = None, **params: Any) -> Any:
    """A heatmap as an ``Images`` container that reads back as the same DataArray.

    The values are a ``GrayscaleImage`` named ``values`` (float, NaN kept);
    its description holds the dims, coordinates, bin edges, units and
    parameters as JSON, which :func:`nwbview.heatmap.heatmap_from_images`
    turns back into the DataArray.

    Examples
    --------
    >>> occ = nwbview.heatmap.occupancy(s.position())  # doctest: +SKIP
    >>> write_results("session.nwb", heatmap_result(occ))  # doctest: +SKIP
    """
    from pynwb.base import Images
    from pynwb.image import GrayscaleImage

    if heatmap.ndim != 2:
        raise DataShapeError(f"A heatmap is 2-D; got dims {heatmap.dims}.")
    kind = heatmap.attrs.get("kind", "map")
    name = name or result_name(f"heatmap_{kind}")

    def plain(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return v.tolist()
        if isinstance(v, (np.floating, np.integer)):
            return v.item()
        return v

    meta = {
        "name": heatmap.name,
        "dims": list(heatmap.dims),
        "coords": {d: heatmap[d].values.tolist() for d in heatmap.dims},
        "extra_coords": {
            c: [heatmap[c].dims[0], heatmap[c].values.tolist()]
            for c in heatmap.coords
            if c not in heatmap.dims and heatmap[c].ndim == 1
        },
        "attrs": {k: plain(v) for k, v in heatmap.attrs.items()},
    }
    img = GrayscaleImage(name="values", data=np.asarray(heatmap.values, dtype=np.float64), description=json.dumps(meta))
    effective = {k: plain(heatmap.attrs[k]) for k in ("bin_size", "min_speed", "sigma", "radius_px", "polarity") if heatmap.attrs.get(k) not in (None, "")}
    desc = provenance(f"heatmap.{kind}", input=heatmap.attrs.get("source", ""), **{**effective, **params})
    return Images(name=name, images=[img], description=desc)
