"""Calibration wired into sessions and the CLI, checked against the demo's ground truth."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import nwbview
from nwbview import Timeline
from nwbview.cli import main
from nwbview.demo import PIXEL_TO_WORLD, WORLD_TO_PIXEL
from nwbview.errors import CalibrationError


def _calibrate(path, *extra):
    r = CliRunner().invoke(main, ["calibrate", str(path), "--landmarks", str(path.parent / "demo_landmarks.csv"), *extra])
    assert r.exit_code == 0, r.output
    return r


@pytest.mark.slow
def test_demo_ground_truth_recovered_and_stored(demo_copy):
    r = _calibrate(demo_copy)
    assert "5.6 px/cm" in r.output and "wrote processing/behavior/VideoCalibration" in r.output
    info = CliRunner().invoke(main, ["info", str(demo_copy)])
    assert "VideoCalibration" in info.output and "calibration.landmarks" in info.output
    with nwbview.open(demo_copy) as s:
        cal = s.calibration()
        np.testing.assert_allclose(cal.matrix, PIXEL_TO_WORLD, atol=1e-9)
        assert cal.frame_dimension == (640, 480)


@pytest.mark.slow
def test_pose_in_world_lands_on_true_positions(demo_copy, demo_session):
    _calibrate(demo_copy)
    with nwbview.open(demo_copy) as s:
        pose = s.pose(coordinates="world")
        truth_pos = s.position()  # the body centre, in cm, 50 Hz
    assert pose.attrs["units"] == "centimeters" and pose.attrs["coordinates"] == "world"
    # the body centre lies on the snout - tail base line, 4.45 cm behind the snout and 3.5 ahead of the tail base
    snout = pose.position.sel(keypoint="snout").isel(individual=0)
    tail = pose.position.sel(keypoint="tail_base").isel(individual=0)
    centre = (snout * 3.5 + tail * 4.45) / 7.95
    conf = pose.confidence.isel(individual=0).min("keypoint").values
    true_at_frames = Timeline(pose.time.values).sample(truth_pos, method="linear")
    err = np.hypot(*(centre - true_at_frames).transpose("space", "time").values)
    good = (conf >= 0.5) & np.isfinite(err)
    assert good.sum() > 50
    assert np.median(err[good]) < 0.5, np.median(err[good])


@pytest.mark.slow
def test_position_to_pixels_through_calibration(demo_copy):
    _calibrate(demo_copy)
    with nwbview.open(demo_copy) as s:
        world = s.position()
        px = s.position(coordinates="pixel")
    assert px.attrs["units"] == "pixels" and px.attrs["coordinates"] == "pixel"
    w = world.values[0]
    expected = (WORLD_TO_PIXEL @ np.r_[w, 1.0])[:2]
    np.testing.assert_allclose(px.values[0], expected, atol=1e-6)


@pytest.mark.slow
def test_world_frame_without_calibration_is_a_clear_error(demo_session):
    with nwbview.open(demo_session.nwb_path) as s, pytest.raises(CalibrationError, match="nwbview calibrate"):
        s.pose(coordinates="world")


@pytest.mark.slow
def test_second_calibrate_needs_overwrite_and_dry_run_writes_nothing(demo_copy):
    _calibrate(demo_copy)
    r = CliRunner().invoke(main, ["calibrate", str(demo_copy), "--cm-per-px", "0.2"])
    assert r.exit_code == 1 and "--overwrite" in r.output
    before = demo_copy.read_bytes()
    r = CliRunner().invoke(main, ["calibrate", str(demo_copy), "--cm-per-px", "0.2", "--dry-run"])
    assert r.exit_code == 0 and "scale" in r.output
    assert demo_copy.read_bytes() == before
    _calibrate(demo_copy, "--overwrite", "--type", "similarity")
    with nwbview.open(demo_copy) as s:
        assert s.calibration().transform_type == "similarity"


@pytest.mark.parametrize(
    "args, cm_per_px",
    [
        pytest.param(["--scale-bar", "40", "464", "600", "464", "100"], 1 / 5.6, id="scale-bar"),
        pytest.param(["--cm-per-px", "0.25"], 0.25, id="cm-per-px"),
    ],
)
@pytest.mark.slow
def test_scale_calibrations(demo_copy, args, cm_per_px):
    r = CliRunner().invoke(main, ["calibrate", str(demo_copy), *args])
    assert r.exit_code == 0, r.output
    with nwbview.open(demo_copy) as s:
        assert s.calibration().cm_per_px == pytest.approx(cm_per_px)


def test_bad_calibration_input_exits_1(demo_copy):
    r = CliRunner().invoke(main, ["calibrate", str(demo_copy)])
    assert r.exit_code == 1 and "exactly one of" in r.output
    r = CliRunner().invoke(main, ["calibrate", str(demo_copy), "--scale-bar", "10", "10", "10", "10", "5"])
    assert r.exit_code == 1 and "error:" in r.output
