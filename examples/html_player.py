"""Make a one-file HTML player of a session: the clip, with the pose, trail and head direction drawn
over it in the browser and a scrolling column of speed and LFP beside it.

Usage::

    python examples/html_player.py [SESSION.nwb | OUT_DIR] [--start 5] [--stop 15] [-o clip.html]
                                   [--screenshot docs/html_player.png]

Given an NWB file, it makes the player of that session (``--landmarks CSV`` calibrates the video
so that positions in cm can be drawn). Otherwise a 20 s demo session (a simulated mouse in a
100 x 80 cm open field) is generated in OUT_DIR (default: a new temporary folder), with its
landmarks. The page needs nothing else: open it in any browser. ``--screenshot`` saves a picture
of the page in headless Chromium (the system's chromium + chromedriver, through selenium), as
the README's.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import nwbview


def screenshot(page: Path, output: Path, time_s: float) -> bool:
    """A picture of the player at ``time_s``, in headless Chromium; False when there is none."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return False
    browser, driver = shutil.which("chromium") or shutil.which("google-chrome"), shutil.which("chromedriver")
    if browser is None or driver is None:
        return False
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1080,820", "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    d = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        d.get(page.resolve().as_uri())
        end = time.monotonic() + 30
        while not d.execute_script("return !!(window.nwbview && window.nwbview.k >= 0)"):
            if time.monotonic() > end:
                return False
            time.sleep(0.05)
        d.execute_script("window.nwbview.seekTime(arguments[0])", time_s)
        time.sleep(1.0)
        d.find_element("css selector", ".nwbview").screenshot(str(output))
    finally:
        d.quit()
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", help="an NWB file, or a folder for a new demo session (default: a temporary folder)")
    parser.add_argument("--start", type=float, default=5.0, help="start, seconds (default 5)")
    parser.add_argument("--stop", type=float, default=15.0, help="stop, seconds (default 15)")
    parser.add_argument("-o", "--output", default=None, help="output .html (default: next to the session)")
    parser.add_argument("--landmarks", default=None, help="landmarks CSV to calibrate the video (pixel <-> cm)")
    parser.add_argument("--screenshot", default=None, help="save a picture of the page (PNG) in headless Chromium")
    args = parser.parse_args(argv)

    events = []
    if args.target is not None and Path(args.target).suffix.lower() == ".nwb":
        session_path, landmarks = Path(args.target), args.landmarks
    else:
        from nwbview.demo import make_demo_session

        folder = Path(args.target) if args.target else Path(tempfile.mkdtemp(prefix="nwbview-html-"))
        print(f"making a 20 s demo session in {folder} ...")
        demo = make_demo_session(folder, duration=20.0)
        session_path, landmarks, events = demo.nwb_path, demo.landmarks_csv, ["running_bouts"]
    out = Path(args.output) if args.output else session_path.with_name(session_path.stem + "_clip.html")

    t0 = time.perf_counter()
    # the same stream keywords as `nwbview html` / `nwbview export`
    nwbview.export_html(session_path, out, start=args.start, stop=args.stop, landmarks=landmarks, show_head_direction=True,
                        events=events, progress=False)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, one self-contained page) in {time.perf_counter() - t0:.1f} s")
    if args.screenshot:
        shot = Path(args.screenshot)
        if screenshot(out, shot, (args.start + args.stop) / 2):
            print(f"screenshot {shot}")
        else:
            print("no screenshot: headless Chromium (chromium + chromedriver, selenium) is not available here")


if __name__ == "__main__":
    main()
