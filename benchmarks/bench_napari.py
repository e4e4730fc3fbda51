"""Benchmark the napari viewer: one step forward, a jump to a random time, the play button.

A step is the whole update a user waits for: the slider moves, napari slices every layer (the
video frame is decoded through the VideoReader, the overlays are sliced), the time-series dock
redraws (forced on every step here, although it is throttled to 40/s in use) and Qt paints the
window. Run under a display (``xvfb-run -a python benchmarks/bench_napari.py``); without one it
re-runs itself under ``xvfb-run`` when that is installed.

It also measures napari's own floor on this machine: a bare viewer of the same window and canvas
size holding one in-memory RGB layer of the video's frame size (no nwbview, no overlays, no
dock), stepped the same way. On a machine without a GPU (software OpenGL) the floor alone can be
close to the absolute goal (a step < 30 ms), so the relative goal is ``napari.step_over_floor``
<= 1.3. Both viewers stay open and are measured in turns (``--rounds``), as the machine's speed
drifts.

The play button: napari's own player (``QtDims.play``) runs at the video's frame rate for
``--play`` seconds; ``napari.play_dropped_pct`` is the share of the frames it should have shown
that were never painted (a frame is shown when the canvas paints it; one sliced and replaced
before a paint is dropped), for nwbview's view and for the floor.

OpenGL: by default the benchmark runs twice, in subprocesses: with the default OpenGL (a GPU
when there is one) and with ``LIBGL_ALWAYS_SOFTWARE=1`` (Mesa's software renderer); each run
prints the ``GL_RENDERER`` it got. ``--gl default`` or ``--gl software`` runs one of them.

Prints one figure per line, e.g. (2 cores, no GPU, software OpenGL, other jobs running)::

    napari.step_ms: 76.7 (goal < 30) (rounds: 83.2, 70.3)
    napari.floor_step_ms: 46.9 (bare napari, one in-memory 640x480 RGB layer) (rounds: 48.5, 45.2)
    napari.step_over_floor: 1.63 (goal <= 1.3) (rounds: 1.7, 1.6)

The vispy shader fix (``nwbview.render.napari._vispy_fixes``) is on unless the vispy version is
not one it was tested on; ``NWBVIEW_VISPY_PATCH=0`` runs the same benchmark without it (A/B);
``NWBVIEW_DEFER_THUMBNAILS=0`` redraws layer thumbnails on every step (A/B);
``NWBVIEW_HIDE_EMPTY_TEXT=0`` draws the Points layer's empty text as napari does (A/B).
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


def _gl_renderer(viewer) -> str:
    """The GL_RENDERER (and GL_VERSION) string of a viewer's canvas."""
    try:
        from vispy.gloo import gl

        canvas = viewer.window._qt_viewer.canvas._scene_canvas  # private: napari has no public way
        canvas.set_current()
        return f"{gl.glGetParameter(gl.GL_RENDERER)} (OpenGL {gl.glGetParameter(gl.GL_VERSION)})"
    except Exception as exc:  # noqa: BLE001 - only a label
        return f"unknown ({type(exc).__name__})"


def _scene_canvas(viewer):
    return viewer.window._qt_viewer.canvas._scene_canvas  # private: only to count and time repaints


def _floor_viewer(frame_hw: tuple[int, int], window: str, n_frames: int, canvas_hw: tuple[int, int]):
    """A bare napari viewer with one in-memory RGB layer, its canvas the size of ``canvas_hw``.

    An empty right-hand dock narrows its canvas to the session view's, since software GL's paint
    time grows with the canvas.
    """
    import napari
    from qtpy.QtWidgets import QApplication, QWidget

    app = QApplication.instance()
    frames = np.random.default_rng(0).integers(0, 256, (n_frames, *frame_hw, 3), dtype=np.uint8)
    viewer = napari.Viewer(show=True, title="napari floor")
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
    return viewer


