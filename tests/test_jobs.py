"""Jobs: the one function per command that the CLI, batch and the napari widgets call."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nwbview
from nwbview.errors import OutputPathError
from nwbview.jobs import JobResult, calibrate_job, heatmap_job, info_job, kinematics_job, write_back


def test_info_job_summary_and_json(demo_session, tmp_path):
    r = info_job(demo_session.nwb_path, json_path=tmp_path / "info.json")
    assert isinstance(r, JobResult) and r.job == "info" and r.outputs == [str(tmp_path / "info.json")]
    body = json.loads((tmp_path / "info.json").read_text())
    assert r.data["streams"] == len(body["streams"]) and "position" in r.summary
    assert [p.name for p in tmp_path.iterdir()] == ["info.json"]  # no temporary left


def test_info_job_refuses_a_bad_output_and_writes_nothing(demo_session, tmp_path):
    with pytest.raises(OutputPathError):
        info_job(demo_session.nwb_path, json_path=tmp_path / "missing-folder" / "info.json")
    assert list(tmp_path.iterdir()) == []


def test_kinematics_job_csv_matches_the_api(demo_session, tmp_path):
    r = kinematics_job(demo_session.nwb_path, tracking="position", csv=tmp_path / "k.csv")
    import pandas as pd

    table = pd.read_csv(tmp_path / "k.csv")
    with nwbview.open(demo_session.nwb_path) as s:
        speed = nwbview.compute_speed(s.position())
    np.testing.assert_allclose(table["time_s"], speed.time.values)
    col = [c for c in table.columns if c.startswith("speed_")][0]
    np.testing.assert_allclose(table[col], speed.values, equal_nan=True)
    assert r.data["samples"] == speed.size and r.written == []


@pytest.mark.slow
def test_calibrate_then_heatmap_write_back(demo_copy, tmp_path):
    cal = calibrate_job(demo_copy, landmarks=demo_copy.parent / "demo_landmarks.csv")
    assert cal.written == ["processing/behavior/VideoCalibration"] and cal.data["cm_per_px"] > 0
    h = heatmap_job(demo_copy, kind="occupancy", output=tmp_path / "occ.png", sigma=2.0, write=True)
    assert (tmp_path / "occ.png").stat().st_size > 0
    assert h.written == ["processing/behavior/heatmap_occupancy_nwbview"]
    with nwbview.open(demo_copy) as s:
        assert s.calibration() is not None
        assert [i.name for i in s.inventory() if i.name == "heatmap_occupancy_nwbview"]


def test_write_back_of_a_remote_session_makes_a_local_file(demo_session, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = {}

    def fake_write(path, results, **kw):
        calls.update(kw, path=path)
        return tmp_path / "x_nwbview.nwb"

    monkeypatch.setattr("nwbview.io.write.write_results", fake_write)
    target, names, message = write_back("https://example.org/data/x.nwb?sig=1", [], mode="replace")
    assert calls["mode"] == "new" and calls["new_file"] == str(tmp_path / "x_nwbview.nwb")
    assert "the session is remote" in message
