"""What nwbview writes back: the containers built from xarray results, their provenance, reading them back."""

from __future__ import annotations

import pytest

import numpy as np
import xarray as xr

import nwbview
from nwbview.heatmap import heatmap_from_images
from nwbview.io.write import write_results
from nwbview.results import heatmap_result

W, H = 64, 48


@pytest.mark.slow
def test_heatmap_written_reads_back_identical(demo_copy):
    with nwbview.open(demo_copy) as s:
        occ = nwbview.heatmap.occupancy(s.position(), bin_size=5.0, sigma=3.0)
    write_results(demo_copy, heatmap_result(occ, bin_size=5.0, sigma=3.0))
    with nwbview.open(demo_copy) as s:
        back = heatmap_from_images(s.nwbfile.processing["behavior"]["heatmap_occupancy_nwbview"])
        [res] = s.inventory().of_kind("result")
        assert "heatmap.occupancy" in res.details["provenance"]
    xr.testing.assert_identical(back.drop_attrs(), occ.drop_attrs())
    np.testing.assert_array_equal(back.attrs["x_edges"], occ.attrs["x_edges"])
    assert back.attrs["units"] == "s" and back.attrs["sigma"] == 3.0




def test_speed_result_keeps_times_units_and_parameters():
    import xarray as xr

    from nwbview.results import provenance, read_provenance, speed_result

    t = np.array([0.0, 0.1, 0.25, 0.4])
    speed = xr.DataArray([1.0, np.nan, 3.0, 4.0], dims=("time",), coords={"time": t},
                         attrs={"units": "cm/s", "source": "processing/behavior/Position/head"})
    ts = speed_result(speed, smooth_s=0.2)
    np.testing.assert_array_equal(ts.timestamps, t)
    np.testing.assert_array_equal(ts.data, [1.0, np.nan, 3.0, 4.0])
    assert ts.unit == "cm/s"
    body = read_provenance(ts.comments)
    assert body["function"] == "compute_speed" and body["parameters"] == {"input": "processing/behavior/Position/head", "smooth_s": 0.2}
    assert read_provenance("written by hand") is None and read_provenance(provenance("f")[:-1]) is None


def test_session_kinematics_from_pose_and_from_position(demo_session):
    from nwbview.results import kinematics_results, session_kinematics

    with nwbview.open(demo_session.nwb_path) as s:
        by_pose = session_kinematics(s, tracking="pose")
        by_position = session_kinematics(s, tracking="position")
        results = kinematics_results(s, tracking="pose", kinematics=by_pose)
    assert by_pose.speed.dims == ("time", "individual") and by_position.speed.dims == ("time",)
    assert by_pose.attrs["source_kind"] == "pose" and "head_direction" in by_pose
    # the demo's pose (pixels, no calibration yet) and position (cm) track the same animal
    assert by_pose.speed.attrs["units"] == "pixels/s" and by_position.speed.attrs["units"] == "centimeters/s"
    both = by_position.speed.interp(time=by_pose.time).values
    ratio = np.nanmedian(by_pose.speed.isel(individual=0).values / both) / demo_session.truth["px_per_cm"]
    assert 0.8 < ratio < 1.25
    assert [type(r).__name__ for r in results][:2] == ["TimeSeries", "TimeSeries"]
