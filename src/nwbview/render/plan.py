"""The export plan: what is drawn where, for every frame, computed once before the frame loop.

:func:`build_plan` makes an :class:`ExportPlan`:

- the timeline (the first video's frames in ``[start, stop)``, or a regular clock with ``fps=``
  or without a video) and, per frame, the source frame of every video (``Timeline.nearest``);
- the layout: the videos side by side (or the arena view), the time-series column on the right;
- each overlay bound to its panel: data sliced to the range, aligned (``nearest``/``windows``)
  and converted to output pixels (world data only through ``Calibration.world_to_pixels``);
- the column's static background (matplotlib, once) and per-frame windows and readouts;
- the output timestamps (the video's own frame times, or a constant rate).

:class:`Renderer` then draws frame ``k`` of a plan: decode each source frame once, resize it
into the canvas with OpenCV, draw the overlays, copy the column background and draw its traces.
The plan is picklable: the export workers (:mod:`nwbview.render.workers`) receive it.

Examples
--------
>>> from nwbview.render.plan import Renderer, build_plan
>>> plan = build_plan(s, start=10, stop=12)  # doctest: +SKIP
>>> first = Renderer(plan).render(0)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from nwbview.errors import CalibrationError, NWBViewWarning, VideoError, renamed_keywords
from nwbview.render.defaults import default_overlays, default_timeseries
from nwbview.render.draw import GlyphAtlas, PanelGeometry, bind_overlay
from nwbview.render.export_errors import ExportError, TimeRangeError
from nwbview.render.overlays import PositionOverlay, TimeSeriesOverlay, data_frame

if TYPE_CHECKING:
    from nwbview.timeline import Timeline

__all__ = ["ExportPlan", "Panel", "Renderer", "build_plan", "check_time", "open_source"]

_VFR_TIME_BASE = Fraction(1, 90000)
_MIN_COLUMN = 240


@dataclass
class Panel:
    """One video (or the arena view) in the canvas, with its bound overlay drawers."""

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
    panels: list[Panel]
    column: Any = None
    column_rect: tuple[int, int, int, int] | None = None
    constant_rate: bool = False

    def __len__(self) -> int:
        return int(self.times.size)

    def part(self, k0: int, k1: int) -> "ExportPlan":
        """A copy that draws frames ``[k0, k1)`` only, light to pickle for an export worker.

        The column keeps only the samples those frames show; the panels drop their
        :class:`PanelGeometry` (the drawers hold output pixels already): a worker unpickling
        it does not import the calibration code (and pynwb with it).

        Examples
        --------
        >>> job = plan.part(0, 240)  # doctest: +SKIP
        """
        from dataclasses import replace

        column = None if self.column is None else self.column.restrict(k0, k1)
        return replace(self, panels=[replace(p, geometry=None) for p in self.panels], column=column)

    def close(self) -> None:
        """Close the plan's video readers."""
        for p in self.panels:
            if p.reader is not None:
                p.reader.close()


def open_source(session: Any) -> tuple[Any, bool]:
    """``(session, opened here)``: a path is opened (and must be closed by the caller).

    Examples
    --------
    >>> session, own = open_source("demo_session.nwb")  # doctest: +SKIP
    >>> own  # doctest: +SKIP
    True
    """
    if isinstance(session, (str, os.PathLike)):
        import nwbview

        return nwbview.open(os.fspath(session)), True
    return session, False


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


def check_time(value: Any, name: str = "time") -> float:
    """A point on the session clock, in seconds, checked: a finite number.

    Raises
    ------
    TimeRangeError
        ``value`` is not a number, or not finite.

    Examples
    --------
    >>> check_time("12.5")
    12.5
    """
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise TimeRangeError(f"Invalid {name} {value!r}: give a time in seconds on the session clock.") from None
    if not math.isfinite(f):
        raise TimeRangeError(f"Invalid {name} {value!r}: give a finite time in seconds.")
    return f


def _check_range(start: Any, stop: Any) -> tuple[float | None, float | None]:
    out = []
    for name, v in (("start", start), ("stop", stop)):
        out.append(None if v is None else check_time(v, name))
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


