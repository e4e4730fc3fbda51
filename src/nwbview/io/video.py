"""Frame-accurate, lazy reading of behaviour video with PyAV.

:class:`VideoReader` gives one global frame index over the external video files of an NWB
``ImageSeries`` (or over in-file image data, :meth:`VideoReader.from_array`), on the session
clock, without ever loading the video whole.

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
length of the video. The frames decoded just before a target (``_KEEP_BEHIND`` of them) are
cached too, so stepping back is free; frames further back on the way from a keyframe are not
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

import math
import os
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from nwbview.errors import MissingFileError, NWBViewWarning, TimestampError, VideoError
from nwbview.io.paths import is_remote, normalize_path

__all__ = ["VideoReader", "probe_video"]

#: Decode forward rather than seek when the next keyframe before the target is at most this many
#: frames ahead of the decoder (a seek flushes the decoder and its frame threads).
_FORWARD_SLACK = 12
#: Frames before a far target decoded in full (plus twice the decoder's frame threads); frames
#: further away that no other frame refers to are skipped (``skip_frame="NONREF"``).
_SKIP_MARGIN = 16
#: On the way to a target, only the frames at most this many before it are cached (stepping
#: back); the ones before are dropped at once, so the decoder reuses their buffers.
_KEEP_BEHIND = 32
#: At most this many files of a multi-file series are kept open at once.
_MAX_OPEN_FILES = 4
#: The frame cache never holds more than this many bytes of decoded frames (it matters only for
#: very large frames: 64 frames of 1920x1080 yuv420p take ~200 MB, of 3840x2160 ~800 MB).
_CACHE_MAX_BYTES = 256 * 1024 * 1024
#: Packet indexes kept per process (each is ~17 bytes per frame).
_INDEX_CACHE_SIZE = 256

# 8-bit pixel formats whose first plane is the luma (Y) plane, copied as is by ``gray``.
_LUMA_FORMATS = frozenset(
    {
        "yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv440p",
        "yuvj440p", "yuv411p", "yuv410p", "yuva420p", "yuva422p", "yuva444p", "nv12", "nv21",
        "nv16", "gray",
    }
)  # fmt: skip


class _VideoValueError(VideoError, ValueError):
    """A bad argument to the reader (crop, downsample, starting_frames): also a ValueError."""


# --------------------------------------------------------------------------------------------
# Packet index (one demux pass per file, cached per process)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PacketIndex:
    """Presentation-order frame table of one file's first video stream."""

    pts: np.ndarray  # int64, sorted: pts of frame k
    dts: np.ndarray  # int64: dts of the packet holding frame k (pts if unknown)
    keyframes: np.ndarray  # int64: sorted positions k of keyframes
    time_base: Fraction
    codec: str
    pix_fmt: str
    width: int
    height: int
    average_rate: Fraction | None
    #: x264 build named in the stream's first access unit (its SEI version string), or None.
    x264_build: int | None = None
    #: Keyframes found not to be clean starting points (decoding from them was flagged corrupt
    #: or failed): seeks skip them. Filled by the reader; shared by every reader of the file.
    bad_starts: set[int] = field(default_factory=set, compare=False)

    @property
    def n(self) -> int:
        return int(self.pts.size)

    def start_at_or_before(self, k: int) -> int:
        """The last keyframe at or before ``k`` that is a clean starting point (else 0)."""
        i = int(np.searchsorted(self.keyframes, k, side="right")) - 1
        while i >= 0 and int(self.keyframes[i]) in self.bad_starts:
            i -= 1
        return int(self.keyframes[i]) if i >= 0 else 0

    def position_map(self) -> dict[int, int]:
        return dict(zip(self.pts.tolist(), range(self.n)))

    def times(self) -> np.ndarray:
        return self.pts.astype(np.float64) * float(self.time_base)


#: FFmpeg's H.264 decoder reads the encoder's build from x264's SEI version string ("x264 - core
#: 148 - H.264/MPEG-4 AVC codec - ...", in the first access unit) and works around bugs of old
#: builds (e.g. 4:4:4 with CABAC and 8x8 transforms before build 151). A decoder that starts at a
#: later keyframe never sees that SEI, so the reader passes the build as the ``x264_build`` option.
_X264_SEI = re.compile(rb"x264 - core (\d+)")
#: Bytes of a file's first packet searched for that SEI (x264 writes it first in the packet).
_SEI_SEARCH_BYTES = 4096


