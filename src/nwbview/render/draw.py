"""Raster drawing of overlays onto RGB frames (numpy + OpenCV, antialiased).

The exporter binds every overlay spec (:mod:`nwbview.render.overlays`) to a *drawer* once,
before the frame loop: the data are sliced to the exported range, aligned to the timeline with
``Timeline.nearest`` / ``windows`` and converted to the panel's output pixels (world data
through ``Calibration.world_to_pixels``). A drawer then does O(1) work per frame: it looks up
its precomputed rows for frame ``k`` and draws them with OpenCV (``LINE_AA``, sub-pixel
coordinates), straight into the frame buffer.

Pixel convention: the output pixel ``(i, j)`` covers ``[i, i + 1) x [j, j + 1)``, its centre is at
``(i + 0.5, j + 0.5)``. OpenCV puts integer coordinates on pixel centres, so a point ``p`` is
drawn at ``p - 0.5`` (see :func:`fixed`). A video shown at ``scale`` times its size maps source
pixel corners ``p`` to ``p * scale``.

Drawers are plain picklable objects (numpy arrays and numbers): the export workers receive
them ready to draw. Text is drawn from a glyph atlas rendered once with matplotlib's FreeType
bindings (``DejaVu Sans Mono``), so workers never touch matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:  # xarray is imported where it is used: export workers never load it
    import xarray as xr

from nwbview.errors import CalibrationError
from nwbview.render.overlays import (
    EventOverlay,
    FieldOverlay,
    HeadDirectionOverlay,
    PoseOverlay,
    PositionOverlay,
    TimestampOverlay,
    data_frame,
    pose_keypoints,
)

__all__ = [
    "PALETTE",
    "to_rgb",
    "fixed",
    "unfixed",
    "GlyphAtlas",
    "PanelGeometry",
    "bind_overlay",
    "blend_mask",
    "mix",
]

#: fractional bits of the fixed-point coordinates handed to OpenCV (1/16 pixel)
SHIFT = 4
_ONE = 1 << SHIFT

#: matplotlib's tab10, as 0-255 RGB
PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
)  # fmt: skip


def to_rgb(color: Any, default: tuple[int, int, int] = (255, 255, 255)) -> tuple[int, int, int]:
    """A colour as an ``(r, g, b)`` tuple of 0-255 ints.

    Accepts 0-255 int tuples, 0-1 float tuples and matplotlib colour strings.

    Examples
    --------
    >>> to_rgb("tab:red"), to_rgb((0.0, 0.5, 1.0)), to_rgb((10, 20, 30))
    ((214, 39, 40), (0, 128, 255), (10, 20, 30))
    """
    if color is None:
        return default
    if isinstance(color, str):
        from matplotlib.colors import to_rgb as mpl_to_rgb

        try:
            r, g, b = mpl_to_rgb(color)
        except ValueError:
            from nwbview.errors import NWBViewError

            raise NWBViewError(f"Unknown colour {color!r}: use a matplotlib colour name ('tab:red'), hex ('#ff8800') or an (r, g, b) tuple.") from None
        return (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))
    vals = tuple(color)[:3]
    if all(isinstance(v, (float, np.floating)) for v in vals) and all(0.0 <= v <= 1.0 for v in vals):
        return tuple(int(round(float(v) * 255)) for v in vals)  # type: ignore[return-value]
    return tuple(int(np.clip(round(float(v)), 0, 255)) for v in vals)  # type: ignore[return-value]


def fixed(xy: np.ndarray) -> np.ndarray:
    """Continuous pixel coordinates -> OpenCV fixed-point int32 (``shift=SHIFT``), centres at +0.5.

    Examples
    --------
    >>> fixed(np.array([[0.5, 10.5]])).tolist()
    [[0, 160]]
    """
    return np.rint((np.asarray(xy, dtype=np.float64) - 0.5) * _ONE).astype(np.int32)


def unfixed(fx: np.ndarray) -> np.ndarray:
    """OpenCV fixed-point coordinates (:func:`fixed`) -> continuous pixel coordinates: where the
    export draws, for front-ends that draw the same points themselves (the browser).

    Examples
    --------
    >>> unfixed(fixed(np.array([[3.25, 10.5]]))).tolist()
    [[3.25, 10.5]]
    """
    return np.asarray(fx, dtype=np.float64) / _ONE + 0.5


def _cv2():
    import cv2

    return cv2


#: ``255 - m`` for every coverage ``m``, per channel: an index gives a whole ``(..., 3)`` array at once
_INVERSE = np.repeat((255 - np.arange(256, dtype=np.uint16))[:, None], 3, axis=1)


@lru_cache(maxsize=64)
def _tinted(color: tuple[int, int, int]) -> np.ndarray:
    """``color * m`` for every coverage ``m`` (``(256, 3)`` uint16)."""
    return np.arange(256, dtype=np.uint16)[:, None] * np.asarray(color, dtype=np.uint16)


def mix(px: np.ndarray, m: np.ndarray, color: Sequence[int]) -> np.ndarray:
    """``px`` (``(..., 3)`` uint8) with ``color`` laid over it at coverage ``m`` (``(...)``, 0-255).

    Each channel is ``(px * (255 - m) + color * m + 127) // 255``, in uint16 (the largest sum,
    ``255 * 255 + 127``, fits), the division done with shifts: ``(y + 1 + (y >> 8)) >> 8`` equals
    ``y // 255`` for every ``y`` up to 65,535. ``255 - m`` and ``color * m`` are looked up as
    ``(..., 3)`` arrays: numpy broadcasts a trailing axis of 1 (or of 3) against 3 slowly.

    Examples
    --------
    >>> mix(np.array([[0, 100, 255]], np.uint8), np.array([128], np.uint8), (255, 0, 0)).tolist()
    [[128, 50, 127]]
    """
    m = np.asarray(m, dtype=np.uint8)
    acc = px.astype(np.uint16)
    acc *= np.take(_INVERSE, m, axis=0)
    acc += np.take(_tinted(tuple(int(v) for v in color)), m, axis=0)
    acc += 128  # y + 1, where y = acc + 127
    acc += (acc - 1) >> 8
    acc >>= 8
    return acc.astype(np.uint8)


def blend_mask(img: np.ndarray, mask: np.ndarray, color: Sequence[int], x: int, y: int, opacity: float = 1.0) -> None:
    """Blend ``color`` into ``img`` at ``(x, y)`` (top-left) with a uint8 coverage ``mask``; clipped to ``img``."""
    h, w = mask.shape
    H, W = img.shape[:2]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    m = mask[y0 - y : y1 - y, x0 - x : x1 - x]
    if opacity != 1.0:
        m = (m.astype(np.uint16) * float(opacity)).astype(np.uint8)
    roi = img[y0:y1, x0:x1]
    roi[:] = mix(roi, m, color)


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


_KERNEL3 = np.ones((3, 3), np.uint8)


class GlyphAtlas:
    """Monospace glyphs rendered once (FreeType through matplotlib), blitted per frame.

    Parameters
    ----------
    size_px : float
        Approximate cap height wanted, in output pixels.

    Examples
    --------
    >>> atlas = GlyphAtlas(12)
    >>> img = np.zeros((40, 200, 3), np.uint8)
    >>> atlas.draw(img, "t = 1.5 s", 4, 4, (255, 255, 255))
    >>> int(img.max())
    255
    """

    CHARS = " " + "".join(chr(c) for c in range(33, 127)) + "µ–°±×"

    def __init__(self, size_px: float = 12.0):
        from matplotlib import font_manager
        from matplotlib.ft2font import FT2Font

        try:
            from matplotlib.ft2font import LoadFlags

            autohint = LoadFlags.FORCE_AUTOHINT
        except ImportError:  # matplotlib < 3.10
            from matplotlib.ft2font import LOAD_FORCE_AUTOHINT as autohint

        path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans Mono"))
        font = FT2Font(path)
        # point size such that the cap height is ~size_px at 72 dpi (1 pt = 1 px)
        font.set_size(max(4.0, float(size_px) / 0.73), 72)
        font.set_text(self.CHARS, 0.0, flags=autohint)
        font.draw_glyphs_to_bitmap(antialiased=True)
        img = np.asarray(font.get_image(), dtype=np.uint8)
        n = len(self.CHARS)
        width = font.get_width_height()[0] / 64.0
        adv = int(round(width / n))
        h = img.shape[0]
        full = np.zeros((h, adv * n), np.uint8)
        full[:, : min(img.shape[1], adv * n)] = img[:, : adv * n]
        self.cells = full.reshape(h, n, adv).transpose(1, 0, 2).copy()
        self.advance = adv
        self.height = h
        self.index = {c: i for i, c in enumerate(self.CHARS)}
        self._unknown = self.index["?"]

    def mask(self, text: str) -> np.ndarray:
        """Coverage mask ``(height, advance * len(text))`` of a line of text."""
        idx = [self.index.get(c, self._unknown) for c in text]
        if not idx:
            return np.zeros((self.height, 0), np.uint8)
        return self.cells[idx].transpose(1, 0, 2).reshape(self.height, -1)

    def size(self, text: str) -> tuple[int, int]:
        """``(width, height)`` of ``text`` in pixels."""
        return self.advance * len(text), self.height

    def draw(
        self,
        img: np.ndarray,
        text: str,
        x: float,
        y: float,
        color: Sequence[int],
        *,
        anchor: str = "lt",
        halo: bool = False,
    ) -> None:
        """Draw ``text`` with its ``anchor`` corner (``l``/``c``/``r`` + ``t``/``m``/``b``) at ``(x, y)``."""
        m = self.mask(text)
        w, h = m.shape[1], m.shape[0]
        if w == 0:
            return
        ax, ay = anchor[0], anchor[1]
        x0 = int(round(x - (w if ax == "r" else w / 2 if ax == "c" else 0)))
        y0 = int(round(y - (h if ay == "b" else h / 2 if ay == "m" else 0)))
        if halo:
            cv2 = _cv2()
            pad = cv2.copyMakeBorder(m, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
            dil = cv2.dilate(pad, _KERNEL3)
            blend_mask(img, dil, (0, 0, 0), x0 - 1, y0 - 1, opacity=0.75)
        blend_mask(img, m, color, x0, y0)


def _corner_xy(corner: str, size: tuple[int, int], margin: int) -> tuple[float, float, str]:
    w, h = size
    v, hz = corner.split("-")
    x = margin if hz == "left" else w - margin
    y = margin if v == "top" else h - margin
    return x, y, ("l" if hz == "left" else "r") + ("t" if v == "top" else "b")


# --------------------------------------------------------------------------------------------
# Panel geometry: data coordinates -> output pixels of one panel
# --------------------------------------------------------------------------------------------


@dataclass
class PanelGeometry:
    """Where a panel's data land: a video shown at ``scale``, or the world-frame arena view.

    Parameters
    ----------
    name : str
        The video's name, or ``"arena"``.
    size : (int, int)
        ``(width, height)`` of the panel in output pixels.
    scale : float
        Output pixels per source video pixel (video panels).
    calibration : Calibration, optional
        The video's pixel -> world calibration (needed for world-frame data on a video, and for
        pixel-frame data on the arena).
    arena : Calibration, optional
        For the arena panel: panel pixel -> world.

    Examples
    --------
    >>> from nwbview.calibration import from_cm_per_px
    >>> g = PanelGeometry("cam", (1280, 960), 2.0, from_cm_per_px(0.5, (640, 480)))
    >>> g.to_panel(np.array([[10.0, 20.0]]), "world").tolist()  # (20, 440) px in the video, y down
    [[40.0, 880.0]]
    """

    name: str
    size: tuple[int, int]
    scale: float = 1.0
    calibration: Any = None
    arena: Any = None

    @property
    def is_arena(self) -> bool:
        return self.arena is not None

    def _missing(self, what: str) -> CalibrationError:
        return CalibrationError(
            f"{what} is in world coordinates but video {self.name!r} has no pixel <-> world "
            "calibration, so it cannot be placed on the video (nwbview never guesses the y flip). "
            "Pass calibration=Calibration(...) (e.g. nwbview.calibration.fit_landmarks on your "
            "landmarks, or read_landmarks_csv + fit_landmarks; `--landmarks FILE.csv` on the "
            "command line), store one in the file (Calibration.to_nwb), or drop the overlay."
        )

    def to_panel(self, xy: np.ndarray, coordinates: str, what: str = "The data") -> np.ndarray:
        """Points ``(..., 2)`` in ``coordinates`` (``"pixel"``/``"world"``) -> panel output pixels (NaN stays NaN)."""
        xy = np.asarray(xy, dtype=np.float64)
        if self.is_arena:
            if coordinates == "world":
                return self.arena.world_to_pixels(xy)
            if self.calibration is None:
                raise CalibrationError(
                    f"{what} is in video pixels, and without a video nwbview draws the arena in world "
                    "coordinates: that needs the video's calibration. Pass calibration=..., or "
                    "export with the video."
                )
            return self.arena.world_to_pixels(self.calibration.pixels_to_world(xy))
        if coordinates == "pixel":
            return xy * self.scale
        if self.calibration is None:
            raise self._missing(what)
        return self.calibration.world_to_pixels(xy) * self.scale

    def panel_to_world(self, xy: np.ndarray, what: str = "The map") -> np.ndarray:
        """Panel output pixels -> world coordinates."""
        xy = np.asarray(xy, dtype=np.float64)
        if self.is_arena:
            return self.arena.pixels_to_world(xy)
        if self.calibration is None:
            raise self._missing(what)
        return self.calibration.pixels_to_world(xy / self.scale)

    def to_world(self, xy: np.ndarray, coordinates: str, what: str = "The data") -> np.ndarray:
        """Points in ``coordinates`` (``"pixel"``/``"world"``) -> world coordinates."""
        if coordinates == "world":
            return np.asarray(xy, dtype=np.float64)
        if self.calibration is None:
            raise self._missing(what.replace("world", "pixel"))
        return self.calibration.pixels_to_world(xy)


# --------------------------------------------------------------------------------------------
# Binding: overlay spec + timeline + panel -> drawer
# --------------------------------------------------------------------------------------------


def _time_slice(data: Any, t0: float, t1: float, pad: float) -> Any:
    """``data`` restricted to samples in ``[t0 - pad, t1 + pad]`` (sorted times assumed)."""
    t = np.asarray(data["time"].values, dtype=np.float64)
    if t.size == 0:
        return data
    i0 = int(np.searchsorted(t, t0 - pad, side="left"))
    i1 = int(np.searchsorted(t, t1 + pad, side="right"))
    # keep one sample beyond each end so a nearest lookup at the edges sees the true neighbour
    return data.isel(time=slice(max(i0 - 1, 0), min(i1 + 1, t.size)))


def bind_overlay(spec: Any, timeline: Any, geometry: PanelGeometry, atlas: GlyphAtlas) -> Any:
    """The drawer of one overlay spec on one panel, with all per-frame lookups precomputed.

    Raises
    ------
    CalibrationError
        World-frame data on a video without calibration (or pixel data on the arena view).

    Examples
    --------
    >>> drawer = bind_overlay(PositionOverlay(pos), timeline, geometry, GlyphAtlas(12))  # doctest: +SKIP
    >>> drawer.draw(frame, k)  # doctest: +SKIP
    """
    times = timeline.times
    t0, t1 = (float(times[0]), float(times[-1])) if len(times) else (0.0, 0.0)
    if isinstance(spec, PositionOverlay):
        return _PositionDrawer(spec, timeline, geometry, t0, t1)
    if isinstance(spec, PoseOverlay):
        return _PoseDrawer(spec, timeline, geometry, t0, t1)
    if isinstance(spec, HeadDirectionOverlay):
        return _HeadDirectionDrawer(spec, timeline, geometry, t0, t1)
    if isinstance(spec, FieldOverlay):
        return _FieldDrawer(spec, geometry)
    if isinstance(spec, EventOverlay):
        return _EventDrawer(spec, timeline, geometry, atlas)
    if isinstance(spec, TimestampOverlay):
        return _TimestampDrawer(spec, timeline, geometry, atlas)
    from nwbview.errors import NWBViewError

    raise NWBViewError(
        f"Unknown overlay {type(spec).__name__}: use PositionOverlay, PoseOverlay, HeadDirectionOverlay, "
        "FieldOverlay, EventOverlay or TimestampOverlay (TimeSeriesOverlay goes in timeseries=)."
    )


def xy_values(data: xr.DataArray, what: str) -> np.ndarray:
    """``(time, 2)`` x/y values of a ``(time, space)`` array."""
    da = data.transpose("time", "space", ...)
    if "space" in da.coords and {"x", "y"} <= set(np.asarray(da["space"].values).tolist()):
        da = da.sel(space=["x", "y"])
    else:
        da = da.isel(space=slice(0, 2))
    v = np.asarray(da.values, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != 2:
        from nwbview.errors import DataShapeError

        raise DataShapeError(f"{what} needs (time, space) data with x and y; got shape {v.shape}.")
    return v


class _PositionDrawer:
    """Current point + fading trail of a ``(time, space)`` stream."""

    N_LEVELS = 12

    def __init__(self, spec: PositionOverlay, timeline, geometry: PanelGeometry, t0: float, t1: float):
        data = _time_slice(spec.data, t0, t1, spec.trail_s + 1.0)
        coordinates = data_frame(spec.data, spec.coordinates)
        t = np.asarray(data["time"].values, dtype=np.float64)
        xy = xy_values(data, "PositionOverlay")
        self.pts = geometry.to_panel(xy, coordinates, "PositionOverlay data").astype(np.float64)
        self.t = t
        self.fin = np.all(np.isfinite(self.pts), axis=1)
        self.fx = fixed(np.where(self.fin[:, None], self.pts, 0.0))
        self.now = timeline.nearest(t)
        self.times = np.asarray(timeline.times, dtype=np.float64)
        self.trail = float(spec.trail_s)
        if self.trail > 0 and t.size:
            lo = np.searchsorted(t, self.times - self.trail, side="left")
            self.lo = lo.astype(np.int64)
        else:
            self.lo = None
        self.color = to_rgb(spec.color)
        self.radius = float(spec.radius)
        self.thickness = max(1, int(round(spec.thickness)))

    def data(self) -> dict[str, Any]:
        """What this drawer draws, as arrays (panel pixels, NaN at gaps; per timeline frame: the
        current sample ``now`` and the trail's first sample ``lo``), for the browser front-end."""
        return {"kind": "position", "t": self.t, "xy": unfixed(np.where(self.fin[:, None], self.fx, np.nan)), "now": self.now,
                "lo": self.lo, "trail_s": self.trail, "color": self.color, "radius": self.radius, "thickness": self.thickness}

    def draw(self, img: np.ndarray, k: int) -> None:
        i = int(self.now[k])
        if i < 0:
            return
        cv2 = _cv2()
        if self.lo is not None:
            lo = int(self.lo[k])
            if i - lo >= 1:
                self._trail(img, lo, i, float(self.times[k]))
        if self.fin[i]:
            c = tuple(int(v) for v in self.fx[i])
            cv2.circle(img, c, int(round(self.radius * _ONE)), self.color, -1, cv2.LINE_AA, SHIFT)
            cv2.circle(img, c, int(round(self.radius * _ONE)), (0, 0, 0), 1, cv2.LINE_AA, SHIFT)

    def _trail(self, img: np.ndarray, lo: int, hi: int, now: float) -> None:
        cv2 = _cv2()
        pts = self.pts[lo : hi + 1]
        fin = self.fin[lo : hi + 1]
        seg_ok = fin[:-1] & fin[1:]
        if not seg_ok.any():
            return
        both = pts[np.concatenate([seg_ok, [False]]) | np.concatenate([[False], seg_ok])]
        pad = self.thickness + 2
        H, W = img.shape[:2]
        x0 = max(int(np.floor(both[:, 0].min())) - pad, 0)
        y0 = max(int(np.floor(both[:, 1].min())) - pad, 0)
        x1 = min(int(np.ceil(both[:, 0].max())) + pad, W)
        y1 = min(int(np.ceil(both[:, 1].max())) + pad, H)
        if x1 <= x0 or y1 <= y0:
            return
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        fx = fixed(np.where(fin[:, None], pts - [x0, y0], 0.0))
        # opacity by the age of each segment's newer end: 1 now, 0 at trail_s ago
        age = now - self.t[lo + 1 : hi + 1]
        alpha = np.clip(1.0 - age / self.trail, 0.0, 1.0)
        level = np.ceil(alpha * self.N_LEVELS).astype(np.int64)
        idx = np.flatnonzero(seg_ok & (level > 0))
        if idx.size == 0:
            return
        # oldest level first, newer segments on top; in a level, in time order (a stable sort:
        # times are sorted, so the levels already are and this costs nothing)
        idx = idx[np.argsort(level[idx], kind="stable")]
        lev = level[idx]
        segs = np.stack([fx[idx], fx[idx + 1]], axis=1)  # (segment, end, xy)
        cuts = np.concatenate([[0], np.flatnonzero(lev[1:] != lev[:-1]) + 1, [idx.size]])
        for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
            value = int(round(255 * int(lev[a]) / self.N_LEVELS))
            cv2.polylines(mask, list(segs[a:b]), False, value, self.thickness, cv2.LINE_AA, SHIFT)
        ys, xs = np.nonzero(mask)
        if ys.size == 0:
            return
        roi = img[y0:y1, x0:x1]
        roi[ys, xs] = mix(roi[ys, xs], mask[ys, xs], self.color)


class _PoseDrawer:
    """Keypoints (coloured by name) and skeleton edges at the nearest pose sample."""

    def __init__(self, spec: PoseOverlay, timeline, geometry: PanelGeometry, t0: float, t1: float):
        ds = _time_slice(spec.data, t0, t1, 1.0)
        coordinates = data_frame(spec.data, spec.coordinates)
        xy, c, names, inds = pose_keypoints(ds, spec.individuals)  # (time, ind, kp, 2), (time, ind, kp)
        n_ind, n_kp = len(inds), len(names)
        pts = geometry.to_panel(xy, coordinates, "PoseOverlay data")
        shown = ~(c < float(spec.confidence_threshold))  # NaN confidence: shown
        fin = np.all(np.isfinite(pts), axis=-1)
        self.visible = shown & fin  # (time, ind, kp)
        self.fx = fixed(np.where(fin[..., None], pts, 0.0))  # (time, ind, kp, 2)
        self.now = timeline.nearest(np.asarray(ds["time"].values, dtype=np.float64))
        colors = dict(spec.colors or {})
        self.kp_colors = [to_rgb(colors.get(n, PALETTE[j % len(PALETTE)])) for j, n in enumerate(names)]
        edges = spec.edges if spec.edges is not None else spec.data.attrs.get("skeleton_edges", []) or []
        pos_of = {n: j for j, n in enumerate(names)}
        self.edges = [(pos_of[str(a)], pos_of[str(b)]) for a, b in edges if str(a) in pos_of and str(b) in pos_of]
        self.edge_color = to_rgb(spec.edge_color)
        self.radius = int(round(float(spec.radius) * _ONE))
        self.thickness = max(1, int(round(spec.thickness)))
        self.n_ind, self.n_kp = n_ind, n_kp
        self.names = names

    def data(self) -> dict[str, Any]:
        """Keypoints ``(sample, individual, keypoint, 2)`` in panel pixels, NaN where hidden, the
        sample shown per timeline frame (``now``), colours and edges, for the browser front-end."""
        return {"kind": "pose", "xy": unfixed(np.where(self.visible[..., None], self.fx, np.nan)), "now": self.now, "names": self.names,
                "colors": self.kp_colors, "edges": self.edges, "edge_color": self.edge_color, "radius": self.radius / _ONE,
                "thickness": self.thickness}

    def draw(self, img: np.ndarray, k: int) -> None:
        i = int(self.now[k])
        if i < 0:
            return
        cv2 = _cv2()
        vis = self.visible[i]
        fx = self.fx[i]
        for a in range(self.n_ind):
            lines = [np.stack([fx[a, p], fx[a, q]]) for p, q in self.edges if vis[a, p] and vis[a, q]]
            if lines:
                cv2.polylines(img, lines, False, self.edge_color, self.thickness, cv2.LINE_AA, SHIFT)
            for j in range(self.n_kp):
                if vis[a, j]:
                    c = (int(fx[a, j, 0]), int(fx[a, j, 1]))
                    cv2.circle(img, c, self.radius, self.kp_colors[j], -1, cv2.LINE_AA, SHIFT)


class _HeadDirectionDrawer:
    """An arrow from the position along the head direction (world frame)."""

    def __init__(self, spec: HeadDirectionOverlay, timeline, geometry: PanelGeometry, t0: float, t1: float):
        hd = _time_slice(spec.data, t0, t1, 1.0)
        pos = _time_slice(spec.position, t0, t1, 1.0)
        ih = timeline.nearest(np.asarray(hd["time"].values, dtype=np.float64))
        ip = timeline.nearest(np.asarray(pos["time"].values, dtype=np.float64))
        ang = np.asarray(hd.values, dtype=np.float64).reshape(-1)
        xy = xy_values(pos, "HeadDirectionOverlay.position")
        coordinates = data_frame(spec.position, spec.coordinates)
        ok = (ih >= 0) & (ip >= 0)
        a = np.where(ok, ang[np.clip(ih, 0, None)] if ang.size else np.nan, np.nan)
        anchor = np.where(ok[:, None], xy[np.clip(ip, 0, None)] if xy.size else np.nan, np.nan)
        world = geometry.to_world(anchor, coordinates, "HeadDirectionOverlay.position (in world coordinates)")
        tip = world + float(spec.length) * np.stack([np.cos(a), np.sin(a)], axis=1)
        p0 = geometry.to_panel(world, "world", "HeadDirectionOverlay")
        p1 = geometry.to_panel(tip, "world", "HeadDirectionOverlay")
        self.ok = np.all(np.isfinite(p0), axis=1) & np.all(np.isfinite(p1), axis=1)
        self.p0 = fixed(np.where(self.ok[:, None], p0, 0.0))
        self.p1 = fixed(np.where(self.ok[:, None], p1, 0.0))
        self.color = to_rgb(spec.color)
        self.thickness = max(1, int(round(spec.thickness)))

    def data(self) -> dict[str, Any]:
        """The arrow's tail and tip per timeline frame (panel pixels, NaN where none), for the browser front-end."""
        ok = self.ok[:, None]
        return {"kind": "head_direction", "p0": unfixed(np.where(ok, self.p0, np.nan)), "p1": unfixed(np.where(ok, self.p1, np.nan)),
                "color": self.color, "thickness": self.thickness}

    def draw(self, img: np.ndarray, k: int) -> None:
        if not self.ok[k]:
            return
        cv2 = _cv2()
        cv2.arrowedLine(img, tuple(int(v) for v in self.p0[k]), tuple(int(v) for v in self.p1[k]), self.color, self.thickness, cv2.LINE_AA, SHIFT, 0.3)


class _FieldDrawer:
    """A static world-frame map, resampled once onto the panel's pixels, blended each frame."""

    def __init__(self, spec: FieldOverlay, geometry: PanelGeometry):
        import matplotlib

        da = spec.data.transpose("y", "x")
        xs = np.asarray(da["x"].values, dtype=np.float64)
        ys = np.asarray(da["y"].values, dtype=np.float64)
        vals = np.asarray(da.values, dtype=np.float64)
        if xs.size < 1 or ys.size < 1:
            self.rgb = None
            return
        if xs.size > 1 and xs[1] < xs[0]:
            xs, vals = xs[::-1], vals[:, ::-1]
        if ys.size > 1 and ys[1] < ys[0]:
            ys, vals = ys[::-1], vals[::-1]
        W, H = geometry.size
        gx, gy = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
        world = geometry.panel_to_world(np.stack([gx, gy], axis=-1), "FieldOverlay (a world-frame map)")
        ix = _bin_index(xs, world[..., 0])
        iy = _bin_index(ys, world[..., 1])
        valid = (ix >= 0) & (iy >= 0)
        v = np.full((H, W), np.nan)
        v[valid] = vals[iy[valid], ix[valid]]
        valid &= np.isfinite(v)
        if not valid.any():
            self.rgb = None
            return
        finite = vals[np.isfinite(vals)]
        lo = float(spec.vmin) if spec.vmin is not None else float(finite.min())
        hi = float(spec.vmax) if spec.vmax is not None else float(finite.max())
        if not hi > lo:
            hi = lo + 1.0
        cmap = matplotlib.colormaps[spec.cmap]
        lut = (cmap(np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8)
        code = np.clip(((v - lo) / (hi - lo) * 255).round(), 0, 255)
        rows, cols = np.nonzero(valid)
        self.box = (int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1)
        r0, r1, c0, c1 = self.box
        sub = valid[r0:r1, c0:c1]
        self.rgb = lut[np.where(sub, code[r0:r1, c0:c1], 0).astype(np.uint8)]
        self.mask = None if sub.all() else sub
        self.alpha = float(spec.alpha)

    def data(self) -> dict[str, Any]:
        """The map as RGBA over its box ``(row0, row1, col0, col1)`` of the panel, for the browser front-end."""
        if self.rgb is None:
            return {"kind": "field", "rgba": None}
        a = np.full(self.rgb.shape[:2], round(255 * self.alpha), np.uint8)
        if self.mask is not None:
            a[~self.mask] = 0
        return {"kind": "field", "rgba": np.dstack([self.rgb, a]), "box": self.box}

    def draw(self, img: np.ndarray, k: int) -> None:
        if self.rgb is None:
            return
        cv2 = _cv2()
        r0, r1, c0, c1 = self.box
        roi = img[r0:r1, c0:c1]
        mixed = cv2.addWeighted(roi, 1.0 - self.alpha, self.rgb, self.alpha, 0.0)
        if self.mask is None:
            roi[:] = mixed
        else:
            np.copyto(roi, mixed, where=self.mask[..., None])


def _bin_index(centres: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Index of the bin (given by its centre) holding each value; -1 outside."""
    if centres.size == 1:
        return np.where(np.isfinite(v), 0, -1)
    edges = np.concatenate([[centres[0] - (centres[1] - centres[0]) / 2], (centres[1:] + centres[:-1]) / 2, [centres[-1] + (centres[-1] - centres[-2]) / 2]])
    i = np.searchsorted(edges, v, side="right") - 1
    return np.where((i >= 0) & (i < centres.size) & np.isfinite(v), i, -1)


class _EventDrawer:
    """A marker and a label while an interval is active."""

    def __init__(self, spec: EventOverlay, timeline, geometry: PanelGeometry, atlas: GlyphAtlas):
        starts, stops, labels = spec.table()
        t = np.asarray(timeline.times, dtype=np.float64)
        order = np.argsort(starts, kind="stable")
        starts, stops = starts[order], stops[order]
        labels = [labels[i] for i in order]
        # active: some interval with start <= t < stop; label of the latest started active one
        n_started = np.searchsorted(starts, t, side="right")
        n_stopped = np.searchsorted(np.sort(stops), t, side="right")
        active = (n_started - n_stopped) > 0
        last = n_started - 1
        label_idx = np.full(t.size, -1, np.int64)
        own = (last >= 0) & active
        ok = np.zeros(t.size, bool)
        ok[own] = t[own] < stops[last[own]]
        label_idx[own & ok] = last[own & ok]
        self.active = active
        self.label_idx = label_idx
        self.labels = labels
        self.default = spec.label or (labels[0] if labels else "event")
        self.color = to_rgb(spec.color)
        self.geometry_size = geometry.size
        self.corner = spec.corner
        self.atlas = atlas

    def data(self) -> dict[str, Any]:
        """Per timeline frame: whether an interval is active and the index of its label, for the browser front-end."""
        return {"kind": "events", "active": self.active, "label": self.label_idx, "labels": self.labels, "default": self.default,
                "color": self.color, "corner": self.corner, "font_px": self.atlas.height}

    def draw(self, img: np.ndarray, k: int) -> None:
        if not self.active[k]:
            return
        cv2 = _cv2()
        j = int(self.label_idx[k])
        text = self.labels[j] if j >= 0 else self.default
        h = self.atlas.height
        x, y, anchor = _corner_xy(self.corner, (img.shape[1], img.shape[0]), 8)
        r = h // 2
        if anchor[0] == "l":
            cx, tx = x + r, x + 2 * r + 6
        else:
            tw = self.atlas.size(text)[0]
            cx, tx = x - r, x - 2 * r - 6 - tw
        cy = y + r if anchor[1] == "t" else y - r
        cv2.circle(img, (int(cx), int(cy)), r, self.color, -1, cv2.LINE_AA)
        self.atlas.draw(img, text, tx, cy, (255, 255, 255), anchor="lm", halo=True)


class _TimestampDrawer:
    """The current time as text."""

    def __init__(self, spec: TimestampOverlay, timeline, geometry: PanelGeometry, atlas: GlyphAtlas):
        self.times = np.asarray(timeline.times, dtype=np.float64)
        self.fmt = spec.fmt
        self.corner = spec.corner
        self.color = to_rgb(spec.color)
        self.atlas = atlas

    def data(self) -> dict[str, Any]:
        """The time text's format (fields ``t`` and ``frame``), corner and colour, for the browser front-end."""
        return {"kind": "time", "fmt": self.fmt, "corner": self.corner, "color": self.color, "font_px": self.atlas.height}

    def draw(self, img: np.ndarray, k: int) -> None:
        text = self.fmt.format(t=float(self.times[k]), frame=k)
        x, y, anchor = _corner_xy(self.corner, (img.shape[1], img.shape[0]), 8)
        self.atlas.draw(img, text, x, y, self.color, anchor=anchor, halo=True)
