"""Run one job over many sessions on dask.distributed: ``nwbview batch``.

Each session is one dask task that calls the same job function as the
single-session command (:mod:`nwbview.jobs`), so a session's files land where
``nwbview <job> FILE`` puts them, and ``write=True`` writes its results back
the same crash-safe way.

Sessions are independent: one failing (a truncated file, a missing landmarks
file) is recorded with its message and the others go on. A worker that dies is
retried by dask on another worker, then recorded as failed.

Resuming
--------
At the end of each session's job its worker writes a small record (JSON, written
under a temporary name and renamed into place) into ``.nwbview-batch/`` next to
the summary table. It holds the job, a hash of the job's options, the input
file's size and modification time (taken at the start of the job, or after the
job's own write-back when it wrote into the input), and every output file with
its size and modification time. A later run skips a session when its record
exists, the options hash matches, the input is as recorded and every output is
still there unchanged (``force=True`` redoes everything). A batch that was killed
part-way therefore continues where it stopped.

A session is redone when its input changed since its record, including when
another job wrote its results into the file (a calibration, say, which can change
what this job computes). When this job writes back, the results its earlier run
wrote are then replaced (``overwrite=True``), not refused as "already there".
The same goes for a session whose run was killed after its write-back but before
its record: a ``.pending.json`` marker, written when the job starts, and an input
changed since then tell that the write had completed.

A script that starts a local cluster (``workers=``, or neither ``client`` nor
``scheduler``) must call :func:`batch` under ``if __name__ == "__main__":``:
dask starts its worker processes by re-importing the script.

Examples
--------
>>> from nwbview.batching import batch
>>> table = batch("sessions/*.nwb", "heatmap", kind="occupancy", workers=2)  # doctest: +SKIP
>>> table[["session", "status", "duration_s"]]  # doctest: +SKIP
"""

from __future__ import annotations

import glob
import hashlib
import inspect
import json
import os
import sys
import time
import traceback
import uuid
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from nwbview.io.atomic import atomic_output
from nwbview.io.paths import is_remote
from nwbview.errors import MissingFileError, NWBViewError, NWBViewWarning

__all__ = ["batch", "resolve_sources", "local_cluster", "JOBS", "SUMMARY_COLUMNS", "RECORDS_DIR"]

#: The jobs batch runs (``export`` only when the video export is installed).
JOBS = ("info", "kinematics", "heatmap", "calibrate", "export")

#: The columns every summary table starts with.
SUMMARY_COLUMNS = ("session", "job", "status", "duration_s", "outputs", "error")

#: Folder (next to the summary) that holds one record per finished session.
RECORDS_DIR = ".nwbview-batch"

#: What the DANDI API said of every asset :func:`resolve_sources` listed (source -> asset_id,
#: size, modified): ``nwbview.scan`` keys its cache on it without listing the dandiset again.
DANDI_ASSETS: dict[str, dict] = {}

_RECORD_VERSION = 1
_GLOB_CHARS = set("*?[")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_TEMPLATE_FIELDS = ("stem", "name", "dir")

#: options naming files a job writes, per job (their values may be patterns like ``{stem}_speed.csv``)
_OUTPUT_OPTIONS = {
    "info": ("json_path",),
    "kinematics": ("csv", "out"),
    "heatmap": ("output", "out"),
    "calibrate": ("out",),
    "export": ("output", "out"),
}
#: options naming files a job reads (one file for all sessions, or a pattern resolved per session)
_INPUT_OPTIONS = {"calibrate": ("landmarks",), "export": ("landmarks",)}
#: options that do not change what a job makes (left out of the options hash)
_UNHASHED = {"progress", "workers"}
#: options batch sets itself unless given (no nested progress bars; one process per session)
_BATCH_DEFAULTS = {"heatmap": {"progress": False}, "export": {"progress": False, "workers": 1}}


# -- jobs ---------------------------------------------------------------------------------------


