"""Write results back into NWB files without ever damaging the original.

HDF5 gives no atomic writes: a crash during an append can leave a file that
is larger, inconsistent or unreadable. So the default writes a complete new
file under a temporary name in the same folder, checks that it opens and
validates, and only then renames it over the original (``os.replace``, atomic
on one file system). Until that moment the original is untouched.

Modes
-----
replace (default)
    New complete file, validated, renamed over the original.
new
    The same into another path: a derived file with a new ``identifier``, the
    same ``session_id``, and relative external video paths rewritten for its
    folder.
append
    For files too large to copy: opened with ``r+``; refused up front when the
    file is locked or a result exists (unless ``overwrite``); checked after.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
import warnings
from pathlib import Path
from typing import Any, Iterable

import h5py

from nwbview.errors import FileLockedError, MissingFileError, NWBViewError, WriteError, renamed_keywords
from nwbview.io.atomic import atomic_output, file_state, is_locked, writer_lock
from nwbview.io.nwb import file_namespaces, import_extensions, open_remote
from nwbview.io.paths import is_remote

__all__ = ["write_results", "check_unlocked", "recover_append", "MODES"]

MODES = ("replace", "new", "append")
#: where append mode writes new results before swapping them in (see :func:`_append`)
_STAGING = "{module}_nwbview_staging"
_DONE_ATTR = "nwbview_staging_complete"
_OLD = "nwbview_old__"


def _crash_point(stage: str) -> None:
    """Test hook: ``NWBVIEW_CRASH_AT=<stage>`` kills the process there (SIGKILL)."""
    if os.environ.get("NWBVIEW_CRASH_AT") == stage:
        os.kill(os.getpid(), signal.SIGKILL)


def check_unlocked(path: str | os.PathLike, wait: float = 0.0) -> None:
    """Raise :class:`FileLockedError` if another process holds the file open.

    HDF5 locks the files it opens (readers share a lock, a writer holds it alone). The check
    takes and drops that lock itself without opening the file for writing, so it never changes
    a byte of the file, even when the process is killed during it.

    Examples
    --------
    >>> check_unlocked("session.nwb")  # doctest: +SKIP
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            locked = is_locked(path)
        except OSError as exc:
            raise WriteError(f"Cannot open {path} to write to it: {exc.strerror or exc}. Nothing was written.") from exc
        if not locked:
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)  # another nwbview command reading it for a moment
    raise FileLockedError(
        f"{path} is open in another program (HDF5 file lock), so nwbview will not write to it. "
        "Close the file there (e.g. the napari viewer, a notebook, or another nwbview command "
        "still running) and run the command again. Nothing was written."
    )


@contextlib.contextmanager
def _exclusive(path: Path, timeout: float, optional: bool = False):
    """nwbview's writers of ``path`` one at a time (see :func:`nwbview.io.atomic.writer_lock`).

    ``optional``: where the folder does not let us create the lock (an append to a writable file
    in a read-only folder), go on with HDF5's own lock alone.
    """
    lock = writer_lock(path, timeout=timeout)
    try:
        lock.__enter__()
    except PermissionError as exc:
        if not optional:
            raise WriteError(f"Cannot write next to {path}: {exc.strerror}. Choose a folder you can write to. Nothing was written.") from exc
        yield
        return
    except TimeoutError as exc:
        raise FileLockedError(
            f"{path} is being written by another nwbview process ({exc}). Wait for it to finish "
            "(or stop it) and run the command again. Nothing was written."
        ) from None
    with contextlib.ExitStack() as stack:
        stack.push(lock)
        yield


def _check_unchanged(path: Path, since: tuple | None) -> None:
    if since is not None and file_state(path) != since:
        raise WriteError(
            f"{path} changed since nwbview read it (another program or nwbview command wrote to it "
            "meanwhile), so these results may be out of date and writing them could undo the other "
            "write. Nothing was written. Run the command again."
        )


def _module(nwbfile: Any, name: str):
    if name in nwbfile.processing:
        return nwbfile.processing[name]
    return nwbfile.create_processing_module(name=name, description=f"{name} data (results written by nwbview)")


