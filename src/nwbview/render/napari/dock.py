"""The time-series dock: scrolling signals around the current time, next to the video.

One matplotlib figure in Qt, made once. Each row is one axis (signals of the same
``TimeSeriesOverlay.group`` share a row; the row takes the settings of its first signal, with an
:class:`~nwbview.errors.NWBViewWarning` when later ones disagree, as in the export's column).
The x axis is time relative to now (``-window_s/2 .. +window_s/2``), so the axes, ticks, grid and
the cursor (at 0) are drawn once; a step only moves the traces' data, the value readouts and the
overview's window marker, which are blitted onto the cached background (only while the dock is
shown: a hidden tab redraws when it is shown again). The sample window of
each trace is precomputed per step (``Timeline.windows``), as are the readouts
(``Timeline.sample`` with the spec's ``interp``), so a step is O(1) in Python and draws every
sample of the window (no downsampling). Redraws are throttled to :attr:`TimeSeriesDock.MAX_FPS`.

A click in a row jumps to that time; a click in the overview strip (the whole session, with the
current window shaded) jumps there. A checkbox per signal shows or hides it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import xarray as xr
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import QCheckBox, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from nwbview.render.column import group_rows, group_ylabel, y_limits
from nwbview.render.draw import PALETTE, to_rgb
from nwbview.render.napari.host import SessionHost, SessionView, register_widget
from nwbview.render.napari.notifications import report_errors
from nwbview.render.overlays import TimeSeriesOverlay

__all__ = ["TimeSeriesDock", "timeseries_widget"]

#: bins of the overview strip's min/max envelope
OVERVIEW_BINS = 1500


@dataclass
class DockTrace:
    """One signal of the dock, bound to the timeline."""

    label: str
    units: str
    color: tuple[float, float, float]
    t: np.ndarray  # sample times (s)
    v: np.ndarray  # raw values
    y: np.ndarray  # plotted values (normalised when the row is)
    win: np.ndarray  # (n_steps, 2) [start, stop) sample window per step
    readout: np.ndarray  # value at the cursor per step (raw units)
    fmt: str
    row: int
    line: Any = None
    text: Any = None
    visible: bool = True


@dataclass
class DockRow:
    """One axis of the dock: its window (seconds), y-limits and signals."""

    ax: Any
    window_s: float
    limits: tuple[float, float]
    normalize: bool
    traces: list[DockTrace] = field(default_factory=list)


def _load(data: xr.DataArray, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """Times and values of a (possibly lazy) series over ``[t0, t1]``; reads only that range."""
    t = np.asarray(data["time"].values, dtype=np.float64)
    i0 = int(np.searchsorted(t, t0, side="left"))
    i1 = int(np.searchsorted(t, t1, side="right"))
    if i1 <= i0:
        return np.empty(0), np.empty(0)
    v = np.asarray(data.isel(time=slice(i0, i1)).values, dtype=np.float64).reshape(i1 - i0)
    return t[i0:i1].copy(), v


def _format(values: np.ndarray) -> str:
    f = values[np.isfinite(values)]
    if f.size == 0:
        return "{:.3g}"
    m = float(np.max(np.abs(f)))
    if m >= 1e5 or 0 < m < 1e-3:
        return "{:.3e}"
    digits = max(0, 3 - int(np.floor(np.log10(m))) - 1) if m > 0 else 2
    return "{:." + str(min(digits, 4)) + "f}"


def _envelope(t: np.ndarray, v: np.ndarray, t0: float, t1: float, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min/max of ``v`` in ``bins`` equal time bins over ``[t0, t1]`` (NaN where a bin is empty)."""
    edges = np.linspace(t0, t1, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    lo = np.full(bins, np.nan)
    hi = np.full(bins, np.nan)
    fin = np.isfinite(v) & (t >= t0) & (t <= t1)
    if fin.any():
        b = np.clip(((t[fin] - t0) / (t1 - t0) * bins).astype(np.int64), 0, bins - 1)
        vv = v[fin]
        np.fmin.at(lo, b, vv)
        np.fmax.at(hi, b, vv)
    return centres, lo, hi


class TimeSeriesDock(QWidget):
    """The dock: one row per group of :class:`TimeSeriesOverlay`, an overview strip, checkboxes.

    Parameters
    ----------
    specs : sequence of TimeSeriesOverlay
        The signals (invisible ones are left out).
    timeline : Timeline
        The viewer's steps.
    on_jump : callable, optional
        Called with a session time (seconds) when the user clicks a row or the overview.

    Attributes
    ----------
    rows : list of DockRow
    traces : list of DockTrace
    step : int
        The step last drawn.
    draws : int
        Number of redraws so far (the throttle keeps them at most ``MAX_FPS`` per second).

    Examples
    --------
    >>> dock = TimeSeriesDock([TimeSeriesOverlay(speed, group="kin")], timeline)  # doctest: +SKIP
    >>> dock.set_step(10); dock.flush()  # doctest: +SKIP
    """

    #: most redraws per second
    MAX_FPS = 40.0

    def __init__(self, specs: Sequence[TimeSeriesOverlay], timeline: Any, *, on_jump: Callable[[float], None] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.timeline = timeline
        self.times = np.asarray(timeline.times, dtype=np.float64)
        self.on_jump = on_jump
        self.rows: list[DockRow] = []
        self.traces: list[DockTrace] = []
        self.checkboxes: dict[str, QCheckBox] = {}
        self.step = 0
        self.requested: int | None = None
        self.draws = 0
        self._last_draw = -np.inf
        self._background = None
        self._stale = False  # steps passed while the dock was hidden
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        groups = group_rows([s for s in specs if s.visible])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.figure = Figure(figsize=(4.0, 1.5 * max(len(groups), 1) + 0.8), facecolor="white")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.canvas.setMinimumWidth(280)
        self.canvas.setMinimumHeight(int(110 * max(len(groups), 1) + 70))
        layout.addWidget(self.canvas, stretch=1)
        if not groups:
            layout.addWidget(QLabel("No time series to show."))
            self.ax_overview = None
            return
        self._build(groups)
        boxes = QWidget()
        grid = QGridLayout(boxes)
        grid.setContentsMargins(4, 0, 4, 0)
        for i, tr in enumerate(self.traces):
            cb = QCheckBox(tr.label)
            r, g, b = (int(round(255 * c)) for c in tr.color)
            cb.setStyleSheet(f"QCheckBox {{ color: rgb({r}, {g}, {b}); }}")
            cb.setChecked(True)
            cb.toggled.connect(lambda on, tr=tr: self.set_visible(tr.label, on))
            grid.addWidget(cb, i // 2, i % 2)
            self.checkboxes[tr.label] = cb
        layout.addWidget(boxes)
        self.canvas.mpl_connect("draw_event", self._on_draw)
        self.canvas.mpl_connect("button_press_event", self._on_click)

    # -- building -----------------------------------------------------------------------------
    def _build(self, groups: list) -> None:
        n = len(groups)
        times = self.times
        t_lo = float(times.min()) if times.size else 0.0
        t_hi = float(times.max()) if times.size else 0.0
        gs = self.figure.add_gridspec(n + 1, 1, height_ratios=[1.0] * n + [0.3], hspace=0.55,
                                      left=0.2, right=0.97, top=0.96, bottom=0.07)  # fmt: skip
        color_i = 0
        labels_seen: set[str] = set()
        for r, (settings, members) in enumerate(groups):
            w = float(settings["window_s"])
            ax = self.figure.add_subplot(gs[r, 0])
            loaded = [(spec, *_load(spec.data, t_lo - w / 2 - 1.0, t_hi + w / 2 + 1.0)) for spec in members]
            shown = [v[(t >= t_lo - w / 2) & (t <= t_hi + w / 2)] for _, t, v in loaded]
            if settings["normalize"]:
                norms = [y_limits([s], pad=0.0) for s in shown]
                lo, hi = y_limits([np.array([0.0, 1.0])], settings["vmin"], settings["vmax"])
            else:
                norms = [None] * len(loaded)
                lo, hi = y_limits(shown, settings["vmin"], settings["vmax"])
            row = DockRow(ax=ax, window_s=w, limits=(lo, hi), normalize=bool(settings["normalize"]))
            ax.set_xlim(-w / 2, w / 2)
            ax.set_ylim(lo, hi)
            ax.grid(True, color="0.9", linewidth=0.6)
            ax.tick_params(labelsize=7, length=3, pad=2)
            ax.axvline(0.0, color="0.25", linewidth=1.0, zorder=1)  # the cursor: now
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            ax.set_ylabel(group_ylabel(settings, members), fontsize=7)
            if r == n - 1:
                ax.set_xlabel("time from now (s)", fontsize=7)
            for j, ((spec, t, v), nm, s) in enumerate(zip(loaded, norms, shown)):
                rgb = to_rgb(spec.color) if spec.color is not None else PALETTE[color_i % len(PALETTE)]
                color_i += 1
                color = tuple(c / 255.0 for c in rgb)
                y = v if nm is None else (v - nm[0]) / ((nm[1] - nm[0]) or 1.0)
                da = xr.DataArray(v, dims=("time",), coords={"time": t})
                readout = self.timeline.sample(da, method=spec.interp).values if t.size else np.full(times.size, np.nan)
                win = self.timeline.windows(t, w) if t.size else np.zeros((times.size, 2), np.int64)
                label = _unique_label(str(spec.label), labels_seen)
                tr = DockTrace(label=label, units=str(spec.units or ""), color=color, t=t, v=v, y=np.asarray(y, np.float64),
                               win=win, readout=np.asarray(readout, np.float64), fmt=_format(np.concatenate(shown) if shown else v),
                               row=r)  # fmt: skip
                (tr.line,) = ax.plot([], [], color=color, linewidth=float(spec.thickness), animated=True, zorder=2)
                tr.text = self._label(rgb)
                row.traces.append(tr)
                self.traces.append(tr)
            self.rows.append(row)
        # the overview strip: the whole timeline, the first signal's envelope, the current window
        ax = self.figure.add_subplot(gs[n, 0])
        self.ax_overview = ax
        pad = 0.01 * max(t_hi - t_lo, 1e-3)
        ax.set_xlim(t_lo - pad, t_hi + pad)
        ax.set_yticks([])
        ax.tick_params(labelsize=6, length=2, pad=1)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        first = self.traces[0]
        if first.t.size:
            inside = int(np.count_nonzero((first.t >= t_lo - pad) & (first.t <= t_hi + pad)))
            bins = int(np.clip(inside // 2, 1, OVERVIEW_BINS))  # >= 2 samples a bin: empty bins are real gaps
            c, lo, hi = _envelope(first.t, first.y, t_lo - pad, t_hi + pad, bins)
            ax.fill_between(c, lo, hi, color=first.color, alpha=0.5, linewidth=0)
            fin = np.isfinite(lo) & np.isfinite(hi)
            if fin.any():
                a, b = float(np.min(lo[fin])), float(np.max(hi[fin]))
                ax.set_ylim(a - 0.05 * (b - a or 1), b + 0.05 * (b - a or 1))
        w0 = self.rows[0].window_s
        self.span = ax.axvspan(t_lo - w0 / 2, t_lo + w0 / 2, color="0.2", alpha=0.18, animated=True)
        self.now_line = ax.axvline(t_lo, color="0.1", linewidth=1.0, animated=True)
        self.time_text = self._label((20, 20, 20))
        ax.set_title(f"overview: {first.label}", fontsize=6, loc="left", pad=2)

    # -- per step ------------------------------------------------------------------------------
    @property
    def current_time(self) -> float:
        """Session time of the step last drawn (the cursor)."""
        return float(self.times[self.step]) if self.times.size else 0.0

    def set_step(self, k: int) -> None:
        """Show step ``k`` (now, or as soon as the throttle allows)."""
        self.requested = int(k)
        if not self.traces:
            self.step = int(k)
            return
        wait = 1.0 / self.MAX_FPS - (time.perf_counter() - self._last_draw)
        if wait <= 0:
            self.flush()
        elif not self._timer.isActive():
            self._timer.start(max(1, int(np.ceil(wait * 1000))))

    def flush(self) -> None:
        """Draw the requested step now."""
        if self._timer.isActive():
            self._timer.stop()
        if self.requested is None:
            return
        self.step = self.requested
        self.requested = None
        if not self.traces:
            return
        self._update_artists(self.step)
        self._last_draw = time.perf_counter()
        if not self.isVisible():  # a tab behind another, or a closed dock: drawn when shown again
            self._stale = True
            return
        self.draws += 1
        if self._background is None:
            self.canvas.draw()  # draw_event captures the background and draws the traces
            return
        self.canvas.restore_region(self._background)
        self._draw_animated()
        # a deferred repaint (not blit's immediate one): Qt paints the dock with the napari canvas
        # in one pass of the event loop instead of composing the whole window twice
        self.canvas.update()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            if self.requested is None:
                self.requested = self.step
            QTimer.singleShot(0, self.flush)

    def window_data(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """``(t - now, value)`` of a signal's trace as drawn at the current step."""
        tr = self._trace(label)
        x, y = tr.line.get_data()
        return np.asarray(x, np.float64), np.asarray(y, np.float64)

    def readout(self, label: str) -> float:
        """The value of a signal at the cursor (raw units) at the current step."""
        return float(self._trace(label).readout[self.step])

    def _trace(self, label: str) -> DockTrace:
        for tr in self.traces:
            if tr.label == label:
                return tr
        raise KeyError(f"No signal {label!r} in the dock; signals: {[t.label for t in self.traces]}.")

    def _update_artists(self, k: int) -> None:
        now = float(self.times[k])
        for tr in self.traces:
            lo, hi = (int(v) for v in tr.win[k])
            tr.line.set_data(tr.t[lo:hi] - now, tr.y[lo:hi])
            v = tr.readout[k]
            tr.text.setText(f"{tr.label} {tr.fmt.format(v) if np.isfinite(v) else '--'} {tr.units}".rstrip())
            tr.text.adjustSize()
        w = self.rows[0].window_s
        self.span.set_x(now - w / 2)
        self.span.set_width(w)
        self.now_line.set_xdata([now, now])
        self.time_text.setText(f"t = {now:.3f} s")
        self.time_text.adjustSize()
        self._place_time()

    def _animated(self) -> list:
        out = []
        for tr in self.traces:
            if tr.visible:
                out.append(tr.line)
        return out + [self.span, self.now_line]

    def _draw_animated(self) -> None:
        for artist in self._animated():
            self.figure.draw_artist(artist)

    def _on_draw(self, event: Any) -> None:
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._draw_animated()
        self._place_labels()

    def _label(self, rgb: Sequence[int]) -> QLabel:
        """A readout drawn by Qt over the figure (matplotlib's text layout costs ms a step)."""
        label = QLabel(self.canvas)
        r, g, b = (int(v) for v in rgb)
        label.setStyleSheet(
            f"QLabel {{ color: rgb({r}, {g}, {b}); background-color: rgba(255, 255, 255, 200); "
            "font-size: 10px; padding: 0px 2px; }"
        )
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        return label

    def _axes_rect(self, ax: Any) -> tuple[float, float, float, float]:
        """``(left, top, right, bottom)`` of an axes in the canvas' Qt coordinates."""
        ratio = float(getattr(self.canvas, "device_pixel_ratio", 1.0) or 1.0)
        height = self.figure.bbox.height
        bb = ax.bbox
        return bb.x0 / ratio, (height - bb.y1) / ratio, bb.x1 / ratio, (height - bb.y0) / ratio

    def _place_labels(self) -> None:
        for row in self.rows:
            left, top, _, _ = self._axes_rect(row.ax)
            y = top + 2
            for tr in row.traces:
                tr.text.move(int(left + 3), int(y))
                y += tr.text.sizeHint().height() + 1
        self._place_time()

    def _place_time(self) -> None:
        if self.ax_overview is None:
            return
        _, top, right, _ = self._axes_rect(self.ax_overview)
        self.time_text.move(int(right - self.time_text.width()), int(max(top - self.time_text.height() - 2, 0)))

    def set_visible(self, label: str, visible: bool) -> None:
        """Show or hide one signal (its trace and readout)."""
        tr = self._trace(label)
        tr.visible = bool(visible)
        tr.line.set_visible(tr.visible)
        tr.text.setVisible(tr.visible)
        cb = self.checkboxes.get(label)
        if cb is not None and cb.isChecked() != tr.visible:
            cb.setChecked(tr.visible)
        self.requested = self.step if self.requested is None else self.requested
        self.flush()

    # -- clicks --------------------------------------------------------------------------------
    def time_at(self, ax: Any, xdata: float) -> float | None:
        """Session time of a click at ``xdata`` in ``ax`` (a row: relative to now; the overview: absolute)."""
        if xdata is None or ax is None:
            return None
        if ax is self.ax_overview:
            return float(xdata)
        if any(ax is row.ax for row in self.rows):
            return self.current_time + float(xdata)
        return None

    def _on_click(self, event: Any) -> None:
        t = self.time_at(event.inaxes, event.xdata)
        if t is not None and self.on_jump is not None:
            report_errors(self.on_jump)(t)


def _unique_label(label: str, seen: set[str]) -> str:
    out, i = label, 2
    while out in seen:
        out = f"{label} ({i})"
        i += 1
    seen.add(out)
    return out


def timeseries_widget(napari_viewer: Any) -> QWidget:
    """The plugin's "Time series" widget: the dock of the session shown in ``napari_viewer``.

    Until a session is open in the viewer it says so, and it fills itself in when one is.
    """
    return SessionHost(napari_viewer, "dock")


def _dock_of(view: SessionView) -> TimeSeriesDock:
    return TimeSeriesDock(view.timeseries, view.timeline, on_jump=view.jump_to_time)


register_widget("dock", _dock_of)
