"""The napari viewer on the demo session (run under a display: ``xvfb-run -a python -m pytest``).

The demo session (4 s, a mouse in a 100 x 80 cm arena seen at 5.6 px/cm, the arena's south-west
corner at pixel (40, 464)) is shown twice: as recorded (no calibration: the view is in video
pixels, world-coordinate position and head direction are left out) and calibrated from its
landmarks (the view is in world coordinates, cm, y up). Known points check the placement: the painted red
cross at world (25, 55) cm is at pixel (180, 156).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import nwbview
from nwbview.errors import NWBViewError, NWBViewWarning

# napari keeps window geometry and other settings in a user file it rewrites on close: use a
# private one, so the tests neither depend on nor change the user's napari settings
os.environ.setdefault("NAPARI_CONFIG", os.path.join(tempfile.mkdtemp(prefix="nwbview-napari-"), "settings.yaml"))

pytestmark = [
    pytest.mark.napari,
    pytest.mark.skipif(importlib.util.find_spec("napari") is None, reason="needs the napari extra"),
]

RED_CROSS_CM = (25.0, 55.0)
RED_CROSS_PX = (180.0, 156.0)
CORNERS = ["bottom_left", "bottom_right", "top_right", "top_left"]


# -- fixtures --------------------------------------------------------------------------------------


def _copy_demo(demo_session, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for p in Path(demo_session.nwb_path).parent.iterdir():
        shutil.copy2(p, folder / p.name)
    return folder / Path(demo_session.nwb_path).name


@pytest.fixture(scope="module")
def calibrated_path(demo_session, tmp_path_factory) -> Path:
    """A copy of the demo with the calibration fitted to its landmarks stored in it."""
    from nwbview.jobs import calibrate_job

    path = _copy_demo(demo_session, tmp_path_factory.mktemp("napari-cal"))
    calibrate_job(path, landmarks=path.parent / "demo_landmarks.csv")
    return path


def _process(n: int = 3) -> None:
    from qtpy.QtWidgets import QApplication

    for _ in range(n):
        QApplication.processEvents()


@pytest.fixture(scope="module")
def cal_viewer(calibrated_path):
    """The calibrated demo in a shown viewer (one for the module: making a viewer takes seconds)."""
    from nwbview.render.napari import view

    viewer = view(calibrated_path, show=True)
    viewer.window.resize(1200, 800)
    _process(5)
    yield viewer
    viewer.close()


@pytest.fixture
def notifications():
    """New napari notifications during a test: ``notifications()`` lists their (severity, message)."""
    from napari.utils.notifications import notification_manager

    start = len(notification_manager.records)
    return lambda: [(str(n.severity), n.message) for n in notification_manager.records[start:]]


def _sv(viewer):
    from nwbview.render.napari import session_view

    sv = session_view(viewer)
    assert sv is not None
    return sv


# -- layers, transforms, placement -------------------------------------------------------------------


@pytest.mark.slow
def test_world_coordinate_layers_and_transforms(cal_viewer, demo_session):
    sv = _sv(cal_viewer)
    reader = sv.reader
    assert sv.space.coordinates == "world" and sv.space.unit == "centimeters"
    assert sv.roles == ["video", "skeleton + head direction + position trail", "pose + position"]
    assert [layer.name for layer in cal_viewer.layers][0] == "video: BehaviorVideo"
    video = sv.layers["video"]
    n = len(reader)
    assert video.data.shape == (n, 480, 640, 3) and video.rgb
    assert cal_viewer.dims.nsteps[0] == n == len(sv.timeline)
    assert sv.layers["pose + position"].data.shape[1] == 3  # (step, row, col): keypoints and position in one layer
    assert set(sv.layers["pose + position"].features["kind"]) == {"pose", "position"}
    assert sv.layers["skeleton + head direction + position trail"].data.shape[1:] == (2, 3)  # one Vectors layer: skeleton, arrows, trail
    # the head direction arrow of a step starts at the position, 8 cm long, along the angle
    hd = sv.session.head_direction()
    k = int(sv.points("position")[0][20, 0])
    lines = sv.layers["skeleton + head direction + position trail"].data
    pos_xy = sv.session.position().values[sv.timeline.nearest(sv.session.position())[k]]
    starts = lines[lines[:, 0, 0] == k, 0, 1:]
    i = np.flatnonzero(np.all(np.isclose(starts, [-pos_xy[1], pos_xy[0]]), axis=1))
    assert i.size == 1
    shaft = lines[lines[:, 0, 0] == k][i[0], 1, 1:]
    a = hd.values[sv.timeline.nearest(hd)[k]]
    np.testing.assert_allclose(shaft, [-8 * np.sin(a), 8 * np.cos(a)], atol=1e-9)
    # the video's affine: pixel index (r, c) -> (-y, x) of world(pixel (c + 0.5, r + 0.5))
    m = np.asarray(demo_session.truth["pixel_to_world"])
    a = video.affine.affine_matrix
    for r, c in [(0.0, 0.0), (463.5, 39.5), (15.5, 599.5), (240.0, 320.0)]:
        wx, wy, _ = m @ [c + 0.5, r + 0.5, 1.0]
        np.testing.assert_allclose((a @ [5.0, r, c, 1.0])[:3], [5.0, -wy, wx], atol=1e-9)
    # every arena corner (world cm) lands on its known video pixel (pixel corners: index + 0.5)
    for name in CORNERS:
        (px, py), (wx, wy) = demo_session.truth["arena_corners_px"][name], demo_session.truth["arena_corners_cm"][name]
        t, r, c = video.world_to_data((3.0, -wy, wx))
        assert t == pytest.approx(3.0)
        assert (c + 0.5, r + 0.5) == pytest.approx((px, py), abs=1e-9)
        np.testing.assert_allclose(video.data_to_world((3.0, py - 0.5, px - 0.5)), [3.0, -wy, wx], atol=1e-9)
    # position points are the stream's world positions at (-y, x), at the steps with a sample
    pos = sv.session.position()
    idx = sv.timeline.nearest(pos)
    pts = sv.points("position")[0]
    k = int(pts[10, 0])
    xy = pos.values[idx[k]]
    np.testing.assert_allclose(pts[10, 1:], [-xy[1], xy[0]])
    assert set(pts[:, 0].astype(int)) <= set(np.flatnonzero(idx >= 0))


@pytest.mark.slow
def test_pixel_coordinates_without_calibration(demo_session, notifications):
    from nwbview.render.napari import view

    with pytest.warns(NWBViewWarning, match="no pixel <-> world calibration"):
        viewer = view(demo_session.nwb_path, show=False, docks=False)
    try:
        sv = _sv(viewer)
        assert sv.space.coordinates == "pixel"
        assert sv.roles == ["video", "pose", "skeleton"]  # position and head direction are in cm: not placeable
        assert sv.layers["skeleton"].name == "skeleton"
        video = sv.layers["video"]
        assert "no calibration" in video.name
        # napari coordinates are video pixels (row, col) = (y, x): pixel centre (x, y) = (c + .5, r + .5)
        assert video.world_to_data((0.0, 464.0, 40.0)) == pytest.approx((0.0, 463.5, 39.5))
        pose = sv.session.pose()
        idx = sv.timeline.nearest(pose)
        layer = sv.layers["pose"]
        k = int(layer.data[0, 0])
        names = list(pose.keypoint.values)
        j = names.index(layer.features["keypoint"][0])
        xy = pose["position"].values[idx[k], :, j, 0]
        np.testing.assert_allclose(layer.data[0, 1:], [xy[1], xy[0]])
        assert any("Video pixels" in m for _, m in notifications())
    finally:
        viewer.close()


def _centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    assert ys.size > 10, "marker not found in the screenshot"
    return np.array([ys.mean(), xs.mean()]) + 0.5


@pytest.mark.slow
def test_screenshot_places_world_points_on_their_pixels(cal_viewer):
    """A rendered marker at world (25, 55) cm covers the red cross painted at pixel (180, 156)."""
    sv = _sv(cal_viewer)
    sv.set_step(0)
    hidden = [layer for role, layer in sv.layers.items() if role != "video"]
    for layer in hidden:
        layer.visible = False
    cal_viewer.reset_view()
    _process()
    shot = cal_viewer.screenshot(canvas_only=True, flash=False)[..., :3].astype(int)
    h, w = shot.shape[:2]
    camera = cal_viewer.scene.camera if hasattr(cal_viewer, "scene") else cal_viewer.camera
    zoom = camera.zoom
    centre = np.asarray(camera.center[-2:])
    display = np.array([-RED_CROSS_CM[1], RED_CROSS_CM[0]])  # (row, col) = (-y, x)
    expected = (display - centre) * zoom + np.array([h, w]) / 2  # screen (row, col)
    win = np.zeros((h, w), bool)
    r0, c0 = (int(v) for v in expected)
    win[r0 - 40 : r0 + 40, c0 - 40 : c0 + 40] = True
    red = win & (shot[..., 0] - shot[..., 1] > 60) & (shot[..., 0] > 140)
    cross = _centroid(red)
    assert np.abs(cross - expected).max() < 2.5, (cross, expected, zoom)
    marker = cal_viewer.add_points([[0.0, *display]], size=2.0, face_color=[0, 1, 0, 1], border_width=0, name="probe")
    try:
        _process()
        shot = cal_viewer.screenshot(canvas_only=True, flash=False)[..., :3].astype(int)
        green = win & (shot[..., 1] > 200) & (shot[..., 0] < 80) & (shot[..., 2] < 80)
        assert np.abs(_centroid(green) - cross).max() < 2.5
    finally:
        cal_viewer.layers.remove(marker)
        for layer in hidden:
            layer.visible = True


def test_screenshot_trail_follows_the_slider(cal_viewer):
    """The rendered trail (orange) ends at the current position and moves with the slider."""
    sv = _sv(cal_viewer)
    keep = {"video", "skeleton + head direction + position trail"}  # the skeleton (light grey) and the arrow (light blue) are not orange
    for role, layer in sv.layers.items():
        layer.visible = role in keep
    cal_viewer.reset_view()  # the view this test measures in, whatever ran before it (order-independent)
    _process()
    camera = cal_viewer.scene.camera if hasattr(cal_viewer, "scene") else cal_viewer.camera
    pos = sv.session.position()
    idx = sv.timeline.nearest(pos)
    found = []
    finite = np.all(np.isfinite(pos.values), axis=1)
    # steps whose last 0.5 s of samples were all tracked (right after a gap the trail is short)
    have = [k for k in range(len(sv.timeline)) if idx[k] >= 25 and finite[idx[k] - 25 : idx[k] + 1].all()]
    have = np.asarray(have)
    try:
        for k in (int(have[np.argmin(np.abs(have - 40))]), int(have[np.argmin(np.abs(have - 100))])):
            sv.set_step(k)
            _process()
            shot = cal_viewer.screenshot(canvas_only=True, flash=False)[..., :3].astype(int)
            h, w = shot.shape[:2]
            x, y = pos.values[idx[k]]
            head = (np.array([-y, x]) - np.asarray(camera.center[-2:])) * camera.zoom + np.array([h, w]) / 2
            orange = (shot[..., 0] > 200) & (shot[..., 1] > 90) & (shot[..., 1] < 190) & (shot[..., 2] < 80)
            rows, cols = np.nonzero(orange)
            assert rows.size > 5, f"no trail drawn at step {k}"
            d = np.hypot(rows + 0.5 - head[0], cols + 0.5 - head[1])
            assert d.min() < max(3.0, 1.0 * camera.zoom)  # the trail reaches the current position (1 cm)
            found.append(orange)
        assert (found[0] != found[1]).sum() > 10  # and moved
    finally:
        for layer in sv.layers.values():
            layer.visible = True


# -- time ---------------------------------------------------------------------------------------------


def test_stepping_updates_video_trail_and_dock(cal_viewer, qtbot):
    sv = _sv(cal_viewer)
    reader = sv.reader
    video = sv.layers["video"]
    lines = sv.layers["skeleton + head direction + position trail"]
    dock = sv.dock
    pos = sv.session.position()
    pos_steps = np.interp(pos["time"].values, sv.timeline.times, np.arange(len(sv.timeline)), left=np.nan, right=np.nan)
    orange = np.array([255, 140, 0]) / 255.0
    seen = []
    for k in (10, 11, 60, 60 - 1, len(sv.timeline) - 1):
        sv.set_step(k)
        dock.flush()
        _process(1)
        assert sv.step == k and sv.time == pytest.approx(reader.times[sv.timeline.frames[k]])
        assert cal_viewer.dims.axis_labels[0] == f"{sv.time:.3f} s"
        np.testing.assert_array_equal(np.asarray(video._slice.image.raw), reader[int(sv.timeline.frames[k])])
        # the trail (orange segments of the lines layer at step k) is cut at the current step: its
        # newest segment ends at the last position sample up to step k; the last 2 s fade out
        at = (lines.data[:, 0, 0] == k) & np.all(np.isclose(lines.edge_color[:, :3], orange), axis=1)
        ends = lines.data[at, 0, 1:] + lines.data[at, 1, 1:]
        j = np.flatnonzero(pos_steps <= k)[-1]
        assert np.isclose(ends, [-pos.values[j, 1], pos.values[j, 0]]).all(axis=1).any()
        # a segment between each two tracked samples, ending in the last 2 s (NaN gaps cut the trail)
        fin = np.isfinite(pos.values).all(axis=1) & np.isfinite(pos_steps)  # samples in the timeline
        tail = round(2.0 * sv.timeline.fps)
        assert at.sum() == np.sum(fin[:-1] & fin[1:] & (pos_steps[1:] <= k) & (pos_steps[1:] > k - tail)) > 0
        alpha = lines.edge_color[at, 3]
        assert np.all(np.diff(alpha) > 0) and alpha[-1] > 0.9  # oldest first, faded by age
        if k > 2.0 * sv.timeline.fps + 1:
            assert alpha[0] < 0.1
        shown = tuple(np.round(ends.ravel(), 6))
        # the dock's cursor is at the current time; its traces cover the window around it
        assert dock.step == k and dock.current_time == pytest.approx(sv.time)
        x, y = dock.window_data("speed")
        assert x.min() >= -1.0 - 1e-9 and x.max() < 1.0
        seen.append((k, tuple(shown), x[0] if x.size else None))
    assert seen[0][1] != seen[2][1]  # the trail moved
    # a video frame is read only when the slider shows it: never the whole video
    before = sv.frames.reads
    sv.set_step(20)
    assert sv.frames.reads - before <= 2
    with pytest.raises(NWBViewError, match="whole video"):
        np.asarray(video.data)


def test_stepping_relinks_no_shader(cal_viewer, monkeypatch):
    """Each step gives the skeleton's Vectors layer new vertices; vispy must not rebuild its shader
    every time (vispy/vispy#2568, mended by ``_vispy_fixes``): that cost 8-9 ms a step."""
    from vispy.visuals.shaders.program import ModularProgram

    sv = _sv(cal_viewer)
    lines = sv.layers["skeleton + head direction + position trail"]
    builds = []
    original = ModularProgram._build
    monkeypatch.setattr(ModularProgram, "_build", lambda self: (builds.append(self), original(self))[1])
    drawn = 0
    for k in range(30, 40):
        sv.set_step(k)
        _process(1)
        drawn += int((np.asarray(lines.data)[:, 0, 0] == k).sum())
    assert drawn > 0  # skeleton edges and arrows were on those steps
    assert builds == []


def test_mesh_shader_fix_keeps_vispy_behaviour():
    from vispy.visuals.mesh import MeshVisual
    from vispy.visuals.shaders import Function

    from nwbview.render.napari._vispy_fixes import reuse_color_transform

    a, b = MeshVisual(), MeshVisual()
    assert reuse_color_transform(a) and reuse_color_transform(a)  # idempotent
    rgba = np.ones((6, 4), np.float32)
    first = a._build_color_transform(rgba)
    assert isinstance(first, Function) and "return color" in first.code
    assert a._build_color_transform(rgba * 0.5) is first  # reused: no new shader code
    # only the visual given changes: another one, and the class, keep vispy's method
    assert "_build_color_transform" not in vars(b) and b._build_color_transform(rgba) is not b._build_color_transform(rgba)
    assert MeshVisual._build_color_transform.__module__ == "vispy.visuals.mesh"
    # colour-mapped vertex values keep vispy's own (clim + colormap) function
    values = np.linspace(0, 1, 6, dtype=np.float32)[:, None]
    assert a._build_color_transform(values) is not a._build_color_transform(values)


def test_mesh_shader_fix_touches_only_nwbview_layers(cal_viewer):
    sv = _sv(cal_viewer)
    visuals = cal_viewer.window._qt_viewer.layer_to_visual
    ours = visuals[sv.layers["skeleton + head direction + position trail"]].node
    assert "_build_color_transform" in vars(ours)
    other = cal_viewer.add_vectors(np.zeros((2, 2, 3)), name="someone else's vectors")
    try:
        assert "_build_color_transform" not in vars(visuals[other].node)
    finally:
        cal_viewer.layers.remove(other)


def test_empty_text_of_our_points_is_not_drawn_and_text_set_is(cal_viewer, monkeypatch):
    """napari draws one empty string for a Points layer without text: nwbview's is hidden (a
    screenshot is the same), shown again when text is set; other layers and the switch-off keep napari's."""
    from nwbview.render.napari import _vispy_fixes

    sv = _sv(cal_viewer)
    visuals = cal_viewer.window._qt_viewer.layer_to_visual
    points = sv.layers["pose + position"]
    node = visuals[points].node.text
    assert not node.visible
    sv.set_step(27)
    _process()
    hidden = cal_viewer.screenshot(canvas_only=True, flash=False)
    node.visible = True  # napari's own: its empty string drawn
    _process()
    np.testing.assert_array_equal(cal_viewer.screenshot(canvas_only=True, flash=False), hidden)
    node.visible = False
    points.text = "keypoint"  # the user labels the points: the text is drawn
    try:
        assert node.visible
        _process()
        assert (cal_viewer.screenshot(canvas_only=True, flash=False) != hidden).any()
    finally:
        points.text = None  # no text again
        sv.set_step(0)  # (other tests step from here)
    assert not node.visible
    other = cal_viewer.add_points(np.zeros((1, 3)), name="someone else's points")
    try:
        assert visuals[other].node.text.visible and _vispy_fixes.hide_empty_text(cal_viewer, []) == 0
    finally:
        cal_viewer.layers.remove(other)
    monkeypatch.setenv("NWBVIEW_HIDE_EMPTY_TEXT", "0")
    other = cal_viewer.add_points(np.zeros((1, 3)), name="off")
    try:
        assert _vispy_fixes.hide_empty_text(cal_viewer, [other]) == 0 and visuals[other].node.text.visible
    finally:
        cal_viewer.layers.remove(other)


def test_mesh_shader_fix_can_be_switched_off(monkeypatch):
    from vispy.visuals.mesh import MeshVisual

    from nwbview.render.napari import _vispy_fixes

    for off in ("0", "false", "OFF"):
        monkeypatch.setenv("NWBVIEW_VISPY_PATCH", off)
        visual = MeshVisual()
        assert not _vispy_fixes.fix_applies() and not _vispy_fixes.reuse_color_transform(visual)
        assert "_build_color_transform" not in vars(visual)
    monkeypatch.setenv("NWBVIEW_VISPY_PATCH", "1")
    assert _vispy_fixes.reuse_color_transform(MeshVisual())


def test_mesh_shader_fix_is_not_applied_on_untested_vispy(monkeypatch, caplog):
    import vispy
    from vispy.visuals.mesh import MeshVisual

    from nwbview.render.napari import _vispy_fixes, notifications

    monkeypatch.delenv("NWBVIEW_VISPY_PATCH", raising=False)
    monkeypatch.setattr(vispy, "__version__", "0.99.0")
    monkeypatch.setattr(notifications, "logged_untested", set())
    with caplog.at_level("INFO", logger="nwbview.napari"):
        visuals = [MeshVisual() for _ in range(3)]
        assert not any(_vispy_fixes.reuse_color_transform(v) for v in visuals)
    assert all("_build_color_transform" not in vars(v) for v in visuals)
    said = [r.getMessage() for r in caplog.records if "vispy" in r.getMessage()]
    assert len(said) == 1 and "0.99.0" in said[0] and "0.17" in said[0]  # one line, not one per visual


def test_trail_segments_are_cut_faded_and_the_same_in_any_window():
    """The trail's segments at step k: between consecutive samples (a NaN cuts it) that end at a step
    <= k and less than the trail's length before it, faded by age; a window's part is the whole's."""
    from nwbview.render.napari.layers import MergedChunks, TrailSegments

    steps = np.array([0.0, 0.5, 1.5, 2.5, 3.2, 4.0, 5.5, 6.0, 7.0, 8.5])
    xy = np.column_stack([steps * 2, -steps])
    xy[5] = np.nan  # a tracking gap: no segment touches sample 5
    trail = TrailSegments(steps, xy, 3, (1.0, 0.5, 0.0, 1.0))
    vec, colors, _ = trail.part(0, 12)
    for k in range(12):
        at = vec[:, 0, 0] == k
        want = [i for i in range(len(steps) - 1) if i not in (4, 5) and k - 3 < steps[i + 1] <= k]
        np.testing.assert_allclose(vec[at, 0, 1:], xy[want])  # from each sample to the next
        np.testing.assert_allclose(vec[at, 0, 1:] + vec[at, 1, 1:], xy[[i + 1 for i in want]])
        mid = (steps[want] + steps[[i + 1 for i in want]]) / 2
        np.testing.assert_allclose(colors["edge_color"][at, 3], np.clip(1 - (k - mid) / 3, 0, 1))
        np.testing.assert_allclose(colors["edge_color"][at, :3], np.tile([1.0, 0.5, 0.0], (len(want), 1)))
    static = TrailSegments(np.array([0.0, 1.0]), np.zeros((2, 2)), 50, (0, 0, 1, 1))  # 50 steps of one segment
    both = MergedChunks([static, trail])
    whole = both.part(0, 60)
    for lo, hi in [(0, 4), (3, 7), (5, 60), (9, 10)]:
        got = both.part(lo, hi)
        sel = (whole[0][:, 0, 0] >= lo) & (whole[0][:, 0, 0] < hi)
        np.testing.assert_array_equal(got[0], whole[0][sel])
        np.testing.assert_array_equal(got[1]["edge_color"], whole[1]["edge_color"][sel])


def test_video_frames_read_ahead_exactly():
    """Stepping forward, the next step's frame is read on a thread while a step is shown; what
    napari gets is always ``reader[frames[k]]``, forward, back, jumps, the same step twice."""
    from nwbview.io.video import VideoReader
    from nwbview.render.napari.layers import VideoFrames

    video = np.random.default_rng(1).integers(0, 256, (12, 6, 8), np.uint8)
    reader = VideoReader.from_array(video, np.arange(12.0))
    frames = VideoFrames(reader, np.array([0, 2, 3, 5, 6, 7, 9, 11]))
    for k in [0, 1, 2, 3, 3, 4, 7, 6, 0, 1, 2, 5, 6, -1]:
        np.testing.assert_array_equal(frames[k], reader[int(frames.frames[k])])
    assert frames.reads == 14 and frames.prefetched >= 4
    frames.close()
    np.testing.assert_array_equal(frames[4], reader[6])  # after close: read here, nothing ahead
    assert frames._pool is None
    reader.close()


def test_thumbnails_are_drawn_when_the_slider_rests(cal_viewer, qtbot):
    """napari redraws every layer's thumbnail on each step (9-11 ms of a step here): nwbview's
    layers redraw theirs once the slider rests, with napari's own method."""
    from nwbview.render.napari import _thumbnails

    sv = _sv(cal_viewer)
    deferral = sv.thumbnails
    assert deferral is not None and all("_update_thumbnail" in vars(layer) for layer in sv.layers.values())
    video = sv.layers["video"]
    deferral.flush()
    drawn = deferral.drawn
    for k in (30, 31, 32):
        sv.set_step(k)
        assert deferral.drawn == drawn and deferral.pending == len(sv.layers)  # nothing drawn while stepping
    qtbot.waitUntil(lambda: deferral.pending == 0, timeout=5 * _thumbnails.DELAY_MS)
    assert deferral.drawn == drawn + len(sv.layers)
    shown = video.thumbnail.copy()
    type(video)._update_thumbnail(video)  # napari's own thumbnail of step 32
    np.testing.assert_array_equal(shown, video.thumbnail)
    other = cal_viewer.add_points(np.zeros((1, 3)), name="someone else's points")
    try:
        assert "_update_thumbnail" not in vars(other)
    finally:
        cal_viewer.layers.remove(other)


def test_thumbnail_deferral_can_be_switched_off(monkeypatch, caplog):
    import napari

    from nwbview.render.napari import _thumbnails, notifications

    layer = napari.layers.Points(np.zeros((1, 3)))
    for off in ("0", "false", "OFF"):
        monkeypatch.setenv("NWBVIEW_DEFER_THUMBNAILS", off)
        assert _thumbnails.ThumbnailDeferral().add([layer]) == 0 and "_update_thumbnail" not in vars(layer)
    monkeypatch.delenv("NWBVIEW_DEFER_THUMBNAILS")
    monkeypatch.setattr(napari, "__version__", "0.99.0")
    monkeypatch.setattr(notifications, "logged_untested", set())
    with caplog.at_level("INFO", logger="nwbview.napari"):
        assert _thumbnails.ThumbnailDeferral().add([layer]) == 0
    assert "_update_thumbnail" not in vars(layer) and any("0.99.0" in r.getMessage() for r in caplog.records)


def test_screenshot_keypoints_and_position_on_the_animal(cal_viewer):
    """The one Points layer of the pose and the position draws each where it belongs."""
    sv = _sv(cal_viewer)
    layer = sv.layers["pose + position"]
    for role, other in sv.layers.items():
        other.visible = role == "pose + position"
    cal_viewer.reset_view()
    camera = cal_viewer.scene.camera if hasattr(cal_viewer, "scene") else cal_viewer.camera
    try:
        k = 40
        sv.set_step(k)
        _process()
        shot = cal_viewer.screenshot(canvas_only=True, flash=False)[..., :3].astype(int)
        h, w = shot.shape[:2]
        for kind in ("pose", "position"):
            data, features = sv.points(kind)
            here = np.flatnonzero(data[:, 0] == k)
            assert here.size, f"no {kind} point at step {k}"
            sel = np.flatnonzero(np.asarray(layer.features["kind"] == kind) & (layer.data[:, 0] == k))
            colour = np.asarray(layer.face_color[sel[0]][:3]) * 255
            r, c = ((data[here[0], 1:] - np.asarray(camera.center[-2:])) * camera.zoom + np.array([h, w]) / 2).astype(int)
            patch = shot[max(r - 3, 0) : r + 4, max(c - 3, 0) : c + 4].reshape(-1, 3)
            assert np.abs(patch - colour).sum(axis=1).min() < 60, (kind, colour, patch)
    finally:
        for other in sv.layers.values():
            other.visible = True


def test_dock_click_jumps_and_checkbox_hides(cal_viewer, qtbot):
    from matplotlib.backend_bases import MouseEvent

    sv = _sv(cal_viewer)
    dock = sv.dock
    sv.set_step(40)
    dock.flush()
    t0 = sv.time
    ax = dock.rows[0].ax
    x, y = ax.transData.transform((0.5, np.mean(ax.get_ylim())))
    dock.canvas.callbacks.process("button_press_event", MouseEvent("button_press_event", dock.canvas, x, y, button=1))
    assert sv.time == pytest.approx(t0 + 0.5, abs=0.02)
    ov = dock.ax_overview
    x, y = ov.transData.transform((1.0, np.mean(ov.get_ylim())))
    dock.canvas.callbacks.process("button_press_event", MouseEvent("button_press_event", dock.canvas, x, y, button=1))
    assert sv.time == pytest.approx(1.0, abs=0.02)
    dock.flush()
    cb = dock.checkboxes["speed"]
    cb.setChecked(False)
    assert not dock._trace("speed").line.get_visible()
    cb.setChecked(True)
    assert dock._trace("speed").line.get_visible()
    # redraws are throttled: a burst of steps draws at most a couple of times, then the last one
    n0 = dock.draws
    t0 = time.perf_counter()
    dock._last_draw = t0
    for k in range(5, 15):
        sv.set_step(k)
    elapsed = time.perf_counter() - t0
    assert dock.draws - n0 <= elapsed * dock.MAX_FPS + 1
    assert dock.requested in (None, 14)
    qtbot.waitUntil(lambda: dock.requested is None, timeout=2000)
    assert dock.step == 14


def test_hidden_dock_draws_when_shown_again(cal_viewer, qtbot):
    """A dock behind another tab (or closed) keeps its step and traces but draws nothing until shown."""
    sv = _sv(cal_viewer)
    dock = sv.dock
    dock.hide()
    try:
        n0 = dock.draws
        sv.set_step(50)
        dock.flush()
        assert dock.step == 50 and dock.draws == n0
        x, _ = dock.window_data("speed")
        assert x.size and dock.current_time == pytest.approx(sv.time)
    finally:
        dock.show()
    qtbot.waitUntil(lambda: dock.draws > n0, timeout=3000)
    assert dock.step == 50


def test_dock_groups_limits_readouts(calibrated_path, qtbot):
    import xarray as xr

    from nwbview.kinematics import compute_speed
    from nwbview.render.napari.dock import TimeSeriesDock
    from nwbview.render.overlays import TimeSeriesOverlay

    with nwbview.open(calibrated_path) as s:
        speed = compute_speed(s.position())
        lfp = s.lfp(channels=[0]).isel(channel=0).load()
        tl = nwbview.Timeline.from_video(s)
    doubled = speed * 2
    doubled.attrs = dict(speed.attrs)
    gap = xr.DataArray(np.where(np.arange(speed.size) % 10 < 3, np.nan, 1.0), dims="time", coords={"time": speed.time})
    specs = [
        TimeSeriesOverlay(speed, label="speed", group="kin", window_s=1.0, interp="nearest"),
        TimeSeriesOverlay(doubled, label="speed x2", group="kin", window_s=3.0),  # conflicts: first wins
        TimeSeriesOverlay(lfp, label="lfp", vmin=-500, vmax=500),
        TimeSeriesOverlay(gap, label="gappy", group="norm", normalize=True),
    ]
    jumps = []
    with pytest.warns(NWBViewWarning, match="first overlay"):
        dock = TimeSeriesDock(specs, tl, on_jump=jumps.append)
    qtbot.addWidget(dock)
    assert [len(r.traces) for r in dock.rows] == [2, 1, 1]  # overlaid group, then stacked rows
    assert dock.rows[0].window_s == 1.0
    assert dock.rows[1].limits == (-500, 500)
    assert dock.rows[2].normalize
    # stable global limits over the whole session, from both signals of the group
    lo, hi = dock.rows[0].limits
    assert lo <= np.nanmin(speed.values) and hi >= np.nanmax(doubled.values)
    dock.set_step(30)
    dock.flush()
    assert dock.rows[0].limits == (lo, hi)
    t = tl.times[30]
    i = int(np.argmin(np.abs(speed.time.values - t)))
    assert dock.readout("speed") == pytest.approx(speed.values[i], nan_ok=True)
    assert dock.readout("lfp") == pytest.approx(np.interp(t, lfp.time.values, lfp.values))
    # every sample of the window is drawn (no downsampling), NaN kept as gaps
    x, y = dock.window_data("lfp")
    inside = (lfp.time.values >= t - 1.0) & (lfp.time.values < t + 1.0)
    assert x.size == inside.sum()
    x, y = dock.window_data("gappy")
    assert np.isnan(y).any() and np.isfinite(y).any()


# -- the plugin --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_reader_plugin_opens_nwb_through_napari(calibrated_path, tmp_path, notifications):
    import napari
    import npe2

    from nwbview.render.napari._reader import napari_get_reader

    assert napari_get_reader(str(calibrated_path)) is not None
    assert napari_get_reader("clip.mp4") is None
    manifest = npe2.PluginManager.instance().get_manifest("nwbview")
    assert {w.display_name for w in manifest.contributions.widgets} == {"Time series", "Video calibration"}
    assert [s.key for s in manifest.contributions.sample_data] == ["demo"]
    viewer = napari.Viewer(show=False)
    try:
        layers = viewer.open(str(calibrated_path), plugin="nwbview")
        assert [layer.name for layer in layers] == ["video: BehaviorVideo", "skeleton + head direction + position trail",
                                                "pose: PoseEstimation + position"]
        sv = _sv(viewer)
        assert set(sv.layers) == set(sv.roles) and sv.dock is not None
        assert "Time series (nwbview)" in viewer.window.dock_widgets
        viewer.dims.set_current_step(0, 12)
        assert viewer.dims.axis_labels[0] == f"{sv.times[12]:.3f} s"
        assert sv.dock.requested == 12 or sv.dock.step == 12
        # the plugin widget, opened from the menu, finds the session
        _, host = viewer.window.add_plugin_dock_widget("nwbview", "Time series")
        assert getattr(host, "inner", host) in sv.docks  # (napari returns the dock already there)
        # a file that is not NWB: an error notification, no layer, no traceback
        bad = tmp_path / "broken.nwb"
        bad.write_bytes(b"not an HDF5 file")
        assert viewer.open(str(bad), plugin="nwbview") == []
        assert any(sev == "error" and "broken.nwb" in m for sev, m in notifications())
    finally:
        viewer.close()
    assert sv._closed


def test_sample_data_is_the_demo_session(monkeypatch, tmp_path, demo_session):
    from nwbview.render.napari import _sample

    monkeypatch.setenv("NWBVIEW_CACHE", str(tmp_path))
    cached = _copy_demo(demo_session, tmp_path / "napari-demo")  # a demo made before: reused, not remade
    (cached.parent / f".complete-{_sample.DURATION:g}s").write_text("")
    path = _sample.demo_session_path()
    assert path == cached
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NWBViewWarning)
        layers = _sample.make_demo_sample()
    assert [kw["name"] for _, kw, _ in layers][0].startswith("video: ")
    for data, _, _ in layers:
        getattr(data, "reader", None) and data.reader.close()