def _x264_build(codec: str, *chunks: bytes | None) -> int | None:
    """The x264 build named by an H.264 stream's SEI version string in ``chunks``, or None."""
    if codec != "h264":
        return None
    for chunk in chunks:
        match = _X264_SEI.search(chunk) if chunk else None
        if match and int(match.group(1)) > 0:
            return int(match.group(1))
    return None


def _head_bytes(packet) -> bytes:
    return bytes(memoryview(packet)[:_SEI_SEARCH_BYTES])


_index_cache: OrderedDict[tuple, _PacketIndex] = OrderedDict()
_index_lock = threading.Lock()


def _index_key(path: str) -> tuple:
    if is_remote(path):
        return (path,)
    st = os.stat(path)
    return (path, st.st_size, st.st_mtime_ns)


def _open_container(path: str, source: str | None = None):
    """``av.open`` a file for reading; turn FFmpeg errors into nwbview errors."""
    import av

    where = f" (from {source})" if source else ""
    options = None
    if is_remote(path):
        from nwbview.io.remote import timeout_s

        # FFmpeg's http protocol: time out instead of hanging, seek with range requests, and
        # ask for bounded ranges (128 KB) so that a seek or a close does not pull the rest of the file
        options = {"rw_timeout": str(int(timeout_s() * 1e6)), "seekable": "1", "reconnect": "1", "request_size": str(128 * 1024)}
    try:
        container = av.open(path, mode="r", options=options)
    except FileNotFoundError as exc:
        raise MissingFileError(
            f"Video file not found: {path}{where}. FFmpeg could not open it: {exc}. Check that "
            "the file exists at this path (external_file paths are relative to the NWB file's "
            "folder) or move the video there."
        ) from exc
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise VideoError(
            f"Cannot open video {path}{where}: FFmpeg says {exc}. The file is not a video "
            "FFmpeg can read (corrupt, truncated, or not a video under a video file name). Check "
            f"it with `ffprobe {path}`; re-export or re-copy the video, or point the "
            "ImageSeries' external_file at the right file."
        ) from exc
    try:
        if not container.streams.video:
            raise VideoError(
                f"{path}{where} holds no video stream (streams: "
                f"{[s.type for s in container.streams] or 'none'}). Point the ImageSeries' "
                "external_file at the video file itself."
            )
        stream = container.streams.video[0]
        if stream.codec_context is None:
            raise VideoError(
                f"Cannot decode {path}{where}: its video codec has no decoder in this FFmpeg "
                f"build (PyAV {av.__version__}, container format {container.format.name}). "
                "Re-encode the video to H.264 (`ffmpeg -i in -c:v libx264 out.mp4`) or install "
                "a PyAV build with that decoder."
            )
    except BaseException:
        container.close()
        raise
    return container, stream


def _index_from_moov(container, stream, path: str) -> _PacketIndex | None:
    """The index of a remote MP4/MOV from its moov box (a few range requests), or None.

    FFmpeg shifts MP4 timestamps by the edit list; the shift is measured on the
    first packets FFmpeg demuxes, and the table is used only if those match.
    """
    from nwbview.io.mp4index import Mp4IndexError, read_mp4_index
    from nwbview.io.remote import http_range, probe_url

    if not any(n in container.format.name.split(",") for n in ("mov", "mp4")):
        return None
    info = probe_url(path)
    try:
        track = read_mp4_index(lambda off, n: http_range(info.url, off, n), info.size)
    except Mp4IndexError:
        return None
    if Fraction(stream.time_base) != Fraction(1, track.timescale):
        return None
    head = []
    first = None
    for packet in container.demux(stream):
        if packet.size and first is None:
            first = _head_bytes(packet)
        if packet.size and packet.pts is not None:
            head.append((packet.pts, packet.dts if packet.dts is not None else packet.pts))
        if len(head) >= min(16, track.cts.size):
            break
    if not head:
        return None
    shift = head[0][0] - int(track.cts[0])
    dshift = head[0][1] - int(track.dts[0])
    if any(p != int(track.cts[i]) + shift or d != int(track.dts[i]) + dshift for i, (p, d) in enumerate(head)):
        return None
    if track.edit_media_time and shift == dshift != -int(track.edit_media_time):
        # FFmpeg over HTTP sometimes stamps the packets it reads first one frame off the clock
        # it uses after any seek (and so for every frame decoded after one); that clock is the
        # table's shifted by the edit list's media time, so take it from there.
        shift = dshift = -int(track.edit_media_time)
    cts, dts = track.cts + shift, track.dts + dshift
    if stream.frames and int(stream.frames) != cts.size:
        return None
    order = np.argsort(cts, kind="stable")
    rate = stream.average_rate
    codec = stream.codec_context.name
    return _PacketIndex(
        pts=cts[order].astype(np.int64),
        dts=dts[order].astype(np.int64),
        keyframes=np.flatnonzero(track.keyframe[order]).astype(np.int64),
        time_base=Fraction(stream.time_base),
        codec=codec,
        pix_fmt=stream.codec_context.format.name if stream.codec_context.format else "",
        width=int(stream.codec_context.width),
        height=int(stream.codec_context.height),
        average_rate=Fraction(rate) if rate else None,
        x264_build=_x264_build(codec, stream.codec_context.extradata, first),
    )


