"""Pose files as sleap-io and neuroconv's DeepLabCut interface write them, through the whole chain.

The files are made in ``tests/fixtures/converters.py``: sleap-io's own ``save_nwb`` (two tracked
mice, nodes missing in some frames, times as frame numbers), and neuroconv's DeepLabCut layout
(``PoseEstimationSeriesSnout`` for the node ``snout``). Neither holds an ImageSeries: the video is
named in ``original_videos`` with a path from another machine, and found beside the NWB file.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import nwbview
from nwbview.cli import main
from nwbview.errors import MissingFileError, NWBViewWarning
from nwbview.testing.video import decode_frames, read_frame_index
from tests.fixtures.converters import FPS, N_FRAMES, make_dlc_session

FRAME_NUMBERS = "look like frame numbers"


def _copy(conv, folder: Path):
    """The NWB file and its video, copied (for tests that write into the file)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(conv.nwb, folder / conv.nwb.name)
    shutil.copy2(conv.video, folder / conv.video.name)
    return folder / conv.nwb.name


@contextmanager
def _sleap_warning(conv):
    """sleap-io stores frame numbers as times: nwbview says so once per pose read (only for SLEAP)."""
    if conv.individuals == ["female", "male"]:
        with pytest.warns(NWBViewWarning, match=FRAME_NUMBERS):
            yield
    else:
        yield


# -- sleap-io ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sleap_tracks_are_the_individuals_of_one_pose(sleap_session):
    with nwbview.open(sleap_session.nwb) as s:
        with pytest.warns(NWBViewWarning, match=FRAME_NUMBERS + r".*frame times of the video 'mice.mp4'"):
            ds = s.pose()
        video_times = np.asarray(s.video().times)
        with pytest.warns(NWBViewWarning, match=FRAME_NUMBERS):
            male = s.pose("male")
        with pytest.warns(NWBViewWarning, match=FRAME_NUMBERS):
            by_container = s.pose("track=male")
    assert list(ds.individual.values) == ["female", "male"]
    assert list(ds.keypoint.values) == ["nose", "earL", "earR", "tail_base"]
    assert ds.attrs["skeleton_edges"] == [["nose", "earL"], ["nose", "earR"], ["earL", "tail_base"], ["earR", "tail_base"]]
    # frame numbers became the video's frame times; the union of both tracks covers every frame
    np.testing.assert_allclose(ds.time.values, video_times)
    np.testing.assert_allclose(ds.time.values, np.arange(N_FRAMES) / FPS)
    # NaN exactly where a node was not found, in position and confidence
    for ind in sleap_session.individuals:
        for kp in sleap_session.keypoints:
            found = np.zeros(N_FRAMES, bool)
            found[sleap_session.found[ind][kp]] = True
            x = ds.position.sel(individual=ind, keypoint=kp, space="x").values
            c = ds.confidence.sel(individual=ind, keypoint=kp).values
            np.testing.assert_array_equal(np.isfinite(x), found, err_msg=f"{ind} {kp}")
            np.testing.assert_array_equal(np.isfinite(c), found, err_msg=f"{ind} {kp}")
    # one track by its name: its own times (the male enters at frame 3)
    assert list(male.individual.values) == ["male"]
    np.testing.assert_allclose(male.time.values, np.arange(3, N_FRAMES) / FPS)
    assert by_container.identical(male)


@pytest.mark.slow
def test_sleap_inventory_names_tracks_keypoints_and_video(sleap_session):
    with nwbview.open(sleap_session.nwb) as s:
        inv = s.inventory()
    poses = inv.of_kind("pose")
    assert [p.details["individual"] for p in poses] == ["female", "male"]
    assert all(p.details["keypoints"] == sleap_session.keypoints for p in poses)
    assert poses[1].details["samples per keypoint"]["nose"] == len(sleap_session.found["male"]["nose"])
    assert not any("differ in length" in p for p in inv.problems)
    (video,) = inv.of_kind("video")
    assert video.name == "mice.mp4" and Path(video.path) == sleap_session.video.resolve()
    assert video.details["frames_in_files"] == N_FRAMES
    assert sleap_session.stored_video in video.details["from"]  # the rig path sleap-io stored


