"""The command line: tables, JSON, and one clear line per user error (exit 1, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from nwbview.cli import main


def test_info_table(basic_file):
    r = CliRunner().invoke(main, ["info", str(basic_file)])
    assert r.exit_code == 0, r.output
    assert "processing/behavior/Position/position" in r.output
    assert "lfp (1)" in r.output and "1000 Hz" in r.output


def test_info_json(basic_file):
    r = CliRunner().invoke(main, ["info", "--json", str(basic_file)])
    assert r.exit_code == 0
    d = json.loads(r.output)
    assert {s["kind"] for s in d["streams"]} == {"position", "lfp", "head_direction"}


@pytest.mark.parametrize(
    "content, message",
    [
        pytest.param(None, "No such NWB file", id="missing"),
        pytest.param(b"not hdf5 at all", "no HDF5 signature", id="not-nwb"),
        pytest.param(b"", "empty", id="empty"),
    ],
)
@pytest.mark.slow
def test_user_errors_exit_1_without_traceback(tmp_path, content, message):
    p = tmp_path / "x.nwb"
    if content is not None:
        p.write_bytes(content)
    r = subprocess.run([sys.executable, "-m", "nwbview.cli", "info", str(p)], capture_output=True, text=True)
    assert r.returncode == 1
    assert message in r.stderr and r.stderr.startswith("error: ")
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_truncated_file_cli(basic_file):
    data = basic_file.read_bytes()
    basic_file.write_bytes(data[: len(data) // 3])
    r = CliRunner().invoke(main, ["info", str(basic_file)])
    assert r.exit_code == 1 and "truncated or corrupt" in r.output


# -- one rule for exit codes: 1 for every error of the user's, 2 for bugs ------------------


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(["heatmap", "{f}", "--kind", "foo"], "Invalid value for '--kind'", id="bad-choice"),
        pytest.param(["batch", "{f}", "kinematics", "--workers", "abc"], "not a valid integer", id="bad-type"),
        pytest.param(["export", "{f}", "-o", "{dir}"], "is a directory", id="output-is-a-folder"),
        pytest.param(["info", "{f}", "--no-such-option"], "No such option", id="unknown-option"),
        pytest.param(["kinematics", "{f}", "--csv", "{dir}/nodir/k.csv"], "folder", id="csv-in-missing-folder"),
    ],
)
def test_usage_and_output_errors_exit_1(demo_session, tmp_path, args, message):
    args = [a.format(f=demo_session.nwb_path, dir=tmp_path) for a in args]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1, r.output
    assert message in r.output and "internal error" not in r.output and "Traceback" not in r.output


def test_unreadable_file_is_a_user_error(basic_file, monkeypatch):
    """Permission denied (root cannot be denied here, so the system's answer is simulated)."""
    import builtins

    real_open = builtins.open

    def deny(path, *a, **k):
        if str(path) == str(basic_file):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", deny)
    r = CliRunner().invoke(main, ["info", str(basic_file)])
    assert r.exit_code == 1, r.output
    assert "permission denied" in r.output and "internal error" not in r.output


def test_system_errors_are_user_errors(basic_file, monkeypatch):
    import nwbview

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device", "/data/out.csv")

    monkeypatch.setattr(nwbview, "open", full_disk)
    r = CliRunner().invoke(main, ["info", str(basic_file)])
    assert r.exit_code == 1, r.output
    assert "No space left on device" in r.output and "/data/out.csv" in r.output and "internal error" not in r.output


def test_a_damaged_header_is_named(demo_copy):
    import h5py

    with h5py.File(demo_copy, "r") as f:
        addr = h5py.h5o.get_info(f["processing/behavior/Position/position/data"].id).addr
    with open(demo_copy, "r+b") as f:
        f.seek(addr)
        f.write(b"\xff" * 16)
    r = CliRunner().invoke(main, ["kinematics", str(demo_copy)])
    assert r.exit_code == 1, r.output
    assert "Position/position/data is damaged" in r.output and "samples" not in r.output
    r = CliRunner().invoke(main, ["info", str(demo_copy)])
    assert r.exit_code == 0 and "unreadable" in r.output


def test_numbers_in_messages_are_plain():
    import numpy as np

    from nwbview.errors import NWBViewError

    msg = str(NWBViewError(f"got {np.float64(9.75)!r} and {np.int64(3)!r}, expected {np.True_!r}"))
    assert msg == "got 9.75 and 3, expected True"


@pytest.mark.filterwarnings("always::nwbview.errors.NWBViewWarning")
@pytest.mark.slow
def test_ranges_outside_the_recording_follow_one_rule(demo_session, tmp_path):
    """Partly outside: cut to the recording with a warning. Nothing inside: refused."""
    f = str(demo_session.nwb_path)
    r = CliRunner().invoke(main, ["export", f, "-o", str(tmp_path / "a.mp4"), "--start", "-5", "--stop", "1"])
    assert r.exit_code == 0, r.output
    assert "warning: The asked range [-5, 1) s reaches outside video" in r.output
    r = CliRunner().invoke(main, ["export", f, "-o", str(tmp_path / "b.mp4"), "--start", "50", "--stop", "60"])
    assert r.exit_code == 1 and "No frame" in r.output
    r = CliRunner().invoke(main, ["snapshot", f, "--time", "-3", "-o", str(tmp_path / "c.png")])
    assert r.exit_code == 1 and "outside video" in r.output
