"""Make a one-file HTML player of a demo session: the clip, with the pose, trail, head direction
and running bouts drawn over it in the browser and a scrolling column of speed and LFP beside it.

Usage::

    python examples/html_player.py [OUT_DIR] [--report] [--screenshot docs/html_player.png]

A 20 s demo session (a simulated mouse in a 100 x 80 cm open field, with the arena's landmarks)
is generated in OUT_DIR (default: a new temporary folder) and 4-16 s of it become
``demo_session_clip.html``, which needs nothing else: open it in any browser, or send it. The
same with your session: ``nwbview html SESSION.nwb -o clip.html --start 60 --stop 90``.
``--report`` writes an occupancy heatmap into the session first and makes the page a session
report (below the player: the inventory and the heatmaps in the file; ``nwbview html --report``).
``--screenshot`` saves a picture of the page in headless Chromium (the system's chromium and
chromedriver, through selenium), as the README's.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nwbview
from nwbview.testing.browser import screenshot_page


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", help="where the demo session and the page go (default: a temporary folder)")
    parser.add_argument("--report", action="store_true", help="a session report: the inventory and the heatmaps in the file below the player")
    parser.add_argument("--screenshot", default=None, help="save a picture of the page (PNG) in headless Chromium")
    args = parser.parse_args(argv)

    from nwbview.demo import make_demo_session

    folder = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix="nwbview-html-"))
    print(f"making a 20 s demo session in {folder} ...")
    demo = make_demo_session(folder, duration=20.0)
    out = folder / ("demo_session_report.html" if args.report else "demo_session_clip.html")
    if args.report:  # a heatmap in the file, for the report to show
        from nwbview.heatmap import occupancy
        from nwbview.io.write import write_results
        from nwbview.results import heatmap_result

        with nwbview.open(demo.nwb_path) as s:
            occ = occupancy(s.position())
        write_results(demo.nwb_path, heatmap_result(occ))
    t0 = time.perf_counter()
    # the stream keywords are those of `nwbview html` / `nwbview export`; landmarks= calibrates the
    # video, so that the positions in cm land on it
    nwbview.export_html(demo.nwb_path, out, start=4, stop=16, landmarks=demo.landmarks_csv, show_head_direction=True,
                        events=["running_bouts"], progress=False, report=args.report)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, one self-contained page) in {time.perf_counter() - t0:.1f} s")
    if args.screenshot:
        shot = Path(args.screenshot)
        if screenshot_page(out, shot, time_s=10.0):
            print(f"screenshot {shot}")
        else:
            print("no screenshot: headless Chromium (chromium + chromedriver, selenium) is not available here")


if __name__ == "__main__":
    main()