def test_sleap_video_is_the_file_beside_the_nwb_file(sleap_session):
    with nwbview.open(sleap_session.nwb) as s, s.video() as v:
        assert len(v) == N_FRAMES
        frames = np.stack([v[i] for i in range(len(v))])
    reference = decode_frames(sleap_session.video)
    np.testing.assert_array_equal(frames, reference)
    assert [read_frame_index(f) for f in frames[::10]] == list(range(0, N_FRAMES, 10))


# -- neuroconv's DeepLabCut layout -----------------------------------------------------------------------


def test_dlc_keypoints_are_the_skeleton_nodes(dlc_session):
    with nwbview.open(dlc_session.nwb) as s:
        ds = s.pose()
        inv = s.inventory()
        with s.video() as v:
            frames = np.stack([v[i] for i in range(len(v))])
    assert list(ds.keypoint.values) == ["snout", "leftear", "rightear", "tailbase"]
    assert ds.attrs["skeleton_edges"] == [["snout", "leftear"], ["snout", "rightear"], ["leftear", "tailbase"], ["rightear", "tailbase"]]
    assert ds.attrs["source_software"] == "DeepLabCut"
    np.testing.assert_allclose(ds.time.values, np.arange(N_FRAMES) / FPS)
    (pose,) = inv.of_kind("pose")
    assert pose.details["keypoints"] == ["snout", "leftear", "rightear", "tailbase"]
    assert pose.details["series"][0] == "PoseEstimationSeriesSnout"
    (video,) = inv.of_kind("video")
    assert video.name == "m1s1.mp4"  # found by its name: original_videos holds the training machine's path
    np.testing.assert_array_equal(frames, decode_frames(dlc_session.video))


