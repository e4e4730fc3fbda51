"""The one-file HTML player (``nwbview html``, ``nwbview.export_html``), in Python and in headless Chromium.

The test video carries its frame index in its pixels (:mod:`nwbview.testing.video`): after a seek
the page's frame is read back (a screenshot, or the <video> drawn into a canvas) and decoded.
"""

from __future__ import annotations

import json
import re
import time
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

import nwbview
from nwbview.cli import main
from nwbview.errors import NWBViewError, NWBViewWarning
from nwbview.render import PoseOverlay, PositionOverlay, TimeRangeError, TimeSeriesOverlay, TimestampOverlay, build_plan
from nwbview.render.browser.scene import build_scene
from nwbview.render.export_errors import OutputPathError
from nwbview.testing.video import read_frame_index
from nwbview.timeline import Timeline
from tests.fixtures.browser import CM_PER_PX, CODED_SIZE, FRAME_PIXELS, click_trace, image_from_data_url, image_from_png, signal, \
    wait_for, write_coded_session

START, STOP = 1.5, 4.5  # frames 15 ... 104 of the coded video


def scene_of(path) -> dict:
    """The scene a page holds (metadata with buffers decoded as numpy arrays)."""
    import base64

    text = path.read_text(encoding="utf-8")
    raw = json.loads(re.search(r'<script type="application/json" id="nwbview-scene">(.*?)</script>', text, re.S).group(1).replace("<\\/", "</"))
    buffers = [base64.b64decode(b) for b in raw["buffers"]]
    kinds = {"f8": "<f8", "f4": "<f4", "i4": "<i4", "u1": "u1"}

    def unpack(node):
        if isinstance(node, list):
            return [unpack(v) for v in node]
        if isinstance(node, dict):
            if "$b" in node:
                return np.frombuffer(buffers[node["$b"]], kinds[node["dtype"]]).reshape(node["shape"])
            return {k: unpack(v) for k, v in node.items()}
        return node

    return unpack(raw["meta"])


def content(s):
    return dict(
        overlays=[PoseOverlay(s.pose(), colors={"snout": (255, 0, 255)}), PositionOverlay(s.position(), trail_s=1.0),
                  TimestampOverlay()],
        timeseries=[TimeSeriesOverlay(signal(), label="sig", window_s=2.0)],
    )


@pytest.fixture(scope="module")
def player(coded_session, tmp_path_factory):
    """The HTML player of [1.5, 4.5) s of the coded session."""
    out = tmp_path_factory.mktemp("html") / "clip.html"
    with nwbview.open(coded_session["nwb"]) as s:
        nwbview.export_html(s, out, start=START, stop=STOP, progress=False, workers=1, **content(s))
    return out


# -- the file ----------------------------------------------------------------------------------------


def test_the_page_holds_everything_and_loads_nothing(player, coded_session):
    text = player.read_text(encoding="utf-8")
    assert "<script src" not in text and "<link" not in text and "url(" not in text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    scene = scene_of(player)
    t = coded_session["t"]
    k = np.flatnonzero((t >= START) & (t < STOP))
    np.testing.assert_array_equal(scene["times"], t[k])
    np.testing.assert_array_equal(scene["frames"], k)
    assert scene["clip"][4:8].tobytes() == b"ftyp"  # the embedded MP4
    np.testing.assert_allclose(scene["clip_times"], t[k] - t[k[0]], atol=1e-4)  # the clip's own frame-time table
    assert scene["size"] == list(CODED_SIZE) and scene["note"] is None


