"""Benchmark: heatmaps.

- movement heatmap frames/s vs a bare grayscale decode of the same video
  (640x480 H.264, the demo session), measured in the same run; goal >= 0.8x;
- occupancy of a 1-hour, 30 Hz position series; goal < 0.5 s.

Run: ``python benchmarks/bench_heatmap.py [--duration 60]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr


def bare_gray_decode(path: str) -> tuple[int, float]:
    """Decode every frame and copy its luma plane: the floor of any grayscale work."""
    import av

    t0 = time.perf_counter()
    n = 0
    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        for frame in c.decode(s):
            plane = frame.planes[0]
            buf = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : frame.width]
            _ = buf.copy()
            n += 1
    return n, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=60.0, help="demo session length (s)")
    ap.add_argument("--cache", default=tempfile.gettempdir())
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import nwbview
    from nwbview.demo import make_demo_session
    from nwbview.heatmap import movement_heatmap, occupancy

    folder = Path(args.cache) / f"nwbview-bench-demo-{args.duration:g}s"
    nwb = folder / "demo_session.nwb"
    if not nwb.exists():
        folder.mkdir(parents=True, exist_ok=True)
        make_demo_session(folder, duration=args.duration)
    video = str(folder / "demo_video.mp4")

    bare, mov = [], []
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        n, dt = bare_gray_decode(video)
        bare.append(n / dt)
        with nwbview.open(nwb) as s:
            t0 = time.perf_counter()
            r = movement_heatmap(s)
            dt = time.perf_counter() - t0
        # every frame of the video is decoded; rate over all of them, as the bare loop
        mov.append(n / dt)
    b, m = statistics.median(bare), statistics.median(mov)
    print(f"heatmap.movement_fps: {m:.0f} (bare grayscale decode {b:.0f} fps, ratio {m / b:.2f}; goal >= 0.8; "
          f"{r.frames_used} of {n} frames used, radius {r.radius} px)")

    t = np.arange(0, 3600, 1 / 30.0)
    rng = np.random.default_rng(0)
    xy = np.cumsum(rng.normal(0, 0.5, (t.size, 2)), axis=0) % 80
    pos = xr.DataArray(xy, dims=("time", "space"), coords={"time": t, "space": ["x", "y"]}, attrs={"units": "cm", "space_unit": "cm", "coordinates": "world"})
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        occupancy(pos, bin_size=2.0, sigma=3.0)
        times.append(time.perf_counter() - t0)
    print(f"heatmap.occupancy_1h_s: {statistics.median(times):.3f} ({t.size} samples at 30 Hz, 2 cm bins, smoothed; goal < 0.5 s)")


if __name__ == "__main__":
    main()