# -- calibration widget --------------------------------------------------------------------------------


@pytest.mark.slow
def test_calibration_widget_fits_and_saves(demo_session, tmp_path, notifications, qtbot, monkeypatch):
    from nwbview import jobs
    from nwbview.render.napari import view

    path = _copy_demo(demo_session, tmp_path / "demo")
    writes = []  # the save goes through the write-back of `nwbview calibrate` (jobs.write_back)
    write_back = jobs.write_back
    monkeypatch.setattr(jobs, "write_back", lambda *args, **kwargs: (writes.append(args), write_back(*args, **kwargs))[1])
    with pytest.warns(NWBViewWarning):
        viewer = view(path, show=False)
    try:
        sv = _sv(viewer)
        w = sv.calibration_widget
        truth = demo_session.truth
        # a click in add mode adds a landmark (a row in the table, labelled p1, at its pixel)
        w.start_adding()
        assert w.points.mode == "add" and viewer.layers.selection.active is w.points
        w.points.add([[100.0, 200.0]])  # napari (row, col) = pixel (y, x) before calibration
        assert w.table.rowCount() == 1 and w.table.item(0, 0).text() == "p1"
        assert (w.table.item(0, 1).text(), w.table.item(0, 2).text()) == ("200", "100")
        # an error in the GUI is a notification: fitting landmarks whose world position is missing
        corners_px = [truth["arena_corners_px"][c] for c in CORNERS]
        corners_cm = [truth["arena_corners_cm"][c] for c in CORNERS]
        w.set_landmarks(CORNERS, corners_px, None)
        w.fit_button.click()
        assert any(sev == "error" and "no world coordinates" in m for sev, m in notifications())
        assert w.calibration is None
        # type the world positions (what editing the table does), fit an affine map
        for i, (x, y) in enumerate(corners_cm):
            w.set_world(i, x, y)
        assert w.table.rowCount() == 4 and w.table.item(0, 3).text() == "0"
        w.transform.setCurrentText("affine")
        cal = w.fit()
        assert cal.transform_type == "affine" and cal.residual_rms < 1e-9
        np.testing.assert_allclose(cal.matrix, truth["pixel_to_world"], atol=1e-9)
        assert w.residual_layer is not None and w.residual_layer in viewer.layers
        labels, pixel, world = w.landmarks()
        np.testing.assert_allclose(pixel, corners_px)
        # save: the file is closed, written, reopened, and the view rebuilt in world coordinates
        saved = w.save()
        assert saved == path
        assert [(Path(p), [r.name for r in results]) for p, results in writes] == [(path, ["VideoCalibration"])]
        assert sv.space.coordinates == "world" and "pose + position" in sv.roles
        assert all(layer in viewer.layers for layer in sv.layers.values())
        assert any("Saved the affine calibration" in m for _, m in notifications())
        with nwbview.open(path) as s:
            stored = s.calibration()
        np.testing.assert_allclose(stored.matrix, truth["pixel_to_world"], atol=1e-9)
        # the landmarks moved with the view: the south-west corner is now at world (0, 0) -> (-0, 0)
        np.testing.assert_allclose(w.points.data[0], [0.0, 0.0], atol=1e-9)
        np.testing.assert_allclose(w.landmarks()[1], corners_px, atol=1e-9)
        # the session still works after the reopen
        sv.set_step(5)
        assert sv.layers["video"].data[5].shape == (480, 640, 3)
    finally:
        viewer.close()


