"""The napari view of a session: the video, overlays and docks on one time axis.

:func:`view` opens a session in napari and returns the viewer without blocking.
:class:`SessionView` is the controller behind it: it turns a session and the overlay specs of
:mod:`nwbview.render.overlays` into napari layers, keeps the per-step state (the time label, the
time-series dock) in step with the slider, and closes, writes and reopens the file when a
calibration is saved. It holds no analysis logic: it calls the session, the timeline, the
calibration and :func:`nwbview.io.write.write_results`.

Time
----
The first axis of every layer is the timeline's frame index (by default the video's own
frames: step ``k`` shows video frame ``timeline.frames[k]``). The slider's label shows the
session time of the current step in seconds.

Layers
------
napari slices every layer natively on the time axis, so a step costs no Python of ours beyond
the slider label and the dock:

- the video: an Image over :class:`VideoFrames`, a lazy array that decodes ``reader[i]`` only
  when napari indexes step ``k`` (never the whole video);
- pose keypoints (Points, coloured by keypoint name) and the position (Points), one set per
  step, only at the steps where :meth:`Timeline.nearest` finds a sample;
- the skeleton edges and the head-direction arrows in one Vectors layer (vispy rebuilt a Vectors
  layer's shader on every step, vispy/vispy#2568, until :mod:`._vispy_fixes` mended it);
- the position trail: a Tracks layer whose samples sit at their fractional step; its shader
  cuts the trail at the current step and fades it over ``trail_seconds``.

Space
-----
napari's first display axis points down. With an affine (scale, similarity, affine)
calibration the view is the *world* frame: a world point ``(x, y)`` (cm, y up) sits at napari
coordinates ``(row, col) = (-y, x)``, so the arena is shown with y up, and the video is placed
by the affine ``F @ M @ P`` (``P``: napari pixel index -> video pixel, pixel centres at +0.5;
``M``: the calibration, pixel -> world; ``F``: world -> ``(-y, x)``). Without a calibration, or
with a projective one (which no affine can place), the view is the *pixel* frame: napari
coordinates are video pixel coordinates ``(row, col) = (y, x)`` and world-frame data are mapped
into the video through ``Calibration.world_to_pixels`` (or left out, with a warning, when there
is no calibration). Data are converted to napari coordinates once, when the layers are made.

Examples
--------
>>> import nwbview
>>> from nwbview.render.napari import view
>>> viewer = view("demo_session.nwb")  # doctest: +SKIP
>>> [layer.name for layer in viewer.layers]  # doctest: +SKIP
['video: BehaviorVideo', 'pose: PoseEstimation', 'skeleton + head direction', 'position trail', 'position']
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import xarray as xr
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QLabel, QVBoxLayout, QWidget

from nwbview.errors import CalibrationError, NWBViewError, NWBViewWarning, StreamNotFoundError
from nwbview.render.draw import PALETTE, to_rgb
from nwbview.render.draw import xy_values as _xy
from nwbview.render.overlays import (
    HeadDirectionOverlay,
    PoseOverlay,
    PositionOverlay,
    TimeSeriesOverlay,
    TimestampOverlay,
    data_frame,
    pose_keypoints,
)
from nwbview.timeline import Timeline

__all__ = ["view", "SessionView", "Space", "VideoFrames", "session_view", "report_errors"]

log = logging.getLogger("nwbview.napari")

#: key of nwbview's entry in a layer's ``metadata``
META_KEY = "nwbview"
#: most frames :class:`VideoFrames` decodes for one indexing call
MAX_FRAMES_PER_READ = 64
#: steps of overlay data a layer holds at once (napari slices a layer's whole data on every
#: step, so a layer holds a window of steps around the current one and is refilled when the
#: slider leaves it); sessions with at most 1.5x this many steps hold everything
CHUNK_STEPS = 300

# the live view of each viewer, by id(viewer) (a napari viewer cannot hold attributes of its own)
_BY_VIEWER: dict[int, "SessionView"] = {}


# --------------------------------------------------------------------------------------------
# GUI error reporting
# --------------------------------------------------------------------------------------------


def _notify(kind: str, message: str) -> None:
    from napari.utils.notifications import show_error, show_info, show_warning

    {"error": show_error, "warning": show_warning, "info": show_info}[kind](message)


def report_errors(fn: Callable) -> Callable:
    """Run a GUI action: its errors and nwbview warnings become napari notifications.

    An :class:`~nwbview.errors.NWBViewError` shows its message; any other exception is a bug
    and shows a short report (the traceback goes to the ``nwbview.napari`` logger). The wrapped
    action returns None when it failed.

    Examples
    --------
    >>> button.clicked.connect(lambda *_: report_errors(widget.fit)())  # doctest: +SKIP
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", NWBViewWarning)
                out = fn(*args, **kwargs)
        except NWBViewError as exc:
            _notify("error", str(exc))
            return None
        except Exception as exc:  # noqa: BLE001 - a bug: report it in the GUI, not as a traceback
            log.error("nwbview viewer: %s", traceback.format_exc())
            _notify(
                "error",
                f"internal error in {getattr(fn, '__name__', 'nwbview')}: {type(exc).__name__}: {exc}. "
                "This is a bug in nwbview; the traceback is in the log (logger 'nwbview.napari').",
            )
            return None
        for w in caught:
            if issubclass(w.category, NWBViewWarning):
                _notify("warning", str(w.message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return out

    return wrapper


# --------------------------------------------------------------------------------------------
# Space: the display frame and the maps into it
# --------------------------------------------------------------------------------------------


class Space:
    """Where data land in napari: the display frame and the maps into it.

    Parameters
    ----------
    calibration : Calibration or None
        The video's pixel -> world calibration.

    Attributes
    ----------
    frame : {"world", "pixel"}
        ``world`` with an affine calibration (napari ``(row, col) = (-y, x)``), else ``pixel``
        (napari ``(row, col) = (y, x)`` in video pixels).
    unit : str
        Unit of the displayed coordinates (the calibration's unit, or ``"px"``).

    Examples
    --------
    The demo camera sees the 100 x 80 cm arena at 5.6 px/cm, its south-west corner at pixel
    (40, 464):

    >>> from nwbview.calibration import Calibration
    >>> s = 1 / 5.6
    >>> space = Space(Calibration([[s, 0, -40 * s], [0, -s, 464 * s], [0, 0, 1]], "scale", (640, 480)))
    >>> space.frame, space.to_display([[0.0, 80.0]], "world").tolist()
    ('world', [[-80.0, 0.0]])
    >>> space.to_display([[40.0, 464.0]], "pixel").round(9).tolist()
    [[-0.0, 0.0]]
    >>> Space(None).to_display([[40.0, 464.0]], "pixel").tolist()
    [[464.0, 40.0]]
    """

    def __init__(self, calibration: Any = None, *, frame: str | None = None, unit: str = "cm"):
        self.calibration = calibration
        self.projective = calibration is not None and calibration.transform_type == "projective"
        if frame is None:
            frame = "world" if calibration is not None and not self.projective else "pixel"
        self.frame = frame
        self.unit = (calibration.unit if calibration is not None else unit) if frame == "world" else "px"

    def __repr__(self) -> str:
        return f"<Space {self.frame} ({self.unit})>"

    def describe(self) -> str:
        """One sentence for the user: which frame the view is in, and why."""
        if self.frame == "world" and self.calibration is None:
            return f"World frame ({self.unit}, y up): the session has no video."
        if self.frame == "world":
            return (
                f"World frame ({self.unit}, y up) from the {self.calibration.transform_type} calibration: "
                "the video is placed by the calibration's affine."
            )
        if self.projective:
            return (
                "The calibration is projective, and napari can place an image only by an affine map: the "
                "view stays in video pixels and world-frame data (position, head direction) are mapped "
                "into the video through the calibration."
            )
        return "Video pixels: the video has no calibration."

    def _convert(self, xy: np.ndarray, frame: str, what: str) -> np.ndarray:
        if frame == self.frame:
            return xy
        if self.calibration is None:
            raise CalibrationError(
                f"{what} is in world coordinates but the video has no pixel <-> world calibration, so it "
                "cannot be placed on the video (nwbview never guesses the y flip). Calibrate the video "
                "(the viewer's calibration widget, or `nwbview calibrate FILE --landmarks CSV`)."
            )
        if frame == "pixel":
            return self.calibration.pixels_to_world(xy)
        return self.calibration.world_to_pixels(xy)

    def to_display(self, xy: Any, frame: str, what: str = "The data") -> np.ndarray:
        """Points ``(..., 2)`` (x, y) in ``frame`` -> napari ``(row, col)``; NaN stays NaN."""
        xy = self._convert(np.asarray(xy, dtype=np.float64), frame, what)
        out = np.empty_like(xy)
        if self.frame == "world":
            out[..., 0] = -xy[..., 1]
            out[..., 1] = xy[..., 0]
        else:
            out[..., 0] = xy[..., 1]
            out[..., 1] = xy[..., 0]
        return out

    def from_display(self, rc: Any, frame: str = "pixel") -> np.ndarray:
        """napari ``(row, col)`` -> points ``(..., 2)`` (x, y) in ``frame``."""
        rc = np.asarray(rc, dtype=np.float64)
        xy = np.empty_like(rc)
        if self.frame == "world":
            xy[..., 0] = rc[..., 1]
            xy[..., 1] = -rc[..., 0]
        else:
            xy[..., 0] = rc[..., 1]
            xy[..., 1] = rc[..., 0]
        if frame == self.frame:
            return xy
        if self.calibration is None:
            raise CalibrationError("The view is in video pixels and has no calibration to convert to world coordinates.")
        return self.calibration.world_to_pixels(xy) if frame == "pixel" else self.calibration.pixels_to_world(xy)

    def video_affine(self) -> np.ndarray:
        """3x3 affine: napari pixel index ``(r, c, 1)`` of the video -> napari ``(row, col, 1)``.

        napari draws pixel ``(r, c)`` centred on ``(r, c)``; nwbview's pixel centres are at
        ``(x, y) = (c + 0.5, r + 0.5)``.
        """
        if self.frame == "pixel":
            return np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
        p = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.5], [0.0, 0.0, 1.0]])  # (r, c) -> (x, y)
        f = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # (x, y) -> (-y, x)
        return f @ np.asarray(self.calibration.matrix, dtype=np.float64) @ p

    @property
    def px_size(self) -> float:
        """Display units per video pixel (to size markers like the export does)."""
        if self.frame == "world":
            return float(self.calibration.cm_per_px) if self.calibration is not None else 0.2  # no video: ~5 px/cm
        return 1.0


