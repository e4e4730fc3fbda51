"""Annotated video export: the behavioral video with overlays and a time-series column, as MP4.

:func:`export_video` renders one output frame per timeline frame and encodes H.264 (yuv420p)
through PyAV; :func:`snapshot` renders one frame of the same composite as a still image.

How a frame is made
-------------------
Everything that can be computed once is, before the frame loop (:class:`ExportPlan`):

- the timeline (the first video's frames in ``[start, stop)``, or a regular clock with ``fps=``
  or without a video) and, per frame, the source frame of every video (``Timeline.nearest``);
- each overlay bound to its panel: data sliced to the range, aligned (``nearest``/``windows``)
  and converted to output pixels (world data only through ``Calibration.world_to_pixels``);
- the column's static background (matplotlib, once) and per-frame windows and readouts.

A frame then costs: decode each source frame once, resize it into the canvas with OpenCV,
draw the overlays (OpenCV, antialiased), copy the column background and draw its traces,
convert RGB -> I420 (OpenCV) and encode.

Parallel, deterministic encoding
--------------------------------
The timeline is cut into fixed chunks of ``chunk_frames`` frames (240 by default) whose
boundaries do not depend on the number of workers. Each chunk is encoded by a fresh libx264
encoder with ``threads=1`` (so it starts with an IDR frame: a closed GOP) into its own small MP4.
``n_workers`` processes each take a contiguous run of chunks (so each decodes its part of the
video forward, seeking once), and the parent remuxes the finished chunks in order into the
output without re-encoding (packets copied, timestamps checked and shifted onto the timeline).
Output frames are therefore bit-identical whatever ``n_workers`` is. Memory holds one frame
per worker and one chunk's packets in the parent: it does not grow with the clip's length.

The output is written under a temporary name next to ``path`` and renamed into place only when
complete: a failed or interrupted export leaves no half-written file.

Examples
--------
>>> import nwbview
>>> from nwbview.render import export_video, snapshot
>>> with nwbview.open("demo_session.nwb") as s:  # doctest: +SKIP
...     export_video(s, "clip.mp4", start=10, stop=20)
...     snapshot(s, 12.5, "frame.png")
"""

from __future__ import annotations

import math
import os
import queue as queue_mod
import traceback
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from nwbview.errors import OutputPathError as _OutputPathError
from nwbview.io.atomic import atomic_output, check_output_path, temp_dir
from nwbview.errors import (
    CalibrationError,
    NWBViewError,
    NWBViewWarning,
    StreamNotFoundError,
    VideoError,
)
from nwbview.render.draw import GlyphAtlas, PanelGeometry, bind_overlay
from nwbview.render.overlays import (
    HeadDirectionOverlay,
    Overlay,
    PoseOverlay,
    PositionOverlay,
    TimestampOverlay,
    TimeSeriesOverlay,
    EventOverlay,
    data_frame,
)

if TYPE_CHECKING:
    from nwbview.timeline import Timeline

__all__ = [
    "export_video",
    "snapshot",
    "default_overlays",
    "default_timeseries",
    "build_plan",
    "ExportPlan",
    "ExportError",
    "TimeRangeError",
    "OutputPathError",
    "ChannelError",
    "X264_PRESETS",
    "CHUNK_FRAMES",
]

#: frames per independently encoded chunk (a closed GOP each); fixed, whatever the worker count
CHUNK_FRAMES = 240
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")
_VIDEO_SUFFIXES = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov"}
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
_VFR_TIME_BASE = Fraction(1, 90000)
_MIN_COLUMN = 240


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


# --------------------------------------------------------------------------------------------
# Defaults
# --------------------------------------------------------------------------------------------


def _has(session: Any, kind: str) -> bool:
    return bool(session.inventory().of_kind(kind))


def default_overlays(
    session: Any,
    *,
    pose: bool | str = True,
    position: bool | str = True,
    trail_seconds: float = 2.0,
    head_direction: bool | str = False,
    timestamp: bool = True,
    events: Sequence[str] = (),
    min_confidence: float | None = None,
) -> list[Overlay]:
    """The overlays :func:`export_video` draws by default: pose, position with its trail, time.

    Streams the session does not have are left out. The overlays are made with
    ``required=False``: an export skips one it cannot place (world-frame position on a video
    without calibration) with an ``NWBViewWarning`` instead of failing.

    Parameters
    ----------
    session : Session
        The open session.
    pose, position, head_direction, timestamp : bool or str
        Which overlays to include (when the session has the data); a name
        chooses the stream (as ``session.pose(name)``, ``session.position(name)``
        and ``session.head_direction(name)`` take it). Every individual of the
        pose is drawn.
    min_confidence : float, optional
        Keypoints below this confidence are hidden (default
        :data:`nwbview.kinematics.DEFAULT_MIN_CONFIDENCE`).
    trail_seconds : float
        Length of the position trail.
    events : sequence of str
        Names of TimeIntervals tables to show as :class:`EventOverlay`.

    Examples
    --------
    >>> overlays = default_overlays(s, trail_seconds=4.0)  # doctest: +SKIP
    """
    from nwbview.kinematics import DEFAULT_MIN_CONFIDENCE

    threshold = DEFAULT_MIN_CONFIDENCE if min_confidence is None else float(min_confidence)
    out: list[Overlay] = []
    pose_name = pose if isinstance(pose, str) and pose else None
    pos_name = position if isinstance(position, str) and position else None
    hd_name = head_direction if isinstance(head_direction, str) and head_direction else None
    if (pose is not False) and (pose_name is not None or _has(session, "pose")):
        out.append(PoseOverlay(session.pose(pose_name), confidence_threshold=threshold, required=False))
    if (position is not False) and (pos_name is not None or _has(session, "position")):
        out.append(PositionOverlay(session.position(pos_name), trail_seconds=trail_seconds, required=False))
    if (head_direction is not False and head_direction is not None) and (hd_name is not None or _has(session, "head_direction")) and _has(session, "position"):
        out.append(HeadDirectionOverlay(session.head_direction(hd_name), session.position(pos_name), required=False))
    for name in events:
        out.append(EventOverlay(_intervals(session, name), label=name, required=False))
    if timestamp:
        out.append(TimestampOverlay(required=False))
    return out


def _intervals(session: Any, name: str) -> Any:
    items = session.inventory().of_kind("intervals")
    for s in items:
        if name in (s.name, s.path):
            return s.obj
    raise StreamNotFoundError(
        f"No intervals table named {name!r} in {session.source}. Available: "
        f"{', '.join(repr(s.name) for s in items) or 'none'}."
    )


