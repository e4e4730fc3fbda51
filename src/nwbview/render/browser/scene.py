"""The data the browser front-end draws: one *scene* per view, made from the export's plan.

The browser hosts (the one-file HTML player, the notebook widget) do not draw frames in Python:
they send the front-end (``nwbview.js``) the overlays and the time-series column as data, once,
and the frames as video (HTML) or as JPEGs on request (widget). What is drawn, and where, comes
from the same code as the video export:

- :func:`~nwbview.render.plan.build_plan` makes the timeline, the layout, the calibration and the
  bound overlay drawers; each drawer's ``data()`` gives what it draws per timeline frame, in
  panel pixels (world data already through the calibration);
- :class:`~nwbview.render.column.Column` gives the traces: the samples of the range (NaN as
  gaps, no decimation), the stable y-limits (:func:`~nwbview.render.column.y_limits`), the
  readout at each frame and its format.

A scene is JSON-able metadata plus binary buffers: every numpy array in the metadata is replaced
by ``{"$b": index, "dtype": "f8" | "f4" | "i4" | "u1", "shape": [...]}`` and its bytes (little
endian) go in ``buffers[index]``. Times and readouts stay float64; pixels and drawn values are
float32.

Examples
--------
>>> from nwbview.render.browser.scene import build_scene
>>> scene = build_scene(s, start=10, stop=20)  # doctest: +SKIP
>>> scene.meta["size"], len(scene.buffers)  # doctest: +SKIP
([640, 480], 14)
"""

from __future__ import annotations

import base64
import json
import math
import re
import string
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from nwbview.render.plan import ExportPlan, build_plan, check_time, open_source

__all__ = ["Scene", "build_scene", "opened_scene", "scene_keywords", "pack", "png_bytes", "value_format", "text_format"]

#: bumped when the front-end cannot read an older scene
SCENE_VERSION = 1
#: keys whose arrays keep float64 (session times, readouts); other floats go as float32
FLOAT64_KEYS = frozenset({"t", "times", "clip_times", "readout"})
#: the column's width in CSS pixels (the export's default is 0.75 of the height, at least 320)
COLUMN_WIDTH = 360
NO_VIDEO_NOTE = (
    "This session has no video: the overlays and traces are drawn on the arena "
    "(world coordinates, as the calibration or the tracked positions give it)."
)


@dataclass
class Scene:
    """A view's data for the front-end (``meta`` with buffer references, ``buffers``) and its plan.

    The plan's video readers give the frames (the widget renders them with
    :class:`~nwbview.render.plan.Renderer`; its overlays were taken out, the browser draws them).
    Close it with :meth:`close`.
    """

    meta: dict
    buffers: list[bytes]
    plan: ExportPlan
    #: the traces' samples ``[row][trace] -> (t, value)`` when the scene sends them in windows
    samples: list[list[tuple[np.ndarray, np.ndarray]]] | None = None

    @property
    def has_video(self) -> bool:
        return any(p.reader is not None for p in self.plan.panels)

    def add(self, key: str, value: Any) -> None:
        """Add ``value`` (numpy arrays packed into buffers) to the metadata under ``key``."""
        self.meta[key] = pack(value, self.buffers, key)

    def traces_between(self, t0: float, t1: float) -> tuple[dict, list[bytes]]:
        """The samples of every trace in ``[t0, t1]`` (one more each side), for a scene whose
        traces go in windows (``meta["traces_windowed"]``): ``({"t0", "t1", "rows"}, buffers)``,
        ``rows[r][j]`` holding ``t`` and ``value`` as in the scene.

        Examples
        --------
        >>> meta, buffers = scene.traces_between(60.0, 90.0)  # doctest: +SKIP
        """
        if self.samples is None:
            raise ValueError("this scene holds its traces whole (meta['traces_windowed'] is false)")
        t0, t1 = float(t0), float(t1)
        rows = []
        for row in self.samples:
            out = []
            for t, value in row:
                a = max(int(np.searchsorted(t, t0, side="left")) - 1, 0)
                b = min(int(np.searchsorted(t, t1, side="right")) + 1, t.size)
                out.append({"t": t[a:b], "value": value[a:b]})
            rows.append(out)
        buffers: list[bytes] = []
        return {"t0": t0, "t1": t1, "rows": pack(rows, buffers, "rows")}, buffers

    def to_json(self) -> str:
        """The scene as one JSON text (buffers as base64), safe to put inside a ``<script>`` element."""
        text = json.dumps({"meta": self.meta, "buffers": [base64.b64encode(b).decode("ascii") for b in self.buffers]},
                          separators=(",", ":"), allow_nan=False)
        return text.replace("</", "<\\/")

    def close(self) -> None:
        self.plan.close()


