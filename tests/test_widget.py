"""The notebook widget (``nwbview.widget``): its kernel side in a real kernel (nbclient), its front-end
(``nwbview.js``, the HTML player's) mounted in headless Chromium with a model the test drives."""

from __future__ import annotations

import base64
import json
import re
import textwrap

import numpy as np
import pytest

import nwbview
from nwbview.errors import MissingDependencyError, NWBViewError
from nwbview.render import TimeSeriesOverlay
from nwbview.testing.video import read_frame_index
from tests.fixtures.browser import FRAME_PIXELS, click_trace, image_from_data_url, signal, wait_for

pytest.importorskip("anywidget", reason="the widget needs the notebook extra: pip install -e '.[notebook]'")

START, STOP = 1.5, 4.5  # video frames 15 ... 104


def decode_jpeg(data: bytes) -> np.ndarray:
    import cv2

    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]


# -- in-process --------------------------------------------------------------------------------------


def test_frame_and_time_follow_each_other(coded_session):
    w = nwbview.widget(coded_session["nwb"], start=START, stop=STOP, timeseries=[])
    try:
        t = coded_session["t"]
        assert (w.frame, w.time) == (15, t[15]) and w.frames[0] == 15 and w.times.size == 90
        w.frame = 40
        assert w.time == t[40]
        w.time = t[60] + 0.01  # a time goes to the nearest frame
        assert (w.frame, w.time) == (60, t[60])
        assert read_frame_index(decode_jpeg(w.frame_jpeg())) == 60
        assert read_frame_index(decode_jpeg(w.jpeg(3))) == 18
        for bad in (dict(frame=200), dict(frame=3), dict(time=10.0), dict(time="later"), dict(frame=None)):
            with pytest.raises(NWBViewError):
                w.set_trait(*next(iter(bad.items())))
        assert (w.frame, w.time) == (60, t[60])  # a refused value leaves the view where it was
    finally:
        w.close()


def test_a_missing_anywidget_says_which_extra(monkeypatch, coded_session):
    import sys

    monkeypatch.setitem(sys.modules, "anywidget", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'nwbview\[notebook\]'"):
        nwbview.widget(coded_session["nwb"])


def test_a_long_range_sends_its_traces_in_windows(coded_session, monkeypatch):
    from nwbview.render.browser import notebook
    from nwbview.render.browser.scene import build_scene

    sig = TimeSeriesOverlay(signal(), label="sig", window_s=1.0)
    whole = nwbview.widget(coded_session["nwb"], start=START, stop=STOP, timeseries=[sig])
    monkeypatch.setattr(notebook, "MAX_SAMPLES", 100)  # as if the range were hours long
    w = nwbview.widget(coded_session["nwb"], start=START, stop=STOP, timeseries=[sig])
    try:
        assert whole.scene.samples is None and not whole.scene.meta["traces_windowed"]
        assert w.scene.meta["traces_windowed"] and w.scene.meta["trace_span_s"] == 20.0
        assert sum(map(len, w.scene.buffers)) < sum(map(len, whole.scene.buffers)) - 300 * 12  # the samples stay in the kernel
        sent = []
        w.send = lambda content, buffers=None: sent.append((content, [bytes(b) for b in buffers or []]))
        w._handle_custom_msg({"type": "traces", "t0": 2.0, "t1": 3.5}, [])
        (reply, buffers), = sent
        assert reply["type"] == "traces" and (reply["t0"], reply["t1"]) == (2.0, 3.5)
        ref = reply["rows"][0][0]
        t = np.frombuffer(buffers[ref["t"]["$b"]], "<f8")
        v = np.frombuffer(buffers[ref["value"]["$b"]], "<f4")
        # every sample of [2.0, 3.5] and one more each side, as the whole scene holds them (NaN gap included)
        np.testing.assert_allclose(t, np.arange(199, 352) / 100.0)
        np.testing.assert_allclose(v, np.where((t >= 3.0) & (t < 3.2), np.nan, 10 * t), rtol=1e-6)
        assert np.isnan(v).sum() == 20
    finally:
        w.close()
        whole.close()


def test_a_streamed_session(http_server, coded_session):
    """The widget on a session read over HTTP: frames exact, read on demand (a frame that cannot be
    read is the front-end's test below: the kernel answers with an error, or not at all)."""
    import shutil

    for name in ("session.nwb", "cam.mp4"):
        shutil.copy(coded_session["folder"] / name, http_server.root / name)
    w = nwbview.widget(http_server.file_url("session.nwb"), start=START, stop=STOP, timeseries=[])
    try:
        assert w.scene.plan.panels[0].reader.files[0].startswith("http://")
        sent = []
        w.send = lambda content, buffers=None: sent.append((content, [bytes(b) for b in buffers or []]))
        for k in (61, 40, 3, 89, 1000):  # random steps: seeks over HTTP; the last is not in the view
            w._handle_custom_msg({"type": "frame", "k": k}, [])
        for (msg, jpeg), k in zip(sent, (61, 40, 3, 89)):
            assert msg == {"type": "frame", "k": k} and read_frame_index(decode_jpeg(jpeg[0])) == 15 + k
        assert sent[-1][0]["type"] == "error" and sent[-1][0]["message"].startswith("Frame 1000 could not be read")
    finally:
        w.close()


# -- the kernel side, in a real kernel -----------------------------------------------------------------


def run_notebook(cells: list[str], cwd) -> list:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(textwrap.dedent(c)) for c in cells])
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(cwd)}}).execute()
    return [c.outputs for c in nb.cells]


