"""The packet index of a video file: where each frame is, found without decoding.

Each file is indexed once per process by a demux-only pass (packet timestamps and keyframe
flags, no decoding; ~15 ms per 1800 frames). Frame ``k`` of a file is the ``k``-th frame in
presentation order, i.e. the ``k``-th smallest packet pts; :class:`PacketIndex` holds that table,
the file's keyframes and the keyframes found not to be clean starting points. A remote MP4/MOV is
indexed from its moov box instead (a few range requests), so it is not downloaded whole.

Packet indexes are cached per process, keyed by (path, size, mtime) for local files and by the
URL for remote ones; :func:`cache_indexes` adds the ones a pickled reader carries to a worker.
:func:`probe_video` describes a file from its index. Decoding is :mod:`nwbview.io.decode`'s job.
"""

from __future__ import annotations

import math
import os
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from nwbview.errors import MissingFileError, NWBViewWarning, VideoError
from nwbview.io.paths import is_remote, normalize_path

__all__ = [
    "PacketIndex",
    "open_container",
    "index_key",
    "get_index",
    "cache_indexes",
    "cached_index_frames",
    "probe_video",
    "median_fps",
]

#: Packet indexes kept per process (each is ~17 bytes per frame).
_INDEX_CACHE_SIZE = 256


@dataclass(frozen=True)
class PacketIndex:
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


_index_cache: OrderedDict[tuple, PacketIndex] = OrderedDict()
_index_lock = threading.Lock()


def index_key(path: str) -> tuple:
    """The cache key of a file's index: ``(url,)``, or ``(path, size, mtime_ns)`` of a local file.

    Raises ``OSError`` if a local file cannot be stat'ed.

    Examples
    --------
    >>> index_key("https://example.org/clip.mp4")
    ('https://example.org/clip.mp4',)
    """
    if is_remote(path):
        return (path,)
    st = os.stat(path)
    return (path, st.st_size, st.st_mtime_ns)


def open_container(path: str, source: str | None = None):
    """``av.open`` a file for reading; turn FFmpeg errors into nwbview errors.

    Returns ``(container, stream)``: the open container and its first video stream. ``source``
    (where the file came from) is quoted in error messages.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbview.testing.video import write_test_video
    >>> container, stream = open_container(write_test_video(pathlib.Path(tempfile.mkdtemp()) / "a.mp4", 3))
    >>> stream.codec_context.name
    'h264'
    >>> container.close()
    """
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


def _index_from_moov(container, stream, path: str) -> PacketIndex | None:
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
    keyframes = np.flatnonzero(track.keyframe[order]).astype(np.int64)
    return _stream_index(stream, cts[order].astype(np.int64), dts[order].astype(np.int64), keyframes, first)


def _build_index(container, stream, path: str, source: str | None) -> PacketIndex:
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
    return _stream_index(stream, pts, dts, np.flatnonzero(key).astype(np.int64), first)


def _stream_index(stream, pts: np.ndarray, dts: np.ndarray, keyframes: np.ndarray, first: bytes | None) -> PacketIndex:
    """The index of ``stream`` with this frame table (presentation order); ``first``: the first packet's head."""
    rate = stream.average_rate
    codec = stream.codec_context.name
    return PacketIndex(
        pts=pts,
        dts=dts,
        keyframes=keyframes,
        time_base=Fraction(stream.time_base) if stream.time_base else Fraction(1, 1),
        codec=codec,
        pix_fmt=stream.codec_context.format.name if stream.codec_context.format else "",
        width=int(stream.codec_context.width),
        height=int(stream.codec_context.height),
        average_rate=Fraction(rate) if rate else None,
        x264_build=_x264_build(codec, stream.codec_context.extradata, first),
    )


def get_index(path: str, source: str | None = None, container=None, stream=None) -> PacketIndex:
    """The packet index of ``path``, from the per-process cache or a demux pass.

    ``container`` and ``stream`` (from :func:`open_container`) are used, and left open, when
    given; otherwise the file is opened and closed here.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbview.testing.video import write_test_video
    >>> index = get_index(str(write_test_video(pathlib.Path(tempfile.mkdtemp()) / "a.mp4", 40)))
    >>> index.n, index.codec, int(index.keyframes[0])
    (40, 'h264', 0)
    """
    key = index_key(path)
    with _index_lock:
        index = _index_cache.get(key)
        if index is not None:
            _index_cache.move_to_end(key)
            return index
    own = container is None
    if own:
        container, stream = open_container(path, source)
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


def cache_indexes(keyed: Iterable[tuple[tuple, PacketIndex]]) -> None:
    """Put ``(index_key, index)`` pairs in this process's cache, keeping the indexes it has.

    A pickled :class:`~nwbview.io.video.VideoReader` carries its files' indexes this way, so the
    reader unpickled in a worker does not index the files again.

    Examples
    --------
    >>> cache_indexes([])
    """
    with _index_lock:
        for key, index in keyed:
            _index_cache.setdefault(key, index)


def cached_index_frames(path: str | os.PathLike) -> int | None:
    """Frame count of a file whose packet index is already cached in this process, else None."""
    path = normalize_path(path)
    try:
        key = index_key(path)
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
    index = get_index(path)
    t = index.times()
    fps = median_fps(t, index.average_rate)
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


def _seek_note(index: PacketIndex) -> str | None:
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


def median_fps(times: np.ndarray, fallback: Fraction | None = None) -> float:
    """The frame rate of the median step between ``times``, else ``fallback``, else NaN.

    Examples
    --------
    >>> median_fps(np.arange(10) / 30), median_fps(np.zeros(1), Fraction(25))
    (30.0, 25.0)
    """
    if times.size >= 2:
        d = np.diff(times)
        d = d[np.isfinite(d) & (d > 0)]
        if d.size:  # rounded to 10 significant digits: 30.0, not 30.000000000000107
            return float(f"{1.0 / np.median(d):.10g}")
    return float(fallback) if fallback else math.nan