@pytest.mark.slow
def test_save_into_a_locked_file_is_an_error_notification(calibrated_path, tmp_path, notifications, monkeypatch):
    """A failed write leaves the session reopened and tells the user why."""
    from nwbview.errors import FileLockedError
    from nwbview.io import write as write_mod
    from nwbview.render.napari import view

    path = shutil.copy2(calibrated_path, tmp_path / "demo_session.nwb")
    for name in ("demo_video.mp4", "demo_landmarks.csv"):
        shutil.copy2(Path(calibrated_path).parent / name, tmp_path / name)

    def locked(*args, **kwargs):
        raise FileLockedError(f"{path} is open in another program (HDF5 file lock).")

    monkeypatch.setattr(write_mod, "write_results", locked)
    viewer = view(path, show=False, docks=True)
    try:
        sv = _sv(viewer)
        w = sv.calibration_widget
        w.calibration = sv.space.calibration
        w.save_button.setEnabled(True)
        w.save_button.click()
        assert any(sev == "error" and "HDF5 file lock" in m for sev, m in notifications())
        assert sv.session.calibration() is not None  # reopened
        assert sv.layers["video"].data[0].shape == (480, 640, 3)
    finally:
        viewer.close()


# -- the 0.2 keywords -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, old, new",
    [
        pytest.param(lambda view, path: view(path, trail_seconds=3.0), "trail_seconds", "trail_s", id="trail_seconds"),
        pytest.param(lambda view, path: view(path, window_seconds=3.0), "window_seconds", "window_s", id="window_seconds"),
        pytest.param(lambda view, path: view(session_or_path=path), "session_or_path", "source", id="session_or_path"),
    ],
)
def test_an_old_keyword_raises_naming_the_new_one(calibrated_path, call, old, new):
    from nwbview.errors import RenamedError
    from nwbview.render.napari import view

    with pytest.raises(RenamedError, match=rf"view\({old}=\.\.\.\) was renamed in nwbview 0\.2: use {new}=\.\.\. instead"):
        call(view, calibrated_path)


