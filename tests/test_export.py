"""Annotated video export: frame-exact output, overlays in the right place, deterministic workers."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import nwbview
from nwbview.calibration import fit_landmarks, from_cm_per_px, read_landmarks_csv
from nwbview.cli import main
from nwbview.errors import CalibrationError, MissingFileError, NWBViewWarning
from nwbview.render import (
    ChannelError,
    EventOverlay,
    FieldOverlay,
    HeadDirectionOverlay,
    OutputPathError,
    PoseOverlay,
    PositionOverlay,
    TimeRangeError,
    TimeSeriesOverlay,
    TimestampOverlay,
    build_plan,
    default_timeseries,
    export_video,
    render_frames,
    snapshot,
)
from nwbview.render.encoding import encode_chunk
from nwbview.render.plan import Renderer
from nwbview.testing.video import decode_frames, read_frame_index, vfr_timestamps, write_test_video

W, H = 160, 120
T0 = 1.0  # the camera starts at 1 s on the session clock
FPS = 30.0
N = 600  # 20 s: four chunks of 150 frames (export_bounds)
CM_PER_PX = 0.5
MAGENTA, GREEN = (255, 0, 255), (0, 255, 0)
SNOUT_PX = (80.5, 60.5)  # centre of pixel (80, 60)
TAIL_PX = (40.5, 90.5)
POS_CM = (20.0, 30.0)  # -> pixel corner coords (40, 60) with 0.5 cm/px and y up from the bottom


# -- building small sessions ---------------------------------------------------------------


def _write_session(folder: Path, videos: dict, *, calibrate: bool = True, pose: bool = True, position: bool = True) -> Path:
    """An NWB file with external videos ({name: (file, timestamps, (w, h))}), pose, position, calibration."""
    from ndx_pose import PoseEstimation, PoseEstimationSeries, Skeleton, Skeletons
    from pynwb import NWBHDF5IO
    from pynwb.behavior import Position, SpatialSeries
    from pynwb.image import ImageSeries
    from pynwb.testing.mock.file import mock_NWBFile

    nwb = mock_NWBFile(session_id="export-test")
    behavior = nwb.create_processing_module("behavior", "behavior")
    series = {}
    for name, (file, t, (w, h)) in videos.items():
        series[name] = ImageSeries(
            name=name, description="synthetic", unit="n.a.", format="external", external_file=[file.name],
            starting_frame=[0], timestamps=t, dimension=[w, h],
        )  # fmt: skip
        nwb.add_acquisition(series[name])
    first = next(iter(videos))
    t = videos[first][1]
    if calibrate:
        behavior.add(from_cm_per_px(CM_PER_PX, (W, H)).to_nwb(series[first]))
    if position:
        n = int(25 * 50)
        behavior.add(Position(spatial_series=SpatialSeries(
            name="position", data=np.tile(POS_CM, (n, 1)), unit="cm", reference_frame="arena", starting_time=0.0, rate=50.0,
        )))  # fmt: skip
    if pose:
        conf_tail = np.where(np.arange(t.size) % 2 == 0, 1.0, 0.1)  # hidden on odd frames
        snout = PoseEstimationSeries(name="snout", data=np.tile(SNOUT_PX, (t.size, 1)), unit="pixels", reference_frame="top left", timestamps=t, confidence=np.ones(t.size))
        tail = PoseEstimationSeries(name="tail", data=np.tile(TAIL_PX, (t.size, 1)), unit="pixels", reference_frame="top left", timestamps=snout, confidence=conf_tail)
        skel = Skeleton(name="skeleton", nodes=["snout", "tail"], edges=np.array([[0, 1]], dtype="uint8"))
        behavior.add(Skeletons(skeletons=[skel]))
        behavior.add(PoseEstimation(name="PoseEstimation", pose_estimation_series=[snout, tail], skeleton=skel, source_video=series[first], source_software="test"))
    path = folder / "session.nwb"
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


@pytest.fixture(scope="module")
def cfr(tmp_path_factory):
    """600 frames of 160x120 at 30 fps from t = 1 s, GOP 50 with B-frames; pose, position, calibration."""
    folder = tmp_path_factory.mktemp("cfr")
    t = T0 + np.arange(N) / FPS
    video = write_test_video(folder / "video.mp4", N, size=(W, H), gop=50, bframes=2)
    nwb = _write_session(folder, {"BehaviorVideo": (video, t, (W, H))})
    return dict(nwb=nwb, video=video, t=t, ref=decode_frames(video), folder=folder)


def _read(path: Path):
    """Decoded RGB frames, their pts (seconds) and the stream's pixel format."""
    frames, times = [], []
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        fmt = st.codec_context.format.name
        for f in c.decode(st):
            frames.append(f.to_ndarray(format="rgb24"))
            times.append(float(f.pts * st.time_base))
    return np.stack(frames), np.asarray(times), fmt


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _column_rect(plan):
    x, y, w, h = plan.column_rect
    rx, ry, rw, rh = plan.column.rows[0].rect
    return x + rx, y + ry, rw, rh


# -- frame-exact output ----------------------------------------------------------------------


