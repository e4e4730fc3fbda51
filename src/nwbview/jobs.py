"""The jobs nwbview runs on one session: one API function each.

The CLI commands and ``nwbview batch`` call these; each opens the session,
computes, saves its files and (with ``write=True``) writes its results back,
and returns a :class:`JobResult` that says what it made.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from nwbview.io.atomic import check_output_path, save_output

__all__ = ["JobResult", "info_job", "kinematics_job", "calibrate_job", "heatmap_job", "write_back", "split_video", "open_session"]

#: file name endings taken as a video file (not an ImageSeries name) in ``video=`` / ``--video``
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm", ".mj2", ".ogv", ".h264"})


@dataclass
class JobResult:
    """What a job made: files, NWB objects written, a text summary and key numbers."""

    session: str
    job: str
    outputs: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    summary: str = ""
    data: dict = field(default_factory=dict)


def write_back(path: str | os.PathLike, results: list, *, mode: str = "replace", overwrite: bool = False, out: str | None = None, module: str = "behavior", since: tuple | None = None) -> tuple[Path, list[str], str]:
    """Write results through :func:`nwbview.io.write.write_results`; return the file, the object paths and a message."""
    from nwbview.io.paths import is_remote
    from nwbview.io.write import write_results

    note = ""
    if is_remote(str(path)):
        # a remote file cannot be written: the results go into a derived local file
        out = out or str(Path.cwd() / (Path(str(path).split("?")[0].rstrip("/")).stem + "_nwbview.nwb"))
        if mode != "new":
            note = f" (the session is remote, so a derived local file was written instead of mode {mode})"
        mode = "new"
    target = write_results(path, results, module=module, mode=mode, overwrite=overwrite, out=out, since=since)
    names = [f"processing/{module}/{getattr(r, 'name', '?')}" for r in results]
    return target, names, f"wrote {', '.join(names)} into {target} (mode {mode}){note}"


def _state_before_reading(source: Any, write: bool) -> tuple | None:
    """The file's state as a job starts reading it: its write-back refuses if it changed meanwhile."""
    from nwbview.io.atomic import file_state
    from nwbview.io.paths import is_remote

    if not write or not isinstance(source, (str, os.PathLike)) or is_remote(str(source)):
        return None
    try:
        return file_state(source)
    except OSError:
        return None  # opening it says what is wrong


def split_video(video: str | os.PathLike | Sequence[str | os.PathLike] | None) -> tuple[str | None, list[str]]:
    """Split what ``--video`` was given into a video file and ImageSeries names.

    A value that is an existing file, or ends like a video file (``.mp4``,
    ``.avi``, ...), is a video file: the video of a pose-only file (see
    :func:`nwbview.open`'s ``video``). Any other value names an ImageSeries.

    Returns
    -------
    tuple
        ``(video file or None, [ImageSeries names])``.

    Raises
    ------
    MissingFileError
        A value ends like a video file but no such file exists.
    NWBViewError
        More than one video file is given.

    Examples
    --------
    >>> split_video(["BehaviorVideo"])
    (None, ['BehaviorVideo'])
    >>> split_video("videos/m1s1.mp4")  # doctest: +SKIP
    ('videos/m1s1.mp4', [])
    """
    from nwbview.errors import MissingFileError, NWBViewError

    values = [video] if isinstance(video, (str, os.PathLike)) else list(video or [])
    files, names = [], []
    for v in values:
        p = Path(os.fspath(v)).expanduser()
        if p.is_file():
            files.append(str(p))
        elif p.suffix.lower() in VIDEO_SUFFIXES:
            raise MissingFileError(
                f"Video file not found: {p} (from --video / video=). Check the path (a relative path is "
                f"taken from the current folder, {os.getcwd()})."
            )
        else:
            names.append(os.fspath(v))
    if len(files) > 1:
        raise NWBViewError(
            f"Several video files were given ({', '.join(files)}); a session takes one video file (the video "
            "of its pose). Pass one --video FILE; other videos are ImageSeries of the NWB file, named."
        )
    return (files[0] if files else None), names


