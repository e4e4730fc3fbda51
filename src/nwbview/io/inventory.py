"""Find every stream nwbview can use in an NWB file, wherever it sits.

The inventory walks all objects of the file (acquisition, every processing
module, stimulus, analysis, scratch) and classifies them by type, not by where
a convention says they should be. Each entry records its NWB path, type,
shape, unit, sampling, time range, and the problems found, without reading
more than the first and last timestamps of large series.

This module is the table: the walk, the videos of pose-only files (named in
``original_videos``), the checks across streams (milliseconds among seconds)
and the text ``nwbview info`` prints. How one stream is classified and
described is :mod:`nwbview.io.streams`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np

from nwbview.errors import MissingFileError, NWBViewError
from nwbview.io.nwb import OpenedFile, coordinate_pairs, nwb_path
from nwbview.io.streams import StreamInfo, classify, describe, pose_individual, resolve_external_files

__all__ = [
    "StreamInfo",
    "Inventory",
    "ExternalVideo",
    "build_inventory",
    "find_original_video",
    "pose_individual",
    "resolve_external_files",
    "KINDS",
]

#: stream kinds, in the order ``nwbview info`` lists them
KINDS = ("video", "position", "head_direction", "pose", "lfp", "timeseries", "intervals", "calibration", "result")


@dataclass
class ExternalVideo:
    """A video file that is no ``ImageSeries`` of the file: the video of a pose-only file.

    sleap-io and DLC2NWB write no ImageSeries; their ``PoseEstimation`` names its video
    only in ``original_videos``. nwbview uses that file when it is found beside the NWB
    file, or the file the user gives (``nwbview.open(path, video=...)``).
    """

    path: str
    #: the name as stored in ``original_videos`` ("" when the user gave the file)
    stored: str = ""
    #: NWB paths of the PoseEstimations whose video this is
    named_by: list[str] = field(default_factory=list)
    given: bool = False

    @property
    def name(self) -> str:
        return Path(self.path).name


class Inventory(list):
    """The streams of a session (a list of :class:`StreamInfo`) with a readable table."""

    def __init__(self, items=(), *, source: str = "", session_info: dict | None = None):
        super().__init__(items)
        self.source = source
        self.session_info = session_info or {}

    def of_kind(self, kind: str) -> list[StreamInfo]:
        """Streams of one kind, in file order."""
        return [s for s in self if s.kind == kind]

    @property
    def problems(self) -> list[str]:
        """Every problem found, prefixed with the stream path."""
        return [f"{s.path}: {p}" for s in self for p in s.problems]

    def to_dict(self) -> dict:
        return {"source": self.source, "session": self.session_info, "streams": [s.to_dict() for s in self]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=_json_default)

    def __str__(self) -> str:
        return format_inventory(self)

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(str(self))


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _fmt_t(t: float | None) -> str:
    return "-" if t is None else f"{t:.3f}"


def format_inventory(inv: Inventory) -> str:
    """The inventory as a text table, grouped by kind."""
    lines = [f"NWB file: {inv.source}"]
    for k, v in inv.session_info.items():
        if v not in (None, ""):
            lines.append(f"  {k}: {v}")
    if not len(inv):
        lines.append("")
        lines.append(
            "Nothing nwbview can show was found: no video, position, pose, head direction, "
            "LFP or other time series. The file may hold only metadata or units."
        )
        return "\n".join(lines)
    for kind in KINDS:
        items = inv.of_kind(kind)
        if not items:
            continue
        lines.append("")
        lines.append(f"{kind.replace('_', ' ')} ({len(items)})")
        rows = [("name", "path", "type", "shape", "unit", "sampling", "time (s)")]
        for s in items:
            rows.append(
                (
                    s.name,
                    s.path,
                    s.neurodata_type,
                    "x".join(str(d) for d in s.shape) if s.shape else "-",
                    s.unit or "-",
                    s.sampling or "-",
                    f"{_fmt_t(s.t_start)} .. {_fmt_t(s.t_stop)}" if s.t_start is not None else "-",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for j, r in enumerate(rows):
            lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
            if j == 0:
                lines.append("  " + "  ".join("-" * w for w in widths))
        for hint in _choose_hint(kind, items):
            lines.append(f"  {hint}")
        for s in items:
            for key, val in s.details.items():
                if key.startswith("_") or val in (None, "", [], {}):
                    continue
                lines.append(f"    {s.name}.{key}: {_fmt_detail(val)}")
            for p in s.problems:
                lines.append(f"    ! {s.name}: {p}")
    return "\n".join(lines)


_OPTIONS = {"video": "--video", "position": "--position", "head_direction": "--head-direction", "pose": "--pose", "lfp": "--lfp"}


def _choose_hint(kind: str, items: list[StreamInfo]) -> list[str]:
    """How to choose a stream of this kind on the command line (``--pose NAME``), with the names to use."""
    option = _OPTIONS.get(kind)
    if option is None:
        return []
    if kind != "position":
        if len(items) < 2:
            return []
        names = [s.name for s in items]
        if kind == "pose":
            names = [str(s.details.get("individual") or s.name) for s in items]
        return [f"choose with {option} NAME: {', '.join(names)}"]
    groups: dict[str, list[StreamInfo]] = {}
    for s in items:
        parent = getattr(s.obj, "parent", None)
        key = parent.name if type(parent).__name__ == "Position" else s.name
        groups.setdefault(key, []).append(s)
    choices = []
    for key, members in groups.items():
        one = [s for s in members if len(s.shape) < 2 or s.shape[1] == 1]
        multi = [s for s in members if s not in one]
        if len(members) == 1:
            choices.append(key)
            continue
        choices.extend(f"{key}/{s.name}" if len(groups) > 1 else s.name for s in multi)
        pairs = coordinate_pairs([s.name for s in one]) if len(one) > 1 else []
        choices.extend(f"{key}/{','.join(p)}" for p in pairs)
        if one and not pairs:
            choices.append(f"{key}/A,B (two of its one-column series as x,y)")
    if len(choices) < 2 and not any("/" in c for c in choices):
        return []
    return [f"choose with {option} NAME: {', '.join(choices)}"]


def _fmt_detail(val: Any) -> str:
    if isinstance(val, (list, tuple)):
        return ", ".join(str(v) for v in val)
    if isinstance(val, dict):
        return ", ".join(f"{k}={v}" for k, v in val.items())
    return str(val)


def _millisecond_streams(items: list["StreamInfo"]) -> None:
    """Flag streams whose times look like milliseconds against the session's other streams."""
    timed = [s for s in items if s.t_start is not None and s.t_stop is not None and s.kind not in ("intervals", "result")]
    for s in timed:
        span = s.t_stop
        home = getattr(s.obj, "parent", None)
        # other streams, not the siblings of one container (Axona's nine columns share one clock)
        others = [o.t_stop for o in timed if o is not s and o.t_stop and o.t_stop > 0
                  and (home is None or getattr(o.obj, "parent", None) is not home)]
        if not others or span is None or span <= 0:
            continue
        ref = float(np.median(others))
        if span > 100 * ref and 0.3 * ref <= span / 1000.0 <= 3 * ref:
            msg = (
                f"timestamps look like milliseconds: they run {s.t_start:.6g} .. {s.t_stop:.6g} s, about 1000 times "
                f"the session's other streams (which end near {ref:.6g} s). Store seconds in the file "
                "(timestamps / 1000); nwbview uses them as stored, so this stream does not line up with the others"
            )
            s.problems.append(msg)
            s.details.setdefault("_clock", []).append(msg)


