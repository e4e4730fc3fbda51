"""Benchmark of nwbview.io.video.VideoReader against bare PyAV loops.

Run ``python benchmarks/bench_video.py [--quick]``. It writes its own synthetic H.264 videos
(nwbview.testing.video) into a temporary folder and prints one figure per line, as ratios
measured in the same run (the machine is noisy; compare ratios, not absolute speeds):

- ``video.sequential_ratio_<size>``: every frame through ``reader[i]`` vs a bare PyAV decode
  loop (``thread_type="AUTO"``, ``to_ndarray(format="rgb24")``); goal >= 0.9.
  ``video.sequential_ratio_tuned_<size>``: the same against a bare loop that reuses one
  ``VideoReformatter`` (as the reader does; ``to_ndarray(format=...)`` builds a new swscale
  context per frame, which costs more than the conversion).
- ``video.random_reads``: 100 random frame-accurate reads (GOP 250) one at a time, and as one
  index array, vs a naive seek-then-decode loop.
- ``video.step_ms``: one frame forward or back at a random place after a first read; goal < 30 ms.
- ``video.peak_memory_mb``: RSS growth reading every frame of a 10-minute 640x480 video (1 minute
  with ``--quick``), in a fresh process; goal < 300 MB.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from nwbview.io.video import VideoReader
from nwbview.testing.video import read_frame_index, write_test_video


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def bare_decode(path: Path, tuned: bool = False) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (all threads) and frames of a bare PyAV decode loop to RGB.

    ``tuned=False`` is the usual loop (``frame.to_ndarray(format="rgb24")``, which builds a
    new swscale context per frame); ``tuned=True`` reuses one ``VideoReformatter``, as the
    reader does.
    """
    from av.video.reformatter import VideoReformatter

    t0, c0 = time.perf_counter(), _cpu()
    count = 0
    reformatter = VideoReformatter()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if tuned:
                reformatter.reformat(frame, format="rgb24").to_ndarray()
            else:
                frame.to_ndarray(format="rgb24")
            count += 1
    return time.perf_counter() - t0, _cpu() - c0, count


def reader_decode(path: Path) -> tuple[float, float, int]:
    """The same through ``reader[i]`` for every i (packet index build included)."""
    t0, c0 = time.perf_counter(), _cpu()
    with VideoReader([path]) as reader:
        n = len(reader)
        for i in range(n):
            reader[i]
    return time.perf_counter() - t0, _cpu() - c0, n


def bench_sequential(path: Path, label: str, runs: int) -> None:
    bare, tuned, ours = [], [], []
    for _ in range(runs):  # interleaved so that load changes hit all alike
        bare.append(bare_decode(path))
        tuned.append(bare_decode(path, tuned=True))
        ours.append(reader_decode(path))
    n = bare[0][2]

    def best(runs_: list) -> tuple[float, float]:
        return min(x[0] for x in runs_), min(x[1] for x in runs_)

    (b_wall, b_cpu), (t_wall, t_cpu), (r_wall, r_cpu) = best(bare), best(tuned), best(ours)
    print(
        f"video.sequential_ratio_{label}: {b_wall / r_wall:.2f} (reader {n / r_wall:.0f} fps, "
        f"bare to_ndarray loop {n / b_wall:.0f} fps, {n} frames, best of {runs} interleaved "
        f"runs; CPU-time ratio {b_cpu / r_cpu:.2f}; goal >= 0.9)",
        flush=True,
    )
    print(
        f"video.sequential_ratio_tuned_{label}: {t_wall / r_wall:.2f} (reader {n / r_wall:.0f} "
        f"fps, bare loop reusing one VideoReformatter {n / t_wall:.0f} fps; CPU-time ratio "
        f"{t_cpu / r_cpu:.2f})",
        flush=True,
    )


