"""Calibrate the video from arena landmarks, store it, and write kinematics back into the file.

Usage::

    python examples/calibrate_and_write.py [OUT_DIR]

Makes a short demo session in OUT_DIR (default: a temporary folder), fits a
pixel -> world calibration from the arena's corners (demo_landmarks.csv),
writes it into the file, then reads the pose in cm and stores speed,
acceleration and head direction in processing/behavior.
"""

from __future__ import annotations

import sys
import tempfile

import nwbview
from nwbview.demo import make_demo_session
from nwbview.io.write import write_results
from nwbview.results import calibration_result, kinematics_results


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    out = argv[0] if argv else tempfile.mkdtemp(prefix="nwbview-")
    demo = make_demo_session(out, duration=5.0)
    with nwbview.open(demo.nwb_path) as s:
        cal = s.fit_calibration(landmarks=demo.landmarks_csv)
        video = s.inventory().of_kind("video")[0].path
    print(cal.summary())
    write_results(demo.nwb_path, calibration_result(cal, video))
    with nwbview.open(demo.nwb_path) as s:
        snout = s.pose(coordinates="world").position.sel(keypoint="snout").isel(individual=0)
        print(f"snout at t={float(snout.time[0]):.3f} s: ({float(snout[0, 0]):.1f}, {float(snout[0, 1]):.1f}) cm")
        results = kinematics_results(s, tracking="pose")
    write_results(demo.nwb_path, results)
    with nwbview.open(demo.nwb_path) as s:
        for r in s.inventory().of_kind("result") + s.inventory().of_kind("calibration"):
            print(f"{r.path}: {r.details.get('provenance')}")


if __name__ == "__main__":
    main()
