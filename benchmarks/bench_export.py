"""Benchmark of the annotated video export (nwbview.render.export_video) on the demo session.

Run ``python benchmarks/bench_export.py [--quick] [--data DIR]``. Everything is measured in ONE
run on the same machine state (the machine is noisy: compare the ratios). The job: the demo
session's 640x480 video scaled to fit a 1280x720 output beside a 2-row column (running speed;
LFP channel 0 at 1250 Hz), 2 s window, pose keypoints + skeleton and a 2 s position trail.

Figures, one per line:

- ``export.fps``: frames per second of ``export_video`` (default workers), wall clock from the
  call to the finished file, against the *ceiling* measured right after it: the same frames
  decoded (PyAV, ``thread_type="AUTO"``), scaled into a 1280x720 canvas and encoded with the same
  x264 settings (crf 23, veryfast, x264's own threading) in one process, no drawing. Goal >= 0.5.
- ``export.vs_matplotlib``: against a straightforward matplotlib animation of the same content
  (one figure, artists reused, ``FuncAnimation`` saved with the ffmpeg writer; when no ffmpeg
  binary is on the machine, with a PyAV writer that encodes ``fig.canvas.buffer_rgba()`` with
  the same settings). Goal >= 5x.
- ``export.render_fps``: rendering alone (no encoding), one process.
- ``export.peak_rss_mb``: peak resident memory of an export run in a fresh Python process (that
  process and its workers, sampled every 50 ms) for a 1-minute and a 10-minute clip (20 s and
  60 s with ``--quick``); goal < 1 GB and no growth with length.

- ``export.speed`` (issue 21), one line per clip length (20 s; 10 min without ``--quick``) and
  size (the default, 1000x480, and 1280x720): an export with the *default* overlays and column
  (calibrated from the demo's landmarks) and the default workers, run in a fresh process from
  the file's path (its imports, opening the file and building the plan count: ``setup``),
  against the ceiling of the same frames measured right after it. The ceiling is the faster of
  one process (x264's own threads) and two processes each doing half the frames with
  ``threads=1`` (what the export does: the fair one on 2 cores, and the faster). Goal >= 0.8.
  ``--speed-only`` runs this table alone; ``--repeat N`` runs it N times.
  A second line per clip and size gives the ratio to the ceiling of the export's *own pictures*:
  the same decoding and scaling, but x264 fed the export's output (its first 240 pictures,
  played back and forth) instead of the bare video. x264 spends more on the drawn picture (the
  column's scrolling traces and changing readouts, the overlays) than on the video with a black
  column, so no export of this content can reach the first ceiling; the second is its own.

- ``export.breakdown`` (``--breakdown``, alone): where one frame's time goes, in one process, per
  size: decoding + RGB (the reader), each overlay's drawer, the column, the conversion for the
  encoder and x264 (``threads=1``, as a worker), CPU ms per frame, best of 3 passes over 600
  frames; then all the drawing in turn per frame, as an export draws (more than the sum of the
  parts, each run alone with its code and data hot). The last line gives the bound that drawing
  puts on the export's ratio to the ceiling: ``ceiling / (ceiling + drawing)``, the ceiling's
  frame being decoding + scaling + conversion + encoding of the export's pictures; and what x264
  spends on those pictures beyond the same canvases with the video alone (the bare ceiling's).

``--data DIR`` keeps the generated demo session there between runs.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    total = 0
    stack = [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def content(session, cal, window_s=2.0):
    from nwbview.kinematics import compute_speed
    from nwbview.render import PoseOverlay, PositionOverlay, TimeSeriesOverlay

    overlays = [PoseOverlay(session.pose()), PositionOverlay(session.position(), trail_s=2.0)]
    timeseries = [
        TimeSeriesOverlay(compute_speed(session.position()), label="speed", window_s=window_s),
        TimeSeriesOverlay(session.lfp().isel(channel=0), label="LFP ch0", window_s=window_s),
    ]
    return dict(overlays=overlays, timeseries=timeseries, calibration=cal)


#: pictures each process of the content ceiling holds (one chunk: one GOP), played back and forth
RING = 240


def _pictures(path: str, n: int) -> list[np.ndarray]:
    """The first ``n`` pictures of an encoded video, RGB."""
    import av

    out: list[np.ndarray] = []
    with av.open(path) as c:
        st = c.streams.video[0]
        st.thread_type = "AUTO"
        for f in c.decode(st):
            out.append(f.to_ndarray(format="rgb24"))
            if len(out) >= n:
                break
    return out


def _ceiling_part(video_path: str, first: int, n: int, size, crf: int, preset: str, threads: str, out_path: str,
                  pictures: str | None = None, barrier=None) -> tuple[int, float]:
    """Decode frames ``[first, first + n)``, scale into the canvas, encode: the export's work minus drawing.

    The encoder takes the export's own options (``encoder_options``: crf, preset, GOP, colour
    tags), with ``threads`` (x264's ``threads`` option: "1" as each export worker uses, "0" for
    x264's own threading). Without ``pictures`` the canvas encoded is the scaled video alone (the
    rest of the canvas black). With ``pictures`` (the path of the export's output) the encoder is
    fed the export's own pictures instead: the first ``RING`` of them, loaded before the clock
    starts and played back and forth, while the source is still decoded and scaled as the export
    does. That is the ceiling of this output: x264 spends more on the drawn picture (the column's
    scrolling traces and readouts, the overlays) than on the bare video. Waits on ``barrier``
    (when given) before the clock starts. Returns the frames encoded and the seconds they took.
    """
    import av
    import cv2

    from nwbview.render.encoding import YuvFrame, encoder_options

    W, H = size
    ring = _pictures(pictures, min(n, RING)) if pictures else []
    if barrier is not None:
        barrier.wait()
    t0 = time.perf_counter()
    canvas = np.zeros((H, W, 3), np.uint8)
    yuv = YuvFrame(W, H)
    with av.open(video_path) as inp, av.open(out_path, "w") as out:
        ist = inp.streams.video[0]
        ist.thread_type = "AUTO"
        ost = out.add_stream("libx264", rate=30)
        ost.width, ost.height, ost.pix_fmt = W, H, "yuv420p"
        ost.options = {**encoder_options(crf, preset), "threads": threads}
        vw, vh = ist.codec_context.width, ist.codec_context.height
        if vw > W * 3 // 4 or vh != H:  # scaled to the canvas height, as the export lays it out
            vw, vh = int(round(vw * H / vh)), H
        roi = canvas[:vh, :vw]
        done = 0
        if first > 0:  # start at the keyframe before the part, as the export's reader does
            inp.seek(first * 1000 // 30 * 1000, stream=None, backward=True, any_frame=False)
        for frame in inp.decode(ist):
            k = int(round(float(frame.time) * 30))
            if k < first:
                continue
            img = frame.to_ndarray(format="rgb24")
            if img.shape[:2] == roi.shape[:2]:
                roi[:] = img
            else:
                cv2.resize(img, (vw, vh), dst=roi, interpolation=cv2.INTER_LINEAR)
            if ring:  # back and forth through the output's pictures: no jump at the turn
                j = done % (2 * len(ring) - 2) if len(ring) > 1 else 0
                picture = ring[j if j < len(ring) else 2 * len(ring) - 2 - j]
            else:
                picture = canvas
            f = yuv.fill(picture)  # the export's own conversion into one reused frame
            f.pts = done
            for p in ost.encode(f):
                out.mux(p)
            done += 1
            if done >= n:
                break
        for p in ost.encode():
            out.mux(p)
    return done, time.perf_counter() - t0


def _ceiling_process(args: tuple, barrier, results) -> None:
    results.put(_ceiling_part(*args, barrier=barrier))


def ceiling(video_path: Path, first: int, n: int, size=(1280, 720), crf=23, preset="veryfast", processes: int = 1,
            pictures: Path | None = None) -> float:
    """Frames/s of decode -> scale into the canvas -> encode (the export's x264 options), no drawing.

    ``processes=1``: one process, x264's own threading (all cores). ``processes=P``: P forked
    processes each doing a contiguous 1/P of the frames with ``threads=1``, as the export's
    workers do; they start together. ``pictures``: the export's output, whose pictures are
    encoded instead of the bare video (see ``_ceiling_part``). Clock: from the start to the last
    frame encoded (loading the pictures does not count).
    """
    import multiprocessing as mp

    tmp = Path(tempfile.mkdtemp())
    pics = str(pictures) if pictures is not None else None
    if processes == 1:
        done, dt = _ceiling_part(str(video_path), first, n, size, crf, preset, "0", str(tmp / "c.mp4"), pics)
    else:
        ctx = mp.get_context("fork")
        step = -(-n // processes)
        parts = [(first + a, min(step, n - a)) for a in range(0, n, step)]
        barrier = ctx.Barrier(len(parts))
        results = ctx.Queue()
        procs = [ctx.Process(target=_ceiling_process, args=((str(video_path), f, m, size, crf, preset, "1", str(tmp / f"c{i}.mp4"), pics),
                                                            barrier, results)) for i, (f, m) in enumerate(parts)]  # fmt: skip
        for p in procs:
            p.start()
        got: list[tuple[int, float]] = []
        while len(got) < len(procs):
            try:
                got.append(results.get(timeout=1.0))
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in procs):  # one died: the others would wait forever
                    for p in procs:
                        p.terminate()
                    raise RuntimeError(f"a ceiling process failed (exit codes {[p.exitcode for p in procs]})") from None
        for p in procs:
            p.join()
        done, dt = sum(g[0] for g in got), max(g[1] for g in got)
    shutil.rmtree(tmp, ignore_errors=True)
    return done / dt


def matplotlib_baseline(session, cal, start: float, n: int, size=(1280, 720), crf=23, preset="veryfast") -> tuple[float, str]:
    """A straightforward matplotlib animation of the same content; (frames/s, writer used)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import animation

    from nwbview.kinematics import compute_speed

    video = session.video()
    t = video.times
    i0 = int(np.searchsorted(t, start))
    frames = np.arange(i0, i0 + n)
    pose = session.pose()
    pos = session.position()
    pos_px = cal.world_to_pixels(pos.values)
    speed = compute_speed(pos)
    lfp = session.lfp(channels=[0], start=t[i0] - 2, stop=t[i0 + n] + 2)
    lt, lv = lfp["time"].values, lfp.values[:, 0]
    st, sv = speed["time"].values, speed.values
    kp = pose["position"].isel(individual=0).values  # (time, space, keypoint)
    pt = pose["time"].values
    ptime = pos["time"].values

    W, H = size
    fig = plt.figure(figsize=(W / 100, H / 100), dpi=100)
    ax_v = fig.add_axes((0.0, 0.0, 0.75, 1.0))
    ax_v.set_axis_off()
    im = ax_v.imshow(video[int(frames[0])])
    trail, = ax_v.plot([], [], color="orange", lw=2)
    dots = ax_v.scatter(np.zeros(kp.shape[2]), np.zeros(kp.shape[2]), c=[f"C{j}" for j in range(kp.shape[2])], s=30, zorder=3)
    ax_s = fig.add_axes((0.8, 0.55, 0.18, 0.4))
    ax_l = fig.add_axes((0.8, 0.08, 0.18, 0.4))
    ls, = ax_s.plot([], [], color="C3", lw=1)
    ll, = ax_l.plot([], [], color="C0", lw=1)
    ax_s.set_ylim(np.nanmin(sv), np.nanmax(sv))
    ax_l.set_ylim(np.nanmin(lv), np.nanmax(lv))
    cursors = [ax_s.axvline(0, color="k"), ax_l.axvline(0, color="k")]
    title = ax_s.set_title("")

    def update(k):
        fi = int(frames[k])
        now = t[fi]
        im.set_data(video[fi])
        j = int(np.argmin(np.abs(pt - now)))
        dots.set_offsets(kp[j].T)
        sel = (ptime > now - 2) & (ptime <= now)
        trail.set_data(pos_px[sel, 0], pos_px[sel, 1])
        for line, tt, vv, ax in ((ls, st, sv, ax_s), (ll, lt, lv, ax_l)):
            m = (tt >= now - 1) & (tt < now + 1)
            line.set_data(tt[m], vv[m])
            ax.set_xlim(now - 1, now + 1)
        for c in cursors:
            c.set_xdata([now, now])
        title.set_text(f"t = {now:.2f} s")
        return []

    anim = animation.FuncAnimation(fig, update, frames=n, blit=False, repeat=False)
    out = Path(tempfile.mkdtemp()) / "baseline.mp4"
    if shutil.which("ffmpeg"):
        writer = animation.FFMpegWriter(fps=30, codec="libx264", extra_args=["-crf", str(crf), "-preset", preset, "-pix_fmt", "yuv420p"])
        used = "FFMpegWriter (ffmpeg binary)"
    else:
        writer = PyAVWriter(fps=30, crf=crf, preset=preset)
        used = "PyAV writer of fig.canvas.buffer_rgba() (no ffmpeg binary on this machine)"
    t0 = time.perf_counter()
    anim.save(str(out), writer=writer, dpi=100)
    dt = time.perf_counter() - t0
    plt.close(fig)
    video.close()
    shutil.rmtree(out.parent, ignore_errors=True)
    return n / dt, used


try:
    from matplotlib.animation import AbstractMovieWriter
except ImportError:  # pragma: no cover
    AbstractMovieWriter = object


class PyAVWriter(AbstractMovieWriter):
    """A matplotlib movie writer that encodes the canvas with PyAV (libx264)."""

    def __init__(self, fps=30, crf=23, preset="veryfast"):
        super().__init__(fps=fps)
        self.crf, self.preset = crf, preset

    def setup(self, fig, outfile, dpi=None):
        import av

        super().setup(fig, outfile, dpi=dpi)
        self._c = av.open(str(outfile), "w")
        w, h = fig.canvas.get_width_height()
        self._s = self._c.add_stream("libx264", rate=self.fps)
        self._s.width, self._s.height, self._s.pix_fmt = w // 2 * 2, h // 2 * 2, "yuv420p"
        self._s.options = {"crf": str(self.crf), "preset": self.preset}
        self._n = 0

    def grab_frame(self, **savefig_kwargs):
        import av

        self.fig.canvas.draw()
        rgba = np.asarray(self.fig.canvas.buffer_rgba())
        frame = av.VideoFrame.from_ndarray(rgba[: self._s.height, : self._s.width], format="rgba")
        frame.pts = self._n
        self._n += 1
        for p in self._s.encode(frame):
            self._c.mux(p)

    def finish(self):
        for p in self._s.encode():
            self._c.mux(p)
        self._c.close()


_FRESH = """
import sys
sys.path.insert(0, {here!r})
import nwbview
from bench_export import content
from nwbview.calibration import fit_landmarks, read_landmarks_csv
from nwbview.render import export_video
labels, pix, world = read_landmarks_csv({landmarks!r})
cal = fit_landmarks(pix, world, labels=labels, frame_dimension=(640, 480))
with nwbview.open({nwb!r}) as s:
    export_video(s, {out!r}, start={start!r}, stop={stop!r}, size={size!r}, progress=False, **content(s, cal))
"""


_TIMED = """
import sys, time, json
t0 = time.perf_counter()
import nwbview
from nwbview.calibration import fit_landmarks, read_landmarks_csv
import nwbview.render.export as ex
labels, pix, world = read_landmarks_csv({landmarks!r})
cal = fit_landmarks(pix, world, labels=labels, frame_dimension=(640, 480))
marks = {{}}
_export = ex._export
def timed(plan, *a, **k):
    marks["setup"] = time.perf_counter() - t1
    marks["workers"] = a[1]
    return _export(plan, *a, **k)
ex._export = timed
t1 = time.perf_counter()
out = ex.export_video({nwb!r}, {out!r}, start={start!r}, stop={stop!r}, size={size!r}, calibration=cal, progress=False)
marks["total"] = time.perf_counter() - t1
import av
with av.open(out) as c:
    marks["frames"] = c.streams.video[0].frames
print("RESULT " + json.dumps(marks))
"""


def timed_export(nwb: Path, out: Path, start: float, stop: float, size) -> dict:
    """One export in a fresh Python process, as the CLI runs it: the default overlays and column
    (with the demo's landmark calibration), default workers, from the file's path (opening the
    file, its imports and building the plan count). Returns ``{"total", "setup", "frames"}``
    (seconds from the ``export_video`` call; ``setup`` is the time until the frame loop starts).
    """
    import json
    import subprocess

    code = _TIMED.format(landmarks=str(nwb.parent / "demo_landmarks.csv"), nwb=str(nwb), out=str(out), start=start, stop=stop, size=size)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"the export process failed: {res.stderr[-2000:]}")
    line = [x for x in res.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[7:])


def speed_table(nwb: Path, out_dir: Path, clips, sizes, repeat: int = 1) -> None:
    """export.speed lines: the export (``timed_export``) against the decode + encode ceilings of
    the same frames, measured right after it: one process with x264's threads, and two
    processes (the export's layout: half the frames each, x264 ``threads=1``). The ratio is to
    the faster of the two."""
    import nwbview

    with nwbview.open(nwb) as s:
        video = s.video()
        times = video.times
        video.close()
    start = 1.0
    first = int(np.searchsorted(times, start))
    for _ in range(repeat):
        for clip in clips:
            for size in sizes:
                r = timed_export(nwb, out_dir / "speed.mp4", start, start + clip, size)
                n = r["frames"]
                with nwbview.open(nwb) as s:
                    from nwbview.render import build_plan

                    plan = build_plan(s, start=start, stop=start + 1, size=size, overlays=[])
                    canvas = plan.size
                    plan.close()
                c2 = ceiling(nwb.parent / "demo_video.mp4", first, n, size=canvas, processes=2)
                # one process is the slower ceiling (its Python thread serialises decode, conversion and
                # encode); measured on short clips only, to keep the 10-minute runs short
                c1 = ceiling(nwb.parent / "demo_video.mp4", first, n, size=canvas, processes=1) if n <= 1800 else float("nan")
                # the ceiling of this output: the same, encoding the export's own pictures (2 processes)
                cc = ceiling(nwb.parent / "demo_video.mp4", first, n, size=canvas, processes=2, pictures=out_dir / "speed.mp4")
                fps = n / r["total"]
                loop = n / (r["total"] - r["setup"])
                ceil = c2 if c1 != c1 else max(c1, c2)
                print(
                    f"export.speed {clip:g} s {canvas[0]}x{canvas[1]}: {fps:.1f} fps, ratio {fps / ceil:.2f} "
                    f"(ceiling {ceil:.1f}: 1 process {c1:.1f}, 2 processes {c2:.1f}); setup {r['setup']:.2f} s, "
                    f"frame loop {loop:.1f} fps, {r['workers']} workers, {n} frames",
                    flush=True,
                )
                print(
                    f"export.speed {clip:g} s {canvas[0]}x{canvas[1]} against its own pictures' ceiling {cc:.1f} fps "
                    f"(x264 fed the export's output, 2 processes): ratio {fps / cc:.2f}, frame loop {loop / cc:.2f}",
                    flush=True,
                )


def frame_breakdown(nwb: Path, size, n: int = 600, passes: int = 3) -> None:
    """export.breakdown lines: CPU ms per frame of each part of an export frame, one process
    (the default overlays and column, the demo's landmark calibration), best of ``passes``."""
    import av
    import cv2

    import nwbview
    from nwbview.calibration import fit_landmarks, read_landmarks_csv
    from nwbview.render import build_plan
    from nwbview.render.encoding import YuvFrame, _encoder
    from nwbview.render.plan import Renderer

    labels, pix, world = read_landmarks_csv(nwb.parent / "demo_landmarks.csv")
    cal = fit_landmarks(pix, world, labels=labels, frame_dimension=(640, 480))
    with nwbview.open(nwb) as s:
        plan = build_plan(s, start=100.0, stop=100.0 + n / 30.0, size=size, calibration=cal)
        plan.column.background  # drawn once (by a worker in an export): not a per-frame cost
        r = Renderer(plan)
        n = len(plan)
        frames = [r.render(k).copy() for k in range(n)]
        bare = []  # the same canvases with the video alone (the rest black): what the ceiling encodes
        for k in range(n):
            canvas = np.zeros_like(frames[k])
            for p in plan.panels:
                if p.reader is not None and p.frames[k] >= 0:
                    x, y, w, h = p.rect
                    src = p.reader[int(p.frames[k])]
                    view = canvas[y : y + h, x : x + w]
                    if src.shape[:2] == view.shape[:2]:
                        view[:] = src
                    else:
                        cv2.resize(src, (w, h), dst=view)
            bare.append(canvas)
        parts: dict[str, list[float]] = {}

        def timed(name, fn) -> None:
            c = time.process_time()
            fn()
            parts.setdefault(name, []).append((time.process_time() - c) / n * 1e3)

        tmp = Path(tempfile.mkdtemp())
        for _ in range(passes):
            for p, roi in zip(plan.panels, r.views):
                if p.reader is not None:
                    timed("decode + RGB", lambda p=p: [p.reader[int(i)] for i in p.frames if i >= 0])
                    src = p.reader[int(p.frames[0])]
                    if src.shape[:2] != roi.shape[:2]:  # scaled into the canvas (the ceiling scales too)
                        timed("scale", lambda src=src, roi=roi: [cv2.resize(src, roi.shape[1::-1], dst=roi) for _ in range(n)])
            for p, roi in zip(plan.panels, r.views):
                for d in p.drawers:
                    timed(f"draw {type(d).__name__.strip('_')}", lambda d=d, roi=roi: [d.draw(roi, k) for k in range(n)])
            timed("draw column", lambda: [plan.column.draw(r.col_view, k) for k in range(n)])

            def draw_all() -> None:  # as a frame is rendered: every drawer, then the column
                for k in range(n):
                    for p, roi in zip(plan.panels, r.views):
                        for d in p.drawers:
                            d.draw(roi, k)
                    plan.column.draw(r.col_view, k)

            timed("drawing, all in turn per frame", draw_all)
            yuv = YuvFrame(*plan.size)
            timed("conversion", lambda: [yuv.fill(f) for f in frames])
            for name, pictures in (("x264 (+ conversion)", frames), ("x264 (+ conversion), bare video", bare)):
                with av.open(str(tmp / "b.mp4"), "w", format="mp4") as out:
                    st = _encoder(out, plan, 23, "veryfast")

                    def encode(pictures=pictures, st=st, out=out) -> None:
                        for k, f in enumerate(pictures):
                            fr = yuv.fill(f)
                            fr.pts = int(plan.pts[k])
                            fr.time_base = plan.time_base
                            for pk in st.encode(fr):
                                out.mux(pk)
                        for pk in st.encode():
                            out.mux(pk)

                    timed(name, encode)
        plan.close()
        shutil.rmtree(tmp, ignore_errors=True)
    best = {k: min(v) for k, v in parts.items()}
    W, H = plan.size
    for k, v in best.items():
        print(f"export.breakdown {W}x{H} {k}: {v:.2f} ms", flush=True)
    # each part alone runs with its code and data hot: the parts in turn, as an export draws a frame, cost more
    drawing = best["drawing, all in turn per frame"]
    ceiling = best.get("decode + RGB", 0.0) + best.get("scale", 0.0) + best["x264 (+ conversion)"]
    print(f"export.breakdown {W}x{H} bound: drawing {drawing:.2f} ms against the ceiling's {ceiling:.2f} ms a frame: "
          f"the export's ratio to the ceiling is at most {ceiling / (ceiling + drawing):.2f} "
          f"({n} frames, CPU time, best of {passes})", flush=True)
    bare = best["x264 (+ conversion), bare video"]
    print(f"export.breakdown {W}x{H} x264 on the export's pictures costs {best['x264 (+ conversion)'] - bare:.2f} ms a frame more "
          f"than on the bare video ({best['x264 (+ conversion)']:.2f} against {bare:.2f}): the drawn content's own encoding cost, "
          "which the bare-video ceiling leaves out", flush=True)


def fresh_export_peak(nwb: Path, out: Path, start: float, stop: float, size) -> int:
    """Peak RSS (bytes) of a fresh Python process (and its workers) running one export."""
    import subprocess

    code = _FRESH.format(here=str(Path(__file__).parent), landmarks=str(nwb.parent / "demo_landmarks.csv"), nwb=str(nwb), out=str(out), start=start, stop=stop, size=size)
    proc = subprocess.Popen([sys.executable, "-c", code])
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.05)
    if proc.returncode != 0:
        raise RuntimeError(f"the export process failed with exit code {proc.returncode}")
    return peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short clips (about a minute in all)")
    ap.add_argument("--data", default=None, help="folder to keep the demo session in")
    ap.add_argument("--repeat", type=int, default=1, help="runs of the export.speed table")
    ap.add_argument("--speed-only", action="store_true", help="only the export.speed table (issue 21)")
    ap.add_argument("--breakdown", action="store_true", help="only where a frame's time goes (issue 21)")
    args = ap.parse_args()

    import nwbview
    from nwbview.calibration import fit_landmarks, read_landmarks_csv
    from nwbview.demo import make_demo_session
    from nwbview.render import build_plan, export_video, render_frames

    quick = args.quick
    duration = 70.0 if quick else 610.0
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="nwbview-bench-"))
    nwb = data / "demo_session.nwb"
    meta = data / "duration.txt"
    if not (nwb.exists() and meta.exists() and float(meta.read_text()) >= duration):
        t0 = time.perf_counter()
        make_demo_session(data, duration=duration)
        meta.write_text(str(duration))
        print(f"# made a {duration:g} s demo session in {time.perf_counter() - t0:.0f} s ({data})", flush=True)
    if args.breakdown:
        for size in (None, (1280, 720)):
            frame_breakdown(nwb, size)
        return 0
    if args.speed_only:
        out_dir = Path(tempfile.mkdtemp(prefix="nwbview-bench-out-"))
        speed_table(nwb, out_dir, (20.0,) if quick else (20.0, 600.0), (None, (1280, 720)), repeat=args.repeat)
        shutil.rmtree(out_dir, ignore_errors=True)
        return 0
    labels, pix, world = read_landmarks_csv(data / "demo_landmarks.csv")
    cal = fit_landmarks(pix, world, labels=labels, frame_dimension=(640, 480))
    out_dir = Path(tempfile.mkdtemp(prefix="nwbview-bench-out-"))
    size = (1280, 720)
    s = nwbview.open(nwb)
    start = 1.0
    clip = 20.0 if quick else 60.0

    # 1. nwbview export (default workers), wall clock including planning and worker start-up
    job = content(s, cal)
    t0 = time.perf_counter()
    out = export_video(s, out_dir / "clip.mp4", start=start, stop=start + clip, size=size, progress=False, **job)
    dt = time.perf_counter() - t0
    import av

    with av.open(str(out)) as c:
        n_frames = c.streams.video[0].frames
    fps = n_frames / dt

    # 2. the ceiling: same frames decoded, scaled and encoded, no drawing
    video = s.video()
    first = int(np.searchsorted(video.times, start))
    video.close()
    ceil = max(ceiling(data / "demo_video.mp4", first, n_frames, size=size, processes=p) for p in (1, 2))
    print(f"export.fps: {fps:.1f} (ceiling {ceil:.1f}, ratio {fps / ceil:.2f}; {n_frames} frames at {size[0]}x{size[1]}, {os.cpu_count()} workers)", flush=True)

    # 3. rendering alone, one process
    plan = build_plan(s, start=start, stop=start + min(clip, 10.0), size=size, **job)
    t0 = time.perf_counter()
    m = sum(1 for _ in render_frames(plan))
    print(f"export.render_fps: {m / (time.perf_counter() - t0):.1f} (render only, no encoding, one process)", flush=True)
    plan.close()

    # 4. matplotlib baseline
    n_base = 60 if quick else 150
    base, used = matplotlib_baseline(s, cal, start, n_base, size=size)
    print(f"export.vs_matplotlib: {fps / base:.1f}x (matplotlib FuncAnimation {base:.1f} fps over {n_base} frames; {used})", flush=True)

    # 5. memory at two lengths, each export in a fresh process (its tree: it and its workers)
    lengths = (20.0, 60.0) if quick else (60.0, 600.0)
    peaks = []
    for length in lengths:
        peaks.append(fresh_export_peak(nwb, out_dir / f"mem{int(length)}.mp4", start, start + length, size) / 2**20)
    names = [f"{int(x // 60)} min" if x >= 60 else f"{int(x)} s" for x in lengths]
    growth = (peaks[1] - peaks[0]) / peaks[0] * 100
    print(f"export.peak_rss_mb: {peaks[0]:.0f} at {names[0]}, {peaks[1]:.0f} at {names[1]} (growth {growth:+.1f}%; process tree, goal < 1024)", flush=True)
    s.close()

    # 6. issue 21: the default overlays and column, fresh process, both sizes, a short and a long clip
    clips = (20.0,) if quick else (20.0, 600.0)
    speed_table(nwb, out_dir, clips, (None, (1280, 720)), repeat=args.repeat)
    shutil.rmtree(out_dir, ignore_errors=True)
    if not args.data:
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