@pytest.mark.slow
def test_missing_video_says_what_was_looked_for_and_how_to_pass_it(tmp_path):
    conv = make_dlc_session(tmp_path / "dlc", with_video=False)
    elsewhere = tmp_path / "videos"
    elsewhere.mkdir()
    from nwbview.testing.video import write_test_video

    video = write_test_video(elsewhere / "m1s1.mp4", N_FRAMES, fps=FPS)
    with nwbview.open(conv.nwb) as s:
        assert s.pose().sizes["keypoint"] == 4  # the pose itself needs no video (its times are seconds)
        with pytest.raises(MissingFileError) as err:
            s.video()
        assert any("m1s1.mp4" in p for p in s.inventory().problems)
    msg = str(err.value)
    assert "'/Data/openfield-Pranav-2018-08-20/videos/m1s1.mp4'" in msg
    assert str(conv.nwb.parent / "m1s1.mp4") in msg and "video=" in msg and "--video" in msg
    with nwbview.open(conv.nwb, video=video) as s, s.video() as v:
        assert v.name == "m1s1.mp4" and len(v) == N_FRAMES
    with pytest.raises(MissingFileError, match="nope.mp4"):
        nwbview.open(conv.nwb, video=tmp_path / "nope.mp4")
    r = subprocess.run([sys.executable, "-m", "nwbview.cli", "heatmap", str(conv.nwb), "--kind", "movement"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr
    assert "m1s1.mp4" in r.stderr and "--video" in r.stderr
    r = CliRunner().invoke(main, ["heatmap", str(conv.nwb), "--kind", "movement", "--video", str(video), "-o", str(tmp_path / "m.png")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "m.png").stat().st_size > 0


# -- the whole chain from the command line -----------------------------------------------------------------


@pytest.fixture(params=["sleap", "dlc"])
def converted(request, tmp_path):
    conv = request.getfixturevalue(f"{request.param}_session")
    return conv, _copy(conv, tmp_path / request.param)


def _cli(args: list[str]):
    """Run one command as a user would (warnings printed, not raised); no traceback, exit 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code == 0, f"{args}: {r.output}"
    assert "Traceback" not in r.output and "internal error" not in r.output
    return r


@pytest.mark.slow
def test_cli_chain(converted, tmp_path):
    conv, nwb = converted
    sleap = conv.individuals == ["female", "male"]
    # info: the right names
    r = _cli(["info", nwb])
    assert f"keypoints: {', '.join(conv.keypoints)}" in r.output
    assert f"video (1)" in r.output and conv.video.name in r.output
    if sleap:
        assert "individual: female" in r.output and "individual: male" in r.output
    # export of a short clip: the clip's frames are the video's frames 15.. (their index is in their pixels)
    clip = tmp_path / "clip.mp4"
    r = _cli(["export", nwb, "-o", clip, "--start", 0.5, "--stop", 1.5, "--quiet", "--workers", 1])
    assert (FRAME_NUMBERS in r.output) == sleap
    frames = decode_frames(clip)
    assert len(frames) == 30
    assert [read_frame_index(f[:120, :160]) for f in frames] == list(range(15, 45))
    # movement heatmap with the default head / tail keypoints
    r = _cli(["heatmap", nwb, "--kind", "movement", "-o", tmp_path / "movement.png"])
    assert "frames used" in r.output and (tmp_path / "movement.png").stat().st_size > 0
    # kinematics written back into the file
    r = _cli(["kinematics", nwb, "--write"])
    head = "nose" if sleap else "snout"
    with nwbview.open(nwb) as s:
        speed = s.timeseries("speed_nwbview")
        assert head in speed.attrs.get("source", "") + str(s.nwbfile.processing["behavior"]["speed_nwbview"].comments)
        assert speed.sizes["time"] == N_FRAMES
        np.testing.assert_allclose(speed.time.values, np.arange(N_FRAMES) / FPS)


@pytest.mark.slow
def test_cli_video_option_on_every_video_command(dlc_session, tmp_path):
    """The video moved away from the NWB file: each command takes it with --video PATH."""
    nwb = tmp_path / dlc_session.nwb.name
    shutil.copy2(dlc_session.nwb, nwb)
    video = tmp_path / "videos" / "m1s1.mp4"
    video.parent.mkdir()
    shutil.copy2(dlc_session.video, video)
    r = CliRunner().invoke(main, ["info", str(nwb)])
    assert r.exit_code == 0 and "was not found" in r.output
    r = _cli(["info", nwb, "--video", video])
    assert "video (1)" in r.output and "given as the session's video" in r.output
    _cli(["snapshot", nwb, "--time", 1.0, "-o", tmp_path / "snap.png", "--video", video])
    clip = tmp_path / "clip.mp4"
    _cli(["export", nwb, "-o", clip, "--stop", 0.5, "--quiet", "--workers", 1, "--video", video])
    assert [read_frame_index(f[:120, :160]) for f in decode_frames(clip)] == list(range(15))
    _cli(["heatmap", nwb, "--kind", "movement", "-o", tmp_path / "m.png", "--video", video])
    _cli(["kinematics", nwb, "--video", video])
    r = CliRunner().invoke(main, ["export", str(nwb), "-o", str(clip), "--video", str(tmp_path / "nope.mp4")])
    assert r.exit_code == 1 and "Video file not found" in r.output
    for job in ("kinematics", "export"):  # one video file is not every session's video
        r = CliRunner().invoke(main, ["batch", str(nwb), job, "--video", str(video)])
        assert r.exit_code == 1 and "not one for every session" in r.output, r.output


@pytest.mark.napari
@pytest.mark.slow
def test_view_headless(sleap_session):
    """The viewer shows the SLEAP file's video and both tracks' keypoints (hidden window)."""
    pytest.importorskip("napari")
    from nwbview.render.napari import session_view, view

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NWBViewWarning)  # frame numbers; video pixels without calibration
        viewer = view(str(sleap_session.nwb), show=False, docks=False)
    try:
        sv = session_view(viewer)
        assert sv.reader is not None and sv.reader.name == "mice.mp4"
        assert {"video", "pose", "skeleton"} <= set(sv.roles)
        assert set(sv.layers["pose"].features["keypoint"]) == set(sleap_session.keypoints)
    finally:
        viewer.close()