def _build_index(container, stream, path: str, source: str | None) -> _PacketIndex:
    """Demux-only pass: packet pts / dts / keyframe flags of the stream, no decoding.

    For a remote MP4/MOV the table comes from its moov box instead, so the
    video is not downloaded whole; other remote formats are scanned (with a
    warning: that reads the whole file once).
    """
    import av

    if is_remote(path):
        index = _index_from_moov(container, stream, path)
        if index is not None:
            container.seek(0, stream=stream)
            return index
        warnings.warn(
            f"{path} is not an MP4/MOV with a complete moov index: nwbview reads the whole video once to "
            "index its frames. Remux it to MP4 (`ffmpeg -i in -c copy -movflags +faststart out.mp4`) to "
            "stream it without that.",
            NWBViewWarning,
            stacklevel=4,
        )

    where = f" (from {source})" if source else ""
    codec = stream.codec_context.name
    pts_list: list[int] = []
    dts_list: list[int] = []
    key_list: list[bool] = []
    missing = 0
    first = None
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if first is None:
                first = _head_bytes(packet)
            pts, dts = packet.pts, packet.dts
            if pts is None:
                missing += 1
                pts = dts
            if pts is None:
                continue
            pts_list.append(pts)
            dts_list.append(pts if dts is None else dts)
            key_list.append(packet.is_keyframe)
    except av.error.FFmpegError as exc:
        raise VideoError(
            f"Cannot read the packets of {path}{where} ({codec}): FFmpeg says {exc} after "
            f"{len(pts_list)} packets. The file is truncated or corrupt; re-copy or re-export it."
        ) from exc
    if not pts_list:
        raise VideoError(
            f"{path}{where} ({codec}) has no video frames with timestamps"
            + (f" ({missing} packets have none)" if missing else "")
            + ". A raw elementary stream (.h264) has no presentation timestamps: remux it "
            "into a container, e.g. `ffmpeg -i in.h264 -c copy out.mp4`."
        )
    pts = np.asarray(pts_list, dtype=np.int64)
    order = np.argsort(pts, kind="stable")
    pts = pts[order]
    dts = np.asarray(dts_list, dtype=np.int64)[order]
    key = np.asarray(key_list, dtype=bool)[order]
    rate = stream.average_rate
    return _PacketIndex(
        pts=pts,
        dts=dts,
        keyframes=np.flatnonzero(key).astype(np.int64),
        time_base=Fraction(stream.time_base) if stream.time_base else Fraction(1, 1),
        codec=codec,
        pix_fmt=stream.codec_context.format.name if stream.codec_context.format else "",
        width=int(stream.codec_context.width),
        height=int(stream.codec_context.height),
        average_rate=Fraction(rate) if rate else None,
        x264_build=_x264_build(codec, stream.codec_context.extradata, first),
    )


def _get_index(path: str, source: str | None = None, container=None, stream=None) -> _PacketIndex:
    """The packet index of ``path``, from the per-process cache or a demux pass."""
    key = _index_key(path)
    with _index_lock:
        index = _index_cache.get(key)
        if index is not None:
            _index_cache.move_to_end(key)
            return index
    own = container is None
    if own:
        container, stream = _open_container(path, source)
    try:
        index = _build_index(container, stream, path, source)
    finally:
        if own:
            container.close()
    with _index_lock:
        _index_cache[key] = index
        while len(_index_cache) > _INDEX_CACHE_SIZE:
            _index_cache.popitem(last=False)
    return index


