"""Which sessions hold what: ``nwbview.scan`` over a folder of sessions, before opening any of them.

Makes 3 small demo sessions (3 s each, different mice), a copy of one moved away from its video
(the table shows the video missing) and a file that is not NWB, in OUT (default: a temporary
folder). Scans the folder (one row per session: ids, duration, video, pose, LFP,
problems), keeps the sessions with video and pose, and opens the first of them. A second scan
comes from the cache (here a folder inside OUT).

Run: ``python examples/scan_sessions.py [OUT]``. The same from the shell::

    nwbview info OUT/sessions                          # the table (rows numbered)
    nwbview info OUT/sessions --has video,pose --json  # for machines; --csv too
    nwbview info OUT/sessions --row 2                  # one session in detail
    nwbview view "$(nwbview info OUT/sessions --row 2 --paths)"
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd


def main(out: Path) -> None:
    import nwbview
    from nwbview.demo import make_demo_session
    from nwbview.scanning import format_table

    sessions = out / "sessions"
    for seed in range(3):  # one folder per session: each has its own video
        folder = sessions / f"mouse{seed}"
        if not (folder / "demo_session.nwb").exists():
            make_demo_session(folder, duration=3.0, seed=seed)
    (sessions / "moved").mkdir(exist_ok=True)
    shutil.copy(sessions / "mouse0" / "demo_session.nwb", sessions / "moved" / "demo_session.nwb")  # without its video
    (sessions / "notes.nwb").write_text("not an NWB file")

    cache = out / "scan-cache"
    table = nwbview.scan(sessions, cache_dir=cache, progress=False)
    print(format_table(table))

    chosen = nwbview.scan(sessions, has="video,pose", min_duration_s=2.0, cache_dir=cache, progress=False)
    print(f"\nwith video and pose, at least 2 s: rows {', '.join(map(str, chosen.row))} "
          f"(the second scan: {chosen.attrs['from_cache']} of {chosen.attrs['sessions']} from the cache)")
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(chosen[["row", "source", "duration_s", "video_frames", "pose_keypoints", "lfp_channels"]].to_string(index=False))

    with nwbview.open(chosen.source.iloc[0]) as s:
        print(f"\nopened row {chosen.row.iloc[0]}: {s.position().sizes['time']} positions, video of {len(s.video())} frames")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="nwbview-scan-")))
