"""The frame table of an MP4/MOV video from its ``moov`` box, without reading the media.

A video's packet index (each frame's presentation timestamp and which frames
are keyframes) normally comes from a demux pass over the whole file. Over
HTTP that means downloading the whole video. MP4 and MOV files carry the same
table in their ``moov`` box (``stts`` decode durations, ``ctts`` composition
offsets, ``stss`` sync samples), which a few byte-range requests can fetch.

:func:`read_mp4_index` returns the samples of the first video track in
decode order. The caller checks them against the first packets FFmpeg
demuxes (FFmpeg may shift timestamps for edit lists) before trusting them.
Fragmented MP4 (``moof``) is not handled: the caller falls back to a scan.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Mp4Track", "read_mp4_index", "Mp4IndexError"]

Reader = Callable[[int, int], bytes]  # read(offset, size) -> bytes


class Mp4IndexError(ValueError):
    """The file is not an MP4/MOV this parser can index (it then falls back to a scan)."""


@dataclass(frozen=True)
class Mp4Track:
    """Samples of one video track, in decode order, in units of ``1 / timescale`` s."""

    timescale: int
    dts: np.ndarray  # int64
    cts: np.ndarray  # int64, dts + composition offset
    keyframe: np.ndarray  # bool
    edit_media_time: int  # first edit's media time (0 when there is no edit list)


def _iter_boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, payload_start, box_end) of the boxes in ``data[start:end]``."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise Mp4IndexError(f"box {kind!r} at {pos} has an impossible size {size}")
        yield kind, pos + header, pos + size
        pos += size


def _child(data: bytes, start: int, end: int, kind: bytes):
    for k, s, e in _iter_boxes(data, start, end):
        if k == kind:
            return s, e
    return None


def _find_moov(read: Reader, file_size: int) -> bytes:
    pos = 0
    while pos + 8 <= file_size:
        head = read(pos, 16)
        if len(head) < 8:
            break
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", head[8:16])[0]
            header = 16
        elif size == 0:
            size = file_size - pos
        if size < header:
            raise Mp4IndexError(f"top-level box {kind!r} at {pos} has an impossible size {size}")
        if kind == b"moov":
            return read(pos, size)
        if kind == b"moof":
            raise Mp4IndexError("fragmented MP4 (moof boxes): no complete sample table in moov")
        pos += size
    raise Mp4IndexError("no moov box: not an MP4/MOV file, or a truncated one")


def _full(data: bytes, s: int) -> tuple[int, int]:
    """(version, start of the rest) of a full box's payload."""
    return data[s], s + 4


def read_mp4_index(read: Reader, file_size: int) -> Mp4Track:
    """Parse the first video track's sample table.

    Parameters
    ----------
    read
        ``read(offset, size) -> bytes`` over the file (a local file or HTTP ranges).
    file_size
        Size of the file in bytes.

    Raises
    ------
    Mp4IndexError
        Not an MP4/MOV, fragmented, or without a video track.

    Examples
    --------
    >>> with open("video.mp4", "rb") as f:  # doctest: +SKIP
    ...     track = read_mp4_index(lambda o, n: (f.seek(o), f.read(n))[1], os.path.getsize("video.mp4"))
    """
    moov = _find_moov(read, file_size)
    _, ms, me = next(_iter_boxes(moov, 0, len(moov)))
    if _child(moov, ms, me, b"mvex") is not None:
        raise Mp4IndexError("fragmented MP4 (mvex): samples live in moof boxes")
    for kind, ts, te in _iter_boxes(moov, ms, me):
        if kind != b"trak":
            continue
        mdia = _child(moov, ts, te, b"mdia")
        if mdia is None:
            continue
        hdlr = _child(moov, *mdia, b"hdlr")
        if hdlr is None or moov[hdlr[0] + 8 : hdlr[0] + 12] != b"vide":
            continue
        return _parse_track(moov, ts, te, mdia)
    raise Mp4IndexError("no video track in moov")


def _parse_track(moov: bytes, ts: int, te: int, mdia: tuple[int, int]) -> Mp4Track:
    mdhd = _child(moov, *mdia, b"mdhd")
    if mdhd is None:
        raise Mp4IndexError("video track without mdhd")
    version, p = _full(moov, mdhd[0])
    timescale = struct.unpack(">I", moov[p + (16 if version == 1 else 8) : p + (20 if version == 1 else 12)])[0]
    minf = _child(moov, *mdia, b"minf")
    stbl = _child(moov, *minf, b"stbl") if minf else None
    if stbl is None:
        raise Mp4IndexError("video track without a sample table")
    stsz = _child(moov, *stbl, b"stsz")
    stts = _child(moov, *stbl, b"stts")
    if stsz is None or stts is None:
        raise Mp4IndexError("sample table without stsz or stts")
    _, p = _full(moov, stsz[0])
    n = struct.unpack(">I", moov[p + 4 : p + 8])[0]
    if n == 0:
        raise Mp4IndexError("no samples in moov (fragmented file?)")
    # decode timestamps
    _, p = _full(moov, stts[0])
    (count,) = struct.unpack(">I", moov[p : p + 4])
    entries = np.frombuffer(moov, dtype=">u4", count=2 * count, offset=p + 4).reshape(count, 2).astype(np.int64)
    deltas = np.repeat(entries[:, 1], entries[:, 0])
    if deltas.size < n:
        raise Mp4IndexError(f"stts covers {deltas.size} samples of {n}")
    dts = np.concatenate([[0], np.cumsum(deltas[: n - 1])]).astype(np.int64)
    # composition offsets
    cts = dts.copy()
    ctts = _child(moov, *stbl, b"ctts")
    if ctts is not None:
        version, p = _full(moov, ctts[0])
        (count,) = struct.unpack(">I", moov[p : p + 4])
        raw = np.frombuffer(moov, dtype=">u4", count=2 * count, offset=p + 4).reshape(count, 2)
        counts = raw[:, 0].astype(np.int64)
        offs = raw[:, 1].astype(np.uint32).view(np.int32).astype(np.int64) if version == 1 else raw[:, 1].astype(np.int64)
        offsets = np.repeat(offs, counts)
        if offsets.size < n:
            raise Mp4IndexError(f"ctts covers {offsets.size} samples of {n}")
        cts = dts + offsets[:n]
    # sync samples (all are keyframes without stss)
    stss = _child(moov, *stbl, b"stss")
    if stss is None:
        key = np.ones(n, dtype=bool)
    else:
        _, p = _full(moov, stss[0])
        (count,) = struct.unpack(">I", moov[p : p + 4])
        numbers = np.frombuffer(moov, dtype=">u4", count=count, offset=p + 4).astype(np.int64) - 1
        key = np.zeros(n, dtype=bool)
        key[numbers[(numbers >= 0) & (numbers < n)]] = True
    media_time = 0
    edts = _child(moov, ts, te, b"edts")
    if edts is not None:
        elst = _child(moov, *edts, b"elst")
        if elst is not None:
            version, p = _full(moov, elst[0])
            (count,) = struct.unpack(">I", moov[p : p + 4])
            q = p + 4
            for _ in range(count):
                if version == 1:
                    _dur, mt = struct.unpack(">Qq", moov[q : q + 16])
                    q += 20
                else:
                    _dur, mt = struct.unpack(">Ii", moov[q : q + 8])
                    q += 12
                if mt >= 0:  # the first non-empty edit
                    media_time = mt
                    break
    return Mp4Track(timescale=int(timescale), dts=dts, cts=cts, keyframe=key, edit_media_time=int(media_time))