def test_the_scene_is_what_the_export_draws(player, coded_session):
    """Overlay pixels come from the export's drawers (world data through the calibration); the
    traces are the column's samples of the range, with its y-limits and readouts."""
    scene = scene_of(player)
    pose, position, stamp = scene["panels"][0]["overlays"]
    assert (pose["kind"], position["kind"], stamp["kind"]) == ("pose", "position", "time")
    k = 20  # video frame 35
    xy = pose["xy"][pose["now"][k], 0]
    np.testing.assert_allclose(xy, [[80.5 + 35, 180.5], [40.5, 200.5]])
    assert pose["names"] == ["snout", "tail"] and pose["colors"][0] == [255, 0, 255] and pose["edges"] == [[0, 1]]
    i = position["now"][k]
    cm = [20.0 + 10.0 * position["t"][i], 15.0]
    np.testing.assert_allclose(position["xy"][i], [cm[0] / CM_PER_PX, CODED_SIZE[1] - cm[1] / CM_PER_PX], atol=1 / 16)
    assert stamp["parts"] == [["text", "t = "], ["t", 3], ["text", " s"]]
    (row,) = scene["column"]
    (trace,) = row["traces"]
    sig = signal()
    tl = Timeline(scene["times"])
    np.testing.assert_allclose(trace["readout"], tl.sample(sig, method="linear").values, equal_nan=True)
    inside = (sig.time.values >= START - 1 - 1) & (sig.time.values <= STOP + 1 + 1)
    assert trace["t"].size <= inside.sum() and np.isnan(trace["value"]).any()  # samples of the range, NaN kept
    from nwbview.render.column import y_limits

    shown = (sig.time.values >= scene["times"][0] - 1) & (sig.time.values <= scene["times"][-1] + 1)
    np.testing.assert_allclose(row["limits"], y_limits([sig.values[shown]]))
    assert trace["fmt"] == {"kind": "f", "precision": 1, "width": 8}


def test_range_rules_and_bad_input(coded_session, tmp_path):
    nwb = coded_session["nwb"]
    with pytest.warns(NWBViewWarning, match="reaches outside"):
        out = nwbview.export_html(nwb, tmp_path / "cut.html", start=4.0, stop=99.0, progress=False, workers=1, show_speed=False)
    t = coded_session["t"]
    assert scene_of(out)["times"][-1] == t[-1]
    for bad, err in [(dict(start=50.0, stop=60.0), TimeRangeError), (dict(start="soon"), TimeRangeError),
                     (dict(start=3.0, stop=2.0), TimeRangeError), (dict(trail_seconds=3), NWBViewError), (dict(colour="red"), NWBViewError)]:
        with pytest.raises(err):
            nwbview.export_html(nwb, tmp_path / "bad.html", progress=False, **bad)
        assert not (tmp_path / "bad.html").exists()
    with pytest.raises(OutputPathError, match="unknown file type .mp4"):
        nwbview.export_html(nwb, tmp_path / "clip.mp4")
    with pytest.raises(OutputPathError, match="does not exist"):
        nwbview.export_html(nwb, tmp_path / "no" / "clip.html")
    assert [p.name for p in tmp_path.iterdir()] == ["cut.html"]  # nothing half-written left


def test_cli_html(coded_session, tmp_path):
    nwb = str(coded_session["nwb"])
    out = tmp_path / "clip.html"
    r = CliRunner().invoke(main, ["html", nwb, "-o", str(out), "--start", "2", "--stop", "3", "--quiet", "--no-show-speed", "--trail-s", "3"])
    assert r.exit_code == 0, r.output
    assert f"wrote {out}" in r.output and out.exists()
    position = [o for o in scene_of(out)["panels"][0]["overlays"] if o["kind"] == "position"][0]
    assert position["trail_s"] == 3.0
    for args, message in [(["--start", "50", "--stop", "60"], "No frame of video"), (["--lfp-channel", "2"], "No LFP"),
                          (["--pose", "nobody"], "nobody"), (["--trail", "3"], "use --trail-s")]:
        r = CliRunner().invoke(main, ["html", nwb, "-o", str(tmp_path / "bad.html"), "--quiet", *args])
        assert r.exit_code == 1, r.output
        assert message in r.output and "Traceback" not in r.output
    assert not (tmp_path / "bad.html").exists()


