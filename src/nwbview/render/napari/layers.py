"""The napari layers of a view, built from overlay specs (pure: numpy in, layer data out).

napari slices every layer natively on the time axis (the first axis of every layer is the
timeline's step), so a step costs no Python of ours beyond the slider label and the dock:

- the video: an Image over :class:`VideoFrames`, a lazy array that decodes ``reader[i]`` only
  when napari indexes step ``k`` (never the whole video);
- pose keypoints (Points, coloured by keypoint name) and the position (Points), one set per
  step, only at the steps where :meth:`Timeline.nearest` finds a sample;
- the skeleton edges, the head-direction arrows and the position trail in one Vectors layer
  of line segments (see :func:`merge_lines`): the trail's segments are made for each step
  (:class:`TrailSegments`), each faded by its age, so a step draws one mesh and the trail needs
  no layer of its own.

Each builder returns napari layer-data tuples ``(data, kwargs, layer_type)`` in the display
coordinates of a :class:`~nwbview.render.napari.space.Space`. :class:`Chunked` cuts a per-step
layer's data into windows of steps (:class:`TrailSegments` makes the trail's for a window), so
long sessions keep only a window in napari.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from nwbview.errors import CalibrationError, NWBViewError
from nwbview.render.draw import PALETTE, to_rgb
from nwbview.render.draw import xy_values as _xy
from nwbview.render.napari.space import Space
from nwbview.render.overlays import HeadDirectionOverlay, PoseOverlay, PositionOverlay, TimestampOverlay, data_frame, pose_keypoints
from nwbview.timeline import Timeline

__all__ = [
    "VideoFrames",
    "LayerSpec",
    "Chunked",
    "position_layers",
    "pose_layers",
    "head_direction_layers",
    "merge_vectors",
    "merge_lines",
    "merge_points",
    "TrailSegments",
    "overlay_layer_specs",
    "sample_times",
    "MAX_FRAMES_PER_READ",
]

#: most frames :class:`VideoFrames` decodes for one indexing call
MAX_FRAMES_PER_READ = 64


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

    def __init__(self, reader: Any, frames: np.ndarray, *, prefetch: bool = True):
        self.reader = reader
        self.frames = np.asarray(frames, dtype=np.int64)
        w, h = (int(v) for v in reader.size)
        self.shape = (int(self.frames.size), h, w, 3)
        self.dtype = np.dtype(np.uint8)
        self.ndim = 4
        #: frames read for napari through this array (for tests and benchmarks)
        self.reads = 0
        #: of those, frames that were read ahead while the previous step was shown
        self.prefetched = 0
        #: read the next step's frame on a thread while a step is shown (stepping forward only)
        self.prefetch = bool(prefetch)
        self._pool: Any = None
        self._ahead: tuple[int, Any] | None = None  # (step, future of its image)
        self._last = -2
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"<VideoFrames {self.shape} of {self.reader!r}>"

    def image(self, k: int) -> np.ndarray:
        """The video image shown at step ``k`` (``reader[frames[k]]``).

        Stepping forward, the frame of step ``k + 1`` is read on a thread while step ``k`` is
        painted; the image returned is that same ``reader[...]`` call's (the reader is
        thread-safe), so it is exact whichever thread read it.
        """
        k = int(k)
        self.reads += 1
        with self._lock:
            ahead, self._ahead = self._ahead, None
            if ahead is not None and ahead[0] == k + 1:  # read again at the same step: keep the next one
                ahead, self._ahead = None, ahead
            forward = k == self._last + 1
            self._last = k
        out = None
        if ahead is not None:
            step, future = ahead
            if step == k:
                try:
                    out = future.result()
                    self.prefetched += 1
                except Exception:  # noqa: BLE001 - read it again here: the error (if any) is raised by this thread
                    out = None
            else:
                future.cancel()
        if out is None:
            out = self.reader[int(self.frames[k])]
        if self.prefetch and forward and k + 1 < self.shape[0]:
            self._read_ahead(k + 1)
        return out

    def _read_ahead(self, k: int) -> None:
        with self._lock:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nwbview-video")
            self._ahead = (k, self._pool.submit(self.reader.__getitem__, int(self.frames[k])))

    def close(self) -> None:
        """Stop reading ahead (waits for a read in flight); call before closing the reader."""
        with self._lock:
            pool, self._pool, self._ahead = self._pool, None, None
            self.prefetch = False
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

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
            out = self.image(k)
            return out[rest] if rest else out
        idx = np.arange(n)[first]
        if idx.size > MAX_FRAMES_PER_READ:
            raise NWBViewError(
                f"Refusing to decode {idx.size} video frames at once (at most {MAX_FRAMES_PER_READ}): "
                "nwbview never loads a whole video into memory. Index single frames."
            )
        if idx.size:
            out = np.stack([self.image(int(i)) for i in idx])
        else:
            out = np.empty((0,) + self.shape[1:], np.uint8)
        return out[(slice(None),) + rest] if rest else out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise NWBViewError(
            f"Refusing to load the whole video ({self.shape[0]} frames of {self.shape[2]}x{self.shape[1]}) "
            "into memory; index the frames you need."
        )


def _rgba(color: Any, alpha: float = 1.0) -> np.ndarray:
    r, g, b = to_rgb(color)
    return np.array([r / 255.0, g / 255.0, b / 255.0, alpha])


def sample_times(data: Any) -> np.ndarray:
    """The ``time`` coordinate of a stream, seconds (float64)."""
    return np.asarray(data["time"].values, dtype=np.float64)


def _vectors(k: np.ndarray, p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    """napari vectors ``(n, 2, 3)``: start ``(k, row, col)``, projection ``(0, drow, dcol)``."""
    out = np.zeros((k.size, 2, 3))
    out[:, 0, 0] = k
    out[:, 0, 1:] = p0
    out[:, 1, 1:] = p1 - p0
    return out


def _line_vectors(vec: np.ndarray, name: str, width: float, color: Any, *, opacity: float, visible: bool) -> tuple:
    """A Vectors layer of plain line segments (no arrow heads), one colour."""
    kwargs = dict(name=name, ndim=3, edge_width=width, edge_color=_rgba(color), vector_style="line", length=1.0,
                  opacity=opacity, projection_mode="none", visible=visible)  # fmt: skip
    return vec, kwargs, "vectors"


def position_layers(spec: PositionOverlay, timeline: Timeline, space: Space) -> list[tuple]:
    """The current position (one point per step) and its fading trail (line segments).

    The trail's samples sit at their fractional step; at step ``k`` the trail shows the segments
    between samples up to ``k``, fading out over the last ``trail_s`` (in steps at the
    timeline's median frame rate). Its data is a :class:`TrailSegments`, which makes the
    segments of a window of steps (``part(lo, hi)``); its width is the spec's ``thickness`` in
    video pixels, in display units (cm when calibrated), like the skeleton's.

    Examples
    --------
    >>> space = Space(session.calibration())  # doctest: +SKIP
    >>> for data, kwargs, kind in position_layers(PositionOverlay(session.position()), timeline, space):  # doctest: +SKIP
    ...     getattr(viewer, f"add_{kind}")(data, **kwargs)
    """
    coordinates = data_frame(spec.data, spec.coordinates)
    t = sample_times(spec.data)
    disp = space.to_display(_xy(spec.data, "PositionOverlay"), coordinates, "The position")
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
    if spec.trail_s > 0 and t.size > 1 and len(timeline) > 1:
        # each sample at its fractional step (interpolated between the timeline's frame times);
        # a NaN sample, or one outside the timeline, cuts the trail
        steps = np.interp(t, timeline.times, np.arange(len(timeline), dtype=np.float64), left=np.nan, right=np.nan)
        trail = TrailSegments(steps, disp, max(1, int(round(spec.trail_s * timeline.fps))), color)
        if trail.n_segments:
            kwargs = dict(name="position trail", ndim=3, edge_width=float(spec.thickness) * px, edge_color=color,
                          vector_style="line", length=1.0, opacity=1.0, projection_mode="none", visible=spec.visible)  # fmt: skip
            out.insert(0, (trail, kwargs, "vectors"))
    return out


class TrailSegments:
    """The fading position trail as line segments, made for a window of steps when asked.

    A segment joins two consecutive samples (a NaN sample cuts the trail) at fractional steps
    ``s0 < s1``; it is shown at every step ``k`` with ``s1 <= k < s1 + tail`` (the trail is cut
    at the current step and lasts ``tail`` steps), in ``color`` with its alpha faded linearly
    by the age of its middle, ``1 - (k - (s0 + s1) / 2) / tail``: what napari's Tracks shader
    did per vertex. :meth:`part` returns the segments of the steps ``[lo, hi)`` as napari
    vectors with one colour each, so memory follows the window, not the session.

    Examples
    --------
    >>> trail = TrailSegments(np.array([0.0, 1.0, 2.0]), np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]), 2, (1, 0.5, 0, 1))
    >>> vec, colors, _ = trail.part(0, 4)
    >>> vec[:, 0, 0].tolist(), colors["edge_color"][:, 3].tolist()
    ([1.0, 2.0, 2.0, 3.0], [0.75, 0.25, 0.75, 0.25])
    """

    layer_type = "vectors"

    def __init__(self, steps: np.ndarray, disp: np.ndarray, tail: float, color: Any):
        steps = np.asarray(steps, np.float64).reshape(-1)
        disp = np.asarray(disp, np.float64).reshape(-1, 2)
        valid = np.all(np.isfinite(disp), axis=1) & np.isfinite(steps)
        i = np.flatnonzero(valid[:-1] & valid[1:] & (steps[1:] >= steps[:-1]))
        self.tail = float(tail)
        self.color = np.asarray(color, np.float64).reshape(4)
        self.s0, self.s1 = steps[i], steps[i + 1]
        self.p0, self.p1 = disp[i], disp[i + 1]
        # the steps a segment shows at: first <= k <= last (both non-decreasing: samples are in time order)
        self.first = np.ceil(self.s1).astype(np.int64)
        self.last = np.ceil(self.s1 + self.tail).astype(np.int64) - 1

    @property
    def n_segments(self) -> int:
        return int(self.s1.size)

    def part(self, lo: int, hi: int) -> tuple[np.ndarray, dict, None]:
        """Vectors ``(m, 2, 3)`` of the steps ``[lo, hi)`` sorted by step, their ``edge_color``."""
        i0 = int(np.searchsorted(self.last, lo, side="left"))
        i1 = int(np.searchsorted(self.first, hi, side="left"))
        first, last = np.maximum(self.first[i0:i1], lo), np.minimum(self.last[i0:i1], hi - 1)
        count = np.clip(last - first + 1, 0, None)
        j = np.repeat(np.arange(i0, i1), count)
        k = np.repeat(first, count) + (np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count))
        order = np.argsort(k, kind="stable")
        j, k = j[order], k[order].astype(np.float64)
        colors = np.tile(self.color, (k.size, 1))
        colors[:, 3] *= np.clip(1.0 - (k - 0.5 * (self.s0[j] + self.s1[j])) / self.tail, 0.0, 1.0)
        return _vectors(k, self.p0[j], self.p1[j]), {"edge_color": colors}, None


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
    coordinates = data_frame(ds, spec.coordinates)
    xy, c, names, inds = pose_keypoints(ds, spec.individuals)  # (time, ind, kp, 2), (time, ind, kp)
    disp = space.to_display(xy, coordinates, "The pose")
    shown = ~(c < float(spec.confidence_threshold)) & np.all(np.isfinite(disp), axis=-1)
    idx = timeline.nearest(sample_times(ds))
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
            _line_vectors(vec, "skeleton", float(spec.thickness) * px, spec.edge_color, opacity=0.9, visible=spec.visible)
        )
    return out


def head_direction_layers(spec: HeadDirectionOverlay, timeline: Timeline, space: Space) -> list[tuple]:
    """An arrow per step from the position along the head direction (angles in world coordinates).

    The arrow is three line vectors (shaft and two head strokes), so it can share a layer with
    the skeleton (see :func:`merge_vectors`).

    Examples
    --------
    >>> spec = HeadDirectionOverlay(session.head_direction(), session.position(), length=8)  # doctest: +SKIP
    >>> (data, kwargs, kind), = head_direction_layers(spec, timeline, Space(session.calibration()))  # doctest: +SKIP
    """
    ih = timeline.nearest(sample_times(spec.data))
    ip = timeline.nearest(sample_times(spec.position))
    ang = np.asarray(spec.data.values, dtype=np.float64).reshape(-1)
    xy = _xy(spec.position, "HeadDirectionOverlay.position")
    coordinates = data_frame(spec.position, spec.coordinates)
    ok = (ih >= 0) & (ip >= 0)
    k = np.flatnonzero(ok)
    a = ang[ih[k]] if k.size else np.empty(0)
    anchor = xy[ip[k]] if k.size else np.empty((0, 2))
    if coordinates == "pixel":
        if space.calibration is None:
            raise CalibrationError(
                "Head direction angles are in world coordinates and its anchor position is in pixels: placing "
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
    return [_line_vectors(vec, "head direction", float(spec.thickness) * space.px_size, spec.color, opacity=1.0, visible=spec.visible)]


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


class MergedChunks:
    """Several per-step vector sources (:class:`Chunked`, :class:`TrailSegments`) as one layer's:
    :meth:`part` joins their windows, sorted by step (each source's order kept within a step)."""

    layer_type = "vectors"

    def __init__(self, sources: Sequence[Any]):
        self.sources = list(sources)

    def part(self, lo: int, hi: int) -> tuple[np.ndarray, dict, None]:
        parts = [src.part(lo, hi) for src in self.sources]
        data = np.concatenate([np.asarray(d, np.float64).reshape(-1, 2, 3) for d, _, _ in parts])
        colors = np.concatenate([c["edge_color"] for _, c, _ in parts])
        order = np.argsort(data[:, 0, 0], kind="stable")
        return data[order], {"edge_color": colors[order]}, None


def merge_lines(specs: Sequence["LayerSpec"], role: str) -> "LayerSpec":
    """One Vectors layer of line segments from several (skeleton, head direction, trail).

    Each member keeps its colour, with its layer opacity folded into its colours' alpha (the
    merged layer is opaque); the widest edge width is used. The trail's segments
    (:class:`TrailSegments`) are made per window of steps; the static members are cut by a
    :class:`Chunked`. ``LayerSpec.data`` holds the static members' vectors.

    Examples
    --------
    >>> lines = merge_lines([skeleton, arrows, trail], "skeleton + head direction + position trail")  # doctest: +SKIP
    """
    static, sources = [], []
    for ls in specs:
        if isinstance(ls.data, TrailSegments):
            trail = copy.copy(ls.data)
            trail.color = trail.color * np.array([1.0, 1.0, 1.0, float(ls.kwargs.get("opacity", 1.0))])
            sources.append(trail)
            continue
        colors = _per_item(ls.kwargs["edge_color"], len(ls.data))
        colors[:, 3] *= float(ls.kwargs.get("opacity", 1.0))
        static.append((np.asarray(ls.data, np.float64).reshape(-1, 2, 3), dict(ls.kwargs, edge_color=colors), "vectors"))
    if static:
        data, kw, _ = merge_vectors(static, role) if len(static) > 1 else static[0]
        sources.insert(0, Chunked(data, dict(kw, edge_color=_per_item(kw["edge_color"], len(data))), "vectors"))
    else:
        data = np.zeros((0, 2, 3))
    kwargs = dict(specs[0].kwargs)
    kwargs.update(name=role, opacity=1.0, edge_color=_rgba("white"), visible=any(ls.kwargs.get("visible", True) for ls in specs),
                  edge_width=max(float(ls.kwargs["edge_width"]) for ls in specs))  # fmt: skip
    return LayerSpec(role, data, kwargs, "vectors", MergedChunks(sources) if len(sources) > 1 else sources[0])


def _per_item(value: Any, n: int) -> np.ndarray:
    """``(n, 4)`` RGBA of a colour given for a layer (one colour, or one per item)."""
    if isinstance(value, str):
        return np.tile(_rgba(value), (n, 1))
    a = np.asarray(value, np.float64)
    return a.reshape(n, 4) if a.ndim == 2 and len(a) == n else np.tile(a.reshape(-1)[:4], (n, 1))


def merge_points(layers: list[tuple], name: str, kinds: Sequence[str]) -> tuple:
    """One Points layer from several: each point keeps its size, colours and border; the
    ``kind`` feature says which layer it came from (other features are kept, empty elsewhere).

    napari slices, highlights and draws each layer on every step (~8-10 ms a Points layer on
    software OpenGL, most of it napari's Python): the pose keypoints and the position share one.

    Examples
    --------
    >>> merged = merge_points([pose, position], "pose + position", ["pose", "position"])  # doctest: +SKIP
    """
    data = np.concatenate([np.asarray(d, np.float64).reshape(-1, 3) for d, _, _ in layers])
    cols: dict[str, list] = {}
    for d, kw, _ in layers:
        for key, v in (kw.get("features") or {}).items():
            cols.setdefault(key, [])
    for key in cols:
        for d, kw, _ in layers:
            v = (kw.get("features") or {}).get(key)
            if v is None:
                numeric = any(np.asarray(f[key]).dtype.kind == "f" for _, k, _ in layers if key in (f := k.get("features") or {}))
                v = np.full(len(d), np.nan) if numeric else np.full(len(d), "", dtype=object)
            cols[key].append(np.asarray(v))
    features = {key: np.concatenate(parts) for key, parts in cols.items()}
    features["kind"] = np.concatenate([np.full(len(d), kind, dtype=object) for (d, _, _), kind in zip(layers, kinds)])
    per = dict(
        face_color=np.concatenate([_per_item(kw.get("face_color", "white"), len(d)) for d, kw, _ in layers]),
        border_color=np.concatenate([_per_item(kw.get("border_color", "black"), len(d)) for d, kw, _ in layers]),
        border_width=np.concatenate([np.full(len(d), float(kw.get("border_width", 0.05))) for d, kw, _ in layers]),
        size=np.concatenate([np.full(len(d), float(kw.get("size", 10.0))) for d, kw, _ in layers]),
    )
    kwargs = dict(layers[0][1])
    kwargs.update(name=name, features=features, visible=any(kw.get("visible", True) for _, kw, _ in layers), **per)
    return data, kwargs, "points"


@dataclass
class LayerSpec:
    """One napari layer of a view: its role (``video``, ``pose``, ``position``, ...), full data,
    napari keyword arguments and type; ``chunks`` cuts a per-step layer into windows of steps
    (anything with ``part(lo, hi)``: :class:`Chunked`, :class:`TrailSegments`,
    :class:`MergedChunks`). A layer whose data is made per window (the trail's) is ``windowed``:
    the viewer never asks it for the whole session at once."""

    role: str
    data: Any
    kwargs: dict
    layer_type: str
    chunks: Any = None
    windowed: bool = False


#: per-item layer keywords (and their array's ndim) that :class:`Chunked` cuts with the data
PER_ITEM = {"face_color": 2, "edge_color": 2, "border_color": 2, "size": 1, "border_width": 1}


class Chunked:
    """A per-step overlay layer's full data, sorted by step, cut into windows of steps.

    Points are ``(step, row, col)``, vectors ``((step, row, col), (0, drow, dcol))``. Per-item arrays (colours, sizes, border widths: :data:`PER_ITEM`) and
    ``features`` are cut with the data.
    """

    def __init__(self, data: np.ndarray, kwargs: dict, layer_type: str):
        data = np.asarray(data, dtype=np.float64)
        key = {"points": lambda d: d[:, 0], "vectors": lambda d: d[:, 0, 0]}[layer_type](data)
        order = np.argsort(key, kind="stable")
        self.layer_type = layer_type
        self.key = key[order]
        self.data = data[order]
        self.colors: dict[str, np.ndarray] = {}
        for name, ndim in PER_ITEM.items():
            v = kwargs.get(name)
            if isinstance(v, np.ndarray) and v.ndim == ndim and len(v) == len(data) and len(data):
                self.colors[name] = v[order]
        f = kwargs.get("features")
        self.features = None if f is None else {k: np.asarray(v)[order] for k, v in f.items()}

    def part(self, lo: int, hi: int) -> tuple[np.ndarray, dict, dict | None]:
        """Data, per-item arrays (colours, sizes) and features of the steps ``[lo, hi)``."""
        i0 = int(np.searchsorted(self.key, lo, side="left"))
        i1 = int(np.searchsorted(self.key, hi, side="left"))
        sel = slice(i0, i1)
        data = self.data[sel]
        colors = {k: v[sel] for k, v in self.colors.items()}
        features = None if self.features is None else {k: v[sel] for k, v in self.features.items()}
        return data, colors, features


#: roles of the overlay layers (any other layer a spec makes is a pose)
OVERLAY_ROLES = ("position", "position trail", "skeleton", "head direction")
#: the one Vectors layer of the skeleton and the head direction, when both are shown (no trail)
MERGED_ROLE = "skeleton + head direction"
#: the line layers that share one Vectors layer, in drawing order (its role joins those shown)
LINE_ROLES = ("skeleton", "head direction", "position trail")
#: the one Points layer of the pose keypoints and the position, when both are shown (one pose)
MERGED_POINTS_ROLE = "pose + position"


def overlay_layer_specs(overlays: Sequence[Any], timeline: Timeline, space: Space, *, strict: bool,
                        warn: Callable[[str], None]) -> tuple[list[LayerSpec], TimestampOverlay | None]:
    """The layers of overlay specs, cut into windows of steps, and the spec of the time label.

    Each :class:`PositionOverlay`, :class:`PoseOverlay` and :class:`HeadDirectionOverlay` gives
    its layers (roles made unique: ``pose``, ``pose 2``, ...); the skeleton, the head direction
    and the position trail share one Vectors layer (:data:`LINE_ROLES` shown, joined by `` + ``:
    ``skeleton + head direction + position trail``), one pose's keypoints and the position one Points layer (:data:`MERGED_POINTS_ROLE`, on top). A spec the viewer cannot show (an
    export-only overlay, world-coordinate data without a calibration) raises when ``strict``
    (the user gave the specs), else is left out with ``warn(message)``.

    Examples
    --------
    >>> specs, timestamp = overlay_layer_specs(overlays, timeline, Space(cal), strict=True, warn=print)  # doctest: +SKIP
    >>> [ls.role for ls in specs]  # doctest: +SKIP
    ['skeleton + head direction + position trail', 'pose + position']
    """
    builders = {PositionOverlay: position_layers, PoseOverlay: pose_layers, HeadDirectionOverlay: head_direction_layers}
    out: list[LayerSpec] = []
    timestamp = None
    for spec in overlays:
        if isinstance(spec, TimestampOverlay):
            timestamp = spec if spec.visible else timestamp
            continue
        build = next((fn for kind, fn in builders.items() if isinstance(spec, kind)), None)
        if build is None:
            if not getattr(spec, "visible", True):
                continue
            msg = f"{type(spec).__name__} is not shown in the napari viewer (only in exports); it was left out."
            if strict:
                raise NWBViewError(msg)
            warn(msg)
            continue
        try:
            made = build(spec, timeline, space)
        except CalibrationError as exc:
            if strict:
                raise
            warn(f"{type(spec).__name__} not shown: {exc}")
            continue
        for data, kwargs, layer_type in made:
            role = kwargs["name"] if kwargs["name"] in OVERLAY_ROLES else "pose"
            out.append(LayerSpec(_unique(role, {ls.role for ls in out}), data, kwargs, layer_type))
    lines = sorted((ls for ls in out if ls.role in LINE_ROLES), key=lambda ls: LINE_ROLES.index(ls.role))
    if len(lines) >= 2:  # one layer: napari slices, uploads and lists each layer on every step
        merged = merge_lines(lines, " + ".join(ls.role for ls in lines))
        merged.windowed = any(isinstance(ls.data, TrailSegments) for ls in lines)
        at = min(out.index(ls) for ls in lines)
        out = [ls for ls in out if ls not in lines]
        out.insert(at, merged)
    poses = [ls for ls in out if ls.role.startswith("pose") and ls.layer_type == "points"]
    position = [ls for ls in out if ls.role == "position"]
    if len(poses) == 1 and position:  # one Points layer on top: keypoints over the skeleton and the trail
        both = [poses[0], position[0]]
        name = f"{poses[0].kwargs['name']} + position"
        data, kwargs, layer_type = merge_points([(ls.data, ls.kwargs, ls.layer_type) for ls in both], name, ["pose", "position"])
        at = out.index(position[0])
        out.insert(at, LayerSpec(MERGED_POINTS_ROLE, data, kwargs, layer_type))
        out = [ls for ls in out if ls not in both]
    for ls in out:
        if isinstance(ls.data, TrailSegments):  # a trail alone: its segments are made per window
            ls.chunks, ls.data, ls.windowed = ls.data, np.zeros((0, 2, 3)), True
        elif ls.chunks is None:
            ls.chunks = Chunked(ls.data, ls.kwargs, ls.layer_type)
    return out, timestamp


def _unique(role: str, taken: set[str]) -> str:
    if role not in taken:
        return role
    i = 2
    while f"{role} {i}" in taken:
        i += 1
    return f"{role} {i}"
