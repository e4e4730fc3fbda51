"""Open a session, list what it holds, and get its streams as xarray on one clock.

Usage::

    python examples/open_session.py [SESSION.nwb | OUT_DIR]

Without a .nwb file, a short demo session is made in OUT_DIR (default: a
temporary folder).
"""

from __future__ import annotations

import sys
import tempfile

import nwbview
from nwbview import Timeline


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].endswith(".nwb"):
        path = argv[0]
    else:
        from nwbview.demo import make_demo_session

        out = argv[0] if argv else tempfile.mkdtemp(prefix="nwbview-")
        path = make_demo_session(out, duration=5.0).nwb_path
    with nwbview.open(path) as s:
        print(s.inventory())
        pos = s.position()  # (time, space) in cm, on the session clock
        pose = s.pose()  # movement-style Dataset: position (time, space, keypoint, individual)
        lfp = s.lfp(channels=[0], start=1.0, stop=3.0)  # reads only 2 s of one channel, in uV
        print(f"\nposition: {dict(pos.sizes)} {pos.attrs['units']}; pose keypoints {list(pose.keypoint.values)}")
        print(f"LFP: {lfp.shape[0]} samples of channel 0, {float(abs(lfp).max()):.0f} {lfp.attrs['units']} peak")
        # align every stream to the video's own frames, once
        tl = Timeline.from_video(s)
        idx = tl.align({"position": pos, "pose": pose})
        win = tl.windows(s.lfp(), 2.0)
        k = len(tl) // 2
        print(f"video frame {tl.frames[k]} at {tl.times[k]:.3f} s: position sample {idx['position'][k]}, "
              f"pose sample {idx['pose'][k]}, LFP window samples {win[k, 0]}..{win[k, 1]}")
        speed = nwbview.compute_speed(pos)
        print(f"median speed {float(speed.median()):.1f} {speed.attrs['units']}")


if __name__ == "__main__":
    main()