def job_function(job: str) -> Callable[..., Any]:
    """The API function of a job, or an NWBViewError saying what the jobs are."""
    from nwbview import jobs

    if not isinstance(job, str) or job not in JOBS:
        raise NWBViewError(f"Unknown job {job!r}: nwbview batch runs one of {', '.join(JOBS)}.")
    return getattr(jobs, f"{job}_job")


def _job_options(job: str, fn: Callable[..., Any], options: dict) -> dict:
    """Check the options against the job's signature and fill in its defaults."""
    sig = inspect.signature(fn)
    accepted = [n for n, p in sig.parameters.items() if p.kind == p.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise NWBViewError(
            f"Job {job} has no option(s) {', '.join(unknown)}. Its options are: {', '.join(accepted)}."
        )
    full = {n: sig.parameters[n].default for n in accepted}
    full.update(_BATCH_DEFAULTS.get(job, {}))
    full.update(options)
    return full


def _options_hash(job: str, options: dict) -> str:
    hashed = {k: v for k, v in options.items() if k not in _UNHASHED}
    text = json.dumps({"job": job, "options": hashed}, sort_keys=True, default=_jsonable)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _jsonable(v: Any) -> Any:
    if isinstance(v, (tuple, set, frozenset)):
        return list(v)
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return str(v)


# -- sources ------------------------------------------------------------------------------------


def has_glob(s: str) -> bool:
    return any(c in s for c in _GLOB_CHARS)


def _is_hdf5(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return head == _HDF5_SIGNATURE


def is_list_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() != ".nwb" and not _is_hdf5(path)


def _expand(entry: str, base: Path | None, what: str) -> list[str]:
    """One entry (path, glob, URL, dandiset) -> sessions."""
    entry = entry.strip()
    if entry.lower().startswith("dandi://"):
        return _dandi_sources(entry)
    if is_remote(entry):
        return [entry]
    p = Path(entry).expanduser()
    if base is not None and not p.is_absolute():
        p = base / p
    if has_glob(entry):
        found = sorted(glob.glob(str(p), recursive=True))
        found = [f for f in found if Path(f).is_file()]
        if not found:
            raise NWBViewError(f"No files match {entry!r}{what}. Check the pattern (quote it so the shell leaves it alone).")
        return [str(Path(f).resolve()) for f in found]
    return [str(p.resolve())]


def resolve_sources(sources: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    """The sessions a batch runs over, in order, without duplicates.

    Parameters
    ----------
    sources
        One of:

        - a glob of local files (``"sessions/*.nwb"``, ``"**"`` recurses);
        - a text file listing paths, globs or URLs, one per line (blank lines
          and lines starting with ``#`` are ignored; relative paths are relative
          to the list file's folder);
        - a dandiset, ``dandi://ID[@VERSION][/PATH-GLOB]`` (its ``.nwb``
          assets, listed with the ``dandi`` client; default the most recent
          version), given as ``dandi://ID@VERSION/PATH`` sources;
        - one path or URL, or a list of paths, globs and URLs.

    Returns
    -------
    list of str
        Absolute local paths and URLs.

    Raises
    ------
    NWBViewError
        Nothing matches, a path does not exist, or the ``dandi`` client is missing.

    Examples
    --------
    >>> resolve_sources("sessions/*.nwb")  # doctest: +SKIP
    ['/data/sessions/m1.nwb', '/data/sessions/m2.nwb']
    >>> resolve_sources("dandi://000409@draft/sub-*/*.nwb")  # doctest: +SKIP
    """
    if isinstance(sources, (str, os.PathLike)):
        entries, single = [os.fspath(sources)], True
    else:
        entries, single = [os.fspath(s) for s in sources], False
    out: list[str] = []
    for entry in entries:
        if not entry.strip():
            continue
        if single and not is_remote(entry) and not has_glob(entry):
            p = Path(entry).expanduser()
            if not p.exists():
                raise MissingFileError(
                    f"No such file: {entry}. Give a glob of sessions (quoted: \"sessions/*.nwb\"), "
                    "a text file listing paths or URLs, a dandiset (dandi://ID), or an existing .nwb file."
                )
            if p.is_dir():
                raise NWBViewError(f"{entry} is a folder. Give a glob of its sessions, e.g. \"{p / '*.nwb'}\".")
            if is_list_file(p):
                out += _read_list_file(p)
                continue
        out += _expand(entry, None, "")
    seen: set[str] = set()
    unique = [s for s in out if not (s in seen or seen.add(s))]
    if not unique:
        raise NWBViewError(f"No sessions in {sources!r}: nothing to run.")
    return unique


def _read_list_file(path: Path) -> list[str]:
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise NWBViewError(f"Cannot read the list of sessions {path}: {exc}. Give a text file with one path or URL a line.") from exc
    out: list[str] = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        out += _expand(line, path.parent, f" (listed in {path})")
    if not out:
        raise NWBViewError(f"{path} lists no sessions (only blank lines and # comments).")
    return out


def _dandi_sources(url: str) -> list[str]:
    """List the .nwb assets of ``dandi://ID[@VERSION][/PATH-GLOB]``."""
    rest = url.split("://", 1)[1].strip("/")
    ident, _, path = rest.partition("/")
    ident, _, version = ident.partition("@")
    if not ident.isdigit():
        raise NWBViewError(f"Invalid dandiset {url!r}: expected dandi://ID[@VERSION][/PATH-GLOB], e.g. dandi://000409/sub-*/*.nwb.")
    try:
        from dandi.dandiapi import DandiAPIClient
    except ImportError:
        raise NWBViewError(
            f"Listing the dandiset {url} needs the DANDI client, which is not installed: "
            'pip install "nwbview[dandi]". Or list the sessions\' URLs in a text file.'
        ) from None
    api_url = os.environ.get("NWBVIEW_DANDI_API", "https://api.dandiarchive.org/api")  # as nwbview.io.remote does
    try:
        with DandiAPIClient(api_url=api_url) as client:
            ds = client.get_dandiset(ident, version or None)
            version = getattr(ds, "version_id", None) or version or "draft"
            if not path:
                assets = ds.get_assets()
            elif has_glob(path):
                assets = ds.get_assets_by_glob(path)
            else:
                assets = ds.get_assets_with_path_prefix(path)
            found = sorted((a for a in assets if a.path.lower().endswith(".nwb")), key=lambda a: a.path)
            paths = [a.path for a in found]
    except NWBViewError:
        raise
    except Exception as exc:  # noqa: BLE001 - the client's own errors (not found, network)
        raise NWBViewError(f"Cannot list the dandiset {url}: {type(exc).__name__}: {exc}") from exc
    if not paths:
        raise NWBViewError(f"No .nwb assets in {url}. Check the dandiset ID, version and path pattern.")
    for a in found:
        if getattr(a, "identifier", None):
            DANDI_ASSETS[f"dandi://{ident}@{version}/{a.path}"] = {
                "asset_id": a.identifier, "size": getattr(a, "size", None), "modified": str(getattr(a, "modified", ""))}
    return [f"dandi://{ident}@{version}/{p}" for p in paths]


# -- per-session options ------------------------------------------------------------------------


def _is_template(v: Any) -> bool:
    return isinstance(v, str) and "{" in v


def _fill(template: str, source: str, option: str) -> str:
    """Expand ``{stem}``, ``{name}``, ``{dir}`` for one session; relative -> next to the session."""
    remote = is_remote(source)
    name = Path(source.split("?")[0]).name
    folder = Path.cwd() if remote else Path(source).parent
    try:
        value = template.format_map({"stem": Path(name).stem, "name": name, "dir": str(folder)})
    except (KeyError, IndexError, ValueError) as exc:
        raise NWBViewError(
            f"Invalid pattern {template!r} for {option}: {exc}. Use the fields {{stem}}, {{name}} and {{dir}} "
            "(e.g. \"{stem}_speed.csv\"); double a brace to write it literally."
        ) from None
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else folder / p)


def _prepare(job: str, options: dict, n_sessions: int) -> dict:
    """Make plain relative paths absolute (workers may run elsewhere); refuse one output for all."""
    options = dict(options)
    for key in _OUTPUT_OPTIONS.get(job, ()) + _INPUT_OPTIONS.get(job, ()):
        v = options.get(key)
        if v is None or _is_template(v):
            continue
        if isinstance(v, os.PathLike):
            v = os.fspath(v)
        if not isinstance(v, str):
            continue
        if key in _OUTPUT_OPTIONS.get(job, ()) and n_sessions > 1:
            raise NWBViewError(
                f"{key}={v!r} names one file for {n_sessions} sessions: each would overwrite it. Give a pattern "
                f"with the session's name instead, e.g. \"{{stem}}_{Path(v).name}\" (resolved next to each session)."
            )
        options[key] = str(Path(v).expanduser().resolve())
    return options


def _session_options(job: str, source: str, options: dict) -> dict:
    kw = dict(options)
    if is_remote(source):
        # a remote session's files go to the working folder, as the single-session command does: the
        # client's folder, named here (a worker's own working folder may be another one)
        stem = Path(source.split("?")[0].rstrip("/")).stem
        if job == "heatmap" and kw.get("output") is None:
            kw["output"] = str(Path.cwd() / f"{stem}_{kw.get('kind', 'occupancy')}.png")
        if job == "export" and kw.get("output") is None:
            kw["output"] = str(Path.cwd() / f"{stem}_clip.mp4")
        if kw.get("write") and kw.get("out") is None:
            kw["out"] = str(Path.cwd() / f"{stem}_nwbview.nwb")  # a derived local file (nwbview.jobs.write_back)
    for key in _OUTPUT_OPTIONS.get(job, ()) + _INPUT_OPTIONS.get(job, ()):
        if _is_template(kw.get(key)):
            kw[key] = _fill(kw[key], source, key)
    for key in _INPUT_OPTIONS.get(job, ()):
        v = kw.get(key)
        if v is not None and not Path(v).exists():
            how = f" (from the pattern {options[key]!r})" if _is_template(options.get(key)) else ""
            raise MissingFileError(f"No {key} file {v}{how} for the session {source}. Put it there or fix the pattern.")
    return kw


# -- records ------------------------------------------------------------------------------------


def _file_sig(path: str | os.PathLike) -> dict | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _same(sig: dict | None) -> bool:
    return sig is not None and _file_sig(sig["path"]) == sig


def _record_path(records: Path, job: str, source: str, options_hash: str) -> Path:
    key = hashlib.sha256(f"{job}\0{source}\0{options_hash}".encode()).hexdigest()[:16]
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(source.split("?")[0]).stem)[:60]
    return records / f"{job}-{stem}-{key}.json"


def _pending_path(record: Path) -> Path:
    return record.with_name(record.stem + ".pending.json")


def _write_json_atomic(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=1, default=_jsonable)
            f.flush()
            os.fsync(f.fileno())


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _up_to_date(record: dict | None, job: str, source: str, options_hash: str) -> bool:
    """True when the record is this job with these options, the input and every output unchanged."""
    if not record or record.get("version") != _RECORD_VERSION:
        return False
    if record.get("job") != job or record.get("session") != source or record.get("options_hash") != options_hash:
        return False
    if record.get("input") is not None and not _same(record["input"]):
        return False
    return all(_same(s) for s in record.get("outputs", []) + record.get("inputs", []))


def _own_results(record: dict | None, rec_path: Path, job: str, source: str, options_hash: str, kw: dict) -> str:
    """Why results in the file are this batch's own (so a redo replaces them), or "".

    - a record of this job with these options says it wrote them (the session is
      redone because its input changed since, e.g. another job wrote into it);
    - a ``.pending.json`` marker says a run was killed after it started, and the
      input (or, for a derived file, that file) changed since: its write-back had
      completed.
    """
    if record and record.get("job") == job and record.get("options_hash") == options_hash and record.get("written"):
        return "replaced the results an earlier run of this batch wrote (" + ", ".join(record["written"]) + ")"
    pend_path = _pending_path(rec_path)
    pend = _read_json(pend_path)
    if not pend or pend.get("job") != job or pend.get("session") != source:
        return ""
    if rec_path.exists() and rec_path.stat().st_mtime_ns >= pend_path.stat().st_mtime_ns:
        return ""  # killed between writing the record and removing the marker: the record counts
    start = pend.get("input_at_start")
    derived = _file_sig(kw["out"]) if kw.get("out") else None
    if (start is not None and not _same(start)) or (derived and derived["mtime_ns"] >= pend_path.stat().st_mtime_ns):
        return "an earlier run was stopped after writing its results; replaced them"
    return ""


# -- the task -----------------------------------------------------------------------------------


def _row(source: str, job: str, **kw: Any) -> dict:
    row = {"session": source, "job": job, "status": "failed", "duration_s": 0.0, "outputs": "", "error": "",
           "written": "", "summary": "", "warnings": "", "data": {}}
    row.update(kw)
    return row


def _run_session(job: str, source: str, kwargs: dict, record_path: str, options_hash: str, input_files: list[str], note: str = "") -> dict:
    """Run one job on one session (on a worker); write its record when it succeeds; never raise."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    t0 = time.perf_counter()
    record = Path(record_path)
    pending = _pending_path(record)
    remote = is_remote(source)
    try:
        fn = job_function(job)
        start_sig = None if remote else _file_sig(source)
        _write_json_atomic(pending, {"job": job, "session": source, "input_at_start": start_sig, "pid": os.getpid(),
                                     "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NWBViewWarning)
            res = fn(source, **kwargs)
        outputs = [str(Path(o).resolve()) for o in res.outputs]
        wrote_input = bool(res.written) and kwargs.get("mode", "replace") in ("replace", "append")
        input_sig = (_file_sig(source) if wrote_input else start_sig) if not remote else None
        duration = time.perf_counter() - t0
        notes = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, NWBViewWarning)))
        rec = {
            "version": _RECORD_VERSION,
            "job": job,
            "session": source,
            "options_hash": options_hash,
            "options": kwargs,
            "input_at_start": start_sig,
            "input": input_sig,
            "inputs": [s for s in (_file_sig(p) for p in input_files) if s],
            "outputs": [s for s in (_file_sig(o) for o in outputs) if s],
            "written": list(res.written),
            "duration_s": duration,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "summary": res.summary,
            "data": res.data,
            "warnings": notes,
        }
        _write_json_atomic(record, rec)
        pending.unlink(missing_ok=True)
        return _row(source, job, status="done", duration_s=round(duration, 3), outputs=";".join(outputs),
                    written=";".join(res.written), summary=res.summary, warnings="\n".join(([note] if note else []) + notes),
                    data=dict(res.data))
    except NWBViewError as exc:
        error = str(exc)
    except Exception:  # noqa: BLE001 - a bug: keep the traceback for the report
        error = traceback.format_exc()
    # the job raised: a write-back that fails leaves the input untouched, so nothing is half done
    pending.unlink(missing_ok=True)
    return _row(source, job, error=error, duration_s=round(time.perf_counter() - t0, 3))


# -- the cluster --------------------------------------------------------------------------------


def _distributed():
    try:
        import distributed
    except ImportError:
        raise NWBViewError(
            "nwbview batch runs on dask.distributed, which is not installed: "
            'pip install "nwbview[distributed]".'
        ) from None
    return distributed


def _connect(client: Any, workers: int | None, scheduler: str | None) -> tuple[Any, Any, bool]:
    """(client, cluster we started or None, whether we own the client)."""
    if client is not None:
        if workers is not None or scheduler is not None:
            raise NWBViewError("Give either client= or workers=/scheduler=, not both.")
        return client, None, False
    distributed = _distributed()
    if scheduler is not None:
        if workers is not None:
            raise NWBViewError("--workers starts a local cluster; with --scheduler the cluster's own workers run the batch. Give one of them.")
        try:
            return distributed.Client(scheduler, timeout="20s"), None, True
        except (OSError, TimeoutError) as exc:
            raise NWBViewError(f"Cannot connect to the dask scheduler at {scheduler}: {exc}. Check the address (e.g. tcp://host:8786) and that it runs.") from exc
    cluster = local_cluster(workers)
    try:
        return distributed.Client(cluster), cluster, True
    except BaseException:
        cluster.close()
        raise


def local_cluster(workers: int | None = None, **kwargs: Any):
    """A dask ``LocalCluster`` set up for nwbview jobs: one process per worker, one thread each.

    What :func:`batch` starts when given neither a client nor a scheduler. Unlike
    dask's default, its workers keep glibc's own memory-allocation thresholds: dask sets
    ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers, which makes numpy-heavy jobs such as
    the movement heatmap 3-4x slower. (On a cluster of your own, set
    ``distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null`` in its dask config
    for the same speed.) Numerical libraries use one thread per worker and matplotlib
    draws off-screen.

    Parameters
    ----------
    workers : int, optional
        Number of worker processes (default: the number of CPU cores).
    **kwargs
        More ``distributed.LocalCluster`` arguments (e.g. ``memory_limit``).

    Returns
    -------
    distributed.LocalCluster
        Close it when done (or use it in a ``with`` block).

    Examples
    --------
    >>> from distributed import Client
    >>> from nwbview.batching import local_cluster, batch
    >>> with local_cluster(2) as cluster, Client(cluster) as client:  # doctest: +SKIP
    ...     batch("sessions/*.nwb", "heatmap", client, kind="occupancy")
    ...     batch("sessions/*.nwb", "kinematics", client, csv="{stem}_speed.csv")
    """
    import logging

    import dask

    distributed = _distributed()
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise NWBViewError(f"Invalid number of workers {workers!r}: give a whole number >= 1.")
    one_thread = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    opts = dict(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",  # dask LocalCluster's keywords
                silence_logs=logging.CRITICAL, env={**one_thread, "MPLBACKEND": "Agg"})
    opts.update(kwargs)
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return distributed.LocalCluster(**opts)


def _dashboard(client: Any, local: bool) -> str | None:
    """The dashboard's address, when it runs (a local one needs bokeh to show anything)."""
    import importlib.util

    if local and importlib.util.find_spec("bokeh") is None:
        return None
    try:
        if "dashboard" not in client.scheduler_info().get("services", {}):
            return None
        return client.dashboard_link
    except Exception:  # noqa: BLE001 - informative only
        return None


# -- the batch ----------------------------------------------------------------------------------


def batch(
    sources: str | os.PathLike | Sequence[str | os.PathLike],
    job: str,
    client: Any = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    summary: str | os.PathLike | None = None,
    progress: bool = True,
    landmarks_pattern: str | None = None,
    **options: Any,
):
    """Run one job on many sessions, in parallel on dask.distributed.

    Each session is one task calling the job's API function (:mod:`nwbview.jobs`)
    with ``options``, exactly as the single-session command does. A session that
    fails is recorded (its :class:`~nwbview.errors.NWBViewError` message, or the
    traceback of a bug) and the others go on. Sessions already done by an earlier
    run with the same options, whose outputs are unchanged, are skipped.

    Parameters
    ----------
    sources : str, path or list
        A glob (``"sessions/*.nwb"``), a text file of paths or URLs (one a line,
        ``#`` comments), a dandiset (``"dandi://000409[@VERSION][/PATH-GLOB]"``),
        or a list of paths, globs and URLs. See :func:`resolve_sources`.
    job : {"info", "kinematics", "heatmap", "calibrate", "export"}
        The job; ``export`` once the video export is installed.
    client : distributed.Client, optional
        Run on this client's cluster (it is left open).
    workers : int, optional
        Start a local cluster of this many worker processes, one thread each
        (default: one per CPU core). Closed at the end.
    scheduler : str, optional
        Address of a running dask scheduler (``"tcp://host:8786"``) to use
        instead of a local cluster. Its workers need nwbview installed and must
        see the sessions and the summary's folder at the same paths.
    force : bool, default False
        Redo every session, even those done before. With ``write=True``, the
        results an earlier run of this batch wrote into a file are replaced;
        other results of the same name need ``overwrite=True``.
    summary : str or path, optional
        The summary table (CSV; and Parquet next to it, same name with
        ``.parquet``, when pyarrow is installed). Default
        ``nwbview-batch-<job>.csv`` in the working folder. The per-session
        records go into ``.nwbview-batch/`` beside it.
    progress : bool, default True
        Show a progress bar over sessions (only on a terminal) and the dask
        dashboard's address when one runs.
    landmarks_pattern : str, optional
        ``calibrate``: the landmarks file of each session, e.g.
        ``"{stem}_landmarks.csv"``, resolved next to the session. (Or
        ``landmarks=FILE`` for one file for all sessions.)
    **options
        The job function's options (e.g. ``kind="movement"``, ``write=True``).
        Options naming files a job writes (``csv``, ``output``, ``json_path``,
        ``out``) take patterns with ``{stem}`` (the session file's name without
        extension), ``{name}`` and ``{dir}``; a relative pattern is resolved
        next to each session. With several sessions they must be patterns.

    Returns
    -------
    pandas.DataFrame
        One row per session, in the order of ``sources``: ``session``, ``job``,
        ``status`` (``done``, ``skipped`` or ``failed``), ``duration_s``,
        ``outputs`` (``;``-separated paths), ``error``, then ``written`` (NWB
        objects written back), ``summary`` (the job's text), ``warnings``, and
        one column per number the job reports (e.g. ``median`` speed).

    Raises
    ------
    NWBViewError
        Bad job or options, no sessions, or no dask.distributed. Errors of
        single sessions are not raised: they are in the table.

    Examples
    --------
    Head-centred movement heatmaps of every session, written back into each file:

    >>> from nwbview.batching import batch
    >>> t = batch("sessions/*.nwb", "heatmap", kind="movement", egocentric=True,
    ...               write=True, workers=4)  # doctest: +SKIP
    >>> t.status.value_counts()  # doctest: +SKIP

    Speed CSVs next to each session, on an existing cluster; a second call skips
    what is done:

    >>> batch("sessions.txt", "kinematics", csv="{stem}_speed.csv",
    ...           scheduler="tcp://10.0.0.5:8786")  # doctest: +SKIP

    Calibrate each session from its own landmarks file:

    >>> batch("sessions/*.nwb", "calibrate", landmarks_pattern="{stem}_landmarks.csv")  # doctest: +SKIP
    """
    t_start = time.perf_counter()
    fn = job_function(job)
    if landmarks_pattern is not None:
        if job not in ("calibrate", "export"):
            raise NWBViewError(f"landmarks_pattern is for the calibrate and export jobs, not {job}.")
        if options.get("landmarks") is not None:
            raise NWBViewError("Give either landmarks (one file for all sessions) or landmarks_pattern (one per session), not both.")
        if "{" not in landmarks_pattern:
            raise NWBViewError(f"landmarks_pattern {landmarks_pattern!r} has no field: use e.g. \"{{stem}}_landmarks.csv\" (or landmarks=FILE for one file for all).")
        options["landmarks"] = landmarks_pattern
    options = _job_options(job, fn, options)
    sessions = resolve_sources(sources)
    options = _prepare(job, options, len(sessions))
    opts_hash = _options_hash(job, options)

    summary_path = Path(summary if summary is not None else f"nwbview-batch-{job}.csv").expanduser().resolve()
    records = summary_path.parent / RECORDS_DIR

    rows: dict[int, dict] = {}
    todo: list[tuple[int, str, dict, Path, list[str], str]] = []
    for i, src in enumerate(sessions):
        rec_path = _record_path(records, job, src, opts_hash)
        rec = _read_json(rec_path)
        if not force and _up_to_date(rec, job, src, opts_hash):
            rows[i] = _row(src, job, status="skipped", outputs=";".join(o["path"] for o in rec.get("outputs", [])),
                           written=";".join(rec.get("written", [])), summary=rec.get("summary", ""),
                           warnings="\n".join(rec.get("warnings", [])), data=rec.get("data", {}))
            continue
        try:
            kw = _session_options(job, src, options)
        except NWBViewError as exc:
            rows[i] = _row(src, job, error=str(exc))
            continue
        for key in _OUTPUT_OPTIONS.get(job, ()):
            if kw.get(key) and _is_template(options.get(key)):
                Path(kw[key]).parent.mkdir(parents=True, exist_ok=True)
        note = ""
        if kw.get("write") and not kw.get("overwrite"):
            note = _own_results(rec, rec_path, job, src, opts_hash, kw)
            if note:
                kw["overwrite"] = True
        inputs = [kw[k] for k in _INPUT_OPTIONS.get(job, ()) if kw.get(k)]
        todo.append((i, src, kw, rec_path, inputs, note))

    from tqdm.auto import tqdm

    bar = tqdm(total=len(sessions), unit="session", desc=f"batch {job}", disable=None if progress else True,
               initial=len(rows), file=sys.stderr)
    if todo:
        records.mkdir(parents=True, exist_ok=True)
        client_, cluster, own = _connect(client, workers, scheduler)
        try:
            link = _dashboard(client_, local=cluster is not None)
            if progress and link:
                print(f"dask dashboard: {link}", file=sys.stderr)
            distributed = _distributed()
            run = uuid.uuid4().hex[:8]
            futures = {}
            for i, src, kw, rec_path, inputs, note in todo:
                f = client_.submit(_run_session, job, src, kw, str(rec_path), opts_hash, inputs, note,
                                   key=f"nwbview-{job}-{run}-{i}", pure=False, retries=0)
                futures[f] = (i, src)
            for f in distributed.as_completed(list(futures)):
                i, src = futures[f]
                try:
                    rows[i] = f.result()
                except Exception as exc:  # noqa: BLE001 - the worker died, or the task could not run there
                    if type(exc).__name__ == "KilledWorker":
                        msg = (f"The worker running this session died (out of memory, a crash in a library, or killed), "
                               f"also on retry: {exc}")
                    else:
                        msg = "".join(traceback.format_exception(exc))
                    rows[i] = _row(src, job, error=msg)
                bar.update(1)
        finally:
            bar.close()
            if own:
                client_.close()
            if cluster is not None:
                cluster.close()
    else:
        bar.close()

    table = _table([rows[i] for i in range(len(sessions))])
    _write_summary(table, summary_path)
    table.attrs.update(summary=str(summary_path), records=str(records), seconds=time.perf_counter() - t_start)
    return table


def _table(rows: list[dict]):
    import pandas as pd

    data_keys: list[str] = []
    for r in rows:
        data_keys += [k for k in r["data"] if k not in data_keys]
    base = list(SUMMARY_COLUMNS) + ["written", "summary", "warnings"]
    recs = []
    for r in rows:
        rec = {k: r[k] for k in base}
        for k in data_keys:
            rec[k if k not in base else f"data_{k}"] = r["data"].get(k)
        recs.append(rec)
    cols = base + [k if k not in base else f"data_{k}" for k in data_keys]
    return pd.DataFrame.from_records(recs, columns=cols)


def _write_summary(table, path: Path) -> None:
    """CSV at ``path`` (``.csv``), Parquet beside it when pyarrow is installed; both atomic."""
    import importlib.util

    path.parent.mkdir(parents=True, exist_ok=True)
    csv_path = path if path.suffix.lower() != ".parquet" else path.with_suffix(".csv")
    targets = [(csv_path, lambda p: table.to_csv(p, index=False))]
    if importlib.util.find_spec("pyarrow") is not None:
        targets.append((csv_path.with_suffix(".parquet"), lambda p: table.to_parquet(p, index=False)))
    for target, write in targets:
        try:
            with atomic_output(target) as tmp:
                write(tmp)
        except OSError as exc:
            raise NWBViewError(f"Cannot write the summary {target}: {exc}. Choose another --summary path.") from exc