def open_session(source: Any, video: str | os.PathLike | Sequence[str | os.PathLike] | None = None):
    """Open a session with what ``--video`` was given: ``(session, video names to show)``.

    A video file given becomes the session's video (``nwbview.open(source,
    video=FILE)``) and comes first in the names; ImageSeries names follow as given.

    Examples
    --------
    >>> s, videos = open_session("flies.nwb", ["flies.mp4"])  # doctest: +SKIP
    >>> videos  # doctest: +SKIP
    ['/data/flies.mp4']
    """
    import nwbview
    from nwbview.io.inventory import ExternalVideo

    file, names = split_video(video)
    s = nwbview.open(source, video=file)
    if file is not None:
        given = [v.path for v in s.inventory().of_kind("video") if isinstance(v.obj, ExternalVideo) and v.obj.given]
        names = given + names
    return s, names


def _only_file(video, command: str) -> str | None:
    """``--video`` of a command that shows no video by name: a video file only."""
    from nwbview.errors import NWBViewError

    file, names = split_video(video)
    if names:
        raise NWBViewError(
            f"{command} --video takes the path of a video file (the video of a pose-only file); "
            f"{names[0]!r} is not a file."
        )
    return file


def _require_pose_video(session, videos) -> None:
    """An export of a pose-only file needs the pose's video: say which one is missing and how to pass it."""
    from nwbview.errors import MissingFileError

    if videos or session.inventory().of_kind("video"):
        return
    missing = [p.details["_video_missing"] for p in session.inventory().of_kind("pose") if p.details.get("_video_missing")]
    if missing:
        raise MissingFileError(f"No video to draw the pose on: {missing[0]}.")


def _finish(res: JobResult, path, results, write: bool, write_opts: dict) -> JobResult:
    if write:
        target, names, msg = write_back(path, results, **write_opts)
        res.written = names
        res.summary += ("\n" if res.summary else "") + msg
        if str(target) != str(path):
            res.outputs.append(str(target))
    return res


def info_job(source: Any, *, json_path: str | os.PathLike | None = None, video: str | os.PathLike | None = None) -> JobResult:
    """The inventory of a session, as text (and JSON into ``json_path``).

    ``video`` is the video file of a pose-only file (listed as its video).

    Examples
    --------
    >>> print(info_job("session.nwb").summary)  # doctest: +SKIP
    """
    import nwbview

    with nwbview.open(source, video=_only_file(video, "info")) as s:
        inv = s.inventory()
        res = JobResult(str(source), "info", summary=str(inv), data={"streams": len(inv), "problems": len(inv.problems)})
        if json_path:
            Path(json_path).write_text(inv.to_json())
            res.outputs.append(str(json_path))
    return res


