"""``import nwbview`` stays light: the video, drawing and optional libraries load when first used."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("av", "matplotlib", "cv2", "scipy", "napari", "movement", "pynapple", "nwbinspector")


def test_import_nwbview_loads_no_heavy_library():
    code = (
        "import json, sys, nwbview, nwbview.interop; nwbview.to_movement; nwbview.to_pynapple; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == []


def test_a_browser_scene_draws_no_column_background(demo_session):
    """The browser draws its own column: building a scene imports no matplotlib figure (it used to draw
    the export's column background, ~0.6 s, and throw it away)."""
    code = (
        "import json, sys, nwbview\n"
        "from nwbview.render.browser.scene import build_scene\n"
        f"with nwbview.open({str(demo_session.nwb_path)!r}) as s:\n"
        "    scene = build_scene(s, start=0, stop=2)\n"
        "print(json.dumps([scene.meta['column_width'], len(scene.meta['column']), 'matplotlib.figure' in sys.modules]))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    width, rows, mpl = json.loads(r.stdout.strip().splitlines()[-1])
    assert width > 0 and rows == 2  # the column is there (speed, LFP)...
    assert not mpl  # ...and no background was drawn for it (matplotlib's Figure; glyphs use its FreeType only)