def _place(nwbfile: Any, module: str, results: list, overwrite: bool, path: Path) -> list[str]:
    """Put results into the module; pop existing ones when overwriting. Returns their paths."""
    mod = _module(nwbfile, module)
    # a factory builds its container inside this file (e.g. a calibration linking its ImageSeries)
    results[:] = [r(nwbfile) if callable(r) else r for r in results]
    names = [r.name for r in results]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise WriteError(f"Two results share the name(s) {sorted(dup)}; give each a distinct name.")
    existing = [n for n in names if n in mod.data_interfaces]
    if existing and not overwrite:
        raise WriteError(
            f"{path} already holds {', '.join(f'processing/{module}/{n}' for n in existing)}. "
            "Pass overwrite=True (CLI: --overwrite) to replace it, or name the result differently. "
            "Nothing was written."
        )
    for n in existing:
        mod.data_interfaces.pop(n)
    for r in results:
        if r.parent is not None and r.parent is not mod:
            raise WriteError(f"Result {r.name!r} already belongs to {r.parent.name!r}; build a new one.")
        mod.add(r)
    return [f"processing/{module}/{n}" for n in names]


def _rewrite_external_paths(nwbfile: Any, src_folder: Path, dst_folder: Path) -> None:
    """Make relative external video paths right for a file written into another folder."""
    from pynwb.image import ImageSeries

    if src_folder.resolve() == dst_folder.resolve():
        return
    for obj in nwbfile.objects.values():
        if not isinstance(obj, ImageSeries) or obj.external_file is None:
            continue
        new = []
        changed = False
        for f in obj.external_file[:]:
            f = f.decode() if isinstance(f, bytes) else str(f)
            if is_remote(f) or Path(f).is_absolute():
                new.append(f)
                continue
            target = (src_folder / f).resolve()
            new.append(os.path.relpath(target, dst_folder.resolve()))
            changed = True
        if changed:
            obj.fields["external_file"] = new
            obj.set_modified()


def _check_written(path: Path, expected: list[str], validate: bool) -> None:
    """Open the written file fresh, find every result in it, and validate it against the schema."""
    import pynwb

    try:
        with pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True) as io:
            nwb = io.read()
            for p in expected:
                _, module, name = p.split("/", 2)
                if module not in nwb.processing or name not in nwb.processing[module].data_interfaces:
                    raise WriteError(f"The written file lacks {p}.")
    except NWBViewError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise WriteError(f"The written file does not read back: {type(exc).__name__}: {exc}") from exc
    if validate:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            errors = pynwb.validate(path=str(path))
        if errors:
            shown = "; ".join(str(e) for e in errors[:5])
            raise WriteError(f"The written file does not validate against the NWB schema: {shown}")


