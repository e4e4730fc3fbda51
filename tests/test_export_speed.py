"""The export's work split (issue 21): chunks by frame count alone, balanced between workers, the
parent rendering one run, workers started early and given light jobs. No timing here."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nwbview.render.encoding import CHUNK_FRAMES, MIN_CHUNK_FRAMES, export_bounds, segments


@pytest.mark.parametrize("n", [1, 2, 59, 119, 120, 121, 239, 240, 241, 480, 481, 600, 1799, 1800, 18000, 108_001])
def test_export_chunks_cover_the_clip_in_an_even_number_of_equal_chunks(n):
    b = export_bounds(n)
    assert b[0][0] == 0 and b[-1][1] == n and all(b[i][1] == b[i + 1][0] for i in range(len(b) - 1))
    sizes = [y - x for x, y in b]
    assert max(sizes) <= max(CHUNK_FRAMES, n if n < 2 * MIN_CHUNK_FRAMES else 0) and max(sizes) - min(sizes) <= 1
    if n < 2 * MIN_CHUNK_FRAMES:
        assert len(b) == 1  # one worker: another would cost more to start than it saves
    else:
        assert len(b) % 2 == 0 and min(sizes) >= MIN_CHUNK_FRAMES
        halves = [sum(sizes[c] for c in seg) for seg in segments(len(b), 2)]
        assert abs(halves[0] - halves[1]) <= len(b) // 2  # two workers get the same frames, to a frame per chunk


def test_600_frames_split_300_300_not_480_120():
    b = export_bounds(600)
    assert b == [(0, 150), (150, 300), (300, 450), (450, 600)]
    assert segments(len(b), 2) == [[0, 1], [2, 3]]


@pytest.fixture(scope="module")
def demo_plan(tmp_path_factory):
    """A 5 s plan of a small demo session: the default overlays, a calibration, the column."""
    import nwbview
    from nwbview.calibration import fit_landmarks, read_landmarks_csv
    from nwbview.demo import make_demo_session
    from nwbview.render import build_plan

    folder = tmp_path_factory.mktemp("demo")
    make_demo_session(folder, duration=6.0)
    labels, pix, world = read_landmarks_csv(folder / "demo_landmarks.csv")
    cal = fit_landmarks(pix, world, labels=labels, frame_dimension=(640, 480))
    with nwbview.open(folder / "demo_session.nwb") as s:
        p = build_plan(s, start=0.5, stop=5.5, calibration=cal)
    yield dict(plan=p, nwb=folder / "demo_session.nwb", cal=cal)
    p.close()


def test_a_worker_job_holds_no_calibration_and_unpickles_without_pynwb(demo_plan, tmp_path):
    plan = demo_plan["plan"]
    assert plan.panels[0].geometry is not None and plan.panels[0].geometry.calibration is not None
    part = plan.part(0, len(plan) // 2)
    assert all(p.geometry is None for p in part.panels) and plan.panels[0].geometry is not None  # the plan is not changed
    job = tmp_path / "job.pkl"
    job.write_bytes(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
    code = ("import pickle, sys; p = pickle.load(open(sys.argv[1], 'rb')); "
            "print(sorted(m for m in ('pynwb', 'hdmf', 'ndx_video_calibration', 'xarray', 'matplotlib') if m in sys.modules))")
    from nwbview.render.workers import worker_env

    out = subprocess.run([sys.executable, "-P", "-c", code, str(job)], env=worker_env(), capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_part_draws_its_frames_as_the_whole_plan_does(demo_plan):
    from nwbview.render.plan import Renderer

    plan = demo_plan["plan"]
    k0, k1 = 40, 80
    whole, part = Renderer(plan), Renderer(plan.part(k0, k1))
    for k in (k0, k0 + 7, k1 - 1):
        assert np.array_equal(whole.render(k), part.render(k))
    part.plan.close()


def test_a_worker_given_no_job_exits_cleanly():
    from nwbview.render.workers import WorkerPool, worker_command, worker_env

    r = subprocess.run(worker_command("-"), stdin=subprocess.DEVNULL, env=worker_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr
    pool = WorkerPool(2)
    procs = list(pool.procs)
    pool.close()  # ends them whatever they were doing
    assert all(p.returncode is not None for p in procs) and pool.procs == []


def test_the_parent_renders_the_first_run_and_short_clips_use_one_process(demo_plan, tmp_path, monkeypatch):
    """Default workers on 2 cores: one worker started, the parent renders half; < 120 frames: no worker used."""
    import av

    from nwbview.render import export_video
    from nwbview.render import workers as workers_mod

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    seen = []
    real_init, real_run = workers_mod.WorkerPool.__init__, workers_mod.WorkerPool.run

    def init(self, n, **kw):
        seen.append(("pool", n))
        real_init(self, n, **kw)

    def run(self, plan, bounds, segs, *a, **k):
        seen.append(("run", len(bounds), segs))
        real_run(self, plan, bounds, segs, *a, **k)

    monkeypatch.setattr(workers_mod.WorkerPool, "__init__", init)
    monkeypatch.setattr(workers_mod.WorkerPool, "run", run)
    nwb, cal = demo_plan["nwb"], demo_plan["cal"]
    n = len(demo_plan["plan"])
    assert n >= 2 * 60
    out = export_video(nwb, tmp_path / "a.mp4", start=0.5, stop=5.5, calibration=cal, progress=False)
    assert seen == [("pool", 1), ("run", len(export_bounds(n)), segments(len(export_bounds(n)), 2))]
    seen.clear()
    one = export_video(nwb, tmp_path / "b.mp4", start=0.5, stop=5.5, calibration=cal, workers=1, progress=False)
    assert seen == []

    def frames(path):
        with av.open(str(path)) as c:
            return [f.to_ndarray(format="yuv420p").tobytes() for f in c.decode(video=0)]

    assert frames(out) == frames(one) and len(frames(out)) == n
    short = export_video(nwb, tmp_path / "c.mp4", start=0.5, stop=3.5, calibration=cal, progress=False)  # < 120 frames: 1 chunk
    assert seen == [("pool", 1)] and len(frames(short)) < 2 * 60


def test_a_failed_export_stops_its_early_workers(demo_plan, tmp_path, monkeypatch):
    from nwbview.render import TimeRangeError, export_video
    from nwbview.render import workers as workers_mod

    pools = []
    real_init = workers_mod.WorkerPool.__init__

    def init(self, n, **kw):
        real_init(self, n, **kw)
        pools.append(list(self.procs))

    monkeypatch.setattr(workers_mod.WorkerPool, "__init__", init)
    with pytest.raises(TimeRangeError):
        export_video(demo_plan["nwb"], tmp_path / "x.mp4", start=500.0, stop=600.0, workers=2, progress=False)
    assert pools and all(p.returncode is not None for p in pools[0])
    assert not (tmp_path / "x.mp4").exists() and list(tmp_path.iterdir()) == []


def test_the_column_background_drawn_by_a_worker_is_the_one_drawn_here_and_the_worker_then_renders(demo_plan, tmp_path):
    """The export asks its idle worker for the column's background while the overlays load; the
    image is the same, the worker then takes its job, the spec files are removed."""
    import glob
    import tempfile

    from nwbview.render.column import Column, draw_background
    from nwbview.render.encoding import chunk_path
    from nwbview.render.workers import WorkerPool

    import nwbview
    from nwbview.render import build_plan

    with nwbview.open(demo_plan["nwb"]) as s:  # its own readers: other tests close the shared plan's
        plan = build_plan(s, start=0.5, stop=5.5, calibration=demo_plan["cal"])
    spec = plan.column.background_spec
    here = draw_background(spec)
    assert np.array_equal(here, plan.column.background) and here.min() < 100  # ticks and labels drawn
    bounds = export_bounds(len(plan))
    with WorkerPool(1, draws=True) as pool:
        drawing = pool.draw(spec)
        assert not isinstance(drawing, np.ndarray)  # asked of the worker, not drawn here
        assert np.array_equal(drawing.result(), here) and drawing.result() is drawing.result()
        # this drawing's own files (the system temp folder is shared with other processes' exports)
        assert drawing.path.startswith(tempfile.gettempdir()) and not glob.glob(f"{drawing.path}*")
        # a Column holding the pending drawing pickles (for a worker's job) with the image
        col = pickle.loads(pickle.dumps(plan.column))
        col.background = pool.draw(spec)
        assert np.array_equal(pickle.loads(pickle.dumps(col)).background, here)
        done = []
        segs = segments(len(bounds), 2)
        pool.run(plan.part(0, len(plan)), bounds, segs, str(tmp_path), 23, "veryfast", type("Bar", (), {"update": lambda self, n: None})(),
                 lambda c: done.append(c))
    assert done == list(range(len(bounds))) and not any(Path(chunk_path(str(tmp_path), c)).stat().st_size == 0 for c in done)
    assert isinstance(plan.column, Column)


def test_a_background_is_drawn_here_when_the_worker_is_gone(demo_plan):
    from nwbview.render.column import draw_background
    from nwbview.render.workers import WorkerPool

    plan = demo_plan["plan"]
    spec = plan.column.background_spec
    with WorkerPool(1, draws=True) as pool:
        pool.procs[0].kill()
        pool.procs[0].wait()
        got = pool.draw(spec)
        img = got if isinstance(got, np.ndarray) else got.result()
    assert np.array_equal(img, draw_background(spec))


@pytest.mark.parametrize("size", [(64, 48), (1000, 480), (250, 142)])  # 1000 and 250: rows padded in the frame's planes
def test_the_reused_yuv_frame_holds_what_a_fresh_frame_does(size):
    import av
    import cv2

    from nwbview.render.encoding import YuvFrame

    W, H = size
    rng = np.random.default_rng(1)
    yuv = YuvFrame(W, H)
    for _ in range(3):  # refilled: nothing of the previous picture is left
        rgb = rng.integers(0, 256, (H, W, 3), np.uint8)
        fresh = av.VideoFrame.from_ndarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
        got = yuv.fill(rgb)
        assert got.format.name == "yuv420p" and (got.width, got.height) == (W, H)
        for a, b in zip(got.planes, fresh.planes):
            assert np.array_equal(np.frombuffer(a, np.uint8).reshape(-1, a.line_size)[:, : a.width],
                                  np.frombuffer(b, np.uint8).reshape(-1, b.line_size)[:, : b.width])  # fmt: skip
    with pytest.raises(ValueError, match="even"):
        YuvFrame(63, 48)


def test_refilling_the_frame_the_encoder_was_sent_changes_nothing_it_encodes(tmp_path):
    """The encoder copies each picture when it is sent (it holds frames for its lookahead): the
    file made with one reused frame is the file made with a fresh frame per picture, byte for byte."""
    import av
    import cv2

    from nwbview.render.encoding import YuvFrame, encoder_options

    W, H = 160, 120
    rng = np.random.default_rng(2)
    pictures = [rng.integers(0, 256, (H, W, 3), np.uint8) for _ in range(30)]

    def encode(path, frame_of):
        with av.open(str(path), "w", format="mp4") as out:
            st = out.add_stream("libx264", rate=30)
            st.width, st.height, st.pix_fmt = W, H, "yuv420p"
            st.options = encoder_options(23, "veryfast")
            for i, rgb in enumerate(pictures):
                f = frame_of(rgb)
                f.pts = i
                for p in st.encode(f):
                    out.mux(p)
            for p in st.encode():
                out.mux(p)
        with av.open(str(path)) as c:
            return [bytes(p) for p in c.demux(video=0) if p.size]

    reused = YuvFrame(W, H)
    a = encode(tmp_path / "reused.mp4", reused.fill)
    b = encode(tmp_path / "fresh.mp4", lambda rgb: av.VideoFrame.from_ndarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), format="yuv420p"))
    assert len(a) == 30 and a == b
