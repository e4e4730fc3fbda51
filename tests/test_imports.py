"""``import nwbview`` stays light: the video, drawing and optional libraries load when first used."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("av", "matplotlib", "cv2", "scipy", "napari", "movement", "pynapple", "nwbinspector")


def _fresh(code: str):
    """Run ``code`` in a fresh interpreter; the JSON value its last line of output prints."""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_import_nwbview_loads_no_heavy_library():
    code = (
        "import json, sys, nwbview, nwbview.interop; nwbview.to_movement; nwbview.to_pynapple; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    assert _fresh(code) == []


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
    width, rows, mpl = _fresh(code)
    assert width > 0 and rows == 2  # the column is there (speed, LFP)...
    assert not mpl  # ...and no background was drawn for it (matplotlib's Figure; glyphs use its FreeType only)


def _modules_after_open(path) -> dict:
    code = (
        "import json, sys, nwbview\n"
        f"with nwbview.open({str(path)!r}) as s:\n"
        "    kinds = sorted({type(o).__module__.split('.')[0] for o in s.nwbfile.objects.values()})\n"
        "print(json.dumps({'ndx_pose': 'ndx_pose' in sys.modules, 'kinds': kinds}))"
    )
    return _fresh(code)


def test_opening_a_file_without_pose_does_not_import_ndx_pose(tmp_path):
    """ndx-pose (0.5-1 s to import, its namespace built by hdmf) is imported only for files that cache
    its namespace. The file is written by a process without ndx-pose: pynwb caches every namespace
    its writer had loaded, and this test's process has ndx-pose."""
    path = tmp_path / "ephys.nwb"
    code = (
        "from pynwb import NWBHDF5IO\n"
        "from pynwb.testing.mock.ecephys import mock_ElectricalSeries\n"
        "from pynwb.testing.mock.file import mock_NWBFile\n"
        "f = mock_NWBFile()\n"
        "mock_ElectricalSeries(nwbfile=f)\n"
        f"with NWBHDF5IO({str(path)!r}, 'w') as io:\n"
        "    io.write(f)\n"
        "print('null')"
    )
    _fresh(code)
    from nwbview.io.nwb import file_namespaces

    assert "ndx-pose" not in file_namespaces(path)
    assert _modules_after_open(path)["ndx_pose"] is False


def test_a_file_with_pose_or_with_no_cached_namespaces_gets_the_extensions(demo_session, tmp_path):
    """The demo caches ndx-pose: its pose objects are ndx_pose's classes. A file that caches no
    namespace at all (``cache_spec=False``) may hold anything: every extension is imported."""
    got = _modules_after_open(demo_session.nwb_path)
    assert got["ndx_pose"] is True and "ndx_pose" in got["kinds"]
    from pynwb import NWBHDF5IO
    from pynwb.testing.mock.file import mock_NWBFile

    with NWBHDF5IO(str(tmp_path / "bare.nwb"), "w") as io:
        io.write(mock_NWBFile(), cache_spec=False)
    assert _modules_after_open(tmp_path / "bare.nwb")["ndx_pose"] is True
