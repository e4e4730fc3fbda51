"""Find every stream nwbview can use in an NWB file, wherever it sits.

The inventory walks all objects of the file (acquisition, every processing
module, stimulus, analysis, scratch) and classifies them by type, not by where
a convention says they should be. Each entry records its NWB path, type,
shape, unit, sampling, time range, and the problems found, without reading
more than the first and last timestamps of large series.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np

from nwbview.errors import MissingFileError, NWBViewError
from nwbview.io.nwb import (
    PIXEL_UNITS,
    OpenedFile,
    coordinate_pairs,
    looks_like_frame_numbers,
    nwb_path,
    pose_keypoints,
    series_length,
    series_scale,
    skeleton_nodes,
)
from nwbview.io.paths import is_remote

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

_CHECK_LIMIT = 2_000_000  # read at most this many timestamps for a full check


@dataclass
class StreamInfo:
    """One stream of a session, as the inventory sees it."""

    kind: str
    name: str
    path: str
    neurodata_type: str
    shape: tuple = ()
    unit: str = ""
    sampling: str = ""
    rate: float | None = None
    n_samples: int = 0
    t_start: float | None = None
    t_stop: float | None = None
    problems: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    obj: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """A JSON-ready dict (without the pynwb object)."""
        out = {k: getattr(self, k) for k in ("kind", "name", "path", "neurodata_type", "unit", "sampling", "rate", "n_samples", "t_start", "t_stop", "problems", "details")}
        out["shape"] = list(self.shape)
        out["details"] = {k: v for k, v in self.details.items() if not k.startswith("_")}  # as the table shows them
        return out


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


# --------------------------------------------------------------------------------------------


def _time_info(ts: Any, info: StreamInfo, n: int | None = None) -> np.ndarray | None:
    """Fill sampling and time range; return timestamps when read whole (for checks)."""
    n = series_length(ts) if n is None else n
    info.n_samples = n
    if ts.timestamps is not None:
        tsd = ts.timestamps
        m = len(tsd)
        info.sampling = f"timestamps ({m})"
        if m == 0:
            info.problems.append("timestamps are empty")
            return None
        full = None
        if m <= _CHECK_LIMIT:
            full = np.asarray(tsd[:], dtype=np.float64)
            first, last = full[0], full[-1]
        else:
            first, last = float(tsd[0]), float(tsd[m - 1])
        info.t_start, info.t_stop = float(first), float(last)
        if m > 1:
            sample = full if full is not None else np.asarray(tsd[: min(m, 10_000)], dtype=np.float64)
            d = np.diff(sample)
            med = float(np.nanmedian(d)) if d.size else np.nan
            if np.isfinite(med) and med > 0:
                info.rate = round(1.0 / med, 6)
        if full is not None:
            if not np.all(np.isfinite(full)):
                info.problems.append(
                    f"{int((~np.isfinite(full)).sum())} timestamps are NaN/inf (reading this stream will fail)"
                )
            elif m > 1 and np.any(np.diff(full) < 0):
                info.problems.append("timestamps go backwards (reading this stream will fail)")
        data_n = _data_len(ts)
        if data_n and data_n != m:
            info.problems.append(f"{data_n} data samples but {m} timestamps")
        if looks_like_frame_numbers(tsd[: min(m, 200)]) or (full is not None and looks_like_frame_numbers(full)):
            msg = (
                f"timestamps look like frame numbers ({', '.join(f'{v:g}' for v in (full if full is not None else np.asarray(tsd[:3]))[:3])}, ...), "
                "not seconds; store the video's frame times instead"
            )
            info.problems.append(msg)
            if info.kind not in ("pose", "video"):  # pose: mapped through its video's frame times
                info.details.setdefault("_clock", []).append(
                    msg + " (nwbview uses them as seconds: this stream will not line up with the others)"
                )
        if full is not None and full.size > 1:
            for msg in clock_jumps(full):
                info.problems.append(msg)
                info.details.setdefault("_clock", []).append(msg)
        return full
    rate = ts.rate
    start = float(ts.starting_time or 0.0)
    if rate:
        info.rate = float(rate)
        info.sampling = f"{float(rate):g} Hz"
        info.t_start = start
        info.t_stop = start + (n - 1) / float(rate) if n else start
    else:
        info.problems.append("no timestamps and no rate")
    return None


#: a step between two timestamps larger than this (seconds) is a jump of the clock, not a pause
JUMP_SECONDS = 1e6
#: times above this (seconds) are Unix-epoch times (after 2001-09-09), not session times
EPOCH_SECONDS = 1e9


def clock_jumps(t: np.ndarray) -> list[str]:
    """Problems of a clock: a jump of more than ``JUMP_SECONDS`` (e.g. to Unix-epoch time) in the middle of a series.

    Examples
    --------
    >>> clock_jumps(np.r_[np.arange(5) / 50, 1.7e9 + np.arange(2) / 50])[0][:44]
    'timestamps jump by 1.7e+09 s at index 5 (from'
    """
    t = np.asarray(t, dtype=np.float64)
    if t.size < 2 or not np.all(np.isfinite(t)):
        return []
    d = np.diff(t)
    big = np.flatnonzero(np.abs(d) > JUMP_SECONDS)
    out = []
    if big.size:
        i = int(big[0])
        epoch = " (Unix-epoch time)" if t[i + 1] > EPOCH_SECONDS else ""
        after = t.size - i - 1
        out.append(
            f"timestamps jump by {d[i]:.3g} s at index {i + 1} (from {t[i]:.6g} to {t[i + 1]:.6g} s{epoch}); "
            f"the {after} sample{'s' if after != 1 else ''} from there on are not on the session clock. Fix the "
            "timestamps in the file (e.g. subtract the epoch time of the session start from those samples, or "
            "drop them); nwbview leaves them as they are, so they fall outside every other stream"
        )
    elif t[0] > EPOCH_SECONDS:
        out.append(
            f"timestamps start at {t[0]:.6g} s: Unix-epoch time, not seconds since the session start. Subtract "
            "the session start (as an epoch time) from them in the file"
        )
    return out


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


def _data_len(ts: Any) -> int:
    data = getattr(ts, "data", None)
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape):
        return int(shape[0])
    return 0


def _shape(ts: Any) -> tuple:
    data = getattr(ts, "data", None)
    shape = getattr(data, "shape", None)
    if shape is not None:
        return tuple(int(s) for s in shape)
    try:
        return (len(data),)
    except TypeError:
        return ()


def _sample_values(ts: Any, limit: int = 2_000) -> np.ndarray | None:
    data = getattr(ts, "data", None)
    if data is None or not hasattr(data, "shape") or not len(data.shape) or data.shape[0] == 0:
        return None
    try:
        raw = np.asarray(data[: min(data.shape[0], limit)], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    conv, off = series_scale(ts)
    return raw * conv + off


def _unit_problems(info: StreamInfo, ts: Any) -> None:
    """Flag a unit that does not fit the values (the usual sign of a mislabelled unit)."""
    vals = _sample_values(ts)
    if vals is None or not np.isfinite(vals).any():
        return
    vmax = float(np.nanmax(np.abs(vals)))
    unit = (info.unit or "").lower()
    if info.kind == "position" and unit in {"m", "meter", "meters", "metre", "metres"} and vmax > 20:
        info.problems.append(f"unit is {info.unit!r} but values reach {vmax:.4g}: looks like cm or pixels")
    if info.kind == "head_direction" and unit.startswith("rad") and vmax > 2 * np.pi + 0.01:
        info.problems.append(f"unit is {info.unit!r} but values reach {vmax:.4g}: looks like degrees")
    if info.kind == "lfp" and unit in {"v", "volt", "volts"} and vmax > 0.5:
        info.problems.append(f"unit is {info.unit!r} but values reach {vmax:.4g} V: check the conversion factor")


def resolve_external_files(image_series: Any, opened: OpenedFile) -> list[dict]:
    """Where each external file of an ImageSeries is, and whether it exists.

    Relative paths are resolved against the NWB file's folder, or, for a
    remote file, its URL (for DANDI, the asset's path in the dandiset).

    Returns
    -------
    list of dict
        ``{"stored": ..., "resolved": ..., "exists": bool | None}`` per file
        (``exists`` is None for URLs, which are checked when opened).
    """
    out = []
    for f in list(image_series.external_file[:]):
        f = f.decode() if isinstance(f, bytes) else str(f)
        if is_remote(f):
            out.append({"stored": f, "resolved": f, "exists": None})
            continue
        p = Path(f).expanduser()
        if not p.is_absolute():
            if opened.external_resolver is not None:
                out.append({"stored": f, "resolved": opened.external_resolver(f), "exists": None})
                continue
            if opened.base_url is not None:
                from urllib.parse import urljoin

                out.append({"stored": f, "resolved": urljoin(opened.base_url, f), "exists": None})
                continue
            if opened.folder is not None:
                p = opened.folder / p
        out.append({"stored": f, "resolved": str(p.resolve()) if p.is_absolute() else str(p), "exists": p.exists()})
    return out


# --------------------------------------------------------------------------------------------


def _classify(obj: Any) -> str | None:
    """The kind of a container, or None when nwbview has no use for it."""
    from pynwb.base import TimeSeries
    from pynwb.behavior import CompassDirection, Position, SpatialSeries
    from pynwb.ecephys import ElectricalSeries
    from pynwb.epoch import TimeIntervals
    from pynwb.image import ImageSeries

    tname = type(obj).__name__
    ndt = getattr(obj, "neurodata_type", tname)
    if ndt == "VideoCalibration":
        return "calibration"
    if ndt in {"PoseEstimation"}:
        return "pose"
    if ndt in {"PoseEstimationSeries"}:
        return None  # listed through its PoseEstimation
    if isinstance(obj, TimeIntervals):
        return "intervals"
    if not isinstance(obj, TimeSeries):
        return "result" if type(obj).__name__ == "Images" and _is_nwbview_result(obj) else None
    if _is_nwbview_result(obj):
        return "result"
    if isinstance(obj, ImageSeries):
        if type(obj).__name__ in {"ImageMaskSeries", "IndexSeries"}:
            return None
        return "video"
    if isinstance(obj, SpatialSeries):
        parent = getattr(obj, "parent", None)
        if isinstance(parent, CompassDirection):
            return "head_direction"
        if isinstance(parent, Position):
            return "position"
        name = obj.name.lower()
        if "direction" in name or "heading" in name or "orientation" in name:
            return "head_direction"
        return "position"
    if isinstance(obj, ElectricalSeries):
        return "lfp"
    return "timeseries"


def _is_nwbview_result(obj: Any) -> bool:
    return _provenance_text(obj) is not None


def _provenance_text(obj: Any) -> str | None:
    for attr in ("comments", "description"):
        text = getattr(obj, attr, None)
        if isinstance(text, str) and text.startswith("nwbview:"):
            return text
    return None


def _provenance_summary(obj: Any) -> str | None:
    import json

    text = _provenance_text(obj)
    if text is None:
        return None
    try:
        body = json.loads(text[len("nwbview:"):])
    except json.JSONDecodeError:
        return text
    params = ", ".join(f"{k}={v}" for k, v in sorted(body.get("parameters", {}).items()) if v is not None)
    return f"nwbview {body.get('version', '?')} {body.get('function', '')}({params})"


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
        kind = _classify(obj)
        if kind is None:
            continue
        try:
            info = _describe(kind, obj, opened)
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


def _describe(kind: str, obj: Any, opened: OpenedFile) -> StreamInfo:
    info = StreamInfo(
        kind=kind,
        name=obj.name,
        path=nwb_path(obj),
        neurodata_type=getattr(obj, "neurodata_type", type(obj).__name__),
        obj=obj,
    )
    if kind == "video":
        _describe_video(info, obj, opened)
    elif kind == "pose":
        _describe_pose(info, obj)
    elif kind == "intervals":
        info.shape = (len(obj),)
        info.n_samples = len(obj)
        if len(obj):
            info.t_start = float(obj["start_time"][0])
            info.t_stop = float(obj["stop_time"][-1])
        info.details["columns"] = [c for c in obj.colnames]
    elif kind == "result" and type(obj).__name__ == "Images":
        values = obj.images.get("values") if hasattr(obj.images, "get") else None
        if values is not None:
            info.shape = tuple(int(v) for v in values.data.shape)
        info.details["provenance"] = _provenance_summary(obj)
    elif kind == "calibration":
        info.unit = getattr(obj, "unit", "")
        info.details["transform_type"] = getattr(obj, "transform_type", None)
        info.details["method"] = getattr(obj, "method", None)
        vid = getattr(obj, "image_series", None)
        info.details["video"] = nwb_path(vid) if vid is not None else None
        rms = getattr(obj, "residual_rms", None)
        if rms is not None:
            info.details["residual_rms"] = float(np.asarray(rms))
        prov = _provenance_summary(obj)
        if prov:
            info.details["provenance"] = prov
    else:
        info.shape = _shape(obj)
        info.unit = obj.unit
        _time_info(obj, info)
        if kind == "lfp":
            _describe_electrodes(info, obj)
        if kind == "result":
            info.details["provenance"] = _provenance_summary(obj)
        if kind in {"position", "head_direction", "lfp"}:
            _unit_problems(info, obj)
            if kind == "position":
                info.details["frame"] = "pixel" if (obj.unit or "").lower() in PIXEL_UNITS else "world"
                rf = getattr(obj, "reference_frame", None)
                if rf:
                    info.details["reference_frame"] = rf
    return info


def _describe_electrodes(info: StreamInfo, es: Any) -> None:
    n_ch = info.shape[1] if len(info.shape) > 1 else 1
    info.details["channels"] = n_ch
    try:
        region = es.electrodes
        idx = [int(i) for i in region.data[:17]]  # the first 16 are listed: read no more
        table = region.table
        # one read of the location column, not a table row (a DataFrame) per channel
        locations = table["location"].data if "location" in table.colnames else None
        labels = []
        for i in idx[:16]:
            loc = locations[i] if locations is not None else ""
            loc = loc.decode() if isinstance(loc, bytes) else str(loc)
            labels.append(f"{i}:{loc}" if loc else str(i))
        info.details["electrodes"] = labels + (["..."] if n_ch > 16 or len(idx) > 16 else [])
    except Exception as exc:  # noqa: BLE001
        info.problems.append(f"electrodes table unreadable: {exc}")
    parent = getattr(es, "parent", None)
    if parent is not None and type(parent).__name__ in {"LFP", "FilteredEphys", "DecompositionSeries"}:
        info.details["container"] = type(parent).__name__


def _describe_video(info: StreamInfo, obj: Any, opened: OpenedFile) -> None:
    info.unit = ""
    dim = getattr(obj, "dimension", None)
    if dim is not None:
        info.details["dimension"] = [int(d) for d in np.asarray(dim[:]).ravel()]
    if obj.external_file is not None:
        try:
            files = resolve_external_files(obj, opened)
        except NWBViewError as exc:
            info.problems.append(f"external file cannot be resolved: {exc}")
            files = []
        info.details["files"] = [f["stored"] for f in files]
        sf = obj.starting_frame
        info.details["starting_frame"] = [int(v) for v in (sf[:] if sf is not None else [0])]
        missing = [f for f in files if f["exists"] is False]
        for f in missing:
            where = f" (relative to {opened.folder})" if not Path(f["stored"]).is_absolute() else ""
            info.problems.append(f"external file not found: {f['resolved']}{where}")
        n_ts = len(obj.timestamps) if obj.timestamps is not None else None
        n_frames = None
        remote = [f for f in files if f["exists"] is None]
        if remote:
            # a remote video is only checked to answer (one byte): opening it costs a few hundred KB
            from nwbview.io.remote import probe_url

            info.details["remote"] = "yes (frame count and codec are read when the video is opened)"
            for f in remote:
                try:
                    probe_url(f["resolved"])
                except NWBViewError as exc:
                    info.problems.append(f"video unreadable: {exc}")
        elif files and not missing:
            try:
                from nwbview.io.video import probe_video  # lazy: PyAV import is slow-ish

                probes = [probe_video(f["resolved"]) for f in files]
                n_frames = sum(int(p["n_frames"]) for p in probes)
                info.details["codec"] = ", ".join(sorted({str(p["codec"]) for p in probes}))
                info.details["size"] = f"{probes[0]['width']}x{probes[0]['height']}"
                info.details["file_fps"] = round(float(probes[0]["fps"]), 3) if probes[0].get("fps") else None
                info.details["frames_in_files"] = n_frames
                info.problems.extend(
                    f"{Path(f['resolved']).name}: {p['seek_note']}"
                    for f, p in zip(files, probes)
                    if p["seek_note"]
                )
            except Exception as exc:  # noqa: BLE001 - an unreadable video is a problem to report
                info.problems.append(f"video unreadable: {exc}")
        n = n_ts if n_ts is not None else (n_frames or 0)
        info.shape = (n,)
        _time_info(obj, info, n=n)
        file_fps = info.details.get("file_fps")
        rate_note = None
        if n_ts is not None and file_fps and info.rate and abs(info.rate - file_fps) > 0.05 * file_fps:
            rate_note = (
                f"the file's frame rate is {file_fps:g} fps but the timestamps run at about {info.rate:.4g} Hz; "
                "nwbview shows each frame at its timestamp. Check that the timestamps belong to this video (a "
                "camera that drops or doubles frames, or a rate written in the container by mistake)"
            )
            info.problems.append(rate_note)
            info.details.setdefault("_clock", []).append(rate_note)
        if n_ts is not None and n_frames is not None:
            agree = n_ts == n_frames and rate_note is None
            info.details["timestamps_match_file"] = "yes" if agree else (
                f"no ({n_ts} timestamps, {n_frames} frames)" if n_ts != n_frames
                else f"no (counts agree, but the rates differ: {file_fps:g} fps in the file, {info.rate:.4g} Hz in the timestamps)"
            )
            if n_ts != n_frames:
                info.problems.append(
                    f"{n_ts} timestamps but {n_frames} frames in the file(s); the shorter one wins"
                )
    else:
        info.shape = _shape(obj)
        info.details["storage"] = "in-file"
        _time_info(obj, info)


def _describe_pose(info: StreamInfo, pe: Any) -> None:
    keypoints = pose_keypoints(pe)
    series = [s for _, s in keypoints]
    names = [k for k, _ in keypoints]
    nodes = skeleton_nodes(pe)
    if nodes:
        info.details["skeleton"] = nodes
    info.details["keypoints"] = names
    if any(k != s.name for k, s in keypoints):
        info.details["series"] = [s.name for s in series]
    info.details["individual"] = pose_individual(pe)
    vid = getattr(pe, "source_video", None)
    if vid is not None:
        info.details["video"] = nwb_path(vid)
    originals = getattr(pe, "original_videos", None)
    if originals is not None and len(originals):
        info.details["original_videos"] = [v.decode() if isinstance(v, bytes) else str(v) for v in originals[:]]
    for attr in ("scorer", "source_software"):
        v = getattr(pe, attr, None)
        if v:
            info.details[attr] = v
    if not series:
        info.problems.append("no keypoint series")
        return
    first = series[0]
    info.unit = first.unit
    lens = {k: series_length(s) for k, s in keypoints}
    info.shape = (max(lens.values()), 2 if len(_shape(first)) < 2 else _shape(first)[1], len(series))
    _time_info(first, info, n=lens[names[0]])
    if len(set(lens.values())) > 1:
        # e.g. sleap-io writes each node's samples only where the node was found
        info.details["samples per keypoint"] = lens
        info.details["combined"] = "on the union of the keypoints' times, NaN where a keypoint was not found"
        spans = [sp for sp in (_span(s) for s in series) if sp is not None]
        if spans:
            info.t_start, info.t_stop = min(a for a, _ in spans), max(b for _, b in spans)
        info.n_samples = max(lens.values())
    head = _head_times(first)
    if head is not None and looks_like_frame_numbers(head) and not any("frame numbers" in p for p in info.problems):
        info.problems.append(
            "times look like frame numbers (0, 1, 2, ...), not seconds; they are mapped through the "
            "frame times of the video when it is found"
        )


def pose_individual(pe: Any) -> str:
    """The individual a ``PoseEstimation`` tracks: its track (sleap-io names the container
    ``track=<track>``), else its skeleton's subject, else the container's name.

    Examples
    --------
    >>> pose_individual(nwbfile.processing["SLEAP_VIDEO_000_video"]["track=female"])  # doctest: +SKIP
    'female'
    """
    name = str(pe.name)
    if name.startswith("track=") and len(name) > len("track="):
        return name[len("track="):]
    skel = getattr(pe, "skeleton", None)
    subject = getattr(skel, "subject", None) if skel is not None else None
    sid = getattr(subject, "subject_id", None) if subject is not None else None
    return str(sid) if sid else name


def _span(ts: Any) -> tuple[float, float] | None:
    """First and last sample time of a series, reading two timestamps at most."""
    try:
        if ts.timestamps is not None:
            m = len(ts.timestamps)
            return (float(ts.timestamps[0]), float(ts.timestamps[m - 1])) if m else None
        n = series_length(ts)
        if ts.rate and n:
            start = float(ts.starting_time or 0.0)
            return start, start + (n - 1) / float(ts.rate)
    except (TypeError, ValueError, IndexError):
        return None
    return None


def _head_times(ts: Any, n: int = 200) -> np.ndarray | None:
    """The first ``n`` sample times of a series (cheap: at most ``n`` timestamps are read)."""
    try:
        if ts.timestamps is not None:
            return np.asarray(ts.timestamps[: min(n, len(ts.timestamps))], dtype=np.float64)
        if ts.rate:
            m = min(n, series_length(ts))
            return float(ts.starting_time or 0.0) + np.arange(m) / float(ts.rate)
    except (TypeError, ValueError):
        return None
    return None


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
