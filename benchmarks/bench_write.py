"""Benchmark: the cost of writing results back into a 1 GB session.

The session holds a 64-channel int16 LFP of ~2.3 hours at 1 kHz (~1 GB) and a
position series. We write the same small result (speed) with ``mode="replace"``
(a complete validated copy renamed over the original) and ``mode="append"``
(in place), each into a fresh copy of the file.

Run: ``python benchmarks/bench_write.py [--gb 1.0]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def build(path: Path, gb: float) -> None:
    from hdmf.backends.hdf5.h5_utils import H5DataIO
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.behavior import Position, SpatialSeries
    from pynwb.ecephys import LFP, ElectricalSeries

    n_ch = 64
    n = int(gb * 1e9 / (2 * n_ch))
    nwb = NWBFile("bench", "bench-write", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), session_id="bench")
    beh = nwb.create_processing_module("behavior", "behavior")
    rng = np.random.default_rng(0)
    n_pos = int(n / 1000 * 50)
    beh.add(Position(spatial_series=[SpatialSeries(name="position", data=np.cumsum(rng.normal(0, 0.2, (n_pos, 2)), 0), unit="cm", reference_frame="arena", starting_time=0.0, rate=50.0)]))
    dev = nwb.create_device("probe")
    grp = nwb.create_electrode_group("shank", description="s", location="CA1", device=dev)
    for _ in range(n_ch):
        nwb.add_electrode(group=grp, location="CA1")
    region = nwb.create_electrode_table_region(list(range(n_ch)), "all")
    data = rng.integers(-2000, 2000, (n, n_ch), dtype=np.int16)
    es = ElectricalSeries(name="lfp", data=H5DataIO(data, chunks=(16384, n_ch)), electrodes=region, starting_time=0.0, rate=1000.0, conversion=0.195e-6)
    nwb.create_processing_module("ecephys", "ecephys").add(LFP(electrical_series=es))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gb", type=float, default=1.0)
    ap.add_argument("--cache", default=tempfile.gettempdir())
    args = ap.parse_args()
    import nwbview
    from nwbview.io.write import write_results
    from nwbview.results import speed_result

    src = Path(args.cache) / f"nwbview-bench-write-{args.gb:g}GB.nwb"
    if not src.exists():
        t0 = time.perf_counter()
        build(src, args.gb)
        print(f"built {src} ({src.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - t0:.1f} s")
    size = src.stat().st_size / 1e9
    work = Path(tempfile.mkdtemp(prefix="nwbview-bench-write-"))
    try:
        for mode in ("replace", "append"):
            target = work / f"{mode}.nwb"
            shutil.copyfile(src, target)
            with nwbview.open(target) as s:
                speed = nwbview.compute_speed(s.position())
            result = speed_result(speed)
            t0 = time.perf_counter()
            write_results(target, result, mode=mode)
            dt_s = time.perf_counter() - t0
            print(f"write.{mode}_s: {dt_s:.2f} ({size:.2f} GB session, one speed series; {size / dt_s:.2f} GB/s)")
            if mode == "append":
                # an overwrite in place: staged, swapped in; HDF5 keeps the old result's space
                sizes = [target.stat().st_size]
                for _ in range(2):
                    t0 = time.perf_counter()
                    write_results(target, speed_result(speed), mode="append", overwrite=True)
                    sizes.append(target.stat().st_size)
                print(f"write.append_overwrite_s: {time.perf_counter() - t0:.2f}")
                print(f"write.append_overwrite_growth_bytes: {sizes[1] - sizes[0]}, {sizes[2] - sizes[1]} "
                      f"(speed series of {len(result.data)} samples, {np.asarray(result.data).nbytes} bytes of data)")
                t0 = time.perf_counter()
                write_results(target, speed_result(speed), mode="replace", overwrite=True)
                print(f"write.replace_compacts_to_bytes: {target.stat().st_size} (from {sizes[2]}) in {time.perf_counter() - t0:.2f} s")
            target.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