def build_inventory(opened: OpenedFile, video: str | Path | None = None) -> Inventory:
    """List every usable stream of an open NWB file.

    Parameters
    ----------
    opened
        The open file.
    video
        A video file to use as the video of the file's pose estimations (for a
        pose-only file, whose ``PoseEstimation`` names its video only in
        ``original_videos``). Without it, such a video is looked for beside the
        NWB file under the name stored in ``original_videos``.

    Examples
    --------
    >>> import nwbview
    >>> with nwbview.open("demo_session.nwb") as s:  # doctest: +SKIP
    ...     print(s.inventory())
    """
    nwbfile = opened.nwbfile
    items: list[StreamInfo] = []
    seen: set[int] = set()
    for obj in _walk(nwbfile):
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        kind = classify(obj)
        if kind is None:
            continue
        try:
            info = describe(kind, obj, opened)
        except Exception as exc:  # noqa: BLE001 - one odd object must not hide the others
            info = StreamInfo(kind=kind, name=obj.name, path=nwb_path(obj), neurodata_type=type(obj).__name__)
            info.problems.append(f"could not be described: {type(exc).__name__}: {exc}")
        damaged = [p for p in getattr(opened, "broken", ()) if p.startswith(info.path + "/")]
        if damaged:
            info.problems.append(f"unreadable: the HDF5 header of {', '.join(damaged)} is damaged (copy the file again)")
        items.append(info)
    items.extend(_pose_videos(items, opened, video))
    _millisecond_streams(items)
    order = {k: i for i, k in enumerate(KINDS)}
    items.sort(key=lambda s: (order[s.kind], not (isinstance(s.obj, ExternalVideo) and s.obj.given), s.path))
    subject = getattr(nwbfile, "subject", None)
    session_info = {
        "identifier": nwbfile.identifier,
        "session_id": nwbfile.session_id,
        "session_start_time": str(nwbfile.session_start_time),
        "description": nwbfile.session_description,
        "subject": getattr(subject, "subject_id", None) if subject is not None else None,
    }
    return Inventory(items, source=opened.source, session_info=session_info)


