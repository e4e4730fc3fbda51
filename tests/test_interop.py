"""nwbview -> movement and pynapple (issue 18): the installed versions take what we give as is,
on the file's own timestamps and in physical units; pynapple's load_file sees our results under
plain keys."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import nwbview
from nwbview import jobs
from nwbview.errors import MissingDependencyError
from nwbview.interop import dims_for_version, movement_dims, to_movement, to_pynapple


@pytest.fixture(scope="module")
def written(demo_session, tmp_path_factory) -> Path:
    """A copy of the demo session, calibrated and with kinematics written back (as ``make demo``)."""
    folder = tmp_path_factory.mktemp("interop")
    for p in Path(demo_session.nwb_path).parent.iterdir():
        shutil.copy2(p, folder / p.name)
    path = folder / Path(demo_session.nwb_path).name
    jobs.calibrate_job(path, landmarks=folder / Path(demo_session.landmarks_csv).name)
    jobs.kinematics_job(path, tracking="pose", write=True)
    return path


def _pose_timestamps(path: Path) -> np.ndarray:
    import pynwb

    with pynwb.NWBHDF5IO(str(path), "r") as io:
        pe = io.read().processing["behavior"]["PoseEstimation"]
        return np.asarray(pe.pose_estimation_series["snout"].timestamps[:], dtype=np.float64)


# ---------------------------------------------------------------------------------------- movement


def test_dims_follow_the_movement_version():
    assert dims_for_version("0.15.0") == ("keypoints", "individuals")
    assert dims_for_version("0.17.0") == ("keypoint", "individual")
    assert dims_for_version("0.18.0rc1") == ("keypoint", "individual")


def test_named_layouts_need_no_movement(demo_session, monkeypatch):
    monkeypatch.setitem(sys.modules, "movement", None)  # not installed
    with nwbview.open(demo_session.nwb_path) as s:
        pose = s.pose()
    singular = to_movement(pose, dims="singular")
    assert singular.position.dims == ("time", "space", "keypoint", "individual")
    plural = to_movement(singular, dims="plural")  # a movement Dataset of either naming converts too
    assert plural.position.dims == ("time", "space", "keypoints", "individuals")
    assert plural.confidence.dims == ("time", "keypoints", "individuals")
    np.testing.assert_array_equal(plural.position.values, pose.position.values)
    with pytest.raises(MissingDependencyError, match=r"pip install 'nwbview\[interop\]'"):
        to_movement(pose)  # the installed layout is asked for: movement is needed


@pytest.mark.slow
def test_to_movement_has_real_times_and_movement_attrs(written):
    movement = pytest.importorskip("movement")
    from movement.validators.datasets import ValidPosesInputs

    kp, ind = movement_dims()
    assert (kp, ind) == (("keypoint", "individual") if "keypoint" in ValidPosesInputs.DIM_NAMES else ("keypoints", "individuals"))
    ds = to_movement(written, coordinates="world")
    ValidPosesInputs.validate(ds)  # movement's own check of a poses dataset
    assert ds.position.dims == ValidPosesInputs.DIM_NAMES
    real = _pose_timestamps(written)
    np.testing.assert_array_equal(ds.time.values, real)  # the stored frame times, bit for bit
    assert ds.attrs["ds_type"] == "poses" and ds.attrs["time_unit"] == "seconds"
    assert ds.attrs["source_software"] == "nwbview.demo"
    assert ds.attrs["fps"] == pytest.approx(30.0, rel=0.01)
    assert ds.attrs["coordinates"] == "world" and ds.attrs["units"] == "centimeters"
    assert ds.attrs["source_file"] == str(written)
    # movement's own reader rebuilds time from one rate: it starts at 0, not at the camera's 0.25 s
    from movement.io import load_poses

    theirs = load_poses.from_nwb_file(str(written))
    assert abs(theirs.time.values - real).max() > 0.2
    print(f"\nmovement {movement.__version__}: from_nwb_file time is off by up to "
          f"{abs(theirs.time.values - real).max():.3f} s; to_movement's by 0")


@pytest.mark.slow
def test_movement_functions_run_on_it(written):
    pytest.importorskip("movement")
    from movement.filtering import filter_by_confidence, interpolate_over_time
    from movement.kinematics import compute_forward_vector, compute_speed

    kp, ind = movement_dims()
    ds = to_movement(written, coordinates="world")
    # 1. speed (time derivative on the real, uneven frame times) = nwbview's own
    speed = compute_speed(ds.position).sel({kp: "snout"}).isel({ind: 0})
    with nwbview.open(written) as s:
        snout = s.pose(coordinates="world").position.sel(keypoint="snout").isel(individual=0)
        ours = nwbview.compute_speed(snout)
    np.testing.assert_allclose(speed.values, ours.values, rtol=1e-9, equal_nan=True)
    # 2. confidence filter: the low-confidence samples become gaps, which 3. interpolation fills
    filtered = filter_by_confidence(ds.position, ds.confidence, threshold=0.5)
    low = (ds.confidence < 0.5).sum().item()
    assert low > 0 and np.isnan(filtered.sel(space="x")).sum().item() == low
    filled = interpolate_over_time(filtered, max_gap=10)
    assert np.isfinite(filled.values).all()
    # 4. the forward vector from the ears points from the tail base towards the snout: in pixels
    # (y down) as a camera looking down sees it, in the world (y up) as one looking up would
    for pose, view in ((to_movement(written), "top_down"), (ds, "bottom_up")):
        fwd = compute_forward_vector(pose.position, "left_ear", "right_ear", camera_view=view)
        body = (pose.position.sel({kp: "snout"}) - pose.position.sel({kp: "tail_base"})).isel({ind: 0})
        dot = (fwd.isel({ind: 0}) * body).sum("space")
        assert (dot > 0).mean().item() > 0.95, view


def test_movement_savers_and_netcdf_take_it(written, tmp_path):
    pytest.importorskip("movement")
    from movement.io import load_poses, save_poses

    kp, ind = movement_dims()
    ds = to_movement(written)
    save_poses.to_dlc_file(ds, tmp_path / "pose.csv", split_individuals=False)
    back = load_poses.from_dlc_file(tmp_path / "pose.csv")
    np.testing.assert_allclose(back.position.values, ds.position.values, rtol=1e-6, equal_nan=True)
    assert list(back[kp].values) == list(ds[kp].values)
    save_poses.to_sleap_analysis_file(ds, tmp_path / "pose.analysis.h5")
    assert (tmp_path / "pose.analysis.h5").stat().st_size > 0
    save_poses.to_lp_file(ds, tmp_path / "lp.csv")  # one file per individual: lp_<individual>.csv
    assert [p.stat().st_size > 0 for p in tmp_path.glob("lp*.csv")] == [True]
    nwbfile = save_poses.to_nwb_file(ds)  # one individual: one NWBFile (in memory)
    assert any("PoseEstimation" in type(v).__name__ for v in nwbfile.processing["behavior"].data_interfaces.values())
    ds.to_netcdf(tmp_path / "pose.nc")
    again = xr.load_dataset(tmp_path / "pose.nc")
    np.testing.assert_array_equal(again.time.values, ds.time.values)
    assert again.attrs["ds_type"] == "poses"


def test_to_movement_refuses_what_is_no_pose(written):
    from nwbview.errors import DataShapeError

    with nwbview.open(written) as s:
        with pytest.raises(DataShapeError, match="pose Dataset"):
            to_movement(s.position(), dims="singular")


# ---------------------------------------------------------------------------------------- pynapple


@pytest.mark.slow
def test_to_pynapple_gives_real_times_and_units(written):
    nap = pytest.importorskip("pynapple")
    objs = to_pynapple(written)
    with nwbview.open(written) as s:
        pos = s.position()
        hd = s.head_direction()
        pose = s.pose()
        lfp = s.lfp(channels=[0]).values[:100, 0]
        table = s.inventory().of_kind("intervals")[0].obj
        bouts = {c: np.asarray(table[c].data[:]) for c in ("start_time", "stop_time")}
        lfp_objs = to_pynapple(s, kinds=("lfp",))
        raw_lfp = np.asarray(s.nwbfile.processing["ecephys"]["LFP"]["lfp"].data[:100, 0])
    assert isinstance(objs["position"], nap.TsdFrame)
    np.testing.assert_array_equal(objs["position"].times(), pos.time.values)
    np.testing.assert_array_equal(objs["position"].values, pos.values)
    assert list(objs["position"].columns) == ["x", "y"]
    assert list(objs["position"].metadata["units"]) == ["centimeters", "centimeters"]
    assert isinstance(objs["head_direction"], nap.Tsd)
    np.testing.assert_array_equal(objs["head_direction"].values, hd.values)
    frame = objs["PoseEstimation"]
    assert "snout_x" in frame.columns and set(frame.metadata["units"]) == {"pixels"}
    np.testing.assert_array_equal(frame.times(), pose.time.values)
    np.testing.assert_array_equal(frame["snout_y"].values, pose.position.sel(keypoint="snout", space="y").isel(individual=0).values)
    assert isinstance(objs["running_bouts"], nap.IntervalSet)
    np.testing.assert_allclose(objs["running_bouts"].start, bouts["start_time"])
    np.testing.assert_allclose(objs["running_bouts"].end, bouts["stop_time"])
    assert "lfp" not in objs
    # LFP in microvolts (pynapple's own load_file gives the stored int16 counts)
    np.testing.assert_allclose(lfp_objs["lfp"].values[:100, 0], raw_lfp * 0.195e-6 * 1e6)
    np.testing.assert_allclose(lfp_objs["lfp"].values[:100, 0], lfp)
    assert set(lfp_objs["lfp"].metadata["units"]) == {"uV"}
    # the written-back results come along, under their own names
    assert {"speed_nwbview", "acceleration_nwbview", "head_direction_nwbview"} <= set(objs)


def test_pynapple_load_file_sees_results_under_plain_keys(written):
    """The file holds its own head_direction; the written-back one is head_direction_nwbview, so
    pynapple's load_file needs no path-prefixed keys to tell them apart."""
    nap = pytest.importorskip("pynapple")
    data = nap.load_file(str(written))
    keys = list(data.keys())
    assert "head_direction" in keys and "head_direction_nwbview" in keys, keys
    assert not [k for k in keys if "/" in k], keys
    np.testing.assert_array_equal(data["head_direction_nwbview"].times(), _pose_timestamps(written))


def test_to_pynapple_without_pynapple(monkeypatch, written):
    monkeypatch.setitem(sys.modules, "pynapple", None)
    with pytest.raises(MissingDependencyError, match=r"to_pynapple needs the package 'pynapple'.*nwbview\[interop\]"):
        to_pynapple(written)