@pytest.mark.slow
def test_bare_export_is_the_source_frame_for_frame_from_mid_gop(cfr, tmp_path):
    out = export_video(cfr["nwb"], tmp_path / "bare.mp4", start=2.3, stop=9.0, overlays=[], timeseries=[], workers=1, progress=False)
    frames, times, fmt = _read(out)
    t = cfr["t"]
    first = int(np.searchsorted(t, 2.3))  # frame 39: inside the GOP that starts at 0 (mid-GOP start)
    last = int(np.searchsorted(t, 9.0))
    assert first % 50 != 0
    assert fmt == "yuv420p" and frames.shape == (last - first, H, W, 3)
    for i, img in enumerate(frames):
        assert read_frame_index(img) == first + i
        assert psnr(img, cfr["ref"][first + i]) > 35
    np.testing.assert_allclose(times, t[first:last] - t[first], atol=1.5 / 90000)


@pytest.mark.slow
def test_vfr_source_keeps_its_timing(tmp_path):
    n = 150
    t = 0.5 + vfr_timestamps(n, 30.0, n_gaps=3, seed=2)
    video = write_test_video(tmp_path / "vfr.mp4", n, size=(W, H), timestamps=t - t[0], gop=40)
    nwb = _write_session(tmp_path, {"cam": (video, t, (W, H))}, pose=False, position=False)
    out = export_video(nwb, tmp_path / "vfr_out.mp4", overlays=[], timeseries=[], progress=False)
    frames, times, _ = _read(out)
    ref = decode_frames(video)
    assert frames.shape[0] == n
    for i, img in enumerate(frames):
        assert read_frame_index(img) == i
        assert psnr(img, ref[i]) > 35
    np.testing.assert_allclose(times, t - t[0], atol=1.5 / 90000)


@pytest.mark.slow
def test_fps_gives_a_constant_rate_on_the_nearest_frames(cfr, tmp_path):
    out = export_video(cfr["nwb"], tmp_path / "cfr10.mp4", start=2.0, stop=4.0, overlays=[], timeseries=[], fps=10, progress=False)
    frames, times, _ = _read(out)
    assert len(frames) == 20
    np.testing.assert_allclose(np.diff(times), 0.1, atol=1e-6)
    want = [int(round((2.0 + k / 10 - T0) * FPS)) for k in range(20)]
    assert [read_frame_index(f) for f in frames] == want


def _packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(video=0) if p.size]


@pytest.mark.slow
def test_a_chunk_encodes_the_same_twice_and_wherever_it_starts(cfr, tmp_path):
    """The bit-identical promise at its root: one chunk, encoded twice in one process, gives
    the same packets, and so does the same chunk encoded after another one by the same renderer."""
    s = nwbview.open(cfr["nwb"])
    plan = build_plan(s, overlays=[PoseOverlay(s.pose()), TimestampOverlay()])
    try:
        fresh = Renderer(plan)
        encode_chunk(fresh, plan, 240, 300, str(tmp_path / "a.mp4"), 23, "veryfast")
        encode_chunk(fresh, plan, 240, 300, str(tmp_path / "b.mp4"), 23, "veryfast")
        used = Renderer(plan)
        encode_chunk(used, plan, 200, 240, str(tmp_path / "before.mp4"), 23, "veryfast")
        encode_chunk(used, plan, 240, 300, str(tmp_path / "c.mp4"), 23, "veryfast")
    finally:
        plan.close()
    a = _packets(tmp_path / "a.mp4")
    assert len(a) == 60
    assert a == _packets(tmp_path / "b.mp4") == _packets(tmp_path / "c.mp4")
    with av.open(str(tmp_path / "a.mp4")) as c:  # BT.601 limited range, said in the stream
        f = next(c.decode(video=0))
        assert (int(f.colorspace), int(f.color_range)) == (6, 1)


@pytest.mark.slow
def test_workers_give_identical_frames(cfr, tmp_path):
    t = np.arange(0, 25, 0.002)
    v = np.sin(2 * np.pi * 3 * t)
    v[(t > 8) & (t < 9)] = np.nan
    column = [TimeSeriesOverlay(_signal(t, v), window_s=2.0)]
    overlays = [PoseOverlay(nwbview.open(cfr["nwb"]).pose()), TimestampOverlay()]
    decoded = {}
    for n in (1, 2, 3):
        out = export_video(cfr["nwb"], tmp_path / f"w{n}.mp4", timeseries=column, overlays=overlays, workers=n, progress=False)
        with av.open(str(out)) as c:
            decoded[n] = [(f.pts, f.to_ndarray(format="yuv420p").tobytes()) for f in c.decode(video=0)]
    assert len(decoded[1]) == N
    for n in (2, 3):
        differ = [i for i, (a, b) in enumerate(zip(decoded[1], decoded[n])) if a != b]
        assert not differ, f"{n} workers: frames {differ[:10]} differ from 1 worker's"


# -- overlays land where the data say --------------------------------------------------------


