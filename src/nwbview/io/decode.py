"""Where a :class:`~nwbview.io.video.VideoReader`'s frames come from: the decoding backends.

:class:`FileBackend` decodes the video files of a series with PyAV, frame-accurately (see "How a
frame is found" in :mod:`nwbview.io.video`); :class:`ArrayBackend` serves the frames of an
in-file ``ImageSeries.data`` array. Both hand every frame they produce to the reader's cache
(``put``) and convert frames to RGB or grayscale arrays; the reader holds the locks.

Decoding a file
---------------
- Forward or seek: the decoder keeps decoding forward unless the target lies before it, or a
  keyframe lies more than ``_FORWARD_SLACK`` frames past it on the way. A seek follows the seek
  plan: the keyframe at or before the target by its pts, then by its dts (demuxers that index
  keyframes by dts), then the keyframe before that one, then the file's start.
- A frame decoded from a bad starting point is never returned: when FFmpeg flags the first frame
  after a seek corrupt, drops frames (the first one out comes after the keyframe) or fails, the
  backend starts again from an earlier keyframe and remembers the bad one in the packet index's
  ``bad_starts``, shared by every reader of the file.
- Far from the target the decoder skips frames no other frame refers to (``skip_frame="NONREF"``)
  until ``_SKIP_MARGIN`` frames (plus twice its frame threads) before it; of the frames on the
  way, only the last ``_KEEP_BEHIND`` are cached.
- An old x264 build named in the file's first frame is passed to the decoder
  (``x264_build``), so a decoder started at a later keyframe decodes as one started at the first.
- Decoders stay where they stopped. A target that no open decoder can reach by decoding forward
  opens another decoder on the file instead of moving the one parked elsewhere: up to
  ``_DECODERS_PER_FILE`` for a local file, within ``_PARKED_BYTES`` of memory, and one for a
  URL. When all are in use, the least recently used one seeks. Coming back near a place read
  before (comparing two moments, jumping back) then decodes forward from there instead of from
  the keyframe. Sequential reading uses one decoder.
- At most ``_MAX_OPEN_FILES`` files of a series are open at once (least recently used closed).
"""

from __future__ import annotations

import os
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from nwbview.errors import MissingFileError, NWBViewWarning, VideoError
from nwbview.io.packets import PacketIndex, get_index, index_key, open_container
from nwbview.io.paths import is_remote

__all__ = ["FileBackend", "ArrayBackend"]

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
#: At most this many decoders parked at different places of one local file (one for a URL: each
#: decoder holds its own connection) ...
_DECODERS_PER_FILE = 4
#: ... within this much memory for the decoders beyond the first. A decoder holds its reference
#: frames, its frame threads' copies and buffer pools: about ``_DECODER_FRAMES`` decoded frames
#: (measured: 27 MB at 640x480, 98 MB at 1280x1024, 156 MB at 1920x1080, H.264 4:2:0). So 4
#: decoders at 640x480, 3 at 1280x1024, 2 at 1920x1080, 1 at 4K.
_PARKED_BYTES = 256e6
_DECODER_FRAMES = 55

# 8-bit pixel formats whose first plane is the luma (Y) plane, copied as is by ``gray``.
_LUMA_FORMATS = frozenset(
    {
        "yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv440p",
        "yuvj440p", "yuv411p", "yuv410p", "yuva420p", "yuva422p", "yuva444p", "nv12", "nv21",
        "nv16", "gray",
    }
)  # fmt: skip


def _cropped(frame: np.ndarray, crop: tuple[int, int, int, int] | None) -> np.ndarray:
    """The ``(x, y, width, height)`` part of an (H, W[, C]) array (a view), or all of it."""
    if crop is None:
        return frame
    x, y, w, h = crop
    return frame[y : y + h, x : x + w]