def _affine_nd(a2: np.ndarray) -> np.ndarray:
    """A 2-D (row, col) affine as the 3-D (time, row, col) affine napari takes."""
    out = np.eye(4)
    out[1:3, 1:3] = a2[:2, :2]
    out[1:3, 3] = a2[:2, 2]
    return out


# --------------------------------------------------------------------------------------------
# The video as a lazy array
# --------------------------------------------------------------------------------------------


class VideoFrames:
    """The timeline's video frames as a lazy ``(n_steps, height, width, 3)`` uint8 array.

    Indexing decodes only the frames asked for, through the :class:`VideoReader` (its LRU cache
    makes stepping forward cheap); napari reads one frame per slider step. Turning the whole
    array into numpy is refused: a video is never loaded whole.

    Examples
    --------
    >>> from nwbview.io.video import VideoReader
    >>> reader = VideoReader.from_array(np.zeros((4, 6, 8), np.uint8), np.arange(4.0))
    >>> frames = VideoFrames(reader, np.array([1, 2, 3]))
    >>> frames.shape, frames[0].shape, frames[1:3].shape
    ((3, 6, 8, 3), (6, 8, 3), (2, 6, 8, 3))
    """

    def __init__(self, reader: Any, frames: np.ndarray):
        self.reader = reader
        self.frames = np.asarray(frames, dtype=np.int64)
        w, h = (int(v) for v in reader.size)
        self.shape = (int(self.frames.size), h, w, 3)
        self.dtype = np.dtype(np.uint8)
        self.ndim = 4
        #: frames decoded through this array (for tests and benchmarks)
        self.reads = 0

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"<VideoFrames {self.shape} of {self.reader!r}>"

    def frame(self, k: int) -> np.ndarray:
        """The video frame shown at step ``k``."""
        self.reads += 1
        return self.reader[int(self.frames[k])]

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        if any(k is Ellipsis for k in key):
            i = next(j for j, k in enumerate(key) if k is Ellipsis)
            key = key[:i] + (slice(None),) * (self.ndim - len(key) + 1) + key[i + 1 :]
        first, rest = (key[0], key[1:]) if key else (slice(None), ())
        n = self.shape[0]
        if isinstance(first, (int, np.integer)):
            k = int(first) + (n if int(first) < 0 else 0)
            if not 0 <= k < n:
                raise IndexError(f"step {int(first)} is out of range: the timeline has {n} steps.")
            out = self.frame(k)
            return out[rest] if rest else out
        idx = np.arange(n)[first]
        if idx.size > MAX_FRAMES_PER_READ:
            raise NWBViewError(
                f"Refusing to decode {idx.size} video frames at once (at most {MAX_FRAMES_PER_READ}): "
                "nwbview never loads a whole video into memory. Index single frames."
            )
        if idx.size:
            out = np.stack([self.frame(int(i)) for i in idx])
        else:
            out = np.empty((0,) + self.shape[1:], np.uint8)
        return out[(slice(None),) + rest] if rest else out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise NWBViewError(
            f"Refusing to load the whole video ({self.shape[0]} frames of {self.shape[2]}x{self.shape[1]}) "
            "into memory; index the frames you need."
        )


# --------------------------------------------------------------------------------------------
# Layer data (pure: numpy in, (data, kwargs, layer_type) out)
# --------------------------------------------------------------------------------------------


def _rgba(color: Any, alpha: float = 1.0) -> np.ndarray:
    r, g, b = to_rgb(color)
    return np.array([r / 255.0, g / 255.0, b / 255.0, alpha])




def _times(data: Any) -> np.ndarray:
    return np.asarray(data["time"].values, dtype=np.float64)


