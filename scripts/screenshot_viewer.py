"""Make docs/viewer.png: the napari viewer on the (calibrated) demo session.

Usage::

    python scripts/screenshot_viewer.py [-o docs/viewer.png] [--time 6.5]

Needs a display; without one it re-runs itself under ``xvfb-run`` when that is installed. The
PNG is palette-quantised to stay well under 400 KB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 400_000


def main() -> int:
    ap = argparse.ArgumentParser(description="Screenshot of the napari viewer on the demo session.")
    ap.add_argument("-o", "--output", default=str(ROOT / "docs" / "viewer.png"))
    ap.add_argument("--time", type=float, default=6.6, help="session time to show (s)")
    ap.add_argument("--size", default="1500x860", help="window size WIDTHxHEIGHT")
    args = ap.parse_args()
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        xvfb = shutil.which("xvfb-run")
        if xvfb is None or os.environ.get("NWBVIEW_SCREENSHOT_CHILD"):
            print("error: no display (and no xvfb-run) to render the viewer on", file=sys.stderr)
            return 1
        env = {**os.environ, "NWBVIEW_SCREENSHOT_CHILD": "1"}
        return subprocess.run([xvfb, "-a", "-s", "-screen 0 1920x1080x24", sys.executable, *sys.argv], env=env).returncode

    os.environ.setdefault("NAPARI_CONFIG", os.path.join(tempfile.mkdtemp(prefix="nwbview-napari-"), "settings.yaml"))
    import numpy as np
    from PIL import Image
    from qtpy.QtWidgets import QApplication

    from nwbview.demo import make_demo_session
    from nwbview.jobs import calibrate_job
    from nwbview.render.napari import session_view, view

    w, h = (int(v) for v in args.size.lower().split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="nwbview-shot-"))
    try:
        demo = make_demo_session(tmp, duration=12.0, seed=0)
        calibrate_job(demo.nwb_path, landmarks=demo.landmarks_csv)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            viewer = view(demo.nwb_path, show=True, title="nwbview: demo_session.nwb")
        sv = session_view(viewer)
        app = QApplication.instance()
        viewer.window.resize(w, h)
        for _ in range(10):
            app.processEvents()
        viewer.reset_view()
        sv.jump_to_time(args.time)
        sv.dock.flush()
        import time

        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.05)
        try:  # the "World coordinates ..." information pop-up would cover part of the picture
            from napari._qt.dialogs.qt_notification import NapariQtNotification

            for toast in app.allWidgets():
                if isinstance(toast, NapariQtNotification):
                    toast.close()
            for _ in range(10):
                app.processEvents()
        except ImportError:
            pass
        img = viewer.screenshot(canvas_only=False, flash=False)
        viewer.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    pil = Image.fromarray(np.asarray(img)[..., :3])
    for colors in (256, 128, 64):
        pil.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)
        if out.stat().st_size < MAX_BYTES:
            break
    print(f"wrote {out} ({pil.size[0]}x{pil.size[1]}, {out.stat().st_size / 1000:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
