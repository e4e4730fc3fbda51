"""Headless Chromium for tests, benchmarks and screenshots of the browser front-end.

The system's Chromium and chromedriver (Debian: ``apt-get install chromium chromium-driver``;
``make sysdeps`` as root), driven with selenium; nothing is downloaded. ``NWBVIEW_CHROMIUM`` and
``NWBVIEW_CHROMEDRIVER`` name other binaries.

Examples
--------
>>> from nwbview.testing.browser import find_chromium
>>> browser, driver, why_not = find_chromium()
>>> isinstance(why_not, str)
True
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import time
from typing import Any

import numpy as np

__all__ = ["FRAME_PIXELS", "find_chromium", "open_chromium", "wait_for", "image_from_data_url", "image_from_png", "widget_page",
           "screenshot_page"]

CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DRIVERS = ("chromedriver", "/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver")

#: a script returning the pixels of the frame the page shows (the player's <video>, or the
#: widget's canvas) as a PNG data URL
FRAME_PIXELS = """
const el = document.querySelector('.nv-frame');
const c = document.createElement('canvas');
c.width = el.videoWidth || el.width; c.height = el.videoHeight || el.height;
c.getContext('2d').drawImage(el, 0, 0);
return c.toDataURL('image/png');
"""


def _which(env: str, names: tuple[str, ...]) -> str | None:
    if os.environ.get(env):
        return shutil.which(os.environ[env])
    return next((shutil.which(n) for n in names if shutil.which(n)), None)


def find_chromium() -> tuple[str | None, str | None, str]:
    """``(chromium, chromedriver, why not)``: the system's binaries, and the reason they cannot be used ("" when they can).

    Examples
    --------
    >>> find_chromium()  # doctest: +SKIP
    ('/usr/bin/chromium', '/usr/bin/chromedriver', '')
    """
    try:
        import selenium  # noqa: F401
    except ImportError:
        return None, None, "selenium is not installed (pip install -e '.[browser]')"
    browser, driver = _which("NWBVIEW_CHROMIUM", CHROMIUM), _which("NWBVIEW_CHROMEDRIVER", DRIVERS)
    if browser is None or driver is None:
        return browser, driver, ("no Chromium and chromedriver on this machine (Debian: apt-get install chromium chromium-driver, "
                                 "or `make sysdeps` as root)")
    return browser, driver, ""


def open_chromium(window: tuple[int, int] = (1400, 1000), *, log: bool = False) -> Any:
    """A headless Chromium (a selenium WebDriver) at ``window`` CSS pixels, device scale 1.

    ``log`` keeps the console's messages (``driver.get_log("browser")``).

    Raises
    ------
    RuntimeError
        No usable Chromium (the message says why).

    Examples
    --------
    >>> d = open_chromium()  # doctest: +SKIP
    >>> d.quit()  # doctest: +SKIP
    """
    browser, driver, why = find_chromium()
    if why:
        raise RuntimeError(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio",
                "--autoplay-policy=no-user-gesture-required", f"--window-size={window[0]},{window[1]}", "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    if log:
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(driver), options=opts)
    d.set_script_timeout(60)
    return d


def wait_for(driver: Any, script: str, *args: Any, timeout: float = 20.0) -> Any:
    """Run ``script`` (with ``args``) until it returns something true, and return that.

    Raises
    ------
    AssertionError
        Not by ``timeout`` seconds (the message says what was awaited).

    Examples
    --------
    >>> wait_for(d, "return window.nwbview && window.nwbview.k >= 0")  # doctest: +SKIP
    True
    """
    end = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script, *args)
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for: {script}")
        time.sleep(0.01)


def image_from_png(data: bytes) -> np.ndarray:
    """PNG bytes (a screenshot) as an RGB array."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def image_from_data_url(url: str) -> np.ndarray:
    """A ``data:image/png;base64,...`` URL (:data:`FRAME_PIXELS`) as an RGB array."""
    return image_from_png(base64.b64decode(url.split(",", 1)[1]))