def naive_random(path: Path, targets: list[int]) -> float:
    """Seconds for seek-then-decode-every-time reads of ``targets`` (constant frame rate)."""
    t0 = time.perf_counter()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = stream.time_base
        rate = stream.average_rate
        for k in targets:
            pts = int(round(Fraction(k) / rate / tb))
            container.seek(pts, stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                if frame.pts >= pts:
                    frame.to_ndarray(format="rgb24")
                    break
    return time.perf_counter() - t0


def bench_random(path: Path, n_reads: int = 100) -> None:
    with VideoReader([path]) as probe:
        n = len(probe)
    rng = np.random.default_rng(0)
    targets = rng.integers(0, n, n_reads).tolist()
    t_naive = naive_random(path, targets)
    with VideoReader([path]) as reader:  # packet index built here, outside the timing
        t0 = time.perf_counter()
        wrong = sum(read_frame_index(reader[k]) != k for k in targets)
        t_single = time.perf_counter() - t0
    with VideoReader([path]) as reader:
        t0 = time.perf_counter()
        frames = reader[np.asarray(targets)]
        t_array = time.perf_counter() - t0
        wrong += sum(read_frame_index(f) != k for f, k in zip(frames, targets))
    naive, single, array = n_reads / t_naive, n_reads / t_single, n_reads / t_array
    print(
        f"video.random_reads_ratio: {single / naive:.2f} (reader {single:.1f} reads/s one at a "
        f"time, naive seek+decode {naive:.1f} reads/s; {n_reads} reads of {n} frames, GOP 250, "
        f"{wrong} wrong frames)",
        flush=True,
    )
    print(
        f"video.random_reads_array_ratio: {array / naive:.2f} (reader[index_array] {array:.1f} "
        f"reads/s vs naive {naive:.1f} reads/s)",
        flush=True,
    )


def bench_step(path: Path, places: int = 15) -> None:
    forward, backward = [], []
    with VideoReader([path]) as reader:
        n = len(reader)
        rng = np.random.default_rng(1)
        for k in rng.integers(1, n - 1, places).tolist():
            reader[k]  # first access: seek + decode to k
            t0 = time.perf_counter()
            reader[k + 1]
            t1 = time.perf_counter()
            reader[k]
            reader[k - 1]
            t2 = time.perf_counter()
            forward.append((t1 - t0) * 1e3)
            backward.append((t2 - t1) * 1e3 / 2)
    both = forward + backward
    med = statistics.median
    print(
        f"video.step_ms: {med(both):.2f} (median; forward {med(forward):.2f} ms, back "
        f"{med(backward):.2f} ms, worst {max(both):.2f} ms; {places} places, goal < 30 ms)",
        flush=True,
    )


_MEMORY_CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from nwbview.io.video import VideoReader

    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    reader = VideoReader([sys.argv[1]])
    reader[0]
    try:  # reset the peak-RSS mark so that it measures the reading only
        open("/proc/self/clear_refs", "w").write("5")
    except OSError:
        pass
    before = status("VmRSS:")
    t0 = time.perf_counter()
    for i in range(len(reader)):
        reader[i]
    dt = time.perf_counter() - t0
    print(len(reader), before, status("VmHWM:"), status("VmRSS:"), dt)
    """
)


def bench_memory(path: Path, minutes: float) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, str(path)], capture_output=True, text=True, check=True
    )
    n, before, peak, after, dt = proc.stdout.split()
    n, before, peak, after, dt = int(n), float(before), float(peak), float(after), float(dt)
    print(
        f"video.peak_memory_mb: {peak - before:.0f} (RSS {before:.0f} -> peak {peak:.0f} MB "
        f"reading all {n} frames of a {minutes:g}-minute 640x480 video at {n / dt:.0f} fps; "
        "goal < 300 MB)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller videos, one run each")
    args = parser.parse_args()
    quick = args.quick
    runs = 1 if quick else 3
    with tempfile.TemporaryDirectory(prefix="nwbview-bench-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        v640 = write_test_video(
            tmp / "v640.mp4", 900 if quick else 1800, size=(640, 480), gop=250, bframes=2
        )
        v1280 = write_test_video(
            tmp / "v1280.mp4", 150 if quick else 450, size=(1280, 1024), gop=250, bframes=2
        )
        minutes = 1 if quick else 10
        vlong = write_test_video(
            tmp / "long.mp4",
            int(minutes * 60 * 30),
            size=(640, 480),
            gop=250,
            crf=28,
            preset="ultrafast",
        )
        print(f"# videos written in {time.perf_counter() - t0:.1f} s", flush=True)
        bench_sequential(v640, "640x480", runs)
        bench_sequential(v1280, "1280x1024", runs)
        bench_random(v640)
        bench_step(v640)
        bench_memory(vlong, minutes)


if __name__ == "__main__":
    main()
