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

import os
import re
import signal
import uuid
import warnings
from pathlib import Path
from typing import Any, Iterable

import h5py

from nwbview.errors import FileLockedError, MissingFileError, NWBViewError, WriteError
from nwbview.io.nwb import _import_extensions, is_remote

__all__ = ["write_results", "check_unlocked", "MODES"]

MODES = ("replace", "new", "append")
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.nwbview-tmp-(?P<pid>\d+)-[0-9a-f]+\.nwb$")


def _crash_point(stage: str) -> None:
    """Test hook: ``NWBVIEW_CRASH_AT=<stage>`` kills the process there (SIGKILL)."""
    if os.environ.get("NWBVIEW_CRASH_AT") == stage:
        os.kill(os.getpid(), signal.SIGKILL)


def check_unlocked(path: str | os.PathLike) -> None:
    """Raise :class:`FileLockedError` if another process holds the file open.

    HDF5 locks files it opens (readers share a lock, a writer holds it alone),
    so opening for writing fails while anyone else has the file open.

    Examples
    --------
    >>> check_unlocked("session.nwb")  # doctest: +SKIP
    """
    try:
        h5py.File(path, "r+").close()
    except OSError as exc:
        text = str(exc)
        if "lock" in text.lower() or "temporarily unavailable" in text.lower():
            raise FileLockedError(
                f"{path} is open in another program (HDF5 file lock), so nwbview will not write to it: "
                f"{text}. Close the file there (e.g. the napari viewer or a notebook holding it open) "
                "and run the command again. Nothing was written."
            ) from exc
        raise WriteError(f"Cannot open {path} for writing: {text}. Nothing was written.") from exc


def _clean_stale_tmp(folder: Path, name: str) -> None:
    """Remove temporary files of earlier runs that died (their process is gone)."""
    for p in folder.glob(f".{name}.nwbview-tmp-*.nwb"):
        m = _TMP_RE.match(p.name)
        if not m:
            continue
        pid = int(m["pid"])
        if pid != os.getpid() and _alive(pid):
            continue
        try:
            p.unlink()
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


def write_results(
    path: str | os.PathLike,
    results: Any | Iterable[Any],
    module: str = "behavior",
    mode: str = "replace",
    overwrite: bool = False,
    *,
    out: str | os.PathLike | None = None,
    validate: bool = True,
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
    out
        The new file's path (``mode="new"`` only).
    validate
        Validate the written file against the NWB schema.

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
        if mode != "new" or out is None:
            raise WriteError(
                f"{path} is remote and cannot be written. Use mode='new' with out=<a local path> to write "
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
        if out is None:
            raise WriteError("mode='new' needs out=<path of the new file>.")
        target = Path(out)
        if not remote and target.resolve() == path.resolve():
            raise WriteError("mode='new' writes another file; out is the session file itself. Use mode='replace'.")
        if target.exists() and not overwrite:
            raise WriteError(f"{target} exists. Pass overwrite=True (CLI: --overwrite) to replace it.")
    elif out is not None:
        raise WriteError(f"out= is only for mode='new' (mode is {mode!r}).")
    else:
        target = path
    if not remote:
        check_unlocked(path)
    _import_extensions()
    if mode == "append":
        return _append(path, results, module, overwrite, validate)

    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    _clean_stale_tmp(folder, target.name)
    tmp = folder / f".{target.name}.nwbview-tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}.nwb"
    try:
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
        _crash_point("validated")
        os.replace(tmp, target)
        _fsync_dir(folder)
    except NWBViewError:
        _unlink(tmp)
        raise
    except BaseException as exc:
        _unlink(tmp)
        if isinstance(exc, Exception):
            raise WriteError(f"Writing results to {target} failed: {type(exc).__name__}: {exc}. The original file is untouched.") from exc
        raise
    return target


class _source:
    """The IO to export from: the local file, or the remote one opened lazily."""

    def __init__(self, path: Any, remote: bool):
        self.path, self.remote, self.io, self.opened = path, remote, None, None

    def __enter__(self):
        import pynwb

        if self.remote:
            from nwbview.io.remote import open_remote

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


def _append(path: Path, results: list, module: str, overwrite: bool, validate: bool) -> Path:
    import pynwb

    names = [getattr(r, "result_name", None) or r.name for r in results]
    with h5py.File(path, "r") as f:
        grp = f.get(f"processing/{module}")
        existing = [n for n in names if grp is not None and n in grp]
    if existing and not overwrite:
        raise WriteError(
            f"{path} already holds {', '.join(f'processing/{module}/{n}' for n in existing)}. Pass "
            "overwrite=True (CLI: --overwrite) to replace it. Nothing was written."
        )
    if existing:
        # HDF5 cannot reclaim the space of a deleted group in place; mode='replace' compacts.
        with h5py.File(path, "r+") as f:
            for n in existing:
                del f[f"processing/{module}/{n}"]
    with pynwb.NWBHDF5IO(str(path), "a", load_namespaces=True) as io:
        nwb = io.read()
        expected = _place(nwb, module, results, overwrite=False, path=path)
        io.write(nwb)
    _check_written(path, expected, validate)
    return path


def _unlink(p: Path) -> None:
    try:
        p.unlink()
    except FileNotFoundError:
        pass


def _fsync_dir(folder: Path) -> None:
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