@renamed_keywords(at="time")
def build_plan(
    session: Any,
    *,
    start: float | None = None,
    stop: float | None = None,
    video: Any = None,
    overlays: Sequence[Any] | None = None,
    timeseries: Sequence[TimeSeriesOverlay] | None = None,
    fps: float | None = None,
    size: Any = None,
    calibration: Any = None,
    time: float | None = None,
    draw: Any = None,
) -> ExportPlan:
    """Prepare an export: timeline, layout, bound overlays and column (all per-frame lookups).

    Parameters are those of :func:`~nwbview.render.export_video` (``session`` may be a path);
    ``time`` builds a one-frame plan at that session time (for :func:`~nwbview.render.snapshot`);
    ``draw`` draws the column's static background from its spec (default: here, with
    :func:`~nwbview.render.column.draw_background`; the export hands it to an idle worker,
    :meth:`~nwbview.render.workers.WorkerPool.draw`, while the overlays' data load).
    The plan holds its own video readers: close them with :meth:`ExportPlan.close` when done.

    Examples
    --------
    >>> plan = build_plan(s, start=10, stop=12)  # doctest: +SKIP
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
    session, own = open_source(session)
    readers = []
    try:
        for n in _video_names(session, video):
            readers.append(session.video(n))
        return _build(session, readers, start, stop, overlays, timeseries, fps, size, calibration, time, draw)
    except BaseException:
        for r in readers:
            r.close()
        raise
    finally:
        if own:  # the plan holds its data and its own video readers: the file can close
            session.close()


def _build(session, readers, start, stop, overlays, timeseries, fps, size, calibration, time, draw=None) -> ExportPlan:
    overlays = None if overlays is None else list(overlays)
    for o in overlays or ():
        if isinstance(o, TimeSeriesOverlay) and o.visible:
            raise ExportError(f"TimeSeriesOverlay {o.label!r} was passed in overlays=; put it in timeseries= (the column).")
    if timeseries is None:
        timeseries = default_timeseries(session)
    timeseries = [t for t in timeseries if t.visible]
    has_column = bool(timeseries)
    sizes = [tuple(r.size) for r in readers]
    column = None
    if readers:
        # with a video, the timeline, the layout and the column need no overlay: the column comes
        # first, so that its background is drawn (``draw``: by an idle worker) while the overlays load
        timeline, constant = _timeline(session, readers, start, stop, fps, (), timeseries, time)
        rects, col_rect, canvas = _layout(sizes, has_column, size)
        column = _column(timeseries, timeline, col_rect, draw)
    if overlays is None:
        overlays = default_overlays(session)
    overlays = [o for o in overlays if getattr(o, "visible", True) and not isinstance(o, TimeSeriesOverlay)]
    if not readers:  # the arena view: the timeline spans the overlays' data
        timeline, constant = _timeline(session, readers, start, stop, fps, overlays, timeseries, time)
        rects, col_rect, canvas = _layout(sizes, has_column, size)
        column = _column(timeseries, timeline, col_rect, draw)
    times = timeline.times
    atlas = GlyphAtlas(max(9.0, min(16.0, canvas[1] / 55.0)))

    panels: list[Panel] = []
    geoms: list[PanelGeometry] = []
    if readers:
        for i, (r, rect) in enumerate(zip(readers, rects)):
            cal = _resolve_cal(session, r, len(readers), calibration, i == 0)
            w, h = r.size
            geoms.append(PanelGeometry(r.name or f"video{i}", (rect[2], rect[3]), np.array([rect[2] / w, rect[3] / h]), cal))
            frames = timeline.frames if (i == 0 and timeline.frames is not None) else timeline.nearest(r.times)
            panels.append(Panel(name=r.name or f"video{i}", rect=rect, reader=r, frames=np.asarray(frames, np.int64), geometry=geoms[-1]))
    else:
        rect = rects[0]
        cal = _resolve_cal_no_video(session, calibration)
        background, arena = _arena(session, (rect[2], rect[3]), times, overlays, cal)
        geoms.append(PanelGeometry("arena", (rect[2], rect[3]), 1.0, cal, arena))
        panels.append(Panel(name="arena", rect=rect, background=background, geometry=geoms[-1]))

    # -- overlays -----------------------------------------------------------------------------
    for spec in overlays:
        target = getattr(spec, "video", None)
        if target is None or not readers:
            p, g = panels[0], geoms[0]
        else:
            info = session.find_stream("video", target)
            hits = [j for j, r in enumerate(readers) if r.source == info.path or (r.source is None and r.name == info.name)]
            if not hits:
                raise ExportError(
                    f"{type(spec).__name__} is for video {target!r}, which is not in the export "
                    f"(videos shown: {', '.join(repr(p.name) for p in panels)}). Add it to video=[...] "
                    "or change the overlay's video."
                )
            p, g = panels[hits[0]], geoms[hits[0]]
        try:
            p.drawers.append(bind_overlay(spec, timeline, g, atlas))
        except CalibrationError as exc:
            if getattr(spec, "required", True):
                raise
            warnings.warn(f"{type(spec).__name__} not drawn: {exc}", NWBViewWarning, stacklevel=3)

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


def _column(timeseries, timeline, col_rect, draw):
    if not timeseries:
        return None
    from nwbview.render.column import Column

    return Column(timeseries, timeline, (col_rect[2], col_rect[3]), draw=draw)


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


def _timeline(session, readers, start, stop, fps, overlays, timeseries, time) -> tuple[Timeline, bool]:
    from nwbview.timeline import Timeline

    if readers:
        first = readers[0]
        t = np.asarray(first.times, dtype=np.float64)
        if t.size == 0:
            raise VideoError(f"Video {first.name!r} has no frames.")
        span = f"{t[0]:.3f}..{t[-1]:.3f} s"
        if time is not None:
            i = first.frame_at(float(time))
            if i is None:
                raise TimeRangeError(f"Time {time:g} s is outside video {first.name!r}: its frames span {span}. Pick a time in that range.")
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
    if time is not None:
        return Timeline(np.array([float(time)])), False
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
        if isinstance(o, PositionOverlay) and data_frame(o.data, o.coordinates) == "world":
            t = np.asarray(o.data["time"].values)
            sel = (t >= times[0] - o.trail_s - 1) & (t <= times[-1] + 1)
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


class Renderer:
    """Draws plan frames into one reused canvas.

    Examples
    --------
    >>> img = Renderer(plan).render(0)  # doctest: +SKIP
    """

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