#: the notebook's side of a widget page: a model the page (or a test) drives, and the kernel's answers
FAKE_HOST = """
class FakeModel {
  constructor(state) { this.state = state; this.handlers = {}; this.saves = 0; this.sent = []; }
  get(key) { return this.state[key]; }
  set(key, value) { if (this.state[key] === value) return; this.state[key] = value; this.emit("change:" + key); }
  save_changes() { this.saves++; }
  on(name, fn) { (this.handlers[name] = this.handlers[name] || []).push(fn); }
  off(name, fn) { this.handlers[name] = (this.handlers[name] || []).filter((f) => f !== fn); }
  emit(name, ...args) { for (const fn of [...(this.handlers[name] || [])]) fn(...args); }
  send(msg) { this.sent.push(msg); setTimeout(() => kernel(this, msg), 3); }
}
const SCENE = JSON.parse(document.getElementById("scene").textContent);
const JPEGS = JSON.parse(document.getElementById("jpegs").textContent);
const FAILING = %(failing)s;
const SILENT = %(silent)s;
const TIMEOUT = %(timeout)s;
const SAMPLES = %(samples)s;
const view = (bytes) => new DataView(bytes.buffer);
const f8 = (b64) => new Float64Array(bytesFromBase64(b64).buffer);
const f4 = (b64) => new Float32Array(bytesFromBase64(b64).buffer);
const HELD = SAMPLES && SAMPLES.map((row) => row.map(([t, v]) => [f8(t), f4(v)]));
function traces(model, t0, t1) {
  // the kernel's answer (Scene.traces_between): the samples of [t0, t1], one more each side
  const buffers = [];
  const ref = (arr, dtype) => (buffers.push(new DataView(arr.buffer)), { $b: buffers.length - 1, dtype, shape: [arr.length] });
  const rows = HELD.map((row) => row.map(([t, v]) => {
    const a = Math.max(lowerBound(t, t0) - 1, 0), b = Math.min(lowerBound(t, t1 + 1e-12) + 1, t.length);
    return { t: ref(t.slice(a, b), "f8"), value: ref(v.slice(a, b), "f4") };
  }));
  model.sent.push({ answered: "traces", t0, t1 });
  model.emit("msg:custom", { type: "traces", t0, t1, rows }, buffers);
}
function kernel(model, msg) {
  if (msg.type === "scene") {
    const meta = TIMEOUT === null ? SCENE.meta : { ...SCENE.meta, frame_timeout_s: TIMEOUT };
    model.emit("msg:custom", { type: "scene", meta }, SCENE.buffers.map((b) => view(bytesFromBase64(b))));
  } else if (msg.type === "traces") traces(model, msg.t0, msg.t1);
  else if (msg.type === "frame" && SILENT.includes(msg.k)) return;
  else if (msg.type === "frame" && (FAILING.includes(msg.k) || !(msg.k in JPEGS)))
    model.emit("msg:custom", { type: "error", k: msg.k, message: `Frame ${msg.k} could not be read: the server did not answer` });
  else if (msg.type === "frame") model.emit("msg:custom", { type: "frame", k: msg.k }, [view(bytesFromBase64(JPEGS[msg.k]))]);
}
const model = (window.model = new FakeModel(%(state)s));
const el = document.getElementById("app");
render({ model, el }).then(() => { window.nwbview = el.nwbview; });
"""


def widget_page(
    widget: Any, output: Any, *, failing: tuple[int, ...] = (), silent: tuple[int, ...] = (), frame_timeout_s: float | None = None
) -> Any:
    """A page holding a widget's front-end (``nwbview.js``) and, in place of the notebook, a model
    the page drives (``window.model``) and the kernel's answers: the widget's scene, the JPEG of
    every step (the steps in ``failing`` answer with an error, as a remote read that fails; those
    in ``silent`` never answer, as a kernel gone; ``frame_timeout_s`` is how long the front-end
    waits for them) and, over a long range, the traces' samples around the cursor.

    For tests and screenshots of the widget without a notebook server. Returns the path.

    Examples
    --------
    >>> widget_page(nwbview.widget("session.nwb", start=1, stop=3), "widget.html")  # doctest: +SKIP
    PosixPath('widget.html')
    """
    import json
    from pathlib import Path

    from nwbview.render.browser import front_end

    jpegs = {k: base64.b64encode(widget.jpeg(k)).decode() for k in range(widget.times.size)} if widget.frames is not None else {}
    state = json.dumps({"frame": None if widget.frame is None else int(widget.frame), "time": float(widget.time)})
    samples = widget.scene.samples
    held = None if samples is None else [[[base64.b64encode(np.asarray(t, "<f8").tobytes()).decode(), base64.b64encode(np.asarray(v, "<f4").tobytes()).decode()]
                                          for t, v in row] for row in samples]
    host = FAKE_HOST % {"failing": json.dumps([int(k) for k in failing]), "silent": json.dumps([int(k) for k in silent]),
                        "timeout": json.dumps(frame_timeout_s), "samples": json.dumps(held), "state": state}
    scene_json = widget.scene.to_json()
    text = f"""<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin: 8px"><div id="app"></div>
<script type="application/json" id="scene">{scene_json}</script>
<script type="application/json" id="jpegs">{json.dumps(jpegs)}</script>
<script type="module">
{front_end()}
{host}
</script></body></html>"""
    out = Path(output)
    out.write_text(text, encoding="utf-8")
    return out


def screenshot_page(page: Any, output: Any, *, time_s: float | None = None, window: tuple[int, int] = (1080, 820)) -> bool:
    """A picture (PNG) of the player or widget a page holds, at session time ``time_s`` (default:
    where it opens), in headless Chromium. False when there is no usable Chromium.

    Examples
    --------
    >>> screenshot_page("clip.html", "player.png", time_s=10.0)  # doctest: +SKIP
    True
    """
    from pathlib import Path

    if find_chromium()[2]:
        return False
    d = open_chromium(window=window)
    try:
        d.get(Path(page).resolve().as_uri())
        wait_for(d, "return !!(window.nwbview && window.nwbview.k >= 0)", timeout=30)
        if time_s is not None:
            d.execute_script("window.nwbview.seekTime(arguments[0])", time_s)
            wait_for(d, "return window.nwbview.wanted === null", timeout=30)
        time.sleep(0.5)  # the column and the overview settle on the page's final size
        d.find_element("css selector", ".nwbview").screenshot(str(output))
    finally:
        d.quit()
    return True
