"""Benchmark: a 1-hour session, opened, inventoried, aligned, and a 10 s LFP read.

The session: 108,000 video frame timestamps (30 Hz, 1 h), 4 pose keypoints per
frame, position at 50 Hz, and a 64-channel LFP at 1 kHz stored as int16 in
chunks (3.6 M x 64 samples, 460 MB). The file is built once into a cache
folder (``--cache``, default the system temp folder) and reused.

Goals: inventory under 1 s; timeline + alignment of all streams under 1 s;
10 s of one LFP channel read in under 50 ms without loading the whole LFP.

Run: ``python benchmarks/bench_session.py``
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

HOUR = 3600.0
FPS = 30.0
LFP_RATE = 1000.0
N_CH = 64


def build(path: Path) -> None:
    from hdmf.backends.hdf5.h5_utils import H5DataIO
    from ndx_pose import PoseEstimation, PoseEstimationSeries, Skeleton, Skeletons
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.behavior import Position, SpatialSeries
    from pynwb.ecephys import LFP, ElectricalSeries
    from pynwb.image import ImageSeries

    rng = np.random.default_rng(0)
    nwb = NWBFile("bench", "bench-1h", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), session_id="bench")
    n_frames = int(HOUR * FPS)
    t = np.arange(n_frames) / FPS + rng.normal(0, 0.001, n_frames)
    t = np.sort(t) + 0.25
    vid = ImageSeries(name="BehaviorVideo", external_file=["video.mp4"], format="external", starting_frame=[0], timestamps=t, dimension=[640, 480])
    nwb.add_acquisition(vid)
    beh = nwb.create_processing_module("behavior", "behavior")
    n_pos = int(HOUR * 50)
    beh.add(Position(spatial_series=[SpatialSeries(name="position", data=rng.random((n_pos, 2)) * 100, unit="cm", reference_frame="arena", starting_time=0.0, rate=50.0)]))
    names = ["snout", "left_ear", "right_ear", "tail_base"]
    series, first = [], None
    for k in names:
        s = PoseEstimationSeries(name=k, data=rng.random((n_frames, 2)) * 640, unit="pixels", reference_frame="top left", confidence=rng.random(n_frames), timestamps=first if first is not None else t)
        first = first or s
        series.append(s)
    skel = Skeleton(name="mouse", nodes=names, edges=np.array([[0, 1], [0, 2], [1, 3], [2, 3]], dtype="uint8"))
    beh.add(Skeletons(skeletons=[skel]))
    beh.add(PoseEstimation(pose_estimation_series=series, skeleton=skel, source_video=vid))
    dev = nwb.create_device("probe")
    grp = nwb.create_electrode_group("shank", description="s", location="CA1", device=dev)
    for _ in range(N_CH):
        nwb.add_electrode(group=grp, location="CA1")
    region = nwb.create_electrode_table_region(list(range(N_CH)), "all")
    n_lfp = int(HOUR * LFP_RATE)
    data = np.empty((n_lfp, N_CH), dtype=np.int16)
    step = 600_000
    for i in range(0, n_lfp, step):
        m = min(step, n_lfp - i)
        data[i : i + m] = rng.integers(-2000, 2000, (m, N_CH), dtype=np.int16)
    es = ElectricalSeries(name="lfp", data=H5DataIO(data, chunks=(16384, N_CH)), electrodes=region, starting_time=0.0, rate=LFP_RATE, conversion=0.195e-6)
    ec = nwb.create_processing_module("ecephys", "ecephys")
    ec.add(LFP(electrical_series=es))
    tmp = path.with_suffix(".tmp")
    with NWBHDF5IO(str(tmp), "w") as io:
        io.write(nwb)
    tmp.replace(path)


def median_time(fn, repeat: int = 5) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=tempfile.gettempdir(), help="folder for the 1-hour test file")
    args = ap.parse_args()
    import nwbview
    from nwbview import Timeline

    path = Path(args.cache) / "nwbview-bench-1h.nwb"
    if not path.exists():
        t0 = time.perf_counter()
        build(path)
        print(f"built {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")

    def inventory():
        with nwbview.open(path) as s:
            return len(s.inventory())

    t_inv, n = median_time(inventory)
    print(f"session.inventory_s: {t_inv:.3f} (open + inventory of {n} streams; goal < 1 s)")

    with nwbview.open(path) as s:
        streams = {"position": s.position(), "pose": s.pose(), "lfp": s.lfp()}
        # the timeline of the whole video (its frame times come from the file)
        vt = nwbview.io.nwb.series_times(s.inventory().of_kind("video")[0].obj)

        def align():
            tl = Timeline(vt)
            idx = tl.align({"position": streams["position"], "pose": streams["pose"]})
            win = tl.windows(streams["lfp"], 2.0)
            return len(idx), win.shape

        t_al, _ = median_time(align)
        print(f"session.alignment_s: {t_al:.3f} ({len(vt)} frames x position, pose nearest + LFP windows; goal < 1 s)")

        def read10():
            return s.lfp(channels=[5], start=1800.0, stop=1810.0).values

        read10()  # warm the file's metadata, as any second read would be
        tracemalloc.start()
        t_rd, v = median_time(read10, repeat=7)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        full = 3_600_000 * N_CH * 8 / 1e6
        print(f"session.lfp_10s_one_channel_ms: {t_rd * 1e3:.1f} ({v.shape[0]} samples; goal < 50 ms)")
        print(f"session.lfp_10s_peak_memory_mb: {peak / 1e6:.1f} (whole LFP as float64 would be {full:.0f} MB)")


if __name__ == "__main__":
    main()
