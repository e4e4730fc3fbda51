"""Export an annotated clip of a session: video + pose + position trail + speed and LFP.

Usage::

    python examples/export_clip.py [SESSION.nwb | OUT_DIR] [--start 5] [--stop 15] [-o clip.mp4]

Given an NWB file, it exports a clip of it (``--landmarks CSV`` calibrates the video so that
positions in cm can be drawn). Otherwise a 20 s demo session (a simulated mouse in a 100 x 80 cm
open field) is generated in OUT_DIR (default: a new temporary folder) and calibrated from its
landmarks CSV. A snapshot of the middle frame is saved next to the clip.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nwbview
from nwbview.render import export_video, snapshot


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", help="an NWB file, or a folder for a new demo session (default: a temporary folder)")
    parser.add_argument("--start", type=float, default=5.0, help="start, seconds (default 5)")
    parser.add_argument("--stop", type=float, default=15.0, help="stop, seconds (default 15)")
    parser.add_argument("-o", "--output", default=None, help="output .mp4 (default: next to the session)")
    parser.add_argument("--landmarks", default=None, help="landmarks CSV to calibrate the video (pixel <-> cm)")
    args = parser.parse_args(argv)

    calibration = None
    if args.target is not None and Path(args.target).suffix.lower() == ".nwb":
        session_path, landmarks = Path(args.target), args.landmarks
    else:
        from nwbview.demo import make_demo_session

        folder = Path(args.target) if args.target else Path(tempfile.mkdtemp(prefix="nwbview-export-"))
        print(f"making a 20 s demo session in {folder} ...")
        demo = make_demo_session(folder, duration=20.0)
        session_path, landmarks = demo.nwb_path, demo.landmarks_csv
    out = Path(args.output) if args.output else session_path.with_name(session_path.stem + "_clip.mp4")

    with nwbview.open(session_path) as s:
        if landmarks is not None:
            from nwbview.calibration import fit_landmarks, read_landmarks_csv

            labels, pixel, world = read_landmarks_csv(landmarks)
            reader = s.video()
            calibration = fit_landmarks(pixel, world, labels=labels, frame_dimension=reader.size)
            reader.close()
        t0 = time.perf_counter()
        export_video(s, out, start=args.start, stop=args.stop, calibration=calibration)
        elapsed = time.perf_counter() - t0
        still = snapshot(s, out.with_suffix(".png"), time=(args.start + args.stop) / 2, calibration=calibration)
    print(f"exported {out} ({out.stat().st_size / 1e6:.1f} MB) in {elapsed:.1f} s")
    print(f"snapshot {still}")


if __name__ == "__main__":
    main()
