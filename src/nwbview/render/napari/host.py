"""The host of a session in napari: :class:`SessionView`, what the docks and widgets talk to.

A :class:`SessionView` turns a session and the overlay specs of :mod:`nwbview.render.overlays`
into napari layers (:mod:`.layers`, placed by a :class:`~.space.Space`), keeps the per-step
state (the time label, the time-series docks) in step with the slider, and closes, writes and
reopens the file when a calibration is saved. It holds no analysis logic: it calls the session,
the timeline, the calibration and :func:`nwbview.jobs.write_back`.

Time
----
The first axis of every layer is the timeline's step (by default the video's own frames: step
``k`` shows video frame ``timeline.frames[k]``). The slider's label shows the session time of
the current step in seconds.

Widgets
-------
The time-series dock (:mod:`.dock`) and the calibration widget (:mod:`.calibration_widget`)
import this module, never the other way round: each registers how it is made for a view
(:func:`register_widget`), and :meth:`SessionView.make_widget` makes one by its kind.
:class:`SessionHost` is the plugin widget napari's menu opens: it fills itself in with the
widget of the session shown in its viewer.

Examples
--------
>>> sv = SessionView(nwbview.open("demo_session.nwb"))  # doctest: +SKIP
>>> sv.attach(napari.Viewer())  # doctest: +SKIP
>>> sv.jump_to_time(12.5); sv.step  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QLabel, QVBoxLayout, QWidget

from nwbview.errors import CalibrationError, NWBViewError, NWBViewWarning, renamed_keywords
from nwbview.render.napari.content import ViewContent
from nwbview.render.napari.layers import MERGED_POINTS_ROLE, LayerSpec, VideoFrames, overlay_layer_specs, sample_times
from nwbview.render.napari.notifications import notify, report_bug
from nwbview.render.napari.space import Space, affine_nd
from nwbview.render.overlays import TimeSeriesOverlay, TimestampOverlay
from nwbview.timeline import Timeline

__all__ = ["SessionView", "SessionHost", "session_view", "register_widget", "META_KEY", "CHUNK_STEPS", "WINDOWED_STEPS"]

#: key of nwbview's entry in a layer's ``metadata``
META_KEY = "nwbview"
#: steps of overlay data a layer holds at once (napari slices a layer's whole data on every
#: step, so a layer holds a window of steps around the current one and is refilled when the
#: slider leaves it); sessions with at most 1.5x this many steps hold everything
CHUNK_STEPS = 300
#: steps a layer made per window holds (the lines layer with the trail's segments, ~2 s of
#: samples at each step): napari computes a Vectors layer's extent over all its data on every
#: step (~0.2 us a vector here), so it holds few steps and is refilled more often
WINDOWED_STEPS = 40

# the live view of each viewer, by id(viewer) (a napari viewer cannot hold attributes of its own)
_BY_VIEWER: dict[int, "SessionView"] = {}
# how each kind of widget is made for a view (filled by dock.py and calibration_widget.py)
_WIDGET_MAKERS: dict[str, Callable[["SessionView"], Any]] = {}

_TEXT_CORNERS = {"top-left": "top_left", "top-right": "top_right", "bottom-left": "bottom_left", "bottom-right": "bottom_right"}


def register_widget(kind: str, make: Callable[["SessionView"], Any]) -> None:
    """Say how a kind of widget (``"dock"``, ``"calibration"``) is made for a view.

    The widget modules call it when imported (the package imports them), so this module does
    not import them.

    Examples
    --------
    >>> register_widget("dock", lambda view: TimeSeriesDock(view.timeseries, view.timeline))  # doctest: +SKIP
    """
    _WIDGET_MAKERS[kind] = make


def _video_info(session: Any, video: str | None) -> Any:
    """The video stream shown (``Session.find_stream``), or None when the session has none."""
    if video is None and not session.inventory().of_kind("video"):
        return None
    return session.find_stream("video", video)


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
        :class:`TimestampOverlay` specs. Default: what ``content`` chooses (those the view cannot
        place are left out with an :class:`NWBViewWarning`).
    timeseries : list of TimeSeriesOverlay, optional
        The dock's signals. Default: what ``content`` chooses.
    calibration : Calibration, optional
        Use this pixel -> world calibration instead of the one stored in the file.
    content : ViewContent, optional
        The streams of the default overlays and dock (default: the file's, as ``ViewContent()``).

    Examples
    --------
    >>> sv = SessionView(nwbview.open("demo_session.nwb"), content=ViewContent(trail_s=4.0))  # doctest: +SKIP
    >>> sv.attach(napari.Viewer())  # doctest: +SKIP
    >>> sv.set_step(10); sv.time  # doctest: +SKIP
    """

    @renamed_keywords(
        trail_seconds="pass content=ViewContent(trail_s=...).",
        window_seconds="pass content=ViewContent(window_s=...).",
        lfp_channel="pass content=ViewContent(lfp_channel=...).",
    )
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
        content: ViewContent | None = None,
        owns_session: bool = True,
    ):
        self.session = session
        self.content = ViewContent() if content is None else content
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
        self._held: dict[str, tuple[int, int]] = {}
        self.reader = None
        self.thumbnails: Any = None
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
        if info is not None:
            self.reader = s.video(info.path)
            size = tuple(int(v) for v in self.reader.size)
            if cal is not None and tuple(cal.frame_dimension) != size:
                raise CalibrationError(
                    f"The calibration is for a {cal.frame_dimension[0]}x{cal.frame_dimension[1]} frame but video "
                    f"{info.name!r} is {size[0]}x{size[1]}: world positions would land in the wrong place. Use "
                    "the calibration of this video (Calibration.for_reader adapts one to a crop or downsample)."
                )
            self.space = Space(cal)
            self.timeline = Timeline.from_video(s, info.path, start=self.start, stop=self.stop)
        else:  # no video: the arena in world coordinates
            has_position = bool(s.inventory().of_kind("position"))
            unit = str(s.position(self.content.position).attrs.get("units") or "cm") if has_position else "cm"
            self.space = Space(cal, coordinates="world", unit=unit)
            self.timeline = self._timeline_without_video()
        self.times = self.timeline.times
        strict = self._user_overlays is not None
        overlays = self._user_overlays if strict else self.content.overlays(s)
        specs, self._timestamp = overlay_layer_specs(overlays, self.timeline, self.space, strict=strict, warn=self._warn)
        self.frames = None
        if self.reader is not None:
            self.frames = VideoFrames(self.reader, self.timeline.frames)
            name = f"video: {self.reader.name or 'video'}"
            if self.space.projective:
                name += " (pixels; projective calibration)"
            elif self.space.coordinates == "pixel":
                name += " (pixels; no calibration)"
            kwargs = dict(name=name, rgb=True, multiscale=False, contrast_limits=[0, 255], projection_mode="none",
                          affine=affine_nd(self.space.video_affine()))  # fmt: skip
            specs.insert(0, LayerSpec("video", self.frames, kwargs, "image"))
        elif not any(ls.role.startswith("position") for ls in specs):
            raise NWBViewError(
                f"{s.source} has no video and no world-coordinate position to show: the viewer needs one of them."
            )
        self._layer_specs: list[LayerSpec] = specs
        self.timeseries = self.content.timeseries(s) if self._user_timeseries is None else list(self._user_timeseries)
        self._chunk = (0, 0)
        self._held = {}
        for ls in self._layer_specs:
            ls.kwargs.setdefault("metadata", {})[META_KEY] = {"role": ls.role, "view": id(self), "source": str(s.source)}

    def _timeline_without_video(self) -> Timeline:
        t = sample_times(self.session.position(self.content.position))
        start = self.start if self.start is not None else float(t[0])
        stop = self.stop if self.stop is not None else float(t[-1]) + 1e-9
        return Timeline.regular(start, stop, 30.0)

    def _warn(self, message: str) -> None:
        self.messages.append(message)
        warnings.warn(message, NWBViewWarning, stacklevel=6)

    # -- layer data -------------------------------------------------------------------------
    def layer_data(self) -> list[tuple]:
        """napari layer-data tuples ``(data, kwargs, layer_type)``, bottom layer first.

        Per-step overlay layers hold the window of steps around the current step (see
        :data:`CHUNK_STEPS`); the view refills them as the slider moves.
        """
        k = self.step if self.viewer is not None else 0
        out = []
        for ls in self._layer_specs:
            kwargs = dict(ls.kwargs)
            data = ls.data
            if ls.chunks is not None:
                self._held[ls.role] = self._window(k, ls.windowed)
                data, colors, features = ls.chunks.part(*self._held[ls.role])
                kwargs.update(colors)
                if features is not None:
                    kwargs["features"] = features
            out.append((data, kwargs, ls.layer_type))
        self._chunk = self._window(k)
        return out

    def _window(self, k: int, windowed: bool = False) -> tuple[int, int]:
        """The window of steps the overlay layers hold while the slider is at ``k``.

        Without a video the layers set the slider's range, so they hold every step, but for
        the ``windowed`` ones (made per window: the trail), whose range the others cover.
        The ``windowed`` ones hold :data:`WINDOWED_STEPS`, the others :data:`CHUNK_STEPS`.
        """
        n = len(self.timeline)
        size = WINDOWED_STEPS if windowed else CHUNK_STEPS
        if n <= 1.5 * size or (self.frames is None and not windowed):
            return 0, n  # short (or no video, whose layers set the slider's range): everything
        lo = max(0, min(int(k) - size // 4, n - size))
        return lo, lo + size

    def _refill(self, k: int) -> None:
        """Refill the overlay layers whose window of steps does not hold step ``k``."""
        if not self._chunk[0] <= k < self._chunk[1]:
            self._chunk = self._window(k)  # the window of the layers that are not windowed
        for ls in self._layer_specs:
            layer = self.layers.get(ls.role)
            lo, hi = self._held.get(ls.role, (0, 0))
            if ls.chunks is None or layer is None or lo <= k < hi:
                continue
            lo, hi = self._held[ls.role] = self._window(k, ls.windowed)
            data, colors, features = ls.chunks.part(lo, hi)
            layer.data = data
            for name, value in colors.items():
                setattr(layer, name, value)
            if features is not None:
                layer.features = features

    def points(self, kind: str) -> tuple[np.ndarray, Any]:
        """The ``(step, row, col)`` points of ``kind`` (``"pose"``, ``"position"``) the viewer holds
        now, and their features: one pose's keypoints and the position share a layer
        (:data:`~.layers.MERGED_POINTS_ROLE`) when both are shown.

        Examples
        --------
        >>> data, features = sv.points("position")  # doctest: +SKIP
        """
        layer = self.layers.get(kind)
        if layer is not None:
            return np.asarray(layer.data), layer.features
        layer = self.layers.get(MERGED_POINTS_ROLE)
        if layer is None:
            raise NWBViewError(f"The view shows no {kind} points; its layers: {self.roles}.")
        sel = np.asarray(layer.features["kind"] == kind)
        return np.asarray(layer.data)[sel], layer.features[sel].reset_index(drop=True)

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
        self.viewer = viewer
        self._want_docks = docks
        _BY_VIEWER[id(viewer)] = self
        viewer.layers.events.inserted.connect(self._on_inserted)
        viewer.layers.events.removed.connect(self._on_removed)
        self._pending = set(self.roles)
        if add_layers:
            for data, kwargs, layer_type in self.layer_data():
                getattr(viewer, f"add_{layer_type}")(data, **kwargs)
        else:
            for layer in list(viewer.layers):
                self._adopt(layer)
        return self

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
        self._mend_visuals()
        v.dims.set_current_step(0, 0)
        v.reset_view()
        if self._want_docks and hasattr(v, "window") and not self.docks:
            win = v.window
            # the calibration first: the last tab added is the one in front (the time series)
            win.add_dock_widget(self.make_widget("calibration"), name="Calibration (nwbview)", area="right")
            win.add_dock_widget(self.make_widget("dock"), name="Time series (nwbview)", area="right", tabify=True)
        self._on_step()
        if hasattr(v, "window"):
            notify("info", self.space.describe())

    def _mend_visuals(self) -> None:
        """The skeleton's Vectors layer would recompile its shader each step, the Points layer draw its
        empty text (see :mod:`._vispy_fixes`);
        the layers' thumbnails are drawn when the slider rests (see :mod:`._thumbnails`)."""
        from nwbview.render.napari._thumbnails import ThumbnailDeferral
        from nwbview.render.napari._vispy_fixes import hide_empty_text, mend_layer_visuals

        mend_layer_visuals(self.viewer, list(self.layers.values()))
        # napari makes the last layer's visual after the view adopts it: hide its text right after
        layers = list(self.layers.values())
        QTimer.singleShot(0, lambda: None if self._closed else hide_empty_text(self.viewer, layers))
        if hasattr(self.viewer, "window"):
            if self.thumbnails is None:
                self.thumbnails = ThumbnailDeferral()
            self.thumbnails.add(list(self.layers.values()))

    def make_widget(self, kind: str) -> Any:
        """A new ``"dock"`` (:class:`TimeSeriesDock`) or ``"calibration"`` (:class:`CalibrationWidget`) of this view."""
        make = _WIDGET_MAKERS.get(kind)
        if make is None:
            raise NWBViewError(f"Unknown widget {kind!r}: must be one of {sorted(_WIDGET_MAKERS)}.")
        widget = make(self)
        if kind == "calibration" and self.calibration_widget is None:
            self.calibration_widget = widget
        if kind == "dock":
            self.docks.append(widget)
            if self.dock is None:
                self.dock = widget
            widget.destroyed.connect(lambda *_, d=widget: self._forget(d))
            if self.viewer is not None:
                widget.set_step(self.step)
        return widget

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
        """The current step (the timeline's index)."""
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

    @renamed_keywords(t="time")
    def step_at(self, time: float) -> int:
        """The step whose time is nearest to ``time`` (seconds on the session clock)."""
        times = self.times
        j = int(np.searchsorted(times, time))
        if j <= 0:
            return 0
        if j >= times.size:
            return times.size - 1
        return j - 1 if time - times[j - 1] <= times[j] - time else j

    @renamed_keywords(t="time")
    def jump_to_time(self, time: float) -> None:
        """Move the slider to the step nearest to session time ``time`` (seconds)."""
        self.set_step(self.step_at(float(time)))

    def _on_step(self, event: Any = None) -> None:
        if self._closed or self.viewer is None:
            return
        try:
            self._show_step()
        except Exception as exc:  # noqa: BLE001 - a step must never raise into napari's event loop
            report_bug("while stepping", exc)

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
            dock.set_step(k)

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

        HDF5 locks a file that is open, and the write refuses a locked file, so the view closes
        its session (and video reader) first, writes the ``VideoCalibration`` through
        :func:`nwbview.jobs.write_back` (what ``nwbview calibrate`` writes with: a new file
        renamed over the old one), reopens it and rebuilds its layers in the new coordinates.
        When the write fails the file is reopened unchanged and the error is raised.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        from nwbview.jobs import write_back
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
        self._close_reader()
        self.session.close()
        error: BaseException | None = None
        try:
            write_back(path, [result], overwrite=overwrite)
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

    def _close_reader(self) -> None:
        if getattr(self, "frames", None) is not None:
            self.frames.close()  # no read ahead in flight when the reader closes
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
        self._mend_visuals()
        for fn in self._listeners:  # e.g. the calibration widget moves its landmarks to the new coordinates
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
        if self.thumbnails is not None:
            self.thumbnails.timer.stop()
        self._close_reader()
        if self.owns_session and self.session is not None:
            try:
                self.session.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        if self.viewer is not None and _BY_VIEWER.get(id(self.viewer)) is self:
            _BY_VIEWER.pop(id(self.viewer), None)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (the viewer closed, or its last layer was removed)."""
        return self._closed

    @property
    def ready(self) -> bool:
        """Whether every layer of the view is in its viewer."""
        return self.viewer is not None and not self._pending

    def __repr__(self) -> str:
        return f"<SessionView {self.session.source}: {len(self.timeline)} steps, {self.space.coordinates} coordinates, layers {self.roles}>"


def _text_overlay(viewer: Any) -> Any:
    """The viewer's canvas text overlay (``viewer.canvas.overlays["text"]``; older napari: ``text_overlay``)."""
    overlays = getattr(getattr(viewer, "canvas", None), "overlays", None)
    if overlays is not None and "text" in overlays:
        return overlays["text"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(viewer, "text_overlay", None)


def session_view(viewer: Any) -> SessionView | None:
    """The :class:`SessionView` shown in ``viewer`` (the last one attached), or None.

    Examples
    --------
    >>> viewer = view("demo_session.nwb", show=False)  # doctest: +SKIP
    >>> session_view(viewer).time  # doctest: +SKIP
    0.25
    """
    sv = _BY_VIEWER.get(id(viewer))
    if sv is not None and not sv.closed and sv.viewer is viewer:
        return sv
    return None


class SessionHost(QWidget):
    """A plugin widget: the dock or calibration widget of the session shown in a viewer.

    Until a session is open in the viewer it says so; it fills itself in when one is.

    Examples
    --------
    >>> host = SessionHost(napari_viewer, "dock")  # doctest: +SKIP
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
        if sv is None or not sv.ready:
            return
        self.inner = sv.make_widget(self.kind)
        self._label.hide()
        self._layout.addWidget(self.inner)
