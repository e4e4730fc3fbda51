"""Opening files, the inventory, and streams as xarray (the foundation's rules)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from pynwb import TimeSeries
from pynwb.behavior import Position, SpatialSeries
from pynwb.ecephys import FilteredEphys
from pynwb.testing.mock.file import mock_NWBFile

import nwbview
from nwbview.errors import (
    AmbiguousStreamError,
    InvalidFileError,
    MissingFileError,
    NWBViewWarning,
    StreamNotFoundError,
    TimestampError,
)
from nwbview.io.nwb import LazySeriesArray
from tests.fixtures.sessions import (
    add_head_direction,
    add_lfp,
    add_pose,
    add_position,
    add_video,
    behavior,
    overwrite_dataset,
    write,
)


# -- time and units -----------------------------------------------------------------------------


def test_rate_only_position_uses_starting_time_and_rate(basic_file):
    with nwbview.open(basic_file) as s:
        pos = s.position()
    assert pos.dims == ("time", "space")
    assert list(pos.space.values) == ["x", "y"]
    np.testing.assert_allclose(pos.time.values[:3], [1.0, 1.05, 1.1])
    np.testing.assert_allclose(pos.sel(space="x").values[:3], [0.0, 0.5, 1.0])
    assert pos.attrs["units"] == "cm" and pos.attrs["coordinates"] == "world"
    assert pos.attrs["source"] == "processing/behavior/Position/position"


def test_timestamps_win_over_rate(tmp_path):
    nwb = mock_NWBFile()
    t = np.cumsum(np.r_[0.5, np.full(49, 0.1)])  # irregular start
    t[25:] += 0.3  # a gap a rate could not express
    ss = SpatialSeries(name="pos", data=np.c_[t, t], unit="cm", reference_frame="r", timestamps=t)
    behavior(nwb).add(Position(spatial_series=[ss]))
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        np.testing.assert_array_equal(s.position().time.values, t)


def test_conversion_is_applied(tmp_path):
    nwb = mock_NWBFile()
    add_position(nwb, conversion=0.01)  # stored in units of 0.01 cm
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        np.testing.assert_allclose(s.position().sel(space="x").values[:3], [0.0, 0.5, 1.0])


def test_lfp_in_microvolts_with_conversion_and_offset(basic_file):
    with nwbview.open(basic_file) as s:
        lfp = s.lfp()
        assert lfp.dims == ("time", "channel") and lfp.shape == (5000, 4)
        assert lfp.attrs["units"] == "uV"
        # count c is c * 1e-6 V + 1e-4 V = c + 100 uV
        np.testing.assert_allclose(lfp.isel(time=slice(0, 3), channel=2).values, [2100.0, 2101.0, 2102.0])
        mv = s.lfp(units="mV")
        np.testing.assert_allclose(mv.isel(time=0, channel=1).values, 1.1)


def test_lfp_channel_conversion(tmp_path):
    nwb = mock_NWBFile()
    add_lfp(nwb, channel_conversion=np.array([1.0, 2.0, 1.0, 0.5]))
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        v = s.lfp(channels=[1, 3]).isel(time=0).values
    np.testing.assert_allclose(v, [1000 * 2.0 + 100 * 1, 3000 * 0.5 + 100])


def test_lfp_reads_only_what_is_asked(basic_file, monkeypatch):
    reads = []
    orig = LazySeriesArray._read

    def spy(self, key):
        out = orig(self, key)
        reads.append(out.size)
        return out

    monkeypatch.setattr(LazySeriesArray, "_read", spy)
    with nwbview.open(basic_file) as s:
        x = s.lfp(channels=[3], start=1.0, stop=2.0)  # 1 s at 1 kHz of one channel
        assert not reads, "building the array must not read data"
        v = x.values
    assert v.shape == (1000, 1)
    assert sum(reads) == 1000
    np.testing.assert_allclose(v[0, 0], 3000 + 0 + 100)  # sample 1000 -> 1000 % 1000 = 0
    np.testing.assert_allclose(x.time.values[[0, -1]], [1.0, 1.999])


def test_lfp_bad_channels_error(basic_file):
    with nwbview.open(basic_file) as s, pytest.raises(nwbview.NWBViewError, match="numbered 0 to 3"):
        s.lfp(channels=[7])


def test_head_direction_degrees_become_radians(tmp_path):
    nwb = mock_NWBFile()
    add_head_direction(nwb, unit="degrees")
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        hd = s.head_direction()
    assert hd.attrs["units"] == "radians"
    np.testing.assert_allclose(hd.values[[0, -1]], [0, np.pi])


# -- where streams live -------------------------------------------------------------------------


def test_lfp_in_acquisition_without_container(tmp_path):
    nwb = mock_NWBFile()
    add_lfp(nwb, where="acquisition", name="ElectricalSeries")
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        inv = s.inventory()
        assert [x.path for x in inv.of_kind("lfp")] == ["acquisition/ElectricalSeries"]
        assert s.lfp().shape == (5000, 4)


def test_lfp_prefers_the_lfp_container_over_raw(tmp_path):
    nwb = mock_NWBFile()
    add_lfp(nwb, where="acquisition", name="raw", rate=30000.0)
    add_lfp(nwb, where="lfp_container", name="lfp")
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        assert s.lfp().attrs["source"] == "processing/ecephys/LFP/lfp"
        assert s.lfp("raw").attrs["source"] == "acquisition/raw"


def test_filtered_ephys_found(tmp_path):
    nwb = mock_NWBFile()
    es = add_lfp(nwb, where="acquisition", name="theta")
    nwb.acquisition.pop("theta")
    es.parent = None
    nwb.create_processing_module("ecephys", "e").add(FilteredEphys(electrical_series=[es]))
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        info = s.inventory().of_kind("lfp")[0]
        assert info.details["container"] == "FilteredEphys"
        assert s.lfp().shape == (5000, 4)


def test_several_one_column_position_series_are_combined(tmp_path):
    nwb = mock_NWBFile()
    t = np.arange(10) / 10
    xs = SpatialSeries(name="pos_x", data=t * 2, unit="cm", reference_frame="r", timestamps=t)
    ys = SpatialSeries(name="pos_y", data=t * 3, unit="cm", reference_frame="r", timestamps=t)
    behavior(nwb).add(Position(spatial_series=[ys, xs]))
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        pos = s.position()
    np.testing.assert_allclose(pos.sel(space="x").values, t * 2)
    np.testing.assert_allclose(pos.sel(space="y").values, t * 3)


def test_bare_spatial_series_in_acquisition(tmp_path):
    nwb = mock_NWBFile()
    nwb.add_acquisition(SpatialSeries(name="led", data=np.ones((5, 2)), unit="pixels", reference_frame="r", rate=30.0))
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        pos = s.position()
    assert pos.attrs["coordinates"] == "pixel" and pos.shape == (5, 2)


def test_several_positions_ambiguous_then_by_name(tmp_path):
    nwb = mock_NWBFile()
    add_position(nwb, name="Position")
    add_position(nwb, name="PositionLED")
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        with pytest.raises(AmbiguousStreamError, match="PositionLED"):
            s.position()
        assert s.position("PositionLED").attrs["source"] == "processing/behavior/PositionLED/position"
        with pytest.raises(StreamNotFoundError, match="Available"):
            s.position("nope")


def test_timeseries_in_stimulus(tmp_path):
    nwb = mock_NWBFile()
    nwb.add_stimulus(TimeSeries(name="tone", data=np.arange(10.0), unit="dB", rate=10.0))
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        [info] = s.inventory().of_kind("timeseries")
        assert info.path == "stimulus/presentation/tone"
        np.testing.assert_allclose(s.timeseries("tone").values, np.arange(10.0))


def test_pose_dataset(tmp_path):
    nwb = mock_NWBFile()
    add_pose(nwb, n=30)
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        ds = s.pose()
    assert ds.position.dims == ("time", "space", "keypoint", "individual")
    assert ds.confidence.dims == ("time", "keypoint", "individual")
    assert list(ds.keypoint.values) == ["snout", "tail_base"]
    np.testing.assert_allclose(ds.position.sel(keypoint="tail_base", space="x").values[:2, 0], [100, 101])
    assert ds.attrs["skeleton_edges"] == [["snout", "tail_base"]]
    assert ds.attrs["coordinates"] == "pixel"


def test_pose_of_two_individuals_stacked(tmp_path):
    nwb = mock_NWBFile()
    add_pose(nwb, pe_name="mouse1")
    add_pose(nwb, pe_name="mouse2")
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        ds = s.pose()
    assert list(ds.individual.values) == ["mouse1", "mouse2"]


def test_pose_frame_numbers_warn_and_use_video_times(tmp_path):
    nwb = mock_NWBFile()
    vt = 2.0 + np.arange(30) / 25.0
    vid = add_video(nwb, ["v.mp4"], timestamps=vt)
    add_pose(nwb, n=30, timestamps=np.arange(30, dtype=float), source_video=vid)
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        assert any("frame numbers" in p for p in s.inventory().problems)
        with pytest.warns(NWBViewWarning, match="frame numbers"):
            ds = s.pose()
    np.testing.assert_allclose(ds.time.values, vt)


# -- inventory ------------------------------------------------------------------------------------


def test_open_accepts_an_nwbfile_object(basic_file):
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(basic_file), "r") as io:
        nwb = io.read()
        s = nwbview.open(nwb)
        assert s.position().shape == (100, 2)
        s.close()  # does not close the caller's file
        assert nwb.processing["behavior"]["Position"]["position"].data[0, 0] == 0


# -- bad input ------------------------------------------------------------------------------------


def test_not_an_nwb_file(tmp_path):
    p = tmp_path / "notes.nwb"
    p.write_text("hello")
    with pytest.raises(InvalidFileError, match="no HDF5 signature"):
        nwbview.open(p)


def test_missing_file(tmp_path):
    with pytest.raises(MissingFileError, match="No such NWB file"):
        nwbview.open(tmp_path / "nope.nwb")


def test_empty_file(tmp_path):
    p = tmp_path / "e.nwb"
    p.write_bytes(b"")
    with pytest.raises(InvalidFileError, match="empty"):
        nwbview.open(p)


def test_truncated_file(basic_file):
    data = basic_file.read_bytes()
    basic_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidFileError, match="truncated|corrupt"):
        nwbview.open(basic_file)


def test_hdf5_that_is_not_nwb(tmp_path):
    p = tmp_path / "plain.h5"
    with h5py.File(p, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(InvalidFileError, match="Cannot (open|read)"):
        nwbview.open(p)


def test_timestamps_with_nan(tmp_path):
    nwb = mock_NWBFile()
    add_position(nwb, timestamps=True, n=20)
    p = write(nwb, tmp_path / "f.nwb")
    t = 1.0 + np.arange(20) / 20.0
    t[3] = np.nan
    overwrite_dataset(p, "processing/behavior/Position/position/timestamps", t)
    with nwbview.open(p) as s, pytest.raises(TimestampError, match="non-finite.*index 3"):
        s.position()


def test_timestamps_and_data_lengths_differ(tmp_path):
    nwb = mock_NWBFile()
    t = np.arange(10) / 10
    ss = SpatialSeries(name="p", data=np.ones((10, 2)), unit="cm", reference_frame="r", timestamps=t)
    behavior(nwb).add(Position(spatial_series=[ss]))
    p = write(nwb, tmp_path / "f.nwb")
    with h5py.File(p, "r+") as f:
        del f["processing/behavior/Position/p/timestamps"]
        f["processing/behavior/Position/p/timestamps"] = np.arange(8) / 10
        f["processing/behavior/Position/p/timestamps"].attrs["unit"] = "seconds"
        f["processing/behavior/Position/p/timestamps"].attrs["interval"] = 1
    with nwbview.open(p) as s:
        with pytest.raises(TimestampError, match="10 data samples but 8 timestamps"):
            s.position()


def test_pose_keypoints_of_different_lengths_are_combined_on_the_union_of_times(tmp_path):
    from ndx_pose import PoseEstimation, PoseEstimationSeries

    nwb = mock_NWBFile()
    a = PoseEstimationSeries(name="a", data=np.ones((10, 2)), unit="pixels", reference_frame="r", timestamps=np.arange(10.0), confidence=np.ones(10))
    b = PoseEstimationSeries(name="b", data=2 * np.ones((8, 2)), unit="pixels", reference_frame="r", timestamps=np.arange(8.0) + 0.5, confidence=np.full(8, 0.5))
    behavior(nwb).add(PoseEstimation(pose_estimation_series=[a, b]))
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        ds = s.pose()
        assert not any("differ in length" in p for p in s.inventory().problems)
    np.testing.assert_array_equal(ds.time.values, np.sort(np.r_[np.arange(10.0), np.arange(8.0) + 0.5]))
    ax = ds.position.sel(keypoint="a", space="x", individual=ds.individual.values[0]).values
    bc = ds.confidence.sel(keypoint="b", individual=ds.individual.values[0]).values
    half = ds.time.values % 1 == 0.5
    assert np.isfinite(ax).sum() == 10 and np.isnan(ax[half]).all() and np.isfinite(ax[~half]).all()
    assert np.isfinite(bc).sum() == 8 and (bc[np.isfinite(bc)] == 0.5).all()


def _pe(series, *, nodes=None, edges=None, name="PoseEstimation", original_videos=None):
    import warnings

    from ndx_pose import PoseEstimation, Skeleton

    skel = None if nodes is None else Skeleton(name=f"{name}_skeleton", nodes=nodes, edges=np.array(edges or [], dtype="uint8").reshape(-1, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # original_videos, as converters pass it
        pe = PoseEstimation(name=name, pose_estimation_series=series, skeleton=skel, original_videos=original_videos)
    return pe, skel


def _series(name, n, *, start=0.0, rate=None, timestamps=None, value=0.0):
    from ndx_pose import PoseEstimationSeries

    kw = dict(rate=rate, starting_time=start) if rate else dict(timestamps=timestamps)
    return PoseEstimationSeries(name=name, data=np.full((n, 2), value), unit="pixels", reference_frame="top left",
                                confidence=np.full(n, 0.9), **kw)


def _add(nwb, pe, skel):
    from ndx_pose import Skeletons

    mod = behavior(nwb)
    if skel is not None:
        mod.add(Skeletons(skeletons=[skel]))
    mod.add(pe)


def test_pose_keypoints_named_by_skeleton_nodes_without_the_converter_prefix(tmp_path):
    nwb = mock_NWBFile()
    series = [_series(n, 20, rate=30.0) for n in ("PoseEstimationSeriesSnout", "PoseEstimationSeriesTailBase", "other")]
    pe, skel = _pe(series, nodes=["snout", "tail_base"], edges=[[0, 1]])
    _add(nwb, pe, skel)
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        ds = s.pose()
        (info,) = s.inventory().of_kind("pose")
    assert list(ds.keypoint.values) == ["snout", "tail_base", "other"]  # no node matches 'other': its own name
    assert ds.attrs["skeleton_edges"] == [["snout", "tail_base"]]
    assert info.details["keypoints"] == ["snout", "tail_base", "other"]


def test_pose_mixes_rate_and_timestamp_series(tmp_path):
    nwb = mock_NWBFile()
    found = np.r_[0:5, 8:20]  # 'ear' was not found in frames 5-7
    series = [_series("nose", 20, start=2.0, rate=30.0, value=1.0), _series("ear", found.size, timestamps=2.0 + found / 30.0, value=2.0)]
    pe, skel = _pe(series, nodes=["nose", "ear"])
    _add(nwb, pe, skel)
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        ds = s.pose().isel(individual=0)
    np.testing.assert_allclose(ds.time.values, 2.0 + np.arange(20) / 30.0)
    ear = ds.position.sel(keypoint="ear", space="x").values
    assert np.isnan(ear[5:8]).all() and (ear[found] == 2.0).all()
    assert np.isnan(ds.confidence.sel(keypoint="ear").values[5:8]).all()


def test_pose_only_file_video_beside_it_gives_frame_times(tmp_path):
    from nwbview.testing.video import vfr_timestamps, write_test_video

    t_video = vfr_timestamps(40)
    write_test_video(tmp_path / "cam.mp4", 40, timestamps=t_video)
    nwb = mock_NWBFile()
    pe, skel = _pe([_series("nose", 40, timestamps=np.arange(40.0))], nodes=["nose"], original_videos=["D:\\rig\\cam.mp4"])
    _add(nwb, pe, skel)
    path = write(nwb, tmp_path / "f.nwb")
    with nwbview.open(path) as s:
        (video,) = s.inventory().of_kind("video")
        assert video.name == "cam.mp4"
        with s.video() as v:
            np.testing.assert_allclose(v.times, t_video, atol=1e-4)
            with pytest.warns(NWBViewWarning, match="frame numbers.*the video 'cam.mp4'"):
                ds = s.pose()
            np.testing.assert_allclose(ds.time.values, v.times)
    (tmp_path / "cam.mp4").rename(tmp_path / "moved.mp4")
    with nwbview.open(path) as s:
        assert not s.inventory().of_kind("video")
        with pytest.raises(MissingFileError, match=r"cam\.mp4.*--video"):
            s.video()
        with pytest.warns(NWBViewWarning, match="no linked video gives frame times.*cam.mp4"):
            s.pose()
    with nwbview.open(path, video=tmp_path / "moved.mp4") as s, s.video() as v:
        assert v.name == "moved.mp4" and len(v) == 40


def test_pose_tracks_of_one_recording_stacked_on_the_union_of_times(tmp_path):
    nwb = mock_NWBFile()
    from ndx_pose import Skeleton, Skeletons

    skel = Skeleton(name="mouse", nodes=["nose"])
    behavior(nwb).add(Skeletons(skeletons=[skel]))
    import warnings

    from ndx_pose import PoseEstimation

    for track, (start, n) in {"a": (0.0, 10), "b": (0.2, 5)}.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            pe = PoseEstimation(name=f"track={track}", pose_estimation_series=[_series("nose", n, start=start, rate=10.0)],
                                skeleton=skel, original_videos=["v.mp4"])
        behavior(nwb).add(pe)
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        ds = s.pose()
        assert list(s.pose("b").individual.values) == ["b"]
    assert list(ds.individual.values) == ["a", "b"]
    np.testing.assert_allclose(ds.time.values, np.arange(10) / 10.0)
    b = ds.position.sel(individual="b", keypoint="nose", space="x").values
    assert np.isfinite(b).sum() == 5 and np.isfinite(b[2:7]).all()


def test_file_locked_by_a_writer(basic_file):
    import subprocess
    import sys

    from nwbview.errors import FileLockedError

    holder = subprocess.Popen(
        [sys.executable, "-c", f"import h5py, time; f = h5py.File({str(basic_file)!r}, 'r+'); print('ok', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(FileLockedError, match="locked by another process.*Close the program"):
            nwbview.open(basic_file)
    finally:
        holder.kill()
        holder.wait()


def test_video_over_several_external_files(tmp_path):
    """An ImageSeries split over 3 files (starting_frame) reads as one frame-accurate video."""
    from nwbview.testing.video import decode_frames, read_frame_index, write_video_series

    (tmp_path / "vid").mkdir()
    paths, starting = write_video_series(tmp_path / "vid", counts=[40, 25, 35], stem="part")
    nwb = mock_NWBFile()
    t = 1.0 + np.arange(100) / 30.0
    add_video(nwb, [f"vid/{p.name}" for p in paths], timestamps=t, starting_frame=starting)
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        info = s.inventory().of_kind("video")[0]
        assert info.details["frames_in_files"] == 100 and info.details["timestamps_match_file"] == "yes"
        v = s.video()
        assert len(v) == 100
        np.testing.assert_array_equal(v.times, t)
        for i in [99, 0, 40, 39, 65, 64, 12]:  # across file boundaries, in any order
            assert read_frame_index(v[i]) == i
        ref = decode_frames(paths[1])
        np.testing.assert_array_equal(v[40], ref[0])
        assert v.frame_at(1.0 + 65 / 30.0) == 65


# -- cost that does not grow with the recording (issue 21) ------------------------------------------


@pytest.mark.parametrize("start, stop", [(1.0, 2.0), (1.2345, 1.9), (0.0, 0.05), (-5.0, 1.0), (3.5, 100.0), (2.0, 1.0), (None, 1.3), (2.9999, None)])
def test_windowed_rate_times_are_the_series_times_of_the_window(tmp_path, start, stop):
    from nwbview.io.nwb import series_times

    nwb = mock_NWBFile()
    add_lfp(nwb, rate=1250.0, n=5000, start=0.0123)
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        ts = s.inventory().of_kind("lfp")[0].obj
        full = series_times(ts)
        assert full[1] == 0.0123 + 1 / 1250.0
        i0 = 0 if start is None else int(np.searchsorted(full, start, side="left"))
        i1 = full.size if stop is None else max(i0, int(np.searchsorted(full, stop, side="left")))
        x = s.lfp(channels=[2], start=start, stop=stop)
        # the same times, to the last bit, as the whole clock cut with searchsorted
        np.testing.assert_array_equal(x.time.values, full[i0:i1])
        np.testing.assert_array_equal(x.time.values, 0.0123 + np.arange(i0, i1) / 1250.0)
        ref = s.lfp().isel(time=slice(i0, i1), channel=[2])
        np.testing.assert_array_equal(x.values, ref.values)
        if x.sizes["time"] > 2:
            t = float(x.time[1])
            np.testing.assert_array_equal(x.sel(time=t).values, ref.sel(time=t).values)
            np.testing.assert_array_equal(x.sel(time=slice(t, t + 0.01)).time.values, ref.sel(time=slice(t, t + 0.01)).time.values)
            assert x.sel(time=t + 1e-5, method="nearest").time.item() == t


def test_timeseries_window_on_exact_sample_times(tmp_path):
    nwb = mock_NWBFile()
    nwb.add_acquisition(TimeSeries(name="speed", data=np.arange(300.0), unit="m/s", starting_time=0.1, rate=3.0))
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        full = s.timeseries("speed")
        for a, b in [(full.time.values[7], full.time.values[20]), (0.1 + 7 / 3.0, 0.1 + 20 / 3.0), (np.nextafter(full.time.values[7], 0), 5.0)]:
            x = s.timeseries("speed", start=a, stop=b)
            i0 = int(np.searchsorted(full.time.values, a))
            i1 = int(np.searchsorted(full.time.values, b))
            np.testing.assert_array_equal(x.values, np.arange(i0, i1, dtype=float))
            np.testing.assert_array_equal(x.time.values, full.time.values[i0:i1])


def test_ten_seconds_of_a_ten_hour_lfp_allocate_little(tmp_path):
    """10 s of one channel of a 10-hour, 64-channel, 1 kHz LFP: no whole time axis is built (< 20 MB)."""
    import tracemalloc

    from pynwb.ecephys import LFP, ElectricalSeries

    n, n_ch = 36_000_000, 64  # 10 h at 1 kHz: a time axis would be 288 MB, the data 4.6 GB
    h5 = h5py.File(tmp_path / "big.h5", "w")
    # full shape, chunked, nothing but two chunks written: the rest reads as the fill value
    dset = h5.create_dataset("lfp", shape=(n, n_ch), dtype="int16", chunks=(16384, n_ch), fillvalue=0)
    i0 = 18_000_000  # 5 h in
    dset[i0 - 20_000 : i0 + 20_000] = (np.arange(40_000)[:, None] % 1000 + np.arange(n_ch)[None, :]).astype(np.int16)
    nwb = mock_NWBFile()
    dev = nwb.create_device("probe")
    group = nwb.create_electrode_group("shank0", description="shank", location="CA1", device=dev)
    for _ in range(n_ch):
        nwb.add_electrode(group=group, location="CA1")
    region = nwb.create_electrode_table_region(list(range(n_ch)), "all")
    es = ElectricalSeries(name="lfp", data=dset, electrodes=region, starting_time=2.0, rate=1000.0, conversion=1e-6)
    nwb.create_processing_module("ecephys", "ecephys").add(LFP(electrical_series=es))
    try:
        with nwbview.open(nwb) as s:
            s.inventory()
            s.lfp(channels=[5], start=0.0, stop=0.001).values  # first use of the file's metadata
            tracemalloc.start()
            try:
                x = s.lfp(channels=[5], start=2.0 + 18_000.0, stop=2.0 + 18_010.0)
                v = x.values
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert peak < 20e6, f"10 s of one channel allocated {peak / 1e6:.1f} MB"
            assert v.shape == (10_000, 1)
            np.testing.assert_allclose(v[:3, 0], (np.arange(20_000, 20_003) % 1000 + 5).astype(float))
            assert x.time.values[0] == 2.0 + 18_000_000 / 1000.0
            np.testing.assert_array_equal(x.time.values, 2.0 + np.arange(i0, i0 + 10_000) / 1000.0)
            assert float(x.sel(time=18_005.0 + 2.0).values[0]) == (25_000 % 1000) + 5
    finally:
        h5.close()
