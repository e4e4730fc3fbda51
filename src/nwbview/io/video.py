"""Frame-accurate, lazy reading of behaviour video with PyAV.

:class:`VideoReader` gives one global frame index over the external video files of an NWB
``ImageSeries`` (or over in-file image data, :meth:`VideoReader.from_array`), on the session
clock, without ever loading the video whole.

The pieces
----------
- :mod:`nwbview.io.packets`: each file's packet index (one demux pass, cached per process) and
  :func:`probe_video`, a file's metadata from it.
- :mod:`nwbview.io.decode`: where frames come from: the PyAV decoding of the files (seek plan,
  restarts from keyframes that are not clean starting points) or the in-file image data.
- this module: :class:`VideoReader`, which maps global frame indices and session times to files
  and frames, caches decoded frames, and crops, downsamples and converts them.

How a frame is found
--------------------
Each file is indexed once per process by a demux-only pass (packet timestamps and keyframe
flags, no decoding; ~15 ms per 1800 frames). Frame ``k`` of a file is the ``k``-th frame in
presentation order, i.e. the ``k``-th smallest packet pts. To read it the reader either keeps
decoding forward (when the decoder already stands before ``k`` in the same group of pictures)
or seeks to the keyframe at or before ``k`` and decodes forward until the frame whose pts is
the target's. This is exact for H.264 with B-frames (decode order differs from presentation
order), all-intra codecs such as MJPEG, and variable-frame-rate files with gaps, where
"seek to time k / fps" is not.

Decoded frames pass through a bounded LRU cache (``cache_size`` frames, kept in the decoder's
own pixel format, e.g. yuv420p: 1.5 bytes per pixel), so stepping back one frame, re-reading
or reading a few frames around a point costs no decoding, and memory does not grow with the
length of the video. The frames decoded just before a target (``decode._KEEP_BEHIND`` of them)
are cached too, so stepping back is free; frames further back on the way from a keyframe are not
kept (holding them would only make the decoder allocate fresh buffers for every frame).

Speed
-----
- Frames are converted with one swscale context per reader, reused for every frame. PyAV's
  ``frame.to_ndarray(format="rgb24")`` builds a new context (and its thread pool) for each
  frame, which costs more than the conversion: sequential reading through the reader runs
  1.3-1.8x faster than a plain ``to_ndarray`` decode loop.
- On the way to a far target the decoder skips frames that no other frame refers to
  (``skip_frame="NONREF"``, most B-frames) until a few dozen frames before the target: random
  reads cost 30-40% less decoding. The target and the frames just before it are always decoded
  in full (and cached, so stepping back is free).
- Decoders stay parked where they stopped: a read that none of them reaches by decoding forward
  opens another one (a few per local file, within a memory budget), so going back and forth
  between a few places decodes forward from the last read there (see :mod:`nwbview.io.decode`).
- :meth:`VideoReader.gray` copies the decoded luma plane instead of converting colour.
- Packet indexes are cached per process, keyed by (path, size, mtime) for local files and by
  the URL for remote ones; pickling a reader carries them to the worker.

Pixel convention
----------------
Crop and downsample map reader pixels to source pixels as
``p_source = p_reader * scale + offset`` in continuous pixel-corner coordinates (pixel centres at
+0.5): ``downsample=d`` averages each ``d x d`` block (block mean, rounded), so reader pixel
``(i, j)`` covers source pixels ``[i*d, (i+1)*d)`` after the crop offset. Incomplete blocks at
the right/bottom edge of the crop are dropped.

Examples
--------
>>> import tempfile, pathlib
>>> from nwbview.testing.video import write_test_video, read_frame_index
>>> path = write_test_video(pathlib.Path(tempfile.mkdtemp()) / "clip.mp4", 60)
>>> with VideoReader([path]) as video:
...     frame = video[42]
...     read_frame_index(frame), frame.shape, len(video)
(42, (120, 160, 3), 60)
"""

from __future__ import annotations

import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from nwbview.errors import NWBViewWarning, TimestampError, VideoError
from nwbview.io.decode import ArrayBackend, FileBackend
from nwbview.io.packets import cache_indexes, cached_index_frames, median_fps, probe_video
from nwbview.io.paths import normalize_path

__all__ = ["VideoReader", "probe_video", "cached_index_frames"]