def kinematics_job(
    source: Any,
    *,
    kind: str | None = "position",
    keypoint: str | None = None,
    smooth_s: float | None = None,
    csv: str | os.PathLike | None = None,
    video: str | os.PathLike | None = None,
    pose: str | None = None,
    position: str | None = None,
    min_confidence: float | None = None,
    write: bool = False,
    mode: str = "replace",
    overwrite: bool = False,
    out: str | None = None,
    module: str = "behavior",
) -> JobResult:
    """Speed, acceleration and head direction of a session; CSV and write-back on request.

    ``kind`` is ``"position"`` or ``"pose"``; None takes the position, or the pose
    when the file has no position (a pose-only file). ``pose`` and ``position``
    name the streams (as ``Session.pose`` / ``Session.position`` take them).
    Every individual of a pose gets its own speed (a CSV column each); pose
    samples below ``min_confidence`` (default
    :data:`nwbview.kinematics.DEFAULT_MIN_CONFIDENCE`) are gaps. ``video`` is the
    video file of a pose-only file: pose times stored as frame numbers become its
    frame times.

    Examples
    --------
    >>> kinematics_job("session.nwb", kind="pose", write=True)  # doctest: +SKIP
    >>> kinematics_job("axona.nwb", position="Position/x,y", csv="speed.csv")  # doctest: +SKIP
    """
    import nwbview
    from nwbview.results import kinematics_results, session_kinematics

    if csv:
        check_output_path(csv, "the kinematics table")
    since = _state_before_reading(source, write)
    with nwbview.open(source, video=_only_file(video, "kinematics")) as s:
        if kind is None:
            kind = "pose" if (pose is not None or not s.inventory().of_kind("position")) and s.inventory().of_kind("pose") and position is None else "position"
        kd = session_kinematics(s, source=kind, keypoint=keypoint, smooth_s=smooth_s, min_confidence=min_confidence,
                                pose=pose, position=position)
        results = kinematics_results(s, source=kind, keypoint=keypoint, smooth_s=smooth_s, pose=pose, position=position, kinematics=kd)
    speed = kd["speed"]
    if "individual" not in speed.dims:
        speed = speed.expand_dims(individual=[""], axis=1)
    inds = [str(i) for i in speed.individual.values]
    unit = str(speed.attrs.get("units", ""))
    t = np.asarray(speed.time.values)
    v = np.asarray(speed.transpose("time", "individual").values, np.float64)
    finite = v[np.isfinite(v)]
    stats = {"median": float(np.median(finite)), "p95": float(np.percentile(finite, 95)), "max": float(finite.max())} if finite.size else {}
    res = JobResult(str(source), "kinematics", data={"samples": int(v.shape[0]), "nan": int((~np.isfinite(v)).sum()),
                                                     "individuals": len(inds), **stats})
    what = f"{kind} {kd.attrs.get('source', '')}".strip()
    if kind == "pose":
        what += f", keypoint {kd.attrs.get('keypoint')}"
    lines = [f"speed ({unit}) from {what}: {v.shape[0]} samples, {t[0]:.3f}..{t[-1]:.3f} s"]
    if kind == "pose":
        low = kd.attrs.get("low_confidence_samples")
        lines.append(f"confidence below {kd.attrs.get('min_confidence'):g} treated as gaps"
                     + (f" ({low} keypoint samples)" if low is not None else ""))
    for j, ind in enumerate(inds):
        col = v[:, j]
        ok = col[np.isfinite(col)]
        label = f"{ind}: " if ind and len(inds) > 1 else ""
        lines.append(
            f"  {label}"
            + (f"median {np.median(ok):.3g}, 95th percentile {np.percentile(ok, 95):.3g}, max {ok.max():.3g}; " if ok.size else "")
            + f"{col.size - ok.size} samples NaN (tracking gaps)"
        )
        if ind and len(inds) > 1:
            res.data[f"median_{ind}"] = float(np.median(ok)) if ok.size else float("nan")
    lines.append("results: " + ", ".join(f"{r.name} ({type(r).__name__})" for r in results))
    res.summary = "\n".join(lines)
    if csv:
        import pandas as pd

        acc = kd["acceleration"]
        if "individual" not in acc.dims:
            acc = acc.expand_dims(individual=[""], axis=1)
        acc_v = np.asarray(acc.transpose("time", "individual").values, np.float64)
        acc_unit = str(acc.attrs.get("units", ""))
        columns: dict = {"time_s": t}
        for j, ind in enumerate(inds):
            tag = f"_{ind}" if ind and len(inds) > 1 else ""
            columns[f"speed{tag}_{unit}"] = v[:, j]
            columns[f"acceleration{tag}_{acc_unit}"] = acc_v[:, j]
        table = pd.DataFrame(columns)
        save_output(csv, "the kinematics table", lambda tmp: table.to_csv(tmp, index=False))
        res.outputs.append(str(csv))
        res.summary += f"\nsaved {csv}"
    return _finish(res, source, results, write, dict(mode=mode, overwrite=overwrite, out=out, module=module, since=since))