def test_html_job_and_its_default_output(coded_session, tmp_path):
    import shutil

    from nwbview.jobs import html_job

    for p in coded_session["folder"].iterdir():
        if p.suffix in (".nwb", ".mp4"):
            shutil.copy(p, tmp_path / p.name)
    r = html_job(tmp_path / "session.nwb", start=2, stop=2.5, show_speed=False)
    assert r.job == "html" and r.outputs == [str(tmp_path / "session_clip.html")] and r.data["bytes"] > 1000


def test_a_session_without_video_is_drawn_on_the_arena(tmp_path):
    info = write_coded_session(tmp_path / "novideo", with_video=False)
    with nwbview.open(info["nwb"]) as s:
        assert not s.inventory().of_kind("video")
        out = nwbview.export_html(s, tmp_path / "arena.html", start=1.0, stop=3.0, overlays=[PositionOverlay(s.position())],
                                  timeseries=[TimeSeriesOverlay(signal(), label="sig")], progress=False)
    scene = scene_of(out)
    assert "no video" in scene["note"] and "clip" not in scene
    panel = scene["panels"][0]
    assert panel["name"] == "arena" and not panel["video"] and panel["background"][1:4].tobytes() == b"PNG"
    assert scene["frames"] is None and scene["times"].size == 60  # 30 per second


def test_the_content_keywords_agree_with_export_job():
    """The stream keywords of export_job are default_content's, with its defaults (one source)."""
    import inspect

    from nwbview.jobs import export_job
    from nwbview.render.defaults import default_content

    clip = {"output", "start", "stop", "video", "size", "fps", "workers", "crf", "preset", "progress"}
    job = {n: p.default for n, p in inspect.signature(export_job).parameters.items() if p.kind is p.KEYWORD_ONLY and n not in clip}
    content = {n: p.default for n, p in inspect.signature(default_content).parameters.items() if p.kind is p.KEYWORD_ONLY}
    assert job == content


# -- in the browser ----------------------------------------------------------------------------------


def shown_frame(driver) -> int:
    return read_frame_index(image_from_data_url(driver.execute_script(FRAME_PIXELS)))


def seek(driver, k: int) -> None:
    driver.execute_script("window.nwbview.seekFrame(arguments[0])", k)
    wait_for(driver, "const p = window.nwbview, v = document.querySelector('video.nv-frame');"
                     "return p.k === arguments[0] && p.wanted === null && !v.seeking", k, timeout=20)


def readout(driver) -> str:
    return driver.execute_script("return document.querySelector('.nv-readout').textContent")


def check_readout(text: str, time: float) -> None:
    """The readout at the cursor is the signal (10 t, NaN in [3.0, 3.2)) at the frame's time."""
    label, value, units = text.split()
    assert (label, units) == ("sig", "a.u.")
    if 3.0 <= time < 3.2:
        assert value == "--"
    else:
        assert float(value) == pytest.approx(10 * time, abs=0.05 + 1e-9)


@pytest.mark.browser
def test_a_seek_shows_that_frame_and_its_readout(page, player):
    scene = scene_of(player)
    d = page(player)
    stage = d.find_element("css selector", ".nv-stage")
    for k in [0, 47, 3, 89, 48, 60, 1, 88, 50]:
        seek(d, k)
        assert shown_frame(d) == scene["frames"][k], f"seek to step {k}"
        check_readout(readout(d), scene["times"][k])
        assert d.execute_script("return document.querySelector('.nv-time').textContent") == \
            f"t = {scene['times'][k]:.3f} s · frame {scene['frames'][k]}"
    # the page as a user sees it: a screenshot of the stage (overlays over the video; the code is above them)
    seek(d, 33)
    shot = image_from_png(stage.screenshot_as_png)
    assert read_frame_index(shot[: shot.shape[0], : shot.shape[1]]) == scene["frames"][33]
    magenta = np.all(shot == (255, 0, 255), axis=-1)  # the snout, drawn by the browser where the export draws it
    ys, xs = np.nonzero(magenta)
    assert magenta.sum() > 10 and abs(xs.mean() - (80.5 + 48)) < 1.5 and abs(ys.mean() - 180.5) < 1.5


