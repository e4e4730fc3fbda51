"""Benchmark of nwbview in the browser: the notebook widget's kernel side and the one-file HTML player.

Run ``python benchmarks/bench_browser.py [--quick] [--data DIR]``. Figures, one per line:

- ``widget.frame_ms``: one frame request of the widget at 640x480 (decode in the kernel + JPEG),
  median over steps forward (what playing and the arrow keys ask) and over random frames;
  goal < 15 ms.
- ``html.size_mb``: the HTML file of a 30 s clip of the demo session (640x480, pose, trail,
  head direction, two traces: speed and LFP); goal < 10 MB.
- ``browser.step_ms``: one step of the HTML player in headless Chromium (overlays + column
  redrawn for the frame shown), median while playing at 1x; goal < 8 ms.
- ``html.seek_mismatches``: 100 random seeks in the HTML player of an index-coded 640x480 clip
  with two traces: frames where the frame shown (read back from its pixels) and the cursor (the
  step the traces and readouts follow) disagree; goal 0.

Headless Chromium is the system's (``chromium`` + ``chromedriver``, selenium); without them the
browser figures are skipped with a note. ``--data DIR`` keeps the generated sessions there.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def demo_session(folder: Path, duration: float) -> tuple[Path, Path]:
    from nwbview.demo import make_demo_session

    nwb = folder / "demo_session.nwb"
    if not nwb.exists():
        make_demo_session(folder, duration=duration, seed=0)
    return nwb, folder / "demo_landmarks.csv"


def coded_session(folder: Path, seconds: float) -> Path:
    """A 640x480 index-coded video at 30 fps with two signals (a ramp, a sine) on the session clock."""
    from pynwb import NWBHDF5IO, TimeSeries
    from pynwb.image import ImageSeries
    from pynwb.testing.mock.file import mock_NWBFile

    from nwbview.testing.video import write_test_video

    path = folder / "coded.nwb"
    if path.exists():
        return path
    n = int(seconds * 30)
    video = write_test_video(folder / "coded.mp4", n, size=(640, 480), fps=30.0, gop=60, bframes=2)
    t = 1.0 + np.arange(n) / 30.0
    nwb = mock_NWBFile(session_id="bench-browser")
    nwb.add_acquisition(ImageSeries(name="BehaviorVideo", description="index-coded", unit="n.a.", format="external",
                                    external_file=[video.name], starting_frame=[0], timestamps=t, dimension=[640, 480]))
    ts = np.arange(0, seconds + 2, 0.01)
    nwb.add_acquisition(TimeSeries(name="ramp", data=10.0 * ts, unit="a.u.", timestamps=ts))
    nwb.add_acquisition(TimeSeries(name="sine", data=np.sin(2 * np.pi * 3 * ts), unit="V", timestamps=ts))
    with NWBHDF5IO(str(path), "w") as io_:
        io_.write(nwb)
    return path


def coded_traces(s):
    import xarray as xr

    from nwbview.render import TimeSeriesOverlay

    out = []
    for name in ("ramp", "sine"):
        ts = s.nwbfile.acquisition[name]
        da = xr.DataArray(np.asarray(ts.data[:]), dims=("time",), coords={"time": np.asarray(ts.timestamps[:])}, name=name,
                          attrs={"units": ts.unit})
        out.append(TimeSeriesOverlay(da, label=name))
    return out


def bench_widget(nwb: Path, landmarks: Path, n: int) -> None:
    import nwbview

    w = nwbview.widget(nwb, start=5, stop=35, landmarks=landmarks, show_head_direction=True)
    try:
        size = w.scene.plan.size
        sent = []
        w.send = lambda content, buffers=None: sent.append(len(buffers[0]) if buffers else 0)

        def request(k: int) -> float:
            t0 = time.perf_counter()
            w._handle_custom_msg({"type": "frame", "k": int(k)}, [])
            return (time.perf_counter() - t0) * 1e3

        request(0)
        steps = [request(k) for k in range(1, n + 1)]
        rng = np.random.default_rng(0)
        randoms = [request(k) for k in rng.integers(0, w.times.size, n)]
        print(f"widget.frame_ms {size[0]}x{size[1]}: step forward median {np.median(steps):.1f} ms (p90 {np.percentile(steps, 90):.1f}); "
              f"random frame median {np.median(randoms):.1f} ms (p90 {np.percentile(randoms, 90):.1f}); "
              f"JPEG {np.median(sent) / 1e3:.0f} kB; {len(steps) + len(randoms)} requests")
    finally:
        w.close()


def open_browser():
    """Headless Chromium (nwbview.testing.browser), or None with a note."""
    from nwbview.testing.browser import find_chromium, open_chromium

    why = find_chromium()[2]
    if why:
        print(f"browser figures skipped: {why}")
        return None
    return open_chromium()


SHOWN = """
const v = document.querySelector('video.nv-frame'), c = document.createElement('canvas');
c.width = v.videoWidth; c.height = v.videoHeight; c.getContext('2d').drawImage(v, 0, 0);
return [window.nwbview.k, document.querySelector('.nv-readout').textContent, c.toDataURL('image/png')];
"""


def bench_player_step(d, html: Path, seconds: float) -> None:
    from nwbview.testing.browser import wait_for

    d.get(html.resolve().as_uri())
    wait_for(d, "return window.nwbview && window.nwbview.k >= 0")
    d.execute_script("window.nwbview.stepMs.length = 0; window.nwbview.log.length = 0; window.nwbview.play()")
    time.sleep(seconds)
    ms, log = d.execute_script("window.nwbview.pause(); return [window.nwbview.stepMs, window.nwbview.log]")
    print(f"browser.step_ms (overlays + column, 640x480 + 2 traces, playing 1x): median {np.median(ms):.2f} ms "
          f"(p90 {np.percentile(ms, 90):.2f}, max {np.max(ms):.1f}) over {len(ms)} steps; {len(log) / seconds:.1f} frames shown per s")


def bench_seeks(d, html: Path, n: int) -> None:
    from nwbview.testing.browser import image_from_data_url, wait_for
    from nwbview.testing.video import read_frame_index

    d.get(html.resolve().as_uri())
    wait_for(d, "return window.nwbview && window.nwbview.k >= 0")
    frames = d.execute_script("return Array.from(window.nwbview.scene.frames)")
    times = d.execute_script("return Array.from(window.nwbview.scene.times)")
    digits = d.execute_script("return window.nwbview.scene.column[0].traces[0].fmt.precision")
    tolerance = 0.5 * 10.0**-digits + 1e-9  # the readout is written with this many decimals
    rng = np.random.default_rng(1)
    wrong_frame = disagree = 0
    took = []
    for k in rng.integers(0, len(frames), n):
        k = int(k)
        t0 = time.perf_counter()
        d.execute_script("window.nwbview.seekFrame(arguments[0])", k)
        wait_for(d, "const p = window.nwbview; return p.k === arguments[0] && p.wanted === null && !document.querySelector('video').seeking", k)
        took.append((time.perf_counter() - t0) * 1e3)
        cursor, text, url = d.execute_script(SHOWN)
        shown = read_frame_index(image_from_data_url(url))
        wrong_frame += shown != frames[k]
        value = float(text.split()[1])
        disagree += shown != frames[cursor] or abs(value - 10 * times[cursor]) > tolerance
    print(f"html.seek_mismatches: {disagree} of {n} random seeks where the frame shown and the cursor disagree; "
          f"{wrong_frame} not the frame asked; seek to settled median {np.median(took):.0f} ms")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", type=Path, default=None)
    a = ap.parse_args()
    folder = a.data or Path(tempfile.mkdtemp(prefix="nwbview-bench-browser-"))
    folder.mkdir(parents=True, exist_ok=True)
    import nwbview

    nwb, landmarks = demo_session(folder, 40.0)
    bench_widget(nwb, landmarks, 50 if a.quick else 200)

    html = folder / "demo_clip.html"
    t0 = time.perf_counter()
    nwbview.export_html(nwb, html, start=5, stop=35, landmarks=landmarks, show_head_direction=True, progress=False)
    print(f"html.size_mb (30 s of 640x480, pose, trail, head direction, speed + LFP): {html.stat().st_size / 1e6:.2f} MB "
          f"(made in {time.perf_counter() - t0:.1f} s)")
    coded = coded_session(folder, 30.0)
    coded_html = folder / "coded_clip.html"
    with nwbview.open(coded) as s:
        nwbview.export_html(s, coded_html, start=1.0, stop=30.9, overlays=[], timeseries=coded_traces(s), progress=False)
    print(f"html.size_mb (30 s index-coded 640x480 pattern, two traces): {coded_html.stat().st_size / 1e6:.2f} MB")

    d = open_browser()
    if d is not None:
        try:
            bench_player_step(d, html, 3.0 if a.quick else 8.0)
            bench_seeks(d, coded_html, 30 if a.quick else 100)
        finally:
            d.quit()
    if a.data is None:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
