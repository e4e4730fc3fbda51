"""nwbview batch: many sessions on a real dask LocalCluster, failures kept apart, resumable runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from click.testing import CliRunner  # noqa: E402

from nwbview.batching import RECORDS_DIR, SUMMARY_COLUMNS, resolve_sources, batch  # noqa: E402
from nwbview.cli import main  # noqa: E402
from nwbview.errors import NWBViewError  # noqa: E402



@pytest.fixture(scope="module")
def demo2(tmp_path_factory):
    """A fresh 2 s demo session (never written to: copy it)."""
    from nwbview.demo import make_demo_session

    return make_demo_session(tmp_path_factory.mktemp("demo2"), duration=2.0, seed=3)


@pytest.fixture(scope="module")
def client():
    """A real local cluster: 2 worker processes, one thread each (shared by the tests here)."""
    from nwbview.batching import local_cluster

    cluster = local_cluster(2)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _sessions(folder: Path, demo, n: int, broken: bool = False) -> list[Path]:
    """``n`` copies of the demo session (s0.nwb ...) with its video and landmarks; plus a truncated one."""
    folder.mkdir(parents=True, exist_ok=True)
    src = Path(demo.nwb_path)
    shutil.copy2(demo.video_path, folder / Path(demo.video_path).name)
    paths = []
    for i in range(n):
        p = folder / f"s{i}.nwb"
        shutil.copy2(src, p)
        paths.append(p)
    if broken:
        data = src.read_bytes()
        (folder / "s_broken.nwb").write_bytes(data[: len(data) // 3])
    return paths


def _records(summary: Path) -> dict[str, Path]:
    """Finished sessions' records by session path."""
    out = {}
    for p in (summary.parent / RECORDS_DIR).glob("*.json"):
        if p.name.endswith(".pending.json") or p.name.startswith("."):  # a record being written
            continue
        out[json.loads(p.read_text())["session"]] = p
    return out


def _speed(path: Path) -> np.ndarray:
    import h5py

    with h5py.File(path, "r") as f:
        return f["processing/behavior/speed_nwbview/data"][()]


@pytest.mark.slow
def test_batch_on_local_cluster_failures_outputs_and_resume(tmp_path, demo2, client):
    from nwbview.jobs import calibrate_job, kinematics_job

    paths = _sessions(tmp_path / "sessions", demo2, 4, broken=True)
    summary = tmp_path / "out" / "summary.csv"
    t = batch(str(tmp_path / "sessions" / "*.nwb"), "kinematics", client, csv="{stem}_speed.csv", write=True,
                  summary=summary, progress=False)

    assert list(t.columns[: len(SUMMARY_COLUMNS)]) == list(SUMMARY_COLUMNS)
    assert len(t) == 5
    st = dict(zip(t.session, t.status))
    broken = str((tmp_path / "sessions" / "s_broken.nwb").resolve())
    assert st.pop(broken) == "failed"
    assert set(st.values()) == {"done"}
    err = t.set_index("session").loc[broken, "error"]
    assert "truncated or corrupt" in err and "Traceback" not in err

    # the same outputs as the single-session job on a copy of the same session
    ref_dir = tmp_path / "ref"
    ref = _sessions(ref_dir, demo2, 1)[0]
    kinematics_job(str(ref), csv=str(ref_dir / "s0_speed.csv"), write=True)
    for p in paths:
        assert (p.parent / f"{p.stem}_speed.csv").read_bytes() == (ref_dir / "s0_speed.csv").read_bytes()
        np.testing.assert_array_equal(_speed(p), _speed(ref))
    row = t.set_index("session").loc[str(paths[0])]
    assert row.outputs == str(paths[0].parent / "s0_speed.csv")
    assert "processing/behavior/speed_nwbview" in row.written and row["median"] > 0

    # the summary table, on disk
    import pandas as pd

    on_disk = pd.read_csv(summary)
    assert list(on_disk.status) == list(t.status)
    try:
        import pyarrow  # noqa: F401

        assert pd.read_parquet(summary.with_suffix(".parquet")).shape[0] == 5
    except ImportError:
        pass

    # a second run skips the 4 done (records untouched) and tries the broken one again
    recs = _records(summary)
    assert set(recs) == {str(p) for p in paths}
    before = {s: p.stat().st_mtime_ns for s, p in recs.items()}
    t2 = batch(str(tmp_path / "sessions" / "*.nwb"), "kinematics", client, csv="{stem}_speed.csv", write=True,
                   summary=summary, progress=False)
    st2 = dict(zip(t2.session, t2.status))
    assert st2.pop(broken) == "failed" and set(st2.values()) == {"skipped"}
    assert {s: p.stat().st_mtime_ns for s, p in _records(summary).items()} == before
    assert t2.set_index("session").loc[str(paths[1]), "outputs"].endswith("s1_speed.csv")

    # an output deleted, and another job writing into a session: those two are redone, the rest skipped;
    # the redo replaces the results this batch wrote before (no "already holds" failure)
    (paths[2].parent / "s2_speed.csv").unlink()
    calibrate_job(str(paths[3]), landmarks=str(demo2.landmarks_csv))
    t3 = batch([str(p) for p in paths], "kinematics", client, csv="{stem}_speed.csv", write=True,
                   summary=summary, progress=False)
    st3 = dict(zip(t3.session, t3.status))
    assert st3 == {str(paths[0]): "skipped", str(paths[1]): "skipped", str(paths[2]): "done", str(paths[3]): "done"}
    assert "replaced the results an earlier run" in t3.set_index("session").loc[str(paths[3]), "warnings"]
    np.testing.assert_array_equal(_speed(paths[3]), _speed(ref))