@pytest.mark.browser
def test_arrow_keys_step_one_frame(page, player):
    from selenium.webdriver.common.keys import Keys

    scene = scene_of(player)
    d = page(player)
    seek(d, 10)
    root = d.find_element("css selector", ".nwbview")
    for key, k in [(Keys.ARROW_RIGHT, 11), (Keys.ARROW_RIGHT, 12), (Keys.ARROW_LEFT, 11)]:
        root.send_keys(key)
        wait_for(d, "return window.nwbview.k === arguments[0] && !document.querySelector('video').seeking", k, timeout=10)
        assert shown_frame(d) == scene["frames"][k]


@pytest.mark.browser
def test_playing_advances_frames_in_order(page, player):
    scene = scene_of(player)
    d = page(player)
    seek(d, 0)
    d.execute_script("window.nwbview.log.length = 0; window.nwbview.setSpeed(2); window.nwbview.play()")
    wait_for(d, "return window.nwbview.k >= 60", timeout=20)
    # the frames shown while playing (taken with the pause, in one go: the pause itself may settle
    # the view on the frame of the paused time, one frame either side)
    log = d.execute_script("const log = window.nwbview.log.slice(); window.nwbview.pause(); return log")
    assert len(log) >= 20 and all(b > a for a, b in zip(log, log[1:])), log
    # where it stopped, the frame and the traces agree (the last frame callback may land after the pause)
    paused = "const v = document.querySelector('video'); return v.paused && !v.seeking && window.nwbview.wanted === null && window.nwbview.k + 1"
    end = time.monotonic() + 10
    while True:
        k = wait_for(d, paused) - 1
        if shown_frame(d) == scene["frames"][k] and wait_for(d, paused) - 1 == k:
            break
        assert time.monotonic() < end, f"paused at step {k}, showing frame {shown_frame(d)}"
        time.sleep(0.05)
    check_readout(readout(d), scene["times"][k])


@pytest.mark.browser
def test_a_click_on_a_trace_jumps_there(page, player):
    scene = scene_of(player)
    d = page(player)
    seek(d, 40)
    click_trace(d, 0.75)
    target = scene["times"][40] + 0.25 * 2.0  # a quarter of the 2 s window right of the cursor
    k = int(np.argmin(np.abs(scene["times"] - target)))
    assert abs(k - 40 - 15) <= 1
    wait_for(d, "return window.nwbview.k === arguments[0] && !document.querySelector('video').seeking", k, timeout=10)
    assert shown_frame(d) == scene["frames"][k]
    check_readout(readout(d), scene["times"][k])


@pytest.mark.browser
def test_no_video_page_draws_the_arena(page, tmp_path):
    info = write_coded_session(tmp_path / "novideo", with_video=False)
    with nwbview.open(info["nwb"]) as s:
        out = nwbview.export_html(s, tmp_path / "arena.html", start=1.0, stop=3.0, overlays=[PositionOverlay(s.position(), color="#00ff00")],
                                  timeseries=[TimeSeriesOverlay(signal(), label="sig")], progress=False)
    scene = scene_of(out)
    d = page(out)
    assert "no video" in d.find_element("css selector", ".nv-note").text
    for k in [5, 37, 12]:
        d.execute_script("window.nwbview.seekFrame(arguments[0])", k)
        wait_for(d, "return window.nwbview.k === arguments[0]", k, timeout=10)
        check_readout(readout(d), scene["times"][k])
    d.execute_script("window.nwbview.log.length = 0; window.nwbview.setSpeed(4); window.nwbview.play()")
    wait_for(d, "return window.nwbview.log.length > 10")
    log = d.execute_script("const log = window.nwbview.log.slice(); window.nwbview.pause(); return log")
    assert all(b > a for a, b in zip(log, log[1:]))
    shot = image_from_png(d.find_element("css selector", ".nv-stage").screenshot_as_png)
    assert np.all(shot == (0, 255, 0), axis=-1).sum() > 10  # the position, on the arena


