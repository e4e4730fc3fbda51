"""Occupancy, theta power by position, and the head-centred movement heatmap of a session.

Usage::

    python examples/heatmaps.py [OUT_DIR]

Makes a short demo session in OUT_DIR (default: a temporary folder) and saves
three figures there.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nwbview
from nwbview.demo import make_demo_session
from nwbview.heatmap import band_power, movement_heatmap, occupancy, signal_by_position
from nwbview.render.figures import plot_heatmap


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0] if argv else tempfile.mkdtemp(prefix="nwbview-"))
    demo = make_demo_session(out, duration=8.0)
    with nwbview.open(demo.nwb_path) as s:
        pos = s.position()
        occ = occupancy(pos, bin_size=2.5, bounds=(0, 100, 0, 80))
        theta = signal_by_position(pos, band_power(s.lfp(channels=[0]), (6, 10)), bin_size=5, bounds=(0, 100, 0, 80))
        move = movement_heatmap(s, egocentric=True, intervals="running_bouts")
    for name, result in [("occupancy", occ), ("theta_by_position", theta), ("movement", move)]:
        path = plot_heatmap(result, out / f"{name}.png") and out / f"{name}.png"
        print(f"saved {path}")
    print(f"occupancy: {float(occ.sum()):.1f} s of tracking; movement heatmap from {move.frames_used} frames")


if __name__ == "__main__":
    main()