@pytest.mark.slow
def test_keypoint_and_position_land_on_their_pixels(cfr, tmp_path):
    s = nwbview.open(cfr["nwb"])
    cal = s.calibration()
    assert cal is not None
    px, py = cal.world_to_pixels(np.array(POS_CM))
    overlays = [
        PoseOverlay(s.pose(), colors={"snout": MAGENTA, "tail": (0, 0, 255)}, radius=5, edges=[]),
        PositionOverlay(s.position(), trail_s=0, color=GREEN, radius=5),
    ]
    plan = build_plan(s, start=2.0, stop=2.2, overlays=overlays, timeseries=[])
    f0, f1 = list(render_frames(plan, [0, 1]))
    assert tuple(f0[60, 80]) == MAGENTA  # the snout's pixel
    assert tuple(f0[int(py), int(px)]) == GREEN  # the calibration's pixel for (20, 30) cm
    assert (int(px), int(py)) == (40, 60)
    even = 0 if plan.panels[0].frames[0] % 2 == 0 else 1
    assert tuple((f0, f1)[even][90, 40]) == (0, 0, 255)  # confident tail shown
    assert tuple((f0, f1)[1 - even][90, 40]) != (0, 0, 255)  # low confidence: hidden
    # and through the encoder, at 4x: both still land on their pixels
    out = export_video(s, tmp_path / "ov.mp4", start=2.0, stop=2.2, overlays=overlays, timeseries=[], size=(640, 480), crf=12, progress=False)
    frames, _, _ = _read(out)
    assert frames.shape[1:] == (480, 640, 3)
    assert np.abs(frames[0][60 * 4 + 2, 80 * 4 + 2].astype(int) - MAGENTA).max() < 40
    assert np.abs(frames[0][int(py * 4), int(px * 4)].astype(int) - GREEN).max() < 40


def test_world_overlay_without_calibration(tmp_path):
    video = write_test_video(tmp_path / "v.mp4", 30, size=(W, H))
    nwb = _write_session(tmp_path, {"cam": (video, np.arange(30) / 30.0, (W, H))}, calibrate=False, pose=False)
    s = nwbview.open(nwb)
    with pytest.raises(CalibrationError, match="calibration"):
        build_plan(s, overlays=[PositionOverlay(s.position())], timeseries=[])
    with pytest.warns(NWBViewWarning, match="PositionOverlay not drawn"):  # defaults: skipped, said
        plan = build_plan(s, timeseries=[])
    assert not any(type(d).__name__ == "_PositionDrawer" for d in plan.panels[0].drawers)
    # an explicit calibration fixes it
    plan = build_plan(s, overlays=[PositionOverlay(s.position(), trail_s=0, color=GREEN)], timeseries=[], calibration=from_cm_per_px(CM_PER_PX, (W, H)))
    assert tuple(next(render_frames(plan, [0]))[60, 40]) == GREEN


def test_head_direction_field_and_events(cfr):
    s = nwbview.open(cfr["nwb"])
    t = np.arange(0, 25, 0.02)
    hd = xr.DataArray(np.zeros(t.size), dims="time", coords={"time": t}, attrs={"units": "radians"})
    field = xr.DataArray(np.full((8, 10), np.nan), dims=("y", "x"), coords={"y": np.arange(8) * 5 + 2.5, "x": np.arange(10) * 5 + 2.5})
    field[6, 4] = 1.0  # the bin centred on (22.5, 32.5) cm: pixels x 40..50, y 50..60
    events = EventOverlay(np.array([[2.0, 2.1]]), label="stim", color=(255, 0, 0))
    overlays = [FieldOverlay(field, cmap="gray", alpha=1.0, vmin=0, vmax=1), HeadDirectionOverlay(hd, s.position(), length=10, color=(0, 0, 255)), events]
    plan = build_plan(s, start=1.95, stop=2.2, overlays=overlays, timeseries=[])
    frames = list(render_frames(plan))
    times = plan.times
    img = frames[0]
    assert tuple(img[55, 45]) == (255, 255, 255)  # the hot bin, warped through the calibration
    assert tuple(img[60, 49]) == (0, 0, 255)  # the arrow points along world +x (image right)
    red = [bool(np.any(np.all(f[:30] == (255, 0, 0), axis=-1))) for f in frames]
    assert red == [bool(2.0 <= ti < 2.1) for ti in times]


def test_arena_view_without_video(cfr):
    s = nwbview.open(cfr["nwb"])
    overlays = [PositionOverlay(s.position(), trail_s=1.0, color=GREEN, radius=4), PoseOverlay(s.pose(), colors={"snout": MAGENTA}, edges=[])]
    assert len(build_plan(s, start=2.0, stop=3.0, video=False, overlays=overlays, timeseries=[])) == 30  # 30 fps by default
    plan = build_plan(s, start=2.0, stop=3.0, video=False, overlays=overlays, timeseries=[], fps=10)
    assert len(plan) == 10 and plan.constant_rate and plan.panels[0].name == "arena"
    geom = plan.panels[0].geometry
    img = next(render_frames(plan, [5]))
    x, y = geom.to_panel(np.array(POS_CM), "world")
    assert tuple(img[int(y), int(x)]) == GREEN
    x, y = geom.to_panel(np.array(SNOUT_PX), "pixel")  # pixel data reach the arena through the calibration
    assert tuple(img[int(y), int(x)]) == MAGENTA
    np.testing.assert_allclose(geom.to_panel(np.array(SNOUT_PX), "pixel"), geom.arena.world_to_pixels(s.calibration().pixels_to_world(SNOUT_PX)))


