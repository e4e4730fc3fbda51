"""Benchmark: 1-hour and 10-hour sessions, opened, inventoried, aligned, and a 10 s LFP read.

Each session: video frame timestamps (30 Hz), 4 pose keypoints per frame,
position at 50 Hz, and a 64-channel LFP at 1 kHz stored as int16 in chunks
(3.6 M x 64 samples per hour: 460 MB an hour, 4.6 GB for 10 h). Timestamps are
written whole (they are what a reader must look at); the bulk data (LFP, pose,
position) is written sparsely: the HDF5 datasets have their full shape and
chunking, but only the chunks the benchmark reads (and a few others) hold data,
the rest is the dataset's fill value and takes no disk. The point is metadata
and access cost, not disk. The files are built once into a cache folder
(``--cache``, default the system temp folder) and reused.

Goals (issue 21): the same cost for 1 h and 10 h: open + inventory < 0.5 s;
10 s of one LFP channel in < 20 ms, with < 20 MB of peak memory for that read.

``session.fresh_info_s``: a fresh ``nwbview info FILE`` process, as a user at the command line
waits for it (interpreter, imports, opening, inventory), best of 3: for a small ecephys file
written without ndx-pose (nwbview then does not import it) and for the 1-hour session (pose).

Run: ``python benchmarks/bench_session.py``
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

HOUR = 3600.0
FPS = 30.0
LFP_RATE = 1000.0
N_CH = 64


class SparseChunks:
    """A DataChunkIterator over a dataset of full shape that writes only some row blocks.

    HDF5 keeps unwritten chunks unallocated (they read as the fill value), so a
    10-hour, 4.6 GB LFP costs only the chunks written.
    """

    def __new__(cls, shape, dtype, rows: list[tuple[int, int]], seed: int = 0, scale: float = 2000):
        from hdmf.data_utils import AbstractDataChunkIterator, DataChunk

        class _It(AbstractDataChunkIterator):
            def __init__(self):
                self._rng = np.random.default_rng(seed)
                self._blocks = iter(sorted(rows))

            def __iter__(self):
                return self

            def __next__(self):
                a, b = next(self._blocks)
                b = min(b, shape[0])
                block = self._rng.uniform(-scale, scale, (b - a,) + tuple(shape[1:])).astype(dtype)
                return DataChunk(data=block, selection=(slice(a, b),) + tuple(slice(0, k) for k in shape[1:]))

            def recommended_chunk_shape(self):
                return None

            def recommended_data_shape(self):
                return tuple(shape)

            @property
            def dtype(self):
                return np.dtype(dtype)

            @property
            def maxshape(self):
                return tuple(shape)

        return _It()


def _sparse(shape, dtype, rate: float, seconds: list[tuple[float, float]], chunks, seed=0, scale=2000):
    from hdmf.backends.hdf5.h5_utils import H5DataIO

    rows = [(int(a * rate), int(b * rate)) for a, b in seconds]
    return H5DataIO(SparseChunks(shape, dtype, rows, seed=seed, scale=scale), chunks=chunks, fillvalue=0)


def build(path: Path, hours: float = 1.0) -> None:
    from ndx_pose import PoseEstimation, PoseEstimationSeries, Skeleton, Skeletons
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.behavior import Position, SpatialSeries
    from pynwb.ecephys import LFP, ElectricalSeries
    from pynwb.image import ImageSeries

    rng = np.random.default_rng(0)
    HOUR = 3600.0 * hours
    written = [(0.0, 20.0), (1795.0, 1815.0), (HOUR - 20.0, HOUR)]  # the rest reads as the fill value
    nwb = NWBFile("bench", f"bench-{hours:g}h", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), session_id="bench")
    n_frames = int(HOUR * FPS)
    t = np.arange(n_frames) / FPS + rng.normal(0, 0.001, n_frames)
    t = np.sort(t) + 0.25
    vid = ImageSeries(name="BehaviorVideo", external_file=["video.mp4"], format="external", starting_frame=[0], timestamps=t, dimension=[640, 480])
    nwb.add_acquisition(vid)
    beh = nwb.create_processing_module("behavior", "behavior")
    n_pos = int(HOUR * 50)
    beh.add(Position(spatial_series=[SpatialSeries(name="position", data=_sparse((n_pos, 2), np.float64, 50.0, written, (65536, 2), scale=100), unit="cm", reference_frame="arena", starting_time=0.0, rate=50.0)]))
    names = ["snout", "left_ear", "right_ear", "tail_base"]
    series, first = [], None
    for k in names:
        s = PoseEstimationSeries(name=k, data=_sparse((n_frames, 2), np.float64, FPS, written, (65536, 2), scale=640), unit="pixels", reference_frame="top left", confidence=_sparse((n_frames,), np.float64, FPS, written, (65536,), scale=1), timestamps=first if first is not None else t)
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
    data = _sparse((n_lfp, N_CH), np.int16, LFP_RATE, written, (16384, N_CH))
    es = ElectricalSeries(name="lfp", data=data, electrodes=region, starting_time=0.0, rate=LFP_RATE, conversion=0.195e-6)
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


def bench(path: Path, label: str, align: bool) -> None:
    import nwbview
    from nwbview import Timeline

    def inventory():
        with nwbview.open(path) as s:
            return len(s.inventory())

    t_inv, n = median_time(inventory)
    print(f"session.{label}.inventory_s: {t_inv:.3f} (open + inventory of {n} streams; goal < 0.5 s)")

    with nwbview.open(path) as s:
        def read10():
            return s.lfp(channels=[5], start=1800.0, stop=1810.0).values

        s.inventory()
        read10()  # warm the file's metadata, as any second read would be
        tracemalloc.start()
        t_rd, v = median_time(read10, repeat=7)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"session.{label}.lfp_10s_one_channel_ms: {t_rd * 1e3:.1f} ({v.shape[0]} samples; goal < 20 ms)")
        print(f"session.{label}.lfp_10s_peak_memory_mb: {peak / 1e6:.1f} (goal < 20 MB)")

        def first_read():
            with nwbview.open(path) as s2:
                return s2.lfp(channels=[5], start=1800.0, stop=1810.0).values

        t_first, _ = median_time(first_read, repeat=3)
        tracemalloc.start()
        first_read()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"session.{label}.open_and_first_lfp_10s_s: {t_first:.3f} (peak {peak / 1e6:.1f} MB; a fresh session: open, find the LFP, read)")

        if align:
            streams = {"position": s.position(), "pose": s.pose(), "lfp": s.lfp()}
            # the timeline of the whole video (its frame times come from the file)
            vt = nwbview.io.nwb.series_times(s.inventory().of_kind("video")[0].obj)

            def do_align():
                tl = Timeline(vt)
                idx = tl.align({"position": streams["position"], "pose": streams["pose"]})
                win = tl.windows(streams["lfp"], 2.0)
                return len(idx), win.shape

            t_al, _ = median_time(do_align)
            print(f"session.{label}.alignment_s: {t_al:.3f} ({len(vt)} frames x position, pose nearest + LFP windows; goal < 1 s)")


_NO_POSE = """
from pynwb import NWBHDF5IO
from pynwb.testing.mock.ecephys import mock_ElectricalSeries
from pynwb.testing.mock.file import mock_NWBFile
f = mock_NWBFile()
mock_ElectricalSeries(nwbfile=f)
with NWBHDF5IO({path!r}, "w") as io:
    io.write(f)
