"""What one stream of an NWB file is: its kind, and a :class:`StreamInfo` describing it.

:func:`classify` gives the kind of a container (by its type, not by where a convention
says it sits); :func:`describe` fills a :class:`StreamInfo` for it: NWB path, type, shape,
unit, sampling, time range, per-kind details (a video's files, codec and frame count, a
pose's keypoints, an LFP's electrodes) and the problems found (timestamps that look like
frame numbers or jump to epoch time, a unit that does not fit the values, missing files),
reading no more than the first and last timestamps of large series.
:mod:`nwbview.io.inventory` walks the file and lists them.
"""

from __future__ import annotations

import json

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nwbview.errors import NWBViewError
from nwbview.io.nwb import (
    OpenedFile,
    looks_like_frame_numbers,
    nwb_path,
    pose_keypoints,
    series_length,
    series_scale,
    skeleton_nodes,
)
from nwbview.units import is_pixel_unit, normalize_unit
from nwbview.io.paths import is_remote

__all__ = [
    "StreamInfo",
    "classify",
    "describe",
    "resolve_external_files",
    "pose_individual",
    "clock_jumps",
    "JUMP_SECONDS",
    "EPOCH_SECONDS",
]

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
    >>> clock_jumps(np.r_[np.arange(5) / 50, 1.7e9 + np.arange(2) / 50])[0][:45]
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
    if info.kind == "position" and normalize_unit(unit) == "meters" and vmax > 20:
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


def classify(obj: Any) -> str | None:
    """The kind of a container (one of ``nwbview.io.inventory.KINDS``), or None when nwbview has no use for it.

    Examples
    --------
    >>> from pynwb.testing.mock.base import mock_TimeSeries
    >>> from pynwb.testing.mock.behavior import mock_SpatialSeries
    >>> classify(mock_SpatialSeries()), classify(mock_TimeSeries())
    ('position', 'timeseries')
    """
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


#: what starts the provenance nwbview writes into a result's ``comments``
PROVENANCE_PREFIX = "nwbview: "


def read_provenance(text: str | None) -> dict | None:
    """The provenance nwbview wrote into a result (None when ``text`` is not one).

    Examples
    --------
    >>> read_provenance('nwbview: {"function": "compute_speed", "parameters": {"a": 1}}')["parameters"]
    {'a': 1}
    >>> read_provenance("written by hand") is None
    True
    """
    if not isinstance(text, str) or not text.startswith(PROVENANCE_PREFIX.strip()):
        return None
    try:
        body = json.loads(text[len(PROVENANCE_PREFIX.strip()):])
    except json.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _provenance_text(obj: Any) -> str | None:
    for attr in ("comments", "description"):
        text = getattr(obj, attr, None)
        if isinstance(text, str) and text.startswith(PROVENANCE_PREFIX.strip()):
            return text
    return None


def _provenance_summary(obj: Any) -> str | None:
    text = _provenance_text(obj)
    if text is None:
        return None
    body = read_provenance(text)
    if body is None:
        return text
    params = ", ".join(f"{k}={v}" for k, v in sorted(body.get("parameters", {}).items()) if v is not None)
    return f"nwbview {body.get('version', '?')} {body.get('function', '')}({params})"


def describe(kind: str, obj: Any, opened: OpenedFile) -> StreamInfo:
    """The :class:`StreamInfo` of a container of this kind (from :func:`classify`) in ``opened``.

    Examples
    --------
    >>> from pynwb.testing.mock.behavior import mock_SpatialSeries
    >>> info = describe("position", mock_SpatialSeries(), OpenedFile(nwbfile=None))
    >>> info.sampling, info.n_samples, info.t_stop, info.details["frame"]
    ('10 Hz', 4, 0.3, 'world')
    """
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
                info.details["frame"] = "pixel" if is_pixel_unit(obj.unit) else "world"
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