def cached_index_frames(path: str | os.PathLike) -> int | None:
    """Frame count of a file whose packet index is already cached in this process, else None."""
    path = normalize_path(path)
    try:
        key = _index_key(path)
    except OSError:
        return None
    with _index_lock:
        index = _index_cache.get(key)
    return None if index is None else index.n


def probe_video(path: str | os.PathLike) -> dict[str, Any]:
    """Cheap metadata of one video file, from its packet index (no decoding).

    Parameters
    ----------
    path : str or os.PathLike
        Local path or ``http(s)://`` URL.

    Returns
    -------
    dict
        ``codec`` (FFmpeg decoder name), ``pix_fmt``, ``width``, ``height``, ``n_frames`` (packets
        with a timestamp: the frames a full decode returns), ``n_keyframes``, ``fps`` (median
        frame rate from the timestamps), ``start_time`` (first frame's pts, seconds),
        ``duration`` (seconds from the first frame to the end of the last one),
        ``x264_build`` (the x264 build named in the stream's SEI, or None), ``bad_keyframes``
        (keyframes a reader in this process found not to be clean starting points) and
        ``seek_note`` (what makes seeking in this file slow or unsafe and how to fix it, or
        None).

    Raises
    ------
    MissingFileError
        If a local path does not exist.
    VideoError
        If the file cannot be opened or has no decodable video stream.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbview.testing.video import write_test_video
    >>> p = write_test_video(pathlib.Path(tempfile.mkdtemp()) / "a.mp4", 30, fps=30)
    >>> info = probe_video(p)
    >>> info["codec"], info["n_frames"], round(info["fps"], 3), round(info["duration"], 3)
    ('h264', 30, 30.0, 1.0)
    """
    path = normalize_path(path)
    if not is_remote(path) and not os.path.exists(path):
        raise MissingFileError(
            f"Video file not found: {path}. Check the path (relative paths are taken from the "
            f"current folder, {os.getcwd()})."
        )
    index = _get_index(path)
    t = index.times()
    fps = _median_fps(t, index.average_rate)
    period = 1.0 / fps if fps > 0 else 0.0
    return {
        "path": path,
        "codec": index.codec,
        "pix_fmt": index.pix_fmt,
        "width": index.width,
        "height": index.height,
        "n_frames": index.n,
        "n_keyframes": int(index.keyframes.size),
        "fps": fps,
        "start_time": float(t[0]),
        "duration": float(t[-1] - t[0] + period),
        "x264_build": index.x264_build,
        "bad_keyframes": sorted(index.bad_starts),
        "seek_note": _seek_note(index),
    }


#: x264 builds before this one wrote 4:4:4 streams that FFmpeg decodes right only when it knows
#: the build (a CABAC 8x8-transform bug, measured: builds >= 151 decode the same either way).
_X264_444_FIXED = 151
_REENCODE = "`ffmpeg -i in.mp4 -c:v libx264 -pix_fmt yuv420p -g 30 out.mp4`"


def _seek_note(index: _PacketIndex) -> str | None:
    """What makes seeking in a file slow or unsafe, for ``nwbview info``; None if nothing."""
    if index.bad_starts:
        return (
            f"{len(index.bad_starts)} of {index.keyframes.size} keyframes are not clean starting "
            "points (FFmpeg flagged the frames decoded from them corrupt): nwbview decodes from "
            "an earlier keyframe instead, so random access is slower. For fast seeking, "
            f"re-encode: {_REENCODE}"
        )
    if (
        index.x264_build is not None
        and index.x264_build < _X264_444_FIXED
        and "444" in index.pix_fmt
    ):
        return (
            f"H.264 4:4:4 from x264 build {index.x264_build} (< {_X264_444_FIXED}): FFmpeg "
            "decodes it right only when it read the build from the first frame, so readers "
            "that seek (OpenCV, ffmpeg -ss, many video players) show smeared, green frames "
            "after a seek. nwbview passes the build to its decoder and reads exact frames. "
            f"For other tools, re-encode: {_REENCODE}"
        )
    return None