def default_timeseries(
    session: Any,
    *,
    speed: bool = True,
    lfp_channel: int | None = 0,
    window_seconds: float = 2.0,
    lfp_required: bool = False,
    speed_smooth_s: float | None = 0.2,
    position: str | None = None,
    lfp: str | None = None,
) -> list[TimeSeriesOverlay]:
    """The column :func:`export_video` shows by default: speed and one LFP channel.

    Parameters
    ----------
    session : Session
        The open session.
    speed : bool
        Running speed from the tracked position (when the session has position).
    lfp_channel : int or None
        The LFP channel (column of the LFP series) to show; None for none.
    window_seconds : float
        Width of the scrolling window.
    lfp_required : bool
        Raise when the session has no LFP (instead of leaving it out).
    speed_smooth_s : float or None
        Show speed smoothed by a centred rolling mean of this many seconds
        (tracking jitter makes a raw derivative jagged); None for the raw speed.
    position, lfp : str, optional
        The position (for speed) and LFP streams, by name; default the only one.

    Raises
    ------
    ChannelError
        ``lfp_channel`` is not a channel of the LFP.

    Examples
    --------
    >>> column = default_timeseries(s, lfp_channel=2, window_seconds=4)  # doctest: +SKIP
    """
    from nwbview.kinematics import compute_speed, smooth

    out: list[TimeSeriesOverlay] = []
    if speed and _has(session, "position"):
        sp = compute_speed(session.position(position))
        if speed_smooth_s:
            sp = smooth(sp, speed_smooth_s, statistic="mean")
        out.append(TimeSeriesOverlay(sp, label="speed", window_seconds=window_seconds, color=(214, 39, 40)))
    if lfp_channel is not None:
        if lfp is None and not _has(session, "lfp"):
            if lfp_required:
                raise StreamNotFoundError(f"No LFP in {session.source}, so channel {lfp_channel} cannot be shown. Leave out --lfp-channel (or pass --no-lfp).")
        else:
            lfp = session.lfp(lfp)
            n = lfp.sizes.get("channel", 1)
            ch = int(lfp_channel)
            if not 0 <= ch < n:
                raise ChannelError(
                    f"LFP channel {lfp_channel} does not exist: {lfp.attrs.get('source', 'the LFP')} has {n} "
                    f"channel{'s' if n != 1 else ''}, numbered 0 to {n - 1}. Pick one of those."
                )
            da = lfp.isel(channel=ch) if "channel" in lfp.dims else lfp
            out.append(TimeSeriesOverlay(da, label=f"LFP ch{ch}", window_seconds=window_seconds, color=(31, 119, 180)))
    return out


# --------------------------------------------------------------------------------------------
# The plan: everything computed once
# --------------------------------------------------------------------------------------------


@dataclass
class _Panel:
    name: str
    rect: tuple[int, int, int, int]  # x, y, w, h in the canvas
    reader: Any = None
    frames: np.ndarray | None = None  # source frame per timeline frame (-1: none)
    background: np.ndarray | None = None  # arena panels
    drawers: list = field(default_factory=list)
    geometry: PanelGeometry | None = None  # where data land in the panel (output pixels)


@dataclass
class ExportPlan:
    """What to draw for every frame, prepared once (picklable; sent to the workers).

    Attributes
    ----------
    size : (int, int)
        Output ``(width, height)``, both even.
    times : numpy.ndarray
        Session time of each output frame.
    pts : numpy.ndarray
        Presentation timestamp of each frame in ``time_base`` (strictly increasing, from 0).
    time_base, rate : fractions.Fraction
        Output time base and nominal frame rate.
    """

    size: tuple[int, int]
    times: np.ndarray
    pts: np.ndarray
    time_base: Fraction
    rate: Fraction
    panels: list[_Panel]
    column: Any = None
    column_rect: tuple[int, int, int, int] | None = None
    constant_rate: bool = False

    def __len__(self) -> int:
        return int(self.times.size)

    def close(self) -> None:
        """Close the plan's video readers."""
        for p in self.panels:
            if p.reader is not None:
                p.reader.close()


def _even(v: float) -> int:
    return max(2, int(v) // 2 * 2)


def _parse_size(size: Any) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, str):
        try:
            w, h = (int(v) for v in size.lower().replace(" ", "").split("x"))
        except ValueError:
            raise ExportError(f"Invalid size {size!r}: give WIDTHxHEIGHT in pixels, e.g. 1280x720.") from None
    else:
        try:
            w, h = (int(v) for v in size)
        except (TypeError, ValueError):
            raise ExportError(f"Invalid size {size!r}: give (width, height) in pixels, e.g. (1280, 720).") from None
    if w < 32 or h < 32 or w > 8192 or h > 8192:
        raise ExportError(f"Invalid size {w}x{h}: width and height must be between 32 and 8192 pixels.")
    return _even(w), _even(h)


def _layout(video_sizes: list[tuple[int, int]], column: bool, size: tuple[int, int] | None):
    """Panel rectangles (x, y, w, h), the column rectangle and the canvas size."""
    if not video_sizes:
        video_sizes = [(640, 480)]  # the arena view
    aspect = sum(w / h for w, h in video_sizes)
    if size is None:
        H = _even(video_sizes[0][1] + 1)
        hh = video_sizes[0][1]
        col_w = _even(max(320, 0.75 * H)) if column else 0
    else:
        W, H = size
        min_col = _even(max(_MIN_COLUMN, 0.25 * W)) if column else 0
        hh = min(H, (W - min_col) / aspect)
        col_w = None
    widths = [max(2, int(round(w * hh / h))) for w, h in video_sizes]
    heights = [max(2, int(round(hh)))] * len(video_sizes)
    video_w = sum(widths)
    if size is None:
        W = _even(video_w + 1) + col_w if column else _even(video_w + 1)
    else:
        col_w = W - video_w if column else 0
    y0 = (H - heights[0]) // 2
    rects = []
    x = 0 if column else (W - video_w) // 2
    for w, h in zip(widths, heights):
        rects.append((x, y0, w, h))
        x += w
    col_rect = (W - col_w, 0, col_w, H) if column else None
    return rects, col_rect, (W, H)


