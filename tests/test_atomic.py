"""Outputs appear whole or not at all, keep their owner and mode, and leave no litter."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time

import h5py
import numpy as np
import pytest

from nwbview.io.atomic import atomic_output, clean_stale, is_locked, temp_dir, writer_lock


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_failed_write_leaves_the_target_untouched(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["table.csv"]


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_replace_keeps_mode_owner_and_group(tmp_path):
    import grp
    import pwd

    target = tmp_path / "session.nwb"
    target.write_text("old")
    nobody = pwd.getpwnam("nobody")
    group = grp.getgrgid(nobody.pw_gid)
    os.chown(target, nobody.pw_uid, group.gr_gid)
    os.chmod(target, 0o640)
    with atomic_output(target) as tmp:
        tmp.write_text("new")
    st = target.stat()
    assert target.read_text() == "new"
    assert (oct(st.st_mode & 0o7777), st.st_uid, st.st_gid) == ("0o640", nobody.pw_uid, group.gr_gid)


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    target = tmp_path / "clip.mp4"
    dead, alive = _dead_pid(), os.getppid()
    stale_file = tmp_path / f".clip.mp4.nwbview-tmp-{dead}-0123abcd.mp4"
    stale_dir = tmp_path / f".clip.mp4.nwbview-tmp-{dead}-4567abcd.d"
    running = tmp_path / f".clip.mp4.nwbview-tmp-{alive}-89abcdef.mp4"
    other = tmp_path / f".other.mp4.nwbview-tmp-{dead}-0123abcd.mp4"
    stale_file.write_bytes(b"x" * 100)
    stale_dir.mkdir()
    (stale_dir / "chunk_000000.mp4").write_bytes(b"x")
    for p in (running, other):
        p.write_bytes(b"x")
    with atomic_output(target) as tmp:
        tmp.write_bytes(b"video")
    assert not stale_file.exists() and not stale_dir.exists()
    assert running.exists() and other.exists()  # a live writer's, and another target's
    assert clean_stale(target) == []


def test_temp_dir_is_removed(tmp_path):
    with temp_dir(tmp_path / "clip.mp4") as d:
        (d / "a").write_bytes(b"1")
        assert d.name.startswith(".clip.mp4.nwbview-tmp-")
    assert not d.exists()


def test_writer_lock_excludes_and_leaves_nothing(tmp_path):
    path = tmp_path / "s.nwb"
    path.write_bytes(b"")
    order = []

    def second():
        with writer_lock(path):
            order.append("second")

    with writer_lock(path):
        t = threading.Thread(target=second)
        t.start()
        time.sleep(0.3)
        order.append("first")
    t.join(10)
    assert order == ["first", "second"]
    assert sorted(os.listdir(tmp_path)) == ["s.nwb"]
    with writer_lock(path):
        with pytest.raises(TimeoutError):
            with writer_lock(path, timeout=0.2):
                pass


@pytest.mark.slow
def test_lock_probe_never_changes_the_file(tmp_path):
    """The probe must not open the file for writing (that flips HDF5's status flags)."""
    path = tmp_path / "s.h5"
    with h5py.File(path, "w", libver="latest") as f:  # superblock v3: has the open-for-write flag
        f["x"] = np.arange(10)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert not is_locked(path)
    code = f"import h5py, time; f = h5py.File({str(path)!r}, 'r'); print('ok', flush=True); time.sleep(30)"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        assert is_locked(path)
    finally:
        holder.kill()
        holder.wait()
    # a probe killed at any moment changes nothing either: it never writes
    probe = subprocess.Popen([sys.executable, "-c", f"from nwbview.io.atomic import is_locked\nwhile True: is_locked({str(path)!r})"])
    time.sleep(1.0)
    probe.kill()
    probe.wait()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    with h5py.File(path, "r") as f:
        assert f["x"][-1] == 9