#: The frame cache never holds more than this many bytes of decoded frames (it matters only for
#: very large frames: 64 frames of 1920x1080 yuv420p take ~200 MB, of 3840x2160 ~800 MB).
_CACHE_MAX_BYTES = 256 * 1024 * 1024


class _VideoValueError(VideoError, ValueError):
    """A bad argument to the reader (crop, downsample, starting_frames): also a ValueError."""


def _block_mean(a: np.ndarray, d: int) -> np.ndarray:
    """Mean of each ``d x d`` block (rounded half up) of an (H, W[, C]) uint8 array."""
    if d == 1:
        return a
    h, w = a.shape[0] // d, a.shape[1] // d
    acc = np.zeros((h, w) + a.shape[2:], dtype=np.uint16 if d * d * 255 < 65536 else np.uint32)
    for i in range(d):
        for j in range(d):
            acc += a[i : i + h * d : d, j : j + w * d : d]
    acc += d * d // 2
    acc //= d * d
    return acc.astype(np.uint8)


class VideoReader:
    """Lazy, frame-accurate reader of a video on the session clock.

    Parameters
    ----------
    files : sequence of str or os.PathLike
        The video files, in order: absolute local paths or ``http(s)://`` URLs (passed to
        FFmpeg as they are). Relative paths are taken from the current folder; resolving
        ``external_file`` against the NWB file's folder is the caller's job.
    starting_frames : sequence of int, optional
        Global index of each file's first frame (NWB ``ImageSeries.starting_frame``). Default:
        the cumulative frame counts of the files.
    timestamps : numpy.ndarray, optional
        Frame times in seconds on the session clock, one per frame. ``None`` uses the files'
        own presentation timestamps (a later file of a series continues one frame period after
        the previous one ends). If the count differs from the number of frames in the files,
        one :class:`~nwbview.errors.NWBViewWarning` is emitted and ``len(reader)`` is the
        smaller of the two.
    name : str
        Name of the video (for messages and ``repr``).
    crop : tuple of int, optional
        ``(x, y, width, height)`` in source pixels applied to every returned frame.
    downsample : int
        Integer factor; each ``downsample x downsample`` block of the (cropped) frame is
        averaged (block mean, rounded). Incomplete edge blocks are dropped.
    cache_size : int
        Decoded frames kept in the LRU cache (in the decoder's pixel format: 1.5 bytes per
        pixel for yuv420p; 64 frames of 640x480 take ~30 MB). Whatever the value, the cache
        holds at most 256 MB of frames (at least 4 frames), which limits it only for frames
        larger than full HD.
    source : str, optional
        Where the files came from (e.g. ``"external_file of acquisition/BehavioralVideo in
        /data/session.nwb"``), quoted in error messages.

    Attributes
    ----------
    times : numpy.ndarray
        float64 seconds on the session clock, one per frame (length ``len(reader)``).
    size : tuple of int
        ``(width, height)`` of returned frames (after crop and downsample).
    offset : tuple of float
        ``(x, y)`` of the crop's top-left corner in source pixels.
    scale : float
        The downsample factor: ``p_source = p_reader * scale + offset``.
    fps : float
        Median frame rate from ``times`` (NaN if it cannot be known).
    codec : str
        FFmpeg decoder name (``"h264"``, ``"mjpeg"``, ...; ``"raw"`` for in-file data; several
        codecs joined with ``"+"``).
    files : list of str
        The files read (absolute paths or URLs).
    starting_frames : list of int
        Global index of each file's first frame.
    name, source : str
        As given.

    Raises
    ------
    MissingFileError
        If a local file does not exist (the message lists every missing path).
    VideoError
        If a file cannot be opened or decoded, the files differ in frame size, or crop /
        downsample do not fit the frame (those are also ``ValueError``).

    Notes
    -----
    Thread-safe: one lock guards the decoders and the cache; colour conversion runs under a
    second lock, so one thread can convert a frame while another decodes. Pickling keeps the
    paths, options and packet indexes; the unpickled reader reopens the
    files (in a worker process, say) without re-indexing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbview.testing.video import write_test_video, read_frame_index
    >>> path = write_test_video(pathlib.Path(tempfile.mkdtemp()) / "clip.mp4", 90)
    >>> video = VideoReader([path], timestamps=10.0 + np.arange(90) / 30, crop=(0, 0, 160, 60))
    >>> video.size, video.fps, video.frame_at(11.0)
    ((160, 60), 30.0, 30)
    >>> video.gray([3, 1, 2]).shape
    (3, 60, 160)
    >>> video.close()
    """

    def __init__(
        self,
        files: Sequence[str | os.PathLike],
        starting_frames: Sequence[int] | None = None,
        timestamps: np.ndarray | None = None,
        *,
        name: str = "",
        crop: tuple[int, int, int, int] | None = None,
        downsample: int = 1,
        cache_size: int = 64,
        source: str | None = None,
    ):
        if isinstance(files, (str, os.PathLike)):
            files = [files]
        files = [normalize_path(f) for f in files]
        if not files:
            raise VideoError(
                f"No video files given{' for ' + name if name else ''}: pass at least one path. "
                "An ImageSeries with in-file data is read with VideoReader.from_array."
            )
        backend = FileBackend(files, source)
        self._setup(backend, files, starting_frames, timestamps, name, crop, downsample,
                    cache_size, source, quiet=False)  # fmt: skip

    @classmethod
    def from_array(
        cls,
        data,
        timestamps: np.ndarray,
        *,
        name: str = "",
        crop: tuple[int, int, int, int] | None = None,
        downsample: int = 1,
        cache_size: int = 64,
    ) -> VideoReader:
        """A reader over in-file image data (an ``ImageSeries`` whose ``data`` holds the frames).

        Parameters
        ----------
        data : array-like
            ``(n, height, width)`` grayscale or ``(n, height, width, 3)`` RGB frames: a numpy
            array, or an h5py dataset (read lazily, one frame at a time). Non-uint8 data is
            clipped to 0-255 (with a warning).
        timestamps : numpy.ndarray
            Frame times, seconds on the session clock.
        name : str
            Name of the video, for messages.
        crop, downsample, cache_size
            As for :class:`VideoReader`.

        Returns
        -------
        VideoReader
            ``codec`` is ``"raw"``, ``files`` is empty.

        Examples
        --------
        >>> frames = np.zeros((10, 48, 64), np.uint8)
        >>> video = VideoReader.from_array(frames, np.arange(10) / 10)
        >>> video[3].shape, video.gray(3).shape, video.fps
        ((48, 64, 3), (48, 64), 10.0)
        """
        self = cls.__new__(cls)
        h5_location = None
        try:
            import h5py

            if isinstance(data, h5py.Dataset):
                filename = data.file.filename
                if isinstance(filename, str) and os.path.isfile(filename):
                    h5_location = (os.path.abspath(filename), data.name)
        except ImportError:  # pragma: no cover - h5py is a dependency
            pass
        backend = ArrayBackend(data, name, h5_location)
        self._setup(backend, [], None, timestamps, name, crop, downsample, cache_size,
                    None, quiet=False)  # fmt: skip
        return self

    # -- construction -------------------------------------------------------------------------
    def _setup(self, backend, files, starting_frames, timestamps, name, crop, downsample,
               cache_size, source, quiet):  # fmt: skip
        self._backend = backend
        self._closed = False
        self._lock = threading.RLock()
        self._convert_lock = threading.Lock()
        self._reformatter = None
        self._cache: OrderedDict[tuple[int, int], Any] = OrderedDict()
        self.name = name
        self.source = source
        self.files = list(files)
        self.cache_size = max(1, int(cache_size))
        counts = backend.counts
        self._counts = np.asarray(counts, dtype=np.int64)
        self.codec = "+".join(dict.fromkeys(backend.codecs))
        label = f" of {name}" if name else ""

        # starting frames -> one global index
        problems: list[str] = []
        if starting_frames is None:
            starts = np.concatenate([[0], np.cumsum(self._counts)[:-1]]).astype(np.int64)
        else:
            starts = np.asarray(list(starting_frames))
            if (
                starts.ndim != 1
                or starts.size != len(counts)
                or not np.issubdtype(starts.dtype, np.integer)
                or (starts.size and starts[0] < 0)
                or np.any(np.diff(starts) < 0)
            ):
                backend.close()
                raise _VideoValueError(
                    f"starting_frames{label} is {list(starting_frames)!r}; expected {len(counts)} "
                    "non-decreasing integers >= 0 (the global index of each file's first frame, "
                    "starting at 0). Fix ImageSeries.starting_frame or pass None to use the "
                    f"files' frame counts {list(map(int, counts))}."
                )
            starts = starts.astype(np.int64)
            expected = np.concatenate([[0], np.cumsum(self._counts)[:-1]])
            if not np.array_equal(starts, expected):
                problems.append(
                    f"starting_frames {starts.tolist()} do not match the files' frame counts "
                    f"{list(map(int, counts))} (which imply {expected.tolist()}); global frames "
                    "that fall in a gap cannot be read and overlapping frames are read from the "
                    "later file"
                )
        self.starting_frames = [int(s) for s in starts]
        self._pickled_starts = None if starting_frames is None else list(self.starting_frames)
        self._starts = starts
        n_video = int(starts[-1] + self._counts[-1]) if starts.size else 0
        self._n_video = n_video

        # timestamps
        self._n_timestamps: int | None = None
        self._pickled_times = None
        if timestamps is None:
            times = self._times_from_pts()
        else:
            times = np.asarray(timestamps, dtype=np.float64).reshape(-1)
            self._n_timestamps = int(times.size)
            self._pickled_times = times
            if times.size and not np.all(np.isfinite(times)):
                bad = int(np.flatnonzero(~np.isfinite(times))[0])
                backend.close()
                raise TimestampError(
                    f"The frame timestamps{label} hold NaN or infinite values (first at index "
                    f"{bad}). Fix the ImageSeries' timestamps, or pass starting_time and rate."
                )
            if times.size != n_video:
                problems.append(
                    f"the video has {n_video} frames but there are {times.size} timestamps; "
                    f"len(reader) = min(both) = {min(n_video, times.size)} and frames beyond are "
                    "not reachable"
                )
        n = min(n_video, int(times.size))
        self._n = n
        self.times = np.ascontiguousarray(times[:n])
        self.times.flags.writeable = False
        self.fps = median_fps(self.times, self._rate_fallback())
        self._sorted = bool(n < 2 or np.all(np.diff(self.times) >= 0))
        self._order = None if self._sorted else np.argsort(self.times, kind="stable")
        self.agree = not problems
        if problems:
            where = f" ({source})" if source else ""
            self.message = (
                f"Video{label}{where}: " + "; ".join(problems) + ". Check that the ImageSeries' "
                "timestamps (or starting_time and rate) and starting_frame describe these files, "
                "that no video file is truncated or missing, and that external_file lists every "
                "file."
            )
            if not quiet:
                warnings.warn(self.message, NWBViewWarning, stacklevel=3)
        else:
            self.message = (
                f"{n} frames in {len(counts)} file(s); timestamps and frames agree"
                if backend.kind == "files"
                else f"{n} frames of in-file image data; timestamps and frames agree"
            )

        # crop / downsample
        self._src_size = (backend.width, backend.height)
        frame_bytes = max(1, backend.width * backend.height * backend.bytes_per_pixel)
        by_bytes = max(4, int(_CACHE_MAX_BYTES // frame_bytes))
        self._cache_limit = max(1, min(self.cache_size, by_bytes))
        d = downsample
        if isinstance(d, float) and d.is_integer():
            d = int(d)
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 1:
            backend.close()
            raise _VideoValueError(
                f"downsample{label} is {downsample!r}; expected an integer >= 1 (2 halves width "
                "and height)."
            )
        d = int(d)
        W, H = self._src_size
        if crop is None:
            cx, cy, cw, ch = 0, 0, W, H
        else:
            try:
                cx, cy, cw, ch = (int(v) for v in crop)
            except (TypeError, ValueError):
                backend.close()
                raise _VideoValueError(
                    f"crop{label} is {crop!r}; expected (x, y, width, height) integers in source "
                    "pixels."
                ) from None
            if cx < 0 or cy < 0 or cw < 1 or ch < 1 or cx + cw > W or cy + ch > H:
                backend.close()
                raise _VideoValueError(
                    f"crop{label} (x={cx}, y={cy}, width={cw}, height={ch}) does not fit in the "
                    f"{W}x{H} frame: it needs x, y >= 0, width, height >= 1, x + width <= {W} "
                    f"and y + height <= {H}. Shrink or move the crop."
                )
        if cw < d or ch < d:
            backend.close()
            raise _VideoValueError(
                f"downsample={d}{label} is larger than the {cw}x{ch} (cropped) frame. Use a "
                "smaller factor or a larger crop."
            )
        cw, ch = cw // d * d, ch // d * d
        self._crop = None if (cx, cy, cw, ch) == (0, 0, W, H) else (cx, cy, cw, ch)
        self._user_crop = None if crop is None else tuple(int(v) for v in crop)
        self._downsample = d
        self.size = (cw // d, ch // d)
        self.offset = (float(cx), float(cy))
        self.scale = float(d)

    def _rate_fallback(self) -> Fraction | None:
        indexes = getattr(self._backend, "indexes", None)
        return indexes[0].average_rate if indexes else None

    def _times_from_pts(self) -> np.ndarray:
        backend = self._backend
        if backend.kind != "files":
            return np.arange(backend.n, dtype=np.float64)
        times = np.full(self._n_video, np.nan)
        end = None
        for start, index in zip(self._starts, backend.indexes):
            t = index.times()
            if end is not None:  # continue one frame period after the previous file
                period = 1.0 / median_fps(t, index.average_rate) if t.size else 0.0
                if not np.isfinite(period):
                    period = 0.0
                t = t - t[0] + end + period
            stop = min(int(start) + t.size, self._n_video)
            times[start:stop] = t[: stop - start]
            end = float(t[-1])
        bad = ~np.isfinite(times)
        if bad.any() and (~bad).sum() >= 2:
            idx = np.arange(times.size)
            times[bad] = np.interp(idx[bad], idx[~bad], times[~bad])
        return times

    # -- sizes and times ----------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    def frame_at(self, t: float) -> int | None:
        """Index of the frame nearest to session time ``t``.

        Parameters
        ----------
        t : float
            Seconds on the session clock.

        Returns
        -------
        int or None
            The nearest frame (ties go to the earlier frame); ``None`` if ``t`` is more than half
            a frame period (``0.5 / fps``) before the first frame or after the last.

        Examples
        --------
        >>> video = VideoReader.from_array(np.zeros((4, 8, 8), np.uint8), np.array([0, .1, .2, .3]))
        >>> video.frame_at(0.14), video.frame_at(-0.05), video.frame_at(-0.06)
        (1, 0, None)
        """
        n = self._n
        if n == 0 or not np.isfinite(t):
            return None
        half = 0.5 / self.fps if np.isfinite(self.fps) and self.fps > 0 else 0.0
        times = self.times if self._sorted else self.times[self._order]
        if t < times[0] - half or t > times[-1] + half:
            return None
        i = int(np.searchsorted(times, t, side="left"))
        if i == 0:
            j = 0
        elif i == n:
            j = n - 1
        else:
            j = i if times[i] - t < t - times[i - 1] else i - 1
        return j if self._sorted else int(self._order[j])

    # -- reading ------------------------------------------------------------------------------
    def __getitem__(self, key) -> np.ndarray:
        """RGB frame(s): ``int`` -> ``(h, w, 3)``; slice / index array / list -> ``(k, h, w, 3)``.

        ``key`` may be an int (negative counts from the end), a slice, a 1-D sequence of ints
        in any order (with repeats), or a boolean mask of length ``len(reader)``. Frames of an
        index array are decoded in sorted order (no re-seek inside a group of pictures) and
        returned in the order asked. A slice or array returns all frames stacked in memory:
        use :meth:`iter_frames` for long ranges. Every returned array is a new, writable array.

        Raises
        ------
        IndexError
            If an index is outside ``[-len(reader), len(reader))``; the message gives the range.

        Examples
        --------
        >>> video = VideoReader.from_array(np.zeros((5, 8, 6, 3), np.uint8), np.arange(5.0))
        >>> video[-1].shape, video[1:4].shape, video[[4, 0]].shape
        ((8, 6, 3), (3, 8, 6, 3), (2, 8, 6, 3))
        """
        return self._read(key, gray=False)

    def gray(self, key) -> np.ndarray:
        """Grayscale frame(s), same indexing as ``reader[key]``: ``(h, w)`` or ``(k, h, w)``.

        For YUV video this is the decoded luma (Y) plane as stored, copied without conversion
        (fast): video range (16-235) for most H.264, full range for MJPEG. Other pixel formats
        and in-file RGB data are converted (BT.601 luma).

        Examples
        --------
        >>> video = VideoReader.from_array(np.full((3, 4, 4, 3), 200, np.uint8), np.arange(3.0))
        >>> int(video.gray(0)[0, 0])
        200
        """
        return self._read(key, gray=True)

    def iter_frames(
        self, start: int = 0, stop: int | None = None, step: int = 1, *, gray: bool = False
    ) -> Iterator[np.ndarray]:
        """Yield frames ``start:stop:step`` one at a time (sequential decoding, bounded memory).

        Examples
        --------
        >>> video = VideoReader.from_array(np.zeros((5, 8, 8), np.uint8), np.arange(5.0))
        >>> sum(1 for _ in video.iter_frames(1, 4))
        3
        """
        for g in range(*slice(start, stop, step).indices(self._n)):
            yield self._convert(self._frame(g), gray)

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.iter_frames()

    def _out_shape(self, gray: bool) -> tuple[int, ...]:
        w, h = self.size
        return (h, w) if gray else (h, w, 3)

    def _check_index(self, g: int) -> int:
        n = self._n
        if g < -n or g >= n:
            raise IndexError(
                f"Frame {g} is out of range for video{' ' + self.name if self.name else ''} with "
                f"{n} frames: valid indices are 0 to {n - 1} (or -{n} to -1)."
            )
        return g + n if g < 0 else g

    def _read(self, key, gray: bool) -> np.ndarray:
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            g = self._check_index(int(key))
            return self._convert(self._frame(g), gray)
        if isinstance(key, slice):
            idx = np.arange(self._n)[key]
        else:
            arr = np.asarray(key)
            if arr.dtype == np.bool_:
                if arr.shape != (self._n,):
                    raise IndexError(
                        f"A boolean frame mask needs shape ({self._n},), got {arr.shape}."
                    )
                idx = np.flatnonzero(arr)
            elif arr.size == 0:
                idx = np.zeros(0, dtype=np.int64)
            elif np.issubdtype(arr.dtype, np.integer) and arr.ndim == 1:
                idx = arr.astype(np.int64)
                bad = (idx < -self._n) | (idx >= self._n)
                if bad.any():
                    self._check_index(int(idx[bad][0]))
                idx = np.where(idx < 0, idx + self._n, idx)
            else:
                raise TypeError(
                    f"Frames are indexed by an int, a slice, or a 1-D sequence of ints or bools; "
                    f"got {type(key).__name__}"
                    + (f" of dtype {arr.dtype} and shape {arr.shape}" if arr.ndim else "")
                    + "."
                )
        out = np.empty((idx.size, *self._out_shape(gray)), dtype=np.uint8)
        order = np.argsort(idx, kind="stable")  # decode in order: no re-seek inside a GOP
        last_g, last_j = -1, -1
        for j in order.tolist():
            g = int(idx[j])
            if g == last_g:
                out[j] = out[last_j]
                continue
            out[j] = self._convert(self._frame(g), gray)
            last_g, last_j = g, j
        return out

    def _frame(self, g: int):
        """The cached / decoded frame object of global index ``g`` (0 <= g < len)."""
        backend = self._backend
        if self._closed:
            raise VideoError(
                f"VideoReader{' ' + self.name if self.name else ''} is closed; open a new one "
                "(or read before calling close())."
            )
        fi = int(np.searchsorted(self._starts, g, side="right")) - 1 if len(self._starts) > 1 else 0
        k = g - int(self._starts[fi])
        if fi < 0 or k >= self._counts[fi]:
            raise VideoError(
                f"Frame {g} of video{' ' + self.name if self.name else ''} is in none of its "
                f"files: starting_frames {self.starting_frames} and the files' frame counts "
                f"{self._counts.tolist()} leave a gap there. Fix ImageSeries.starting_frame, or "
                "check that no file is truncated."
            )
        key = (fi, k)
        with self._lock:
            frame = self._cache.get(key)
            if frame is not None:
                self._cache.move_to_end(key)
                return frame
            return backend.fetch(fi, k, self._put)

    def _put(self, fi: int, k: int, frame) -> None:
        cache = self._cache
        cache[(fi, k)] = frame
        cache.move_to_end((fi, k))
        while len(cache) > self._cache_limit:
            cache.popitem(last=False)

    def _convert(self, frame, gray: bool) -> np.ndarray:
        backend = self._backend
        # Outside the decoder lock (the other thread may decode meanwhile), but serialised:
        # the reader's one swscale context is not thread-safe, and PyAV briefly rewrites the
        # source frame's colour tags while converting it.
        with self._convert_lock:
            rf = self._reformatter
            if rf is None and backend.kind == "files":
                from av.video.reformatter import VideoReformatter

                rf = self._reformatter = VideoReformatter()
            if gray:
                arr = backend.gray(frame, self._crop, rf)
            else:
                arr = backend.rgb(frame, self._crop, rf)
        if self._downsample > 1:
            return _block_mean(arr, self._downsample)
        return arr

    # -- description --------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """What the reader holds and whether the files and timestamps agree.

        Returns
        -------
        dict
            ``name``, ``files``, ``codecs`` (one per file), ``codec``, ``source_size`` and
            ``size`` (``(width, height)`` before and after crop/downsample), ``n_frames`` (frames
            in the files, from their packet index), ``n_timestamps`` (``None`` when the times
            come from the files), ``len``, ``fps``, ``starting_frames``, ``agree`` and
            ``message`` (what disagrees and how to fix it).

        Examples
        --------
        >>> import warnings
        >>> with warnings.catch_warnings():  # 4 frames but 5 timestamps: warns
        ...     warnings.simplefilter("ignore")
        ...     video = VideoReader.from_array(np.zeros((4, 8, 8), np.uint8), np.arange(5.0))
        >>> info = video.info()
        >>> info["agree"], info["n_frames"], info["n_timestamps"], info["len"]
        (False, 4, 5, 4)
        """
        return {
            "name": self.name,
            "files": list(self.files),
            "codecs": list(self._backend.codecs),
            "codec": self.codec,
            "source_size": self._src_size,
            "size": self.size,
            "n_frames": self._n_video,
            "n_timestamps": self._n_timestamps,
            "len": self._n,
            "fps": self.fps,
            "starting_frames": list(self.starting_frames),
            "agree": self.agree,
            "message": self.message,
        }

    def __repr__(self) -> str:
        what = self.name or (os.path.basename(self.files[0]) if self.files else "in-file data")
        w, h = self.size
        return (
            f"<VideoReader {what!r}: {self._n} frames {w}x{h} {self.codec}, "
            f"{self.fps:.3g} fps, {len(self.files)} file(s)>"
        )

    # -- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Close the files and drop the cache. Reading again after ``close`` is an error.

        Examples
        --------
        >>> video = VideoReader.from_array(np.zeros((2, 8, 8), np.uint8), np.arange(2.0))
        >>> video.close()
        >>> with VideoReader.from_array(np.zeros((2, 8, 8), np.uint8), np.arange(2.0)) as v:
        ...     v[0].shape
        (8, 8, 3)
        """
        with self._lock:
            self._cache.clear()
            self._backend.close()
            self._closed = True
            self._reformatter = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self) -> dict:
        state = {
            "kind": self._backend.kind,
            "files": list(self.files),
            "starting_frames": self._pickled_starts,
            "timestamps": self._pickled_times,
            "name": self.name,
            "crop": self._user_crop,
            "downsample": self._downsample,
            "cache_size": self.cache_size,
            "source": self.source,
        }
        backend_state = self._backend.state()
        if "data" in backend_state:
            try:
                import h5py

                if isinstance(backend_state["data"], h5py.Dataset):
                    raise TypeError(
                        f"Cannot pickle VideoReader {self.name!r}: its frames are an h5py "
                        "dataset of a file that is not on a local path, so a worker cannot "
                        "reopen it. Read the frames into a numpy array first, or open the NWB "
                        "file from a local path."
                    )
            except ImportError:  # pragma: no cover
                pass
        state.update(backend_state)
        return state

    def __setstate__(self, state: dict) -> None:
        if state["kind"] == "files":
            cache_indexes(state.get("indexes", []))
            backend = FileBackend(list(state["files"]), state["source"])
            files = state["files"]
        else:
            if "h5" in state:
                import h5py

                filename, dataset = state["h5"]
                h5file = h5py.File(filename, "r")
                backend = ArrayBackend(h5file[dataset], state["name"], state["h5"], quiet=True)
                backend._h5file = h5file
            else:
                backend = ArrayBackend(state["data"], state["name"], quiet=True)
            files = []
        self._setup(backend, files, state["starting_frames"], state["timestamps"], state["name"],
                    state["crop"], state["downsample"], state["cache_size"], state["source"],
                    quiet=True)  # fmt: skip
