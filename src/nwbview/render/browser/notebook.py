"""The notebook widget: a session in JupyterLab, Notebook 7 or VS Code (anywidget).

The front-end is ``nwbview.js`` (the HTML player's). The kernel side holds the scene
(:mod:`nwbview.render.browser.scene`) and the plan's video readers:

- the front-end asks for the scene once (a custom message ``{"type": "scene"}``); it gets the
  metadata and the binary buffers (overlays per frame, the traces of the range);
- over a long range, the traces' samples go in windows: the front-end asks for those around
  the cursor (``{"type": "traces", "t0": ..., "t1": ...}``) as it moves
  (:data:`MAX_SAMPLES`, :meth:`~nwbview.render.browser.scene.Scene.traces_between`);
- it asks for frames by timeline index (``{"type": "frame", "k": k}``); the kernel decodes the
  video frame (:class:`~nwbview.render.plan.Renderer`, frame-accurate, only the frames looked
  at) and answers with a JPEG, or with ``{"type": "error", "k": k, "message": ...}`` (the
  widget shows the message and keeps working);
- ``frame`` (the video frame index) and ``time`` (session seconds, snapped to that frame's time)
  are synced both ways: the front-end sets them as the user moves, a cell sets them to move the
  view.

This module needs anywidget (the ``notebook`` extra); :func:`nwbview.widget` says so when it is
missing.

Examples
--------
>>> import nwbview
>>> w = nwbview.widget("session.nwb", start=60, stop=90)  # doctest: +SKIP
>>> w  # doctest: +SKIP
>>> w.time = 75.0; w.frame  # doctest: +SKIP
2250
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import anywidget
import numpy as np
import traitlets

from nwbview.errors import NWBViewError, renamed_keywords
from nwbview.render.browser.player import front_end
from nwbview.render.browser.scene import Scene, opened_scene, scene_keywords
from nwbview.render.export_errors import TimeRangeError
from nwbview.render.plan import check_time

__all__ = ["SessionWidget", "session_widget"]

log = logging.getLogger(__name__)

#: JPEG quality of the frames sent to the browser
JPEG_QUALITY = 85
#: traces holding more samples than this in the view's range are sent in windows around the
#: cursor (2 M samples: about 24 MB sent whole; one window of a 1,250 Hz LFP is under 1 MB)
MAX_SAMPLES = 2_000_000
#: seconds the front-end waits for a frame before saying it did not arrive
FRAME_TIMEOUT_S = 15.0


class _Checked(traitlets.TraitType):
    """A synced value that only the widget's validators check, None included (their errors are nwbview's)."""

    default_value = None
    allow_none = False
    info_text = "a value the widget checks"


class SessionWidget(anywidget.AnyWidget):
    """A view of a session: the video with overlays, the scrolling column, a time slider.

    Made by :func:`nwbview.widget`. ``frame`` is the video frame index shown (None without a
    video) and ``time`` its session time; set either to move the view (a time goes to the
    nearest frame).

    Examples
    --------
    >>> w = nwbview.widget("session.nwb", start=60, stop=90)  # doctest: +SKIP
    >>> w.frame = w.frames[100]; w.time  # doctest: +SKIP
    63.36
    """

    _esm = front_end()
    # checked by the validators below, which raise nwbview's errors (a bad value is a user error)
    time = _Checked().tag(sync=True)
    frame = _Checked().tag(sync=True)

    def __init__(self, scene: Scene, **kwargs: Any):
        self._scene = scene
        self._renderer = None
        self._times = np.asarray(scene.plan.times, dtype=np.float64)
        first = scene.plan.panels[0]
        self._frames = None if first.reader is None else np.asarray(first.frames, dtype=np.int64)
        super().__init__(**kwargs)
        self.on_msg(self._on_message)
        self.frame = None if self._frames is None else int(self._frames[0])
        self.time = float(self._times[0])

    # -- what the view shows --------------------------------------------------------------------
    @property
    def scene(self) -> Scene:
        """What the front-end draws (:class:`~nwbview.render.browser.scene.Scene`), sent to it once."""
        return self._scene

    @property
    def times(self) -> np.ndarray:
        """Session time of each step of the view (the video's frame times in the range)."""
        return self._times

    @property
    def frames(self) -> np.ndarray | None:
        """Video frame index of each step of the view (None without a video)."""
        return self._frames

    def _index_of_frame(self, frame: int) -> int:
        f = self._frames
        k = int(frame) - int(f[0])
        if not (0 <= k < f.size and f[k] == frame):
            hits = np.flatnonzero(f == frame)
            if not hits.size:
                raise NWBViewError(f"Frame {frame} is not in this view: it shows video frames {f[0]} to {f[-1]}.")
            k = int(hits[0])
        return k

    def _index_of_time(self, time: float) -> int:
        t = self._times
        half = float(np.median(np.diff(t))) / 2 if t.size > 1 else 0.5
        if not (t[0] - half <= time <= t[-1] + half):
            raise TimeRangeError(f"Time {time:g} s is outside this view: it spans {t[0]:.3f}..{t[-1]:.3f} s.")
        j = int(np.searchsorted(t, time))
        if j >= t.size or (j > 0 and time - t[j - 1] <= t[j] - time):
            j -= 1
        return max(j, 0)

    @traitlets.validate("time")
    def _valid_time(self, proposal):
        value = proposal["value"]
        if value is None:
            raise NWBViewError("time must be a session time in seconds, not None.")
        return float(self._times[self._index_of_time(check_time(value))])

    @traitlets.validate("frame")
    def _valid_frame(self, proposal):
        value = proposal["value"]
        if self._frames is None:
            if value is not None:
                raise NWBViewError("This view has no video, so it has no frame: move it with .time.")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise NWBViewError(f"frame must be a video frame index (an int), not {value!r}.")
        self._index_of_frame(value)
        return int(value)

    @traitlets.observe("time")
    def _time_changed(self, change) -> None:
        if self._frames is not None:
            self.frame = int(self._frames[self._index_of_time(change["new"])])

    @traitlets.observe("frame")
    def _frame_changed(self, change) -> None:
        if change["new"] is not None:
            self.time = float(self._times[self._index_of_frame(change["new"])])

    # -- frames -------------------------------------------------------------------------------
    def jpeg(self, k: int) -> bytes:
        """The JPEG of step ``k`` of the view (what the front-end receives): the bare frame, decoded in the kernel.

        Examples
        --------
        >>> data = w.jpeg(0)  # doctest: +SKIP
        """
        import cv2

        if self._frames is None:
            raise NWBViewError("This view has no video: its background is drawn by the browser.")
        if not 0 <= int(k) < self._times.size:
            raise NWBViewError(f"Step {k} is not in this view: it has steps 0 to {self._times.size - 1}.")
        if self._renderer is None:
            from nwbview.render.plan import Renderer

            self._renderer = Renderer(self._scene.plan)
        img = self._renderer.render(int(k))
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        return buf.tobytes()

    def frame_jpeg(self, frame: int | None = None) -> bytes:
        """The JPEG of a video frame of the view (default: the one shown).

        Examples
        --------
        >>> open("frame.jpg", "wb").write(w.frame_jpeg())  # doctest: +SKIP
        """
        if self._frames is None:
            raise NWBViewError("This view has no video, so it has no frame.")
        return self.jpeg(self._index_of_frame(self.frame if frame is None else frame))

    def _on_message(self, _widget, content: dict, buffers: Sequence[bytes]) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "scene":
            self.send({"type": "scene", "meta": {**self._scene.meta, "frame_timeout_s": FRAME_TIMEOUT_S}}, buffers=self._scene.buffers)
        elif kind == "traces":
            try:
                meta, buffers = self._scene.traces_between(float(content["t0"]), float(content["t1"]))
            except Exception as exc:  # noqa: BLE001 - shown in the widget, which keeps working
                log.info("nwbview widget: traces could not be sent: %s", exc)
                self.send({"type": "traces", "error": f"The traces could not be read: {exc}"})
            else:
                self.send({"type": "traces", **meta}, buffers=buffers)
        elif kind == "frame":
            k = content.get("k")
            try:
                data = self.jpeg(int(k))
            except Exception as exc:  # noqa: BLE001 - shown in the widget, which keeps working
                log.info("nwbview widget: frame %s could not be read: %s", k, exc)
                self.send({"type": "error", "k": k, "message": f"Frame {k} could not be read: {exc}"})
            else:
                self.send({"type": "frame", "k": k}, buffers=[data])

    def close(self) -> None:
        """Close the widget and its video readers."""
        super().close()
        self._scene.close()


@renamed_keywords(trail="trail_s", window="window_s", speed="show_speed", no_lfp="use show_lfp=False instead.")
def session_widget(source: Any, start: float | None = None, stop: float | None = None, **options: Any) -> SessionWidget:
    """A notebook widget of a session over ``[start, stop)`` (default: the whole video).

    Parameters
    ----------
    source : Session or path
        An open session (``nwbview.open``; works on streamed and DANDI sessions: only the
        frames looked at are read) or what ``nwbview.open`` takes.
    start, stop : float, optional
        Session time range in seconds (the export's rule: a range reaching outside the
        recording is cut to it with a warning; one holding no frame is refused).
    **options
        What is shown, as for :func:`~nwbview.render.browser.export_html`: ``video``,
        ``overlays``, ``timeseries``, ``calibration``, ``size``, ``title`` and the stream
        keywords of :func:`nwbview.jobs.export_job` (``pose``, ``position``, ``head_direction``,
        ``lfp``, ``show_*``, ``trail_s``, ``window_s``, ``events``, ``lfp_channel``,
        ``min_confidence``, ``landmarks``).

    Returns
    -------
    SessionWidget

    Examples
    --------
    >>> w = session_widget("session.nwb", 60, 90, show_head_direction=True)  # doctest: +SKIP
    """
    with opened_scene(source, start=start, stop=stop, caller="widget", max_samples=MAX_SAMPLES, **scene_keywords(options)) as (_, scene):
        pass
    try:
        return SessionWidget(scene)
    except BaseException:
        scene.close()
        raise