def _walk(nwbfile: Any):
    """Containers of the file in a stable order (sections first, then children)."""
    sections = [nwbfile.acquisition, nwbfile.processing, nwbfile.stimulus, getattr(nwbfile, "stimulus_template", {}), nwbfile.analysis, getattr(nwbfile, "scratch", {}), getattr(nwbfile, "intervals", {}) or {}]
    stack = []
    for sec in sections:
        if sec:
            stack.extend(sec[k] for k in sorted(sec))
    if nwbfile.epochs is not None:
        stack.append(nwbfile.epochs)
    if getattr(nwbfile, "trials", None) is not None:
        stack.append(nwbfile.trials)
    while stack:
        obj = stack.pop(0)
        yield obj
        children = getattr(obj, "children", None) or []
        stack[0:0] = [c for c in children if hasattr(c, "name")]


def find_original_video(stored: str, opened: OpenedFile) -> tuple[str | None, list[str]]:
    """Find a video named in ``original_videos``: ``(path or None, the places looked)``.

    The stored name is tried as it is (an absolute path on this machine, or a path
    relative to the NWB file's folder), then by its file name in the NWB file's
    folder: converters store a bare file name or a path from the machine that
    made the file (``/data/rig2/m1s1.mp4``, ``C:\\videos\\m1s1.mp4``).

    Examples
    --------
    >>> find_original_video("/old/machine/m1s1.mp4", opened)  # doctest: +SKIP
    ('/data/session/m1s1.mp4', ['/old/machine/m1s1.mp4', '/data/session/m1s1.mp4'])
    """
    if opened.folder is None:
        return None, []
    base = PureWindowsPath(stored).name if "\\" in stored else PurePosixPath(stored).name
    candidates: list[Path] = []
    p = Path(stored).expanduser()
    if "\\" not in stored:
        candidates.append(p if p.is_absolute() else opened.folder / p)
    if base:
        candidates.append(opened.folder / base)
    looked: list[str] = []
    for c in candidates:
        if str(c) in looked:
            continue
        looked.append(str(c))
        if c.is_file():
            return str(c.resolve()), looked
    return None, looked


def _pose_videos(items: list[StreamInfo], opened: OpenedFile, video: str | Path | None) -> list[StreamInfo]:
    """The videos of pose-only files (named in ``original_videos``, or given), as video streams."""
    poses = [s for s in items if s.kind == "pose" and s.obj is not None and getattr(s.obj, "source_video", None) is None]
    has_image_series = any(s.kind == "video" for s in items)
    found: dict[str, ExternalVideo] = {}
    if video is not None:
        p = Path(video).expanduser()
        if not p.is_file():
            raise MissingFileError(f"Video file not found: {p} (given as the session's video). Check the path.")
        given = ExternalVideo(path=str(p.resolve()), given=True)
        found[given.path] = given
        for s in poses:
            s.details["video"] = given.path
            given.named_by.append(s.path)
    elif not has_image_series:
        for s in poses:
            originals = s.details.get("original_videos") or []
            for stored in originals:
                path, looked = find_original_video(stored, opened)
                if path is None:
                    where = (
                        f"looked for {' and '.join(looked)}" if looked
                        else "the session is remote, so nothing was looked for beside it"
                    )
                    msg = (
                        f"the video {stored!r} named in original_videos of {s.path} was not found ({where}). "
                        f"Put {PurePosixPath(stored.replace(chr(92), '/')).name} next to the NWB file, or pass "
                        "the video: nwbview.open(path, video=VIDEO) or --video VIDEO on the command line"
                    )
                    s.problems.append(msg)
                    s.details.setdefault("_video_missing", msg)
                    continue
                ext = found.setdefault(path, ExternalVideo(path=path, stored=stored))
                ext.named_by.append(s.path)
                s.details.setdefault("video", path)
                s.details.pop("_video_missing", None)
    out = []
    for ext in found.values():
        info = StreamInfo(kind="video", name=ext.name, path=ext.path, neurodata_type="video file", obj=ext)
        info.details["files"] = [ext.path]
        info.details["from"] = (
            "given as the session's video" if ext.given else f"original_videos ({ext.stored}) of {', '.join(ext.named_by)}"
        )
        try:
            from nwbview.io.video import probe_video  # lazy: PyAV import is slow-ish

            pr = probe_video(ext.path)
            n = int(pr["n_frames"])
            info.shape = (n,)
            info.n_samples = n
            info.details["codec"] = str(pr["codec"])
            info.details["size"] = f"{pr['width']}x{pr['height']}"
            info.details["frames_in_files"] = n
            fps = float(pr["fps"]) if pr.get("fps") else None
            if fps and np.isfinite(fps) and fps > 0:
                info.rate = round(fps, 6)
                info.sampling = f"{fps:g} fps (the file's own frame times)"
                info.t_start = float(pr["start_time"])
                info.t_stop = float(pr["start_time"]) + (n - 1) / fps
        except NWBViewError as exc:
            info.problems.append(f"video unreadable: {exc}")
        out.append(info)
    return out