class Stepper:
    """Steps one viewer forward and times each step: slicing (and the dock), then Qt's paint."""

    def __init__(self, viewer, n: int, dock=None):
        from qtpy.QtWidgets import QApplication

        self.viewer, self.n, self.dock = viewer, n, dock
        self.app = QApplication.instance()
        self.k = 0
        self.split: list[tuple[float, float]] = []
        self.cpu: list[float] = []

    def step_to(self, k: int) -> float:
        t, c = time.perf_counter(), time.process_time()
        self.viewer.dims.set_current_step(0, int(k) % self.n)  # napari slices the layers (the frame is decoded)
        if self.dock is not None:
            self.dock.flush()  # the dock redraws on every step here (throttled to 40/s in use)
        t1 = time.perf_counter()
        self.app.processEvents()  # Qt paints the canvas (GL) and the widgets
        t2 = time.perf_counter()
        self.cpu.append(time.process_time() - c)
        self.split.append((t1 - t, t2 - t1))
        return t2 - t

    def forward(self, n_steps: int) -> list[float]:
        """``n_steps`` timed steps forward (after 2 untimed ones: the window was just raised)."""
        self.viewer.window._qt_window.raise_()  # private: the window in front is the one painted
        for _ in range(2):
            self.k += 1
            self.step_to(self.k)
        del self.split[-2:], self.cpu[-2:]
        out = []
        for _ in range(n_steps):
            self.k += 1
            out.append(self.step_to(self.k))
        return out

    def reset(self) -> None:
        self.split.clear()
        self.cpu.clear()

    def paints(self, n: int = 30) -> list[float]:
        canvas = _scene_canvas(self.viewer)
        out = []
        for _ in range(n):
            canvas.update()
            t = time.perf_counter()
            self.app.processEvents()
            out.append(time.perf_counter() - t)
        return out


def play(viewer, fps: float, seconds: float) -> dict:
    """Run napari's play button at ``fps`` for ``seconds``: frames expected, sliced and painted."""
    from qtpy.QtCore import QEventLoop, QTimer
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance()
    for _ in range(3):
        app.processEvents()
    painted: list[int] = []
    sliced: list[int] = []
    canvas = _scene_canvas(viewer)

    def on_draw(event=None):
        painted.append(int(viewer.dims.current_step[0]))

    def on_step(event=None):
        sliced.append(int(viewer.dims.current_step[0]))

    qt_dims = viewer.window._qt_viewer.dims  # private: the play button's own player
    start = int(viewer.dims.current_step[0])
    canvas.events.draw.connect(on_draw)
    viewer.dims.events.current_step.connect(on_step)
    loop = QEventLoop()
    t0 = time.perf_counter()
    try:
        qt_dims.play(axis=0, fps=fps, loop_mode="loop")
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()
    finally:
        qt_dims.stop()
        elapsed = time.perf_counter() - t0
        canvas.events.draw.disconnect(on_draw)
        viewer.dims.events.current_step.disconnect(on_step)
    for _ in range(3):
        app.processEvents()
    expected = elapsed * fps
    shown = len(set(painted) - {start})
    return dict(expected=expected, sliced=len(set(sliced)), shown=shown,
                dropped_pct=100.0 * max(0.0, 1.0 - shown / expected) if expected else float("nan"))  # fmt: skip


def _median(values) -> float:
    return float(np.median(np.asarray(values, np.float64)))


