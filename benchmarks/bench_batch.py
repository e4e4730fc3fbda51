"""Benchmark: ``nwbview batch`` throughput, sessions per minute with 1 and 2 dask workers.

8 demo sessions (60 s each; 10 s with ``--quick``), each in its own folder, cached in the temporary
folder between runs. The job is the head-centred movement heatmap (video decode + crops + figure),
the heaviest per-session job that needs no export. Each figure is measured on a fresh local cluster
from submitting to the last result (``force=True``), without the cluster's start and the workers'
first imports (done before timing, printed on their own); the plain sequential loop over ``heatmap_job``
in one process is the baseline. With 2 workers on 2 free cores the ideal is 2x the 1-worker figure;
the load average printed at the end tells how free the cores were.

Run: ``python benchmarks/bench_batch.py [--quick] [--sessions 8] [--duration 60] [--job movement]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def sessions(n: int, duration: float) -> list[str]:
    from nwbview.demo import make_demo_session

    root = Path(tempfile.gettempdir()) / f"nwbview-bench-batch-{duration:g}s"
    out = []
    t0 = time.perf_counter()
    made = 0
    for seed in range(n):
        folder = root / f"mouse{seed}"
        nwb = folder / "demo_session.nwb"
        if not nwb.exists():
            make_demo_session(folder, duration=duration, seed=seed)
            made += 1
        out.append(str(nwb))
    if made:
        print(f"made {made} demo sessions of {duration:g} s in {root} in {time.perf_counter() - t0:.1f} s")
    return out


def _warm_up() -> None:
    """Import what the jobs use (nwbview, pynwb, PyAV, OpenCV, matplotlib) in a worker."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

    import nwbview.heatmap  # noqa: F401
    import nwbview.jobs  # noqa: F401
    import nwbview.render.figures  # noqa: F401
    import nwbview.results  # noqa: F401


def job_options(job: str) -> tuple[str, dict]:
    if job == "movement":
        return "heatmap", dict(kind="movement", egocentric=True)
    if job == "occupancy":
        return "heatmap", dict(kind="occupancy")
    if job == "kinematics":
        return "kinematics", dict(tracking="pose", csv="{stem}_speed.csv")
    raise SystemExit(f"unknown --job {job!r}: movement, occupancy or kinematics")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 s sessions")
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--duration", type=float, default=None, help="seconds per session (default 60; 10 with --quick)")
    ap.add_argument("--job", default="movement", help="movement (default), occupancy or kinematics")
    args = ap.parse_args()
    duration = args.duration or (10.0 if args.quick else 60.0)
    os.environ.setdefault("MPLBACKEND", "Agg")

    from distributed import Client

    from nwbview import jobs
    from nwbview.batching import local_cluster, batch

    paths = sessions(args.sessions, duration)
    job, opts = job_options(args.job)
    n = len(paths)
    desc = f"{n} sessions of {duration:g} s, {job} {opts}"

    # baseline: the single-session job in a loop, one process (after a warm-up import)
    fn = getattr(jobs, f"{job}_job")

    def single(p: str) -> None:
        kw = dict(opts)
        if "csv" in kw:
            kw["csv"] = str(Path(p).with_name(f"{Path(p).stem}_speed.csv"))
        fn(p, **kw)

    single(paths[0])  # warm-up: imports
    t0 = time.perf_counter()
    for p in paths:
        single(p)
    seq = time.perf_counter() - t0
    print(f"batch.sessions_per_min_sequential: {n / seq * 60:.1f} ({desc}; plain loop in one process, {seq:.1f} s)")

    results = {}
    with tempfile.TemporaryDirectory(prefix="nwbview-bench-batch-") as tmp:
        for workers in (1, 2):
            t0 = time.perf_counter()
            with local_cluster(workers) as cluster, Client(cluster) as client:
                start = time.perf_counter() - t0
                t0 = time.perf_counter()
                client.run(_warm_up)  # each worker's first imports, once per cluster
                warm = time.perf_counter() - t0
                t0 = time.perf_counter()
                table = batch(paths, job, client, force=True, summary=Path(tmp) / f"summary-{workers}.csv", progress=False, **opts)
                dt = time.perf_counter() - t0
            bad = table[table.status != "done"]
            if len(bad):
                raise SystemExit(f"{len(bad)} sessions failed: {bad.error.iloc[0]}")
            results[workers] = n / dt * 60
            label = "1_worker" if workers == 1 else f"{workers}_workers"
            print(f"batch.sessions_per_min_{label}: {results[workers]:.1f} ({desc}; {dt:.1f} s, "
                  f"median session {table.duration_s.median():.2f} s; not included: cluster start {start:.1f} s, "
                  f"workers' first imports {warm:.1f} s)")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"batch.speedup_2_workers: {results[2] / results[1]:.2f} (ideal 2.0 with 2 free cores; {os.cpu_count()} cores here, "
          f"load average {load:.1f} at the end: other processes on the cores lower it)")


if __name__ == "__main__":
    main()