def pack(obj: Any, buffers: list[bytes], key: str = "") -> Any:
    """``obj`` with numpy arrays moved into ``buffers`` (see the module's docstring); non-finite floats -> None.

    Examples
    --------
    >>> bufs = []
    >>> pack({"t": np.array([0.0, 0.5]), "n": np.int64(3), "x": float("nan")}, bufs)
    {'t': {'$b': 0, 'dtype': 'f8', 'shape': [2]}, 'n': 3, 'x': None}
    >>> len(bufs[0])
    16
    """
    if isinstance(obj, np.ndarray):
        if obj.dtype == bool or obj.dtype.kind == "u":
            arr, code = obj.astype("u1"), "u1"
        elif obj.dtype.kind == "i":
            arr, code = obj.astype("<i4"), "i4"
        elif key in FLOAT64_KEYS:
            arr, code = obj.astype("<f8"), "f8"
        else:
            arr, code = obj.astype("<f4"), "f4"
        buffers.append(np.ascontiguousarray(arr).tobytes())
        return {"$b": len(buffers) - 1, "dtype": code, "shape": list(arr.shape)}
    if isinstance(obj, (bytes, bytearray)):
        buffers.append(bytes(obj))
        return {"$b": len(buffers) - 1, "dtype": "u1", "shape": [len(obj)]}
    if isinstance(obj, dict):
        return {str(k): pack(v, buffers, str(k)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [pack(v, buffers, key) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def png_bytes(image: np.ndarray) -> bytes:
    """An RGB or RGBA uint8 image as PNG bytes.

    Examples
    --------
    >>> png_bytes(np.zeros((2, 3, 4), np.uint8))[:4]
    b'\\x89PNG'
    """
    import cv2

    img = np.ascontiguousarray(image)
    code = cv2.COLOR_RGBA2BGRA if img.shape[-1] == 4 else cv2.COLOR_RGB2BGR
    ok, buf = cv2.imencode(".png", cv2.cvtColor(img, code))
    return buf.tobytes()


def value_format(fmt: str) -> dict[str, Any]:
    """A readout format of the column (``"{:9.2f}"``, ``"{:.3e}"``, ``"{:.3g}"``) as the front-end takes it.

    Examples
    --------
    >>> value_format("{:9.2f}")
    {'kind': 'f', 'precision': 2, 'width': 9}
    >>> value_format("{:.3e}")
    {'kind': 'e', 'precision': 3, 'width': 0}
    """
    m = re.fullmatch(r"\{:(\d*)\.(\d+)([efg])\}", fmt)
    if m is None:
        return {"kind": "g", "precision": 3, "width": 0}
    return {"kind": m.group(3), "precision": int(m.group(2)), "width": int(m.group(1) or 0)}


def text_format(fmt: str) -> list[list[Any]] | None:
    """A :class:`~nwbview.render.overlays.TimestampOverlay` format as parts the front-end fills in.

    ``["text", s]``, ``["t", digits or None]``, ``["frame"]``; None when the format uses
    more than ``{t}``, ``{t:.Nf}`` and ``{frame}`` (the host then sends the texts).

    Examples
    --------
    >>> text_format("t = {t:.3f} s")
    [['text', 't = '], ['t', 3], ['text', ' s']]
    >>> text_format("{t:>8.2f}") is None
    True
    """
    parts: list[list[Any]] = []
    for literal, field, spec, conv in string.Formatter().parse(fmt):
        if literal:
            parts.append(["text", literal])
        if field is None:
            continue
        if conv:
            return None
        if field == "t" and (not spec or re.fullmatch(r"\.\d+f", spec)):
            parts.append(["t", int(spec[1:-1]) if spec else None])
        elif field == "frame" and spec in ("", "d"):
            parts.append(["frame"])
        else:
            return None
    return parts


def _overlay(data: dict, times: np.ndarray) -> dict:
    """A drawer's data as the front-end takes it (images as PNG, texts as parts or per frame)."""
    kind = data["kind"]
    if kind == "field" and data.get("rgba") is not None:
        return {"kind": "field", "png": png_bytes(data["rgba"]), "box": list(data["box"])}
    if kind == "time":
        parts = text_format(data["fmt"])
        out = {k: v for k, v in data.items() if k != "fmt"}
        if parts is None:
            out["texts"] = [data["fmt"].format(t=float(t), frame=k) for k, t in enumerate(times)]
        else:
            out["parts"] = parts
        return out
    return dict(data)


def _no_video(session: Any, video: Any) -> bool:
    if video is False:
        return True
    return video is None and not session.inventory().of_kind("video")


def build_scene(
    session: Any,
    *,
    start: float | None = None,
    stop: float | None = None,
    video: str | Sequence[str] | None = None,
    overlays: Sequence[Any] | None = None,
    timeseries: Sequence[Any] | None = None,
    calibration: Any = None,
    size: Any = None,
    title: str | None = None,
    content: dict[str, Any] | None = None,
    caller: str = "build_scene",
    max_samples: int | None = None,
) -> Scene:
    """The scene of a view of ``session`` over ``[start, stop)``: what the front-end draws.

    Parameters are those of :func:`~nwbview.render.export_video` (``session`` is an open
    session). The layout is the export's without its column (the browser draws the column
    beside the frames), so the frames are those of a bare export with the same ``size``.
    ``overlays``, ``timeseries`` and ``calibration`` not given come from the stream keywords in
    ``content`` (:func:`~nwbview.render.defaults.content_from`; one it does not take is
    refused naming ``caller``).

    ``max_samples``: when the traces of the range hold more samples than this (a long range of
    a fast signal), the scene holds none of them: the front-end asks for the samples around
    the cursor as it moves (:meth:`Scene.traces_between`; the notebook widget does this). The
    readouts at each frame are always sent whole.

    Raises
    ------
    NWBViewError
        As :func:`~nwbview.render.build_plan` (a range holding no frame, an overlay that
        cannot be placed, ...).

    Examples
    --------
    >>> scene = build_scene(s, start=10, stop=20, timeseries=[])  # doctest: +SKIP
    """
    from nwbview.render.column import Column
    from nwbview.render.defaults import content_from
    from nwbview.timeline import Timeline

    if overlays is None or timeseries is None or content:
        names = [] if video is None or video is False else ([video] if isinstance(video, str) else list(video))
        given = content_from(session, names, dict(content or {}), caller=caller)
        overlays = given["overlays"] if overlays is None else overlays
        timeseries = given["timeseries"] if timeseries is None else timeseries
        calibration = given["calibration"] if calibration is None else calibration
    no_video = _no_video(session, video)
    plan = build_plan(session, start=start, stop=stop, video=False if no_video else video, overlays=overlays, timeseries=[],
                      size=size, calibration=calibration)
    try:
        times = plan.times
        shown = [t for t in timeseries if t.visible]
        rows = Column(shown, Timeline(times), (COLUMN_WIDTH, max(240, plan.size[1]))).data() if shown else []
        for row in rows:
            for tr in row["traces"]:
                tr["fmt"] = value_format(tr["fmt"])
        samples = None
        if max_samples is not None and sum(tr["t"].size for row in rows for tr in row["traces"]) > max_samples:
            samples = [[(np.asarray(tr["t"], np.float64), np.asarray(tr["value"])) for tr in row["traces"]] for row in rows]
            for row in rows:
                for tr in row["traces"]:
                    tr["t"], tr["value"] = np.empty(0, np.float64), np.empty(0, np.float32)
        panels = []
        for p in plan.panels:
            panel = {"name": p.name, "rect": list(p.rect), "video": p.reader is not None,
                     "overlays": [_overlay(d.data(), times) for d in p.drawers]}
            if p.background is not None:
                panel["background"] = png_bytes(p.background)
            panels.append(panel)
            p.drawers = []  # the browser draws them; the plan now renders bare frames
        first = plan.panels[0]
        meta = {
            "version": SCENE_VERSION,
            "title": title or _title(session, times),
            "source": str(getattr(session, "source", "")),
            "size": list(plan.size),
            "rate": float(plan.rate),
            "column_width": COLUMN_WIDTH if rows else 0,
            "note": NO_VIDEO_NOTE if no_video else None,
            "traces_windowed": samples is not None,
            "trace_span_s": _trace_span(rows),
        }
        scene = Scene(meta, [], plan, samples)
        scene.add("times", times)
        scene.add("frames", first.frames if first.frames is not None else None)
        scene.add("panels", panels)
        scene.add("column", rows)
        return scene
    except BaseException:
        plan.close()
        raise


def _trace_span(rows: list[dict]) -> float:
    """Seconds of samples a windowed front-end asks for beyond the cursor's windows, each side: ten of the widest window, at least 20 s."""
    return max([20.0] + [10.0 * float(row["window_s"]) for row in rows])


#: the keywords of a view that are not stream keywords (build_scene's own)
VIEW_KEYWORDS = ("video", "overlays", "timeseries", "calibration", "size", "title")


def scene_keywords(options: dict[str, Any]) -> dict[str, Any]:
    """A host's keywords for :func:`build_scene`: the view's own (``video``, ``overlays``,
    ``timeseries``, ``calibration``, ``size``, ``title``), the others as the stream keywords
    (``content``).

    Examples
    --------
    >>> scene_keywords({"video": "cam", "trail_s": 4})
    {'video': 'cam', 'content': {'trail_s': 4}}
    """
    own = {k: v for k, v in options.items() if k in VIEW_KEYWORDS}
    return {**own, "content": {k: v for k, v in options.items() if k not in VIEW_KEYWORDS}}


@contextmanager
def opened_scene(source: Any, *, start: Any = None, stop: Any = None, **options: Any) -> Iterator[tuple[Any, Scene]]:
    """``(session, scene)`` of a view of ``source`` (a session or what ``nwbview.open`` takes).

    ``start`` and ``stop`` are checked before anything is opened; a path is opened here and
    closed on leaving (the scene keeps its data and its own video readers: close it when done).
    ``options`` are :func:`build_scene`'s.

    Examples
    --------
    >>> with opened_scene("session.nwb", start=10, stop=20, caller="widget") as (session, scene):  # doctest: +SKIP
    ...     pass
    """
    start = None if start is None else check_time(start, "start")
    stop = None if stop is None else check_time(stop, "stop")
    session, own = open_source(source)
    try:
        yield session, build_scene(session, start=start, stop=stop, **options)
    finally:
        if own:
            session.close()


def _title(session: Any, times: np.ndarray) -> str:
    from pathlib import PurePosixPath

    name = PurePosixPath(str(getattr(session, "source", "session")).split("?")[0]).name or "session"
    return f"{name} · {times[0]:.3f}–{times[-1]:.3f} s" if times.size else name
