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

from nwbview.errors import renamed_keywords
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


def write_back(path: str | os.PathLike, results: list, *, mode: str = "replace", overwrite: bool = False, new_file: str | None = None, module: str = "behavior", since: tuple | None = None) -> tuple[Path, list[str], str]:
    """Write results through :func:`nwbview.io.write.write_results`; return the file, the object paths and a message."""
    from nwbview.io.paths import is_remote
    from nwbview.io.write import write_results

    note = ""
    if is_remote(str(path)):
        # a remote file cannot be written: the results go into a derived local file
        new_file = new_file or str(Path.cwd() / (Path(str(path).split("?")[0].rstrip("/")).stem + "_nwbview.nwb"))
        if mode != "new":
            note = f" (the session is remote, so a derived local file was written instead of mode {mode})"
        mode = "new"
    target = write_results(path, results, module=module, mode=mode, overwrite=overwrite, new_file=new_file, since=since)
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
            text = inv.to_json()
            save_output(json_path, "the inventory (JSON)", lambda tmp: Path(tmp).write_text(text))
            res.outputs.append(str(json_path))
    return res


@renamed_keywords(kind="tracking", out="new_file")
def kinematics_job(
    source: Any,
    *,
    tracking: str | None = "position",
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
    new_file: str | None = None,
    module: str = "behavior",
) -> JobResult:
    """Speed, acceleration and head direction of a session; CSV and write-back on request.

    ``tracking`` is ``"position"`` or ``"pose"``; None takes the position, or the pose
    when the file has no position (a pose-only file). ``pose`` and ``position``
    name the streams (as ``Session.pose`` / ``Session.position`` take them).
    Every individual of a pose gets its own speed (a CSV column each); pose
    samples below ``min_confidence`` (default
    :data:`nwbview.kinematics.DEFAULT_MIN_CONFIDENCE`) are gaps. ``video`` is the
    video file of a pose-only file: pose times stored as frame numbers become its
    frame times.

    Examples
    --------
    >>> kinematics_job("session.nwb", tracking="pose", write=True)  # doctest: +SKIP
    >>> kinematics_job("axona.nwb", position="Position/x,y", csv="speed.csv")  # doctest: +SKIP
    """
    import nwbview
    from nwbview.results import kinematics_results, session_kinematics

    if csv:
        check_output_path(csv, "the kinematics table")
    since = _state_before_reading(source, write)
    with nwbview.open(source, video=_only_file(video, "kinematics")) as s:
        if tracking is None:
            tracking = "pose" if (pose is not None or not s.inventory().of_kind("position")) and s.inventory().of_kind("pose") and position is None else "position"
        kd = session_kinematics(s, tracking=tracking, keypoint=keypoint, smooth_s=smooth_s, min_confidence=min_confidence,
                                pose=pose, position=position)
        results = kinematics_results(s, tracking=tracking, keypoint=keypoint, smooth_s=smooth_s, pose=pose, position=position, kinematics=kd)
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
    what = f"{tracking} {kd.attrs.get('source', '')}".strip()
    if tracking == "pose":
        what += f", keypoint {kd.attrs.get('keypoint')}"
    lines = [f"speed ({unit}) from {what}: {v.shape[0]} samples, {t[0]:.3f}..{t[-1]:.3f} s"]
    if tracking == "pose":
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
    return _finish(res, source, results, write, dict(mode=mode, overwrite=overwrite, new_file=new_file, module=module, since=since))


@renamed_keywords(out="new_file")
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
    new_file: str | None = None,
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
    return _finish(res, source, [result], write, dict(mode=mode, overwrite=overwrite, new_file=new_file, module="behavior", since=since))