def test_old_names_of_the_space_and_the_view_raise_naming_the_new_ones():
    from nwbview.errors import RenamedError
    from nwbview.render.napari import SessionView, Space

    with pytest.raises(RenamedError, match=r"use coordinates=\.\.\."):
        Space(None, frame="pixel")
    with pytest.raises(RenamedError, match=r"use Space\.coordinates instead"):
        Space(None).frame
    with pytest.raises(RenamedError, match=r"use coordinates=\.\.\."):
        Space(None).to_display([[1.0, 2.0]], frame="pixel")
    with pytest.raises(RenamedError, match=r"ViewContent\(trail_s=\.\.\.\)"):
        SessionView(None, trail_seconds=2.0)
    with pytest.raises(RenamedError, match=r"use time=\.\.\."):
        SessionView.jump_to_time(None, t=2.0)


@pytest.mark.slow
def test_stream_keywords_are_names_and_show_switches(calibrated_path):
    from nwbview.errors import StreamNotFoundError
    from nwbview.render.napari import ViewContent, view

    for bad, match in [
        (dict(pose=True), "give the name of a stream"),  # 0.1's True/False: show_pose now
        (dict(head_direction="head_direction", show_head_direction=False), "contradict each other"),
        (dict(lfp_channel="auto"), "Invalid lfp_channel='auto'"),  # 0.1's default: leave it out now
        (dict(lfp_channel=2, show_lfp=False), "contradict each other"),
    ]:
        with pytest.raises(NWBViewError, match=match):
            ViewContent(**bad)
        with pytest.raises(NWBViewError, match=match):
            view(calibrated_path, show=False, **bad)
    with pytest.raises(StreamNotFoundError, match="nosuchposition"):
        view(calibrated_path, show=False, docks=False, position="nosuchposition")
    viewer = view(calibrated_path, show=False, docks=False, position="Position/position", show_pose=False,
                  show_head_direction=False, lfp="lfp", lfp_channel=1, trail_s=1.0, window_s=4.0)  # fmt: skip
    try:
        sv = _sv(viewer)
        assert sv.roles == ["video", "position trail", "position"]
        trail = next(ls for ls in sv._layer_specs if ls.role == "position trail").chunks
        assert trail.tail == round(1.0 * sv.timeline.fps)  # the 1 s trail, in steps
        assert [(ts.label, ts.window_s) for ts in sv.timeseries] == [("speed", 4.0), ("LFP ch1", 4.0)]
    finally:
        viewer.close()