def _check_range(start: Any, stop: Any) -> tuple[float | None, float | None]:
    out = []
    for name, v in (("start", start), ("stop", stop)):
        if v is None:
            out.append(None)
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise TimeRangeError(f"Invalid {name} {v!r}: give a time in seconds on the session clock.") from None
        if not math.isfinite(f):
            raise TimeRangeError(f"Invalid {name} {v!r}: give a finite time in seconds.")
        out.append(f)
    if out[0] is not None and out[1] is not None and not out[1] > out[0]:
        raise TimeRangeError(f"Invalid time range: stop ({out[1]:g} s) must be after start ({out[0]:g} s).")
    return out[0], out[1]


def _video_names(session: Any, video: Any) -> list[str]:
    if video is False:
        return []
    if video is None:
        vids = session.inventory().of_kind("video")
        if not vids:
            return []
        if len(vids) > 1:
            warnings.warn(
                f"{session.source} has {len(vids)} videos ({', '.join(repr(v.name) for v in vids)}); "
                f"exporting {vids[0].name!r}. Pass video=[...] (--video NAME, repeatable) to choose or "
                "to show several side by side.",
                NWBViewWarning,
                stacklevel=4,
            )
        return [vids[0].path]
    if isinstance(video, str):
        return [video]
    names = list(video)
    if not all(isinstance(n, str) for n in names):
        raise ExportError(f"video= takes a video name or a list of names; got {video!r}.")
    return names


def build_plan(
    session: Any,
    start: float | None = None,
    stop: float | None = None,
    *,
    video: Any = None,
    overlays: Sequence[Any] | None = None,
    timeseries: Sequence[TimeSeriesOverlay] | None = None,
    fps: float | None = None,
    size: Any = None,
    calibration: Any = None,
    at: float | None = None,
) -> ExportPlan:
    """Prepare an export: timeline, layout, bound overlays and column (all per-frame lookups).

    Parameters are those of :func:`export_video` (``session`` may be a path); ``at`` builds a
    one-frame plan at that time (for :func:`snapshot`). The plan holds its own video readers:
    close them with :meth:`ExportPlan.close` when done.

    Examples
    --------
    >>> plan = build_plan(s, 10, 12)  # doctest: +SKIP
    >>> len(plan), plan.size  # doctest: +SKIP
    (60, (1000, 480))
    """
    start, stop = _check_range(start, stop)
    size = _parse_size(size)
    if fps is not None:
        try:
            fps = float(fps)
        except (TypeError, ValueError):
            raise ExportError(f"Invalid fps {fps!r}: give frames per second as a number.") from None
        if not (math.isfinite(fps) and 0 < fps <= 1000):
            raise ExportError(f"Invalid fps {fps!r}: give a frame rate between 0 and 1000 frames per second.")
    session, own = _open_session(session)
    readers = []
    try:
        for n in _video_names(session, video):
            readers.append(session.video(n))
        return _build(session, readers, start, stop, overlays, timeseries, fps, size, calibration, at)
    except BaseException:
        for r in readers:
            r.close()
        raise
    finally:
        if own:  # the plan holds its data and its own video readers: the file can close
            session.close()


def _build(session, readers, start, stop, overlays, timeseries, fps, size, calibration, at) -> ExportPlan:
    if overlays is None:
        overlays = default_overlays(session)
    if timeseries is None:
        timeseries = default_timeseries(session)
    overlays = [o for o in overlays if getattr(o, "visible", True)]
    for o in overlays:
        if isinstance(o, TimeSeriesOverlay):
            raise ExportError(f"TimeSeriesOverlay {o.label!r} was passed in overlays=; put it in timeseries= (the column).")
    timeseries = [t for t in timeseries if t.visible]

    # -- timeline -----------------------------------------------------------------------
    timeline, constant = _timeline(session, readers, start, stop, fps, overlays, timeseries, at)
    times = timeline.times

    # -- layout ---------------------------------------------------------------------------
    has_column = bool(timeseries)
    sizes = [tuple(r.size) for r in readers]
    rects, col_rect, canvas = _layout(sizes, has_column, size)
    atlas = GlyphAtlas(max(9.0, min(16.0, canvas[1] / 55.0)))

    panels: list[_Panel] = []
    geoms: list[PanelGeometry] = []
    if readers:
        for i, (r, rect) in enumerate(zip(readers, rects)):
            cal = _resolve_cal(session, r, len(readers), calibration, i == 0)
            w, h = r.size
            geoms.append(PanelGeometry(r.name or f"video{i}", (rect[2], rect[3]), np.array([rect[2] / w, rect[3] / h]), cal))
            frames = timeline.frames if (i == 0 and timeline.frames is not None) else timeline.nearest(r.times)
            panels.append(_Panel(name=r.name or f"video{i}", rect=rect, reader=r, frames=np.asarray(frames, np.int64), geometry=geoms[-1]))
    else:
        rect = rects[0]
        cal = _resolve_cal_no_video(session, calibration)
        background, arena = _arena(session, (rect[2], rect[3]), times, overlays, cal)
        geoms.append(PanelGeometry("arena", (rect[2], rect[3]), 1.0, cal, arena))
        panels.append(_Panel(name="arena", rect=rect, background=background, geometry=geoms[-1]))

    # -- overlays -----------------------------------------------------------------------------
    by_name = {}
    for p, g, r in zip(panels, geoms, readers or [None]):
        by_name[p.name] = (p, g)
        if r is not None and r.source:
            by_name.setdefault(r.source, (p, g))
    for spec in overlays:
        target = getattr(spec, "video", None)
        if target is None or not readers:
            p, g = panels[0], geoms[0]
        else:
            hit = by_name.get(target) or by_name.get(target.rsplit("/", 1)[-1])
            if hit is None:
                raise ExportError(
                    f"{type(spec).__name__} is for video {target!r}, which is not in the export "
                    f"(videos shown: {', '.join(repr(p.name) for p in panels)}). Add it to video=[...] "
                    "or change the overlay's video."
                )
            p, g = hit
        try:
            p.drawers.append(bind_overlay(spec, timeline, g, atlas))
        except CalibrationError as exc:
            if getattr(spec, "required", True):
                raise
            warnings.warn(f"{type(spec).__name__} not drawn: {exc}", NWBViewWarning, stacklevel=3)

    # -- column -------------------------------------------------------------------------------
    column = None
    if has_column:
        from nwbview.render.column import Column

        column = Column(timeseries, timeline, (col_rect[2], col_rect[3]))

    # -- timing -------------------------------------------------------------------------------
    if constant:
        rate = Fraction(30.0 if fps is None else fps).limit_denominator(1001)  # 30: the arena's default
        tb = 1 / rate
        pts = np.arange(times.size, dtype=np.int64)
    else:
        tb = _VFR_TIME_BASE
        pts = np.rint((times - times[0]) / float(tb)).astype(np.int64)
        bad = np.flatnonzero(np.diff(pts) <= 0)
        if bad.size:
            for i in range(1, pts.size):
                if pts[i] <= pts[i - 1]:
                    pts[i] = pts[i - 1] + 1
        med = float(np.median(np.diff(times))) if times.size > 1 else 1 / 30
        rate = Fraction(1.0 / med if med > 0 else 30.0).limit_denominator(1001)
    return ExportPlan(
        size=canvas, times=times, pts=pts, time_base=tb, rate=rate, panels=panels,
        column=column, column_rect=col_rect, constant_rate=constant,
    )  # fmt: skip