def _luma_from_rgb(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma of RGB uint8, full range, rounded."""
    y = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return np.rint(y).astype(np.uint8)


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


class FileBackend:
    """Frames of one or more video files decoded with PyAV.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbview.testing.video import write_test_video, read_frame_index
    >>> from av.video.reformatter import VideoReformatter
    >>> path = write_test_video(pathlib.Path(tempfile.mkdtemp()) / "clip.mp4", 30)
    >>> backend = FileBackend([str(path)], source=None)
    >>> frame = backend.fetch(0, 12, put=lambda fi, k, frame: None)
    >>> backend.counts, read_frame_index(backend.rgb(frame, None, VideoReformatter()))
    ([30], 12)
    >>> backend.close()
    """

    kind = "files"

    def __init__(self, files: list[str], source: str | None):
        self.files = files
        self.source = source
        self.indexes: list[PacketIndex] = []
        # file -> its decoders, least recently used first; files least recently used first
        self.open_files: OrderedDict[int, list[_OpenFile]] = OrderedDict()
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
                container, stream = open_container(path, self._where(fi))
                try:
                    index = get_index(path, self._where(fi), container, stream)
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
        frame_bytes = self.width * self.height * self.bytes_per_pixel
        extra = int(_PARKED_BYTES // max(1.0, _DECODER_FRAMES * frame_bytes))
        self.decoders_per_file = 1 + max(0, min(_DECODERS_PER_FILE - 1, extra))

    def _where(self, fi: int) -> str | None:
        if self.source and len(self.files) > 1:
            return f"file {fi} of {self.source}"
        return self.source

    # -- open containers (LRU) ----------------------------------------------------------------
    def _keep_open(self, fi: int, of: _OpenFile, index: PacketIndex) -> None:
        self._configure(of, index)
        self.open_files.setdefault(fi, []).append(of)
        self.open_files.move_to_end(fi)
        while len(self.open_files) > _MAX_OPEN_FILES:
            _, old = self.open_files.popitem(last=False)
            self._close_all(old)

    @staticmethod
    def _close_all(decoders: list[_OpenFile]) -> None:
        for of in decoders:
            of.gen = None
            try:
                of.container.close()
            except Exception:  # pragma: no cover - closing twice or a dead container
                pass

    @staticmethod
    def _configure(of: _OpenFile, index: PacketIndex) -> None:
        of.stream.thread_type = "AUTO"
        if index.x264_build is not None:  # decode as a decoder started at the first frame does
            of.stream.codec_context.options = {"x264_build": str(index.x264_build)}

    def _open_decoder(self, fi: int) -> _OpenFile:
        container, stream = open_container(self.files[fi], self._where(fi))
        of = _OpenFile(container, stream, self.indexes[fi].position_map())
        self._keep_open(fi, of, self.indexes[fi])
        return of

    def _decoder_for(self, fi: int, k: int, index: PacketIndex) -> tuple[_OpenFile, bool]:
        """The decoder to read frame ``k`` of file ``fi`` with, and whether it must seek first.

        The decoder that reaches ``k`` by decoding forward with the least work (no keyframe more
        than ``_FORWARD_SLACK`` frames past it on the way); else a new decoder while the file
        has fewer than its limit, so the others stay parked; else the least recently used one.
        """
        decoders = self.open_files.get(fi)
        if decoders is None:
            return self._open_decoder(fi), True
        self.open_files.move_to_end(fi)
        best, kf = None, None
        for of in decoders:
            pos = of.next_pos
            if of.gen is None or pos is None or pos > k:
                continue
            if k - pos > _FORWARD_SLACK:
                if kf is None:
                    kf = index.start_at_or_before(k)
                if kf - pos > _FORWARD_SLACK:  # a keyframe well after the decoder: seek to it
                    continue
            if best is None or pos > best.next_pos:
                best = of
        if best is not None:
            decoders.remove(best)
            decoders.append(best)
            return best, False
        limit = 1 if is_remote(self.files[fi]) else self.decoders_per_file
        if len(decoders) < limit and any(of.next_pos is not None for of in decoders):
            return self._open_decoder(fi), True
        of = decoders.pop(0)
        decoders.append(of)
        return of, True

    # -- decoding -----------------------------------------------------------------------------
    def fetch(self, fi: int, k: int, put: Callable[[int, int, Any], None]):
        """Decode frame ``k`` (presentation order) of file ``fi``; ``put`` every frame passed."""
        index = self.indexes[fi]
        of, must_seek = self._decoder_for(fi, k, index)
        pos = of.next_pos
        attempts = None  # decoding forward: a seek plan is built only if that goes wrong
        if must_seek:
            attempts = self._seek_plan(index, k)
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
    def _seek_plan(index: PacketIndex, k: int) -> list[tuple[int, int]]:
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
    def _seek(of: _OpenFile, index: PacketIndex, ts: int, expected: int) -> None:
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
        for decoders in self.open_files.values():
            self._close_all(decoders)
        self.open_files.clear()

    def state(self) -> dict:
        keyed = []
        for path, index in zip(self.files, self.indexes):
            try:
                keyed.append((index_key(path), index))
            except OSError:
                pass
        return {"indexes": keyed}


class ArrayBackend:
    """Frames of an in-file ImageSeries ``data`` array, (n, h, w) or (n, h, w, 3).

    Examples
    --------
    >>> backend = ArrayBackend(np.full((4, 6, 8), 7, np.uint8), "frames")
    >>> frame = backend.fetch(0, 2, put=lambda fi, k, frame: None)
    >>> backend.counts, backend.rgb(frame, (0, 0, 4, 3)).shape
    ([4], (3, 4, 3))
    """

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
        frame = _cropped(frame, crop)
        if frame.ndim == 2:
            return np.repeat(frame[..., None], 3, axis=2)
        return np.array(frame)

    @staticmethod
    def gray(frame: np.ndarray, crop, reformatter=None) -> np.ndarray:
        frame = _cropped(frame, crop)
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
