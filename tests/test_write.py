"""Writing results back: never damage the original, one copy per result, clear refusals."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from click.testing import CliRunner
from pynwb.testing.mock.file import mock_NWBFile

import nwbview
from nwbview.cli import main
from nwbview.errors import FileLockedError, WriteError
from nwbview.io.write import write_results
from nwbview.results import kinematics_results, read_provenance, speed_result
from tests.fixtures.sessions import add_lfp, add_pose, add_position, add_video, write


def _hash(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def session_file(tmp_path):
    """Position, pose (ndx-pose spec cached), LFP and a relative external video path."""
    nwb = mock_NWBFile(session_id="sess-7")
    add_position(nwb)
    add_lfp(nwb)
    vid = add_video(nwb, ["video/cam.mp4"], timestamps=np.arange(30) / 30.0)
    add_pose(nwb, n=30, source_video=vid)
    (tmp_path / "video").mkdir()
    (tmp_path / "video" / "cam.mp4").write_bytes(b"")  # only its path matters here
    return write(nwb, tmp_path / "session.nwb")


def _speed(path):
    with nwbview.open(path) as s:
        return speed_result(nwbview.compute_speed(s.position()))


@pytest.mark.slow
def test_replace_writes_and_keeps_everything(session_file):
    before_id = None
    with nwbview.open(session_file) as s:
        before_id = s.nwbfile.identifier
    write_results(session_file, _speed(session_file))
    with nwbview.open(session_file) as s:
        assert s.nwbfile.session_id == "sess-7" and s.nwbfile.identifier == before_id
        ts = s.nwbfile.processing["behavior"]["speed_nwbview"]
        assert ts.unit == "cm/s"
        np.testing.assert_allclose(ts.data[1:-1], 10.0)
        prov = read_provenance(ts.comments)
        assert prov["software"] == "nwbview" and prov["version"] == nwbview.__version__
        # old content is still there, external paths still resolve, pose extension still readable
        assert s.position().shape == (100, 2)
        assert s.pose().sizes["keypoint"] == 2
        assert not [p for p in s.inventory().problems if "not found" in p]
        [res] = s.inventory().of_kind("result")
        assert res.details["provenance"].startswith(f"nwbview {nwbview.__version__} compute_speed")
    assert not list(session_file.parent.glob(".*nwbview-tmp*"))


@pytest.mark.slow
def test_second_write_is_refused_then_overwrite_replaces(session_file):
    write_results(session_file, _speed(session_file))
    h = _hash(session_file)
    with pytest.raises(WriteError, match="already holds processing/behavior/speed_nwbview.*overwrite"):
        write_results(session_file, _speed(session_file))
    assert _hash(session_file) == h
    write_results(session_file, _speed(session_file), overwrite=True)
    with nwbview.open(session_file) as s:
        names = [k for k in s.nwbfile.processing["behavior"].data_interfaces if k.startswith("speed")]
        assert names == ["speed_nwbview"]


@pytest.mark.slow
def test_new_mode_derived_file(session_file, tmp_path):
    out = tmp_path / "derived" / "with_speed.nwb"
    write_results(session_file, _speed(session_file), mode="new", new_file=out)
    with nwbview.open(session_file) as s0, nwbview.open(out) as s1:
        assert s1.nwbfile.session_id == s0.nwbfile.session_id
        assert s1.nwbfile.identifier != s0.nwbfile.identifier
        assert "speed_nwbview" not in s0.nwbfile.processing["behavior"].data_interfaces
        vid = s1.nwbfile.acquisition["BehaviorVideo"]
        assert list(vid.external_file[:]) == ["../video/cam.mp4"]
        assert not [p for p in s1.inventory().problems if "not found" in p]  # resolves from the new folder


@pytest.mark.slow
def test_append_mode(session_file):
    write_results(session_file, _speed(session_file), mode="append")
    with pytest.raises(WriteError, match="already holds"):
        write_results(session_file, _speed(session_file), mode="append")
    write_results(session_file, _speed(session_file), mode="append", overwrite=True)
    with nwbview.open(session_file) as s:
        assert s.nwbfile.processing["behavior"]["speed_nwbview"].unit == "cm/s"


def test_bad_mode_and_missing_new_file(session_file):
    with pytest.raises(WriteError, match="Must be one of"):
        write_results(session_file, _speed(session_file), mode="inplace")
    with pytest.raises(WriteError, match="needs new_file"):
        write_results(session_file, _speed(session_file), mode="new")


@pytest.mark.slow
def test_locked_file_is_refused_and_untouched(session_file):
    h = _hash(session_file)
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import h5py, time; f = h5py.File({str(session_file)!r}, 'r'); print('ok', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        for mode in ("replace", "append"):
            with pytest.raises(FileLockedError, match="open in another program.*Nothing was written"):
                write_results(session_file, _speed(session_file), mode=mode)
    finally:
        holder.kill()
        holder.wait()
    assert _hash(session_file) == h
    assert not list(session_file.parent.glob(".*nwbview-tmp*"))


_WRITER = textwrap.dedent(
    """
    import sys, nwbview
    from nwbview.io.write import write_results
    from nwbview.results import kinematics_results
    path = sys.argv[1]
    with nwbview.open(path) as s:
        results = kinematics_results(s)
    print("writing", flush=True)
    write_results(path, results)
    """
)


@pytest.mark.parametrize("stage", ["before-export", "exported", "validated"])
@pytest.mark.slow
def test_crash_at_each_stage_leaves_original_intact(session_file, stage):
    h = _hash(session_file)
    env = {**os.environ, "NWBVIEW_CRASH_AT": stage}
    r = subprocess.run([sys.executable, "-c", _WRITER, str(session_file)], env=env, capture_output=True, text=True)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert _hash(session_file) == h
    with nwbview.open(session_file) as s:
        assert s.position().shape == (100, 2)
    # the next successful run cleans up what the killed one left
    write_results(session_file, _speed(session_file))
    assert not list(session_file.parent.glob(".*nwbview-tmp*"))


@pytest.mark.slow
def test_crash_at_random_times_during_write(tmp_path):
    nwb = mock_NWBFile()
    add_position(nwb, n=20000)
    add_lfp(nwb, n=400_000, n_ch=8)  # a few MB so that the write takes a while
    path = write(nwb, tmp_path / "big.nwb")
    h = _hash(path)
    for delay in (0.02, 0.1, 0.3):
        p = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "writing"
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert _hash(path) == h, f"original changed after a kill at +{delay}s"
        with nwbview.open(path) as s:
            assert s.lfp().shape == (400_000, 8)
    write_results(path, _speed(path))
    assert not list(tmp_path.glob(".*nwbview-tmp*"))


@pytest.mark.slow
def test_written_file_validates_and_opens_without_nwbview(session_file):
    import pynwb

    with nwbview.open(session_file) as s:
        results = kinematics_results(s, tracking="pose")
    write_results(session_file, results)
    assert pynwb.validate(path=str(session_file)) == []
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["nwbview"] = None  # nwbview is not there
        sys.modules["ndx_video_calibration"] = None
        from pynwb import NWBHDF5IO
        with NWBHDF5IO({str(session_file)!r}, "r", load_namespaces=True) as io:
            nwb = io.read()
            print(nwb.processing["behavior"]["speed_nwbview"].unit, nwb.processing["behavior"]["HeadDirection_nwbview"].name)
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["pixels/s", "HeadDirection_nwbview"]


@pytest.mark.slow
def test_written_names_never_collide_with_what_the_file_holds(tmp_path):
    """A file that already holds head_direction, speed and acceleration (and a CompassDirection
    named HeadDirection) keeps them through an overwriting write-back, and no two objects share a name."""
    from pynwb import TimeSeries
    from pynwb.behavior import CompassDirection, SpatialSeries

    from tests.fixtures.sessions import behavior

    nwb = mock_NWBFile()
    add_position(nwb)
    vid = add_video(nwb, ["cam.mp4"], timestamps=np.arange(30) / 30.0)
    add_pose(nwb, n=30, source_video=vid)
    own_hd = SpatialSeries(name="head_direction", data=np.linspace(0, 1, 30), unit="radians", reference_frame="ccw from +x", rate=30.0)
    behavior(nwb).add(CompassDirection(name="HeadDirection", spatial_series=[own_hd]))
    behavior(nwb).add(TimeSeries(name="acceleration", data=np.ones(30), unit="cm/s^2", rate=30.0))
    nwb.add_acquisition(TimeSeries(name="speed", data=np.arange(30.0), unit="cm/s", rate=30.0))
    path = write(nwb, tmp_path / "own.nwb")
    with nwbview.open(path) as s:
        results = kinematics_results(s, tracking="pose")
    assert {r.name for r in results} == {"speed_nwbview", "acceleration_nwbview", "HeadDirection_nwbview"}
    write_results(path, results, overwrite=True)
    with nwbview.open(path) as s:
        nwb = s.nwbfile
        np.testing.assert_array_equal(nwb.processing["behavior"]["HeadDirection"]["head_direction"].data[:], np.linspace(0, 1, 30))
        np.testing.assert_array_equal(nwb.acquisition["speed"].data[:], np.arange(30.0))
        assert list(nwb.processing["behavior"]["HeadDirection_nwbview"].spatial_series) == ["head_direction_nwbview"]
        names = [o.name for o in nwb.objects.values() if isinstance(o, TimeSeries)]
    assert len(names) == len(set(names)), sorted(names)


@pytest.mark.slow
def test_cli_kinematics_write_then_info(session_file):
    runner = CliRunner()
    r = runner.invoke(main, ["kinematics", str(session_file), "--write"])
    assert r.exit_code == 0, r.output
    assert "wrote processing/behavior/speed_nwbview" in r.output
    r2 = runner.invoke(main, ["kinematics", str(session_file), "--write"])
    assert r2.exit_code == 1 and "--overwrite" in r2.output
    r3 = runner.invoke(main, ["info", str(session_file)])
    assert "result (" in r3.output and "compute_speed" in r3.output


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
@pytest.mark.slow
def test_replace_keeps_owner_and_mode(session_file):
    import pwd

    nobody = pwd.getpwnam("nobody")
    os.chown(session_file, nobody.pw_uid, nobody.pw_gid)
    os.chmod(session_file, 0o640)
    write_results(session_file, _speed(session_file))
    st = session_file.stat()
    assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o640, nobody.pw_uid, nobody.pw_gid)


@pytest.mark.slow
def test_a_job_refuses_when_the_file_changed_since_it_read_it(session_file):
    from nwbview.io.atomic import file_state

    since = file_state(session_file)
    results = _speed(session_file)
    with nwbview.open(session_file) as s:
        head_direction = kinematics_results(s, tracking="pose")[2:]
    write_results(session_file, head_direction)  # another writer, meanwhile
    h = _hash(session_file)
    with pytest.raises(WriteError, match="changed since nwbview read it"):
        write_results(session_file, results, since=since)
    assert _hash(session_file) == h


@pytest.mark.slow
def test_an_interrupted_append_is_finished_by_the_next_write(session_file):
    write_results(session_file, _speed(session_file), mode="append")
    env = {**os.environ, "NWBVIEW_CRASH_AT": "append-swapping"}
    code = _WRITER.replace("write_results(path, results)", "write_results(path, results[:1], mode='append', overwrite=True)")
    r = subprocess.run([sys.executable, "-c", code, str(session_file)], env=env, capture_output=True, text=True)
    assert r.returncode == -signal.SIGKILL, r.stderr
    import h5py

    with h5py.File(session_file, "r") as f:  # the old result moved aside, the new one staged: both kept
        assert "behavior_nwbview_staging" in f["processing"]
    write_results(session_file, _speed(session_file), mode="append", overwrite=True)
    with h5py.File(session_file, "r") as f:
        assert "behavior_nwbview_staging" not in f["processing"]
        assert "speed_nwbview" in f["processing/behavior"]