def calibrate_job(
    source: Any,
    *,
    video: str | None = None,
    landmarks: str | os.PathLike | None = None,
    transform_type: str = "auto",
    scale_bar: Sequence[float] | None = None,
    cm_per_px: float | None = None,
    unit: str = "cm",
    write: bool = True,
    mode: str = "replace",
    overwrite: bool = False,
    out: str | None = None,
) -> JobResult:
    """Fit a video calibration and (by default) store it in the session.

    Examples
    --------
    >>> calibrate_job("session.nwb", landmarks="landmarks.csv")  # doctest: +SKIP
    """
    import nwbview
    from nwbview.results import calibration_result

    since = _state_before_reading(source, write)
    with nwbview.open(source) as s:
        cal = s.fit_calibration(video, landmarks=landmarks, transform_type=transform_type,
                                scale_bar=list(scale_bar) if scale_bar else None, cm_per_px=cm_per_px, unit=unit)
        video_path = s.find_stream("video", video).path
    res = JobResult(str(source), "calibrate", summary=cal.summary(),
                    data={"transform_type": cal.transform_type, "cm_per_px": cal.cm_per_px, "residual_rms": cal.residual_rms})
    result = calibration_result(cal, video_path, landmarks=str(landmarks) if landmarks else None)
    return _finish(res, source, [result], write, dict(mode=mode, overwrite=overwrite, out=out, module="behavior", since=since))


def heatmap_job(
    source: Any,
    *,
    kind: str = "occupancy",
    output: str | os.PathLike | None = None,
    bin_size: float | None = None,
    min_speed: float | None = None,
    smooth: float | None = None,
    signal: str = "speed",
    band: tuple[float, float] = (6.0, 10.0),
    lfp_channel: int = 0,
    head: str | None = None,
    tail: str | None = None,
    intervals: str | None = None,
    egocentric: bool = False,
    gamma: float = 0.5,
    buffer_mult: float = 2.0,
    padding: int = 0,
    min_confidence: float | None = None,
    video: str | os.PathLike | None = None,
    pose: str | None = None,
    position: str | None = None,
    lfp: str | None = None,
    progress: bool = False,
    write: bool = False,
    mode: str = "replace",
    overwrite: bool = False,
    out: str | None = None,
    module: str = "behavior",
) -> JobResult:
    """Compute a heatmap, save its figure, and (with ``write``) store it in the session.

    The figure goes to ``output`` (format by extension), default
    ``<session>_<kind>.png`` next to a local session (or in the working
    folder for a remote one). ``video`` is the video of a movement heatmap: an
    ImageSeries name, or a video file (the video of a pose-only file).
    ``pose``, ``position`` and ``lfp`` name the streams used (default: the only
    one); ``min_confidence`` is the confidence rule of the movement heatmap
    (default :data:`nwbview.kinematics.DEFAULT_MIN_CONFIDENCE`).

    Examples
    --------
    >>> heatmap_job("session.nwb", kind="movement", egocentric=True, output="movement.pdf")  # doctest: +SKIP
    """
    from nwbview.heatmap import compute_heatmap
    from nwbview.io.paths import is_remote
    from nwbview.render.figures import plot_heatmap
    from nwbview.results import heatmap_result

    opts: dict = {}
    if kind == "movement":
        from nwbview.kinematics import HEAD_NAMES, TAIL_NAMES

        opts = dict(head=head or HEAD_NAMES, tail=tail or TAIL_NAMES, intervals=intervals, egocentric=egocentric, gamma=gamma,
                    buffer_mult=buffer_mult, crop_padding=padding, min_confidence=min_confidence, progress=progress, pose=pose)
    if output is not None:  # a bad output path is refused before the work
        from nwbview.render.figures import FIGURE_SUFFIXES

        check_output_path(output, "the figure", FIGURE_SUFFIXES)
    since = _state_before_reading(source, write)
    s, videos = open_session(source, video)
    if kind == "movement" and videos:
        opts["video"] = videos[0]
    with s:
        r = compute_heatmap(s, kind, bin_size=bin_size, min_speed=min_speed, smooth=smooth, signal=signal,
                            band=tuple(band), lfp_channel=lfp_channel, position=position, lfp=lfp, **opts)
    stem = Path(str(source).split("?")[0]).stem
    if output is None:
        base = Path.cwd() if is_remote(str(source)) else Path(source).parent
        output = base / f"{stem}_{kind}.png"
    plot_heatmap(r, output)
    da = r.heatmap if kind == "movement" else r
    res = JobResult(str(source), "heatmap", outputs=[str(output)])
    if kind == "movement":
        res.summary = (f"movement heatmap: radius {r.radius} px, {r.frames_used} frames used; skipped: "
                       + (", ".join(f"{k} {v}" for k, v in r.frames_skipped.items() if v) or "none"))
        res.data = {"radius": r.radius, "frames_used": r.frames_used, **{f"skipped_{k}": v for k, v in r.frames_skipped.items()}}
    else:
        res.summary = f"{kind} map: {da.sizes['x']} x {da.sizes['y']} bins of {da.attrs['bin_size']} {da.attrs.get('space_unit', '')}"
        res.data = {"bins_visited": int(np.isfinite(da.values).sum())}
    res.summary += f"\nsaved {output}"
    params = dict(bin_size=bin_size, min_speed=min_speed, smooth=smooth, signal=signal if kind == "signal" else None,
                  position=position, lfp=lfp if kind == "signal" else None,
                  **{k: v for k, v in opts.items() if k not in ("progress", "video")})
    params = {k: v for k, v in params.items() if v is not None}
    return _finish(res, source, [heatmap_result(da, **params)] if write else [], write,
                   dict(mode=mode, overwrite=overwrite, out=out, module=module, since=since))


