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
