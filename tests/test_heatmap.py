"""Heatmaps on synthetic frames and keypoints with known answers, and on the demo session."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from pynwb.image import ImageSeries
from pynwb.testing.mock.file import mock_NWBFile

import nwbview
from nwbview.cli import main
from nwbview.errors import MissingFileError, NWBViewError, NWBViewWarning
from nwbview.heatmap import band_power, movement_heatmap, occupancy, signal_by_position
from tests.fixtures.sessions import behavior, write

W, H = 64, 48


def _session_file(tmp_path, frames, head, tail, conf=None, pose_n=None):
    """In-file video (n, H, W) uint8 at 10 fps and a pose with head/tail pixel positions."""
    from ndx_pose import PoseEstimation, PoseEstimationSeries, Skeleton, Skeletons

    n = frames.shape[0]
    t = np.arange(n) / 10.0
    nwb = mock_NWBFile()
    vid = ImageSeries(name="video", data=frames, unit="n.a.", timestamps=t)
    nwb.add_acquisition(vid)
    m = pose_n or n
    conf = np.ones(m) if conf is None else conf
    s1 = PoseEstimationSeries(name="snout", data=head[:m], unit="pixels", reference_frame="tl", confidence=conf, timestamps=t[:m])
    s2 = PoseEstimationSeries(name="tail_base", data=tail[:m], unit="pixels", reference_frame="tl", confidence=np.ones(m), timestamps=s1)
    skel = Skeleton(name="sk", nodes=["snout", "tail_base"], edges=np.array([[0, 1]], dtype="uint8"))
    mod = behavior(nwb)
    mod.add(Skeletons(skeletons=[skel]))
    mod.add(PoseEstimation(pose_estimation_series=[s1, s2], skeleton=skel, source_video=vid))
    return write(nwb, tmp_path / "synthetic.nwb")


def _dots(n, rng, margin=12):
    """Black frames with one bright pixel at a random head position; tail 5 px to the left."""
    frames = np.zeros((n, H, W), np.uint8)
    hx = rng.integers(margin, W - margin, n)
    hy = rng.integers(margin, H - margin, n)
    frames[np.arange(n), hy, hx] = 255
    head = np.c_[hx + 0.5, hy + 0.5]  # pixel centres
    tail = head - [5.0, 0.0]
    return frames, head, tail


def test_radius_and_centre_alignment(tmp_path):
    frames, head, tail = _dots(30, np.random.default_rng(0))
    with nwbview.open(_session_file(tmp_path, frames, head, tail)) as s:
        r = movement_heatmap(s, buffer_mult=2.0, crop_padding=3, gamma=1.0, polarity="bright")
    assert r.radius == 5 * 2 + 3 and r.heatmap.shape == (27, 27)
    c = r.radius
    assert r.mean[c, c] == 255 and np.nansum(r.mean) == 255  # every dot lands on the centre pixel
    assert r.heatmap.sel(x=0, y=0) == 1.0 and r.frames_used == 30
    assert r.bbox == (-c, -c, c, c)


def test_clipping_at_frame_edges_stays_aligned(tmp_path):
    frames = np.zeros((4, H, W), np.uint8)
    head = np.array([[0.5, 0.5], [W - 0.5, H - 0.5], [0.5, H - 0.5], [W - 0.5, 0.5]])  # the four corners
    for i, (x, y) in enumerate(head.astype(int)):
        frames[i, y, x] = 200
    tail = head + [[3, 0], [-3, 0], [3, 0], [-3, 0]]
    with nwbview.open(_session_file(tmp_path, frames, head, tail)) as s:
        r = movement_heatmap(s, buffer_mult=2.0, gamma=1.0, polarity="bright")
    c = r.radius
    assert r.mean[c, c] == 200
    assert r.coverage[c, c] == 4 and r.coverage[0, 0] == 1  # only one crop reaches each corner


def test_normalisation_gamma_and_blur(tmp_path):
    frames = np.full((5, H, W), 40, np.uint8)
    head = np.tile([[32.5, 24.5]], (5, 1))
    frames[:, 24, 32] = 160
    tail = head - [4.0, 0.0]
    with nwbview.open(_session_file(tmp_path, frames, head, tail)) as s:
        r = movement_heatmap(s, gamma=0.5, polarity="bright")
        rb = movement_heatmap(s, gamma=1.0, sigma=1.0, polarity="bright")
    c = r.radius
    assert r.heatmap.values[c, c] == pytest.approx(1.0)
    assert r.heatmap.values[0, 0] == pytest.approx((40 / 160) ** 0.5)
    assert rb.heatmap.values.max() == pytest.approx(1.0)
    assert rb.heatmap.values[c, c + 1] > 40 / 160 + 0.01  # the blur spreads the dot


def test_egocentric_puts_what_is_ahead_above_the_centre(tmp_path):
    rng = np.random.default_rng(3)
    n = 24
    frames = np.zeros((n, H, W), np.uint8)
    ang = rng.uniform(-np.pi, np.pi, n)
    fwd = np.c_[np.cos(ang), np.sin(ang)]  # pixel frame (y down)
    head = np.tile([[32.5, 24.5]], (n, 1))
    tail = head - 6 * fwd
    ahead = np.round(head + 8 * fwd - 0.5).astype(int)  # a bright pixel 8 px ahead of the head
    frames[np.arange(n), ahead[:, 1], ahead[:, 0]] = 255
    with nwbview.open(_session_file(tmp_path, frames, head, tail)) as s:
        r = movement_heatmap(s, egocentric=True, gamma=1.0, polarity="bright")
    c = r.radius
    iy, ix = np.unravel_index(np.nanargmax(r.mean), r.mean.shape)
    assert abs(ix - c) <= 1 and abs((c - iy) - 8) <= 1  # straight up, 8 px


def test_skipped_frames_are_counted(tmp_path):
    frames, head, tail = _dots(20, np.random.default_rng(1))
    head[3] = np.nan
    conf = np.ones(20)
    conf[[5, 6]] = 0.1
    with nwbview.open(_session_file(tmp_path, frames, head, tail, conf=conf)) as s:
        r = movement_heatmap(s)
    assert r.frames_skipped["nan_keypoint"] == 1 and r.frames_skipped["low_confidence"] == 2
    assert r.frames_used == 17


def test_pose_shorter_than_video_warns_with_count(tmp_path):
    frames, head, tail = _dots(20, np.random.default_rng(2))
    with nwbview.open(_session_file(tmp_path, frames, head, tail, pose_n=12)) as s:
        with pytest.warns(NWBViewWarning, match="8 of 20 video frames have no pose"):
            r = movement_heatmap(s)
    assert r.frames_used == 12 and r.frames_skipped["no_pose_sample"] == 8


def test_intervals_and_bad_parameters(tmp_path):
    frames, head, tail = _dots(20, np.random.default_rng(4))
    with nwbview.open(_session_file(tmp_path, frames, head, tail)) as s:
        r = movement_heatmap(s, intervals=[(0.0, 0.5), (1.0, 1.2)])
        assert r.frames_used == 7 and r.frames_skipped["outside_intervals"] == 13
        with pytest.raises(NWBViewError, match="buffer_mult"):
            movement_heatmap(s, buffer_mult=0.5)
        with pytest.raises(NWBViewError, match="No TimeIntervals"):
            movement_heatmap(s, intervals="bouts")
        with pytest.raises(NWBViewError, match="No video frame can be used"):
            movement_heatmap(s, intervals=[(50, 60)])


def test_missing_video_is_a_clear_error(demo_copy):
    (demo_copy.parent / "demo_video.mp4").unlink()
    with nwbview.open(demo_copy) as s, pytest.raises(MissingFileError, match="demo_video.mp4"):
        movement_heatmap(s)


# -- occupancy and signal maps ----------------------------------------------------------------


def _pos(t, x, y):
    return xr.DataArray(np.c_[x, y], dims=("time", "space"), coords={"time": t, "space": ["x", "y"]}, attrs={"units": "cm", "space_unit": "cm", "coordinates": "world"})


def test_occupancy_sums_to_time_used_and_puts_time_where_the_animal_was():
    t = np.arange(0, 10, 0.1)
    x = np.where(t < 7, 1.0, 5.0)  # 7 s in one bin, 3 s in another
    occ = occupancy(_pos(t, x, np.full_like(t, 1.0)), bin_size=2.0, bounds=(0, 8, 0, 4))
    assert occ.dims == ("y", "x") and occ.attrs["units"] == "s"
    assert float(occ.sum()) == pytest.approx(10.0)
    assert float(occ.sel(x=1, y=1)) == pytest.approx(7.0) and float(occ.sel(x=5, y=1)) == pytest.approx(3.0)
    assert np.isnan(occ.sel(x=3, y=1))  # never visited
    np.testing.assert_allclose(occ.attrs["x_edges"], [0, 2, 4, 6, 8])


def test_occupancy_speed_threshold_and_gaps():
    t = np.r_[np.arange(0, 5, 0.1), np.arange(20, 25, 0.1)]  # a 15 s gap is not 15 s of dwell
    x = np.r_[np.full(50, 1.0), np.linspace(0, 10, 50)]
    occ = occupancy(_pos(t, x, np.ones_like(t)), bin_size=2.0, bounds=(0, 10, 0, 2))
    assert float(occ.sum()) == pytest.approx(10.0, abs=0.25)
    moving = occupancy(_pos(t, x, np.ones_like(t)), bin_size=2.0, bounds=(0, 10, 0, 2), min_speed=1.0)
    assert float(moving.sum()) == pytest.approx(5.0, abs=0.25)


def test_signal_by_position_recovers_a_known_field():
    rng = np.random.default_rng(0)
    t = np.arange(0, 600, 0.05)
    x, y = rng.uniform(0, 40, t.size), rng.uniform(0, 20, t.size)
    field = lambda a, b: 2 * a + 3 * b  # noqa: E731
    sig = xr.DataArray(field(x, y), dims=("time",), coords={"time": t}, attrs={"units": "Hz"}, name="rate")
    m = signal_by_position(_pos(t, x, y), sig, bin_size=4.0, bounds=(0, 40, 0, 20))
    xc, yc = np.meshgrid(m.x.values, m.y.values)
    np.testing.assert_allclose(m.values, field(xc, yc), atol=1.5)  # ~5 standard errors of a bin mean
    assert m.attrs["units"] == "Hz"


@pytest.mark.slow
def test_band_power_follows_theta_amplitude():
    fs = 1000.0
    t = np.arange(0, 20, 1 / fs)
    amp = np.where(t < 10, 100.0, 300.0)
    lfp = xr.DataArray((amp * np.sin(2 * np.pi * 8 * t))[:, None], dims=("time", "channel"), coords={"time": t}, attrs={"units": "uV"})
    p = band_power(lfp, (6, 10))
    assert p.attrs["units"] == "uV^2"
    early = float(p.sel(time=slice(3, 7)).mean())
    late = float(p.sel(time=slice(13, 17)).mean())
    assert late / early == pytest.approx(9.0, rel=0.05)
    with pytest.raises(NWBViewError, match="Invalid band"):
        band_power(lfp, (6, 900))


# -- the demo session, write-back and the CLI ---------------------------------------------------


def test_demo_movement_heatmap_shows_the_body_under_the_centre(demo_session):
    with nwbview.open(demo_session.nwb_path) as s:
        r = movement_heatmap(s, egocentric=True)
    h = r.heatmap.values
    c = r.radius
    body = h[c + 5 : c + 25, c - 4 : c + 5].mean()  # behind the head (below the centre when egocentric)
    assert r.parameters["polarity"] == "dark"  # a dark mouse on a light floor
    assert body > np.median(h) + 0.1


def test_demo_occupancy_follows_the_path(demo_session):
    with nwbview.open(demo_session.nwb_path) as s:
        pos = s.position()
        occ = nwbview.heatmap.occupancy(pos, bin_size=5.0, bounds=(0, 100, 0, 80))
    ok = np.isfinite(pos.values).all(1)
    ix = np.floor(pos.values[ok, 0] / 5).astype(int)
    iy = np.floor(pos.values[ok, 1] / 5).astype(int)
    visited = np.isfinite(occ.values)
    assert visited[iy, ix].all()
    assert visited.sum() == len(set(zip(iy, ix)))


@pytest.mark.parametrize("kind, extra", [("occupancy", []), ("signal", ["--signal", "lfp-power"]), ("movement", ["--egocentric"])])
@pytest.mark.slow
def test_cli_heatmap(demo_copy, kind, extra):
    out = demo_copy.parent / f"{kind}.svg"
    r = CliRunner().invoke(main, ["heatmap", str(demo_copy), "--kind", kind, "-o", str(out), "--write", *extra])
    assert r.exit_code == 0, r.output
    assert out.exists() and out.read_text().lstrip().startswith("<?xml")
    assert f"heatmap_{kind}_nwbview" in r.output


def test_cli_heatmap_bad_output(demo_copy):
    r = CliRunner().invoke(main, ["heatmap", str(demo_copy), "-o", str(demo_copy.parent / "x.bmpx")])
    assert r.exit_code == 1 and "Cannot write the figure" in r.output and "unknown file type" in r.output


def test_unreadable_frame_is_skipped_with_a_warning(tmp_path, monkeypatch):
    from nwbview.errors import VideoError
    from nwbview.io.video import VideoReader

    frames, head, tail = _dots(20, np.random.default_rng(5))
    bad = 7
    orig_iter, orig_gray = VideoReader.iter_frames, VideoReader.gray

    def iter_frames(self, start=0, stop=None, step=1, *, gray=False):
        for i, f in zip(range(start, stop), orig_iter(self, start, stop, step, gray=gray)):
            if i == bad:
                raise VideoError(f"frame {i} is corrupt")
            yield f

    def gray(self, key):
        if key == bad:
            raise VideoError("corrupt")
        return orig_gray(self, key)

    monkeypatch.setattr(VideoReader, "iter_frames", iter_frames)
    monkeypatch.setattr(VideoReader, "gray", gray)
    with nwbview.open(_session_file(tmp_path, frames, head, tail)) as s:
        with pytest.warns(NWBViewWarning, match="could not be read"):
            r = movement_heatmap(s, gamma=1.0, polarity="bright")
    assert r.frames_skipped["unreadable"] == 1 and r.frames_used == 19
    assert r.mean[r.radius, r.radius] == 255