@pytest.mark.slow
def test_interrupted_batch_resumes(tmp_path, demo2, client):
    import nwbview

    paths = _sessions(tmp_path / "sessions", demo2, 4)
    summary = tmp_path / "summary.csv"
    pattern = str(tmp_path / "sessions" / "*.nwb")
    script = textwrap.dedent(f"""
        from nwbview.batching import batch
        batch({pattern!r}, "kinematics", workers=1, write=True, csv="{{stem}}_speed.csv",
                  summary={str(summary)!r}, progress=False)
    """)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not _records(summary):
            if proc.poll() is not None:
                pytest.fail(f"the batch ended before it was killed: {proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("no session finished within 120 s")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        time.sleep(0.5)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the batch's own worker processes, if any outlived it
        except ProcessLookupError:
            pass
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert not summary.exists()  # killed before the end

    done = _records(summary)
    stamps = {s: p.stat().st_mtime_ns for s, p in done.items()}
    assert 1 <= len(done) < 4
    for p in paths:  # every session still opens, done or not
        with nwbview.open(str(p)) as s:
            assert s.position().sizes["time"] > 0

    t = batch(pattern, "kinematics", client, write=True, csv="{stem}_speed.csv", summary=summary, progress=False)
    st = dict(zip(t.session, t.status))
    assert {s for s, v in st.items() if v == "skipped"} == set(done)
    assert {s for s, v in st.items() if v == "done"} == {str(p) for p in paths} - set(done)
    assert {s: p.stat().st_mtime_ns for s, p in _records(summary).items() if s in done} == stamps
    speed0 = _speed(paths[0])
    for p in paths:
        with nwbview.open(str(p)) as s:
            assert s.position().sizes["time"] > 0
        np.testing.assert_array_equal(_speed(p), speed0)
        assert (p.parent / f"{p.stem}_speed.csv").stat().st_size > 0
    assert not list((tmp_path / "sessions").glob(".*nwbview-tmp*"))  # no temporary file left by a later write


@pytest.mark.slow
def test_killed_after_write_before_record_is_recovered(tmp_path, demo2, client):
    """A pending marker + a changed input = the write-back had finished: the redo replaces it."""
    from nwbview.batching import _file_sig, _options_hash, _pending_path, _record_path, _write_json_atomic, _job_options
    from nwbview.jobs import kinematics_job

    (p,) = _sessions(tmp_path / "sessions", demo2, 1)
    summary = tmp_path / "summary.csv"
    start = _file_sig(p)
    kinematics_job(str(p), write=True)  # what the killed run had written
    opts = _job_options("kinematics", kinematics_job, {"write": True})
    rec = _record_path(tmp_path / RECORDS_DIR, "kinematics", str(p), _options_hash("kinematics", opts))
    _write_json_atomic(_pending_path(rec), {"job": "kinematics", "session": str(p), "input_at_start": start})
    t = batch(str(p), "kinematics", client, write=True, summary=summary, progress=False)
    assert t.status[0] == "done", t.error[0]
    assert "stopped after writing its results" in t.warnings[0]
    assert rec.exists() and not _pending_path(rec).exists()


@pytest.mark.slow
def test_calibrate_landmarks_pattern(tmp_path, demo2, client):
    paths = _sessions(tmp_path / "sessions", demo2, 2)
    shutil.copy2(demo2.landmarks_csv, tmp_path / "sessions" / "s0_landmarks.csv")  # s1 has none
    t = batch(str(tmp_path / "sessions" / "*.nwb"), "calibrate", client, landmarks_pattern="{stem}_landmarks.csv",
                  summary=tmp_path / "cal.csv", progress=False)
    st = t.set_index("session")
    assert st.loc[str(paths[0]), "status"] == "done"
    assert st.loc[str(paths[0]), "written"] == "processing/behavior/VideoCalibration"
    assert st.loc[str(paths[1]), "status"] == "failed"
    assert "s1_landmarks.csv" in st.loc[str(paths[1]), "error"]
    assert abs(st.loc[str(paths[0]), "cm_per_px"] - 1 / 5.6) < 1e-3


@pytest.mark.slow
def test_cli_batch(tmp_path, demo2, client):
    paths = _sessions(tmp_path / "sessions", demo2, 2)
    address = client.scheduler.address
    summary = tmp_path / "k.csv"
    r = CliRunner().invoke(main, ["batch", str(tmp_path / "sessions" / "*.nwb"), "kinematics", "--write", "--quiet",
                                  "--scheduler", address, "--summary", str(summary), "--tracking", "pose"])
    assert r.exit_code == 0, r.output
    assert "2 done, 0 skipped, 0 failed" in r.output
    import h5py

    for p in paths:
        with h5py.File(p, "r") as f:
            assert "processing/behavior/speed_nwbview" in f
    r = CliRunner().invoke(main, ["batch", str(tmp_path / "sessions" / "*.nwb"), "kinematics", "--write", "--quiet",
                                  "--scheduler", address, "--summary", str(summary), "--tracking", "pose"])
    assert r.exit_code == 0 and "0 done, 2 skipped" in r.output


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(["{dir}/*.nwb", "bogus"], "Unknown job 'bogus'", id="bad-job"),
        pytest.param(["{dir}/none-*.nwb", "info"], "No files match", id="empty-glob"),
        pytest.param(["{dir}/*.nwb", "kinematics", "--bogus"], "No such option '--bogus'", id="bad-option"),
        pytest.param(["{dir}/*.nwb", "kinematics", "--csv", "one.csv"], "names one file for 2 sessions", id="one-output"),
        pytest.param(["{dir}/*.nwb", "heatmap", "--kind", "nope"], "'nope' is not one of", id="bad-choice"),
    ],
)
def test_cli_batch_user_errors(tmp_path, args, message):
    for name in ("a.nwb", "b.nwb"):
        (tmp_path / name).write_bytes(b"x")
    r = CliRunner().invoke(main, ["batch"] + [a.format(dir=tmp_path) for a in args])
    assert r.exit_code == 1, r.output
    assert message in r.output and r.output.startswith("error: ")
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output