def measure(args) -> int:
    """One run of the benchmark in this process (one OpenGL)."""
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
        print(f"# OpenGL: {_gl_renderer(viewer)} (LIBGL_ALWAYS_SOFTWARE={os.environ.get('LIBGL_ALWAYS_SOFTWARE', 'unset')})")
        canvas = viewer.screenshot(canvas_only=True, flash=False).shape
        print(f"# canvas {canvas[1]}x{canvas[0]} px; layers: {', '.join(layer.name for layer in viewer.layers)}")
        import vispy

        from nwbview.render.napari._vispy_fixes import fix_applies

        try:
            from nwbview.render.napari._thumbnails import deferral_applies
        except ImportError:  # an nwbview from before issue 21 (for before/after figures)
            deferral_applies = lambda: False  # noqa: E731
        prefetch = getattr(sv.frames, "prefetch", False)
        print(f"# vispy {vispy.__version__}: shader fix {'on' if fix_applies() else 'off'} ({ENV} = {os.environ.get(ENV, 'unset')}); "
              f"thumbnails {'deferred' if deferral_applies() else 'on every step'}; video read ahead {'on' if prefetch else 'off'}")  # fmt: skip
        n = len(sv.timeline)
        fps = float(sv.timeline.fps)
        frame_hw = (int(sv.frames.shape[1]), int(sv.frames.shape[2])) if sv.frames is not None else (480, 640)
        floor_viewer = _floor_viewer(frame_hw, args.window, min(n, 150), canvas[:2])
        shape = floor_viewer.screenshot(canvas_only=True, flash=False).shape
        print(f"# floor viewer canvas {shape[1]}x{shape[0]} px")
        ours = Stepper(viewer, n, sv.dock)
        floor = Stepper(floor_viewer, min(n, 150))
        figures: dict[str, list[float]] = {}

        def add(name: str, value: float) -> None:
            figures.setdefault(name, []).append(float(value))

        block = 10  # nwbview's view and the floor in turns of 10 steps: the machine's speed drifts
        for r in range(args.rounds):
            steps: dict[str, list[float]] = {"": [], "floor_": []}
            for st in (ours, floor):
                st.reset()
            for i in range(0, n_steps, block):
                for name, st in (("", ours), ("floor_", floor)):
                    steps[name] += st.forward(min(block, n_steps - i))
            for name, st in (("", ours), ("floor_", floor)):
                add(name + "step", _median(steps[name]) * 1e3)
                add(name + "p90", np.percentile(steps[name], 90) * 1e3)
                add(name + "slice", _median([a for a, _ in st.split]) * 1e3)
                add(name + "paint", _median([b for _, b in st.split]) * 1e3)
                add(name + "cpu", _median(st.cpu) * 1e3)
            add("ratio", figures["step"][-1] / figures["floor_step"][-1])
            if args.play > 0:
                for name, st in (("", ours), ("floor_", floor)):
                    st.viewer.window._qt_window.raise_()  # private: the window in front is the one painted
                    p = play(st.viewer, fps, args.play)
                    add(name + "play_dropped", p["dropped_pct"])
                    add(name + "play_shown", p["shown"])
                    add(name + "play_expected", p["expected"])
                    add(name + "play_sliced", p["sliced"])
            print(f"# round {r + 1}: step {figures['step'][-1]:.1f} ms, floor {figures['floor_step'][-1]:.1f} ms "
                  f"({figures['ratio'][-1]:.2f}x)"
                  + (f"; play at {fps:g} fps: {figures['play_dropped'][-1]:.0f}% dropped, floor "
                     f"{figures['floor_play_dropped'][-1]:.0f}%" if args.play > 0 else ""), flush=True)  # fmt: skip
        floor_paint = _median(floor.paints()) * 1e3

        rng = np.random.default_rng(0)
        ours.cpu.clear()
        jumps = [ours.step_to(int(k)) for k in rng.integers(0, n, size=25 if args.quick else 40)]
        jump_cpu = _median(ours.cpu) * 1e3

        dock = sv.dock
        dock_ms = []  # components, for reading the figure
        for k in range(5, 35):
            sv.set_step(k)
            app.processEvents()
            dock.requested = k
            t = time.perf_counter()
            dock.flush()
            dock_ms.append(time.perf_counter() - t)
        m = {k: _median(v) for k, v in figures.items()}
        rng_of = {k: f" (rounds: {', '.join(f'{x:.1f}' for x in v)})" if len(v) > 1 else "" for k, v in figures.items()}
        print(f"napari.step_ms: {m['step']:.1f} (goal < 30){rng_of['step']}")
        print(f"napari.jump_ms: {_median(jumps) * 1e3:.1f} (goal < 150)")
        print(f"napari.step_p90_ms: {m['p90']:.1f}")
        print(f"napari.step_slice_ms: {m['slice']:.1f} (Python: napari slices the layers, the frame is decoded, the dock redraws)")
        print(f"napari.step_paint_ms: {m['paint']:.1f} (Qt paints the window; the canvas through OpenGL)")
        print(f"napari.step_cpu_ms: {m['cpu']:.1f} (CPU time of this process, incl. Mesa's GL threads)")
        print(f"napari.jump_cpu_ms: {jump_cpu:.1f}")
        print(f"# load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"napari.dock_draw_ms: {_median(dock_ms) * 1e3:.1f}")
        print(f"napari.frames_decoded: {sv.frames.reads} (read ahead while the step before was shown: {getattr(sv.frames, 'prefetched', 0)})")
        print(f"napari.floor_step_ms: {m['floor_step']:.1f} (bare napari, one in-memory {frame_hw[1]}x{frame_hw[0]} RGB layer){rng_of['floor_step']}")
        print(f"napari.floor_slice_ms: {m['floor_slice']:.1f} (its slicing part)")
        print(f"napari.floor_paint_ms: {m['floor_paint']:.1f} (its painting part)")
        print(f"napari.floor_step_cpu_ms: {m['floor_cpu']:.1f} (CPU time of its step; less sensitive than wall time to other jobs)")
        print(f"napari.floor_repaint_ms: {floor_paint:.1f} (repainting that canvas, nothing changed)")
        print(f"napari.over_floor_ms: {m['step'] - m['floor_step']:.1f} (what nwbview's layers and dock add to a step)")
        print(f"napari.step_over_floor: {m['ratio']:.2f} (goal <= 1.3){rng_of['ratio']}")
        print(f"napari.step_cpu_over_floor: {m['cpu'] / m['floor_cpu']:.2f} (the same in CPU time)")
        if args.play > 0:
            print(f"napari.play_dropped_pct: {m['play_dropped']:.0f} (play button at {fps:g} fps for {args.play:g} s: "
                  f"{m['play_shown']:.0f} of {m['play_expected']:.0f} frames painted, {m['play_sliced']:.0f} sliced; goal <= 10 where "
                  "the floor allows)"
                  f"{rng_of['play_dropped']}")  # fmt: skip
            print(f"napari.floor_play_dropped_pct: {m['floor_play_dropped']:.0f} ({m['floor_play_shown']:.0f} of "
                  f"{m['floor_play_expected']:.0f} painted, {m['floor_play_sliced']:.0f} sliced){rng_of['floor_play_dropped']}")  # fmt: skip
        floor_viewer.close()
        viewer.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


GL_MODES = {"default": "default OpenGL (a GPU's when there is one)", "software": "LIBGL_ALWAYS_SOFTWARE=1 (Mesa's software renderer)"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a shorter session and fewer steps")
    ap.add_argument("--duration", type=float, default=None, help="demo session length (s)")
    ap.add_argument("--steps", type=int, default=None, help="steps forward to time per round")
    ap.add_argument("--rounds", type=int, default=2, help="turns of nwbview's view and the floor (default 2)")
    ap.add_argument("--play", type=float, default=5.0, help="seconds of the play button per round (0: skip)")
    ap.add_argument("--window", default="1280x800", help="window size WIDTHxHEIGHT")
    ap.add_argument("--gl", choices=["both", *GL_MODES], default="both",
                    help="OpenGL: both (default; each in a subprocess), default, or software")  # fmt: skip
    args = ap.parse_args()
    _ensure_display()
    if args.gl != "both":
        if args.gl == "software":
            os.environ["LIBGL_ALWAYS_SOFTWARE"] = "1"
        return measure(args)
    code = 0
    for mode, label in GL_MODES.items():
        print(f"## OpenGL: {label}", flush=True)
        env = {k: v for k, v in os.environ.items() if k != "LIBGL_ALWAYS_SOFTWARE"}
        argv, skip = [], False
        for a in sys.argv[1:]:  # every option but --gl
            if skip or a.startswith("--gl="):
                skip = False
                continue
            skip = a == "--gl"
            if not skip:
                argv.append(a)
        r = subprocess.run([sys.executable, os.path.abspath(__file__), *argv, "--gl", mode], env=env)
        code = code or r.returncode
    return code


if __name__ == "__main__":
    sys.exit(main())