def _resolve_cal(session, reader, n_videos, calibration, first):
    from nwbview.calibration import Calibration

    cal = None
    if isinstance(calibration, dict):
        for key in (reader.name, reader.source):
            if key and key in calibration:
                cal = calibration[key]
                break
    elif calibration is not None:
        if not isinstance(calibration, Calibration):
            raise CalibrationError(
                f"calibration= takes a nwbview.calibration.Calibration (or a dict of them by video "
                f"name); got {type(calibration).__name__}."
            )
        if first:
            cal = calibration
    if cal is None:
        vids = session.inventory().of_kind("video")
        cal = session.calibration() if len(vids) == 1 else session.calibration(video=reader.name)
    if cal is not None and tuple(cal.frame_dimension) != tuple(reader.size):
        fd = cal.frame_dimension
        raise CalibrationError(
            f"The calibration is for a {fd[0]}x{fd[1]} frame but video {reader.name!r} is "
            f"{reader.size[0]}x{reader.size[1]}: world positions would land in the wrong place. Use "
            "the calibration of this video (Calibration.for_reader adapts one to a crop or downsample)."
        )
    return cal


def _resolve_cal_no_video(session, calibration):
    from nwbview.calibration import Calibration

    if isinstance(calibration, Calibration):
        return calibration
    if isinstance(calibration, dict) and len(calibration) == 1:
        return next(iter(calibration.values()))
    vids = session.inventory().of_kind("video")
    if len(vids) == 1:
        return session.calibration()
    return None


def _timeline(session, readers, start, stop, fps, overlays, timeseries, at) -> tuple[Timeline, bool]:
    from nwbview.timeline import Timeline

    if readers:
        first = readers[0]
        t = np.asarray(first.times, dtype=np.float64)
        if t.size == 0:
            raise VideoError(f"Video {first.name!r} has no frames.")
        span = f"{t[0]:.3f}..{t[-1]:.3f} s"
        if at is not None:
            i = first.frame_at(float(at))
            if i is None:
                raise TimeRangeError(f"Time {at:g} s is outside video {first.name!r}: its frames span {span}. Pick a time in that range.")
            return Timeline(t[i : i + 1], frames=np.array([i]), source=f"video {first.name}"), False
        period = float(np.median(np.diff(t))) if t.size > 1 else 0.0
        _note_clipped(start, stop, t[0] - period / 2, t[-1] + period / 2, f"video {first.name!r}")
        if fps is not None:
            a = t[0] if start is None else max(start, t[0] - period / 2)
            b = t[-1] + period / 2 if stop is None else min(stop, t[-1] + period / 2)
            if not b > a:
                raise TimeRangeError(f"No frame of video {first.name!r} lies in [{start}, {stop}) s: its frames span {span}.")
            return Timeline.regular(a, b, fps), True
        i0 = 0 if start is None else int(np.searchsorted(t, start, side="left"))
        i1 = t.size if stop is None else int(np.searchsorted(t, stop, side="left"))
        if i1 <= i0:
            raise TimeRangeError(
                f"No frame of video {first.name!r} lies in [{start if start is not None else '-inf'}, "
                f"{stop if stop is not None else 'inf'}) s: its frames span {span}. Pick start/stop in that range."
            )
        return Timeline(t[i0:i1], frames=np.arange(i0, i1), source=f"video {first.name}"), False
    # no video: a regular clock over the data
    rate = 30.0 if fps is None else fps
    lo, hi = _data_span(overlays, timeseries)
    if at is not None:
        return Timeline(np.array([float(at)])), False
    if lo is None:
        if start is None or stop is None:
            raise ExportError("Nothing to export: no video and no time-stamped data. Pass video=... or overlays/timeseries with data, and start/stop.")
        lo, hi = start, stop
    a = lo if start is None else start
    b = hi if stop is None else stop
    if not b > a:
        raise TimeRangeError(f"Invalid time range [{a:g}, {b:g}) s: the data span {lo:.3f}..{hi:.3f} s.")
    if (start is not None and start >= hi) or (stop is not None and stop <= lo):
        raise TimeRangeError(f"The time range [{a:g}, {b:g}) s holds no data: the data span {lo:.3f}..{hi:.3f} s.")
    return Timeline.regular(a, b, rate), True


def _note_clipped(start: float | None, stop: float | None, lo: float, hi: float, what: str) -> None:
    """The rule for asked ranges: one partly outside the recording is cut to it, with a note;
    one with nothing inside is refused (by the caller)."""
    if (start is not None and start < lo and (stop is None or stop > lo)) or (stop is not None and stop > hi and (start is None or start < hi)):
        a = lo if start is None or start < lo else start
        b = hi if stop is None or stop > hi else stop
        warnings.warn(
            f"The asked range [{'-inf' if start is None else f'{start:g}'}, {'inf' if stop is None else f'{stop:g}'}) s "
            f"reaches outside {what}, which spans {lo:.3f}..{hi:.3f} s: exporting {a:.3f}..{b:.3f} s.",
            NWBViewWarning,
            stacklevel=4,
        )


def _data_span(overlays, timeseries) -> tuple[float | None, float | None]:
    spans = []
    for o in list(overlays) + list(timeseries):
        data = getattr(o, "data", None)
        if data is None or "time" not in getattr(data, "dims", ()):
            continue
        t = np.asarray(data["time"].values, dtype=np.float64)
        if t.size:
            spans.append((t[0], t[-1]))
    if not spans:
        return None, None
    pos = [s for o, s in zip([o for o in list(overlays) + list(timeseries) if getattr(o, "data", None) is not None and "time" in o.data.dims], spans) if isinstance(o, PositionOverlay)]
    use = pos or spans
    return float(min(s[0] for s in use)), float(max(s[1] for s in use))


