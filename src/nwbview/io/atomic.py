"""Files that appear whole or not at all, writers that exclude each other, and no litter.

Every output nwbview writes (NWB files, videos, images, figures, tables) goes through
:func:`atomic_output`: the content is written under a temporary name in the target's folder
(``.NAME.nwbview-tmp-PID-RANDOM[.SUFFIX]``), and only a complete file is renamed into place
(``os.replace``, atomic on one file system). A replaced file keeps its mode, owner and group.
Temporary files and folders left by a process that died (SIGKILL, power loss) carry its PID;
the next run that writes the same target removes them when that process is gone.

:func:`writer_lock` serialises the writers of one NWB file from their read to their rename (an
advisory ``flock`` on a sidecar ``.NAME.nwbview-lock``, removed on release); readers are not
affected. :func:`is_locked` asks whether another program holds an HDF5 file open without opening
it for writing (opening with ``r+`` marks the file as open for writing, so a process killed at
that moment would leave the original changed).

Examples
--------
>>> from nwbview.io.atomic import atomic_output
>>> with atomic_output("table.csv") as tmp:  # doctest: +SKIP
...     tmp.write_text("a,b\\n1,2\\n")
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import stat
import time
import uuid
from pathlib import Path
from typing import Iterator

from nwbview.errors import OutputPathError

__all__ = [
    "atomic_output",
    "check_output_path",
    "save_output",
    "temp_dir",
    "clean_stale",
    "writer_lock",
    "is_locked",
    "file_state",
]

_TAG = "nwbview-tmp"


def _tmp_name(target: Path, kind: str = "") -> Path:
    suffix = target.suffix if kind == "" else kind
    return target.with_name(f".{target.name}.{_TAG}-{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(target: str | os.PathLike) -> list[Path]:
    """Remove temporary files and folders of earlier writes of ``target`` whose process is gone.

    Returns the paths removed.

    Examples
    --------
    >>> clean_stale("clip.mp4")  # doctest: +SKIP
    []
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.{_TAG}-(?P<pid>\d+)-[0-9a-f]+")
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for p in entries:
        m = pattern.match(p.name)
        if not m or _alive(int(m["pid"])):
            continue
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def _copy_ownership(src: Path, dst: Path) -> None:
    """Give ``dst`` the mode, owner and group of ``src`` (as far as this user may)."""
    try:
        st = src.stat()
    except OSError:
        return
    os.chmod(dst, stat.S_IMODE(st.st_mode))
    dst_st = dst.stat()
    if (dst_st.st_uid, dst_st.st_gid) != (st.st_uid, st.st_gid):
        for uid, gid in ((st.st_uid, st.st_gid), (-1, st.st_gid)):
            try:
                os.chown(dst, uid, gid)
                break
            except PermissionError:
                continue
        os.chmod(dst, stat.S_IMODE(st.st_mode))  # chown clears set-id bits


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_output(target: str | os.PathLike, *, before_replace=None) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it into place when the block succeeds.

    On an error (or ``KeyboardInterrupt``) the temporary file is removed and ``target`` is
    untouched. Temporary files of earlier runs whose process died are removed first. An
    existing ``target`` keeps its mode, owner and group.

    Parameters
    ----------
    target
        The file to write.
    before_replace
        Called with the temporary path just before the rename (e.g. a last check that
        the original did not change meanwhile); raising there aborts the write.

    Examples
    --------
    >>> with atomic_output("summary.csv") as tmp:  # doctest: +SKIP
    ...     table.to_csv(tmp, index=False)
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    clean_stale(target)
    tmp = _tmp_name(target)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(errno.ENOENT, "nothing was written to the temporary file", str(tmp))
        if target.exists():
            _copy_ownership(target, tmp)
        if before_replace is not None:
            before_replace(tmp)
        os.replace(tmp, target)
        fsync_dir(folder)
    finally:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            tmp.unlink()


