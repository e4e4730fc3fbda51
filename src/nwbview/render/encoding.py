"""Encoding: H.264 chunks with PyAV, and joining them into the output without re-encoding.

The timeline is cut into chunks of at most :data:`CHUNK_FRAMES` frames whose boundaries depend
on the number of frames only, never on the number of workers (:func:`export_bounds`: an even
number of equal chunks, so two workers finish together). Each chunk is encoded by a fresh libx264 encoder with
``threads=1`` (so it starts with an IDR frame: a closed GOP) into its own small MP4
(:func:`encode_chunk`). :class:`Muxer` appends the finished chunks, in order, to the output:
packets are copied, their timestamps checked and shifted onto the timeline. Output frames are
therefore bit-identical whatever the number of workers; memory holds one chunk's packets.

Examples
--------
>>> from nwbview.render.encoding import chunk_bounds, segments
>>> chunk_bounds(500, 240)
[(0, 240), (240, 480), (480, 500)]
>>> segments(5, 2)
[[0, 1, 2], [3, 4]]
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Iterator

import numpy as np

from nwbview.render.export_errors import ExportError
from nwbview.render.plan import ExportPlan, Renderer

__all__ = [
    "CHUNK_FRAMES",
    "X264_PRESETS",
    "Muxer",
    "YuvFrame",
    "chunk_bounds",
    "chunk_path",
    "encode_chunk",
    "encoder_options",
    "export_bounds",
    "render_segment",
    "segments",
]

#: frames per independently encoded chunk (a closed GOP each); fixed, whatever the worker count
CHUNK_FRAMES = 240
#: below twice this many frames an export is one chunk (see :func:`export_bounds`)
MIN_CHUNK_FRAMES = 60
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")


def _encoder(container, plan: ExportPlan, crf: int, preset: str):
    stream = container.add_stream("libx264", rate=plan.rate)
    W, H = plan.size
    stream.width, stream.height = W, H
    stream.pix_fmt = "yuv420p"
    stream.time_base = plan.time_base
    stream.codec_context.time_base = plan.time_base
    stream.options = encoder_options(crf, preset)
    return stream


def encoder_options(crf: int, preset: str) -> dict[str, str]:
    """libx264's options: one thread (a deterministic encode) and the colour tags.

    OpenCV's RGB -> I420 is BT.601, limited range: the stream says so in its VUI. The tags go
    through ``x264-params``, not the codec context's colour fields, which made encodes of
    identical frames differ from run to run (PyAV 18.1, x264 core 165).

    Examples
    --------
    >>> encoder_options(23, "veryfast")["threads"]
    '1'
    """
    return {
        "crf": str(crf),
        "preset": preset,
        "threads": "1",
        "g": str(CHUNK_FRAMES),
        "x264-params": "colorprim=smpte170m:transfer=smpte170m:colormatrix=smpte170m:range=tv",
    }


def encode_chunk(renderer: Renderer, plan: ExportPlan, k0: int, k1: int, path: str, crf: int, preset: str, tick=None) -> None:
    """Encode frames ``[k0, k1)`` into ``path``: a fresh encoder, so a closed GOP from an IDR.

    Examples
    --------
    >>> encode_chunk(Renderer(plan), plan, 0, 240, "chunk_000000.mp4", 23, "veryfast")  # doctest: +SKIP
    """
    import av

    renderer.forget()
    container = av.open(path, mode="w", format="mp4")
    try:
        stream = _encoder(container, plan, crf, preset)
        tb = plan.time_base
        yuv = YuvFrame(*plan.size)
        n_since = 0
        for k in range(k0, k1):
            frame = yuv.fill(renderer.render(k))
            frame.pts = int(plan.pts[k])
            frame.time_base = tb
            for packet in stream.encode(frame):
                container.mux(packet)
            n_since += 1
            if tick is not None and n_since >= 24:
                tick(n_since)
                n_since = 0
        for packet in stream.encode():
            container.mux(packet)
        if tick is not None and n_since:
            tick(n_since)
    finally:
        container.close()


class YuvFrame:
    """One ``yuv420p`` frame, refilled from an RGB image for each frame an encoder is sent.

    OpenCV converts RGB to I420 (BT.601, limited range) into a buffer kept between frames, whose
    planes are then copied into the frame's own (their rows are padded). Allocating a new frame
    for every picture cost more than the conversion itself (page faults on fresh memory: 1.0 ms
    against 0.27 ms at 1000x480). Reuse is safe because an encoder copies the picture when it is
    sent (libx264 keeps its own copy of every frame it holds for lookahead): once
    ``stream.encode(frame)`` has returned, the frame can be refilled.

    Examples
    --------
    >>> import numpy as np
    >>> yuv = YuvFrame(64, 48)
    >>> frame = yuv.fill(np.zeros((48, 64, 3), np.uint8))
    >>> frame.format.name, frame.width, frame.height
    ('yuv420p', 64, 48)
    """

    def __init__(self, width: int, height: int):
        import av
        import cv2

        self.cv2 = cv2
        if width % 2 or height % 2:
            raise ValueError(f"yuv420p needs an even width and height, not {width}x{height}")
        self.frame = av.VideoFrame(width, height, "yuv420p")
        self.buf = np.empty((height * 3 // 2, width), np.uint8)
        h2, w2 = height // 2, width // 2
        # the I420 buffer holds Y (height rows), then U and V (a quarter of the pixels each)
        flat = self.buf.reshape(-1)
        y, c = width * height, h2 * w2
        self.src = [self.buf[:height], flat[y : y + c].reshape(h2, w2), flat[y + c :].reshape(h2, w2)]
        self.dst = [
            np.frombuffer(p, np.uint8).reshape(-1, p.line_size)[:h, :w]
            for p, (h, w) in zip(self.frame.planes, ((height, width), (h2, w2), (h2, w2)))
        ]

    def fill(self, rgb: np.ndarray):
        """Convert ``rgb`` (``(height, width, 3)`` uint8) into the frame and return the frame."""
        self.cv2.cvtColor(rgb, self.cv2.COLOR_RGB2YUV_I420, dst=self.buf)
        for s, d in zip(self.src, self.dst):
            d[:] = s
        return self.frame


def export_bounds(n: int) -> list[tuple[int, int]]:
    """The chunks an export of ``n`` frames is cut into: a function of ``n`` alone (never of the
    worker count, so the output is the same whatever it is).

    At most :data:`CHUNK_FRAMES` frames a chunk, in an even number of equal chunks (sizes differ
    by one frame at most) so that two workers get the same number of frames; a clip shorter than
    ``2 * MIN_CHUNK_FRAMES`` is one chunk (one worker: starting another costs more than it saves).

    Examples
    --------
    >>> [b - a for a, b in export_bounds(600)]  # 3 chunks of 240 would split 480/120 between 2 workers
    [150, 150, 150, 150]
    >>> len(export_bounds(18000)), export_bounds(50)
    (76, [(0, 50)])
    """
    if n < 2 * MIN_CHUNK_FRAMES:
        return [(0, n)] if n > 0 else []
    count = -(-n // CHUNK_FRAMES)
    count += count % 2
    base, extra = divmod(n, count)
    out, a = [], 0
    for i in range(count):
        b = a + base + (1 if i < extra else 0)
        out.append((a, b))
        a = b
    return out


def chunk_bounds(n: int, chunk: int) -> list[tuple[int, int]]:
    """``[start, stop)`` frame bounds of the chunks of ``chunk`` frames that cut ``n`` frames.

    Examples
    --------
    >>> chunk_bounds(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    """
    return [(a, min(a + chunk, n)) for a in range(0, n, chunk)]


def segments(n_chunks: int, workers: int) -> list[list[int]]:
    """Contiguous runs of chunk ids, one per worker, as equal as possible.

    Examples
    --------
    >>> segments(3, 4)
    [[0], [1], [2]]
    """
    base, extra = divmod(n_chunks, workers)
    out, c = [], 0
    for w in range(workers):
        m = base + (1 if w < extra else 0)
        out.append(list(range(c, c + m)))
        c += m
    return [s for s in out if s]


def render_segment(plan: ExportPlan, chunk_ids: list[int], bounds: list[tuple[int, int]], tmpdir: str, crf: int, preset: str, tick=None) -> Iterator[int]:
    """Encode chunks ``chunk_ids`` (a contiguous run) into ``tmpdir``, yielding each id when its file is complete.

    One renderer draws the whole run, so the video is decoded forward with one seek; ``tick(n)``
    is called as frames are done. The plan's video readers are closed at the end.

    Examples
    --------
    >>> for c in render_segment(plan, [0, 1], chunk_bounds(len(plan), CHUNK_FRAMES), tmp, 23, "veryfast"):  # doctest: +SKIP
    ...     print(chunk_path(tmp, c))
    """
    renderer = Renderer(plan)
    try:
        for c in chunk_ids:
            k0, k1 = bounds[c]
            encode_chunk(renderer, plan, k0, k1, chunk_path(tmpdir, c), crf, preset, tick)
            yield c
    finally:
        renderer.close()


def chunk_path(tmpdir: str, c: int) -> str:
    """The file of chunk ``c`` in ``tmpdir``.

    Examples
    --------
    >>> chunk_path("/tmp/x", 3)
    '/tmp/x/chunk_000003.mp4'
    """
    return os.path.join(tmpdir, f"chunk_{c:06d}.mp4")


class Muxer:
    """Appends encoded chunk files, in order, to the output without re-encoding.

    Examples
    --------
    >>> muxer = Muxer("clip.mp4", "mp4", plan)  # doctest: +SKIP
    >>> muxer.append(chunk_path(tmp, 0), 0, 240); muxer.close()  # doctest: +SKIP
    """

    def __init__(self, path: str, fmt: str, plan: ExportPlan):
        import av

        self.av = av
        self.out = av.open(path, mode="w", format=fmt, options={"movflags": "+faststart"})
        self.stream = None
        self.plan = plan
        self.last_dts: int | None = None
        self.n_packets = 0
        ends = np.append(plan.pts[1:], plan.pts[-1] + (plan.pts[-1] - plan.pts[-2] if len(plan.pts) > 1 else max(1, int(round(1 / float(plan.rate) / float(plan.time_base))))))
        self.durations = ends - plan.pts

    def append(self, chunk_file: str, k0: int, k1: int) -> None:
        av = self.av
        tb = self.plan.time_base
        with av.open(chunk_file, mode="r") as inp:
            ins = inp.streams.video[0]
            if self.stream is None:
                self.stream = self.out.add_stream_from_template(ins)
                self.stream.time_base = tb
            packets = [p for p in inp.demux(ins) if p.size]
            in_tb = ins.time_base
            def conv(v):
                return int(round(Fraction(int(v)) * Fraction(in_tb) / tb))
            pts = [conv(p.pts) for p in packets]
            if len(pts) != k1 - k0:
                raise ExportError(f"Chunk {chunk_file} holds {len(pts)} frames where {k1 - k0} were encoded; the encoder dropped or added frames.")
            shift = int(self.plan.pts[k0]) - min(pts)  # onto the timeline (0 unless the muxer moved it)
            order = np.searchsorted(self.plan.pts, np.asarray(pts) + shift)
            for p, q, i in zip(packets, pts, order):
                new_pts = q + shift
                dts = conv(p.dts) + shift if p.dts is not None else new_pts
                if self.last_dts is not None and dts <= self.last_dts:
                    dts = self.last_dts + 1
                if dts > new_pts:
                    raise ExportError(
                        f"Cannot join the encoded chunks: decode timestamps of chunk {chunk_file} do not fit "
                        f"(dts {dts} > pts {new_pts}). Export with fps= (constant rate) or one worker."
                    )
                p.stream = self.stream
                p.time_base = tb
                p.pts = new_pts
                p.dts = dts
                p.duration = int(self.durations[min(int(i), len(self.durations) - 1)])
                self.out.mux(p)
                self.last_dts = dts
                self.n_packets += 1

    def close(self) -> None:
        self.out.close()

