"""Run one job over many sessions in parallel: ``nwbview.batching.batch`` on a 2-worker dask cluster.

Makes 3 small demo sessions (3 s each, different mice) in OUT (default: a temporary folder), then
computes speed (a CSV next to each session, and the results written back into each file) and an
occupancy heatmap of each, on one local dask cluster of 2 worker processes, and prints the summary
tables. Running it again skips the sessions already done.

Run: ``python examples/batch_sessions.py [OUT]``. The same from the shell::

    nwbview batch "OUT/sessions/*/demo_session.nwb" kinematics --csv "{stem}_speed.csv" --write --workers 2
    nwbview batch "OUT/sessions/*/demo_session.nwb" heatmap --kind occupancy --workers 2
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd


def main(out: Path) -> None:
    from distributed import Client

    from nwbview.batching import local_cluster, batch
    from nwbview.demo import make_demo_session

    for seed in range(3):  # one folder per session: each has its own video
        folder = out / "sessions" / f"mouse{seed}"
        if not (folder / "demo_session.nwb").exists():
            make_demo_session(folder, duration=3.0, seed=seed)
    sessions = str(out / "sessions" / "*" / "demo_session.nwb")

    # a script that starts worker processes must run under `if __name__ == "__main__":`
    with local_cluster(2) as cluster, Client(cluster) as client:
        speed = batch(sessions, "kinematics", client, csv="{stem}_speed.csv", write=True,
                          summary=out / "batch-kinematics.csv", progress=False)
        maps = batch(sessions, "heatmap", client, kind="occupancy", summary=out / "batch-heatmap.csv", progress=False)

    with pd.option_context("display.width", 160, "display.max_colwidth", 48):
        print("kinematics:")
        print(speed[["session", "status", "duration_s", "median", "p95", "outputs"]].to_string(index=False))
        print("\nheatmap:")
        print(maps[["session", "status", "duration_s", "bins_visited", "outputs"]].to_string(index=False))
    print(f"\nsummaries: {speed.attrs['summary']}, {maps.attrs['summary']}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="nwbview-batch-")))