def _median_fps(times: np.ndarray, fallback: Fraction | None = None) -> float:
    if times.size >= 2:
        d = np.diff(times)
        d = d[np.isfinite(d) & (d > 0)]
        if d.size:  # rounded to 10 significant digits: 30.0, not 30.000000000000107
            return float(f"{1.0 / np.median(d):.10g}")
    return float(fallback) if fallback else math.nan


# --------------------------------------------------------------------------------------------
# Pixel helpers
# --------------------------------------------------------------------------------------------


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


def _luma_from_rgb(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma of RGB uint8, full range, rounded."""
    y = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return np.rint(y).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Backends: where frames come from
# --------------------------------------------------------------------------------------------


class _OpenFile:
    __slots__ = ("container", "stream", "gen", "next_pos", "posmap", "unchecked")

    def __init__(self, container, stream, posmap):
        self.container = container
        self.stream = stream
        self.gen: Iterator | None = None
        self.next_pos: int | None = None  # position of the next frame the decoder will return
        self.posmap: dict[int, int] = posmap
        # Where the decoder was last started (seek), until its first frame shows that this is a
        # clean starting point; None once it has.
        self.unchecked: int | None = None


class _FileBackend:
    """Frames of one or more video files decoded with PyAV."""

    kind = "files"

    def __init__(self, files: list[str], source: str | None):
        self.files = files
        self.source = source
        self.indexes: list[_PacketIndex] = []
        self.open_files: OrderedDict[int, _OpenFile] = OrderedDict()
        missing = [p for p in files if not is_remote(p) and not os.path.isfile(p)]
        if missing:
            where = f" (resolved from {source})" if source else ""
            listed = "\n  ".join(missing)
            raise MissingFileError(
                f"Video file{'s' if len(missing) > 1 else ''} not found{where}:\n  {listed}\n"
                f"{len(missing)} of {len(files)} external video file(s) do not exist at these "
                "paths. Relative external_file paths are resolved against the NWB file's folder: "
                "put the video file(s) there, or fix the paths in the ImageSeries' external_file."
            )
        try:
            for fi, path in enumerate(files):
                container, stream = _open_container(path, self._where(fi))
                try:
                    index = _get_index(path, self._where(fi), container, stream)
                except BaseException:
                    container.close()
                    raise
                self.indexes.append(index)
                # The demux pass left the container at its end: the first read seeks anyway.
                self._keep_open(fi, _OpenFile(container, stream, index.position_map()), index)
        except BaseException:
            self.close()
            raise
        self.codecs = [ix.codec for ix in self.indexes]
        sizes = {(ix.width, ix.height) for ix in self.indexes}
        if len(sizes) > 1:
            detail = ", ".join(
                f"{os.path.basename(p)}: {ix.width}x{ix.height}"
                for p, ix in zip(files, self.indexes)
            )
            self.close()
            raise VideoError(
                f"The video files of {source or 'this series'} have different frame sizes "
                f"({detail}); one reader needs one frame size. Re-encode them to the same size "
                "or read each file with its own VideoReader."
            )
        self.width, self.height = self.indexes[0].width, self.indexes[0].height
        fmt = self.indexes[0].pix_fmt
        self.bytes_per_pixel = 1.5 if "420" in fmt or fmt.startswith("nv1") else 3.0
        self.counts = [ix.n for ix in self.indexes]

    def _where(self, fi: int) -> str | None:
        if self.source and len(self.files) > 1:
            return f"file {fi} of {self.source}"
        return self.source

    # -- open containers (LRU) ----------------------------------------------------------------
    def _keep_open(self, fi: int, of: _OpenFile, index: _PacketIndex) -> None:
        self.open_files[fi] = of
        self._configure(of, index)
        while len(self.open_files) > _MAX_OPEN_FILES:
            _, old = self.open_files.popitem(last=False)
            old.gen = None
            old.container.close()

    @staticmethod
    def _configure(of: _OpenFile, index: _PacketIndex) -> None:
        of.stream.thread_type = "AUTO"
        if index.x264_build is not None:  # decode as a decoder started at the first frame does
            of.stream.codec_context.options = {"x264_build": str(index.x264_build)}

    def _file(self, fi: int) -> _OpenFile:
        of = self.open_files.get(fi)
        if of is not None:
            self.open_files.move_to_end(fi)
            return of
        container, stream = _open_container(self.files[fi], self._where(fi))
        of = _OpenFile(container, stream, self.indexes[fi].position_map())
        self._keep_open(fi, of, self.indexes[fi])
        return of

    # -- decoding -----------------------------------------------------------------------------
    def fetch(self, fi: int, k: int, put: Callable[[int, int, Any], None]):
        """Decode frame ``k`` (presentation order) of file ``fi``; ``put`` every frame passed."""
        of = self.open_files.get(fi)
        if of is None or len(self.open_files) > 1:
            of = self._file(fi)
        index = self.indexes[fi]
        pos = of.next_pos
        attempts = None  # decoding forward: a seek plan is built only if that goes wrong
        if of.gen is None or pos is None or pos > k:
            attempts = self._seek_plan(index, k)
        elif k - pos > _FORWARD_SLACK:
            kf = index.start_at_or_before(k)
            if kf - pos > _FORWARD_SLACK:  # a keyframe well after the decoder: seek to it
                attempts = self._seek_plan(index, k)
        if attempts is not None:
            self._seek(of, index, *attempts[0])
            pos = of.next_pos
        if k - pos <= _SKIP_MARGIN:  # the usual case: the target is (nearly) the next frame
            return self._decode_to(of, fi, index, k, attempts, put, 0)
        # Far from the target, let the decoder skip frames no other frame refers to (most
        # B-frames): 30-40% less work on the way to a random frame. Decoding is back to normal
        # well before the target (``margin`` frames, more than the decoder's delay), so the
        # target and the frames just before it are decoded and cached. Should the target be
        # skipped anyway, the overshoot check in _decode_to seeks again without skipping.
        ctx = of.stream.codec_context
        margin = _SKIP_MARGIN + 2 * min(ctx.thread_count or 16, 16)
        if k - pos <= margin:
            return self._decode_to(of, fi, index, k, attempts, put, 0)
        ctx.skip_frame = "NONREF"
        try:
            return self._decode_to(of, fi, index, k, attempts, put, margin)
        finally:
            if ctx.skip_frame != "DEFAULT":
                ctx.skip_frame = "DEFAULT"

    def _decode_to(self, of, fi, index, k, attempts, put, margin):
        import av

        ctx = of.stream.codec_context
        pos = of.next_pos
        attempt = 0
        target = int(index.pts[k])
        while True:
            try:
                frame = next(of.gen) if of.gen is not None else None
            except StopIteration:
                frame = None
            except av.error.FFmpegError as exc:
                start = of.unchecked
                of.gen, of.next_pos, of.unchecked = None, None, None
                if start:  # the decoder was just started at this keyframe: start earlier
                    attempts, attempt = self._restart_before(of, index, start, k), 0
                    pos = of.next_pos
                    continue
                raise VideoError(
                    f"Decoding frame {k} of {self.files[fi]} ({index.codec}) failed: FFmpeg "
                    f"says {exc}. The file is damaged near this frame; re-copy or re-export it "
                    "(or re-encode it: `ffmpeg -i in -c:v libx264 out.mp4`)."
                ) from exc
            if frame is not None and of.unchecked is not None:
                start, of.unchecked = of.unchecked, None
                first = of.posmap.get(frame.pts) if frame.pts is not None else None
                # FFmpeg flags the first frame decoded from this keyframe as corrupt (and the
                # frames after it may be wrong, unflagged), or it drops the frames it cannot
                # decode, so the first one out comes after the keyframe: none of them is kept.
                if start and (frame.is_corrupt or (first is not None and first > start)):
                    attempts, attempt = self._restart_before(of, index, start, k), 0
                    pos = of.next_pos
                    continue
            if frame is None:
                of.gen, of.next_pos = None, None
                found = None
            else:
                pts = frame.pts
                found = of.posmap.get(pts) if pts is not None else None
                if found is None:  # no usable pts: assume presentation order continues
                    found = pos if pos is not None else index.start_at_or_before(k)
                of.next_pos = pos = found + 1
                if found >= k - _KEEP_BEHIND:
                    put(fi, found, frame)
                if found == k:
                    return frame
                if found < k:
                    if margin and found >= k - margin:
                        ctx.skip_frame = "DEFAULT"
                        margin = 0
                    continue
            # Overshot the target (landed after it) or ran out of frames: seek earlier.
            if margin:
                ctx.skip_frame = "DEFAULT"
                margin = 0
            if attempts is None:
                attempts = self._seek_plan(index, k)
                attempt = -1
            attempt += 1
            if attempt >= len(attempts):
                got = "the end of the file" if found is None else f"frame {found} (pts {frame.pts})"
                raise VideoError(
                    f"Cannot decode frame {k} (pts {target}, {index.codec}) of {self.files[fi]}: "
                    f"seeking to every earlier keyframe reached {got} instead. The file's "
                    "timestamps or keyframe flags are inconsistent (a damaged or oddly muxed "
                    "file). Remux it (`ffmpeg -i in -c copy out.mp4`) or re-encode it."
                )
            self._seek(of, index, *attempts[attempt])
            pos = of.next_pos

    def _restart_before(self, of, index, start: int, k: int) -> list[tuple[int, int]]:
        """Remember that keyframe ``start`` is not a clean starting point; seek before it."""
        index.bad_starts.add(start)
        attempts = self._seek_plan(index, k)
        self._seek(of, index, *attempts[0])
        return attempts

    @staticmethod
    def _seek_plan(index: _PacketIndex, k: int) -> list[tuple[int, int]]:
        """(timestamp, expected position) seeks to try, most to least direct."""
        kf = index.start_at_or_before(k)
        plan = [(int(index.pts[kf]), kf)]
        if index.dts[kf] < index.pts[kf]:  # demuxers that index keyframes by dts (mp4)
            plan.append((int(index.dts[kf]), kf))
        prev = index.start_at_or_before(kf - 1) if kf > 0 else None
        if prev is not None and prev < kf:
            plan.append((int(min(index.dts[prev], index.pts[prev])), prev))
        start = int(min(index.dts.min(), index.pts[0]))
        plan.append((start, 0))
        return plan

    @staticmethod
    def _seek(of: _OpenFile, index: _PacketIndex, ts: int, expected: int) -> None:
        import av

        of.gen, of.next_pos = None, None
        try:
            of.container.seek(ts, stream=of.stream, backward=True, any_frame=False)
        except av.error.FFmpegError:
            # Some demuxers refuse timestamps before the first packet: fall back to the start.
            try:
                of.container.seek(0, backward=True, any_frame=False)
            except av.error.FFmpegError as exc:
                raise VideoError(
                    f"Cannot seek in {of.container.name} ({index.codec}): FFmpeg says {exc}. "
                    "The file (or the server, for a URL) does not allow seeking; remux it "
                    "(`ffmpeg -i in -c copy out.mp4`) or copy it locally."
                ) from exc
            expected = 0
        of.gen = of.container.decode(of.stream)
        of.next_pos = of.unchecked = expected

    # -- conversion ---------------------------------------------------------------------------
    @staticmethod
    def rgb(frame, crop: tuple[int, int, int, int] | None, reformatter) -> np.ndarray:
        # One reformatter (swscale context) per reader, reused for every frame: the
        # frame.to_ndarray(format=...) shortcut builds a new context and thread pool per frame,
        # which costs more than the conversion itself (~2x slower at 640x480).
        arr = reformatter.reformat(frame, format="rgb24").to_ndarray()
        if crop is not None:
            x, y, w, h = crop
            arr = arr[y : y + h, x : x + w]
        if frame.format.name == "rgb24":  # a view of the cached frame: never hand it out
            return arr.copy()
        return np.ascontiguousarray(arr)

    @staticmethod
    def gray(frame, crop: tuple[int, int, int, int] | None, reformatter) -> np.ndarray:
        width, height = frame.width, frame.height
        x, y, w, h = crop if crop is not None else (0, 0, width, height)
        if frame.format.name in _LUMA_FORMATS:
            plane = frame.planes[0]
            ls = plane.line_size
            if ls > 0:
                y_plane = np.ndarray((height, width), np.uint8, buffer=plane, strides=(ls, 1))
                return y_plane[y : y + h, x : x + w].copy()
        gray = reformatter.reformat(frame, format="gray").to_ndarray()
        return np.array(gray[y : y + h, x : x + w])

    def close(self) -> None:
        for of in self.open_files.values():
            of.gen = None
            try:
                of.container.close()
            except Exception:  # pragma: no cover - closing twice or a dead container
                pass
        self.open_files.clear()

    def state(self) -> dict:
        keyed = []
        for path, index in zip(self.files, self.indexes):
            try:
                keyed.append((_index_key(path), index))
            except OSError:
                pass
        return {"indexes": keyed}


class _ArrayBackend:
    """Frames of an in-file ImageSeries ``data`` array, (n, h, w) or (n, h, w, 3)."""

    kind = "array"

    def __init__(
        self, data, name: str, h5_location: tuple[str, str] | None = None, quiet: bool = False
    ):
        self.data = data
        self.h5_location = h5_location
        self._h5file = None
        shape = tuple(getattr(data, "shape", ()))
        if len(shape) not in (3, 4) or (len(shape) == 4 and shape[3] not in (1, 3, 4)):
            raise VideoError(
                f"In-file image data{' of ' + name if name else ''} has shape {shape}; expected "
                "(frames, height, width) grayscale or (frames, height, width, 3) RGB. Check "
                "which dataset you passed (ImageSeries.data)."
            )
        self.n = int(shape[0])
        self.height, self.width = int(shape[1]), int(shape[2])
        self.channels = 1 if len(shape) == 3 else int(shape[3])
        self.bytes_per_pixel = 1 if self.channels == 1 else 3
        self.dtype = np.dtype(getattr(data, "dtype", np.uint8))
        self.counts = [self.n]
        self.codecs = ["raw"]
        if self.dtype != np.uint8 and self.dtype != np.bool_ and not quiet:
            warnings.warn(
                f"In-file image data{' of ' + name if name else ''} is {self.dtype}, not uint8: "
                "values are clipped to 0-255 and cast to uint8 when read. Rescale the data to "
                "uint8 first if its range is different.",
                NWBViewWarning,
                stacklevel=3,
            )

    def fetch(self, fi: int, k: int, put: Callable[[int, int, Any], None]):
        frame = np.asarray(self.data[k])
        if self.dtype == np.bool_:
            frame = frame.astype(np.uint8) * 255
        elif self.dtype != np.uint8:
            frame = np.clip(frame, 0, 255).astype(np.uint8)
        if frame.ndim == 3:
            if frame.shape[2] == 1:
                frame = frame[..., 0]
            elif frame.shape[2] == 4:
                frame = frame[..., :3]
        put(fi, k, frame)
        return frame

    @staticmethod
    def rgb(frame: np.ndarray, crop, reformatter=None) -> np.ndarray:
        if crop is not None:
            x, y, w, h = crop
            frame = frame[y : y + h, x : x + w]
        if frame.ndim == 2:
            return np.repeat(frame[..., None], 3, axis=2)
        return np.array(frame)

    @staticmethod
    def gray(frame: np.ndarray, crop, reformatter=None) -> np.ndarray:
        if crop is not None:
            x, y, w, h = crop
            frame = frame[y : y + h, x : x + w]
        if frame.ndim == 2:
            return np.array(frame)
        return _luma_from_rgb(frame)

    def close(self) -> None:
        if self._h5file is not None:
            self._h5file.close()
            self._h5file = None

    def state(self) -> dict:
        if self.h5_location is not None:
            return {"h5": self.h5_location}
        return {"data": self.data}


# --------------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------------


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
        backend = _FileBackend(files, source)
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
        backend = _ArrayBackend(data, name, h5_location)
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
        self.fps = _median_fps(self.times, self._rate_fallback())
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
                period = 1.0 / _median_fps(t, index.average_rate) if t.size else 0.0
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
            with _index_lock:
                for key, index in state.get("indexes", []):
                    _index_cache.setdefault(key, index)
            backend = _FileBackend(list(state["files"]), state["source"])
            files = state["files"]
        else:
            if "h5" in state:
                import h5py

                filename, dataset = state["h5"]
                h5file = h5py.File(filename, "r")
                backend = _ArrayBackend(h5file[dataset], state["name"], state["h5"], quiet=True)
                backend._h5file = h5file
            else:
                backend = _ArrayBackend(state["data"], state["name"], quiet=True)
            files = []
        self._setup(backend, files, state["starting_frames"], state["timestamps"], state["name"],
                    state["crop"], state["downsample"], state["cache_size"], state["source"],
                    quiet=True)  # fmt: skip