@renamed_keywords(out="new_file")
def write_results(
    path: str | os.PathLike,
    results: Any | Iterable[Any],
    *,
    module: str = "behavior",
    mode: str = "replace",
    overwrite: bool = False,
    new_file: str | os.PathLike | None = None,
    validate: bool = True,
    since: tuple | None = None,
    lock_timeout: float = 600.0,
) -> Path:
    """Write pynwb containers made by nwbview into an NWB file, safely.

    Parameters
    ----------
    path
        The session file.
    results
        One container or several (``TimeSeries``, ``CompassDirection``,
        ``VideoCalibration``, ...), e.g. from :mod:`nwbview.results`. A
        callable is called with the ``NWBFile`` being written and returns the
        container (for results that link to objects of that file).
    module
        Processing module to put them in (created when missing).
    mode : {"replace", "new", "append"}, default: "replace"
        See the module docstring.
    overwrite
        Replace results of the same name; without it, an existing result is an
        error and nothing is written.
    new_file
        The new file's path (``mode="new"`` only).
    validate
        Validate the written file against the NWB schema.
    since
        The file's :func:`nwbview.io.atomic.file_state` when the results were computed from
        it: if the file changed since (another writer), nothing is written and
        :class:`WriteError` says so, instead of undoing the other write.
    lock_timeout
        Seconds to wait while another nwbview process writes the same file.

    Returns
    -------
    pathlib.Path
        The file that now holds the results.

    Raises
    ------
    FileLockedError
        Another process has the file open.
    WriteError
        A result exists (without ``overwrite``), or the written file did not
        check out; the original is untouched.

    Examples
    --------
    Store the speed of the tracked animal in its session file:

    >>> from nwbview.results import speed_result
    >>> with nwbview.open("session.nwb") as s:  # doctest: +SKIP
    ...     speed = nwbview.compute_speed(s.position())
    >>> write_results("session.nwb", speed_result(speed))  # doctest: +SKIP
    """
    import pynwb

    if mode not in MODES:
        raise WriteError(f"Invalid mode {mode!r}. Must be one of {MODES}.")
    remote = is_remote(str(path))
    if remote:
        if mode != "new" or new_file is None:
            raise WriteError(
                f"{path} is remote and cannot be written. Use mode='new' with new_file=<a local path> to write "
                "a derived file with the results (it downloads the session's data once)."
            )
    else:
        path = Path(path)
    if not remote and not path.exists():
        raise MissingFileError(f"No such NWB file: {path}. Nothing was written.")
    results = [results] if not isinstance(results, (list, tuple)) else list(results)
    if not results:
        raise WriteError("No results to write.")
    if mode == "new":
        if new_file is None:
            raise WriteError("mode='new' needs new_file=<path of the new file> (--new-file on the command line).")
        target = Path(new_file)
        if not remote and target.resolve() == path.resolve():
            raise WriteError("mode='new' writes another file; new_file is the session file itself. Use mode='replace'.")
        if target.exists() and not overwrite:
            raise WriteError(f"{target} exists. Pass overwrite=True (CLI: --overwrite) to replace it.")
    elif new_file is not None:
        raise WriteError(f"new_file= is only for mode='new' (mode is {mode!r}).")
    else:
        target = path
    # the extensions the session's file caches, and ours (a calibration among the results)
    namespaces = None if remote else file_namespaces(path)
    import_extensions(None if namespaces is None else namespaces | {"ndx-video-calibration"})
    target.parent.mkdir(parents=True, exist_ok=True)
    # nwbview's writers of one file take turns, from their read to their rename; then a file
    # still open elsewhere (a viewer, a notebook) is refused
    with _exclusive(target if remote or mode == "new" else path, lock_timeout, optional=mode == "append"):
        if not remote:
            check_unlocked(path, wait=min(10.0, lock_timeout))
        if mode == "append":
            return _append(path, results, module, overwrite, validate, since)
        if not remote:
            _check_unchanged(path, since)
            if mode == "replace":  # finish an interrupted append before copying the file
                recover_append(path, module)
            read_state = file_state(path)
        folder = target.parent

        def still_the_same(_tmp: Path) -> None:
            if not remote:  # a program that ignores our lock rewrote the file meanwhile
                _check_unchanged(path, read_state)
            _crash_point("validated")

        try:
            with atomic_output(target, before_replace=still_the_same) as tmp:
                with _source(path, remote) as (src, opened):
                    nwb = opened.nwbfile if opened is not None else src.read()
                    expected = _place(nwb, module, results, overwrite, path)
                    if mode == "new":
                        nwb.generate_new_id()  # new object IDs ...
                        nwb.fields["identifier"] = str(uuid.uuid4())  # ... and a new file identifier
                        if opened is not None:
                            _absolute_external_urls(nwb, opened)
                        else:
                            _rewrite_external_paths(nwb, path.parent, folder)
                    _crash_point("before-export")
                    with pynwb.NWBHDF5IO(str(tmp), "w") as dst:
                        # from a remote file, copy the data (hdmf would otherwise link to the remote handle)
                        dst.export(src_io=src, nwbfile=nwb, write_args={"link_data": False} if remote else None)
                _crash_point("exported")
                _check_written(tmp, expected, validate)
        except NWBViewError:
            raise
        except Exception as exc:
            raise WriteError(f"Writing results to {target} failed: {type(exc).__name__}: {exc}. The original file is untouched.") from exc
    return target


