"""Benchmark: ``nwbview.scan`` over 50 local and 50 remote sessions (local HTTP server + DANDI API stand-in).

Local: 50 copies of a 10 s demo session (each in its own folder, with its video), scanned cold
(no cache) with 1 and 4 threads, then again from the cache. Remote: one ~35 MB session (position,
video, pose, 64-channel LFP) served 50 times as the assets of a dandiset by the test suite's local
server (tests/fixtures/http.py), scanned cold with 1 and 4 threads without added latency and with
50 ms added to every request (a distant server), then from the cache. Bytes read are the server's
count of body bytes sent for the NWB files.

Run: ``python benchmarks/bench_scan.py [--quick] [--sessions 50] [--latency 0.05]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests.fixtures.http, the local server of the test suite


def local_sessions(root: Path, n: int) -> Path:
    from nwbview.demo import make_demo_session

    demo = root / "demo"
    if not (demo / "demo_session.nwb").exists():
        make_demo_session(demo, duration=10.0, seed=0)
    folder = root / f"local{n}"
    for i in range(n):
        d = folder / f"mouse{i:02d}"
        if not (d / "demo_session.nwb").exists():
            d.mkdir(parents=True, exist_ok=True)
            for name in ("demo_session.nwb", "demo_video.mp4"):
                shutil.copy(demo / name, d / name)
    return folder


def big_session(root: Path) -> Path:
    """~35 MB: position, a video (the demo's), pose and a 64-channel int16 LFP (270 s at 1 kHz)."""
    import numpy as np
    from hdmf.backends.hdf5.h5_utils import H5DataIO
    from pynwb import NWBHDF5IO
    from pynwb.ecephys import LFP, ElectricalSeries
    from pynwb.testing.mock.file import mock_NWBFile

    from tests.fixtures.sessions import add_pose, add_position, add_video

    path = root / "big.nwb"
    if path.exists():
        return path
    nwb = mock_NWBFile(session_id="big")
    add_position(nwb, n=5000)
    vid = add_video(nwb, ["demo_video.mp4"], timestamps=0.25 + np.arange(280) / 28.0)
    add_pose(nwb, n=280, source_video=vid, names=("snout", "ear_l", "ear_r", "tail_base"))
    dev = nwb.create_device("probe")
    grp = nwb.create_electrode_group("shank", description="s", location="CA1", device=dev)
    for _ in range(64):
        nwb.add_electrode(group=grp, location="CA1")
    region = nwb.create_electrode_table_region(list(range(64)), "all")
    data = np.random.default_rng(0).integers(-3000, 3000, (270_000, 64), dtype=np.int16)
    es = ElectricalSeries(name="lfp", data=H5DataIO(data, chunks=(8192, 64)), electrodes=region, rate=1000.0,
                          starting_time=0.0, conversion=1e-6)
    nwb.create_processing_module("ecephys", "e").add(LFP(electrical_series=es))
    tmp = path.with_name(".big-tmp.nwb")
    with NWBHDF5IO(str(tmp), "w") as io:
        io.write(nwb)
    tmp.rename(path)
    return path


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 sessions of each")
    ap.add_argument("--sessions", type=int, default=None)
    ap.add_argument("--latency", type=float, default=0.05, help="seconds added to each request in the slow runs")
    args = ap.parse_args()
    n = args.sessions or (10 if args.quick else 50)

    import nwbview  # noqa: F401 - imports before timing
    import pynwb  # noqa: F401
    from nwbview.scanning import scan

    root = Path(tempfile.gettempdir()) / "nwbview-bench-scan"
    root.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    folder = local_sessions(root, n)
    big = big_session(root)
    print(f"data ready in {time.perf_counter() - t0:.1f} s ({n} local sessions in {folder}; remote file {big.stat().st_size / 1e6:.1f} MB)")

    cache = Path(tempfile.mkdtemp(prefix="nwbview-scan-cache-"))
    try:
        # -- local
        scan(str(folder / "mouse00" / "demo_session.nwb"), cache=False, progress=False)  # warm-up: first imports and loads
        for w in (1, 4):
            s, t = timed(lambda: scan(folder, workers=w, cache=False, progress=False))
            assert len(t) == n and (t.error == "").all(), t.error.tolist()
            print(f"local, {n} sessions, cold, {w} thread(s): {s:.2f} s ({s / n * 1000:.0f} ms/session)")
        scan(folder, cache_dir=cache / "local", progress=False)
        s, t = timed(lambda: scan(folder, cache_dir=cache / "local", progress=False))
        assert t.attrs["from_cache"] == n
        print(f"local, {n} sessions, from the cache: {s:.3f} s ({s / n * 1000:.1f} ms/session)")

        # -- remote
        from tests.fixtures.http import TestServer

        served = Path(tempfile.mkdtemp(prefix="nwbview-scan-served-"))
        assets = {"sub-00/demo_video.mp4": "demo_video.mp4"}
        shutil.copy(root / "demo" / "demo_video.mp4", served / "demo_video.mp4")
        for i in range(n):
            os.link(big, served / f"s{i:02d}.nwb")
            assets[f"sub-{i:02d}/sub-{i:02d}_ses-1.nwb"] = f"s{i:02d}.nwb"
        srv = TestServer(served)
        import gc

        gc.disable()  # an in-process server and h5py's global lock: see tests/fixtures/http.py
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        srv.add_dandiset("000999", assets)
        os.environ["NWBVIEW_DANDI_API"] = srv.url + "/api"
        size = big.stat().st_size
        try:
            scan("dandi://000999/sub-00/sub-00_ses-1.nwb", cache=False, progress=False)  # warm-up
            for latency in (0.0, args.latency):
                srv.mode, srv.delay = ("slow", latency) if latency else ("ranges", 0.0)
                for w in (1, 4):
                    srv.reset_counts()
                    s, t = timed(lambda: scan("dandi://000999", workers=w, cache=False, progress=False))
                    assert len(t) == n and (t.error == "").all(), t.error.tolist()[:3]
                    nwb_bytes = [v for k, v in srv.bytes_sent.items() if k.endswith(".nwb")]
                    print(f"remote, {n} sessions, +{latency * 1000:.0f} ms/request, cold, {w} thread(s): {s:.2f} s "
                          f"({s / n * 1000:.0f} ms/session); {len(srv.requests) / n:.1f} requests/session; "
                          f"read {max(nwb_bytes) / 1e3:.0f} KB of {size / 1e6:.1f} MB per file at most "
                          f"({max(nwb_bytes) / size:.2%})")
            srv.mode, srv.delay = "slow", args.latency
            scan("dandi://000999", cache_dir=cache / "remote", progress=False)
            srv.reset_counts()
            s, t = timed(lambda: scan("dandi://000999", cache_dir=cache / "remote", progress=False))
            assert t.attrs["from_cache"] == n
            nwb_bytes = sum(v for k, v in srv.bytes_sent.items() if k.endswith(".nwb"))
            print(f"remote, {n} sessions, +{args.latency * 1000:.0f} ms/request, from the cache: {s:.3f} s "
                  f"({len(srv.requests)} requests: the listing; {nwb_bytes} bytes of the files)")
        finally:
            srv.shutdown()
            srv.server_close()
            shutil.rmtree(served, ignore_errors=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
