"""Overlay specifications: what to draw on a frame, independent of how it is drawn.

An overlay is a small dataclass holding xarray data (on the session clock) and display
settings. The video exporter (:mod:`nwbview.render.export`) draws them with a raster library;
the napari viewer reads the same specs. Nothing here imports matplotlib, OpenCV or napari.

Coordinates
-----------
Each spatial overlay says in which coordinates its data are: ``"pixel"`` (video pixels, x right,
y down, pixel centres at +0.5) or ``"world"`` (the arena, y up, e.g. cm). With ``coordinates=None``
it is read from ``data.attrs["coordinates"]`` (what :class:`~nwbview.session.Session` sets), else from the
units (``px``/``pixels`` -> pixel). World data reaches video pixels only through a
:class:`~nwbview.calibration.Calibration` (``world_to_pixels``); pixel data is drawn as it is.
Nothing flips y by hand.

Colours are RGB tuples of 0-255 ints or matplotlib-style names/hex strings (``"tab:red"``,
``"#ff8800"``).

Examples
--------
>>> import nwbview
>>> from nwbview.render import PositionOverlay, PoseOverlay, TimeSeriesOverlay
>>> s = nwbview.open("demo_session.nwb")  # doctest: +SKIP
>>> overlays = [PoseOverlay(s.pose()), PositionOverlay(s.position(), trail_s=3)]  # doctest: +SKIP
>>> column = [TimeSeriesOverlay(s.lfp(channels=[0]), label="LFP ch 0", window_s=2)]  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:  # xarray is imported where it is used: export workers never load it
    import xarray as xr

from nwbview.errors import DataShapeError, NWBViewError, renamed_keywords
from nwbview.units import is_pixel_unit

__all__ = [
    "Color",
    "Overlay",
    "PositionOverlay",
    "PoseOverlay",
    "HeadDirectionOverlay",
    "FieldOverlay",
    "EventOverlay",
    "TimestampOverlay",
    "TimeSeriesOverlay",
    "data_frame",
]

Color = "tuple[int, int, int] | str"

_COORDINATES = ("pixel", "world")


def _renamed_fields(**renames: str):
    """:func:`~nwbview.errors.renamed_keywords` on a dataclass: ``PositionOverlay(trail_seconds=...)``
    raises a :class:`~nwbview.errors.RenamedError` naming the 0.2 field."""

    def wrap(cls):
        init = cls.__init__
        init.__name__ = cls.__name__  # the message names the class
        cls.__init__ = renamed_keywords(**renames)(init)
        return cls

    return wrap


def pose_keypoints(ds: Any, individuals: Any = None) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """``(xy, confidence, keypoint names, individual names)`` of a pose Dataset.

    ``xy`` is ``(time, individual, keypoint, 2)``; ``confidence`` is ``(time, individual,
    keypoint)``, NaN where the pose has none. Shared by the export's pose drawer and the napari
    pose layers.
    """

    def arranged(da):
        if "individual" not in da.dims:
            da = da.expand_dims("individual", axis=-1)
        if individuals is not None:
            da = da.sel(individual=list(individuals))
        return da

    pos = arranged(ds["position"]).transpose("time", "individual", "keypoint", "space")
    if "space" in pos.coords and {"x", "y"} <= set(np.asarray(pos["space"].values).tolist()):
        pos = pos.sel(space=["x", "y"])
    else:
        pos = pos.isel(space=slice(0, 2))
    names = [str(n) for n in np.asarray(pos["keypoint"].values).tolist()]
    inds = [str(n) for n in np.asarray(pos["individual"].values).tolist()]
    xy = np.asarray(pos.values, dtype=np.float64)
    if "confidence" in ds:
        conf = np.asarray(arranged(ds["confidence"]).transpose("time", "individual", "keypoint").values, dtype=np.float64)
    else:
        conf = np.full(xy.shape[:3], np.nan)
    return xy, conf, names, inds


def data_frame(data: Any, coordinates: str | None = None) -> str:
    """The coordinates (``"pixel"`` or ``"world"``) of spatial data.

    Parameters
    ----------
    data
        A DataArray or Dataset (``attrs["coordinates"]``, else ``attrs["units"]`` / ``space_unit``).
    coordinates
        Explicit coordinates; returned when given (after checking them). None or ``"native"``:
        those of ``data``.

    Examples
    --------
    >>> import xarray as xr
    >>> data_frame(xr.DataArray([0.0], attrs={"units": "pixels"}))
    'pixel'
    >>> data_frame(xr.DataArray([0.0], attrs={"units": "cm"}))
    'world'
    """
    if coordinates is not None and coordinates != "native":
        if coordinates not in _COORDINATES:
            raise NWBViewError(f"Invalid coordinates {coordinates!r}: must be one of {_COORDINATES} (or None: those of the data).")
        return coordinates
    attrs = getattr(data, "attrs", {}) or {}
    f = attrs.get("coordinates")
    if f in _COORDINATES:
        return str(f)
    return "pixel" if is_pixel_unit(attrs.get("space_unit") or attrs.get("units")) else "world"


def _need_time(data: Any, what: str) -> None:
    import xarray as xr

    if not isinstance(data, (xr.DataArray, xr.Dataset)):
        raise DataShapeError(f"{what} needs an xarray DataArray/Dataset with a 'time' dimension, got {type(data).__name__}.")
    if "time" not in data.dims:
        raise DataShapeError(f"{what} needs a 'time' dimension; got dims {tuple(data.dims)}.")


@dataclass(kw_only=True)
class Overlay:
    """Base class of the spatial overlays drawn on a video (or arena) panel.

    Every overlay also has these fields: ``video`` names the camera the overlay belongs to when
    several videos are shown (None: the first one); ``visible=False`` keeps a spec in a list
    without drawing it; ``required=False`` lets an export skip the overlay, with an
    ``NWBViewWarning``, when it cannot be placed (world data on a video without calibration)
    instead of failing (what :func:`~nwbview.render.default_overlays` makes).
    """

    video: str | None = None
    visible: bool = True
    required: bool = True


@_renamed_fields(trail_seconds="trail_s", frame="coordinates")
@dataclass
class PositionOverlay(Overlay):
    """The tracked position: the current point and a fading trail of the last seconds.

    Parameters
    ----------
    data : xarray.DataArray
        ``(time, space)`` with ``space`` holding ``x`` and ``y`` (``session.position()``).
    trail_s : float
        Length of the trail behind the current point, seconds (0: no trail). Older samples fade out.
    color
        Colour of the point and the trail.
    radius : float
        Radius of the current point, output pixels.
    thickness : float
        Width of the trail, output pixels.
    coordinates : {"pixel", "world"}, optional
        Coordinates of ``data``; default from its attrs (``attrs["coordinates"]``).
    video : str, optional
        The camera to draw on (several videos); default the first.

    Examples
    --------
    >>> PositionOverlay(s.position(), trail_s=2.0, color="tab:orange")  # doctest: +SKIP
    """

    data: xr.DataArray
    trail_s: float = 2.0
    color: Any = (255, 140, 0)
    radius: float = 5.0
    thickness: float = 2.0
    coordinates: str | None = None

    def __post_init__(self) -> None:
        _need_time(self.data, "PositionOverlay")
        if "space" not in self.data.dims:
            raise DataShapeError(f"PositionOverlay needs a 'space' dimension (x, y); got dims {tuple(self.data.dims)}.")
        if not (np.isfinite(self.trail_s) and self.trail_s >= 0):
            raise NWBViewError(f"trail_s is {self.trail_s!r}; give a number of seconds >= 0.")


@_renamed_fields(frame="coordinates")
@dataclass
class PoseOverlay(Overlay):
    """Pose keypoints coloured by name, with the skeleton's edges.

    Parameters
    ----------
    data : xarray.Dataset
        ``position (time, space, keypoint[, individual])`` and optionally ``confidence (time,
        keypoint[, individual])`` (``session.pose()``). Edges come from
        ``data.attrs["skeleton_edges"]`` (pairs of keypoint names) unless ``edges`` is given.
    confidence_threshold : float
        Keypoints whose confidence is below this are hidden (and so are their edges). NaN
        confidence counts as unknown and is shown.
    colors : dict, optional
        ``{keypoint name: colour}``; other keypoints get the default palette in order.
    radius, thickness : float
        Keypoint radius and edge width, output pixels.
    edges : sequence of (str, str), optional
        Skeleton edges to draw instead of the stored ones; ``[]`` draws no edge.
    edge_color
        Colour of the edges.
    individuals : sequence of str, optional
        Individuals to draw (default all).
    coordinates, video
        As for :class:`PositionOverlay`.

    Examples
    --------
    >>> PoseOverlay(s.pose(), confidence_threshold=0.6)  # doctest: +SKIP
    """

    data: xr.Dataset
    confidence_threshold: float = 0.5
    colors: dict | None = None
    radius: float = 4.0
    thickness: float = 2.0
    edges: Sequence[tuple[str, str]] | None = None
    edge_color: Any = (235, 235, 235)
    individuals: Sequence[str] | None = None
    coordinates: str | None = None

    def __post_init__(self) -> None:
        import xarray as xr

        if isinstance(self.data, xr.DataArray):
            self.data = xr.Dataset({"position": self.data}, attrs=dict(self.data.attrs))
        _need_time(self.data, "PoseOverlay")
        if "position" not in self.data or "keypoint" not in self.data["position"].dims:
            raise DataShapeError(
                "PoseOverlay needs a Dataset with 'position (time, space, keypoint[, individual])' "
                "(what session.pose() returns)."
            )


@_renamed_fields(frame="coordinates")
@dataclass
class HeadDirectionOverlay(Overlay):
    """An arrow from the animal's position along its head direction.

    Parameters
    ----------
    data : xarray.DataArray
        ``(time,)`` angles in radians in the world frame (0 along world +x, counter-clockwise
        toward world +y), as ``session.head_direction()`` gives.
    position : xarray.DataArray
        ``(time, space)`` where the arrow starts (``session.position()`` or a keypoint).
    length : float
        Arrow length in world units (cm).
    color, thickness
        Arrow style (thickness in output pixels).
    coordinates, video
        Coordinates of ``position`` (default from its attrs) and the camera to draw on.

    Examples
    --------
    >>> HeadDirectionOverlay(s.head_direction(), s.position(), length=8)  # doctest: +SKIP
    """

    data: xr.DataArray
    position: xr.DataArray
    length: float = 8.0
    color: Any = (60, 200, 255)
    thickness: float = 2.0
    coordinates: str | None = None

    def __post_init__(self) -> None:
        _need_time(self.data, "HeadDirectionOverlay")
        _need_time(self.position, "HeadDirectionOverlay.position")
        if not (np.isfinite(self.length) and self.length > 0):
            raise NWBViewError(f"length is {self.length!r}; give a positive length in world units.")


@dataclass
class FieldOverlay(Overlay):
    """A static 2-D map in world coordinates (e.g. an occupancy heatmap), warped onto the video.

    Parameters
    ----------
    data : xarray.DataArray
        2-D with dims/coords ``x`` and ``y``: the bin centres in world units (y up). NaN bins are
        transparent.
    cmap : str
        A matplotlib colormap name.
    alpha : float
        Opacity of the map, 0-1.
    vmin, vmax : float, optional
        Colour limits (default: the finite range of the data).

    Examples
    --------
    >>> FieldOverlay(occupancy, cmap="magma", alpha=0.4)  # doctest: +SKIP
    """

    data: xr.DataArray
    cmap: str = "viridis"
    alpha: float = 0.45
    vmin: float | None = None
    vmax: float | None = None

    def __post_init__(self) -> None:
        import xarray as xr

        if not isinstance(self.data, xr.DataArray) or set(self.data.dims) != {"x", "y"}:
            dims = tuple(getattr(self.data, "dims", ()))
            raise DataShapeError(f"FieldOverlay needs a 2-D DataArray with dims ('y', 'x') and bin-centre coords; got dims {dims}.")
        if not (0.0 <= float(self.alpha) <= 1.0):
            raise NWBViewError(f"alpha is {self.alpha!r}; give an opacity between 0 and 1.")


@dataclass
class EventOverlay(Overlay):
    """A marker and label shown while an interval (an NWB TimeIntervals row) is active.

    Parameters
    ----------
    intervals
        A ``pynwb.epoch.TimeIntervals`` table, a pandas DataFrame with ``start_time`` and
        ``stop_time`` columns, or an ``(n, 2)`` array of ``[start, stop)`` seconds.
    label : str
        Text shown while an interval is active (default: the table's name).
    label_column : str, optional
        A column of the table whose value (per interval) is shown instead of ``label``.
    color
        Marker colour.
    corner : {"top-left", "top-right", "bottom-left", "bottom-right"}
        Where the marker goes on the panel.

    Examples
    --------
    >>> EventOverlay(s.nwbfile.intervals["running_bouts"], label="running")  # doctest: +SKIP
    """

    intervals: Any
    label: str | None = None
    label_column: str | None = None
    color: Any = (230, 50, 50)
    corner: str = "top-right"

    def __post_init__(self) -> None:
        corners = ("top-left", "top-right", "bottom-left", "bottom-right")
        if self.corner not in corners:
            raise NWBViewError(f"Invalid corner {self.corner!r}: must be one of {corners}.")

    def table(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """``starts``, ``stops`` (seconds) and one label per interval."""
        import pandas as pd

        obj = self.intervals
        name = self.label
        labels = None
        if hasattr(obj, "to_dataframe") and not isinstance(obj, pd.DataFrame):  # an NWB TimeIntervals
            name = name or getattr(obj, "name", None)
            obj = obj.to_dataframe()
        if isinstance(obj, pd.DataFrame):
            missing = [c for c in ("start_time", "stop_time") if c not in obj.columns]
            if missing:
                raise DataShapeError(f"EventOverlay: the intervals table has no {missing} column(s); columns: {list(obj.columns)}.")
            starts = np.asarray(obj["start_time"], dtype=np.float64)
            stops = np.asarray(obj["stop_time"], dtype=np.float64)
            if self.label_column is not None:
                if self.label_column not in obj.columns:
                    raise DataShapeError(
                        f"EventOverlay: no column {self.label_column!r} in the intervals table; columns: {list(obj.columns)}."
                    )
                labels = [_label_text(v) for v in obj[self.label_column]]
        else:
            arr = np.asarray(obj, dtype=np.float64)
            if arr.ndim != 2 or arr.shape[1] != 2:
                raise DataShapeError(f"EventOverlay needs intervals as a TimeIntervals table, a DataFrame or an (n, 2) array; got shape {arr.shape}.")
            starts, stops = arr[:, 0], arr[:, 1]
        name = name or "event"
        if labels is None:
            labels = [name] * starts.size
        return starts, stops, labels


def _label_text(v: Any) -> str:
    if isinstance(v, (list, tuple, np.ndarray)):
        return ", ".join(str(x) for x in v)
    return str(v)


@dataclass
class TimestampOverlay(Overlay):
    """The current session time as text on the panel.

    Parameters
    ----------
    fmt : str
        Format with ``{t}`` (seconds) and ``{frame}`` (timeline frame number).
    corner : {"top-left", "top-right", "bottom-left", "bottom-right"}
    color
        Text colour (drawn with a dark halo).

    Examples
    --------
    >>> TimestampOverlay("t = {t:.2f} s")
    TimestampOverlay(video=None, visible=True, required=True, fmt='t = {t:.2f} s', corner='bottom-left', color=(255, 255, 255))
    """

    fmt: str = "t = {t:.3f} s"
    corner: str = "bottom-left"
    color: Any = (255, 255, 255)

    def __post_init__(self) -> None:
        try:
            self.fmt.format(t=0.0, frame=0)
        except (KeyError, IndexError, ValueError) as exc:
            raise NWBViewError(f"TimestampOverlay fmt {self.fmt!r} is not a valid format ({exc}); use fields {{t}} and {{frame}}.") from None


@_renamed_fields(window_seconds="window_s")
@dataclass
class TimeSeriesOverlay:
    """A scrolling signal in the time-series column (and the napari dock).

    Parameters
    ----------
    data : xarray.DataArray
        ``(time,)`` or ``(time, channel)`` with one channel, on the session clock. Lazy arrays
        (``session.lfp()``) are read only over the exported range.
    label : str, optional
        Name shown on the axis and in the readout (default: ``data.name``).
    color
        Trace colour (default: a palette by position in the column).
    window_s : float
        Width of the visible window in seconds, centred on the current time.
    group : str, optional
        Overlays with the same group share one axis (one row); other groups stack as rows.
        None: a row of its own.
    normalize : bool
        Scale the trace to 0-1 over the exported range (for overlaying signals of different
        units on one axis). The readout still shows the raw value.
    vmin, vmax : float, optional
        Fixed y-limits. By default they are computed once over the exported range (ignoring
        NaN) so the axis does not jump from frame to frame.
    interp : {"linear", "nearest"}
        How the readout value at the cursor is taken from the samples.
    units : str, optional
        Units shown (default: ``data.attrs["units"]``).

    Notes
    -----
    ``window_s``, ``normalize``, ``vmin`` and ``vmax`` belong to the row: when overlays of
    one group disagree, the first one's settings are used (with an ``NWBViewWarning``).

    Examples
    --------
    >>> from nwbview import compute_speed
    >>> TimeSeriesOverlay(compute_speed(s.position()), label="speed", window_s=4)  # doctest: +SKIP
    """

    data: xr.DataArray
    label: str | None = None
    color: Any = None
    window_s: float = 2.0
    group: str | None = None
    normalize: bool = False
    vmin: float | None = None
    vmax: float | None = None
    interp: str = "linear"
    units: str | None = None
    visible: bool = True
    thickness: float = 1.2

    def __post_init__(self) -> None:
        import xarray as xr

        _need_time(self.data, "TimeSeriesOverlay")
        if not isinstance(self.data, xr.DataArray):
            raise DataShapeError("TimeSeriesOverlay needs a DataArray, not a Dataset; pick one variable.")
        extra = [d for d in self.data.dims if d != "time"]
        if any(self.data.sizes[d] != 1 for d in extra):
            shape = {d: self.data.sizes[d] for d in self.data.dims}
            raise DataShapeError(
                f"TimeSeriesOverlay {self.label or self.data.name!r} needs one value per time; got {shape}. "
                "Select one channel, e.g. data.isel(channel=0), and add one overlay per channel."
            )
        if not (np.isfinite(self.window_s) and self.window_s > 0):
            raise NWBViewError(f"window_s is {self.window_s!r}; give a positive number of seconds.")
        if self.interp not in ("linear", "nearest"):
            raise NWBViewError(f"Invalid interp {self.interp!r}: must be 'linear' or 'nearest'.")
        if self.vmin is not None and self.vmax is not None and not float(self.vmin) < float(self.vmax):
            raise NWBViewError(f"vmin ({self.vmin}) must be below vmax ({self.vmax}).")
        if self.label is None:
            self.label = str(self.data.name) if self.data.name is not None else "signal"
        if self.units is None:
            self.units = str(self.data.attrs.get("units", "") or "")

    @property
    def row_settings(self) -> dict[str, Any]:
        """The settings the row takes from its first overlay."""
        return {"window_s": float(self.window_s), "normalize": bool(self.normalize), "vmin": self.vmin, "vmax": self.vmax}
