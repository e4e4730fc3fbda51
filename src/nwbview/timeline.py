"""Timeline: the frame times of an animation, and every stream aligned to them.

A renderer steps through ``timeline.times``. For each frame and stream it
needs either the nearest sample (an index, ``-1`` when the stream has no
sample near that time: never clamped, never extrapolated) or, for scrolling
plots, a ``[start, stop)`` window of samples. Both are computed once for all
frames with ``searchsorted``, so a renderer does O(1) work per frame.

A sample "covers" half a sampling period on each side: a frame time counts as
inside a stream when it lies within ``[t[0] - dt/2, t[-1] + dt/2]``, ``dt``
being the median sampling period.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import xarray as xr

from nwbview.errors import NWBViewError, NWBViewWarning
from nwbview.io.nwb import check_times

__all__ = ["Timeline", "stream_times"]


def stream_times(stream: Any) -> np.ndarray:
    """Sample times (seconds) of a stream: a DataArray/Dataset with ``time``, a reader, or an array."""
    if isinstance(stream, (xr.DataArray, xr.Dataset)):
        if "time" not in stream.coords:
            raise NWBViewError(f"Stream {getattr(stream, 'name', '')!r} has no 'time' coordinate to align.")
        return np.asarray(stream["time"].values, dtype=np.float64)
    times = getattr(stream, "times", None)
    if times is not None:
        return np.asarray(times, dtype=np.float64)
    return np.asarray(stream, dtype=np.float64)


def _half_period(t: np.ndarray) -> float:
    if t.size < 2:
        return 0.0
    return float(np.median(np.diff(t))) / 2.0


class Timeline:
    """Frame times on the session clock, and the alignment of streams to them.

    Build one with :meth:`from_video` (the video's own frames) or
    :meth:`regular` (an evenly spaced clock).

    Examples
    --------
    Step through a video's frames and find, for each, the nearest tracked
    position and a 2 s window of LFP:

    >>> tl = Timeline.from_video(session, start=10, stop=20)  # doctest: +SKIP
    >>> idx = tl.nearest(session.position())  # doctest: +SKIP
    >>> win = tl.windows(session.lfp(channels=[0]), 2.0)  # doctest: +SKIP
    """

    def __init__(self, times: np.ndarray, *, frames: np.ndarray | None = None, source: str = ""):
        times = check_times(np.asarray(times, dtype=np.float64), source or "the timeline")
        self.times = times
        #: for a video timeline, the video frame index of each timeline frame
        self.frames = None if frames is None else np.asarray(frames, dtype=np.int64)
        self.source = source

    def __len__(self) -> int:
        return int(self.times.size)

    def __repr__(self) -> str:
        if len(self) == 0:
            return f"<Timeline empty{' of ' + self.source if self.source else ''}>"
        return (
            f"<Timeline {len(self)} frames, {self.times[0]:.3f}..{self.times[-1]:.3f} s"
            f"{', ' + self.source if self.source else ''}>"
        )

    @property
    def fps(self) -> float:
        """Median frame rate."""
        if len(self) < 2:
            return float("nan")
        return float(1.0 / np.median(np.diff(self.times)))

    @classmethod
    def from_video(cls, session: Any, video: str | None = None, start: float | None = None, stop: float | None = None) -> "Timeline":
        """The frames of a video between ``start`` and ``stop`` (seconds, half-open).

        Frame ``k`` of the timeline is video frame ``timeline.frames[k]``.

        Examples
        --------
        >>> tl = Timeline.from_video(session, start=60, stop=90)  # doctest: +SKIP
        >>> tl.frames[0], tl.times[0]  # doctest: +SKIP
        """
        t = np.asarray(session.video_times(video), dtype=np.float64)
        return cls._from_times(t, start, stop, source=f"video {video or ''}".strip())

    @classmethod
    def _from_times(cls, t: np.ndarray, start, stop, source: str) -> "Timeline":
        i0 = 0 if start is None else int(np.searchsorted(t, start, side="left"))
        i1 = t.size if stop is None else int(np.searchsorted(t, stop, side="left"))
        if i1 <= i0:
            raise NWBViewError(
                f"No frame of the {source} lies in [{start}, {stop}) s: its frames span "
                f"{t[0]:.3f}..{t[-1]:.3f} s." if t.size else f"The {source} has no frames."
            )
        frames = np.arange(i0, i1)
        return cls(t[i0:i1], frames=frames, source=source)

    @classmethod
    def regular(cls, start: float, stop: float, fps: float) -> "Timeline":
        """Evenly spaced frames ``start, start + 1/fps, ...`` below ``stop``.

        Examples
        --------
        >>> Timeline.regular(0, 1, 4).times
        array([0.  , 0.25, 0.5 , 0.75])
        """
        if not (np.isfinite(fps) and fps > 0):
            raise NWBViewError(f"Invalid fps {fps!r}: must be a positive number of frames per second.")
        if not (np.isfinite(start) and np.isfinite(stop)) or stop <= start:
            raise NWBViewError(f"Invalid time range [{start}, {stop}): stop must be after start.")
        n = int(np.ceil((stop - start) * fps - 1e-9))
        return cls(start + np.arange(n) / fps, source=f"regular {fps:g} fps")

    # -- alignment -------------------------------------------------------------------------
    def nearest(self, stream: Any) -> np.ndarray:
        """Index of each frame's nearest stream sample, ``-1`` outside the stream.

        Parameters
        ----------
        stream
            A DataArray/Dataset with a ``time`` coordinate, or an array of times.

        Returns
        -------
        numpy.ndarray
            int64, one per frame.

        Examples
        --------
        >>> tl = Timeline.regular(0, 1, 4)
        >>> tl.nearest(np.array([0.1, 0.3, 0.6]))
        array([ 0,  1,  2, -1])
        """
        t = stream_times(stream)
        out = np.full(len(self), -1, dtype=np.int64)
        if t.size == 0 or len(self) == 0:
            return out
        ft = self.times
        j = np.searchsorted(t, ft, side="left")
        j = np.clip(j, 1, max(t.size - 1, 1)) if t.size > 1 else np.zeros_like(j)
        if t.size > 1:
            left = t[j - 1]
            right = t[j]
            j = np.where(np.abs(ft - left) <= np.abs(right - ft), j - 1, j)
        half = _half_period(t)
        inside = (ft >= t[0] - half) & (ft <= t[-1] + half)
        out[inside] = j[inside]
        return out

    def sample(self, stream: xr.DataArray, method: str = "nearest") -> xr.DataArray:
        """Values of a stream at the frame times, NaN outside it.

        Parameters
        ----------
        stream
            A DataArray with a ``time`` dim.
        method : {"nearest", "linear"}, default: "nearest"
            ``nearest`` takes the nearest sample (ties go to the earlier one);
            ``linear`` interpolates between the two samples around each frame
            time (NaN when either is NaN, unless the time falls exactly on a sample).

        Examples
        --------
        >>> speed_at_frames = tl.sample(compute_speed(session.position()))  # doctest: +SKIP
        """
        allowed = ("nearest", "linear")
        if method not in allowed:
            raise NWBViewError(f"Invalid method {method!r}. Must be one of {allowed}.")
        t = stream_times(stream)
        values = np.asarray(stream.transpose("time", ...).values, dtype=np.float64)
        shape_rest = values.shape[1:]
        flat = values.reshape(values.shape[0], -1)
        if method == "nearest":
            idx = self.nearest(t)
            out = flat[np.clip(idx, 0, None)] if flat.shape[0] else np.full((len(self), flat.shape[1]), np.nan)
            out = np.where((idx >= 0)[:, None], out, np.nan)
        else:
            out = np.full((len(self), flat.shape[1]), np.nan)
            inside = (self.times >= t[0]) & (self.times <= t[-1]) if t.size else np.zeros(len(self), bool)
            if t.size >= 2 and inside.any():
                ft = self.times[inside]
                j = np.clip(np.searchsorted(t, ft, side="right"), 1, t.size - 1)
                t0, t1 = t[j - 1], t[j]
                w = np.where(t1 > t0, (ft - t0) / np.where(t1 > t0, t1 - t0, 1.0), 0.0)[:, None]
                with np.errstate(invalid="ignore"):
                    mixed = flat[j - 1] * (1 - w) + flat[j] * w
                # exactly on a sample: take it, even when its neighbour is NaN
                mixed = np.where(w == 0.0, flat[j - 1], np.where(w == 1.0, flat[j], mixed))
                out[inside] = mixed
            elif t.size == 1:
                out[self.times == t[0]] = flat[0]
        dims = stream.transpose("time", ...).dims
        coords = {d: stream[d] for d in dims[1:] if d in stream.coords}
        coords["time"] = self.times
        return xr.DataArray(out.reshape((len(self),) + shape_rest), dims=dims, coords=coords, attrs=dict(stream.attrs), name=stream.name)

    def windows(self, stream: Any, window_s: float, *, centre: float = 0.5) -> np.ndarray:
        """``[start, stop)`` sample indices of a scrolling window around each frame.

        The window spans ``[t - centre * window_s, t + (1 - centre) * window_s)``
        around each frame time ``t`` (centred by default).

        Returns
        -------
        numpy.ndarray
            int64 ``(n_frames, 2)``; an empty window has ``start == stop``.

        Examples
        --------
        >>> tl = Timeline.regular(0, 1, 2)
        >>> tl.windows(np.arange(0, 1, 0.1), 0.4)
        array([[0, 2],
               [3, 7]])
        """
        if not (np.isfinite(window_s) and window_s > 0):
            raise NWBViewError(f"Invalid window {window_s!r} s: must be a positive number of seconds.")
        t = stream_times(stream)
        lo = np.searchsorted(t, self.times - centre * window_s, side="left")
        hi = np.searchsorted(t, self.times + (1.0 - centre) * window_s, side="left")
        return np.stack([lo, hi], axis=1).astype(np.int64)

    def align(self, streams: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Nearest-sample indices of several streams at once (``{name: indices}``).

        Warns when a stream does not overlap the timeline at all.

        Examples
        --------
        >>> idx = tl.align({"position": session.position(), "pose": session.pose()})  # doctest: +SKIP
        """
        import warnings

        out = {}
        for name, stream in streams.items():
            idx = self.nearest(stream)
            if len(self) and not (idx >= 0).any():
                t = stream_times(stream)
                span = f"{t[0]:.3f}..{t[-1]:.3f} s" if t.size else "no samples"
                warnings.warn(
                    f"Stream {name!r} ({span}) does not overlap the timeline "
                    f"({self.times[0]:.3f}..{self.times[-1]:.3f} s): it will not be shown.",
                    NWBViewWarning,
                    stacklevel=2,
                )
            out[name] = idx
        return out