def _vectors(k: np.ndarray, p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    """napari vectors ``(n, 2, 3)``: start ``(k, row, col)``, projection ``(0, drow, dcol)``."""
    out = np.zeros((k.size, 2, 3))
    out[:, 0, 0] = k
    out[:, 0, 1:] = p0
    out[:, 1, 1:] = p1 - p0
    return out


def position_layers(spec: PositionOverlay, timeline: Timeline, space: Space) -> list[tuple]:
    """The current position (one point per step) and its fading trail (a Tracks layer).

    The trail's samples sit at their fractional step; the trail shows the samples up to the
    current step, fading out over the last ``trail_seconds`` (in steps at the timeline's median
    frame rate).

    Examples
    --------
    >>> space = Space(session.calibration())  # doctest: +SKIP
    >>> for data, kwargs, kind in position_layers(PositionOverlay(session.position()), timeline, space):  # doctest: +SKIP
    ...     getattr(viewer, f"add_{kind}")(data, **kwargs)
    """
    frame = data_frame(spec.data, spec.frame)
    t = _times(spec.data)
    disp = space.to_display(_xy(spec.data, "PositionOverlay"), frame, "The position")
    idx = timeline.nearest(t)
    k = np.flatnonzero(idx >= 0)
    p = disp[idx[k]] if k.size else np.empty((0, 2))
    ok = np.all(np.isfinite(p), axis=1)
    points = np.column_stack([k[ok], p[ok]]).astype(np.float64) if ok.any() else np.empty((0, 3))
    px = space.px_size
    color = _rgba(spec.color)
    out = [
        (
            points,
            dict(
                name="position",
                ndim=3,
                size=2.0 * float(spec.radius) * px,
                face_color=color,
                border_color="black",
                border_width=0.15,
                projection_mode="none",
                visible=spec.visible,
            ),
            "points",
        )
    ]
    if spec.trail_seconds > 0 and t.size > 1 and len(timeline) > 1:
        # each sample at its fractional step (interpolated between the timeline's frame times);
        # a NaN gap starts a new track. napari's Tracks shader cuts the trail at the current step
        # and fades it over ``tail_length`` steps, so a step only updates a uniform.
        steps = np.interp(t, timeline.times, np.arange(len(timeline), dtype=np.float64), left=np.nan, right=np.nan)
        valid = np.all(np.isfinite(disp), axis=1) & np.isfinite(steps)
        track = np.cumsum(~valid)[valid]
        keep = np.isin(track, np.flatnonzero(np.bincount(track) >= 2))  # a track needs two samples
        if keep.any():
            from napari.utils.colormaps import Colormap

            data = np.column_stack([track[keep], steps[valid][keep], disp[valid][keep]])
            out.insert(
                0,
                (
                    data,
                    dict(
                        name="position trail",
                        tail_length=max(1, int(round(spec.trail_seconds * timeline.fps))),
                        head_length=0,
                        tail_width=max(1.0, float(spec.thickness)),
                        color_by="track_id",
                        colormaps_dict={"track_id": Colormap(np.array([color, color]), name="nwbview position trail")},
                        blending="translucent",
                        opacity=1.0,
                        visible=spec.visible,
                    ),
                    "tracks",
                ),
            )
    return out


def pose_layers(spec: PoseOverlay, timeline: Timeline, space: Space) -> list[tuple]:
    """Keypoints coloured by name (features: keypoint, individual, confidence) and skeleton edges.

    Keypoints below the spec's confidence threshold (or not finite) are left out, and so are
    the edges that touch them.

    Examples
    --------
    >>> layers = pose_layers(PoseOverlay(session.pose()), timeline, Space(None))  # doctest: +SKIP
    >>> [kwargs["name"] for _, kwargs, _ in layers]  # doctest: +SKIP
    ['pose: PoseEstimation', 'skeleton']
    """
    ds = spec.data
    frame = data_frame(ds, spec.frame)
    xy, c, names, inds = pose_keypoints(ds, spec.individuals)  # (time, ind, kp, 2), (time, ind, kp)
    disp = space.to_display(xy, frame, "The pose")
    shown = ~(c < float(spec.confidence_threshold)) & np.all(np.isfinite(disp), axis=-1)
    idx = timeline.nearest(_times(ds))
    k = np.flatnonzero(idx >= 0)
    vis = shown[idx[k]]  # (steps, ind, kp)
    kk, aa, jj = np.nonzero(vis)
    steps = k[kk]
    samples = idx[steps]
    p = disp[samples, aa, jj]
    points = np.column_stack([steps, p]).astype(np.float64) if steps.size else np.empty((0, 3))
    colors = dict(spec.colors or {})
    palette = np.array([_rgba(colors.get(n, PALETTE[j % len(PALETTE)])) for j, n in enumerate(names)])
    px = space.px_size
    label = str(ds.attrs.get("source", "") or "pose").rsplit("/", 1)[-1]
    out = [
        (
            points,
            dict(
                name=f"pose: {label}",
                ndim=3,
                size=2.0 * float(spec.radius) * px,
                face_color=palette[jj] if steps.size else "white",
                border_width=0.0,
                features={
                    "keypoint": np.array(names, dtype=object)[jj] if steps.size else np.empty(0, object),
                    "individual": np.array(inds, dtype=object)[aa] if steps.size else np.empty(0, object),
                    "confidence": c[samples, aa, jj] if steps.size else np.empty(0),
                },
                projection_mode="none",
                visible=spec.visible,
            ),
            "points",
        )
    ]
    edges = spec.edges if spec.edges is not None else ds.attrs.get("skeleton_edges", []) or []
    pos_of = {n: j for j, n in enumerate(names)}
    pairs = [(pos_of[str(a)], pos_of[str(b)]) for a, b in edges if str(a) in pos_of and str(b) in pos_of]
    if pairs:
        starts, ends, ks = [], [], []
        for p_, q_ in pairs:
            both = vis[:, :, p_] & vis[:, :, q_]  # (steps, ind)
            s_i, a_i = np.nonzero(both)
            smp = idx[k[s_i]]
            ks.append(k[s_i])
            starts.append(disp[smp, a_i, p_])
            ends.append(disp[smp, a_i, q_])
        ks_ = np.concatenate(ks)
        vec = _vectors(ks_, np.concatenate(starts), np.concatenate(ends)) if ks_.size else np.zeros((0, 2, 3))
        out.append(
            (
                vec,
                dict(
                    name="skeleton",
                    ndim=3,
                    edge_width=float(spec.thickness) * px,
                    edge_color=_rgba(spec.edge_color),
                    vector_style="line",
                    length=1.0,
                    opacity=0.9,
                    projection_mode="none",
                    visible=spec.visible,
                ),
                "vectors",
            )
        )
    return out


def head_direction_layers(spec: HeadDirectionOverlay, timeline: Timeline, space: Space) -> list[tuple]:
    """An arrow per step from the position along the head direction (world frame angles).

    The arrow is three line vectors (shaft and two head strokes), so it can share a layer with
    the skeleton (see :func:`merge_vectors`).

    Examples
    --------
    >>> spec = HeadDirectionOverlay(session.head_direction(), session.position(), length=8)  # doctest: +SKIP
    >>> (data, kwargs, kind), = head_direction_layers(spec, timeline, Space(session.calibration()))  # doctest: +SKIP
    """
    ih = timeline.nearest(_times(spec.data))
    ip = timeline.nearest(_times(spec.position))
    ang = np.asarray(spec.data.values, dtype=np.float64).reshape(-1)
    xy = _xy(spec.position, "HeadDirectionOverlay.position")
    frame = data_frame(spec.position, spec.frame)
    ok = (ih >= 0) & (ip >= 0)
    k = np.flatnonzero(ok)
    a = ang[ih[k]] if k.size else np.empty(0)
    anchor = xy[ip[k]] if k.size else np.empty((0, 2))
    if frame == "pixel":
        if space.calibration is None:
            raise CalibrationError(
                "Head direction angles are in the world frame and its anchor position is in pixels: placing "
                "the arrow needs the video's calibration. Calibrate the video first."
            )
        anchor = space.calibration.pixels_to_world(anchor)
    length = float(spec.length)
    direction = np.stack([np.cos(a), np.sin(a)], axis=1)
    tip = anchor + length * direction
    # the arrow head: two short strokes back from the tip, +-25 degrees off the shaft
    wings = []
    for turn in (np.deg2rad(155.0), -np.deg2rad(155.0)):
        c, s_ = np.cos(turn), np.sin(turn)
        back = np.stack([direction[:, 0] * c - direction[:, 1] * s_, direction[:, 0] * s_ + direction[:, 1] * c], axis=1)
        wings.append(tip + 0.3 * length * back)
    p0 = space.to_display(anchor, "world", "The head direction")
    p1 = space.to_display(tip, "world", "The head direction")
    w1 = space.to_display(wings[0], "world", "The head direction")
    w2 = space.to_display(wings[1], "world", "The head direction")
    fin = np.all(np.isfinite(np.concatenate([p0, p1, w1, w2], axis=1)), axis=1)
    kk = k[fin]
    if kk.size:
        vec = np.concatenate([_vectors(kk, p0[fin], p1[fin]), _vectors(kk, p1[fin], w1[fin]), _vectors(kk, p1[fin], w2[fin])])
        vec = vec[np.argsort(vec[:, 0, 0], kind="stable")]
    else:
        vec = np.zeros((0, 2, 3))
    return [
        (
            vec,
            dict(
                name="head direction",
                ndim=3,
                edge_width=float(spec.thickness) * space.px_size,
                edge_color=_rgba(spec.color),
                vector_style="line",
                length=1.0,
                opacity=1.0,
                projection_mode="none",
                visible=spec.visible,
            ),
            "vectors",
        )
    ]


def merge_vectors(layers: list[tuple], name: str) -> tuple:
    """One Vectors layer from several (per-vector colours kept; the widest edge width is used).

    napari re-uploads a Vectors layer's mesh on every step; one layer for the skeleton and the
    head direction halves that cost (and, without :mod:`._vispy_fixes`, vispy's shader rebuild
    on each upload, vispy/vispy#2568).

    Examples
    --------
    >>> merged = merge_vectors(skeleton + arrows, "skeleton + head direction")  # doctest: +SKIP
    """
    data = np.concatenate([d for d, _, _ in layers]) if layers else np.zeros((0, 2, 3))
    colors = np.concatenate([np.tile(np.asarray(kw["edge_color"], np.float64).reshape(-1, 4)[:1], (len(d), 1))
                             if np.asarray(kw["edge_color"]).ndim == 1 or len(np.asarray(kw["edge_color"])) != len(d)
                             else np.asarray(kw["edge_color"], np.float64) for d, kw, _ in layers])  # fmt: skip
    order = np.argsort(data[:, 0, 0], kind="stable")
    kwargs = dict(layers[0][1])
    kwargs.update(
        name=name,
        edge_color=colors[order] if len(data) else layers[0][1]["edge_color"],
        edge_width=max(float(kw["edge_width"]) for _, kw, _ in layers),
        visible=any(kw.get("visible", True) for _, kw, _ in layers),
    )
    return data[order], kwargs, "vectors"


# --------------------------------------------------------------------------------------------
# The controller
# --------------------------------------------------------------------------------------------


def _display_available() -> bool:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform.startswith(("offscreen", "minimal")):
        return False
    try:
        from qtpy.QtWidgets import QApplication

        app = QApplication.instance()
    except Exception:  # noqa: BLE001 - no Qt binding: napari will say so
        app = None
    if app is not None:
        return app.platformName() not in ("offscreen", "minimal")
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    return True


def _video_info(session: Any, video: str | None) -> Any:
    items = session.inventory().of_kind("video")
    if video is None:
        if len(items) == 1:
            return items[0]
        if not items:
            return None
        raise NWBViewError(
            f"{session.source} has {len(items)} videos ({', '.join(repr(s.path) for s in items)}); the viewer "
            "shows one: pass video=NAME (CLI: --video NAME)."
        )
    for s in items:
        if video in (s.name, s.path):
            return s
    raise StreamNotFoundError(
        f"No video named {video!r} in {session.source}. Available: {', '.join(repr(s.path) for s in items) or 'none'}."
    )


@dataclass
class _LayerSpec:
    role: str
    data: Any
    kwargs: dict
    layer_type: str
    chunks: "_Chunked | None" = None


class _Chunked:
    """A per-step overlay layer's full data, sorted by step, cut into windows of steps.

    Points are ``(step, row, col)``, vectors ``((step, row, col), (0, drow, dcol))``, tracks
    ``(id, step, row, col)`` (fractional steps; ``pad`` steps before a window are kept so the
    trail is whole). Per-item colours (``face_color``/``edge_color`` arrays) and ``features``
    are cut with the data.
    """

    def __init__(self, data: np.ndarray, kwargs: dict, layer_type: str, pad: float = 0.0):
        data = np.asarray(data, dtype=np.float64)
        key = {"points": lambda d: d[:, 0], "vectors": lambda d: d[:, 0, 0], "tracks": lambda d: d[:, 1]}[layer_type](data)
        order = np.argsort(key, kind="stable")
        self.layer_type = layer_type
        self.pad = float(pad)
        self.key = key[order]
        self.data = data[order]
        self.colors: dict[str, np.ndarray] = {}
        for name in ("face_color", "edge_color"):
            v = kwargs.get(name)
            if isinstance(v, np.ndarray) and v.ndim == 2 and len(v) == len(data) and len(data):
                self.colors[name] = v[order]
        f = kwargs.get("features")
        self.features = None if f is None else {k: np.asarray(v)[order] for k, v in f.items()}

    def part(self, lo: int, hi: int) -> tuple[np.ndarray, dict, dict | None]:
        """Data, per-item colours and features of the steps ``[lo, hi)``."""
        i0 = int(np.searchsorted(self.key, lo - self.pad, side="left"))
        i1 = int(np.searchsorted(self.key, hi, side="left"))
        sel = slice(i0, i1)
        data = self.data[sel]
        colors = {k: v[sel] for k, v in self.colors.items()}
        features = None if self.features is None else {k: v[sel] for k, v in self.features.items()}
        if self.layer_type == "tracks" and len(data):
            ids, counts = np.unique(data[:, 0], return_counts=True)
            keep = np.isin(data[:, 0], ids[counts >= 2])  # a track needs two samples
            data = data[keep]
        return data, colors, features


class SessionView:
    """A session shown in napari: its layers, its time axis and its docks.

    Build it from an open session (or with :meth:`open` from a path); :func:`view` does this
    and attaches it to a viewer. ``layer_data()`` gives napari layer-data tuples (what the
    reader plugin returns); :meth:`attach` adds them to a viewer (or adopts them when napari
    added them) and keeps the slider label and the docks in step.

    Parameters
    ----------
    session : Session
        The open session. The view closes it on :meth:`close` when ``owns_session``.
    video : str, optional
        The ImageSeries to show (default: the only one).
    start, stop : float, optional
        Session time range (seconds, half-open) of the timeline.
    overlays : list, optional
        :class:`PositionOverlay`, :class:`PoseOverlay`, :class:`HeadDirectionOverlay`,
        :class:`TimestampOverlay` specs. Default: pose, position with a 2 s trail, head direction
        and the time, for the streams the session has (those the view cannot place are left out
        with an :class:`NWBViewWarning`).
    timeseries : list of TimeSeriesOverlay, optional
        The dock's signals. Default: speed, and the first LFP channel when there is LFP.
    calibration : Calibration, optional
        Use this pixel -> world calibration instead of the one stored in the file.
    trail_seconds, window_seconds : float
        The default position trail and dock window (when ``overlays`` / ``timeseries`` are not given).
    lfp_channel : int, "auto" or None
        The LFP channel of the default dock: ``"auto"`` channel 0 when there is LFP, None no LFP.

    Examples
    --------
    >>> sv = SessionView(nwbview.open("demo_session.nwb"))  # doctest: +SKIP
    >>> sv.attach(napari.Viewer())  # doctest: +SKIP
    >>> sv.set_step(10); sv.time  # doctest: +SKIP
    """

    def __init__(
        self,
        session: Any,
        *,
        video: str | None = None,
        start: float | None = None,
        stop: float | None = None,
        overlays: Sequence[Any] | None = None,
        timeseries: Sequence[TimeSeriesOverlay] | None = None,
        calibration: Any = None,
        trail_seconds: float = 2.0,
        window_seconds: float = 2.0,
        lfp_channel: int | str | None = "auto",
        owns_session: bool = True,
    ):
        self.session = session
        self.trail_seconds = float(trail_seconds)
        self.window_seconds = float(window_seconds)
        self.lfp_channel = lfp_channel
        self.owns_session = owns_session
        self.video_name = video
        self.start, self.stop = start, stop
        self._user_overlays = None if overlays is None else list(overlays)
        self._user_timeseries = None if timeseries is None else list(timeseries)
        self._user_calibration = calibration
        self.viewer: Any = None
        self.layers: dict[str, Any] = {}
        self.dock: Any = None
        self.docks: list[Any] = []
        self.calibration_widget: Any = None
        self.messages: list[str] = []
        self._listeners: list[Callable[[Space], None]] = []
        self._pending: set[str] = set()
        self._rebuilding = False
        self._closed = False
        self._timestamp: TimestampOverlay | None = None
        self._text: Any = None
        self._chunk = (0, 0)
        self.reader = None
        try:
            self._build()
        except BaseException:
            self._close_reader()
            raise

    @classmethod
    def open(cls, source: Any, **kwargs: Any) -> "SessionView":
        """Open a session (path, URL or ``NWBFile``) and build its view (which owns the session)."""
        import nwbview

        session = nwbview.open(source)
        try:
            return cls(session, owns_session=True, **kwargs)
        except BaseException:
            session.close()
            raise

    # -- building ---------------------------------------------------------------------------
    def _build(self) -> None:
        s = self.session
        self.messages = []
        info = _video_info(s, self.video_name)
        self.video_info = info
        if self._user_calibration is not None:
            cal = self._user_calibration
        elif info is not None:
            cal = s.calibration(video=info.path if len(s.inventory().of_kind("video")) > 1 else None)
        else:
            cal = s.calibration()
        if cal is not None and info is not None:
            self.reader = s.video(info.path)
            size = tuple(int(v) for v in self.reader.size)
            if tuple(cal.frame_dimension) != size:
                raise CalibrationError(
                    f"The calibration is for a {cal.frame_dimension[0]}x{cal.frame_dimension[1]} frame but video "
                    f"{info.name!r} is {size[0]}x{size[1]}: world positions would land in the wrong place. Use "
                    "the calibration of this video (Calibration.for_reader adapts one to a crop or downsample)."
                )
        elif info is not None:
            self.reader = s.video(info.path)
        if info is None:  # no video: the arena in world coordinates
            unit = str(s.position().attrs.get("units") or "cm") if s.inventory().of_kind("position") else "cm"
            self.space = Space(cal, frame="world", unit=unit)
        else:
            self.space = Space(cal)
        # -- timeline
        if self.reader is not None:
            self.timeline = Timeline.from_video(s, info.path, start=self.start, stop=self.stop)
        else:
            self.timeline = self._timeline_without_video()
        self.times = self.timeline.times
        # -- overlays
        if self._user_overlays is None:
            overlays = self._default_overlays()
            strict = False
        else:
            overlays = self._user_overlays
            strict = True
        self._layer_specs: list[_LayerSpec] = []
        if self.reader is not None:
            frames = VideoFrames(self.reader, self.timeline.frames)
            self.frames = frames
            name = f"video: {self.reader.name or 'video'}"
            if self.space.projective:
                name += " (pixels; projective calibration)"
            elif self.space.frame == "pixel":
                name += " (pixels; no calibration)"
            self._layer_specs.append(
                _LayerSpec(
                    "video",
                    frames,
                    dict(name=name, rgb=True, multiscale=False, contrast_limits=[0, 255], projection_mode="none",
                         affine=_affine_nd(self.space.video_affine())),
                    "image",
                )
            )  # fmt: skip
        else:
            self.frames = None
        self._timestamp = None
        for spec in overlays:
            if not getattr(spec, "visible", True) and not isinstance(spec, (PositionOverlay, PoseOverlay, HeadDirectionOverlay)):
                continue
            try:
                if isinstance(spec, PositionOverlay):
                    made = position_layers(spec, self.timeline, self.space)
                elif isinstance(spec, PoseOverlay):
                    made = pose_layers(spec, self.timeline, self.space)
                elif isinstance(spec, HeadDirectionOverlay):
                    made = head_direction_layers(spec, self.timeline, self.space)
                elif isinstance(spec, TimestampOverlay):
                    self._timestamp = spec
                    continue
                else:
                    msg = f"{type(spec).__name__} is not shown in the napari viewer (only in exports); it was left out."
                    if strict:
                        raise NWBViewError(msg)
                    self._warn(msg)
                    continue
            except CalibrationError as exc:
                if strict:
                    raise
                self._warn(f"{type(spec).__name__} not shown: {exc}")
                continue
            for data, kwargs, layer_type in made:
                role = kwargs["name"] if kwargs["name"] in {"position", "position trail", "skeleton", "head direction"} else "pose"
                role = _unique(role, {r.role for r in self._layer_specs})
                self._layer_specs.append(_LayerSpec(role, data, kwargs, layer_type))
        lines = [ls for ls in self._layer_specs if ls.role in ("skeleton", "head direction")]
        if len(lines) == 2:  # one layer: each Vectors layer costs a shader rebuild a step
            data, kwargs, layer_type = merge_vectors([(ls.data, ls.kwargs, ls.layer_type) for ls in lines], "skeleton + head direction")
            at = self._layer_specs.index(lines[0])
            self._layer_specs = [ls for ls in self._layer_specs if ls not in lines]
            self._layer_specs.insert(at, _LayerSpec("skeleton + head direction", data, kwargs, layer_type))
        if self.frames is None and not any(ls.role.startswith("position") for ls in self._layer_specs):
            raise NWBViewError(
                f"{s.source} has no video and no world-frame position to show: the viewer needs one of them."
            )
        # -- time series
        if self._user_timeseries is None:
            self.timeseries = self._default_timeseries()
        else:
            self.timeseries = [t for t in self._user_timeseries]
        for ls in self._layer_specs:
            if ls.role != "video":
                pad = 0.0
                if ls.layer_type == "tracks":
                    pad = float(ls.kwargs.get("tail_length", 0)) + 1.0
                ls.chunks = _Chunked(ls.data, ls.kwargs, ls.layer_type, pad=pad)
        self._chunk = (0, 0)
        for ls in self._layer_specs:
            ls.kwargs.setdefault("metadata", {})[META_KEY] = {
                "role": ls.role,
                "view": id(self),
                "source": str(s.source),
            }

    def _timeline_without_video(self) -> Timeline:
        pos = self.session.position()
        t = _times(pos)
        fps = 30.0
        start = self.start if self.start is not None else float(t[0])
        stop = self.stop if self.stop is not None else float(t[-1]) + 1e-9
        return Timeline.regular(start, stop, fps)

    def _default_overlays(self) -> list:
        from nwbview.render.export import default_overlays

        # no TimestampOverlay: the slider's label shows the time (a canvas text costs a redraw a step)
        return default_overlays(self.session, trail_seconds=self.trail_seconds, head_direction=True, timestamp=False)

    def _default_timeseries(self) -> list:
        from nwbview.render.export import default_timeseries

        auto = isinstance(self.lfp_channel, str)
        if auto and self.lfp_channel != "auto":
            raise NWBViewError(f"Invalid lfp_channel {self.lfp_channel!r}: give a channel number, 'auto' or None.")
        channel = 0 if auto else self.lfp_channel
        return default_timeseries(self.session, lfp_channel=channel, window_seconds=self.window_seconds, lfp_required=not auto and channel is not None)

    def _warn(self, message: str) -> None:
        self.messages.append(message)
        warnings.warn(message, NWBViewWarning, stacklevel=4)

    # -- layer data -------------------------------------------------------------------------
    def layer_data(self) -> list[tuple]:
        """napari layer-data tuples ``(data, kwargs, layer_type)``, bottom layer first.

        Per-step overlay layers hold the window of steps around the current step (see
        :data:`CHUNK_STEPS`); the view refills them as the slider moves.
        """
        lo, hi = self._window(self.step if self.viewer is not None else 0)
        out = []
        for ls in self._layer_specs:
            kwargs = dict(ls.kwargs)
            data = ls.data
            if ls.chunks is not None:
                data, colors, features = ls.chunks.part(lo, hi)
                kwargs.update(colors)
                if features is not None:
                    kwargs["features"] = features
            out.append((data, kwargs, ls.layer_type))
        self._chunk = (lo, hi)
        return out

    def _window(self, k: int) -> tuple[int, int]:
        """The window of steps the overlay layers hold while the slider is at ``k``."""
        n = len(self.timeline)
        if self.frames is None or n <= 1.5 * CHUNK_STEPS:
            return 0, n  # short (or no video, whose layers set the slider's range): everything
        lo = max(0, min(int(k) - CHUNK_STEPS // 4, n - CHUNK_STEPS))
        return lo, lo + CHUNK_STEPS

    def _refill(self, k: int) -> None:
        """Refill the overlay layers when step ``k`` is outside the window they hold."""
        lo, hi = self._chunk
        if lo <= k < hi:
            return
        lo, hi = self._chunk = self._window(k)
        for ls in self._layer_specs:
            layer = self.layers.get(ls.role)
            if ls.chunks is None or layer is None:
                continue
            data, colors, features = ls.chunks.part(lo, hi)
            layer.data = data
            for name, value in colors.items():
                setattr(layer, name, value)
            if features is not None:
                layer.features = features

    @property
    def roles(self) -> list[str]:
        """The roles of the view's layers (``video``, ``pose``, ``skeleton``, ``position``, ...)."""
        return [ls.role for ls in self._layer_specs]

    # -- attaching to a viewer --------------------------------------------------------------------
    def attach(self, viewer: Any, *, add_layers: bool = True, docks: bool = True) -> "SessionView":
        """Show the view in ``viewer``.

        With ``add_layers=False`` the layers are expected to arrive through napari (the reader
        plugin returns :meth:`layer_data`); the view adopts them as they are inserted and
        finishes (time label, docks) when the last one is in.
        """
        from nwbview.render.napari._vispy_fixes import install_mesh_shader_fix

        install_mesh_shader_fix()  # the skeleton's Vectors layer would recompile its shader each step
        self.viewer = viewer
        self._want_docks = docks
        _BY_VIEWER[id(viewer)] = self
        viewer.layers.events.inserted.connect(self._on_inserted)
        viewer.layers.events.removed.connect(self._on_removed)
        self._pending = set(self.roles)
        if add_layers:
            self._add_layers()
        else:
            for layer in list(viewer.layers):
                self._adopt(layer)
        return self

    def _add_layers(self) -> None:
        for data, kwargs, layer_type in self.layer_data():
            getattr(self.viewer, f"add_{layer_type}")(data, **kwargs)

    def _on_inserted(self, event: Any) -> None:
        self._adopt(event.value)

    def _adopt(self, layer: Any) -> None:
        meta = getattr(layer, "metadata", {}).get(META_KEY) if hasattr(layer, "metadata") else None
        if not meta or meta.get("view") != id(self):
            return
        self.layers[meta["role"]] = layer
        self._pending.discard(meta["role"])
        if not self._pending and not self._rebuilding:
            self._finish()

    def _finish(self) -> None:
        v = self.viewer
        if not getattr(self, "_connected", False):
            v.dims.events.current_step.connect(self._on_step)
            self._connected = True
        self._text = _text_overlay(v) if self._timestamp is not None else None
        if self._text is not None:
            self._text.visible = bool(self._timestamp.visible)
            self._text.position = _TEXT_CORNERS.get(self._timestamp.corner, "bottom_left")
        v.dims.set_current_step(0, 0)
        v.reset_view()
        if self._want_docks and hasattr(v, "window") and not self.docks:
            self._add_docks()
        self._on_step()
        if hasattr(v, "window"):
            _notify("info", self.space.describe())

    def _add_docks(self) -> None:
        win = self.viewer.window
        # the calibration first: the last tab added is the one in front (the time series)
        win.add_dock_widget(self.make_widget("calibration"), name="Calibration (nwbview)", area="right")
        win.add_dock_widget(self.make_widget("dock"), name="Time series (nwbview)", area="right", tabify=True)

    def make_widget(self, kind: str) -> Any:
        """A new ``"dock"`` (:class:`TimeSeriesDock`) or ``"calibration"`` (:class:`CalibrationWidget`) of this view."""
        if kind == "dock":
            from nwbview.render.napari.dock import TimeSeriesDock

            dock = TimeSeriesDock(self.timeseries, self.timeline, on_jump=self.jump_to_time)
            self.docks.append(dock)
            if self.dock is None:
                self.dock = dock
            dock.destroyed.connect(lambda *_, d=dock: self._forget(d))
            if self.viewer is not None:
                dock.set_frame(self.step)
            return dock
        if kind == "calibration":
            from nwbview.render.napari.calibration_widget import CalibrationWidget

            widget = CalibrationWidget(self)
            if self.calibration_widget is None:
                self.calibration_widget = widget
            return widget
        raise NWBViewError(f"Unknown widget {kind!r}: must be 'dock' or 'calibration'.")

    def _forget(self, dock: Any) -> None:
        if dock in self.docks:
            self.docks.remove(dock)
        if self.dock is dock:
            self.dock = self.docks[0] if self.docks else None

    def _on_removed(self, event: Any) -> None:
        if self._rebuilding or self._closed:
            return
        layer = event.value
        meta = getattr(layer, "metadata", {}).get(META_KEY) if hasattr(layer, "metadata") else None
        if not meta or meta.get("view") != id(self):
            return
        self.layers.pop(meta["role"], None)
        if not self.layers:
            self.close()

    # -- time -------------------------------------------------------------------------------
    @property
    def step(self) -> int:
        """The current step (timeline frame index)."""
        if self.viewer is None:
            return 0
        return int(np.clip(self.viewer.dims.current_step[0], 0, max(len(self.timeline) - 1, 0)))

    @property
    def time(self) -> float:
        """Session time of the current step, seconds."""
        return float(self.times[self.step])

    def set_step(self, k: int) -> None:
        """Move the slider to step ``k``."""
        self.viewer.dims.set_current_step(0, int(np.clip(k, 0, len(self.timeline) - 1)))

    def step_at(self, t: float) -> int:
        """The step whose time is nearest to ``t`` (seconds)."""
        times = self.times
        j = int(np.searchsorted(times, t))
        if j <= 0:
            return 0
        if j >= times.size:
            return times.size - 1
        return j - 1 if t - times[j - 1] <= times[j] - t else j

    def jump_to_time(self, t: float) -> None:
        """Move the slider to the step nearest to session time ``t``."""
        self.set_step(self.step_at(float(t)))

    def _on_step(self, event: Any = None) -> None:
        if self._closed or self.viewer is None:
            return
        try:
            self._show_step()
        except Exception as exc:  # noqa: BLE001 - a step must never raise into napari's event loop
            log.error("nwbview viewer: %s", traceback.format_exc())
            _notify("error", f"internal error while stepping: {type(exc).__name__}: {exc}. This is a bug in nwbview.")

    def _show_step(self) -> None:
        k = self.step
        self._refill(k)
        t = float(self.times[k]) if len(self.times) else 0.0
        labels = list(self.viewer.dims.axis_labels)
        if labels:
            labels[0] = f"{t:.3f} s"
            self.viewer.dims.axis_labels = tuple(labels)
        if self._text is not None:
            self._text.text = self._timestamp.fmt.format(t=t, frame=k)
        for dock in self.docks:
            dock.set_frame(k)

    # -- calibration ------------------------------------------------------------------------
    def add_listener(self, fn: Callable[[Space], None]) -> None:
        """Call ``fn(old_space)`` after the layers were rebuilt (new calibration, reopened file)."""
        self._listeners.append(fn)

    def fit_calibration(self, labels: Sequence[str], pixel: Any, world: Any, transform_type: str = "auto", unit: str = "cm") -> Any:
        """Fit a calibration of the shown video to landmarks (through ``Session.fit_calibration``).

        ``transform_type="scale"`` uses the first two landmarks as a scale bar (their world
        distance is its length).
        """
        pixel = np.asarray(pixel, dtype=np.float64).reshape(-1, 2)
        world = np.asarray(world, dtype=np.float64).reshape(-1, 2)
        video = self.video_info.path if self.video_info is not None else None
        if transform_type == "scale":
            if len(pixel) < 2:
                raise CalibrationError(f"A scale calibration needs 2 landmarks (a scale bar); got {len(pixel)}.")
            length = float(np.hypot(*(world[1] - world[0])))
            bar = [pixel[0, 0], pixel[0, 1], pixel[1, 0], pixel[1, 1], length]
            return self.session.fit_calibration(video, scale_bar=bar, unit=unit)
        return self.session.fit_calibration(video, landmarks=(list(labels), pixel, world), transform_type=transform_type, unit=unit)

    def save_calibration(self, calibration: Any, *, overwrite: bool = True) -> Path:
        """Store ``calibration`` in the file: close the session's file, write, reopen, refresh.

        HDF5 locks a file that is open, and ``write_results`` refuses a locked file, so the
        view closes its session (and video reader) first, writes the ``VideoCalibration``
        (replacing the file atomically), reopens it and rebuilds its layers in the new frame.
        When the write fails the file is reopened unchanged and the error is raised.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        from nwbview.io.write import write_results
        from nwbview.results import calibration_result

        path = self.session.path
        if path is None or self.session.is_remote:
            raise NWBViewError(
                f"{self.session.source} is not a local file, so the calibration cannot be saved into it. Save it "
                "with `nwbview calibrate` on a local copy."
            )
        if self.video_info is None:
            raise NWBViewError("The session has no video to attach a calibration to.")
        result = calibration_result(calibration, self.video_info.path, method="napari")
        step = self.step
        old_space = self.space
        self._close_session()
        error: BaseException | None = None
        try:
            write_results(path, result, overwrite=overwrite)
        except BaseException as exc:  # noqa: BLE001 - reopen first, then re-raise
            error = exc
        import nwbview

        self.session = nwbview.open(path)
        self.owns_session = True
        self._user_calibration = None
        self._rebuild(old_space, step)
        if error is not None:
            raise error
        return Path(path)

    def _close_session(self) -> None:
        self._close_reader()
        if self.session is not None:
            self.session.close()

    def _close_reader(self) -> None:
        if self.reader is not None:
            try:
                self.reader.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass

    def _rebuild(self, old_space: Space, step: int) -> None:
        """Rebuild the layers from the (reopened) session, in place of the old ones."""
        self._build()
        if self.viewer is None:
            return
        v = self.viewer
        self._rebuilding = True
        try:
            visible = {role: layer.visible for role, layer in self.layers.items()}
            index = min((v.layers.index(layer) for layer in self.layers.values() if layer in v.layers), default=0)
            for layer in list(self.layers.values()):
                if layer in v.layers:
                    v.layers.remove(layer)
            self.layers = {}
            self._pending = set(self.roles)
            for i, (data, kwargs, layer_type) in enumerate(self.layer_data()):
                role = kwargs["metadata"][META_KEY]["role"]
                if role in visible:
                    kwargs["visible"] = visible[role]
                layer = getattr(v, f"add_{layer_type}")(data, **kwargs)
                v.layers.move(v.layers.index(layer), index + i)
        finally:
            self._rebuilding = False
        for fn in self._listeners:  # e.g. the calibration widget moves its landmarks to the new frame
            fn(old_space)
        v.reset_view()
        self.set_step(step)
        self._on_step()

    # -- life cycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Close the video reader and (when the view owns it) the session."""
        if self._closed:
            return
        self._closed = True
        self._close_reader()
        if self.owns_session and self.session is not None:
            try:
                self.session.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        if self.viewer is not None and _BY_VIEWER.get(id(self.viewer)) is self:
            _BY_VIEWER.pop(id(self.viewer), None)

    def __repr__(self) -> str:
        return f"<SessionView {self.session.source}: {len(self.timeline)} steps, {self.space.frame} frame, layers {self.roles}>"


def _text_overlay(viewer: Any) -> Any:
    """The viewer's canvas text overlay (``viewer.canvas.overlays["text"]``; older napari: ``text_overlay``)."""
    overlays = getattr(getattr(viewer, "canvas", None), "overlays", None)
    if overlays is not None and "text" in overlays:
        return overlays["text"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(viewer, "text_overlay", None)


_TEXT_CORNERS = {"top-left": "top_left", "top-right": "top_right", "bottom-left": "bottom_left", "bottom-right": "bottom_right"}


def _unique(role: str, taken: set[str]) -> str:
    if role not in taken:
        return role
    i = 2
    while f"{role} {i}" in taken:
        i += 1
    return f"{role} {i}"


def session_view(viewer: Any) -> SessionView | None:
    """The :class:`SessionView` shown in ``viewer`` (the last one attached), or None.

    Examples
    --------
    >>> viewer = view("demo_session.nwb", show=False)  # doctest: +SKIP
    >>> session_view(viewer).time  # doctest: +SKIP
    0.25
    """
    sv = _BY_VIEWER.get(id(viewer))
    if sv is not None and not sv._closed and sv.viewer is viewer:
        return sv
    return None


class SessionHost(QWidget):
    """A plugin widget: the dock or calibration widget of the session shown in a viewer.

    Until a session is open in the viewer it says so; it fills itself in when one is.
    """

    def __init__(self, viewer: Any, kind: str, parent: Any = None):
        super().__init__(parent)
        self.viewer = viewer
        self.kind = kind
        self.inner = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._label = QLabel("Open an NWB session (File > Open, `nwbview view FILE`, or File > Open Sample > nwbview).")
        self._label.setWordWrap(True)
        self._layout.addWidget(self._label)
        self._try()
        if self.inner is None:
            viewer.layers.events.inserted.connect(self._later)

    def _later(self, event: Any = None) -> None:
        QTimer.singleShot(0, self._try)

    def _try(self) -> None:
        if self.inner is not None:
            return
        sv = session_view(self.viewer)
        if sv is None or sv._pending:
            return
        self.inner = sv.make_widget(self.kind)
        self._label.hide()
        self._layout.addWidget(self.inner)


# --------------------------------------------------------------------------------------------
# view()
# --------------------------------------------------------------------------------------------


def view(
    session_or_path: Any,
    *,
    video: str | None = None,
    start: float | None = None,
    stop: float | None = None,
    overlays: Sequence[Any] | None = None,
    timeseries: Sequence[TimeSeriesOverlay] | None = None,
    calibration: Any = None,
    trail_seconds: float = 2.0,
    window_seconds: float = 2.0,
    lfp_channel: int | str | None = "auto",
    viewer: Any = None,
    docks: bool = True,
    show: bool = True,
    title: str | None = None,
) -> Any:
    """Open a session in napari: the video, pose, position trail, head direction and docks.

    Returns at once (it does not run the Qt event loop): call ``napari.run()`` to interact from
    a script, or use it in a notebook / IPython session with a Qt event loop.

    Parameters
    ----------
    session_or_path
        A :class:`~nwbview.session.Session` (left open when the viewer closes), or what
        :func:`nwbview.open` takes (a path, URL or ``NWBFile``; closed with the viewer).
    video : str, optional
        The ImageSeries to show (default: the only one).
    start, stop : float, optional
        Session time range (seconds, half-open) the slider steps through (default: the whole
        video).
    overlays : list, optional
        Overlay specs (:class:`~nwbview.render.overlays.PositionOverlay`,
        :class:`~nwbview.render.overlays.PoseOverlay`,
        :class:`~nwbview.render.overlays.HeadDirectionOverlay`,
        :class:`~nwbview.render.overlays.TimestampOverlay`). Default: pose, position with a 2 s
        trail, head direction and the time, for the streams the session has.
    timeseries : list of TimeSeriesOverlay, optional
        The dock's signals. Default: speed, and LFP channel 0 when there is LFP.
    calibration : Calibration, optional
        Override the calibration stored in the file.
    trail_seconds : float, default: 2.0
        Length of the default position trail.
    window_seconds : float, default: 2.0
        Width of the default dock's window.
    lfp_channel : int, "auto" or None, default: "auto"
        The LFP channel in the default dock (``"auto"``: channel 0 when the file has LFP; an int
        must exist; None: no LFP).
    viewer : napari.Viewer, optional
        Add to this viewer instead of making a new one.
    docks : bool, default: True
        Add the time-series dock and the calibration widget.
    show : bool, default: True
        Show the window. ``False`` for scripts and tests: the viewer works hidden (layers,
        slider, docks, screenshots). Without a display (no X server, or
        ``QT_QPA_PLATFORM=offscreen``, where napari has no OpenGL), ``show=False`` returns a
        headless ``napari.components.ViewerModel`` with the same layers and no window or docks.
    title : str, optional
        Window title (default: the file name).

    Returns
    -------
    napari.Viewer
        (or a ``ViewerModel`` when there is no display). :func:`session_view` gives its
        :class:`SessionView`.

    Raises
    ------
    NWBViewError
        The session cannot be shown (no video and no world-frame position, several videos and no
        ``video``), or ``show=True`` without a display.

    Examples
    --------
    A mouse explored an open field; look at its first minute, with the LFP in the dock:

    >>> from nwbview.render.napari import view
    >>> viewer = view("demo_session.nwb", stop=60)  # doctest: +SKIP
    >>> import napari; napari.run()  # doctest: +SKIP
    """
    import napari

    from nwbview.session import Session

    options = dict(video=video, start=start, stop=stop, overlays=overlays, timeseries=timeseries, calibration=calibration,
                   trail_seconds=trail_seconds, window_seconds=window_seconds, lfp_channel=lfp_channel)  # fmt: skip
    if isinstance(session_or_path, Session):
        sv = SessionView(session_or_path, owns_session=False, **options)
    else:
        sv = SessionView.open(session_or_path, **options)
    try:
        if viewer is None:
            name = title or f"nwbview: {Path(str(sv.session.source)).name}"
            if _display_available():
                viewer = napari.Viewer(title=name, show=show)
            elif show:
                raise NWBViewError(
                    "No display to show the viewer on (no X server / Wayland, or QT_QPA_PLATFORM=offscreen). "
                    "Run it on a desktop, under xvfb-run, or pass show=False for a headless viewer model."
                )
            else:
                from napari.components import ViewerModel

                warnings.warn(
                    "No display with OpenGL: returning a headless napari ViewerModel (layers and slider, no "
                    "window, docks or screenshots).",
                    NWBViewWarning,
                    stacklevel=2,
                )
                viewer = ViewerModel(title=name)
                docks = False
        sv.attach(viewer, docks=docks)
    except BaseException:
        sv.close()
        raise
    return viewer
