"""Synthetic test videos whose frames carry their own frame index.

Every frame written here holds a binary code of its index in big black and white blocks across
the top quarter of the image, followed by the bitwise complement of the same code (a check that
catches misreads). The rest of the frame is a smooth, moving colour pattern, like a low-detail
behaviour video. The code survives H.264 and MJPEG compression, a 2x or 4x downsample, and an
RGB or grayscale conversion, so a test can decode any frame with the reader under test and check
which frame it got with :func:`read_frame_index`.

Layout of a ``width`` x ``height`` frame with ``n_bits`` bits (most significant bit first)::

    rows [0, b)        bit k of the index        in columns [k*width/n_bits, (k+1)*width/n_bits)
    rows [b, 2b)       bit k of ~index (check)   same columns
    rows [2b, height)  moving gradient
    b = height // 8 rounded down to an even number

Writers:

- :func:`write_test_video`: one file; H.264 (``libx264``, long GOP, B-frames) in ``.mp4`` /
  ``.mkv``, or MJPEG in ``.avi``; constant frame rate or given frame times (variable frame rate).
- :func:`vfr_timestamps`: irregular frame times with gaps, for variable-frame-rate videos.
- :func:`write_video_series`: one sequence split over several files, as cameras that roll over
  to a new file do; returns the files and their NWB ``starting_frame`` values.
- :func:`decode_frames`: a plain sequential PyAV decode of a file, the reference a reader is
  compared with.

Examples
--------
>>> import tempfile, pathlib
>>> from nwbview.testing.video import write_test_video, decode_frames, read_frame_index
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> path = write_test_video(tmp / "clip.mp4", n_frames=30)
>>> frames = decode_frames(path)
>>> frames.shape
(30, 120, 160, 3)
>>> read_frame_index(frames[17])
17
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULT_BITS",
    "code_band_height",
    "frame_yuv420p",
    "make_frame",
    "read_frame_index",
    "vfr_timestamps",
    "write_test_video",
    "write_video_series",
    "decode_frames",
]

#: Bits of the frame-index code (indices up to 65535).
DEFAULT_BITS = 16

_BLACK = 16  # video-range black / white luma: decoded RGB is 0 / 255
_WHITE = 235
_MIN_HEIGHT = 32

_CONTAINER_BY_CODEC = {"h264": {".mp4", ".mkv", ".mov"}, "mjpeg": {".avi", ".mkv", ".mov"}}


def code_band_height(height: int) -> int:
    """Height in pixels of each of the two code bands of a frame ``height`` pixels tall.

    Parameters
    ----------
    height : int
        Frame height in pixels.

    Returns
    -------
    int
        ``height // 8`` rounded down to an even number (at least 2), so that the bands line up
        with 4:2:0 chroma rows.

    Examples
    --------
    >>> code_band_height(120)
    14
    """
    return max(2, (height // 8) // 2 * 2)


def _check_size(width: int, height: int, n_bits: int) -> None:
    if width % 2 or height % 2:
        raise ValueError(
            f"Frame size {width}x{height} has an odd side; yuv420p video needs even width and "
            "height. Use an even size such as 160x120."
        )
    if height < _MIN_HEIGHT or width < 4 * n_bits:
        raise ValueError(
            f"Frame size {width}x{height} is too small for a {n_bits}-bit frame code: it needs "
            f"height >= {_MIN_HEIGHT} and width >= {4 * n_bits} (4 pixels per bit). Use a larger "
            "frame or fewer bits."
        )


class _PatternMaker:
    """Precomputed moving background for fast frame generation (a slice per frame)."""

    def __init__(self, width: int, height: int, n_bits: int):
        _check_size(width, height, n_bits)
        self.width, self.height, self.n_bits = width, height, n_bits
        self.band = code_band_height(height)
        w, h = width, height
        # Luma: horizontal sine (period = width) times a vertical ramp; doubled width so that
        # frame i takes the slice starting at column (2 * i) % width.
        x = np.arange(2 * w)[None, :]
        y = np.arange(h)[:, None]
        luma = 128 + 70 * np.sin(2 * np.pi * x / w) * (0.55 + 0.45 * np.cos(np.pi * y / h))
        self.luma = np.clip(np.rint(luma), 20, 230).astype(np.uint8)
        xc = np.arange(w)[None, :]  # chroma: half resolution, period width / 2
        yc = np.arange(h // 2)[:, None]
        u = 128 + 40 * np.sin(2 * np.pi * (2 * xc / w + yc / h))
        v = 128 + 40 * np.cos(2 * np.pi * (2 * xc / w - 2 * yc / h))
        self.u2 = np.tile(np.rint(u).astype(np.uint8), (1, 2))
        self.v2 = np.tile(np.rint(v).astype(np.uint8), (1, 2))
        edges = np.rint(np.arange(n_bits + 1) * w / n_bits).astype(int)
        self.bit_of_column = np.searchsorted(edges, np.arange(w), side="right") - 1

    def __call__(self, index: int) -> np.ndarray:
        w, h, b = self.width, self.height, self.band
        if not 0 <= index < 2**self.n_bits:
            raise ValueError(
                f"Frame index {index} does not fit in a {self.n_bits}-bit code (0 to "
                f"{2**self.n_bits - 1}). Pass a larger n_bits."
            )
        out = np.empty((h * 3 // 2, w), np.uint8)
        s = (2 * index) % w
        out[:h] = self.luma[:, s : s + w]
        bits = (index >> (self.n_bits - 1 - np.arange(self.n_bits))) & 1
        row = np.where(bits[self.bit_of_column] == 1, _WHITE, _BLACK).astype(np.uint8)
        out[:b] = row
        out[b : 2 * b] = (_WHITE + _BLACK) - row
        hc, wc = h // 2, w // 2
        flat = out[h:].reshape(-1)
        uplane = flat[: hc * wc].reshape(hc, wc)
        vplane = flat[hc * wc :].reshape(hc, wc)
        su = s // 2
        uplane[:] = self.u2[:, su : su + wc]
        vplane[:] = self.v2[:, su : su + wc]
        uplane[:b] = 128  # neutral chroma over both code bands (luma rows < 2b)
        vplane[:b] = 128
        return out


_MAKERS: dict[tuple[int, int, int], _PatternMaker] = {}


def _maker(width: int, height: int, n_bits: int) -> _PatternMaker:
    key = (width, height, n_bits)
    if key not in _MAKERS:
        _MAKERS[key] = _PatternMaker(width, height, n_bits)
    return _MAKERS[key]


def frame_yuv420p(
    index: int, width: int = 160, height: int = 120, *, n_bits: int = DEFAULT_BITS
) -> np.ndarray:
    """The synthetic frame ``index`` as packed yuv420p planes.

    Parameters
    ----------
    index : int
        Frame index to encode in the frame (0 to ``2**n_bits - 1``).
    width, height : int
        Frame size in pixels; both even, ``height >= 32``, ``width >= 4 * n_bits``.
    n_bits : int
        Bits of the index code.

    Returns
    -------
    numpy.ndarray
        ``(height * 3 // 2, width)`` uint8: the Y plane, then U, then V, as
        ``av.VideoFrame.from_ndarray(..., format="yuv420p")`` expects.

    Examples
    --------
    >>> frame_yuv420p(5, 160, 120).shape
    (180, 160)
    """
    return _maker(width, height, n_bits)(index)


def make_frame(
    index: int, width: int = 160, height: int = 120, *, n_bits: int = DEFAULT_BITS
) -> np.ndarray:
    """The synthetic frame ``index`` as RGB, before any compression.

    A decoded frame of a test video is close to, not equal to, this image (lossy codecs).

    Parameters
    ----------
    index : int
        Frame index to encode in the frame.
    width, height : int
        Frame size in pixels.
    n_bits : int
        Bits of the index code.

    Returns
    -------
    numpy.ndarray
        ``(height, width, 3)`` uint8 RGB.

    Examples
    --------
    >>> img = make_frame(7, 160, 120)
    >>> img.shape, read_frame_index(img)
    ((120, 160, 3), 7)
    """
    import av

    yuv = frame_yuv420p(index, width, height, n_bits=n_bits)
    frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
    return frame.to_ndarray(format="rgb24")


def read_frame_index(frame, *, n_bits: int = DEFAULT_BITS) -> int:
    """Decode the frame index written into a synthetic test frame.

    Works on the full frame as written, decoded or downsampled (not on a crop that removes the
    top quarter of the frame).

    Parameters
    ----------
    frame : numpy.ndarray or av.VideoFrame
        ``(h, w, 3)`` RGB or ``(h, w)`` grayscale/luma uint8 image, or a decoded PyAV frame.
    n_bits : int
        Bits of the index code the video was written with.

    Returns
    -------
    int
        The frame index.

    Raises
    ------
    ValueError
        If the code and its complement disagree: the image is not a synthetic test frame, is
        cropped, or is too damaged to read.

    Examples
    --------
    >>> read_frame_index(make_frame(1234, 320, 240))
    1234
    """
    if not isinstance(frame, np.ndarray):
        frame = frame.to_ndarray(format="rgb24")
    img = np.asarray(frame)
    if img.ndim == 3:
        img = img[..., :3].mean(axis=2)
    if img.ndim != 2:
        raise ValueError(
            f"Expected an (h, w) or (h, w, 3) image, got shape {np.shape(frame)}. Pass one frame."
        )
    h, w = img.shape
    img = img.astype(np.float32)

    def band_bits(r0: float, r1: float) -> np.ndarray:
        rows = img[int(r0 * h) : max(int(r0 * h) + 1, int(r1 * h))]
        bits = np.empty(n_bits, dtype=np.int64)
        for k in range(n_bits):
            c0 = int((k + 0.25) * w / n_bits)
            c1 = max(c0 + 1, int((k + 0.75) * w / n_bits))
            bits[k] = rows[:, c0:c1].mean() > 128
        return bits

    # Band heights are between ~0.11 and 0.125 of the frame: sample well inside each band.
    code = band_bits(0.025, 0.085)
    check = band_bits(0.15, 0.205)
    if not np.all(code != check):
        raise ValueError(
            f"This image does not carry a readable {n_bits}-bit frame code (code {code.tolist()}, "
            f"check {check.tolist()} should be its complement). Pass an uncropped frame of a "
            "video written by nwbview.testing.video, with the same n_bits."
        )
    return int(np.sum(code << (n_bits - 1 - np.arange(n_bits))))


def vfr_timestamps(
    n_frames: int,
    fps: float = 30.0,
    *,
    jitter: float = 0.3,
    n_gaps: int = 3,
    gap_frames: tuple[int, int] = (3, 12),
    start: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """Irregular frame times with gaps, as a variable-frame-rate camera records them.

    Parameters
    ----------
    n_frames : int
        Number of frames (times) to return.
    fps : float
        Nominal frame rate; intervals are ``(1 + u) / fps`` with ``u`` uniform in
        ``[-jitter, jitter]``.
    jitter : float
        Relative jitter of the intervals (0 for evenly spaced frames before the gaps).
    n_gaps : int
        Number of gaps: places where frames are missing.
    gap_frames : tuple of int
        Each gap drops between ``gap_frames[0]`` and ``gap_frames[1]`` frame periods.
    start : float
        Time of the first frame, seconds.
    seed : int
        Random seed (the result is deterministic).

    Returns
    -------
    numpy.ndarray
        ``(n_frames,)`` float64 seconds, strictly increasing.

    Examples
    --------
    >>> t = vfr_timestamps(100, 30.0)
    >>> t.shape, bool(np.all(np.diff(t) > 0))
    ((100,), True)
    """
    rng = np.random.default_rng(seed)
    dt = (1.0 + rng.uniform(-jitter, jitter, n_frames - 1)) / fps
    if n_gaps and n_frames > 2:
        n = min(n_gaps, n_frames - 2)
        where = rng.choice(np.arange(1, n_frames - 1), size=n, replace=False)
        dt[where - 1] += rng.integers(gap_frames[0], gap_frames[1] + 1, size=where.size) / fps
    return start + np.concatenate([[0.0], np.cumsum(dt)])


def _rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


def write_test_video(
    path: str | os.PathLike,
    n_frames: int = 300,
    *,
    size: tuple[int, int] = (160, 120),
    fps: float = 30.0,
    codec: str = "h264",
    gop: int = 250,
    bframes: int = 2,
    crf: int = 18,
    preset: str = "veryfast",
    first_index: int = 0,
    timestamps: Sequence[float] | np.ndarray | None = None,
    n_bits: int = DEFAULT_BITS,
    threads: int = 0,
    pix_fmt: str = "yuv420p",
) -> Path:
    """Write a synthetic video whose frame ``i`` shows the code of ``first_index + i``.

    Parameters
    ----------
    path : str or os.PathLike
        Output file. Its extension picks the container: ``.mp4``, ``.mkv``, ``.mov`` for H.264;
        ``.avi`` (or ``.mkv``, ``.mov``) for MJPEG.
    n_frames : int
        Number of frames.
    size : tuple of int
        ``(width, height)`` in pixels, both even.
    fps : float
        Frame rate (constant-rate videos; also the nominal rate of variable-rate ones).
    codec : {"h264", "mjpeg"}
        ``"h264"`` encodes with libx264 (``gop`` frames per keyframe, ``bframes`` B-frames, so
        presentation order differs from decode order); ``"mjpeg"`` writes all-keyframe JPEGs.
    gop : int
        Maximum keyframe interval (H.264).
    bframes : int
        Maximum consecutive B-frames (H.264; 0 turns them off).
    crf : int
        x264 quality (lower is better; 18 keeps the code crisp).
    preset : str
        x264 preset (``"ultrafast"`` writes long videos quickly).
    first_index : int
        Index written into the first frame (a later file of a series starts above 0).
    timestamps : array-like of float, optional
        Frame times in seconds, strictly increasing, one per frame: writes a variable-frame-rate
        file whose presentation timestamps are these times (rounded to 1/90000 s). Not possible
        in ``.avi``. ``None`` writes a constant rate of ``fps``.
    n_bits : int
        Bits of the frame code.
    threads : int
        Encoder threads (0: automatic).
    pix_fmt : str
        Pixel format of H.264 video (``"yuv444p"`` writes High 4:4:4 Predictive, as some
        DeepLabCut videos are).

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> p = write_test_video(tmp / "a.avi", 10, codec="mjpeg")
    >>> p.suffix
    '.avi'
    >>> t = vfr_timestamps(50)
    >>> p = write_test_video(tmp / "vfr.mp4", 50, timestamps=t)
    """
    import av

    path = Path(path)
    codec = codec.lower()
    ext = path.suffix.lower()
    if codec not in _CONTAINER_BY_CODEC:
        raise ValueError(f"Unknown codec {codec!r}; use 'h264' or 'mjpeg'.")
    if ext not in _CONTAINER_BY_CODEC[codec]:
        raise ValueError(
            f"Cannot write {codec} into a {ext or 'extensionless'} file ({path}); use one of "
            f"{sorted(_CONTAINER_BY_CODEC[codec])}."
        )
    width, height = size
    make = _maker(width, height, n_bits)
    if first_index + n_frames > 2**n_bits:
        raise ValueError(
            f"Frames {first_index}..{first_index + n_frames - 1} do not fit in a {n_bits}-bit "
            "code; pass a larger n_bits."
        )
    pts = None
    if timestamps is not None:
        if ext == ".avi":
            raise ValueError(
                "AVI stores a constant frame rate; write variable-frame-rate video to .mp4 or .mkv."
            )
        t = np.asarray(timestamps, dtype=float)
        if t.shape != (n_frames,) or np.any(np.diff(t) <= 0):
            raise ValueError(
                f"timestamps must be {n_frames} strictly increasing times, got shape {t.shape}."
            )
        time_base = Fraction(1, 90000)
        pts = np.rint(t * 90000).astype(np.int64)
    else:
        time_base = 1 / _rate(fps)

    frame_format = "yuvj420p" if codec == "mjpeg" else "yuv420p"
    path.parent.mkdir(parents=True, exist_ok=True)
    container = av.open(str(path), mode="w")
    try:
        stream = container.add_stream("libx264" if codec == "h264" else "mjpeg", rate=_rate(fps))
        stream.width, stream.height = width, height
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        if codec == "h264":
            stream.pix_fmt = pix_fmt
            stream.options = {
                "g": str(gop),
                "bf": str(bframes),
                "crf": str(crf),
                "preset": preset,
                "threads": str(threads),
            }
        else:
            stream.pix_fmt = "yuvj420p"
            pix_fmt = "yuvj420p"  # same samples, read as full range: no conversion
            stream.options = {"qmin": "2", "qmax": "3", "threads": str(threads)}
            stream.bit_rate = int(width * height * float(fps) * 4)
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(make(first_index + i), format=frame_format)
            if pix_fmt != frame_format:
                frame = frame.reformat(format=pix_fmt)
            frame.pts = int(pts[i]) if pts is not None else i
            frame.time_base = time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    finally:
        container.close()
    return path


def write_video_series(
    directory: str | os.PathLike,
    n_frames: int = 600,
    n_files: int = 3,
    *,
    counts: Sequence[int] | None = None,
    stem: str = "video",
    ext: str = ".mp4",
    timestamps: Sequence[float] | np.ndarray | None = None,
    **kwargs,
) -> tuple[list[Path], list[int]]:
    """Write one frame sequence split over several files, as a camera rolling over files does.

    File ``j`` holds global frames ``starting_frames[j]`` onwards and shows their global index
    in its frame code; each file's own timestamps start again at 0 (or, with ``timestamps``,
    are that file's share of the given times).

    Parameters
    ----------
    directory : str or os.PathLike
        Folder to write into (created if needed).
    n_frames : int
        Total number of frames over all files (ignored if ``counts`` is given).
    n_files : int
        Number of files; frames are split as evenly as possible (ignored if ``counts`` is given).
    counts : sequence of int, optional
        Frames per file.
    stem, ext : str
        Files are named ``f"{stem}_{j:03d}{ext}"``.
    timestamps : array-like of float, optional
        Times of all frames (variable frame rate); each file gets its slice.
    **kwargs
        Passed to :func:`write_test_video` (``size``, ``codec``, ``gop``, ``fps``, ...).

    Returns
    -------
    paths : list of pathlib.Path
        The files, in order.
    starting_frames : list of int
        Global index of each file's first frame (NWB ``ImageSeries.starting_frame``).

    Examples
    --------
    >>> import tempfile
    >>> paths, starts = write_video_series(tempfile.mkdtemp(), 90, 3)
    >>> starts
    [0, 30, 60]
    """
    directory = Path(directory)
    if counts is None:
        base, extra = divmod(n_frames, n_files)
        counts = [base + (1 if j < extra else 0) for j in range(n_files)]
    counts = [int(c) for c in counts]
    starts = [0, *np.cumsum(counts)[:-1].tolist()]
    t = None if timestamps is None else np.asarray(timestamps, dtype=float)
    if t is not None and t.size != sum(counts):
        raise ValueError(f"timestamps has {t.size} times for {sum(counts)} frames.")
    paths = []
    for j, (start, count) in enumerate(zip(starts, counts)):
        ts = None if t is None else t[start : start + count]
        paths.append(
            write_test_video(
                directory / f"{stem}_{j:03d}{ext}",
                count,
                first_index=start,
                timestamps=ts,
                **kwargs,
            )
        )
    return paths, [int(s) for s in starts]


def decode_frames(path: str | os.PathLike, *, format: str = "rgb24") -> np.ndarray:
    """Decode every frame of a file with a plain sequential PyAV loop (the reference).

    Parameters
    ----------
    path : str or os.PathLike
        Video file.
    format : str
        ``"rgb24"`` for ``(n, h, w, 3)`` RGB frames, ``"luma"`` for the Y plane as stored
        (``(n, h, w)``, no range conversion), or any PyAV ``to_ndarray`` format.

    Returns
    -------
    numpy.ndarray
        All frames in presentation order, stacked.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_test_video(pathlib.Path(tempfile.mkdtemp()) / "a.mp4", 5)
    >>> decode_frames(p, format="luma").shape
    (5, 120, 160)
    """
    import av

    out = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if format == "luma":
                plane = frame.planes[0]
                y = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
                out.append(y[: frame.height, : frame.width].copy())
            else:
                out.append(frame.to_ndarray(format=format))
    return np.stack(out)