def text_of(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream" and o.get("name") == "stdout")


@pytest.mark.slow
def test_the_kernel_side_through_a_real_kernel(coded_session, tmp_path):
    nwb = str(coded_session["nwb"])
    out = run_notebook([
        f"""
        import json, numpy as np, cv2, nwbview
        from nwbview.testing.video import read_frame_index
        w = nwbview.widget({nwb!r}, start={START}, stop={STOP}, show_speed=False)
        w
        """,
        """
        w.frame = 40
        print(w.frame, repr(w.time))
        w.time = 2.5
        print(w.frame, repr(w.time))
        """,
        # what the front-end asks for, and what the kernel answers, on the widget's comm
        """
        sent = []
        w.send = lambda content, buffers=None: sent.append((content, [bytes(b) for b in buffers or []]))
        w._handle_custom_msg({"type": "scene"}, [])
        w._handle_custom_msg({"type": "frame", "k": 7}, [])
        w._handle_custom_msg({"type": "frame", "k": 5000}, [])
        (scene, bufs), (frame, jpeg), (error, none) = sent
        img = cv2.imdecode(np.frombuffer(jpeg[0], np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
        print(json.dumps([scene["type"], len(bufs), scene["meta"]["size"], frame, read_frame_index(img), error["type"], none]))
        print(error["message"])
        """,
        "w.frame = 5000",
        f"nwbview.widget({nwb!r}, start=100, stop=200)",
        "print(w.frame, w.time)",
    ], tmp_path)
    shown = out[0][0]
    assert shown["output_type"] == "execute_result" and "application/vnd.jupyter.widget-view+json" in shown["data"]
    assert text_of(out[1]).split("\n")[:2] == [f"40 {float(coded_session['t'][40])!r}", f"45 {float(coded_session['t'][45])!r}"]
    report, message = text_of(out[2]).strip().split("\n")
    assert json.loads(report) == ["scene", json.loads(report)[1], [320, 240], {"type": "frame", "k": 7}, 22, "error", []]
    assert json.loads(report)[1] > 5 and message.startswith("Frame 5000 could not be read: Step 5000 is not in this view")
    for cell, ename, what in [(out[3], "NWBViewError", "Frame 5000 is not in this view"), (out[4], "TimeRangeError", "No frame of video")]:
        (err,) = [o for o in cell if o.output_type == "error"]
        assert err["ename"] == ename and len(err["traceback"]) == 1  # one line, no traceback
        assert "error:" in err["traceback"][0] and what in err["traceback"][0]
    assert text_of(out[5]).strip() == f"45 {float(coded_session['t'][45])!r}"  # the widget kept working


# -- the front-end, with a model the test drives ------------------------------------------------------

FAILING = 13  # the step whose frame the fake kernel cannot read
SILENT = 12  # the step whose frame never arrives (the fake kernel does not answer)


@pytest.fixture(scope="module")
def widget_page(coded_session, tmp_path_factory):
    """A test page holding the widget's front-end, a fake model and the kernel's answers (scene, JPEGs)."""
    from nwbview.testing.browser import widget_page as make_page

    w = nwbview.widget(coded_session["nwb"], start=START, stop=STOP, timeseries=[TimeSeriesOverlay(signal(), label="sig")])
    try:
        w.frame = int(w.frames[20])  # where the view opens
        path = make_page(w, tmp_path_factory.mktemp("widget") / "widget.html", failing=(FAILING,), silent=(SILENT,), frame_timeout_s=1.0)
    finally:
        w.close()
    return path, json.loads(re.search(r'<script type="application/json" id="scene">(.*?)</script>', path.read_text(), re.S).group(1).replace("<\\/", "</"))


def canvas_frame(d) -> int:
    return read_frame_index(image_from_data_url(d.execute_script(FRAME_PIXELS)))


def settled(d, k):
    wait_for(d, "return window.nwbview.k === arguments[0] && window.nwbview.wanted === null", k, timeout=10)


@pytest.mark.browser
def test_the_front_end_shows_the_frame_the_kernel_sets(page, widget_page, coded_session):
    path, scene = widget_page
    t = coded_session["t"]
    d = page(path)
    settled(d, 20)  # the model's frame when the view opened
    assert canvas_frame(d) == 35
    for frame in (80, 16, 55, 104):
        d.execute_script("model.set('frame', arguments[0])", frame)  # a cell sets w.frame
        settled(d, frame - 15)
        assert canvas_frame(d) == frame
        text = d.execute_script("return document.querySelector('.nv-readout').textContent")
        assert float(text.split()[1]) == pytest.approx(10 * t[frame], abs=0.05 + 1e-9)
        assert d.execute_script("return model.get('time')") == t[frame]


@pytest.mark.browser
def test_the_front_end_moves_the_model_steps_plays_and_jumps(page, widget_page, coded_session):
    from selenium.webdriver.common.keys import Keys

    path, scene = widget_page
    t = coded_session["t"]
    d = page(path)
    settled(d, 20)
    root = d.find_element("css selector", ".nwbview")
    root.send_keys(Keys.ARROW_RIGHT)
    settled(d, 21)
    assert canvas_frame(d) == 36 and d.execute_script("return [model.get('frame'), model.get('time')]") == [36, t[36]]
    # playing: frames asked ahead, shown in order
    d.execute_script("window.nwbview.log.length = 0; model.sent.length = 0; window.nwbview.play()")
    wait_for(d, "return window.nwbview.k >= 50", timeout=20)
    log, asked = d.execute_script("const log = window.nwbview.log.slice(); window.nwbview.pause();"
                                  "return [log, model.sent.filter((m) => m.type === 'frame').map((m) => m.k)]")
    assert len(log) > 10 and all(b > a for a, b in zip(log, log[1:]))
    assert max(asked) > max(log)  # prefetched
    k = d.execute_script("return window.nwbview.k")
    assert canvas_frame(d) == 15 + k
    wait_for(d, "return model.get('frame') === arguments[0]", 15 + k, timeout=5)  # paused: the model knows where
    # a click on the trace, a quarter window right of the cursor
    click_trace(d, 0.75)
    target = int(np.argmin(np.abs(np.asarray(scene_times(scene)) - (t[15 + k] + 0.5))))
    settled(d, target)
    assert canvas_frame(d) == 15 + target


def scene_times(scene) -> np.ndarray:
    ref = scene["meta"]["times"]
    return np.frombuffer(base64.b64decode(scene["buffers"][ref["$b"]]), "<f8")


@pytest.mark.browser
def test_a_frame_that_fails_shows_a_message_and_the_view_keeps_working(page, widget_page):
    path, _ = widget_page
    d = page(path)
    settled(d, 20)
    d.execute_script("window.nwbview.seekFrame(arguments[0])", FAILING)
    message = wait_for(d, "const m = document.querySelector('.nv-message'); return m.style.display === 'block' && m.textContent")
    assert f"Frame {FAILING} could not be read" in message
    assert d.execute_script("return window.nwbview.k") == 20 and canvas_frame(d) == 35  # still the last good frame
    d.execute_script("window.nwbview.seekFrame(30)")
    settled(d, 30)
    assert canvas_frame(d) == 45


@pytest.mark.browser
def test_a_frame_that_never_arrives_is_reported_and_the_view_keeps_working(page, widget_page):
    path, _ = widget_page
    d = page(path)
    settled(d, 20)
    d.execute_script("window.nwbview.seekFrame(arguments[0])", SILENT)
    message = wait_for(d, "const m = document.querySelector('.nv-message'); return m.style.display === 'block' && m.textContent", timeout=10)
    assert f"Frame {SILENT} did not arrive from the kernel" in message
    assert d.execute_script("return window.nwbview.k") == 20 and canvas_frame(d) == 35
    d.execute_script("window.nwbview.seekFrame(25)")
    settled(d, 25)
    assert canvas_frame(d) == 40


@pytest.fixture(scope="module")
def windowed_page(coded_session, tmp_path_factory):
    """The widget's test page over a 'long' range: its traces' samples come from the fake kernel in windows."""
    from nwbview.render.browser import notebook
    from nwbview.testing.browser import widget_page as make_page

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(notebook, "MAX_SAMPLES", 100)
        w = nwbview.widget(coded_session["nwb"], start=START, stop=STOP, timeseries=[TimeSeriesOverlay(signal(), label="sig", window_s=1.0)])
    try:
        assert w.scene.meta["traces_windowed"]
        w.scene.meta["trace_span_s"] = 0.5  # a narrow margin, so that a seek leaves the samples held
        w.frame = int(w.frames[20])
        return make_page(w, tmp_path_factory.mktemp("windowed") / "widget.html")
    finally:
        w.close()


@pytest.mark.browser
def test_the_front_end_asks_for_the_samples_around_the_cursor(page, windowed_page, coded_session):
    t = coded_session["t"]
    d = page(windowed_page)
    settled(d, 20)
    held = "const c = window.nwbview.column; const tr = c.rows[0].traces[0]; return [c.held, Array.from(tr.t), Array.from(tr.value)]"
    for k in (20, 80, 5):
        if k != 20:
            d.execute_script("window.nwbview.seekFrame(arguments[0])", k)
            settled(d, k)
        now = t[15 + k]
        covered = "const h = window.nwbview.column.held; return !!h && h[0] <= arguments[0] - 0.5 && arguments[0] + 0.5 <= h[1]"
        wait_for(d, covered, now, timeout=10)
        (t0, t1), ts, vs = d.execute_script(held)
        assert t0 == pytest.approx(now - 1.0) and t1 == pytest.approx(now + 1.0)
        ts, vs = np.asarray(ts), np.asarray(vs, float)
        assert ts[0] <= t0 and ts[-1] >= t1 and ts.size < 250  # the window and its margin, not the whole signal
        ok = np.isfinite(vs)
        np.testing.assert_allclose(vs[ok], 10 * ts[ok], rtol=1e-6)
    asked = d.execute_script("return model.sent.filter((m) => m.type === 'traces').length")
    assert 3 <= asked <= 6