def _arena(session, size, times, overlays, cal):
    """Static arena view (matplotlib, once) and its panel-pixel -> world calibration."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from nwbview.calibration import Calibration

    from nwbview.render.draw import xy_values

    W, H = size
    trails, everywhere = [], []
    for o in overlays:
        if isinstance(o, PositionOverlay) and data_frame(o.data, o.frame) == "world":
            t = np.asarray(o.data["time"].values)
            sel = (t >= times[0] - o.trail_seconds - 1) & (t <= times[-1] + 1)
            trails.append(xy_values(o.data.isel(time=np.flatnonzero(sel)), "PositionOverlay"))
            everywhere.append(xy_values(o.data, "PositionOverlay"))
    if cal is not None:  # the camera's view of the floor
        from nwbview.calibration import frame_corners

        corners = cal.pixels_to_world(frame_corners(cal.frame_dimension))
        lo, hi = corners.min(axis=0), corners.max(axis=0)
    elif everywhere:  # where the animal went in the whole recording
        allp = np.concatenate(everywhere)
        allp = allp[np.all(np.isfinite(allp), axis=1)]
        if allp.size == 0:
            lo, hi = np.array([0.0, 0.0]), np.array([1.0, 1.0])
        else:
            lo, hi = allp.min(axis=0), allp.max(axis=0)
            pad = 0.05 * max(float((hi - lo).max()), 1.0)
            lo, hi = lo - pad, hi + pad
    else:
        raise ExportError(
            "Without a video nwbview draws the arena in world coordinates, but there is no world-frame "
            "position and no calibration to know the arena's extent. Pass video=..., a "
            "PositionOverlay in world units, or calibration=."
        )
    unit = ""
    for o in overlays:
        if isinstance(o, PositionOverlay):
            unit = str(o.data.attrs.get("space_unit") or o.data.attrs.get("units") or "")
            break
    fig = Figure(figsize=(W / 72.0, H / 72.0), dpi=72, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.11, 0.1, 0.85, 0.85))
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal", adjustable="box")
    ax.set_facecolor("0.97")
    ax.grid(True, color="0.88", linewidth=0.6)
    for p in trails:
        ax.plot(p[:, 0], p[:, 1], color="0.78", linewidth=0.8)
    ax.set_xlabel(f"x ({unit})" if unit else "x", fontsize=9)
    ax.set_ylabel(f"y ({unit})" if unit else "y", fontsize=9)
    ax.tick_params(labelsize=8)
    fig.canvas.draw()
    buf = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    img = np.full((H, W, 3), 255, np.uint8)
    h, w = min(H, buf.shape[0]), min(W, buf.shape[1])
    img[:h, :w] = buf[:h, :w]
    # world -> display (pixels from the bottom-left), then to pixel frame (y down) in the panel
    tr = ax.transData
    o, ex, ey = tr.transform(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    fig_h = buf.shape[0]
    w2p = np.array(
        [
            [ex[0] - o[0], ey[0] - o[0], o[0]],
            [-(ex[1] - o[1]), -(ey[1] - o[1]), fig_h - o[1]],
            [0.0, 0.0, 1.0],
        ]
    )
    arena = Calibration(np.linalg.inv(w2p), "affine", (W, H), unit=unit or "cm", method="arena view")
    return img, arena


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


class _Renderer:
    """Draws plan frames into one reused canvas."""

    def __init__(self, plan: ExportPlan):
        import cv2

        self.cv2 = cv2
        self.plan = plan
        for p in plan.panels:  # frames are read in order: a few cached frames are enough
            if p.reader is not None:
                p.reader.cache_size = min(p.reader.cache_size, 8)
        W, H = plan.size
        self.canvas = np.zeros((H, W, 3), np.uint8)
        self.views = []
        for p in plan.panels:
            x, y, w, h = p.rect
            self.views.append(self.canvas[y : y + h, x : x + w])
        if plan.column is not None:
            x, y, w, h = plan.column_rect
            self.col_view = self.canvas[y : y + h, x : x + w]
        # a source frame shown again by the next output frame (fps resampling, a slower second
        # camera) is kept once resized, instead of being converted and resized again
        self.repeats = [None if p.frames is None else np.append(p.frames[1:] == p.frames[:-1], False) for p in plan.panels]
        self.kept: list[tuple[int, np.ndarray] | None] = [None] * len(plan.panels)

    def forget(self) -> None:
        """Drop what was kept from earlier frames: a chunk renders the same wherever it starts."""
        self.kept = [None] * len(self.plan.panels)

    def render(self, k: int) -> np.ndarray:
        cv2 = self.cv2
        for j, (p, roi) in enumerate(zip(self.plan.panels, self.views)):
            if p.background is not None:
                roi[:] = p.background
            elif p.reader is not None:
                i = int(p.frames[k])
                kept = self.kept[j]
                if i < 0:
                    roi[:] = 0
                elif kept is not None and kept[0] == i:
                    roi[:] = kept[1]
                else:
                    src = p.reader[i]
                    h, w = roi.shape[:2]
                    if src.shape[0] == h and src.shape[1] == w:
                        roi[:] = src
                    else:
                        interp = cv2.INTER_AREA if w < src.shape[1] else cv2.INTER_LINEAR
                        out = cv2.resize(src, (w, h), dst=roi, interpolation=interp)
                        if out is not roi:
                            roi[:] = out
                    self.kept[j] = (i, roi.copy()) if self.repeats[j][k] else None
            for d in p.drawers:
                d.draw(roi, k)
        if self.plan.column is not None:
            self.plan.column.draw(self.col_view, k)
        return self.canvas

    def close(self) -> None:
        self.plan.close()


def _encoder(container, plan: ExportPlan, crf: int, preset: str):
    stream = container.add_stream("libx264", rate=plan.rate)
    W, H = plan.size
    stream.width, stream.height = W, H
    stream.pix_fmt = "yuv420p"
    stream.time_base = plan.time_base
    stream.codec_context.time_base = plan.time_base
    stream.options = _encoder_options(crf, preset)
    return stream


def _encoder_options(crf: int, preset: str) -> dict[str, str]:
    """libx264's options: one thread (a deterministic encode) and the colour tags.

    OpenCV's RGB -> I420 is BT.601, limited range: the stream says so in its VUI. The tags go
    through ``x264-params``, not the codec context's colour fields, which made encodes of
    identical frames differ from run to run (PyAV 18.1, x264 core 165).
    """
    return {
        "crf": str(crf),
        "preset": preset,
        "threads": "1",
        "g": str(CHUNK_FRAMES),
        "x264-params": "colorprim=smpte170m:transfer=smpte170m:colormatrix=smpte170m:range=tv",
    }


def _encode_chunk(renderer: _Renderer, plan: ExportPlan, k0: int, k1: int, path: str, crf: int, preset: str, tick=None) -> None:
    """Encode frames ``[k0, k1)`` into ``path``: a fresh encoder, so a closed GOP from an IDR."""
    import av

    cv2 = renderer.cv2
    renderer.forget()
    container = av.open(path, mode="w", format="mp4")
    try:
        stream = _encoder(container, plan, crf, preset)
        tb = plan.time_base
        n_since = 0
        for k in range(k0, k1):
            img = renderer.render(k)
            yuv = cv2.cvtColor(img, cv2.COLOR_RGB2YUV_I420)
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.pts = int(plan.pts[k])
            frame.time_base = tb
            for packet in stream.encode(frame):
                container.mux(packet)
            n_since += 1
            if tick is not None and n_since >= 24:
                tick(n_since)
                n_since = 0
        for packet in stream.encode():
            container.mux(packet)
        if tick is not None and n_since:
            tick(n_since)
    finally:
        container.close()


def _chunks(n: int, chunk: int) -> list[tuple[int, int]]:
    return [(a, min(a + chunk, n)) for a in range(0, n, chunk)]


def _segments(n_chunks: int, n_workers: int) -> list[list[int]]:
    """Contiguous runs of chunk ids, one per worker, as equal as possible."""
    base, extra = divmod(n_chunks, n_workers)
    out, c = [], 0
    for w in range(n_workers):
        m = base + (1 if w < extra else 0)
        out.append(list(range(c, c + m)))
        c += m
    return [s for s in out if s]


def _render_segment(plan: ExportPlan, chunk_ids: list[int], bounds: list[tuple[int, int]], tmpdir: str, crf: int, preset: str, tick=None) -> Iterator[int]:
    renderer = _Renderer(plan)
    try:
        for c in chunk_ids:
            k0, k1 = bounds[c]
            _encode_chunk(renderer, plan, k0, k1, _chunk_path(tmpdir, c), crf, preset, tick)
            yield c
    finally:
        renderer.close()


def _chunk_path(tmpdir: str, c: int) -> str:
    return os.path.join(tmpdir, f"chunk_{c:06d}.mp4")


#: A worker's first lines: register ``nwbview`` as a bare namespace over its folder (so its
#: ``__init__``, which loads xarray and pandas, ~120 MB, is not run), then render.
_WORKER_BOOT = (
    "import sys, types; pkg = types.ModuleType('nwbview'); pkg.__path__ = [sys.argv[2]]; "
    "sys.modules['nwbview'] = pkg; "
    "from nwbview.render.export import _worker_main; _worker_main(sys.argv[1])"
)


def _worker_main(job_file: str | None = None) -> None:  # pragma: no cover - runs in a child
    """Entry point of a worker process: render a contiguous run of chunks, report on stdout.

    Started as ``python -c _WORKER_BOOT JOB PACKAGE_DIR`` (a fresh interpreter: nothing of the
    caller's ``__main__`` is re-run, and only what rendering needs is imported). ``JOB`` is a pickle
    of ``(plan, chunk_ids, bounds, tmpdir, crf, preset)``. Lines written: ``frames N``,
    ``chunk C``, and on failure ``error`` followed by a JSON object.
    """
    import json
    import pickle
    import sys

    job_file = job_file or sys.argv[1]
    out = sys.stdout

    def say(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    try:
        import cv2

        cv2.setNumThreads(1)
        with open(job_file, "rb") as f:
            plan, chunk_ids, bounds, tmpdir, crf, preset = pickle.load(f)
        warnings.simplefilter("ignore", NWBViewWarning)  # the parent already warned
        for c in _render_segment(plan, chunk_ids, bounds, tmpdir, crf, preset, tick=lambda n: say(f"frames {n}")):
            say(f"chunk {c}")
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        info = {"type": type(exc).__name__, "message": str(exc), "user": isinstance(exc, NWBViewError)}
        if not info["user"]:
            info["traceback"] = traceback.format_exc()
        say("error " + json.dumps(info))
        sys.exit(1)


class _Muxer:
    """Appends encoded chunk files, in order, to the output without re-encoding."""

    def __init__(self, path: str, fmt: str, plan: ExportPlan):
        import av

        self.av = av
        self.out = av.open(path, mode="w", format=fmt, options={"movflags": "+faststart"})
        self.stream = None
        self.plan = plan
        self.last_dts: int | None = None
        self.n_packets = 0
        ends = np.append(plan.pts[1:], plan.pts[-1] + (plan.pts[-1] - plan.pts[-2] if len(plan.pts) > 1 else max(1, int(round(1 / float(plan.rate) / float(plan.time_base))))))
        self.durations = ends - plan.pts

    def append(self, chunk_file: str, k0: int, k1: int) -> None:
        av = self.av
        tb = self.plan.time_base
        with av.open(chunk_file, mode="r") as inp:
            ins = inp.streams.video[0]
            if self.stream is None:
                self.stream = self.out.add_stream_from_template(ins)
                self.stream.time_base = tb
            packets = [p for p in inp.demux(ins) if p.size]
            in_tb = ins.time_base
            def conv(v):
                return int(round(Fraction(int(v)) * Fraction(in_tb) / tb))
            pts = [conv(p.pts) for p in packets]
            if len(pts) != k1 - k0:
                raise ExportError(f"Chunk {chunk_file} holds {len(pts)} frames where {k1 - k0} were encoded; the encoder dropped or added frames.")
            shift = int(self.plan.pts[k0]) - min(pts)  # onto the timeline (0 unless the muxer moved it)
            order = np.searchsorted(self.plan.pts, np.asarray(pts) + shift)
            for p, q, i in zip(packets, pts, order):
                new_pts = q + shift
                dts = conv(p.dts) + shift if p.dts is not None else new_pts
                if self.last_dts is not None and dts <= self.last_dts:
                    dts = self.last_dts + 1
                if dts > new_pts:
                    raise ExportError(
                        f"Cannot join the encoded chunks: decode timestamps of chunk {chunk_file} do not fit "
                        f"(dts {dts} > pts {new_pts}). Export with fps= (constant rate) or one worker."
                    )
                p.stream = self.stream
                p.time_base = tb
                p.pts = new_pts
                p.dts = dts
                p.duration = int(self.durations[min(int(i), len(self.durations) - 1)])
                self.out.mux(p)
                self.last_dts = dts
                self.n_packets += 1

    def close(self) -> None:
        self.out.close()


def _check_output(path: Any, kinds: dict[str, str] | set[str], what: str) -> Path:
    return check_output_path(path, what, kinds, error=OutputPathError)


def _open_session(session: Any):
    if isinstance(session, (str, os.PathLike)):
        import nwbview

        return nwbview.open(os.fspath(session)), True
    return session, False


def export_video(
    session: Any,
    path: str | os.PathLike,
    start: float | None = None,
    stop: float | None = None,
    *,
    video: str | Sequence[str] | None = None,
    overlays: Sequence[Any] | None = None,
    timeseries: Sequence[TimeSeriesOverlay] | None = None,
    fps: float | None = None,
    size: tuple[int, int] | str | None = None,
    n_workers: int | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    calibration: Any = None,
    progress: bool = True,
) -> Path:
    """Export an annotated video: the behavioral video with overlays and a time-series column.

    Parameters
    ----------
    session : Session or path
        An open session (``nwbview.open``) or the path of an NWB file.
    path : str or os.PathLike
        Output ``.mp4`` (or ``.mov``). Written under a temporary name and renamed when complete.
    start, stop : float, optional
        Session time range in seconds, half-open ``[start, stop)``; default the whole video.
    video : str or list of str, optional
        The video (``ImageSeries`` name or path) to show; several are shown side by side on the
        first one's clock (its frames make the timeline; the others show their nearest frame).
        Default: the session's video (the first, with a warning, if there are several).
        ``False``: no video; the arena is drawn in world coordinates with the trajectory.
    overlays : list of overlay specs, optional
        :class:`PositionOverlay`, :class:`PoseOverlay`, :class:`HeadDirectionOverlay`,
        :class:`FieldOverlay`, :class:`EventOverlay`, :class:`TimestampOverlay`. Default:
        :func:`default_overlays` (pose, position with a 2 s trail, time; those that need a
        calibration the session lacks are skipped with an ``NWBViewWarning``). ``[]``: none.
    timeseries : list of TimeSeriesOverlay, optional
        The column on the right. Default: :func:`default_timeseries` (speed, LFP channel 0).
        ``[]``: no column. With ``overlays=[]`` and ``timeseries=[]`` the output is the bare
        video, frame for frame.
    fps : float, optional
        Resample to a regular clock at this rate (constant-rate output; each output frame shows
        the nearest video frame). Default: one output frame per video frame, with the video's
        own frame times (variable-rate output when the camera was). Without a video: 30.
    size : (int, int) or "WxH", optional
        Output size; the video is scaled to fit beside the column. Default: the video at its
        native size plus the column. Odd sizes are rounded down to even.
    n_workers : int, optional
        Processes rendering in parallel (default: the CPU count, at most one per chunk of
        240 frames). The output is identical whatever the number.
    crf : int
        x264 quality (0-51; lower is better and larger).
    preset : str
        x264 speed preset (``ultrafast`` ... ``veryslow``).
    calibration : Calibration or dict, optional
        Pixel -> world calibration of the (first) video, or ``{video name: Calibration}``.
        Default: the session's stored calibration. Needed to draw world-frame data (position in
        cm) on a video.
    progress : bool
        Show a progress bar (only on a terminal).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    TimeRangeError
        ``start``/``stop`` invalid or holding no frame.
    OutputPathError
        The output cannot be written there.
    MissingFileError
        The video file is missing.
    CalibrationError
        An explicit world-frame overlay on a video without calibration.
    NWBViewError
        Other bad input (unknown names or channels, bad sizes).

    Examples
    --------
    >>> import nwbview
    >>> from nwbview.render import export_video, PoseOverlay, TimeSeriesOverlay
    >>> s = nwbview.open("demo_session.nwb")  # doctest: +SKIP
    >>> export_video(s, "clip.mp4", 10, 20)  # doctest: +SKIP
    >>> export_video(s, "pose.mp4", 10, 20, overlays=[PoseOverlay(s.pose())],
    ...              timeseries=[TimeSeriesOverlay(s.lfp(channels=[0]), label="LFP")])  # doctest: +SKIP
    """
    out = _check_output(path, _VIDEO_SUFFIXES, "the video")
    crf = _check_crf(crf)
    if preset not in X264_PRESETS:
        raise ExportError(f"Invalid preset {preset!r}: use one of {', '.join(X264_PRESETS)}.")
    if n_workers is not None:
        if not isinstance(n_workers, (int, np.integer)) or isinstance(n_workers, bool) or n_workers < 1:
            raise ExportError(f"Invalid n_workers {n_workers!r}: give a whole number >= 1.")
    session, own = _open_session(session)
    try:
        plan = build_plan(session, start, stop, video=video, overlays=overlays, timeseries=timeseries, fps=fps, size=size, calibration=calibration)
        return _export(plan, out, n_workers, crf, preset, progress)
    finally:
        if own:
            session.close()


def _check_crf(crf: Any) -> int:
    try:
        c = int(crf)
    except (TypeError, ValueError):
        raise ExportError(f"Invalid crf {crf!r}: give a whole number from 0 (lossless) to 51.") from None
    if not 0 <= c <= 51 or c != crf:
        raise ExportError(f"Invalid crf {crf!r}: give a whole number from 0 (lossless) to 51.")
    return c


def _export(plan: ExportPlan, out: Path, n_workers: int | None, crf: int, preset: str, progress: bool) -> Path:
    from tqdm.auto import tqdm

    n = len(plan)
    bounds = _chunks(n, CHUNK_FRAMES)
    if n_workers is None:
        n_workers = os.cpu_count() or 1
    n_workers = max(1, min(int(n_workers), len(bounds)))
    fmt = _VIDEO_SUFFIXES[out.suffix.lower()]
    bar = tqdm(total=n, unit="frame", desc=f"export {out.name}", disable=None if progress else True, leave=False)
    try:
        # the chunks and the joined video live under temporary names next to the output until it
        # is complete; a killed export's leftovers are removed by the next export to that path
        with atomic_output(out) as tmp_out, temp_dir(out) as tmpdir:
            tmpdir = str(tmpdir)
            try:
                muxer = _Muxer(str(tmp_out), fmt, plan)
            except Exception as exc:  # noqa: BLE001 - FFmpeg's own errors for the path
                raise OutputPathError(f"Cannot write the video to {str(out)!r}: {exc}.") from exc
            try:

                def take(c: int) -> None:
                    f = _chunk_path(tmpdir, c)
                    muxer.append(f, *bounds[c])
                    os.unlink(f)

                if n_workers == 1:
                    for c in _render_segment(plan, list(range(len(bounds))), bounds, tmpdir, crf, preset, tick=bar.update):
                        take(c)
                else:
                    _run_workers(plan, bounds, n_workers, tmpdir, crf, preset, bar, take)
            finally:
                muxer.close()
    except OSError as exc:
        raise OutputPathError(f"Cannot write the video to {str(out)!r}: {exc.strerror or exc}. Nothing was written.") from exc
    finally:
        bar.close()
        plan.close()
    return out


def _run_workers(plan, bounds, n_workers, tmpdir, crf, preset, bar, take) -> list:
    """Start worker interpreters, remux their chunks in order as they finish."""
    import json
    import pickle
    import subprocess
    import sys
    import threading

    import nwbview

    segs = _segments(len(bounds), n_workers)
    events: queue_mod.Queue = queue_mod.Queue()
    env = dict(os.environ)
    root = str(Path(nwbview.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("OMP_NUM_THREADS", "1")
    procs = []

    def pump(proc, w):
        try:
            for line in proc.stdout:
                kind, _, rest = line.strip().partition(" ")
                events.put((w, kind, rest))
        finally:
            proc.stdout.close()
            events.put((w, "exit", ""))

    try:
        for w, seg in enumerate(segs):
            job = os.path.join(tmpdir, f"job_{w}.pkl")
            mine = plan
            if plan.column is not None:  # only the signal samples this worker's frames show
                from dataclasses import replace

                mine = replace(plan, column=plan.column.restrict(bounds[seg[0]][0], bounds[seg[-1]][1]))
            with open(job, "wb") as f:
                pickle.dump((mine, seg, bounds, tmpdir, crf, preset), f, protocol=pickle.HIGHEST_PROTOCOL)
            err = open(os.path.join(tmpdir, f"worker_{w}.log"), "wb")
            proc = subprocess.Popen(
                [sys.executable, "-c", _WORKER_BOOT, job, str(Path(nwbview.__file__).resolve().parent)],
                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env, text=True,
            )  # fmt: skip
            err.close()
            procs.append(proc)
            threading.Thread(target=pump, args=(proc, w), daemon=True).start()
    except BaseException:
        _stop(procs)
        raise
    done: set[int] = set()
    next_c = 0
    exited = 0
    try:
        while next_c < len(bounds):
            w, kind, rest = events.get()
            if kind == "frames":
                bar.update(int(rest))
            elif kind == "chunk":
                done.add(int(rest))
                while next_c in done:
                    take(next_c)
                    done.discard(next_c)
                    next_c += 1
            elif kind == "error":
                info = json.loads(rest)
                if info.get("user"):
                    raise ExportError(info["message"])
                raise ExportError(f"An export worker failed: {info['type']}: {info['message']}\n{info.get('traceback', '')}")
            elif kind == "exit":
                exited += 1
                code = procs[w].wait()
                if code != 0:
                    log = Path(tmpdir, f"worker_{w}.log").read_text(errors="replace")[-2000:]
                    raise ExportError(f"An export worker stopped unexpectedly (exit code {code}). Its last output:\n{log}\nTry n_workers=1.")
                if exited == len(procs) and next_c < len(bounds):
                    raise ExportError(f"The export workers finished but chunks {next_c}.. of {len(bounds)} are missing.")
    except BaseException:
        _stop(procs)
        raise
    for p in procs:
        p.wait()
    return []


def _stop(procs) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        try:
            p.wait(timeout=5)
        except Exception:  # noqa: BLE001
            pass


# --------------------------------------------------------------------------------------------
# Snapshot
# --------------------------------------------------------------------------------------------


def snapshot(
    session: Any,
    t: float,
    path: str | os.PathLike,
    *,
    video: str | Sequence[str] | None = None,
    overlays: Sequence[Any] | None = None,
    timeseries: Sequence[TimeSeriesOverlay] | None = None,
    size: tuple[int, int] | str | None = None,
    calibration: Any = None,
) -> Path:
    """One frame of the export composite, at session time ``t``, as an image (PNG, JPEG, ...).

    The frame is the video frame nearest to ``t`` (the same one :func:`export_video` would
    show); the column's y-limits are taken over its window.

    Parameters
    ----------
    session : Session or path
    t : float
        Session time in seconds.
    path : str or os.PathLike
        Output image; the type follows the suffix (``.png``, ``.jpg``, ``.tif``, ...).
    video, overlays, timeseries, size, calibration
        As for :func:`export_video`.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> snapshot(s, 12.5, "frame.png")  # doctest: +SKIP
    PosixPath('frame.png')
    """
    out = _check_output(path, _IMAGE_SUFFIXES, "the image")
    try:
        tt = float(t)
    except (TypeError, ValueError):
        raise TimeRangeError(f"Invalid time {t!r}: give a time in seconds on the session clock.") from None
    if not math.isfinite(tt):
        raise TimeRangeError(f"Invalid time {t!r}: give a finite time in seconds.")
    session, own = _open_session(session)
    try:
        plan = build_plan(session, video=video, overlays=overlays, timeseries=timeseries, size=size, calibration=calibration, at=tt)
        try:
            img = _Renderer(plan).render(0).copy()
        finally:
            plan.close()
    finally:
        if own:
            session.close()
    from PIL import Image

    try:
        with atomic_output(out) as tmp:
            Image.fromarray(img).save(tmp, format=Image.registered_extensions().get(out.suffix.lower()))
    except OSError as exc:
        raise OutputPathError(f"Cannot write the image to {str(out)!r}: {exc.strerror or exc}. Nothing was written.") from exc
    return out


def render_frames(plan: ExportPlan, frames: Sequence[int] | None = None) -> Iterator[np.ndarray]:
    """Yield rendered RGB frames of a plan (copies), without encoding: for previews and tests.

    The plan's video readers stay open (close them with ``plan.close()``).

    Examples
    --------
    >>> first = next(render_frames(build_plan(s, 10, 11)))  # doctest: +SKIP
    """
    r = _Renderer(plan)
    for k in range(len(plan)) if frames is None else frames:
        yield r.render(int(k)).copy()