class _source:
    """The IO to export from: the local file, or the remote one opened lazily."""

    def __init__(self, path: Any, remote: bool):
        self.path, self.remote, self.io, self.opened = path, remote, None, None

    def __enter__(self):
        import pynwb

        if self.remote:
            self.opened = open_remote(str(self.path))
            return self.opened.io, self.opened
        self.io = pynwb.NWBHDF5IO(str(self.path), "r", load_namespaces=True)
        return self.io, None

    def __exit__(self, *exc):
        if self.opened is not None:
            self.opened.close()
        if self.io is not None:
            self.io.close()


def _absolute_external_urls(nwbfile: Any, opened: Any) -> None:
    """A local copy of a remote file points at its videos by URL."""
    from pynwb.image import ImageSeries

    from nwbview.io.inventory import resolve_external_files

    for obj in list(nwbfile.objects.values()):
        if isinstance(obj, ImageSeries) and obj.external_file is not None:
            urls = [f["resolved"] for f in resolve_external_files(obj, opened)]
            obj.fields["external_file"] = urls
            obj.set_modified()


def _append(path: Path, results: list, module: str, overwrite: bool, validate: bool, since: tuple | None) -> Path:
    """Add results to the file in place, never leaving it without either the old or the new ones.

    The new results are written into a staging processing module and marked complete; then,
    per result, the old group is moved aside, the new one moved into ``module`` and the old
    one deleted (HDF5 link moves: no data is copied). A run killed at any moment leaves the old
    result or the new one in place; :func:`recover_append` (run by the next write) finishes a
    complete swap or drops an incomplete staging module.
    """
    import pynwb

    _check_unchanged(path, since)
    recover_append(path, module)
    names = [getattr(r, "result_name", None) or r.name for r in results]
    with h5py.File(path, "r") as f:
        grp = f.get(f"processing/{module}")
        existing = [n for n in names if grp is not None and n in grp]
    if existing and not overwrite:
        raise WriteError(
            f"{path} already holds {', '.join(f'processing/{module}/{n}' for n in existing)}. Pass "
            "overwrite=True (CLI: --overwrite) to replace it. Nothing was written."
        )
    staging = _STAGING.format(module=module)
    try:
        with pynwb.NWBHDF5IO(str(path), "a", load_namespaces=True) as io:
            nwb = io.read()
            _place(nwb, staging, results, overwrite=False, path=path)
            io.write(nwb)
        _crash_point("append-staged")
        with h5py.File(path, "r+") as f:
            f[f"processing/{staging}"].attrs[_DONE_ATTR] = True
    except NWBViewError:
        raise
    except OSError as exc:
        if "lock" in str(exc).lower():
            raise FileLockedError(f"{path} was opened by another program meanwhile: {exc}. Nothing was written.") from exc
        raise WriteError(f"Appending to {path} failed: {exc}. The earlier results are still there.") from exc
    recover_append(path, module)  # the swap
    _check_written(path, [f"processing/{module}/{n}" for n in names], validate)
    return path


def recover_append(path: str | os.PathLike, module: str = "behavior") -> bool:
    """Finish (or undo) an append that was interrupted; True when there was one.

    A staging module marked complete holds whole new results: they are swapped in. One not
    marked may be half written: it is deleted, and the results in place stay as they were.

    Examples
    --------
    >>> recover_append("session.nwb")  # doctest: +SKIP
    False
    """
    staging = _STAGING.format(module=module)
    with h5py.File(path, "r") as f:
        if f"processing/{staging}" not in f:
            return False
    with h5py.File(path, "r+") as f:
        stage = f[f"processing/{staging}"]
        if stage.attrs.get(_DONE_ATTR, False):
            if f"processing/{module}" not in f:
                f.move(f"processing/{staging}", f"processing/{module}")  # nothing to swap with
                del f[f"processing/{module}"].attrs[_DONE_ATTR]
                f[f"processing/{module}"].attrs["description"] = f"{module} data (results written by nwbview)"
                return True
            for name in [n for n in stage if not n.startswith(_OLD)]:
                old = f"processing/{staging}/{_OLD}{name}"
                if name in f[f"processing/{module}"] and old not in f:
                    f.move(f"processing/{module}/{name}", old)
                    _crash_point("append-swapping")
                f.move(f"processing/{staging}/{name}", f"processing/{module}/{name}")
        del f[f"processing/{staging}"]  # the old results (swapped out) or a half-written staging
    return True