"""


def fresh_info(path: Path, label: str, repeat: int = 3) -> None:
    """session.fresh_info_s: wall time of a fresh ``nwbview info PATH`` process, best of ``repeat``."""
    code = f"import sys; from nwbview.cli import main; sys.argv = ['nwbview', 'info', {str(path)!r}]; main()"
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    print(f"session.fresh_info_s.{label}: {best:.2f} (a fresh `nwbview info` process, best of {repeat})", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=tempfile.gettempdir(), help="folder for the test files")
    ap.add_argument("--hours", default="1,10", help="session lengths to measure (comma separated)")
    ap.add_argument("--no-align", action="store_true", help="skip the timeline + alignment figure")
    args = ap.parse_args()

    for h in [float(x) for x in args.hours.split(",")]:
        path = Path(args.cache) / f"nwbview-bench-{h:g}h-sparse.nwb"
        if not path.exists():
            t0 = time.perf_counter()
            build(path, h)
            print(f"built {path} ({path.stat().st_size / 1e6:.0f} MB on disk) in {time.perf_counter() - t0:.1f} s")
        bench(path, f"{h:g}h", align=not args.no_align and h == 1.0)
        if h == 1.0:
            fresh_info(path, "1h_session_with_pose")
    no_pose = Path(args.cache) / "nwbview-bench-no-pose.nwb"
    if not no_pose.exists():  # written by a process without ndx-pose: the file does not cache its namespace
        subprocess.run([sys.executable, "-c", _NO_POSE.format(path=str(no_pose))], check=True)
    fresh_info(no_pose, "ecephys_file_without_pose")


if __name__ == "__main__":
    main()