def _export_content(session, videos, pose, position, trail, head_direction, events, speed, lfp_channel, no_lfp, window, landmarks,
                    lfp=None, min_confidence=None) -> dict:
    """What an export shows (video, overlays, column), as ``nwbview export`` builds it.

    ``pose``, ``position`` and ``head_direction`` are True/False or a stream name (shown).
    """
    from nwbview.render import default_overlays, default_timeseries

    calibration = None
    if landmarks:
        calibration = session.fit_calibration(videos[0] if videos else None, landmarks=landmarks)
    overlays = default_overlays(session, pose=pose, position=position, trail_seconds=trail, head_direction=head_direction, events=events,
                                min_confidence=min_confidence)
    pos_name = position if isinstance(position, str) and position else None
    timeseries = default_timeseries(
        session,
        speed=speed,
        lfp_channel=None if no_lfp else (0 if lfp_channel is None else lfp_channel),
        window_seconds=window,
        lfp_required=lfp_channel is not None or lfp is not None,
        position=pos_name,
        lfp=None if no_lfp else lfp,
    )
    return dict(video=list(videos) or None, overlays=overlays, timeseries=timeseries, calibration=calibration)


def view_content(
    session: Any,
    *,
    pose: bool | str = True,
    position: bool | str = True,
    head_direction: bool | str = True,
    trail: float = 2.0,
    window: float = 2.0,
    lfp: str | None = None,
    lfp_channel: int | None = None,
    no_lfp: bool = False,
    min_confidence: float | None = None,
) -> dict:
    """What ``nwbview view`` shows: the export's overlays and column, for the napari viewer.

    Streams are chosen as for :func:`export_job` (True: the file's, False: none, or a name).

    Examples
    --------
    >>> with nwbview.open("session.nwb") as s:  # doctest: +SKIP
    ...     view(s, **view_content(s, pose="male", position=False))
    """
    content = _export_content(session, [], pose, position, trail, head_direction, [], True, lfp_channel, no_lfp, window, None,
                              lfp=lfp, min_confidence=min_confidence)
    return dict(overlays=content["overlays"], timeseries=content["timeseries"])


