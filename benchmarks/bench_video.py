"""Benchmark of nwbview.io.video.VideoReader against bare PyAV loops.

Run ``python benchmarks/bench_video.py [--quick]``. It writes its own synthetic H.264 videos
(nwbview.testing.video) into a temporary folder and prints one figure per line, as ratios
measured in the same run (the machine is noisy; compare ratios, not absolute speeds):

- ``video.sequential_ratio_<size>``: every frame through ``reader[i]`` vs a bare PyAV decode
  loop (``thread_type="AUTO"``, ``to_ndarray(format="rgb24")``); goal >= 0.9.
  ``video.sequential_ratio_tuned_<size>``: the same against a bare loop that reuses one
  ``VideoReformatter`` (as the reader does; ``to_ndarray(format=...)`` builds a new swscale
  context per frame, which costs more than the conversion).
- ``video.random_reads_ratio_<case>``: random frame-accurate reads (GOP 250) one at a time vs a
  naive PyAV loop that seeks to the keyframe before each target and decodes to it, for
  640x480 and 1280x1024, with and without B-frames; goal >= 1.2 (never < 1).
  ``video.slider_reads_ratio_<case>``: the slider's pattern (a jump, then 4 steps forward);
  goal >= 4. ``video.random_reads_array_ratio_*``: the same random frames as one index array.
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


def naive_reads(path: Path, targets: list[int]) -> tuple[float, float]:
    """Seconds for naive reads of ``targets``: seek to the keyframe before each, decode to it.

    The usual PyAV loop (``thread_type="AUTO"``, constant frame rate, ``to_ndarray``), seeking
    for every read: what one writes without a reader.
    """
    t0, c0 = time.perf_counter(), _cpu()
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
    return time.perf_counter() - t0, _cpu() - c0


def random_targets(n: int, n_reads: int, seed: int = 0) -> list[int]:
    """Pure random access: ``n_reads`` frames anywhere."""
    return np.random.default_rng(seed).integers(0, n, n_reads).tolist()


def slider_targets(n: int, n_jumps: int, steps: int = 4, seed: int = 0) -> list[int]:
    """The slider's pattern: a jump to a random frame, then ``steps`` steps forward."""
    out = []
    for k in np.random.default_rng(seed).integers(0, n - steps, n_jumps).tolist():
        out.extend(range(k, k + steps + 1))
    return out


def reader_reads(path: Path, targets: list[int]) -> tuple[float, float, int]:
    """Wall and CPU seconds, and wrong frames, for ``reader[k]`` one at a time (index untimed)."""
    with VideoReader([path]) as reader:
        t0, c0 = time.perf_counter(), _cpu()
        frames = [reader[k] for k in targets]
        dt, dc = time.perf_counter() - t0, _cpu() - c0
    return dt, dc, sum(read_frame_index(f) != k for f, k in zip(frames, targets))


def bench_random(path: Path, label: str, n_reads: int = 100, runs: int = 3) -> None:
    """Random reads and the slider's pattern, reader vs naive, interleaved, best of ``runs``."""
    with VideoReader([path]) as probe:
        n = len(probe)
    for name, targets in [
        ("random", random_targets(n, n_reads)),
        ("slider", slider_targets(n, max(1, n_reads // 5))),
    ]:
        naive, ours, wrong = [], [], 0
        for _ in range(runs):
            naive.append(naive_reads(path, targets))
            dt, dc, w = reader_reads(path, targets)
            ours.append((dt, dc))
            wrong += w
        t_naive, t_ours = min(x[0] for x in naive), min(x[0] for x in ours)
        c_naive, c_ours = min(x[1] for x in naive), min(x[1] for x in ours)
        m = len(targets)
        print(
            f"video.{name}_reads_ratio_{label}: {t_naive / t_ours:.2f} (reader {m / t_ours:.1f} "
            f"reads/s, naive seek+decode {m / t_naive:.1f} reads/s; CPU-time ratio "
            f"{c_naive / c_ours:.2f}; {m} reads of {n} frames, best of {runs} interleaved runs, "
            f"{wrong} wrong frames)",
            flush=True,
        )
    if label.startswith("640x480_b"):
        targets = random_targets(n, n_reads)
        with VideoReader([path]) as reader:
            t0 = time.perf_counter()
            frames = reader[np.asarray(targets)]
            t_array = time.perf_counter() - t0
        wrong = sum(read_frame_index(f) != k for f, k in zip(frames, targets))
        t_naive = naive_reads(path, targets)[0]
        print(
            f"video.random_reads_array_ratio_{label}: {t_naive / t_array:.2f} (reader[index_array] "
            f"{n_reads / t_array:.1f} reads/s vs naive {n_reads / t_naive:.1f}; {wrong} wrong frames)",
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
        v640_nob = write_test_video(
            tmp / "v640_nob.mp4", 900 if quick else 1800, size=(640, 480), gop=250, bframes=0
        )
        v1280 = write_test_video(
            tmp / "v1280.mp4", 500 if quick else 750, size=(1280, 1024), gop=250, bframes=2
        )
        v1280_nob = write_test_video(
            tmp / "v1280_nob.mp4", 500 if quick else 750, size=(1280, 1024), gop=250, bframes=0
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
        bench_random(v640, "640x480_bframes", 60 if quick else 100)
        bench_random(v640_nob, "640x480_no_bframes", 60 if quick else 100)
        bench_random(v1280, "1280x1024_bframes", 20 if quick else 40)
        bench_random(v1280_nob, "1280x1024_no_bframes", 20 if quick else 40)
        bench_step(v640)
        bench_memory(vlong, minutes)


if __name__ == "__main__":
    main()
