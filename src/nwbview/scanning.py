"""Explore many sessions at once: which hold what, before opening any of them (``nwbview info SOURCES``).

:func:`scan` takes what ``nwbview batch`` takes (a glob, a folder, a list file,
``dandi://DANDISET[@VERSION][/GLOB]``, URLs; resolved by
:func:`nwbview.batching.resolve_sources`) and gives one row per session: its
subject and session ids, its duration, what it holds (video, pose, position,
head direction, LFP, calibration, results nwbview wrote) and the problems found.
Each row is the session's :class:`~nwbview.io.inventory.Inventory` summed up, so
a remote session is read the way ``nwbview info URL`` reads it: metadata only,
through byte ranges.

Sessions are read in parallel by a bounded number of threads (``workers``, one
connection each). A session that cannot be read gets its message in the
``error`` column and the scan goes on.

Cache
-----
Each row is kept in a small JSON file (one per session) under the cache folder
(``cache_dir``, else ``NWBVIEW_SCAN_CACHE``, else ``$XDG_CACHE_HOME/nwbview/scan``
or ``~/.cache/nwbview/scan``), so a second scan of the same sessions reads
nothing. A row is used again only when the session is the same version:

- a local file: same path, size and modification time, and every video file it
  names (or that was looked for beside it) is unchanged or still absent;
- a DANDI asset: same asset id, size and modification date (from the listing, so
  a cached scan of a dandiset asks the API for the listing only);
- an http(s) URL: same size and ``ETag`` / ``Last-Modified`` (one one-byte request);
  a server that sends neither is not cached.

Rows with an error are never cached (a network fault may pass).

Examples
--------
>>> import nwbview
>>> table = nwbview.scan("sessions/")  # doctest: +SKIP
>>> table[["row", "source", "duration_s", "video_frames", "pose_keypoints", "lfp_channels"]]  # doctest: +SKIP
>>> nwbview.scan("dandi://000409/sub-*/*.nwb", has=["video", "pose"], min_duration_s=600)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Iterable, Sequence

from nwbview.errors import NWBViewError, renamed_keywords

__all__ = ["scan", "format_table", "split_sources", "looks_like_one_session", "HAS_CHOICES", "COLUMNS", "cache_folder"]

#: what ``has=`` / ``--has`` accepts: each is the column counting those streams
HAS_CHOICES = ("video", "pose", "position", "head_direction", "lfp", "timeseries", "intervals", "calibration", "results")

#: the columns of a scan, in order
COLUMNS = (
    "row", "source", "subject", "session_id", "start_time", "duration_s", "size_bytes",
    "video", "video_files", "video_frames", "video_size", "video_bytes", "video_status",
    "pose", "pose_software", "pose_keypoints", "pose_individuals",
    "position", "head_direction", "lfp", "lfp_channels", "lfp_rate",
    "timeseries", "intervals", "calibration", "results", "result_names",
    "problems", "error",
)
_COUNTS = ("video", "position", "head_direction", "pose", "lfp", "timeseries", "intervals", "calibration", "results")
_INTS = _COUNTS + ("size_bytes", "video_files", "video_frames", "video_bytes", "pose_keypoints", "pose_individuals", "lfp_channels")
_FLOATS = ("duration_s", "lfp_rate")
_TIMED = ("video", "position", "head_direction", "pose", "lfp", "timeseries")  # kinds that make the duration
_CACHE_VERSION = 1


# -- sources ------------------------------------------------------------------------------------


def split_sources(sources: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    """The sessions of ``sources``, as :func:`nwbview.batching.resolve_sources` finds them.

    A folder stands for every ``.nwb`` file under it (``FOLDER/**/*.nwb``); the rest
    is passed on as it is.

    Examples
    --------
    >>> split_sources("sessions/")  # doctest: +SKIP
    ['/data/sessions/m1/m1.nwb', '/data/sessions/m2/m2.nwb']
    """
    from nwbview.batching import resolve_sources

    entries = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
    if not entries:
        raise NWBViewError("No sources given: give a glob, a folder, a list file, a dandi:// dandiset or URLs.")
    out: list[str] = []
    for e in entries:
        e = os.fspath(e)
        p = Path(e).expanduser()
        if "://" not in e and p.is_dir():
            try:
                out += resolve_sources(str(p / "**" / "*.nwb"))
            except NWBViewError:
                raise NWBViewError(f"No .nwb files in the folder {p} (nor in its subfolders).") from None
        else:
            out += resolve_sources(e)  # each on its own, so that a list file is read as one
    return list(dict.fromkeys(out))


def looks_like_one_session(source: str) -> bool:
    """True when ``source`` names one session (an .nwb file, a URL, one DANDI asset), not a pattern.

    ``nwbview info`` shows such a source in detail and anything else as a table.

    Examples
    --------
    >>> looks_like_one_session("session.nwb"), looks_like_one_session("sessions/*.nwb")
    (True, False)
    >>> looks_like_one_session("dandi://000409"), looks_like_one_session("dandi://000409/sub-a/a.nwb")
    (False, True)
    """
    from nwbview.batching import has_glob, is_list_file

    s = os.fspath(source)
    if s.lower().startswith("dandi://"):
        path = s.split("://", 1)[1].partition("/")[2]
        return bool(path) and not has_glob(path) and path.lower().endswith(".nwb")
    if "://" in s:
        return True
    if has_glob(s):
        return False
    p = Path(s).expanduser()
    return not p.is_dir() and not is_list_file(p)


# -- cache --------------------------------------------------------------------------------------


def cache_folder(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where scan rows are cached: ``cache_dir``, else ``NWBVIEW_SCAN_CACHE``, else the user's cache.

    Examples
    --------
    >>> cache_folder("/tmp/c")
    PosixPath('/tmp/c')
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("NWBVIEW_SCAN_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "nwbview" / "scan"


def _sig(path: str) -> dict:
    try:
        st = os.stat(path)
    except OSError:
        return {"path": path, "absent": True}
    return {"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _http_version(url: str, timeout: float | None) -> dict | None:
    """Size and ETag / Last-Modified of a URL (one one-byte request), or None when it cannot be told."""
    import urllib.error

    from nwbview.io.remote import http_request, timeout_s

    try:
        with http_request(url, {"Range": "bytes=0-0"}, timeout_s(timeout)) as r:
            headers = {k: r.headers.get(k) for k in ("ETag", "Last-Modified", "Content-Range", "Content-Length")}
            r.read()
    except (urllib.error.URLError, OSError, ValueError):
        return None
    if not (headers["ETag"] or headers["Last-Modified"]):
        return None
    size = (headers["Content-Range"] or "").rpartition("/")[2] or headers["Content-Length"]
    return {"url": url, "size": size, "etag": headers["ETag"], "last_modified": headers["Last-Modified"]}


def _version_key(source: str, timeout: float | None) -> dict | None:
    """What identifies this version of a session (None: cannot be told, do not cache)."""
    from nwbview.batching import DANDI_ASSETS
    from nwbview.io.paths import is_remote

    if source.lower().startswith("dandi://"):
        info = DANDI_ASSETS.get(source)
        return {"dandi": info} if info else None
    if is_remote(source):
        v = _http_version(source, timeout)
        return {"http": v} if v else None
    return {"file": _sig(source)}


def _entry_path(folder: Path, source: str) -> Path:
    h = hashlib.sha256(source.encode()).hexdigest()[:24]
    return folder / f"{h}.json"


def _cache_get(folder: Path, source: str, key: dict) -> dict | None:
    from nwbview import __version__

    try:
        entry = json.loads(_entry_path(folder, source).read_text())
    except (OSError, ValueError):
        return None
    if (entry.get("format") != _CACHE_VERSION or entry.get("nwbview") != __version__
            or entry.get("source") != source or entry.get("key") != key):
        return None
    if any(_sig(d["path"]) != d for d in entry.get("depends", [])):
        return None
    return entry.get("row")


def _cache_put(folder: Path, source: str, key: dict, depends: list[dict], row: dict) -> None:
    from nwbview import __version__
    from nwbview.io.atomic import atomic_output

    entry = {"format": _CACHE_VERSION, "nwbview": __version__, "source": source, "key": key,
             "depends": depends, "row": row}
    target = _entry_path(folder, source)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_output(target) as tmp:
            Path(tmp).write_text(json.dumps(entry, default=str))
    except OSError:  # a cache that cannot be written only costs time
        pass


# -- one session --------------------------------------------------------------------------------


def _empty_row(source: str) -> dict:
    row: dict[str, Any] = {c: None for c in COLUMNS}
    row.update(source=source, problems="", error="")
    return row


def _row_from_inventory(source: str, inv: Any) -> dict:
    row = _empty_row(source)
    info = inv.session_info
    row["subject"] = info.get("subject") or ""
    row["session_id"] = info.get("session_id") or ""
    row["start_time"] = info.get("session_start_time") or ""
    for kind in _COUNTS:
        row[kind] = len(inv.of_kind("result" if kind == "results" else kind))
    starts = [s.t_start for s in inv if s.kind in _TIMED and s.t_start is not None]
    stops = [s.t_stop for s in inv if s.kind in _TIMED and s.t_stop is not None]
    row["duration_s"] = round(max(stops) - min(starts), 6) if starts and stops else None

    videos = inv.of_kind("video")
    if videos:
        first = videos[0]
        row["video_files"] = sum(len(v.details.get("files") or []) for v in videos)
        row["video_frames"] = int(first.details.get("frames_in_files") or (first.shape[0] if first.shape else 0))
        dim = first.details.get("size") or "x".join(str(d) for d in first.details.get("dimension") or [])
        row["video_size"] = dim or ""
        probs = " ".join(p for v in videos for p in v.problems)
        if "not found" in probs or "cannot be resolved" in probs:
            row["video_status"] = "missing"
        elif "unreadable" in probs:
            row["video_status"] = "unreadable"
        else:
            row["video_status"] = "found"
    else:
        pose_missing = any(s.details.get("_video_missing") for s in inv.of_kind("pose"))
        row["video_status"] = "missing" if pose_missing else ""
    poses = inv.of_kind("pose")
    if poses:
        row["pose_software"] = ", ".join(sorted({str(p.details["source_software"]) for p in poses if p.details.get("source_software")}))
        row["pose_keypoints"] = len({k for p in poses for k in p.details.get("keypoints") or []})
        row["pose_individuals"] = len({p.details.get("individual") for p in poses})
    else:
        row["pose_software"] = ""
    lfps = inv.of_kind("lfp")
    if lfps:
        big = max(lfps, key=lambda s: int(s.details.get("channels") or 0))
        row["lfp_channels"] = int(big.details.get("channels") or 0)
        row["lfp_rate"] = float(big.rate) if big.rate else None
    row["result_names"] = ", ".join(s.name for s in inv.of_kind("result"))
    row["problems"] = "\n".join(inv.problems)
    return row


def _local_depends(session: Any, inv: Any) -> tuple[list[dict], int | None]:
    """The files a local session's row depends on (its videos, found or looked for), and the videos' bytes."""
    from nwbview.io.inventory import ExternalVideo, find_original_video, resolve_external_files

    opened = session.opened
    videos: list[str] = []
    looked: list[str] = []
    for s in inv.of_kind("video"):
        if isinstance(s.obj, ExternalVideo):
            videos.append(s.obj.path)
        elif s.obj is not None and getattr(s.obj, "external_file", None) is not None:
            try:
                videos += [f["resolved"] for f in resolve_external_files(s.obj, opened) if f["exists"] is not None]
            except NWBViewError:
                pass
    for s in inv.of_kind("pose"):
        for stored in s.details.get("original_videos") or []:
            looked += find_original_video(stored, opened)[1]
    sigs = [_sig(p) for p in dict.fromkeys(videos + looked)]
    found = [_sig(p) for p in dict.fromkeys(videos)]
    nbytes = sum(s["size"] for s in found if "size" in s) if any("size" in s for s in found) else None
    return sigs, nbytes


def _scan_one(source: str, timeout: float | None, cache: Path | None) -> tuple[dict, bool]:
    """(row, from the cache?) of one session; never raises for the session's own faults."""
    import warnings

    import nwbview
    from nwbview.batching import DANDI_ASSETS
    from nwbview.io.paths import is_remote

    key = None
    if cache is not None:
        key = _version_key(source, timeout)
        if key is not None:
            row = _cache_get(cache, source, key)
            if row is not None:
                return row, True
    row = _empty_row(source)
    remote = is_remote(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # what a user should know is in the problems column
            with nwbview.open(source, timeout=timeout) as s:
                inv = s.inventory()
                row = _row_from_inventory(source, inv)
                depends: list[dict] = []
                if remote:
                    asset = DANDI_ASSETS.get(source)
                    row["size_bytes"] = int(asset["size"]) if asset and asset.get("size") is not None else _remote_size(s)
                else:
                    row["size_bytes"] = os.path.getsize(source)
                    depends, row["video_bytes"] = _local_depends(s, inv)
    except NWBViewError as exc:
        row["error"] = str(exc)
        return row, False
    except Exception as exc:  # noqa: BLE001 - one odd file must not stop the scan
        row["error"] = f"cannot be read ({type(exc).__name__}: {exc}); with NWBVIEW_DEBUG=1 nwbview info FILE shows the traceback"
        return row, False
    if cache is not None and key is not None:
        if not remote:
            key = {"file": _sig(source)}  # as it was read (the key taken before may be older)
        _cache_put(cache, source, key, depends, row)
    return row, False


def _remote_size(session: Any) -> int | None:
    for obj in getattr(session.opened, "keep_alive", []):
        n = getattr(obj, "_size", None) or getattr(obj, "length", None)
        if isinstance(n, int):
            return n
    return None


# -- the scan -----------------------------------------------------------------------------------


def _has_list(has: str | Sequence[str] | None) -> list[str]:
    if has is None:
        return []
    items = has.split(",") if isinstance(has, str) else list(has)
    out = []
    for h in items:
        h = h.strip().lower().replace("-", "_")
        if not h:
            continue
        h = {"result": "results", "head": "head_direction", "hd": "head_direction"}.get(h, h)
        if h not in HAS_CHOICES:
            raise NWBViewError(f"Unknown stream {h!r} in has: choose among {', '.join(HAS_CHOICES)} (comma-separated, e.g. video,pose).")
        out.append(h)
    return out


@renamed_keywords(min_duration="min_duration_s")
def scan(
    sources: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    has: str | Sequence[str] | None = None,
    min_duration_s: float | None = None,
    workers: int = 4,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    timeout: float | None = None,
    progress: bool = True,
):
    """One row per session: its ids, duration, what it holds and its problems.

    Parameters
    ----------
    sources : str, path or list
        A glob (``"sessions/*.nwb"``, ``"**"`` recurses), a folder (every ``.nwb``
        under it), a text file listing paths, globs or URLs, a dandiset
        (``"dandi://000409[@VERSION][/PATH-GLOB]"``), an http(s) URL, or a list of
        these; see :func:`nwbview.batching.resolve_sources`.
    has : str or list of str, optional
        Keep only sessions holding all of these (``"video,pose"`` or a list):
        ``video`` (with its files found and readable), ``pose``, ``position``,
        ``head_direction``, ``lfp``, ``timeseries``, ``intervals``,
        ``calibration``, ``results``.
    min_duration_s : float, optional
        Keep only sessions at least this long, in seconds.
    workers : int, default 4
        Sessions read at the same time (threads; one connection each for
        remote sessions).
    cache : bool, default True
        Use and fill the cache of rows (see the module's notes): a second scan
        of unchanged sessions reads nothing.
    cache_dir : str or path, optional
        The cache folder (default ``NWBVIEW_SCAN_CACHE``, else
        ``~/.cache/nwbview/scan``).
    timeout : float, optional
        Remote sessions: seconds to wait for the server (default 30, or
        ``NWBVIEW_HTTP_TIMEOUT``).
    progress : bool, default True
        A progress bar over sessions on stderr (only on a terminal).

    Returns
    -------
    pandas.DataFrame
        One row per session in the order of ``sources`` (filtered), with the
        columns :data:`COLUMNS`: ``row`` (1-based position among all the
        sessions, the same with or without filters), ``source`` (the path or
        URL to give to ``nwbview.open``, ``nwbview view``, ``nwbview export``),
        ``subject``, ``session_id``, ``start_time``, ``duration_s`` (from the
        first to the last sample of any video, position, head direction, pose,
        LFP or time series), ``size_bytes``; ``video`` (number of videos),
        ``video_files``, ``video_frames`` and ``video_size`` (of the first
        video), ``video_bytes`` (local video files), ``video_status`` (``found``,
        ``missing``, ``unreadable``, or empty without video); ``pose``
        (PoseEstimation containers), ``pose_software``, ``pose_keypoints``,
        ``pose_individuals``; ``position``, ``head_direction``; ``lfp``,
        ``lfp_channels`` and ``lfp_rate`` (of the LFP with most channels);
        ``timeseries``, ``intervals``, ``calibration``, ``results`` (results
        nwbview wrote) and ``result_names``; ``problems`` (one a line) and
        ``error`` (the session could not be read: its other columns are empty).
        ``attrs`` holds ``sessions`` (before filtering), ``from_cache``,
        ``failed`` and ``seconds``.

    Raises
    ------
    NWBViewError
        Nothing matches the sources, or a bad filter. A session that cannot be
        read is not raised: its row has the message in ``error``.

    Examples
    --------
    >>> import nwbview
    >>> t = nwbview.scan("sessions/")  # doctest: +SKIP
    >>> t[["row", "source", "duration_s", "video_status", "pose_keypoints", "lfp_channels", "error"]]  # doctest: +SKIP

    Sessions of a dandiset with video and pose, at least 10 minutes long:

    >>> t = nwbview.scan("dandi://000409", has="video,pose", min_duration_s=600)  # doctest: +SKIP
    >>> with nwbview.open(t.source.iloc[0]) as s:  # doctest: +SKIP
    ...     pose = s.pose()
    """
    import pandas as pd
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    wanted = _has_list(has)
    if min_duration_s is not None and not isinstance(min_duration_s, (int, float)):
        raise NWBViewError(f"min_duration_s must be a number of seconds, not {min_duration_s!r}.")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise NWBViewError(f"Invalid number of workers {workers!r}: give a whole number >= 1.")
    found = split_sources(sources)
    folder = cache_folder(cache_dir) if cache else None

    rows: list[dict | None] = [None] * len(found)
    hits = 0
    bar = tqdm(total=len(found), unit="session", desc="scan", disable=None if progress else True, file=sys.stderr)
    try:
        with ThreadPoolExecutor(max_workers=min(workers, len(found))) as pool:
            futures = {pool.submit(_scan_one, src, timeout, folder): i for i, src in enumerate(found)}
            for f in as_completed(futures):
                row, cached = f.result()
                rows[futures[f]] = row
                hits += cached
                bar.update(1)
    finally:
        bar.close()
    for i, row in enumerate(rows):
        row["row"] = i + 1
    table = _frame(pd, rows)
    failed = int((table["error"] != "").sum())
    keep = pd.Series(True, index=table.index)
    for h in wanted:
        keep &= table[h].fillna(0) > 0
        if h == "video":  # a video whose files are missing or unreadable cannot be watched
            keep &= table["video_status"] == "found"
    if min_duration_s is not None:
        keep &= table["duration_s"].fillna(-1.0) >= float(min_duration_s)
    if wanted or min_duration_s is not None:
        table = table[keep].reset_index(drop=True)
    table.attrs.update(sessions=len(found), from_cache=hits, failed=failed, seconds=time.perf_counter() - t0)
    return table


def _frame(pd: Any, rows: list[dict]):
    cols: dict[str, Any] = {}
    for c in COLUMNS:
        values = [r.get(c) for r in rows]
        if c == "row":
            cols[c] = pd.array([int(v) for v in values], dtype="int64")
        elif c in _INTS:
            cols[c] = pd.array([None if v is None else int(v) for v in values], dtype="Int64")
        elif c in _FLOATS:
            cols[c] = pd.array([float("nan") if v is None else float(v) for v in values], dtype="float64")
        else:
            cols[c] = ["" if v is None else str(v) for v in values]
    return pd.DataFrame(cols, columns=list(COLUMNS))


# -- output -------------------------------------------------------------------------------------


def to_records(table) -> list[dict]:
    """The rows as JSON-ready dicts (missing values as None, problems as a list).

    Examples
    --------
    >>> import json
    >>> print(json.dumps(to_records(nwbview.scan("sessions/")), indent=1))  # doctest: +SKIP
    """
    import pandas as pd

    out = []
    for rec in table.to_dict(orient="records"):
        rec = {k: (None if (v is pd.NA or (isinstance(v, float) and v != v)) else v) for k, v in rec.items()}
        rec = {k: (int(v) if hasattr(v, "item") and isinstance(v.item(), int) else v) for k, v in rec.items()}
        rec["problems"] = [p for p in (rec["problems"] or "").split("\n") if p]
        out.append(rec)
    return out


def _common_prefix(sources: list[str]) -> str:
    prefix = os.path.commonprefix(sources) if len(sources) > 1 else sources[0]
    return prefix[: prefix.rfind("/") + 1]


def _human_bytes(n: Any) -> str:
    if n is None or n is getattr(__import__("pandas"), "NA"):
        return "-"
    n = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return "-"  # pragma: no cover


def _duration(s: Any) -> str:
    if s is None or s != s:
        return "-"
    s = float(s)
    if s >= 3600:
        return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"
    if s >= 60:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{s:.1f}s"


def format_table(table, *, width: int = 40) -> str:
    """The scan as a text table for the terminal, with a legend of how to open a row.

    Examples
    --------
    >>> print(format_table(nwbview.scan("sessions/")))  # doctest: +SKIP
    """
    import pandas as pd

    def na(v):
        return v is None or v is pd.NA or (isinstance(v, float) and v != v)

    n_all = table.attrs.get("sessions", len(table))
    if not len(table):
        return f"No session matches ({n_all} scanned)."
    prefix = _common_prefix(list(table["source"]))
    head = ("#", "session", "subject", "session_id", "duration", "size", "video", "pose", "pos", "hd", "lfp", "cal", "results", "problems")
    lines_rows = [head]
    for r in table.to_dict(orient="records"):
        name = r["source"][len(prefix):] or r["source"]
        if len(name) > width:  # keep the folder and the end of the file name
            name = name[: width // 2 - 1] + "..." + name[-(width - width // 2 - 2):]
        if r["error"]:
            err = r["error"].splitlines()[0]
            lines_rows.append((str(r["row"]), name, "", "", "", "", "", "", "", "", "", "", "", "ERROR: " + (err[:70] + "..." if len(err) > 73 else err)))
            continue
        if r["video"]:
            frames = "" if na(r["video_frames"]) else f"{r['video_frames']} fr "
            video = f"{frames}{r['video_size']}".strip() or "yes"
            if r["video_status"] != "found":
                video = f"{r['video_status'].upper()} {video}".strip()
            if r["video"] > 1:
                video = f"{r['video']}x: {video}"
        else:
            video = "MISSING" if r["video_status"] == "missing" else "-"
        if r["pose"]:
            soft = (r["pose_software"] or "").split(",")[0][:10]
            pose = f"{r['pose_keypoints']} kp" + (f" x{r['pose_individuals']}" if (r["pose_individuals"] or 0) > 1 else "") + (f" {soft}" if soft else "")
        else:
            pose = "-"
        if r["lfp"]:
            rate = "" if na(r["lfp_rate"]) else f" {r['lfp_rate']:g} Hz"
            lfp = f"{r['lfp_channels']} ch{rate}"
        else:
            lfp = "-"
        probs = [p for p in r["problems"].split("\n") if p]
        prob = ""
        if probs:
            first = probs[0] if len(probs[0]) <= 60 else probs[0][:57] + "..."
            prob = f"{len(probs)}: {first}"
        lines_rows.append((
            str(r["row"]), name, r["subject"] or "-", r["session_id"] or "-", _duration(r["duration_s"]),
            _human_bytes(r["size_bytes"]), video, pose,
            str(r["position"] or "-"), str(r["head_direction"] or "-"), lfp,
            str(r["calibration"] or "-"), str(r["results"] or "-"), prob,
        ))
    widths = [max(len(x[i]) for x in lines_rows) for i in range(len(head))]
    out = []
    if prefix:
        out.append(f"sessions in {prefix}")
    for j, x in enumerate(lines_rows):
        out.append("  ".join(c.ljust(w) for c, w in zip(x, widths)).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    shown = f"{len(table)} of {n_all} sessions" if len(table) != n_all else f"{n_all} sessions"
    extra = []
    if table.attrs.get("from_cache"):
        extra.append(f"{table.attrs['from_cache']} from the cache")
    if table.attrs.get("failed"):
        extra.append(f"{table.attrs['failed']} could not be read")
    out.append("")
    out.append(shown + (f" ({', '.join(extra)})" if extra else "") + ". One in detail: add --row N; "
               "their paths/URLs (for nwbview view, export, batch): --paths.")
    return "\n".join(out)
