"""Kinematics on known paths: constant speed, constant acceleration, circles, NaN gaps."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from nwbview.errors import DataShapeError, StreamNotFoundError
from nwbview.kinematics import (
    compute_acceleration,
    compute_head_direction,
    compute_norm,
    compute_speed,
    compute_velocity,
    match_keypoint,
    smooth,
)


def _pos(t, x, y, units="cm"):
    return xr.DataArray(np.c_[x, y], dims=("time", "space"), coords={"time": t, "space": ["x", "y"]}, attrs={"units": units, "space_unit": units})


def test_speed_on_a_circle_is_constant():
    # a mouse runs a 20 cm radius circle once every 4 s: speed = 2*pi*20/4 cm/s
    t = np.arange(0, 8, 0.01)
    w = 2 * np.pi / 4
    sp = compute_speed(_pos(t, 20 * np.cos(w * t), 20 * np.sin(w * t)))
    assert sp.attrs["units"] == "cm/s" and sp.dims == ("time",)
    np.testing.assert_allclose(sp.values[1:-1], 2 * np.pi * 20 / 4, rtol=1e-3)


def test_irregular_times_with_a_dropped_sample():
    t = np.r_[np.arange(0, 1, 0.1), np.arange(1.2, 2, 0.1)]  # a gap at 1.1
    v = compute_velocity(_pos(t, 5 * t, 0 * t))
    np.testing.assert_allclose(v.sel(space="x").values, 5.0)


def test_constant_acceleration():
    t = np.arange(0, 2, 0.01)
    a = compute_acceleration(_pos(t, 1.5 * t**2, 0 * t, units="m"))
    assert a.attrs["units"] == "m/s^2"
    np.testing.assert_allclose(a.sel(space="x").values[2:-2], 3.0, rtol=1e-6)
    assert compute_norm(a).dims == ("time",)


def test_nan_gap_is_respected_not_interpolated():
    t = np.arange(20) * 0.1
    x = t.copy()
    x[8:11] = np.nan
    sp = compute_speed(_pos(t, x, 0 * t))
    assert np.isnan(sp.values[7:12]).all()  # the gap and its neighbours
    assert np.isfinite(sp.values[:7]).all() and np.isfinite(sp.values[12:]).all()


def test_pose_speed_per_keypoint():
    t = np.arange(10) * 0.1
    data = np.zeros((10, 2, 2, 1))
    data[:, 0, 0, 0] = 3 * t  # snout moves at 3
    ds = xr.Dataset({"position": (("time", "space", "keypoint", "individual"), data)},
                    coords={"time": t, "space": ["x", "y"], "keypoint": ["snout", "tail"], "individual": ["m"]})
    sp = compute_speed(ds)
    assert sp.dims == ("time", "keypoint", "individual")
    np.testing.assert_allclose(sp.sel(keypoint="snout").values, 3.0)
    np.testing.assert_allclose(sp.sel(keypoint="tail").values, 0.0)


@pytest.mark.parametrize(
    "snout, angle",
    [pytest.param((1, 0), 0.0, id="east"), pytest.param((0, 1), np.pi / 2, id="north"), pytest.param((-1, 0), np.pi, id="west"), pytest.param((0, -1), -np.pi / 2, id="south")],
)
def test_head_direction_known_angles(snout, angle):
    data = np.zeros((3, 2, 2, 1))
    data[:, 0, 0, 0] = snout[0]
    data[:, 1, 0, 0] = snout[1]
    ds = xr.Dataset({"position": (("time", "space", "keypoint", "individual"), data)},
                    coords={"time": [0.0, 0.1, 0.2], "space": ["x", "y"], "keypoint": ["Snout", "Tail Base"], "individual": ["m"]},
                    attrs={"coordinates": "world"})
    hd = compute_head_direction(ds)
    assert hd.dims == ("time", "individual") and hd.attrs["units"] == "radians"
    np.testing.assert_allclose(hd.values[:, 0], angle, atol=1e-12)


def test_match_keypoint():
    assert match_keypoint(["Tail Base", "nose"], "tail_base") == "Tail Base"
    with pytest.raises(StreamNotFoundError, match="its keypoints are"):
        match_keypoint(["a", "b"], "snout")


@pytest.mark.slow
def test_smooth_keeps_gaps():
    t = np.arange(50) * 0.1
    y = xr.DataArray(np.ones(50), dims=("time",), coords={"time": t})
    y[20] = np.nan
    s = smooth(y, 0.3)
    assert np.isnan(s.values[19:22]).all() and s.values[10] == 1.0


@pytest.mark.parametrize("shape", [(200,), (200, 2)], ids=["1d", "2d"])
def test_smooth_mean_is_xarrays_rolling_mean_without_numbagg(shape):
    """The mean is computed in numpy (no numbagg JIT compile), and equals xarray's own numpy path."""
    rng = np.random.default_rng(3)
    t = np.arange(shape[0]) * 0.02
    v = rng.normal(size=shape)
    v[50] = np.nan
    dims = ("time",) if len(shape) == 1 else ("time", "space")
    coords = {"time": t} if len(shape) == 1 else {"time": t, "space": ["x", "y"]}
    da = xr.DataArray(v, dims=dims, coords=coords, attrs={"units": "cm/s"})
    got = smooth(da, 0.2, statistic="mean")  # 11 samples
    with xr.set_options(use_numbagg=False, use_bottleneck=False):
        want = da.rolling(time=11, center=True, min_periods=11).mean()
    assert got.dims == da.dims and np.array_equal(got["time"].values, t)
    np.testing.assert_array_equal(got.values, want.values)
    assert got.attrs["units"] == "cm/s" and "smooth(0.2,mean)" in got.attrs["log"]
    assert np.isnan(got.values[:5]).all() and np.isnan(got.values[45:56]).all() and np.isfinite(got.values[5:45]).all()
    short = smooth(da.isel(time=slice(0, 5)), 0.2, statistic="mean")  # shorter than the window
    assert np.isnan(short.values).all()


def test_bad_input():
    with pytest.raises(DataShapeError, match="at least 2 samples"):
        compute_speed(_pos(np.array([0.0]), [1.0], [1.0]))
