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
