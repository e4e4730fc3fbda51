"""Sessions as converters write them (issue 16): several streams, one-column series, odd clocks.

Layouts (``tests/fixtures/converters.py``; neuroconv itself is not installed, so they are rebuilt field
by field with pynwb/ndx-pose from neuroconv 0.10.2's source): neuroconv's SLEAP interface (one
PoseEstimation per track, a 12-edge skeleton), FicTrac (ten SpatialSeries, the last rows on epoch time),
Axona (nine one-column series in milliseconds beside an LFP in seconds), a low-confidence DeepLabCut
pose. Each goes through info, export, snapshot, heatmap and kinematics from the command line.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import nwbview
from nwbview.cli import main
from nwbview.errors import NWBViewWarning
from nwbview.kinematics import DEFAULT_MIN_CONFIDENCE, mask_low_confidence
from nwbview.results import session_kinematics
from tests.fixtures.converters import (
    FICTRAC_EPOCH_ROWS,
    FPS,
    N_FRAMES,
    NC_SLEAP_EDGES,
    axona_xy,
    make_axona_session,
    make_dlc_session,
    make_fictrac_session,
    make_neuroconv_sleap_session,
)


def _cli(args, code=0):
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code == code, f"{args}: {r.output}"
    assert "Traceback" not in r.output and "internal error" not in r.output
    return r


@pytest.fixture(scope="module")
def nc_sleap(tmp_path_factory):
    return make_neuroconv_sleap_session(tmp_path_factory.mktemp("ncsleap"))


@pytest.fixture(scope="module")
def fictrac(tmp_path_factory):
    return make_fictrac_session(tmp_path_factory.mktemp("fictrac"))


@pytest.fixture(scope="module")
def axona(tmp_path_factory):
    return make_axona_session(tmp_path_factory.mktemp("axona"))


@pytest.fixture(scope="module")
def dlc_low(tmp_path_factory):
    return make_dlc_session(tmp_path_factory.mktemp("dlclow"), low_confidence=True)


# -- neuroconv SLEAP: two PoseEstimations, tracks of one recording -------------------------------------------


def test_neuroconv_sleap_tracks_are_individuals_with_every_edge(nc_sleap):
    with nwbview.open(nc_sleap.nwb) as s:
        ds = s.pose()
        male = s.pose("male")
        k = session_kinematics(s, tracking="pose")
    assert list(ds.individual.values) == ["PoseEstimationFemale", "PoseEstimationMale"]  # --pose male finds its track
    assert list(ds.keypoint.values) == nc_sleap.keypoints
    assert len(ds.attrs["skeleton_edges"]) == len(NC_SLEAP_EDGES) == 12
    np.testing.assert_allclose(ds.time.values, np.arange(N_FRAMES) / FPS)
    assert male.sizes["individual"] == 1 and male.sizes["time"] == len(nc_sleap.found["male"]["nose"])
    assert k.speed.dims == ("time", "individual") and k.speed.sizes["individual"] == 2
    assert "head_direction" in k and k.head_direction.sizes["individual"] == 2


@pytest.mark.slow
def test_neuroconv_sleap_cli(nc_sleap, tmp_path):
    nwb = nc_sleap.nwb
    r = _cli(["info", nwb])
    assert "choose with --pose NAME" in r.output
    _cli(["export", nwb, "-o", tmp_path / "clip.mp4", "--stop", 0.5, "--quiet", "--workers", 1])
    _cli(["snapshot", nwb, "--time", 1.0, "-o", tmp_path / "snap.png", "--pose", "male"])
    r = _cli(["heatmap", nwb, "--kind", "movement", "-o", tmp_path / "m.png"])
    assert "individuals" in r.output and "--pose" in r.output  # the first one, said so
    _cli(["heatmap", nwb, "--kind", "movement", "--pose", "male", "-o", tmp_path / "m2.png"])
    r = _cli(["kinematics", nwb, "--csv", tmp_path / "k.csv"])
    table = pd.read_csv(tmp_path / "k.csv")
    inds = [c for c in table.columns if c.startswith("speed_")]
    assert len(inds) == 2 and table.shape[0] == N_FRAMES, table.columns
    # the male is not tracked before frame 3 nor in frames 40-45: gaps, not the female's values
    male = table[[c for c in inds if "ale" in c and "emale" not in c][0]].to_numpy()
    assert np.isnan(male[:3]).all() and np.isnan(male[40:46]).all()
    r = _cli(["kinematics", nwb, "--pose", "female"])
    assert "female" in r.output.lower()


# -- FicTrac: several SpatialSeries, epoch jump -----------------------------------------------------------


def test_fictrac_position_default_and_by_name(fictrac):
    with nwbview.open(fictrac) as s:
        with pytest.warns(NWBViewWarning, match="jump.*Unix-epoch"):
            pos = s.position()
        assert pos.attrs["source"].endswith("SpatialSeriesPosition") and list(pos.space.values) == ["x", "y"]
        motion = s.position("SpatialSeriesIntegratedMotion")
        assert motion.attrs["source"].endswith("SpatialSeriesIntegratedMotion")
        problems = " ".join(s.inventory().problems)
    assert "Unix-epoch" in problems and f"the {FICTRAC_EPOCH_ROWS} samples" in problems


@pytest.mark.slow
def test_fictrac_cli(fictrac, tmp_path):
    r = _cli(["info", fictrac])
    assert "choose with --position NAME" in r.output and "SpatialSeriesPosition" in r.output and "Unix-epoch" in r.output
    r = _cli(["kinematics", fictrac, "--position", "SpatialSeriesIntegratedMotion"])
    assert "SpatialSeriesIntegratedMotion" in r.output and "jump" in r.output
    _cli(["heatmap", fictrac, "-o", tmp_path / "occ.png", "--bin-size", 0.2])
    _cli(["export", fictrac, "-o", tmp_path / "clip.mp4", "--start", 1, "--stop", 2, "--quiet", "--workers", 1])
    r = _cli(["snapshot", fictrac, "--time", 1.5, "-o", tmp_path / "s.png", "--no-show-position"], code=1)  # no video: nothing to draw on
    assert "arena" in r.output
    _cli(["snapshot", fictrac, "--time", 1.5, "-o", tmp_path / "s2.png", "--position", "SpatialSeriesIntegratedMotion"])


# -- Axona: one-column series in milliseconds ----------------------------------------------------------------


def test_axona_columns_are_never_stacked_as_space(axona):
    with nwbview.open(axona) as s:
        with pytest.warns(NWBViewWarning) as rec:
            pos = s.position()
        msgs = " ".join(str(w.message) for w in rec)
        assert "milliseconds" in msgs and "X,Y" in msgs  # the clock, and the other coordinate pair
        assert list(pos.space.values) == ["x", "y"] and pos.attrs["columns"] == ["x", "y"]
        x, y = axona_xy(pos.time.values / 1000.0)
        np.testing.assert_array_equal(pos.sel(space="x").values, x)
        big = s.position("Position/X,Y")
        np.testing.assert_array_equal(big.sel(space="x").values, x + 3)
        problems = " ".join(s.inventory().problems)
    assert "looks like cm or pixels" in problems and "milliseconds" in problems


@pytest.mark.slow
def test_axona_cli(axona, tmp_path):
    r = _cli(["info", axona])
    assert "Position/x,y" in r.output and "Position/X,Y" in r.output and "milliseconds" in r.output
    r = _cli(["kinematics", axona, "--csv", tmp_path / "k.csv"])
    table = pd.read_csv(tmp_path / "k.csv")
    speed = table.filter(like="speed").to_numpy()[:, 0]
    # one turn of radius 100 px in 60 s, on a clock in ms: 2*pi*100/60000 px per "second"
    # (pixels are whole numbers, so the mean over the session, not each sample); the time(ms) column,
    # stacked as space before, gave a speed of ~1
    np.testing.assert_allclose(np.nanmean(speed), 2 * np.pi * 100 / 60000, rtol=0.2)
    assert np.nanmax(speed) < 0.1
    r = _cli(["heatmap", axona, "--kind", "occupancy", "-o", tmp_path / "occ.png", "--bin-size", 20])
    assert "occupancy map" in r.output
    _cli(["heatmap", axona, "--kind", "occupancy", "--position", "Position/X,Y", "-o", tmp_path / "occ2.png", "--bin-size", 20])
    _cli(["export", axona, "-o", tmp_path / "clip.mp4", "--start", 0, "--stop", 200, "--fps", 1, "--quiet", "--workers", 1])
    _cli(["snapshot", axona, "--time", 100, "-o", tmp_path / "s.png", "--lfp", "lfp"])
    r = _cli(["kinematics", axona, "--position", "Position/time(ms),unused"])  # named by the user: their choice
    r = _cli(["kinematics", axona, "--position", "Position/nope,y"], code=1)
    assert "nope" in r.output


# -- a low-confidence DeepLabCut pose ---------------------------------------------------------------------


@pytest.mark.slow
def test_confidence_rule(dlc_low, tmp_path):
    with nwbview.open(dlc_low.nwb) as s:
        ds = s.pose()
    masked = mask_low_confidence(ds)
    low = (ds.confidence < DEFAULT_MIN_CONFIDENCE).values
    assert low.any() and np.isnan(masked.position.sel(space="x").values[low]).all()
    r = _cli(["kinematics", dlc_low.nwb, "--csv", tmp_path / "k.csv"])
    assert f"confidence below {DEFAULT_MIN_CONFIDENCE:g} treated as gaps" in r.output
    fast_default = pd.read_csv(tmp_path / "k.csv").filter(like="speed").to_numpy()
    _cli(["kinematics", dlc_low.nwb, "--min-confidence", 0, "--csv", tmp_path / "k0.csv"])
    fast_all = pd.read_csv(tmp_path / "k0.csv").filter(like="speed").to_numpy()
    assert np.nanmax(fast_all) > 1000 > np.nanmax(fast_default)  # the jumps are gone from the speed
    _cli(["heatmap", dlc_low.nwb, "--kind", "movement", "-o", tmp_path / "m.png", "--min-confidence", 0.5])
    _cli(["export", dlc_low.nwb, "-o", tmp_path / "clip.mp4", "--stop", 0.5, "--quiet", "--workers", 1, "--min-confidence", 0.3])
    _cli(["snapshot", dlc_low.nwb, "--time", 1.0, "-o", tmp_path / "s.png"])
    _cli(["info", dlc_low.nwb])