@contextlib.contextmanager
def temp_dir(target: str | os.PathLike) -> Iterator[Path]:
    """A scratch folder next to ``target`` (e.g. an export's chunks), removed afterwards.

    Named like :func:`atomic_output`'s temporary files, so a folder left by a killed process is
    removed by the next write of the same target.

    Examples
    --------
    >>> with temp_dir("clip.mp4") as d:  # doctest: +SKIP
    ...     (d / "chunk_0.mp4").write_bytes(b"")
    """
    target = Path(target)
    d = _tmp_name(target, kind=".d")
    d.mkdir()
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_output_path(
    path: str | os.PathLike, what: str, suffixes=None, *, error: type[Exception] = OutputPathError
) -> Path:
    """Check that ``what`` can be written to ``path`` before any work is done; return the path.

    Raises ``error`` (an :class:`OutputPathError` by default) naming the problem: an unknown
    file type (when ``suffixes`` is given), a folder, a missing or read-only folder, a
    read-only file.

    Examples
    --------
    >>> check_output_path("figures/occupancy.png", "the heatmap", {".png", ".svg"})  # doctest: +SKIP
    PosixPath('figures/occupancy.png')
    """
    out = Path(os.fspath(path)).expanduser()
    suffix = out.suffix.lower()
    where = f"Cannot write {what} to {str(out)!r}"
    if suffixes is not None and suffix not in suffixes:
        raise error(f"{where}: unknown file type {suffix or '(none)'}. Use one of {', '.join(sorted(suffixes))}.")
    if out.is_dir():
        raise error(f"{where}: it is a folder. Give a file name, e.g. {out / ('output' + (suffix or '.out'))}.")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise error(f"{where}: the folder {str(parent)!r} does not exist. Create it first, or choose another output path.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise error(f"{where}: the folder {str(parent)!r} is not writable. Choose a folder you can write to.")
    if out.exists() and not os.access(out, os.W_OK):
        raise error(f"{where}: the file exists and is read-only. Remove it or choose another name.")
    return out


def save_output(path: str | os.PathLike, what: str, write, suffixes=None) -> Path:
    """Write an output file whole or not at all: ``write(tmp_path)`` fills it, then it is renamed.

    The path is checked first (:func:`check_output_path`); an ``OSError`` while writing becomes
    an :class:`OutputPathError` that names the file and the reason. Returns the path.

    Examples
    --------
    >>> save_output("speed.csv", "the kinematics table", lambda tmp: table.to_csv(tmp))  # doctest: +SKIP
    PosixPath('speed.csv')
    """
    out = check_output_path(path, what, suffixes)
    try:
        with atomic_output(out) as tmp:
            write(tmp)
    except OSError as exc:
        raise OutputPathError(f"Cannot write {what} to {str(out)!r}: {exc.strerror or exc}. Nothing was written.") from exc
    return out


def file_state(path: str | os.PathLike) -> tuple[int, int, int, int]:
    """(device, inode, size, mtime in ns) of ``path``: changes when anyone rewrites it."""
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@contextlib.contextmanager
def writer_lock(path: str | os.PathLike, *, timeout: float = 600.0, on_wait=None) -> Iterator[None]:
    """Hold the advisory write lock of ``path`` (a sidecar file), waiting up to ``timeout`` s.

    nwbview's writers of one file take it from their read to their rename, so one never
    overwrites the other's result. Other programs do not know it: a writer also checks
    :func:`file_state` before its rename.

    Parameters
    ----------
    path
        The file to be written.
    timeout
        Seconds to wait for another writer before giving up with ``TimeoutError``.
    on_wait
        Called once (no arguments) when the lock is busy and this call starts waiting.

    Examples
    --------
    >>> with writer_lock("session.nwb"):  # doctest: +SKIP
    ...     ...  # read, compute, write a new file, rename it over session.nwb
    """
    path = Path(path)
    lock = path.with_name(f".{path.name}.nwbview-lock")
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another nwbview process has been writing {path} for over {timeout:.0f} s") from None
                if not waited and on_wait is not None:
                    on_wait()
                waited = True
                time.sleep(0.05)
                continue
            # the holder before us may have removed the lock file: then ours is not the lock
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(lock))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)


def is_locked(path: str | os.PathLike) -> bool:
    """True when another process holds ``path`` open through HDF5 (which ``flock``s its files).

    The check takes and drops an exclusive ``flock`` without opening the file for writing,
    so nothing in the file changes, whatever happens to this process meanwhile.

    Examples
    --------
    >>> is_locked("session.nwb")  # doctest: +SKIP
    False
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
