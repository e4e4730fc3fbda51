"""The notebook widget of a demo session, driven from Python as a notebook cell would.

Usage::

    python examples/notebook_widget.py [OUT_DIR] [--screenshot docs/widget.png]

A 20 s demo session is generated in OUT_DIR (default: a new temporary folder); the widget of
4-16 s of it is made and moved from Python (``w.time``, ``w.frame``), and the frame it shows is
saved as the JPEG the browser would receive. In a notebook, the last line of a cell holding ``w``
shows it (JupyterLab, Notebook 7, VS Code; ``pip install 'nwbview[notebook]'``). ``--screenshot``
mounts the widget's front-end in headless Chromium with a stand-in for the notebook
(:func:`nwbview.testing.browser.widget_page`) and saves a picture of it, as the README's.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import nwbview
from nwbview.testing.browser import screenshot_page, widget_page


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", help="where the demo session goes (default: a temporary folder)")
    parser.add_argument("--screenshot", default=None, help="save a picture of the widget (PNG) in headless Chromium")
    args = parser.parse_args(argv)
    try:
        import anywidget  # noqa: F401
    except ImportError:
        print("the widget needs the notebook extra: pip install 'nwbview[notebook]'")
        return

    from nwbview.demo import make_demo_session

    folder = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix="nwbview-widget-"))
    print(f"making a 20 s demo session in {folder} ...")
    demo = make_demo_session(folder, duration=20.0)
    w = nwbview.widget(demo.nwb_path, start=4, stop=16, landmarks=demo.landmarks_csv, show_head_direction=True,
                       events=["running_bouts"])
    try:
        w.time = 10.0  # a cell moves the view; the browser follows
        print(f"the view shows video frame {w.frame} at t = {w.time:.3f} s ({w.times.size} frames from {w.times[0]:.3f} s)")
        jpeg = folder / "frame.jpg"
        jpeg.write_bytes(w.frame_jpeg())  # what the browser receives for that frame
        print(f"frame {w.frame} as sent to the browser: {jpeg} ({jpeg.stat().st_size / 1e3:.0f} kB)")
        if args.screenshot:
            shot = Path(args.screenshot)
            if screenshot_page(widget_page(w, folder / "widget_page.html"), shot):
                print(f"screenshot {shot}")
            else:
                print("no screenshot: headless Chromium (chromium + chromedriver, selenium) is not available here")
    finally:
        w.close()


if __name__ == "__main__":
    main()
