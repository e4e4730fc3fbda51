"""Pose Datasets from ndx-pose containers: one ``PoseEstimation``, tracks joined as individuals.

The :class:`~nwbview.session.Session` finds the containers (the inventory) and caches times; this
module turns them into movement-style Datasets: ``position (time, space, keypoint, individual)``
and ``confidence (time, keypoint, individual)``, keypoints named by the skeleton's nodes, series of
different times joined on the union of their times (NaN where a keypoint is missing), and times
stored as frame numbers mapped through the video's frame times.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import xarray as xr

from nwbview.errors import DataShapeError, NWBViewError, NWBViewWarning, StreamNotFoundError
from nwbview.io.inventory import StreamInfo
from nwbview.io.nwb import (
    looks_like_frame_numbers,
    nwb_path,
    pose_keypoints,
    scaled_data,
    series_length,
    series_times,
    skeleton_nodes,
)
from nwbview.units import is_pixel_unit

__all__ = ["pose_dataset", "stack_individuals", "one_recording", "stackable", "frame_number_times"]

def pose_dataset(info: StreamInfo, times_of: Callable[[Any], np.ndarray]) -> xr.Dataset:
    """One PoseEstimation as a Dataset on the union of its keypoints' times (as stored).

    ``times_of(series)`` gives a series' times (the session caches them).
    """
    pe = info.obj
    keypoints = pose_keypoints(pe)
    if not keypoints:
        raise StreamNotFoundError(f"{info.path} has no keypoint series.")
    series = [s for _, s in keypoints]
    names = [k for k, _ in keypoints]
    times = []
    for s in series:
        t = times_of(s)
        if t.size != series_length(s):
            raise DataShapeError(f"{nwb_path(s)} has {series_length(s)} samples but {t.size} times.")
        times.append(t)
    same = all(t.size == times[0].size and np.array_equal(t, times[0]) for t in times[1:])
    t = times[0] if same else union_times(times)
    n = t.size
    pos = np.full((n, 2, len(series)), np.nan)
    conf = np.full((n, len(series)), np.nan)
    for k, (s, ts) in enumerate(zip(series, times)):
        rows = slice(None) if same else rows_in(t, ts)
        v = scaled_data(s)
        if v.ndim != 2 or v.shape[1] < 2:
            raise DataShapeError(f"{nwb_path(s)} has shape {v.shape}; keypoints need (time, 2) or (time, 3).")
        pos[rows, :, k] = v[:, :2]
        if s.confidence is not None:
            c = np.asarray(s.confidence[:], dtype=np.float64)
            if c.shape[0] != ts.size:
                raise DataShapeError(f"{nwb_path(s)}: confidence has {c.shape[0]} values for {ts.size} samples.")
            conf[rows, k] = c
    individual = str(info.details.get("individual") or pe.name)
    unit = series[0].unit or ""
    ds = xr.Dataset(
        {
            "position": (("time", "space", "keypoint"), pos),
            "confidence": (("time", "keypoint"), conf),
        },
        coords={"time": t, "space": ["x", "y"], "keypoint": names},
        attrs={
            "units": unit,
            "space_unit": unit,
            "source": info.path,
            "source_software": getattr(pe, "source_software", "") or "",
            "reference_frame": getattr(series[0], "reference_frame", "") or "",
            "coordinates": "pixel" if is_pixel_unit(unit) else "world",
        },
    )
    ds = ds.expand_dims(individual=[individual]).transpose("time", "space", "keypoint", "individual")
    ds["confidence"] = ds["confidence"].transpose("time", "keypoint", "individual")
    edges = skeleton_edges(pe, names)
    if edges:
        ds.attrs["skeleton_edges"] = edges
    return ds


def frame_number_times(ds: xr.Dataset, infos: list[StreamInfo], video_times: Callable[[str], np.ndarray]) -> xr.Dataset:
    """Pose times that are frame numbers, mapped through the frame times of the pose's video.

    ``video_times(name)`` gives the frame times of a video of the session.
    """
    t = ds["time"].values
    if not looks_like_frame_numbers(t):
        return ds
    info = infos[0]
    path = ", ".join(i.path for i in infos)
    head = ", ".join(f"{v:g}" for v in t[:3])
    fix = (
        "Store the video's frame times as the pose timestamps (e.g. PoseEstimationSeries(..., "
        "timestamps=<the ImageSeries>); sleap-io: save_nwb(..., pose_estimation_metadata="
        "{'video_timestamps': ...}))."
    )
    vt, vname, why = None, None, ""
    video = getattr(info.obj, "source_video", None)
    if video is not None:
        vname = f"the linked video {video.name!r}"
        try:
            vt = series_times(video, n=series_length(video))
        except NWBViewError as exc:
            why = f" ({exc})"
    elif info.details.get("video"):
        vname = f"the video {Path(str(info.details['video'])).name!r}"
        try:
            vt = video_times(str(info.details["video"]))
        except NWBViewError as exc:
            why = f" ({exc})"
    elif info.details.get("_video_missing"):
        why = f" ({info.details['_video_missing']})"
    if vt is not None and vt.size:
        idx = t.astype(np.int64)
        if t[0] == 1 and idx[-1] == vt.size:  # numbered from 1
            idx = idx - 1
        if idx[-1] < vt.size:
            warnings.warn(
                f"The timestamps of {path} look like frame numbers ({head}, ...), not seconds; nwbview "
                f"uses the frame times of {vname} instead. {fix}",
                NWBViewWarning,
                stacklevel=3,
            )
            return ds.assign_coords(time=vt[idx])
        why = f" ({vname} has {vt.size} frames, fewer than frame number {idx[-1]:g} needs)"
    warnings.warn(
        f"The timestamps of {path} look like frame numbers ({head}, ...), not seconds, and no "
        f"linked video gives frame times{why}: times are left as they are and will not line up with "
        f"other streams. {fix}",
        NWBViewWarning,
        stacklevel=3,
    )
    return ds


def stackable(parts: list[xr.Dataset]) -> bool:
    first = parts[0]
    return all(
        p.sizes["time"] == first.sizes["time"]
        and list(p.keypoint.values) == list(first.keypoint.values)
        and np.allclose(p.time.values, first.time.values)
        for p in parts[1:]
    )


def recording_key(info: StreamInfo) -> tuple:
    """What makes PoseEstimations tracks of one recording: one video, skeleton and camera."""
    pe = info.obj
    video = info.details.get("video") or tuple(info.details.get("original_videos") or ())
    device = getattr(pe, "device", None)
    if device is not None:
        devices = [device]
    else:
        with warnings.catch_warnings():  # ndx-pose >= 0.3 deprecates `devices` (one camera: `device`)
            warnings.simplefilter("ignore", DeprecationWarning)
            devices = getattr(pe, "devices", None) or []
        devices = list(devices.values()) if isinstance(devices, dict) else list(devices)
    device_names = tuple(sorted({str(getattr(d, "name", d)) for d in devices}))
    return (video, tuple(skeleton_nodes(pe)), device_names)


def one_recording(items: list[StreamInfo], parts: list[xr.Dataset]) -> bool:
    """True for the tracks of one recording (sleap-io writes one PoseEstimation per track)."""
    keys = {recording_key(s) for s in items}
    if len(keys) != 1 or not next(iter(keys))[0]:
        return False
    return all(list(p.keypoint.values) == list(parts[0].keypoint.values) for p in parts[1:])


def stack_individuals(parts: list[xr.Dataset]) -> xr.Dataset:
    """Poses of several individuals on the union of their times, NaN where one is not tracked."""
    times = [p["time"].values for p in parts]
    t = times[0] if stackable(parts) else union_times(times)
    out = []
    seen: dict[str, int] = {}
    for p, pt in zip(parts, times):
        if pt.size != t.size or not np.array_equal(pt, t):
            rows = rows_in(t, pt)
            pos = np.full((t.size,) + p["position"].shape[1:], np.nan)
            conf = np.full((t.size,) + p["confidence"].shape[1:], np.nan)
            pos[rows] = p["position"].values
            conf[rows] = p["confidence"].values
            p = p.drop_vars("time").assign(
                position=(p["position"].dims, pos), confidence=(p["confidence"].dims, conf)
            ).assign_coords(time=t)
        name = str(p.individual.values[0])
        if name in seen:  # two containers of one name (in different modules)
            seen[name] += 1
            p = p.assign_coords(individual=[f"{name}_{seen[name]}"])
        else:
            seen[name] = 0
        out.append(p)
    ds = xr.concat(out, dim="individual", combine_attrs="override")
    sources = [str(p.attrs.get("source")) for p in parts]
    parents = {src.rsplit("/", 1)[0] for src in sources}
    # the containers' common parent (sleap-io's tracks share one processing module), else all of them
    ds.attrs["source"] = parents.pop() if len(parents) == 1 and len(sources) > 1 else ", ".join(sources)
    return ds


#: times closer than this (seconds) are one sample time when series are combined
TIME_TOL = 1e-6


def union_times(times: list[np.ndarray]) -> np.ndarray:
    """The sorted union of several series' times (times within ``TIME_TOL`` are one)."""
    allt = np.sort(np.concatenate(times))
    if allt.size == 0:
        return allt
    return allt[np.concatenate([[True], np.diff(allt) > TIME_TOL])]


def rows_in(union: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Row of each time of ``t`` in ``union`` (the nearest: ``union`` holds every time of ``t``)."""
    i = np.clip(np.searchsorted(union, t), 0, union.size - 1)
    before = np.clip(i - 1, 0, union.size - 1)
    closer = np.abs(union[before] - t) < np.abs(union[i] - t)
    return np.where(closer, before, i)


def skeleton_edges(pe: Any, names: list[str]) -> list[list[str]]:
    skel = getattr(pe, "skeleton", None)
    if skel is None or getattr(skel, "edges", None) is None:
        return []
    nodes = skeleton_nodes(pe)
    out = []
    for a, b in np.asarray(skel.edges[:]).tolist():
        if a < len(nodes) and b < len(nodes) and nodes[a] in names and nodes[b] in names:
            out.append([nodes[a], nodes[b]])
    return out