def test_scene_without_a_column_or_overlays(coded_session):
    with nwbview.open(coded_session["nwb"]) as s, warnings.catch_warnings():
        warnings.simplefilter("error")
        scene = build_scene(s, start=2.0, stop=2.5, overlays=[], timeseries=[])
    try:
        assert scene.meta["column"] == [] and scene.meta["column_width"] == 0 and scene.meta["panels"][0]["overlays"] == []
        assert len(json.loads(scene.to_json())["buffers"]) == len(scene.buffers)
    finally:
        scene.close()
    plan = build_plan(coded_session["nwb"], start=2.0, stop=2.5, overlays=[], timeseries=[])
    assert len(plan) == scene.plan.times.size
    plan.close()


# -- the session report ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(tmp_path_factory, demo_session):
    """A report page of a copy of the demo session with an occupancy heatmap written in it."""
    import shutil
    from pathlib import Path

    from nwbview.heatmap import occupancy
    from nwbview.io.write import write_results
    from nwbview.results import heatmap_result

    folder = tmp_path_factory.mktemp("report")
    for p in Path(demo_session.nwb_path).parent.iterdir():
        shutil.copy2(p, folder / p.name)
    nwb = folder / Path(demo_session.nwb_path).name
    with nwbview.open(nwb) as s:
        occ = occupancy(s.position())
    write_results(nwb, heatmap_result(occ))
    out = folder / "report.html"
    r = CliRunner().invoke(main, ["html", str(nwb), "-o", str(out), "--start", "1", "--stop", "2", "--quiet", "--report",
                                  "--landmarks", str(folder / "demo_landmarks.csv")])
    assert r.exit_code == 0, r.output
    assert "a session report" in r.output
    return out


@pytest.mark.slow
def test_the_report_holds_the_inventory_and_the_heatmaps_written(report, coded_session, tmp_path):
    import base64

    import cv2

    text = report.read_text(encoding="utf-8")
    assert "<h2>Session</h2>" in text and "Heatmaps in the file (1)" in text
    assert "processing/behavior/heatmap_occupancy_nwbview" in text  # the figure's caption
    inventory = re.search(r"<pre>(.*?)</pre>", text, re.S).group(1)
    assert "position" in inventory and "NWB file:" in inventory
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', text).group(1))
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape[0] > 200 and img.std() > 10  # a drawn figure, not a blank
    assert "http" not in re.sub(r'content="[^"]*"|xmlns="[^"]*"', "", text.split("<script")[0])  # loads nothing
    # a file without heatmaps says how to add them; without --report the page has no report
    plain = nwbview.export_html(coded_session["nwb"], tmp_path / "plain.html", start=2, stop=2.5, progress=False)
    assert "nv-report" not in plain.read_text(encoding="utf-8")
    bare = nwbview.export_html(coded_session["nwb"], tmp_path / "bare.html", start=2, stop=2.5, progress=False, report=True)
    assert "None written: <code>nwbview heatmap SESSION --write</code>" in bare.read_text(encoding="utf-8")


@pytest.mark.browser
def test_the_report_page_plays(page, report):
    d = page(report)
    d.execute_script("window.nwbview.seekFrame(10)")
    wait_for(d, "return window.nwbview.k === 10 && window.nwbview.wanted === null")
    assert d.execute_script("return document.querySelectorAll('.nv-report figure img').length") == 1
    assert d.execute_script("return document.querySelector('.nv-report figure img').naturalWidth") > 200