def test_sources_list_file_and_dandi(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    for name in ("a.nwb", "b.nwb", "c.nwb"):
        (tmp_path / "data" / name).write_bytes(b"\x89HDF\r\n\x1a\n")
    lst = tmp_path / "sessions.txt"
    lst.write_text("# my sessions\n\ndata/a.nwb\n  data/[bc].nwb  \nhttps://example.org/x.nwb\ndata/a.nwb\n")
    got = resolve_sources(str(lst))
    d = (tmp_path / "data").resolve()
    assert got == [str(d / "a.nwb"), str(d / "b.nwb"), str(d / "c.nwb"), "https://example.org/x.nwb"]
    assert resolve_sources(str(d / "a.nwb")) == [str(d / "a.nwb")]  # an .nwb file is a session, not a list

    monkeypatch.setitem(sys.modules, "dandi", None)
    monkeypatch.setitem(sys.modules, "dandi.dandiapi", None)
    with pytest.raises(NWBViewError, match=r'pip install "nwbview\[dandi\]"'):
        resolve_sources("dandi://000409")

    class Asset:
        def __init__(self, path):
            self.path = path

    class Dandiset:
        version_id = "0.240101.0000"

        def get_assets(self):
            return [Asset("sub-1/a.nwb"), Asset("sub-2/b.nwb"), Asset("dataset_description.json")]

        def get_assets_by_glob(self, pattern):
            import fnmatch

            return [a for a in self.get_assets() if fnmatch.fnmatch(a.path, pattern)]

    class Client:
        def __init__(self, api_url=None):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def get_dandiset(self, ident, version):
            assert ident == "000409"
            return Dandiset()

    api = types.ModuleType("dandi.dandiapi")
    api.DandiAPIClient = Client
    monkeypatch.setitem(sys.modules, "dandi", types.ModuleType("dandi"))
    monkeypatch.setitem(sys.modules, "dandi.dandiapi", api)
    assert resolve_sources("dandi://000409") == ["dandi://000409@0.240101.0000/sub-1/a.nwb", "dandi://000409@0.240101.0000/sub-2/b.nwb"]
    assert resolve_sources("dandi://000409/sub-2/*.nwb") == ["dandi://000409@0.240101.0000/sub-2/b.nwb"]


def test_options_checked_and_export_job(monkeypatch, tmp_path):
    from nwbview.batching import job_function

    (tmp_path / "a.nwb").write_bytes(b"x")
    with pytest.raises(NWBViewError, match="Job heatmap has no option.*colour"):
        batch(str(tmp_path / "a.nwb"), "heatmap", colour="red")
    with pytest.raises(NWBViewError, match="landmarks_pattern .* has no field"):
        batch(str(tmp_path / "a.nwb"), "calibrate", landmarks_pattern="lm.csv")
    from nwbview.jobs import export_job

    assert job_function("export") is export_job
    import nwbview

    # the function keeps its name once the module is imported: they are called apart
    assert nwbview.batch is batch and nwbview.batching.batch is batch
    with pytest.raises(NWBViewError, match="Unknown job"):
        nwbview.batch(str(tmp_path / "a.nwb"), "nope")


@pytest.mark.slow
def test_dandiset_through_the_api_stand_in(tmp_path, demo2, client, http_server, monkeypatch):
    """dandi://ID: listed with the dandi client, each asset streamed by a worker (local HTTP + DANDI API stand-in)."""
    pytest.importorskip("dandi")
    pytest.importorskip("remfile")
    for name in ("demo_session.nwb", "demo_video.mp4"):
        shutil.copy(Path(demo2.nwb_path).parent / name, http_server.root / name)
    shutil.copy(demo2.nwb_path, http_server.root / "second.nwb")
    http_server.add_dandiset("000123", {
        "sub-a/sub-a_ses-1.nwb": "demo_session.nwb",
        "sub-a/demo_video.mp4": "demo_video.mp4",
        "sub-b/sub-b_ses-1.nwb": "second.nwb",
    })
    api = http_server.url + "/api"
    monkeypatch.setenv("NWBVIEW_DANDI_API", api)
    client.run(lambda: os.environ.update(NWBVIEW_DANDI_API=api))  # the workers open the assets
    monkeypatch.chdir(tmp_path)
    try:
        _batch_over_dandiset(tmp_path, client)
    finally:
        client.run(lambda: os.environ.pop("NWBVIEW_DANDI_API", None))


def _batch_over_dandiset(tmp_path, client):
    t = batch("dandi://000123", "info", client, json_path="{stem}_info.json", summary="info.csv", progress=False)
    assert list(t.session) == ["dandi://000123@draft/sub-a/sub-a_ses-1.nwb", "dandi://000123@draft/sub-b/sub-b_ses-1.nwb"]
    assert list(t.status) == ["done", "done"], t.error.tolist()
    inv = json.loads((tmp_path / "sub-a_ses-1_info.json").read_text())  # remote: outputs in the working folder
    assert {s["kind"] for s in inv["streams"]} >= {"position", "pose", "video", "lfp"}
    t2 = batch("dandi://000123", "info", client, json_path="{stem}_info.json", summary="info.csv", progress=False)
    assert list(t2.status) == ["skipped", "skipped"]


@pytest.mark.slow
def test_worker_dying_mid_write_is_retried(tmp_path, demo2, client):
    """The worker is killed (SIGKILL) inside the write-back, twice; dask retries on a fresh worker."""
    import nwbview

    (p,) = _sessions(tmp_path / "sessions", demo2, 1)
    client.run(lambda: os.environ.update(NWBVIEW_CRASH_AT="exported"))  # both workers; a restarted one is clean
    try:
        t = batch(str(p), "kinematics", client, write=True, summary=tmp_path / "s.csv", progress=False)
    finally:
        client.run(lambda: os.environ.pop("NWBVIEW_CRASH_AT", None))
    assert t.status[0] == "done", t.error[0]
    with nwbview.open(str(p)) as s:
        assert "speed_nwbview" in s.nwbfile.processing["behavior"].data_interfaces
    assert not list(p.parent.glob(".*nwbview-tmp*"))
