"""Make nwbview's built-in demo session and say what was made.

Usage::

    python examples/demo_session.py [OUT_DIR] [--duration 60] [--seed 0]

Without OUT_DIR the files go into a new temporary folder. The session is a
simulated mouse in a 100 x 80 cm open field: an NWB file (position, head
direction, ndx-pose keypoints, LFP, running bouts) that points at an H.264
video by a relative path, plus a landmarks CSV and the ground truth as JSON.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nwbview.demo import make_demo_session


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", help="folder to write into (default: a new temporary folder)")
    parser.add_argument("--duration", type=float, default=60.0, help="session length in seconds (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)

    out_dir = Path(args.out_dir) if args.out_dir else Path(tempfile.mkdtemp(prefix="nwbview-demo-"))
    t0 = time.perf_counter()
    demo = make_demo_session(out_dir, duration=args.duration, seed=args.seed)
    elapsed = time.perf_counter() - t0

    truth = demo.truth
    print(f"Made a {args.duration:g} s demo session (seed {args.seed}) in {elapsed:.1f} s, in {out_dir}:")
    for path in (demo.nwb_path, demo.video_path, demo.landmarks_csv, demo.truth_json):
        print(f"  {path.name:<20} {path.stat().st_size / 1e6:7.2f} MB")
    print(
        f"Video: {truth['frame_size'][0]}x{truth['frame_size'][1]} px, {truth['n_frames']} frames from "
        f"t = {truth['video_start_time']:.2f} s (nominal {truth['nominal_fps']:g} fps; one frame dropped "
        f"before frame {truth['dropped_frame']['index']})."
    )
    print(f"Arena: 100 x 80 cm at {truth['px_per_cm']} px/cm; pixel -> world matrix:")
    for row in truth["pixel_to_world"]:
        print("  [" + ", ".join(f"{v:9.4f}" for v in row) + "]")
    print(f"Keypoints: {', '.join(truth['keypoints'])}; running bouts: {len(truth['running_bouts'])}.")
    print(f"Try:  nwbview info {demo.nwb_path}")


if __name__ == "__main__":
    main()