def test_two_cameras_side_by_side_on_one_clock(tmp_path):
    t1 = 1.0 + np.arange(90) / 30.0
    t2 = 1.0 + np.arange(45) / 15.0 + 0.01
    v1 = write_test_video(tmp_path / "a.mp4", 90, size=(W, H))
    v2 = write_test_video(tmp_path / "b.mp4", 45, size=(128, 96), fps=15)
    nwb = _write_session(tmp_path, {"top": (v1, t1, (W, H)), "side": (v2, t2, (128, 96))}, position=False, pose=False)
    s = nwbview.open(nwb)
    kp = xr.Dataset(
        {"position": (("time", "space", "keypoint"), np.tile([[30.5], [40.5]], (45, 1, 1)))},
        coords={"time": t2, "space": ["x", "y"], "keypoint": ["nose"]},
        attrs={"coordinates": "pixel"},
    )
    overlays = [PoseOverlay(kp, video="side", colors={"nose": MAGENTA}, radius=3)]
    plan = build_plan(s, start=1.5, stop=2.5, video=["top", "side"], overlays=overlays, timeseries=[])
    (_, _, w1, h1), (x2, _, w2, h2) = plan.panels[0].rect, plan.panels[1].rect
    assert (w1, h1) == (W, H) and (w2, h2) == (160, 120) and x2 == W
    side = s.video("side")
    for k, img in zip(range(len(plan)), render_frames(plan)):
        assert read_frame_index(img[:, :W]) == plan.panels[0].frames[k]
        assert read_frame_index(img[:, x2 : x2 + w2]) == side.frame_at(plan.times[k])
        assert tuple(img[int(40.5 * 1.25), x2 + int(30.5 * 1.25)]) == MAGENTA  # in the side camera's pixels
    out = export_video(s, tmp_path / "two.mp4", start=1.5, stop=2.5, video=["top", "side"], overlays=overlays, timeseries=[], progress=False)
    frames, _, _ = _read(out)
    assert frames.shape == (len(plan), H, 2 * W, 3)


# -- the column ------------------------------------------------------------------------------


def _signal(t, values, name="sig", units="a.u."):
    return xr.DataArray(values, dims="time", coords={"time": t}, name=name, attrs={"units": units})


def _trace_columns(img, rect, color):
    x, y, w, h = rect
    ax = img[y : y + h, x : x + w].astype(int)
    return np.all(np.abs(ax - color) < 100, axis=-1) & (np.abs(ax - color).sum(axis=-1) < 160)  # (h, w) trace pixels


def test_step_crosses_the_cursor_at_its_time(cfr):
    t = np.arange(0, 25, 0.01)
    step = _signal(t, (t >= 5.0).astype(float), "step")
    red = (255, 0, 0)
    plan = build_plan(cfr["nwb"], start=4.0, stop=6.0, overlays=[], timeseries=[TimeSeriesOverlay(step, color=red, window_s=2.0, interp="nearest", thickness=2)])
    rect = _column_rect(plan)
    w = rect[2]
    k5 = int(np.flatnonzero(np.isclose(plan.times, 5.0))[0])
    for k in (k5, k5 + 15):  # at 5 s and half a second later
        img = next(render_frames(plan, [k]))
        on = _trace_columns(img, rect, red)
        rows = np.flatnonzero(on.any(axis=1))
        top, bottom = rows.min(), rows.max()
        # the vertical jump: a column with trace pixels at both levels and in between
        jump = [c for c in range(w) if on[top:bottom + 1, c].sum() > (bottom - top) * 0.6]
        expected = w / 2 - (plan.times[k] - 5.0) * w / 2.0
        assert jump and abs(np.mean(jump) - expected) <= 1.5, (k, jump, expected)
    readout = plan.column.rows[0].traces[0].readout
    assert readout[k5 - 1] == 0.0 and readout[k5] == 1.0


