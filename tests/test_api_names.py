"""The 0.2 vocabulary (docs/api-conventions.md): old names give an error naming the new one.

The grep test keeps it so: a 0.1 name may appear in src/ only where it is refused.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import nwbview
from nwbview.cli import main
from nwbview.errors import RenamedError

SRC = Path(__file__).resolve().parents[1] / "src" / "nwbview"

#: 0.1 keyword / option names that 0.2 renamed
OLD_NAMES = ["trail_seconds", "window_seconds", "speed_smooth_s", "n_workers", "write_out", "min_duration", "max_gap",
             "--trail", "--window", "--out", "--source", "--smooth", "--min-duration"]


def test_old_names_appear_only_where_they_are_refused():
    found = []
    for path in SRC.rglob("*.py"):
        if path.name == "errors.py":  # where the rename errors are made (its doctest shows one)
            continue
        depth = 0  # inside a multi-line renamed_*( ... ) call
        for no, line in enumerate(path.read_text().splitlines(), 1):
            if depth or "renamed_" in line:
                depth = max(0, depth + line.count("(") - line.count(")"))
                continue
            if "LocalCluster's keywords" in line or "0.1" in line:  # dask's own keyword; a rename documented
                continue
            for name in OLD_NAMES:
                pattern = re.escape(name) + (r"(?![\w-])" if name.startswith("--") else r"\b")
                if re.search(r"(?<![\w-])" + pattern, line):
                    found.append(f"{path.relative_to(SRC)}:{no}: {name}: {line.strip()}")
    assert not found, "0.1 names left in src/:\n" + "\n".join(found)


def test_renamed_keyword_names_the_new_one(demo_session):
    with nwbview.open(demo_session.nwb_path) as s:
        with pytest.raises(RenamedError, match=r"position\(frame=\.\.\.\) was renamed in nwbview 0.2: use coordinates="):
            s.position(frame="world")
        pos = s.position()
    from nwbview.heatmap import occupancy

    with pytest.raises(RenamedError, match="use sigma="):
        occupancy(pos, smooth=2.0)
    with pytest.raises(RenamedError, match="use max_gap_s="):
        occupancy(pos, max_gap=1.0)
    from nwbview.jobs import kinematics_job

    with pytest.raises(RenamedError, match="use tracking="):
        kinematics_job(demo_session.nwb_path, kind="pose")


@pytest.mark.parametrize(
    "args, new",
    [
        (["kinematics", "{nwb}", "--source", "pose"], "--tracking"),
        (["kinematics", "{nwb}", "--smooth", "0.2"], "--smooth-s"),
        (["heatmap", "{nwb}", "--smooth", "3"], "--sigma"),
        (["kinematics", "{nwb}", "--write", "--mode", "new", "--out", "x.nwb"], "--new-file"),
        (["demo", "--out", "somewhere"], "--output-dir"),
        (["info", "{nwb}", "--min-duration", "10"], "--min-duration-s"),
    ],
)
def test_renamed_cli_option_exits_1_naming_the_new_one(demo_session, tmp_path, monkeypatch, args, new):
    monkeypatch.chdir(tmp_path)
    args = [a.format(nwb=demo_session.nwb_path) for a in args]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1, r.output
    assert f"was renamed in nwbview 0.2: use {new} instead" in r.output
    assert not (tmp_path / "somewhere").exists()
