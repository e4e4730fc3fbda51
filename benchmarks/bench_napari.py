"""Benchmark the napari viewer: one step forward, and a jump to a random time.

A step is the whole update a user waits for: the slider moves, napari slices every layer (the
video frame is decoded through the VideoReader, the overlays are sliced), the time-series dock
redraws (forced on every step here, although it is throttled to 40/s in use) and Qt paints the
window. Run under a display (``xvfb-run -a python benchmarks/bench_napari.py``); without one it
re-runs itself under ``xvfb-run`` when that is installed.

Prints one figure per line, e.g. (this machine, no GPU)::

    napari.step_ms: 78.7 (goal < 30)
    napari.jump_ms: 97.3 (goal < 150)
    napari.floor_step_ms: 39.7 (bare napari, one in-memory 640x480 RGB layer)

It also measures napari's own floor on this machine: a bare viewer of the same window size
holding one in-memory RGB layer of the video's frame size (no nwbview, no overlays, no dock),
stepped the same way. On a machine without a GPU (software OpenGL) the floor alone can be
close to the goal; ``napari.over_floor_ms`` is what nwbview adds to it.

The vispy shader fix (``nwbview.render.napari._vispy_fixes``) is on unless the vispy version is
not one it was tested on; ``NWBVIEW_VISPY_PATCH=0`` runs the same benchmark without it (A/B).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ENV = "NWBVIEW_VISPY_PATCH"


def _ensure_display() -> None:
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        if os.environ.get("NWBVIEW_BENCH_CHILD"):
            print("napari: skipped (no display)")
            sys.exit(0)
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            print("napari: skipped (no display and no xvfb-run)")
            sys.exit(0)
        env = {**os.environ, "NWBVIEW_BENCH_CHILD": "1"}
        r = subprocess.run([xvfb, "-a", "-s", "-screen 0 1600x1000x24", sys.executable, *sys.argv], env=env)
        sys.exit(r.returncode)


def _napari_floor(frame_hw: tuple[int, int], window: str, n_steps: int, canvas_hw: tuple[int, int]) -> tuple[float, float, float]:
    """Median step, its slicing part and a bare repaint (ms) of napari with one in-memory RGB layer.

    An empty right-hand dock narrows its canvas to ``canvas_hw`` (the session view's), since
    software GL's paint time grows with the canvas.
    """
    import napari
    from qtpy.QtWidgets import QApplication, QWidget

    app = QApplication.instance()
    frames = np.random.default_rng(0).integers(0, 256, (min(n_steps, 150) + 3, *frame_hw, 3), dtype=np.uint8)
    viewer = napari.Viewer(show=True)
    try:
        viewer.add_image(frames, rgb=True, contrast_limits=[0, 255])
        if window:
            viewer.window.resize(*(int(v) for v in window.lower().split("x")))
        for _ in range(5):
            app.processEvents()
        wide = viewer.screenshot(canvas_only=True, flash=False).shape[1] - canvas_hw[1]
        if wide > 0:
            filler = QWidget()
            filler.setFixedWidth(wide)
            viewer.window.add_dock_widget(filler, name="filler", area="right")
            for _ in range(5):
                app.processEvents()
        shape = viewer.screenshot(canvas_only=True, flash=False).shape
        print(f"# floor viewer canvas {shape[1]}x{shape[0]} px")

        sliced: list[float] = []

        def step_to(k: int) -> float:
            t = time.perf_counter()
            viewer.dims.set_current_step(0, k)
            sliced.append(time.perf_counter() - t)
            app.processEvents()
            return time.perf_counter() - t

        for k in range(3):
            step_to(k)
        sliced.clear()
        steps = [step_to(k) for k in range(3, len(frames))]
        canvas = viewer.window._qt_viewer.canvas._scene_canvas  # private: only to time a bare repaint
        paints = []
        for _ in range(30):
            canvas.update()
            t = time.perf_counter()
            app.processEvents()
            paints.append(time.perf_counter() - t)
    finally:
        viewer.close()
    return float(np.median(steps) * 1e3), float(np.median(sliced) * 1e3), float(np.median(paints) * 1e3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a shorter session and fewer steps")
    ap.add_argument("--duration", type=float, default=None, help="demo session length (s)")
    ap.add_argument("--steps", type=int, default=None, help="steps forward to time")
    ap.add_argument("--window", default="1280x800", help="window size WIDTHxHEIGHT")
    args = ap.parse_args()
    _ensure_display()

    import warnings

    # a private napari settings file: the window geometry a user saved must not change the figures
    os.environ.setdefault("NAPARI_CONFIG", os.path.join(tempfile.mkdtemp(prefix="nwbview-napari-"), "settings.yaml"))
    from qtpy.QtWidgets import QApplication

    from nwbview.demo import make_demo_session
    from nwbview.jobs import calibrate_job
    from nwbview.render.napari import session_view, view

    duration = args.duration or (8.0 if args.quick else 20.0)
    n_steps = args.steps or (60 if args.quick else 150)
    tmp = Path(tempfile.mkdtemp(prefix="nwbview-bench-napari-"))
    try:
        t0 = time.perf_counter()
        demo = make_demo_session(tmp, duration=duration, seed=3)
        calibrate_job(demo.nwb_path, landmarks=demo.landmarks_csv)
        print(f"# demo session {duration:g} s made and calibrated in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            viewer = view(demo.nwb_path, show=True)
        sv = session_view(viewer)
        app = QApplication.instance()
        if args.window:
            viewer.window.resize(*(int(v) for v in args.window.lower().split("x")))
        for _ in range(5):
            app.processEvents()
        print(f"napari.open_s: {time.perf_counter() - t0:.2f} (view() of the session, window shown)")
        canvas = viewer.screenshot(canvas_only=True, flash=False).shape
        print(f"# canvas {canvas[1]}x{canvas[0]} px; layers: {', '.join(layer.name for layer in viewer.layers)}")
        import vispy

        from nwbview.render.napari._vispy_fixes import fix_applies

        print(f"# vispy {vispy.__version__}: shader fix {'on' if fix_applies() else 'off'} ({ENV} = {os.environ.get(ENV, 'unset')})")
        n = len(sv.timeline)
        dock = sv.dock

        cpu: list[float] = []
        split: list[tuple[float, float]] = []

        def step_to(k: int) -> float:
            t, c = time.perf_counter(), time.process_time()
            sv.set_step(k)  # napari slices the layers (the video frame is decoded); the dock follows
            dock.flush()  # the dock redraws on every step here (throttled to 40/s in use)
            t1 = time.perf_counter()
            app.processEvents()  # Qt paints the canvas (GL) and the widgets
            t2 = time.perf_counter()
            cpu.append(time.process_time() - c)
            split.append((t1 - t, t2 - t1))
            return t2 - t

        # warm up: decode a few frames, draw the dock once
        for k in range(3):
            step_to(k)
        split.clear()
        steps = [step_to(k) for k in range(3, min(3 + n_steps, n))]
        step_cpu = float(np.median(cpu) * 1e3)
        step_slice, step_paint = (float(v) for v in np.median(np.array(split), axis=0) * 1e3)
        cpu.clear()
        rng = np.random.default_rng(0)
        jumps = [step_to(int(k)) for k in rng.integers(0, n, size=25 if args.quick else 40)]
        jump_cpu = float(np.median(cpu) * 1e3)

        # components, for reading the figure
        dock_ms = []
        for k in range(5, 35):
            sv.set_step(k)
            app.processEvents()
            dock.requested = k
            t = time.perf_counter()
            dock.flush()
            dock_ms.append(time.perf_counter() - t)
        step = float(np.median(steps) * 1e3)
        jump = float(np.median(jumps) * 1e3)
        print(f"napari.step_ms: {step:.1f} (goal < 30)")
        print(f"napari.jump_ms: {jump:.1f} (goal < 150)")
        print(f"napari.step_p90_ms: {np.percentile(steps, 90) * 1e3:.1f}")
        print(f"napari.step_slice_ms: {step_slice:.1f} (Python: napari slices the layers, the frame is decoded, the dock redraws)")
        print(f"napari.step_paint_ms: {step_paint:.1f} (Qt paints the window; the canvas through OpenGL)")
        print(f"napari.step_cpu_ms: {step_cpu:.1f} (CPU time of this process, incl. Mesa's GL threads)")
        print(f"napari.jump_cpu_ms: {jump_cpu:.1f}")
        print(f"# load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"napari.dock_draw_ms: {np.median(dock_ms) * 1e3:.1f}")
        print(f"napari.frames_decoded: {sv.frames.reads} (for {len(steps) + len(jumps) + 33} steps)")
        frame_hw = (int(sv.frames.shape[1]), int(sv.frames.shape[2])) if sv.frames is not None else (480, 640)
        viewer.close()
        floor, floor_slice, floor_paint = _napari_floor(frame_hw, args.window, n_steps, canvas[:2])
        print(f"napari.floor_step_ms: {floor:.1f} (bare napari, one in-memory {frame_hw[1]}x{frame_hw[0]} RGB layer)")
        print(f"napari.floor_slice_ms: {floor_slice:.1f} (its slicing part)")
        print(f"napari.floor_paint_ms: {floor_paint:.1f} (repainting that canvas, nothing changed)")
        print(f"napari.over_floor_ms: {step - floor:.1f} (what nwbview's layers and dock add to a step)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