def test_nan_stretch_is_a_gap_and_an_empty_window_draws_nothing(cfr):
    t = np.arange(0, 25, 0.01)
    v = np.full(t.size, -1.0)
    v[(t >= 5.0) & (t < 5.5)] = np.nan
    red = (255, 0, 0)
    early = _signal(np.arange(0, 1.5, 0.01), np.ones(150), "early")  # no sample after 1.5 s
    empty = _signal(np.empty(0), np.empty(0), "empty")
    specs = [TimeSeriesOverlay(_signal(t, v), color=red, window_s=2.0, vmin=-1.2, vmax=1.2, thickness=2),
             TimeSeriesOverlay(early, color=(0, 0, 255)), TimeSeriesOverlay(empty, color=(0, 200, 0))]  # fmt: skip
    plan = build_plan(cfr["nwb"], start=5.0, stop=5.5, overlays=[], timeseries=specs, size=(800, 600))
    img = next(render_frames(plan, [0]))  # t = 5.0: the gap fills the right half's first quarter
    below_readout = plan.column.atlas.height + 4
    x, y, w, h = _column_rect(plan)
    on = _trace_columns(img, (x, y, w, h), red)
    cols = on[below_readout:].any(axis=0)
    gap = slice(w // 2 + 2, (w * 3) // 4 - 2)
    assert not cols[gap].any()
    assert cols[2 : w // 2 - 1].all() and cols[(w * 3) // 4 + 2 : w - 2].all()
    for r, color in ((1, (0, 0, 255)), (2, (0, 200, 0))):
        rx, ry, rw, rh = plan.column.rows[r].rect
        rect = (plan.column_rect[0] + rx, ry, rw, rh)
        assert not _trace_columns(img, rect, color)[below_readout:].any()


def test_group_settings_conflict_warns_first_wins(cfr):
    t = np.arange(0, 25, 0.01)
    a = TimeSeriesOverlay(_signal(t, np.sin(t)), group="g", window_s=2.0)
    b = TimeSeriesOverlay(_signal(t, np.cos(t)), group="g", window_s=4.0)
    with pytest.warns(NWBViewWarning, match="window_s"):
        plan = build_plan(cfr["nwb"], start=2.0, stop=3.0, overlays=[], timeseries=[a, b])
    assert len(plan.column.rows) == 1 and plan.column.rows[0].window == 2.0
    assert len(plan.column.rows[0].traces) == 2


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_bad_inputs_raise_clear_errors(cfr, tmp_path):
    s = nwbview.open(cfr["nwb"])
    with pytest.raises(TimeRangeError, match="must be after start"):
        export_video(s, tmp_path / "x.mp4", start=5, stop=3, progress=False)
    with pytest.raises(TimeRangeError, match="frames span"):
        export_video(s, tmp_path / "x.mp4", start=100, stop=200, progress=False)
    with pytest.raises(OutputPathError, match="does not exist"):
        export_video(s, tmp_path / "no" / "x.mp4", progress=False)
    with pytest.raises(OutputPathError, match="unknown file type"):
        export_video(s, tmp_path / "x.gif", progress=False)
    with pytest.raises(ChannelError, match="channel 7"):
        default_timeseries(nwbview.open(_lfp_session(tmp_path)), lfp_channel=7)
    assert not list(tmp_path.glob("x*")) and not list(tmp_path.glob(".x*"))


def _lfp_session(folder: Path) -> Path:
    from pynwb import NWBHDF5IO
    from pynwb.ecephys import LFP, ElectricalSeries
    from pynwb.testing.mock.file import mock_NWBFile

    nwb = mock_NWBFile()
    dev = nwb.create_device("probe")
    group = nwb.create_electrode_group("shank", description="s", location="CA1", device=dev)
    for _ in range(2):
        nwb.add_electrode(group=group, location="CA1")
    region = nwb.create_electrode_table_region([0, 1], "all")
    lfp = LFP(name="LFP")
    nwb.create_processing_module("ecephys", "ecephys").add(lfp)
    lfp.add_electrical_series(ElectricalSeries(name="lfp", data=np.zeros((100, 2)), electrodes=region, starting_time=0.0, rate=100.0))
    path = folder / "lfp.nwb"
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def test_missing_video_and_failed_export_leave_no_file(cfr, tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "moved"
    folder.mkdir()
    shutil.copy(cfr["nwb"], folder / "session.nwb")  # without its video
    with pytest.raises(MissingFileError, match="not found"):
        export_video(folder / "session.nwb", tmp_path / "m.mp4", progress=False)

    calls = {"n": 0}
    real = Renderer.render

    def failing(self, k):
        calls["n"] += 1
        if calls["n"] > 300:
            raise RuntimeError("boom")
        return real(self, k)

    monkeypatch.setattr(Renderer, "render", failing)
    target = tmp_path / "fail.mp4"
    with pytest.raises(RuntimeError, match="boom"):
        export_video(cfr["nwb"], target, overlays=[], timeseries=[], workers=1, progress=False)
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moved"]


# -- the demo session, end to end, and the CLI ----------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from nwbview.demo import make_demo_session

    return make_demo_session(tmp_path_factory.mktemp("demo"), duration=4)


@pytest.mark.slow
def test_demo_exports_with_defaults(demo, tmp_path):
    labels, pix, world = read_landmarks_csv(demo.landmarks_csv)
    cal = fit_landmarks(pix, world, labels=labels, frame_dimension=(640, 480))
    out = export_video(demo.nwb_path, tmp_path / "demo.mp4", calibration=cal, progress=False)
    with av.open(str(out)) as c:
        st = c.streams.video[0]
        n = sum(1 for _ in c.decode(st))
        assert (st.codec_context.width, st.codec_context.height) == (640 + 360, 480)
        assert st.codec_context.name == "h264"
    assert n == demo.truth["n_frames"]
    plan = build_plan(demo.nwb_path, start=1.0, stop=1.1, calibration=cal)
    kinds = sorted(type(d).__name__ for d in plan.panels[0].drawers)
    assert kinds == ["_PoseDrawer", "_PositionDrawer", "_TimestampDrawer"]
    assert [tr.label for row in plan.column.rows for tr in row.traces] == ["speed", "LFP ch0"]


@pytest.mark.slow
def test_cli_export_and_snapshot(demo, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli.mp4"
    r = runner.invoke(main, ["export", str(demo.nwb_path), "-o", str(out), "--start", "1", "--stop", "2", "--landmarks", str(demo.landmarks_csv), "--size", "640x360", "--no-show-speed", "--events", "running_bouts", "--head-direction", "--quiet"])
    assert r.exit_code == 0, r.output
    with av.open(str(out)) as c:
        assert (c.streams.video[0].codec_context.width, c.streams.video[0].codec_context.height) == (640, 360)
    png = tmp_path / "frame.png"
    r = runner.invoke(main, ["snapshot", str(demo.nwb_path), "--time", "2.5", "-o", str(png), "--landmarks", str(demo.landmarks_csv)])
    assert r.exit_code == 0, r.output
    from PIL import Image

    assert Image.open(png).size == (1000, 480)
    snap = snapshot(demo.nwb_path, tmp_path / "api.png", time=2.5, overlays=[], timeseries=[])
    assert Image.open(snap).size == (640, 480)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--start", "3", "--stop", "1"], "must be after start"),
        (["--lfp-channel", "9"], "LFP channel 9 does not exist"),
        (["--size", "big"], "Invalid size"),
    ],
)
@pytest.mark.slow
def test_cli_bad_input_exits_1_with_one_line(demo, tmp_path, args, message):
    r = CliRunner().invoke(main, ["export", str(demo.nwb_path), "-o", str(tmp_path / "bad.mp4"), *args])
    assert r.exit_code == 1
    lines = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in r.output
    assert not (tmp_path / "bad.mp4").exists()


def test_a_killed_exports_leftovers_are_removed_by_the_next(cfr, tmp_path):
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    out = tmp_path / "clip.mp4"
    part = tmp_path / f".clip.mp4.nwbview-tmp-{p.pid}-0123abcd.mp4"
    chunks = tmp_path / f".clip.mp4.nwbview-tmp-{p.pid}-4567abcd.d"
    part.write_bytes(b"\0" * 1000)
    chunks.mkdir()
    (chunks / "chunk_000000.mp4").write_bytes(b"\0" * 1000)
    export_video(cfr["nwb"], out, start=2.0, stop=2.5, overlays=[], timeseries=[], progress=False)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["clip.mp4"]


# -- the 0.2 vocabulary: old names give an error naming the new one --------------------------


def _intervals_session(folder: Path) -> Path:
    from pynwb import NWBHDF5IO
    from pynwb.epoch import TimeIntervals
    from pynwb.testing.mock.file import mock_NWBFile

    nwb = mock_NWBFile()
    table = TimeIntervals(name="running_bouts", description="bouts")
    table.add_row(start_time=1.0, stop_time=2.0)
    nwb.add_time_intervals(table)
    path = folder / "intervals.nwb"
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _renamed_calls():
    from nwbview.jobs import export_job, snapshot_job
    from nwbview.render import default_overlays

    t = np.arange(10.0)
    xy = xr.DataArray(np.zeros((10, 2)), dims=("time", "space"), coords={"time": t, "space": ["x", "y"]})
    sig = xr.DataArray(np.zeros(10), dims="time", coords={"time": t})
    return [
        pytest.param(lambda p: export_video(p, path="x.mp4"), "output", id="export_video-path"),
        pytest.param(lambda p: export_video(p, "x.mp4", n_workers=2), "workers", id="export_video-n_workers"),
        pytest.param(lambda p: snapshot(p, "x.png", t=1.0), "time", id="snapshot-t"),
        pytest.param(lambda p: snapshot(p, path="x.png", time=1.0), "output", id="snapshot-path"),
        pytest.param(lambda p: build_plan(p, at=1.0), "time", id="build_plan-at"),
        pytest.param(lambda p: PositionOverlay(xy, trail_seconds=1.0), "trail_s", id="PositionOverlay-trail_seconds"),
        pytest.param(lambda p: PositionOverlay(xy, frame="world"), "coordinates", id="PositionOverlay-frame"),
        pytest.param(lambda p: PoseOverlay(xy, frame="pixel"), "coordinates", id="PoseOverlay-frame"),
        pytest.param(lambda p: HeadDirectionOverlay(sig, xy, frame="world"), "coordinates", id="HeadDirectionOverlay-frame"),
        pytest.param(lambda p: TimeSeriesOverlay(sig, window_seconds=2.0), "window_s", id="TimeSeriesOverlay-window_seconds"),
        pytest.param(lambda p: default_overlays(p, trail_seconds=2.0), "trail_s", id="default_overlays-trail_seconds"),
        pytest.param(lambda p: default_overlays(p, timestamp=False), "show_time", id="default_overlays-timestamp"),
        pytest.param(lambda p: default_timeseries(p, speed=False), "show_speed", id="default_timeseries-speed"),
        pytest.param(lambda p: default_timeseries(p, window_seconds=2.0), "window_s", id="default_timeseries-window_seconds"),
        pytest.param(lambda p: default_timeseries(p, speed_smooth_s=0.5), "smooth_s", id="default_timeseries-speed_smooth_s"),
        pytest.param(lambda p: default_timeseries(p, lfp_channel=None), "show_lfp=False", id="default_timeseries-lfp_channel-None"),
        pytest.param(lambda p: export_job(p, trail=2.0), "trail_s", id="export_job-trail"),
        pytest.param(lambda p: export_job(p, window=2.0), "window_s", id="export_job-window"),
        pytest.param(lambda p: export_job(p, speed=False), "show_speed", id="export_job-speed"),
        pytest.param(lambda p: export_job(p, no_lfp=True), "show_lfp=False", id="export_job-no_lfp"),
        pytest.param(lambda p: snapshot_job(p, "x.png", t=1.0), "time", id="snapshot_job-t"),
        pytest.param(lambda p: snapshot_job(p, "x.png", time=1.0, window=2.0), "window_s", id="snapshot_job-window"),
    ]


@pytest.mark.parametrize("call, new", _renamed_calls())
def test_renamed_keywords_raise_naming_the_new_one(call, new, tmp_path):
    """0.1's keywords are refused before anything is read or written, with the 0.2 name."""
    from nwbview.errors import RenamedError

    with pytest.raises(RenamedError, match="nwbview 0.2") as info:
        call(str(tmp_path / "missing.nwb"))
    assert new in str(info.value)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("keyword", ["pose", "position", "head_direction"])
@pytest.mark.slow
def test_a_bool_for_a_stream_name_says_use_show(demo, keyword, tmp_path):
    from nwbview.errors import NWBViewError
    from nwbview.jobs import export_job
    from nwbview.render import default_overlays

    with nwbview.open(demo.nwb_path) as s:
        for value in (True, False):
            with pytest.raises(NWBViewError, match=f"show_{keyword}={value}"):
                default_overlays(s, **{keyword: value})
    with pytest.raises(NWBViewError, match=f"show_{keyword}=True"):
        export_job(demo.nwb_path, output=tmp_path / "x.mp4", **{keyword: True})
    assert not (tmp_path / "x.mp4").exists()


def test_streams_by_name_and_switches(demo, tmp_path):
    """Naming a stream shows it; switches turn kinds off; a name with its switch off is refused."""
    from nwbview.errors import NWBViewError, StreamNotFoundError
    from nwbview.render import default_overlays

    def kinds(overlays):
        return sorted(type(o).__name__ for o in overlays)

    with nwbview.open(demo.nwb_path) as s:
        assert kinds(default_overlays(s)) == ["PoseOverlay", "PositionOverlay", "TimestampOverlay"]
        hd = s.inventory().of_kind("head_direction")[0].name
        assert "HeadDirectionOverlay" in kinds(default_overlays(s, head_direction=hd))  # named: shown
        assert "HeadDirectionOverlay" in kinds(default_overlays(s, show_head_direction=True))
        assert kinds(default_overlays(s, show_pose=False, show_position=False, show_time=False)) == []
        with pytest.raises(NWBViewError, match="show_pose=False"):
            default_overlays(s, pose="PoseEstimation", show_pose=False)
        with pytest.raises(StreamNotFoundError, match="nosuchpose"):  # Session.find_stream's one rule
            default_overlays(s, pose="nosuchpose")
        events = default_overlays(s, events=["running_bouts"], show_pose=False, show_position=False, show_time=False)
        assert kinds(events) == ["EventOverlay"]
        with pytest.raises(StreamNotFoundError, match="running_bouts"):  # the candidates are listed
            default_overlays(s, events=["no_such_table"])
        assert [t.label for t in default_timeseries(s, show_speed=False)] == ["LFP ch0"]
        assert [t.label for t in default_timeseries(s, show_lfp=False)] == ["speed"]
        with pytest.raises(NWBViewError, match="show_lfp=False"):
            default_timeseries(s, lfp="lfp", show_lfp=False)
    from nwbview.jobs import snapshot_job

    with pytest.raises(NWBViewError, match="snapshot_job\\(\\) has no option 'workers'"):
        snapshot_job(demo.nwb_path, tmp_path / "x.png", time=1.0, workers=2)


def test_intervals_found_by_find_stream(tmp_path):
    from nwbview.render import default_overlays

    with nwbview.open(_intervals_session(tmp_path)) as s:
        (ev,) = default_overlays(s, events=["intervals/running_bouts"], show_time=False)
        starts, stops, labels = ev.table()
        assert (starts.tolist(), stops.tolist(), labels) == ([1.0], [2.0], ["intervals/running_bouts"])


@pytest.mark.parametrize(
    "command, old, new",
    [
        (["export", "-o", "{out}.mp4"], ["--trail", "3"], "--trail-s"),
        (["export", "-o", "{out}.mp4"], ["--window", "3"], "--window-s"),
        (["snapshot", "-o", "{out}.png", "--time", "1"], ["--trail", "x"], "--trail-s"),
        (["snapshot", "-o", "{out}.png", "--time", "1"], ["--window", "3"], "--window-s"),
    ],
)
def test_cli_renamed_options_exit_1_naming_the_new_one(demo, tmp_path, command, old, new):
    args = [command[0], str(demo.nwb_path), *(a.format(out=tmp_path / "out") for a in command[1:]), *old]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1, r.output
    assert f"{old[0]} was renamed in nwbview 0.2: use {new}" in r.output
    assert not list(tmp_path.iterdir())
    shown = CliRunner().invoke(main, [command[0], "--help"]).output
    assert new in shown and f"{old[0]} " not in shown  # hidden


def test_cli_content_options_map_to_the_job(demo, tmp_path, monkeypatch):
    """--trail-s, --window-s, --no-show-speed, --no-show-lfp, --pose NAME, --head-direction reach the job as its keywords."""
    from nwbview import jobs
    from nwbview.cli import content_kwargs
    from nwbview.errors import NWBViewError

    seen = {}

    def fake(source, output, **kw):
        seen.update(kw, source=source, output=output)
        return jobs.JobResult(str(source), "snapshot", summary="ok")

    monkeypatch.setattr(jobs, "snapshot_job", fake)
    r = CliRunner().invoke(main, ["snapshot", str(demo.nwb_path), "--time", "2", "-o", str(tmp_path / "a.png"), "--trail-s", "3",
                                  "--window-s", "4", "--no-show-speed", "--no-show-lfp", "--pose", "PoseEstimation", "--head-direction"])
    assert r.exit_code == 0, r.output
    assert {k: seen[k] for k in ("time", "trail_s", "window_s", "show_speed", "show_lfp", "pose", "show_pose", "head_direction",
                                 "show_head_direction", "position", "show_position")} == dict(
        time=2.0, trail_s=3.0, window_s=4.0, show_speed=False, show_lfp=False, pose="PoseEstimation", show_pose=True,
        head_direction=None, show_head_direction=True, position=None, show_position=True)
    with pytest.raises(NWBViewError, match="--lfp lfp and --no-show-lfp"):
        content_kwargs({"lfp": "lfp", "show_lfp": False})
    assert content_kwargs({"pose": None, "show_pose": False})["show_pose"] is False
    for old, new in (("--no-pose", "--no-show-pose"), ("--no-speed", "--no-show-speed"), ("--no-lfp", "--no-show-lfp")):
        r = CliRunner().invoke(main, ["snapshot", str(demo.nwb_path), "--time", "2", "-o", str(tmp_path / "b.png"), old])
        assert r.exit_code == 1 and f"use {new} instead" in r.output, r.output


# -- workers and a light `import nwbview` -----------------------------------------------------


def test_import_nwbview_is_light():
    import subprocess
    import sys

    heavy = ["matplotlib", "av", "cv2", "scipy", "napari", "xarray", "pandas", "pynwb", "h5py"]
    code = f"import sys, nwbview; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


@pytest.mark.slow
def test_workers_start_as_a_module_with_the_parents_nwbview(cfr, tmp_path, monkeypatch):
    """A decoy `nwbview` in the working folder is not what the workers import."""
    from nwbview.render.workers import worker_command

    assert worker_command("job.pkl")[1:] == ["-P", "-m", "nwbview.render.workers", "job.pkl"]
    decoy = tmp_path / "cwd"
    (decoy / "nwbview").mkdir(parents=True)
    (decoy / "nwbview" / "__init__.py").write_text("raise ImportError('the decoy nwbview was imported')\n")
    monkeypatch.chdir(decoy)
    out = export_video(cfr["nwb"], tmp_path / "w.mp4", start=1.0, stop=18.0, overlays=[TimestampOverlay()], timeseries=[], workers=2,
                       progress=False)
    frames, _, _ = _read(out)
    assert len(frames) == int(np.searchsorted(cfr["t"], 18.0)) and len(frames) > 2 * 240


def test_a_worker_refuses_another_nwbview(tmp_path):
    import json
    import subprocess

    from nwbview.render.workers import PACKAGE_ENV, worker_command, worker_env

    env = dict(worker_env(), **{PACKAGE_ENV: str(tmp_path)})
    r = subprocess.run(worker_command(str(tmp_path / "job.pkl")), env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    kind, _, info = r.stdout.strip().partition(" ")
    assert kind == "error" and json.loads(info)["user"] and str(tmp_path) in json.loads(info)["message"]


def test_heatmap_figure_without_pyplot(tmp_path):
    """plot_heatmap makes a Figure outside pyplot; a pixel map is drawn y down (attrs['coordinates'])."""
    from nwbview.render.figures import plot_heatmap

    def occupancy(coordinates):
        return xr.DataArray(
            np.arange(6.0).reshape(2, 3), dims=("y", "x"), coords={"y": [5.0, 15.0], "x": [5.0, 15.0, 25.0]}, name="occupancy",
            attrs={"x_edges": [0, 10, 20, 30], "y_edges": [0, 10, 20], "coordinates": coordinates, "kind": "occupancy",
                   "bin_size": 10, "space_unit": "px" if coordinates == "pixel" else "cm", "units": "s"},
        )  # fmt: skip

    fig = plot_heatmap(occupancy("pixel"), tmp_path / "occ.png")
    assert fig.canvas.manager is None  # not a pyplot figure: nothing to close
    assert fig.axes[0].yaxis_inverted() and (tmp_path / "occ.png").stat().st_size > 0
    assert not plot_heatmap(occupancy("world")).axes[0].yaxis_inverted()
