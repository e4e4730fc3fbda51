"""The time-series column: scrolling signals beside the video, one row per group.

What changes from frame to frame is drawn with OpenCV; what does not is drawn once with
matplotlib:

- *static* (matplotlib, once): axes, spines, y ticks and labels (the y-limits are global,
  computed once over the exported range), x ticks in seconds *relative to the current time*
  (the window is centred on the cursor, so they never move), legends.
- *per frame* (OpenCV, antialiased): every sample of each trace inside its window (no
  decimation; NaN gaps split the line), the cursor, the value readout.

Everything per frame is precomputed: window ``[start, stop)`` indices with
``Timeline.windows``, trace y in pixels, x in pixels up to a per-frame shift, the runs of
finite samples, and the readout values (``Timeline.sample``). A frame costs one copy of the
background plus one ``cv2.polylines`` per trace.

Examples
--------
>>> col = Column([TimeSeriesOverlay(lfp, label="LFP")], timeline, (360, 480))  # doctest: +SKIP
>>> col.draw(canvas[:, 640:], k)  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

if TYPE_CHECKING:  # xarray is imported where it is used: export workers never load it
    import xarray as xr

from nwbview.errors import NWBViewWarning
from nwbview.render.draw import PALETTE, SHIFT, GlyphAtlas, to_rgb
from nwbview.render.overlays import TimeSeriesOverlay

__all__ = ["Column", "draw_background", "group_rows", "y_limits"]

_ONE = 1 << SHIFT
_DPI = 100


def group_rows(specs: Sequence[TimeSeriesOverlay]) -> list[tuple[dict, list[TimeSeriesOverlay]]]:
    """Group overlays into rows: ``[(settings, [overlays])]`` in order of first appearance.

    Overlays with the same ``group`` share a row; the row's settings (window, normalize, vmin,
    vmax) are the first overlay's. A later overlay that disagrees triggers an
    :class:`~nwbview.errors.NWBViewWarning`.

    Examples
    --------
    >>> import xarray as xr, numpy as np
    >>> a = xr.DataArray(np.zeros(3), dims="time", coords={"time": [0, 1, 2]})
    >>> rows = group_rows([TimeSeriesOverlay(a, group="g"), TimeSeriesOverlay(a, group="g"), TimeSeriesOverlay(a)])
    >>> [len(r[1]) for r in rows]
    [2, 1]
    """
    rows: list[tuple[dict, list[TimeSeriesOverlay]]] = []
    by_group: dict[str, int] = {}
    for spec in specs:
        if not spec.visible:
            continue
        if spec.group is None:
            rows.append((spec.row_settings, [spec]))
            continue
        if spec.group in by_group:
            settings, members = rows[by_group[spec.group]]
            mine = spec.row_settings
            diff = [k for k in settings if not _same(settings[k], mine[k])]
            if diff:
                warnings.warn(
                    f"TimeSeriesOverlay {spec.label!r} in group {spec.group!r} sets "
                    + ", ".join(f"{k}={mine[k]!r}" for k in diff)
                    + f" but the group's first overlay {members[0].label!r} set "
                    + ", ".join(f"{k}={settings[k]!r}" for k in diff)
                    + ": one axis has one setting, the first overlay's is used. Give the overlays "
                    "the same settings or different groups.",
                    NWBViewWarning,
                    stacklevel=3,
                )
            members.append(spec)
        else:
            by_group[spec.group] = len(rows)
            rows.append((spec.row_settings, [spec]))
    return rows


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return bool(np.isclose(float(a), float(b))) if isinstance(a, (int, float)) and not isinstance(a, bool) else a == b


def y_limits(values: Sequence[np.ndarray], vmin: float | None = None, vmax: float | None = None, pad: float = 0.06) -> tuple[float, float]:
    """Stable y-limits over several traces: finite min/max (NaN ignored), padded; fixed ends kept.

    Examples
    --------
    >>> y_limits([np.array([0.0, np.nan, 10.0])])
    (-0.6, 10.6)
    >>> y_limits([np.array([np.nan])])  # nothing finite: the unit range, padded like any other
    (-0.06, 1.06)
    >>> y_limits([np.array([0.0, 10.0])], vmin=0)
    (0, 10.6)
    """
    finite = [v[np.isfinite(v)] for v in values]
    finite = [f for f in finite if f.size]
    if finite:
        lo = float(min(f.min() for f in finite))
        hi = float(max(f.max() for f in finite))
    else:
        lo, hi = 0.0, 1.0
    if hi <= lo:
        d = abs(lo) * 0.5 or 0.5
        lo, hi = lo - d, hi + d
    span = hi - lo
    lo2 = vmin if vmin is not None else round(lo - pad * span, 12)
    hi2 = vmax if vmax is not None else round(hi + pad * span, 12)
    if not hi2 > lo2:
        hi2 = lo2 + (span or 1.0)
    return lo2, hi2


@dataclass
class _Trace:
    label: str
    units: str
    color: tuple[int, int, int]
    thickness: int
    t: np.ndarray  # sample times (float64)
    y: np.ndarray  # y in axes pixels (float32; NaN at gaps)
    value: np.ndarray  # the values drawn, in the row's y units (normalized when the row is)
    win: np.ndarray  # (n_frames, 2) sample window per frame
    run_starts: np.ndarray  # runs of finite samples [start, stop)
    run_stops: np.ndarray
    readout: np.ndarray  # value at the cursor per frame (raw units)
    fmt: str


@dataclass
class _Row:
    rect: tuple[int, int, int, int]  # x, y, w, h of the axes in column pixels
    window: float
    traces: list[_Trace] = field(default_factory=list)
    limits: tuple[float, float] = (0.0, 1.0)  # the stable y-limits (y_limits)
    label: str = ""  # the y-axis label (group_ylabel)


class _DrawnOnUse:
    """A column background drawn by :func:`draw_background` when first asked for (``result()``)."""

    def __init__(self, spec: dict):
        self.spec = spec

    def result(self) -> np.ndarray:
        return draw_background(self.spec)


class Column:
    """The bound time-series column: a static background and per-frame traces.

    Parameters
    ----------
    specs : sequence of TimeSeriesOverlay
        The signals; grouped into rows by ``group``.
    timeline : Timeline
        The frames to draw.
    size : (int, int)
        ``(width, height)`` of the column in output pixels.
    atlas : GlyphAtlas, optional
        Glyphs for the readout text (made to fit the size if not given).

    Attributes
    ----------
    background : numpy.ndarray
        ``(height, width, 3)`` uint8, rendered once with matplotlib.
    rows : list
        Per row: the axes rectangle (pixels), the window and the traces.

    Examples
    --------
    >>> col = Column([TimeSeriesOverlay(speed)], timeline, (320, 720))  # doctest: +SKIP
    >>> img = col.background.copy(); col.draw(img, 0)  # doctest: +SKIP
    """

    def __init__(self, specs: Sequence[TimeSeriesOverlay], timeline: Any, size: tuple[int, int], atlas: GlyphAtlas | None = None,
                 draw: Callable[[dict], Any] | None = None):
        self.size = (int(size[0]), int(size[1]))
        W, H = self.size
        groups = group_rows(specs)
        self.times = np.asarray(timeline.times, dtype=np.float64)
        n_rows = len(groups)
        self.rows: list[_Row] = []
        if n_rows == 0:
            self.background = np.full((H, W, 3), 255, np.uint8)
            return
        import xarray as xr

        fs = float(np.clip(H / n_rows / 26.0, 7.0, 10.0))  # font size in pt (= px at 72 dpi)
        self.atlas = atlas or GlyphAtlas(max(8.0, fs * 1.05))
        left, right = int(round(fs * 6.8)), int(round(fs * 1.2))
        top, bottom = int(round(fs * 1.2)), int(round(fs * 4.2))
        gap = int(round(fs * 3.6))
        avail = H - top - bottom - gap * (n_rows - 1)
        row_h = max(int(avail // n_rows), 10)
        t_lo = float(self.times.min()) if self.times.size else 0.0
        t_hi = float(self.times.max()) if self.times.size else 0.0
        color_i = 0
        for r, (settings, members) in enumerate(groups):
            y0 = top + r * (row_h + gap)
            aw = max(W - left - right, 11)
            rect = (left, y0, aw - 1 + aw % 2, row_h)  # odd width: "now" falls on a pixel centre
            w = settings["window_s"]
            row = _Row(rect=rect, window=w)
            loaded = []
            for spec in members:
                t, v = _load(spec.data, t_lo - w / 2 - 1.0, t_hi + w / 2 + 1.0)
                loaded.append((spec, t, v))
            # global, stable limits over what the export shows
            shown = [v[(t >= t_lo - w / 2) & (t <= t_hi + w / 2)] for _, t, v in loaded]
            if settings["normalize"]:
                norm = []
                for (spec, t, v), s in zip(loaded, shown):
                    a, b = y_limits([s], pad=0.0)
                    norm.append((a, b))
                lo, hi = y_limits([np.array([0.0, 1.0])], settings["vmin"], settings["vmax"])
            else:
                norm = [None] * len(loaded)
                lo, hi = y_limits(shown, settings["vmin"], settings["vmax"])
            row.limits, row.label = (float(lo), float(hi)), group_ylabel(settings, members)
            for (spec, t, v), nm in zip(loaded, norm):
                color = to_rgb(spec.color) if spec.color is not None else PALETTE[color_i % len(PALETTE)]
                color_i += 1
                vv = v if nm is None else (v - nm[0]) / ((nm[1] - nm[0]) or 1.0)
                y = (hi - vv) * (rect[3] / (hi - lo))
                fin = np.isfinite(y)
                edges = np.diff(np.concatenate([[0], fin.astype(np.int8), [0]]))
                da = xr.DataArray(v, dims=("time",), coords={"time": t})
                readout = timeline.sample(da, method=spec.interp).values if t.size else np.full(self.times.size, np.nan)
                row.traces.append(
                    _Trace(
                        label=str(spec.label),
                        units=str(spec.units or ""),
                        color=color,
                        thickness=max(1, int(round(spec.thickness))),
                        t=t,
                        y=y.astype(np.float32),
                        value=np.asarray(vv, dtype=np.float32),
                        win=timeline.windows(t, w) if t.size else np.zeros((self.times.size, 2), np.int64),
                        run_starts=np.flatnonzero(edges == 1),
                        run_stops=np.flatnonzero(edges == -1),
                        readout=np.asarray(readout, dtype=np.float64),
                        fmt=_value_format(np.concatenate(shown) if shown else np.empty(0)),
                    )
                )
            self.rows.append(row)
        #: what :func:`draw_background` needs to draw the static part
        self.background_spec = {"size": self.size, "fs": fs, "rows": [(row.rect, row.window, row.limits, row.label) for row in self.rows]}
        # drawn on first use when no ``draw`` is given: the browser's scene never uses it
        self.background = draw(self.background_spec) if draw is not None else _DrawnOnUse(self.background_spec)

    @property
    def background(self) -> np.ndarray:
        """The static part, ``(height, width, 3)`` uint8 (waited for when another process draws it)."""
        bg = self._background
        if not isinstance(bg, np.ndarray):  # drawn elsewhere (:class:`~nwbview.render.workers.WorkerPool`)
            bg = self._background = bg.result()
        return bg

    @background.setter
    def background(self, value: Any) -> None:
        self._background = value

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_background"] = self.background
        return state

    def restrict(self, k0: int, k1: int) -> "Column":
        """A copy holding only the samples frames ``[k0, k1)`` draw (what one export worker needs).

        Frames outside ``[k0, k1)`` must not be drawn with the copy.

        Examples
        --------
        >>> part = col.restrict(0, 240)  # doctest: +SKIP
        """
        import copy
        from dataclasses import replace

        new = copy.copy(self)
        new.rows = []
        for row in self.rows:
            traces = []
            for tr in row.traces:
                w = tr.win[k0:k1]
                a = int(w[:, 0].min()) if w.size else 0
                b = max(a, int(w[:, 1].max()) if w.size else 0)
                keep = (tr.run_stops > a) & (tr.run_starts < b)
                traces.append(
                    replace(
                        tr,
                        t=tr.t[a:b].copy(),
                        y=tr.y[a:b].copy(),
                        value=tr.value[a:b].copy(),
                        win=np.clip(tr.win - a, 0, b - a),
                        run_starts=np.clip(tr.run_starts[keep], a, b) - a,
                        run_stops=np.clip(tr.run_stops[keep], a, b) - a,
                    )
                )
            new.rows.append(replace(row, traces=traces))
        return new

    def data(self) -> list[dict[str, Any]]:
        """The rows as data, for front-ends that draw the column themselves (the browser).

        Per row: ``window_s``, the stable ``limits`` (:func:`y_limits`), the y ``label``; per
        trace: ``label``, ``units``, ``color``, ``thickness``, the samples ``t`` and ``value`` of
        the bound range (NaN at gaps, normalized when the row is), the ``readout`` at each timeline
        frame (raw units) and its format ``fmt``.

        Examples
        --------
        >>> [row["limits"] for row in col.data()]  # doctest: +SKIP
        [(-0.6, 10.6)]
        """
        return [
            {"window_s": row.window, "limits": row.limits, "label": row.label,
             "traces": [{"label": tr.label, "units": tr.units, "color": tr.color, "thickness": tr.thickness, "t": tr.t,
                         "value": tr.value, "readout": tr.readout, "fmt": tr.fmt} for tr in row.traces]}
            for row in self.rows
        ]  # fmt: skip

    # -- per frame -----------------------------------------------------------------------
    def draw(self, img: np.ndarray, k: int) -> None:
        """Draw frame ``k`` into ``img`` (the column's ``(height, width, 3)`` region)."""
        import cv2

        img[:] = self.background
        t_now = float(self.times[k])
        for row in self.rows:
            x0, y0, w, h = row.rect
            ax = img[y0 : y0 + h, x0 : x0 + w]
            # cursor: the current time is the centre of the window (under the traces)
            cx = int(round((w / 2 - 0.5) * _ONE))
            cv2.line(ax, (cx, 0), (cx, (h - 1) * _ONE), (40, 40, 40), 1, cv2.LINE_AA, SHIFT)
            for tr in row.traces:
                lo, hi = (int(v) for v in tr.win[k])
                if hi > lo:
                    px_per_s = w / row.window
                    t_left = t_now - row.window / 2
                    r0 = int(np.searchsorted(tr.run_stops, lo, side="right"))
                    r1 = int(np.searchsorted(tr.run_starts, hi, side="left"))
                    lines = []
                    dots = []
                    for a, b in zip(tr.run_starts[r0:r1], tr.run_stops[r0:r1]):
                        a, b = max(int(a), lo), min(int(b), hi)
                        if b - a >= 2:
                            p = np.empty((b - a, 2), np.float64)
                            p[:, 0] = (tr.t[a:b] - t_left) * px_per_s
                            p[:, 1] = tr.y[a:b]
                            lines.append(np.rint((p - 0.5) * _ONE).astype(np.int32))
                        elif b - a == 1:
                            dots.append((int(round(((tr.t[a] - t_left) * px_per_s - 0.5) * _ONE)), int(round((float(tr.y[a]) - 0.5) * _ONE))))
                    if lines:
                        cv2.polylines(ax, lines, False, tr.color, tr.thickness, cv2.LINE_AA, SHIFT)
                    for d in dots:
                        cv2.circle(ax, d, max(_ONE, tr.thickness * _ONE), tr.color, -1, cv2.LINE_AA, SHIFT)
            # readouts, one line per trace, top-left inside the axes
            ty = 2
            for tr in row.traces:
                v = tr.readout[k]
                text = f"{tr.label} {tr.fmt.format(v) if np.isfinite(v) else '--'.rjust(len(tr.fmt.format(0.0)))} {tr.units}".rstrip()
                tw = self.atlas.size(text)[0]
                box = ax[ty : ty + self.atlas.height, 2 : 6 + tw]
                box >>= 2  # a light box (75% white) behind the readout: box // 4 + 191
                box += 191
                self.atlas.draw(ax, text, 4, ty, tr.color, anchor="lt")
                ty += self.atlas.height + 1


def _value_format(v: np.ndarray) -> str:
    f = v[np.isfinite(v)]
    if f.size == 0:
        return "{:.3g}"
    m = float(np.max(np.abs(f)))
    if m >= 1e5 or (0 < m < 1e-3):
        return "{:.3e}"
    digits = max(0, 3 - int(np.floor(np.log10(m))) - 1) if m > 0 else 2
    return "{:" + f"{7 + digits}.{min(digits, 4)}f" + "}"


def _load(data: xr.DataArray, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """Times and values of a (possibly lazy) series over ``[t0, t1]``; reads only that range."""
    t = np.asarray(data["time"].values, dtype=np.float64)
    i0 = int(np.searchsorted(t, t0, side="left"))
    i1 = int(np.searchsorted(t, t1, side="right"))
    part = data.isel(time=slice(i0, i1))
    v = np.asarray(part.values, dtype=np.float64).reshape(i1 - i0) if i1 > i0 else np.empty(0)
    return t[i0:i1].copy(), v


def draw_background(spec: dict) -> np.ndarray:
    """The static part of the column from its spec, rendered with matplotlib (Agg, no pyplot).

    ``spec`` holds the column's ``size`` (width, height), the font size ``fs`` (pt) and, per
    row, ``(rect, window, limits, label)``: the axes rectangle in column pixels, the window in
    seconds, the y-limits and the y label. A spec is small and picklable: an idle export worker
    can draw it while the parent loads the rest of the session.

    Examples
    --------
    >>> img = draw_background({"size": (320, 240), "fs": 9.0, "rows": [((61, 11, 249, 180), 2.0, (0.0, 1.0), "speed (cm/s)")]})
    >>> img.shape, img.dtype.name
    ((240, 320, 3), 'uint8')
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    W, H = spec["size"]
    fs = spec["fs"]
    rows = spec["rows"]
    fig = Figure(figsize=(W / 72.0, H / 72.0), dpi=72, facecolor="white")
    FigureCanvasAgg(fig)
    for r, ((x0, y0, w, h), window, (lo, hi), label) in enumerate(rows):
        ax = fig.add_axes((x0 / W, 1.0 - (y0 + h) / H, w / W, h / H))
        half = window / 2
        ax.set_xlim(-half, half)
        ax.set_ylim(lo, hi)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, symmetric=True))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.tick_params(labelsize=fs * 0.9, length=3, pad=2)
        ax.grid(True, color="0.9", linewidth=0.6)
        ax.set_ylabel(label, fontsize=fs)
        if r == len(rows) - 1:
            ax.set_xlabel("time from now (s)", fontsize=fs)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.canvas.draw()
    buf = np.asarray(fig.canvas.buffer_rgba())
    import cv2

    return cv2.cvtColor(buf, cv2.COLOR_RGBA2RGB)


def group_ylabel(settings: dict, members: list) -> str:
    """The y-axis label of a group of time series (shared by the export column and the napari dock)."""
    if settings["normalize"]:
        return "normalized"
    label = ", ".join(dict.fromkeys(m.label for m in members)) if len(members) <= 2 else f"{len(members)} signals"
    units = {m.units for m in members if m.units}
    if len(units) == 1:
        label += f" ({next(iter(units))})"
    return label
