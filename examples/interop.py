"""Hand a session to movement and pynapple, on the file's own clock.

Usage::

    python examples/interop.py [OUT_DIR]

Makes a short demo session in OUT_DIR (default: a temporary folder), calibrates its video,
then gives the pose to movement (``nwbview.to_movement``: the installed movement's dimension
names, its attrs, the real frame times) and every stream to pynapple (``nwbview.to_pynapple``:
Tsd / TsdFrame / IntervalSet in physical units). Needs ``pip install 'nwbview[interop]'``; without
it, it says so and stops.
"""

from __future__ import annotations

import sys
import tempfile

import numpy as np

import nwbview
from nwbview import jobs
from nwbview.demo import make_demo_session
from nwbview.errors import MissingDependencyError


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    out = argv[0] if argv else tempfile.mkdtemp(prefix="nwbview-")
    demo = make_demo_session(out, duration=5.0)
    jobs.calibrate_job(demo.nwb_path, landmarks=demo.landmarks_csv)
    try:
        with nwbview.open(demo.nwb_path) as s:
            ds = nwbview.to_movement(s, coordinates="world")
            objs = nwbview.to_pynapple(s)
    except MissingDependencyError as err:
        print(err)
        return
    from movement.kinematics import compute_speed

    keypoint_dim = ds.position.dims[2]  # "keypoint" (movement >= 0.17) or "keypoints"
    speed = compute_speed(ds.position).sel({keypoint_dim: "snout"})
    print(f"movement Dataset: dims {dict(ds.sizes)}, {ds.attrs['fps']:.2f} fps, time from {float(ds.time[0]):.3f} s")
    print(f"snout speed by movement: median {float(np.nanmedian(speed)):.1f} {ds.attrs['units']}/s")
    for name, obj in objs.items():
        names = sorted(set(obj.metadata["units"]) - {""}) if "units" in getattr(obj, "metadata", {}) else []
        units = f" [{', '.join(names)}]" if names else ""
        print(f"pynapple {name}: {type(obj).__name__} {getattr(obj, 'shape', '')}{units}")


if __name__ == "__main__":
    main()