@renamed_keywords(smooth="sigma", out="new_file")
def heatmap_job(
    source: Any,
    *,
    kind: str = "occupancy",
    output: str | os.PathLike | None = None,
    signal: str = "speed",
    band: tuple[float, float] = (6.0, 10.0),
    lfp_channel: int = 0,
    bin_size: float | None = None,
    min_speed: float | None = None,
    sigma: float | None = None,
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
    module: str = "behavior",
    write: bool = False,
    mode: str = "replace",
    overwrite: bool = False,
    new_file: str | None = None,
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
        r = compute_heatmap(s, kind, bin_size=bin_size, min_speed=min_speed, sigma=sigma, signal=signal,
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
    params = dict(bin_size=bin_size, min_speed=min_speed, sigma=sigma, signal=signal if kind == "signal" else None,
                  position=position, lfp=lfp if kind == "signal" else None,
                  **{k: v for k, v in opts.items() if k not in ("progress", "video")})
    params = {k: v for k, v in params.items() if v is not None}
    return _finish(res, source, [heatmap_result(da, **params)] if write else [], write,
                   dict(mode=mode, overwrite=overwrite, new_file=new_file, module=module, since=since))


def _default_output(source: Any, ending: str) -> Path:
    """``<session><ending>`` next to a local session, or in the working folder for a remote one."""
    from nwbview.io.paths import is_remote

    stem = Path(str(source).split("?")[0]).stem
    base = Path.cwd() if is_remote(str(source)) else Path(source).parent
    return base / f"{stem}{ending}"


def _content_keywords(job):
    """A job taking the stream keywords as ``**content`` shows them in its signature, with their
    defaults (:func:`~nwbview.render.defaults.default_content`'s, the one place they are set):
    ``help()`` lists them and ``nwbview batch`` checks its options against them."""
    import inspect

    from nwbview.render.defaults import default_content

    sig = inspect.signature(job)
    own = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    content = [p for p in inspect.signature(default_content).parameters.values() if p.kind is p.KEYWORD_ONLY]
    job.__signature__ = sig.replace(parameters=own + content)
    return job


@_content_keywords
@renamed_keywords(trail="trail_s", window="window_s", speed="show_speed", no_lfp="use show_lfp=False instead.")
def export_job(
    source: Any,
    *,
    output: str | os.PathLike | None = None,
    start: float | None = None,
    stop: float | None = None,
    video: str | Sequence[str] | None = None,
    size: str | None = None,
    fps: float | None = None,
    workers: int | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    progress: bool = False,
    **content: Any,
) -> JobResult:
    """Export an annotated video clip of a session (what ``nwbview export`` makes).

    The clip goes to ``output`` (default ``<session>_clip.mp4`` next to a local
    session, or in the working folder for a remote one). The options are those
    of ``nwbview export``; what is shown is set by the stream keywords in
    ``content`` (:func:`~nwbview.render.defaults.default_content`, listed in this
    function's signature): ``pose``, ``position``, ``head_direction`` and ``lfp``
    name the streams to draw (None: the file's own; naming one shows it) and the
    ``show_*`` switches say what is drawn (the head direction only on request);
    ``min_confidence`` hides keypoints below it; ``video`` may be one name or
    several (side by side), and one of them may be a video file (the video of a
    pose-only file, see :func:`split_video`); ``workers`` is the number of render
    processes. ``lfp_channel`` (default 0) must exist when given.

    Examples
    --------
    >>> export_job("session.nwb", start=10, stop=20, show_head_direction=True)  # doctest: +SKIP
    >>> export_job("flies.nwb", pose="male", show_lfp=False, trail_s=4)  # doctest: +SKIP
    """
    import av

    from nwbview.render.defaults import content_from
    from nwbview.render.export import export_video

    output = _default_output(source, "_clip.mp4") if output is None else output
    s, videos = open_session(source, video)
    with s:
        _require_pose_video(s, videos)
        out = export_video(s, output, start=start, stop=stop, fps=fps, size=size, workers=workers, crf=crf, preset=preset, progress=progress,
                           **content_from(s, videos, content, caller="export_job"))
    with av.open(str(out)) as c:
        st = c.streams.video[0]
        n, w, h = st.frames, st.codec_context.width, st.codec_context.height
        dur = float(c.duration or 0) / 1e6
    return JobResult(str(source), "export", outputs=[str(out)], summary=f"wrote {out} ({n} frames, {w}x{h}, {dur:.2f} s)",
                     data={"frames": int(n), "width": int(w), "height": int(h), "clip_s": dur})


@renamed_keywords(t="time", trail="trail_s", window="window_s", speed="show_speed", no_lfp="use show_lfp=False instead.")
def snapshot_job(
    source: Any,
    output: str | os.PathLike,
    *,
    time: float,
    video: str | Sequence[str] | None = None,
    size: str | None = None,
    **content: Any,
) -> JobResult:
    """One frame of the annotated export at session time ``time``, as an image (what ``nwbview snapshot`` makes).

    ``video`` and ``size`` are as for :func:`export_job`; ``content`` takes the keywords of
    :func:`export_job` that say what is shown (``pose``, ``position``, ``head_direction``,
    ``lfp``, the ``show_*`` switches, ``trail_s``, ``window_s``, ``events``, ``lfp_channel``,
    ``min_confidence``, ``landmarks``), with the same defaults.

    Raises
    ------
    NWBViewError
        A keyword that is not one of those.

    Examples
    --------
    >>> snapshot_job("session.nwb", "frame.png", time=12.5, show_head_direction=True)  # doctest: +SKIP
    """
    from nwbview.render.defaults import content_from
    from nwbview.render.export import snapshot

    s, videos = open_session(source, video)
    with s:
        _require_pose_video(s, videos)
        out = snapshot(s, output, time=time, size=size, **content_from(s, videos, content, caller="snapshot_job"))
    return JobResult(str(source), "snapshot", outputs=[str(out)], summary=f"wrote {out}")


@renamed_keywords(trail="trail_s", window="window_s", speed="show_speed", no_lfp="use show_lfp=False instead.")
def html_job(source: Any, *, output: str | os.PathLike | None = None, video: str | Sequence[str] | None = None, **options: Any) -> JobResult:
    """A one-file HTML player of a session clip (what ``nwbview html`` makes).

    The page goes to ``output`` (default ``<session>_clip.html``, placed as
    :func:`export_job` places its clip); ``video`` is as for :func:`export_job`
    (one of its values may be a video file, the video of a pose-only file).
    ``options`` are the keywords of :func:`nwbview.render.browser.export_html`:
    ``start``, ``stop``, ``size``, ``workers``, ``crf``, ``preset``,
    ``progress`` (default False here), ``report`` (a session report page) and the stream keywords of
    :func:`export_job` (``pose``, ``position``, ``head_direction``, ``lfp``, the
    ``show_*`` switches, ``trail_s``, ``window_s``, ``events``,
    ``lfp_channel``, ``min_confidence``, ``landmarks``), with the same defaults.

    Examples
    --------
    >>> html_job("session.nwb", output="clip.html", start=60, stop=90, show_head_direction=True)  # doctest: +SKIP
    """
    from nwbview.render.browser import export_html

    output = _default_output(source, "_clip.html") if output is None else output
    s, videos = open_session(source, video)
    with s:
        _require_pose_video(s, videos)
        out = export_html(s, output, video=videos or None, **{"progress": False, **options})
    size_mb = out.stat().st_size / 1e6
    what = "a session report" if options.get("report") else "one self-contained page"
    return JobResult(str(source), "html", outputs=[str(out)], summary=f"wrote {out} ({size_mb:.1f} MB, {what})",
                     data={"bytes": int(out.stat().st_size)})


__all__ += ["export_job", "snapshot_job", "html_job"]