def export_job(
    source: Any,
    *,
    output: str | os.PathLike | None = None,
    start: float | None = None,
    stop: float | None = None,
    video: str | Sequence[str] | None = None,
    pose: bool | str = True,
    position: bool | str = True,
    trail: float = 2.0,
    head_direction: bool | str = False,
    events: Sequence[str] = (),
    speed: bool = True,
    lfp_channel: int | None = None,
    no_lfp: bool = False,
    lfp: str | None = None,
    min_confidence: float | None = None,
    window: float = 2.0,
    landmarks: str | os.PathLike | None = None,
    size: str | None = None,
    fps: float | None = None,
    workers: int | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    progress: bool = False,
) -> JobResult:
    """Export an annotated video clip of a session (what ``nwbview export`` makes).

    The clip goes to ``output`` (default ``<session>_clip.mp4`` next to a local
    session, or in the working folder for a remote one). The options are those
    of ``nwbview export``: ``pose``, ``position`` and ``head_direction`` are True/False
    or the name of the stream to draw, ``lfp`` names the LFP of the column and
    ``min_confidence`` hides keypoints below it; ``video`` may be one name or several (side by side),
    and one of them may be a video file (the video of a pose-only file, see
    :func:`split_video`); ``workers`` is the number of render processes.

    Examples
    --------
    >>> export_job("session.nwb", start=10, stop=20, head_direction=True)  # doctest: +SKIP
    """
    import av

    from nwbview.io.paths import is_remote
    from nwbview.render.export import export_video

    if output is None:
        stem = Path(str(source).split("?")[0]).stem
        base = Path.cwd() if is_remote(str(source)) else Path(source).parent
        output = base / f"{stem}_clip.mp4"
    s, videos = open_session(source, video)
    with s:
        _require_pose_video(s, videos)
        content = _export_content(s, videos, pose, position, trail, head_direction, list(events), speed, lfp_channel, no_lfp, window, landmarks,
                                  lfp=lfp, min_confidence=min_confidence)
        out = export_video(s, output, start, stop, fps=fps, size=size, n_workers=workers, crf=crf, preset=preset, progress=progress, **content)
    with av.open(str(out)) as c:
        st = c.streams.video[0]
        n, w, h = st.frames, st.codec_context.width, st.codec_context.height
        dur = float(c.duration or 0) / 1e6
    return JobResult(str(source), "export", outputs=[str(out)], summary=f"wrote {out} ({n} frames, {w}x{h}, {dur:.2f} s)",
                     data={"frames": int(n), "width": int(w), "height": int(h), "clip_s": dur})


def snapshot_job(
    source: Any,
    t: float,
    output: str | os.PathLike,
    *,
    video: str | Sequence[str] | None = None,
    pose: bool | str = True,
    position: bool | str = True,
    trail: float = 2.0,
    head_direction: bool | str = False,
    events: Sequence[str] = (),
    speed: bool = True,
    lfp_channel: int | None = None,
    no_lfp: bool = False,
    lfp: str | None = None,
    min_confidence: float | None = None,
    window: float = 2.0,
    landmarks: str | os.PathLike | None = None,
    size: str | None = None,
) -> JobResult:
    """One frame of the annotated export at session time ``t``, as an image (what ``nwbview snapshot`` makes).

    Examples
    --------
    >>> snapshot_job("session.nwb", 12.5, "frame.png")  # doctest: +SKIP
    """
    from nwbview.render.export import snapshot

    s, videos = open_session(source, video)
    with s:
        _require_pose_video(s, videos)
        content = _export_content(s, videos, pose, position, trail, head_direction, list(events), speed, lfp_channel, no_lfp, window, landmarks,
                                  lfp=lfp, min_confidence=min_confidence)
        out = snapshot(s, t, output, size=size, **content)
    return JobResult(str(source), "snapshot", outputs=[str(out)], summary=f"wrote {out}")


__all__ += ["export_job", "snapshot_job", "view_content"]