# -- scripts --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_example_runs_offscreen(calibrated_path):
    """examples/view_session.py exits 0 with no display at all (QT_QPA_PLATFORM=offscreen)."""
    script = Path(__file__).parent.parent / "examples" / "view_session.py"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="offscreen", MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, str(script), str(calibrated_path)], capture_output=True, text=True, timeout=240, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "layer 'video: BehaviorVideo'" in r.stdout and "ViewerModel" in r.stdout


@pytest.mark.slow
def test_cli_view_opens_the_viewer(calibrated_path, monkeypatch, tmp_path):
    import napari
    from click.testing import CliRunner

    from nwbview.cli import main
    from nwbview.render.napari import session_view

    shown = {}

    def run():  # instead of the event loop: look at the viewer, then close it
        viewer = napari.current_viewer()
        sv = session_view(viewer)
        shown.update(steps=len(sv.timeline), last=float(sv.times[-1]), dock=[t.label for t in sv.dock.traces], roles=set(sv.roles))
        viewer.close()

    monkeypatch.setattr(napari, "run", run)
    r = CliRunner().invoke(main, ["view", str(calibrated_path), "--stop", "2", "--no-show-lfp"])
    assert r.exit_code == 0, r.output
    assert shown["last"] < 2.0 and shown["steps"] < 60 and shown["dock"] == ["speed"]
    assert "pose + position" in shown["roles"] and any("head direction" in r for r in shown["roles"])
    r = CliRunner().invoke(main, ["view", str(tmp_path / "missing.nwb")])
    assert r.exit_code == 1 and "error:" in r.output and "missing.nwb" in r.output
    # streams are chosen as for the export
    r = CliRunner().invoke(main, ["view", str(calibrated_path), "--stop", "2", "--no-show-position", "--no-show-head-direction",
                                  "--no-show-lfp", "--trail-s", "1", "--window-s", "3"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert not any(r.startswith("position") or "head direction" in r for r in shown["roles"])
    assert "pose" in shown["roles"]
    r = CliRunner().invoke(main, ["view", str(calibrated_path), "--pose", "nosuchpose"])
    assert r.exit_code == 1 and "nosuchpose" in r.output
    # the options 0.2 renamed still parse, and are an error naming the new one (nothing is opened)
    shown.clear()
    for old, value, new in [("--trail", "3", "--trail-s"), ("--window", "3", "--window-s"), ("--no-pose", None, "--no-show-pose"),
                            ("--no-position", None, "--no-show-position"), ("--no-head-direction", None, "--no-show-head-direction"),
                            ("--no-lfp", None, "--no-show-lfp")]:  # fmt: skip
        r = CliRunner().invoke(main, ["view", str(calibrated_path), old] + ([value] if value else []))
        assert r.exit_code == 1 and f"{old} was renamed in nwbview 0.2: use {new} instead" in r.output, r.output
    assert not shown
    assert "--trail-s" in CliRunner().invoke(main, ["view", "--help"]).output
    assert "--no-pose " not in CliRunner().invoke(main, ["view", "--help"]).output


@pytest.mark.slow
def test_projective_calibration_maps_points_into_the_video(calibrated_path, notifications):
    """napari places an image only by an affine: with a projective calibration the view stays in
    pixels and world-coordinate data go through the calibration."""
    from nwbview.calibration import fit_landmarks, read_landmarks_csv
    from nwbview.render.napari import view

    labels, pixel, world = read_landmarks_csv(Path(calibrated_path).parent / "demo_landmarks.csv")
    cal = fit_landmarks(pixel, world, "projective", labels=labels, frame_dimension=(640, 480))
    viewer = view(calibrated_path, calibration=cal, show=False, docks=False)
    try:
        sv = _sv(viewer)
        assert sv.space.coordinates == "pixel" and sv.space.projective
        assert "projective" in sv.layers["video"].name
        assert any("projective" in m for _, m in notifications())
        pos = sv.session.position()
        idx = sv.timeline.nearest(pos)
        pts = sv.points("position")[0]
        k = int(pts[5, 0])
        px = cal.world_to_pixels(pos.values[idx[k]])
        np.testing.assert_allclose(pts[5, 1:], [px[1], px[0]], atol=1e-6)
        # the red cross (world 25, 55 cm) is at its pixel (180, 156) in napari's (row, col)
        np.testing.assert_allclose(sv.space.to_display([RED_CROSS_CM], "world")[0], [RED_CROSS_PX[1], RED_CROSS_PX[0]], atol=1e-6)
    finally:
        viewer.close()


@pytest.mark.slow
def test_overlay_layers_hold_a_window_of_steps(calibrated_path, monkeypatch):
    """napari slices a layer's whole data every step: long sessions keep a window of steps in the
    layers and refill it when the slider leaves it (here a 40-step window on the 112-step demo)."""
    from nwbview.render.napari import view
    from nwbview.render.napari import host

    monkeypatch.setattr(host, "CHUNK_STEPS", 40)
    monkeypatch.setattr(host, "WINDOWED_STEPS", 16)
    viewer = view(calibrated_path, show=False, docks=False)
    try:
        sv = _sv(viewer)
        n = len(sv.timeline)
        pose = sv.layers["pose + position"]
        full = next(ls for ls in sv._layer_specs if ls.role == "pose + position")
        for k in (0, 35, 36, 90, n - 1, 5):
            sv.set_step(k)
            lo, hi = sv._chunk
            assert lo <= k < hi and hi - lo == 40
            steps = pose.data[:, 0]
            assert steps.min() >= lo and steps.max() < hi
            # what the layer holds at step k is exactly the full data's step k, colours and names included
            mine = pose.data[steps == k]
            theirs = full.data[full.data[:, 0] == k]
            np.testing.assert_array_equal(mine[np.lexsort(mine.T)], theirs[np.lexsort(theirs.T)])
            assert len(pose.features) == len(pose.data) == len(pose.face_color) == len(pose.size) == len(pose.border_width)
            # per-point sizes and borders follow their points (keypoints and the larger, bordered position)
            mine_sizes = sorted(zip(pose.size[steps == k], pose.border_width[steps == k]))
            sel = full.data[:, 0] == k
            assert mine_sizes == sorted(zip(full.kwargs["size"][sel], full.kwargs["border_width"][sel]))
            j = np.flatnonzero(steps == k)
            if j.size:
                names = full.kwargs["features"]["keypoint"][full.data[:, 0] == k]
                assert sorted(pose.features["keypoint"].iloc[j]) == sorted(names)
            lines = sv.layers["skeleton + head direction + position trail"]  # the trail's segments: made for a smaller window
            wlo, whi = sv._held["skeleton + head direction + position trail"]
            assert wlo <= k < whi and whi - wlo == host.WINDOWED_STEPS < hi - lo
            assert lines.data[:, 0, 0].min() >= wlo and lines.data[:, 0, 0].max() < whi
            assert len(lines.edge_color) == len(lines.data)
            full_lines = next(ls for ls in sv._layer_specs if ls.role == "skeleton + head direction + position trail").chunks.part(0, n)
            here = lines.data[lines.data[:, 0, 0] == k]
            np.testing.assert_array_equal(here, full_lines[0][full_lines[0][:, 0, 0] == k])
    finally:
        viewer.close()


@pytest.mark.slow
def test_session_without_video_shows_the_arena_in_world_coordinates(tmp_path):
    from pynwb.testing.mock.file import mock_NWBFile

    from nwbview.render.napari import view
    from tests.fixtures.sessions import add_position, write

    nwb = mock_NWBFile()
    add_position(nwb, n=100)  # x = 10 cm/s * (t - 1), y = 5 cm, 20 Hz from t = 1 s
    path = write(nwb, tmp_path / "position_only.nwb")
    viewer = view(path, show=False)
    try:
        sv = _sv(viewer)
        assert sv.space.coordinates == "world" and "video" not in sv.roles and "position" in sv.roles
        sv.jump_to_time(3.0)
        pts = sv.points("position")[0]
        here = pts[pts[:, 0] == sv.step][0]
        np.testing.assert_allclose(here[1:], [-5.0, 10.0 * (sv.time - 1.0)], atol=0.3)  # nearest 20 Hz sample
    finally:
        viewer.close()


def test_workaround_applies_on_tested_versions_only_and_says_so_once(monkeypatch, caplog):
    """The one gate of nwbview's version-gated napari/vispy workarounds (thumbnails, shader, text)."""
    import numpy

    from nwbview.render.napari import notifications

    monkeypatch.setattr(notifications, "logged_untested", set())
    series = ".".join(numpy.__version__.split(".")[:2])
    assert notifications.workaround_applies("NWBVIEW_TEST_SWITCH", "numpy", (series,), "tested %s, not %s")
    for off in ("0", "False", " off "):
        monkeypatch.setenv("NWBVIEW_TEST_SWITCH", off)
        assert not notifications.workaround_applies("NWBVIEW_TEST_SWITCH", "numpy", (series,), "tested %s, not %s")
    monkeypatch.delenv("NWBVIEW_TEST_SWITCH")
    assert not notifications.workaround_applies("NWBVIEW_TEST_SWITCH", "no_such_module_xyz", ("1.0",), "%s %s")
    with caplog.at_level("INFO", logger="nwbview.napari"):
        for _ in range(3):
            assert not notifications.workaround_applies("NWBVIEW_TEST_SWITCH", "numpy", ("0.1",), "tested %s, not %s")
        assert not notifications.workaround_applies("NWBVIEW_OTHER_SWITCH", "numpy", ("0.1",), "other: tested %s, not %s")
    said = [r.getMessage() for r in caplog.records]
    assert said == [f"tested 0.1, not {numpy.__version__}", f"other: tested 0.1, not {numpy.__version__}"]
