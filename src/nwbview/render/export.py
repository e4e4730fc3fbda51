"""Annotated video export: the behavioral video with overlays and a time-series column, as MP4.

:func:`export_video` renders one output frame per timeline frame and encodes H.264 (yuv420p)
through PyAV; :func:`snapshot` renders one frame of the same composite as a still image.

The work is split along its seams:

- :mod:`nwbview.render.defaults`: what is shown when nothing else is asked
  (:func:`default_overlays`, :func:`default_timeseries`);
- :mod:`nwbview.render.plan`: everything computed once before the frame loop (the timeline,
  the layout, the overlays bound to their panels, the column), and the :class:`Renderer` that
  draws a frame of the plan;
- :mod:`nwbview.render.encoding`: chunks of at most :data:`CHUNK_FRAMES` frames, cut by the
  number of frames alone (:func:`~nwbview.render.encoding.export_bounds`), each encoded by a
  fresh single-threaded libx264 encoder (a closed GOP), joined in order without re-encoding;
- :mod:`nwbview.render.workers`: the processes that render runs of chunks in parallel with this
  one, started as the export begins.

Output frames are bit-identical whatever the number of workers: frame ``i`` of the output is
frame ``i`` of the timeline. The output is written under a temporary name next to ``output`` and
renamed into place only when complete: a failed or interrupted export leaves no half-written file.

Examples
--------
>>> import nwbview
>>> from nwbview.render import export_video, snapshot
>>> with nwbview.open("demo_session.nwb") as s:  # doctest: +SKIP
...     export_video(s, "clip.mp4", start=10, stop=20)
...     snapshot(s, "frame.png", time=12.5)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from nwbview.errors import renamed_keywords
from nwbview.io.atomic import atomic_output, check_output_path, temp_dir
from nwbview.render.defaults import default_overlays, default_timeseries
from nwbview.render.encoding import CHUNK_FRAMES, X264_PRESETS, Muxer, chunk_path, export_bounds, render_segment, segments
from nwbview.render.export_errors import ChannelError, ExportError, OutputPathError, TimeRangeError
from nwbview.render.overlays import TimeSeriesOverlay
from nwbview.render.plan import ExportPlan, Renderer, build_plan, check_time, open_source

__all__ = [
    "export_video",
    "snapshot",
    "render_frames",
    "default_overlays",
    "default_timeseries",
    "build_plan",
    "ExportPlan",
    "ExportError",
    "TimeRangeError",
    "OutputPathError",
    "ChannelError",
    "X264_PRESETS",
    "CHUNK_FRAMES",
]

_VIDEO_SUFFIXES = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov"}
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}


def _check_output(path: Any, kinds: dict[str, str] | set[str], what: str) -> Path:
    return check_output_path(path, what, kinds, error=OutputPathError)


@renamed_keywords(path="output", n_workers="workers")
def export_video(
    session: Any,
    output: str | os.PathLike,
    *,
    start: float | None = None,
    stop: float | None = None,
    video: str | Sequence[str] | None = None,
    overlays: Sequence[Any] | None = None,
    timeseries: Sequence[TimeSeriesOverlay] | None = None,
    fps: float | None = None,
    size: tuple[int, int] | str | None = None,
    workers: int | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    calibration: Any = None,
    progress: bool = True,
) -> Path:
    """Export an annotated video: the behavioral video with overlays and a time-series column.

    Parameters
    ----------
    session : Session or path
        An open session (``nwbview.open``) or the path of an NWB file.
    output : str or os.PathLike
        The video made, ``.mp4`` (or ``.mov``). Written under a temporary name and renamed when
        complete.
    start, stop : float, optional
        Session time range in seconds, half-open ``[start, stop)``; default the whole video.
    video : str or list of str, optional
        The video (``ImageSeries`` name or path) to show; several are shown side by side on the
        first one's clock (its frames make the timeline; the others show their nearest frame).
        Default: the session's video (the first, with a warning, if there are several).
        ``False``: no video; the arena is drawn in world coordinates with the trajectory.
    overlays : list of overlay specs, optional
        :class:`PositionOverlay`, :class:`PoseOverlay`, :class:`HeadDirectionOverlay`,
        :class:`FieldOverlay`, :class:`EventOverlay`, :class:`TimestampOverlay`. Default:
        :func:`default_overlays` (pose, position with a 2 s trail, time; those that need a
        calibration the session lacks are skipped with an ``NWBViewWarning``). ``[]``: none.
    timeseries : list of TimeSeriesOverlay, optional
        The column on the right. Default: :func:`default_timeseries` (speed, LFP channel 0).
        ``[]``: no column. With ``overlays=[]`` and ``timeseries=[]`` the output is the bare
        video, frame for frame.
    fps : float, optional
        Resample to a regular clock at this rate (constant-rate output; each output frame shows
        the nearest video frame). Default: one output frame per video frame, with the video's
        own frame times (variable-rate output when the camera was). Without a video: 30.
    size : (int, int) or "WxH", optional
        Output size; the video is scaled to fit beside the column. Default: the video at its
        native size plus the column. Odd sizes are rounded down to even.
    workers : int, optional
        Processes rendering in parallel, this one included (default: the CPU count; at most
        one per chunk: a clip under 120 frames is one chunk, longer ones an even number of
        chunks of at most 240 frames). The output is identical whatever the number.
    crf : int
        x264 quality (0-51; lower is better and larger).
    preset : str
        x264 speed preset (``ultrafast`` ... ``veryslow``).
    calibration : Calibration or dict, optional
        Pixel -> world calibration of the (first) video, or ``{video name: Calibration}``.
        Default: the session's stored calibration. Needed to draw data in world coordinates
        (position in cm) on a video.
    progress : bool
        Show a progress bar (only on a terminal).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    TimeRangeError
        ``start``/``stop`` invalid or holding no frame.
    OutputPathError
        The output cannot be written there.
    MissingFileError
        The video file is missing.
    CalibrationError
        An explicit overlay in world coordinates on a video without calibration.
    RenamedError
        A keyword of nwbview 0.1 (``path``, ``n_workers``).
    NWBViewError
        Other bad input (unknown names or channels, bad sizes).

    Examples
    --------
    A 10 s clip of the demo session with the default overlays and column, then one with the
    pose alone and one LFP channel:

    >>> import nwbview
    >>> from nwbview.render import export_video, PoseOverlay, TimeSeriesOverlay
    >>> s = nwbview.open("demo_session.nwb")  # doctest: +SKIP
    >>> export_video(s, "clip.mp4", start=10, stop=20)  # doctest: +SKIP
    >>> export_video(s, "pose.mp4", start=10, stop=20, overlays=[PoseOverlay(s.pose())],
    ...              timeseries=[TimeSeriesOverlay(s.lfp(channels=[0]), label="LFP")])  # doctest: +SKIP
    """
    out = _check_output(output, _VIDEO_SUFFIXES, "the video")
    crf = _check_crf(crf)
    if preset not in X264_PRESETS:
        raise ExportError(f"Invalid preset {preset!r}: use one of {', '.join(X264_PRESETS)}.")
    if workers is not None:
        if not isinstance(workers, (int, np.integer)) or isinstance(workers, bool) or workers < 1:
            raise ExportError(f"Invalid workers {workers!r}: give a whole number >= 1.")
    workers = (os.cpu_count() or 1) if workers is None else int(workers)
    pool = None
    if workers > 1:  # started now: their interpreters start while the file is opened and the plan built
        from nwbview.render.workers import WorkerPool  # not at import: `python -m` runs it fresh

        pool = WorkerPool(workers - 1, draws=timeseries is None or bool(timeseries))
    try:
        session, own = open_source(session)
        try:
            plan = build_plan(session, start=start, stop=stop, video=video, overlays=overlays, timeseries=timeseries, fps=fps, size=size,
                              calibration=calibration, draw=None if pool is None else pool.draw)
            return _export(plan, out, workers, crf, preset, progress, pool)
        finally:
            if own:
                session.close()
    finally:
        if pool is not None:
            pool.close()


def _check_crf(crf: Any) -> int:
    try:
        c = int(crf)
    except (TypeError, ValueError):
        raise ExportError(f"Invalid crf {crf!r}: give a whole number from 0 (lossless) to 51.") from None
    if not 0 <= c <= 51 or c != crf:
        raise ExportError(f"Invalid crf {crf!r}: give a whole number from 0 (lossless) to 51.")
    return c


def _export(plan: ExportPlan, out: Path, workers: int, crf: int, preset: str, progress: bool, pool=None) -> Path:
    """Render and encode ``plan`` into ``out`` with ``workers`` processes (this one and the
    ``pool``'s workers), at most one per chunk (:func:`export_bounds`)."""
    from tqdm.auto import tqdm

    n = len(plan)
    bounds = export_bounds(n)
    workers = max(1, min(int(workers), len(bounds), 1 + (len(pool.procs) if pool is not None else 0)))
    fmt = _VIDEO_SUFFIXES[out.suffix.lower()]
    bar = tqdm(total=n, unit="frame", desc=f"export {out.name}", disable=None if progress else True, leave=False)
    try:
        # the chunks and the joined video live under temporary names next to the output until it
        # is complete; a killed export's leftovers are removed by the next export to that path
        with atomic_output(out) as tmp_out, temp_dir(out) as tmpdir:
            tmpdir = str(tmpdir)
            try:
                muxer = Muxer(str(tmp_out), fmt, plan)
            except Exception as exc:  # noqa: BLE001 - FFmpeg's own errors for the path
                raise OutputPathError(f"Cannot write the video to {str(out)!r}: {exc}.") from exc
            try:

                def take(c: int) -> None:
                    f = chunk_path(tmpdir, c)
                    muxer.append(f, *bounds[c])
                    os.unlink(f)

                if workers == 1:
                    for c in render_segment(plan, list(range(len(bounds))), bounds, tmpdir, crf, preset, tick=bar.update):
                        take(c)
                else:
                    pool.run(plan, bounds, segments(len(bounds), workers), tmpdir, crf, preset, bar, take)
            finally:
                muxer.close()
    except OSError as exc:
        raise OutputPathError(f"Cannot write the video to {str(out)!r}: {exc.strerror or exc}. Nothing was written.") from exc
    finally:
        bar.close()
        plan.close()
    return out


# --------------------------------------------------------------------------------------------
# Snapshot
# --------------------------------------------------------------------------------------------


@renamed_keywords(t="time", path="output")
def snapshot(
    session: Any,
    output: str | os.PathLike,
    *,
    time: float,
    video: str | Sequence[str] | None = None,
    overlays: Sequence[Any] | None = None,
    timeseries: Sequence[TimeSeriesOverlay] | None = None,
    size: tuple[int, int] | str | None = None,
    calibration: Any = None,
) -> Path:
    """One frame of the export composite, at session time ``time``, as an image (PNG, JPEG, ...).

    The frame is the video frame nearest to ``time`` (the same one :func:`export_video` would
    show); the column's y-limits are taken over its window.

    Parameters
    ----------
    session : Session or path
        An open session (``nwbview.open``) or the path of an NWB file.
    output : str or os.PathLike
        The image made; its type follows the suffix (``.png``, ``.jpg``, ``.tif``, ...).
    time : float
        Session time in seconds.
    video, overlays, timeseries, size, calibration
        As for :func:`export_video`.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    RenamedError
        A keyword of nwbview 0.1 (``t``, ``path``).

    Examples
    --------
    The frame at 12.5 s of the demo session, with the default overlays and column:

    >>> snapshot(s, "frame.png", time=12.5)  # doctest: +SKIP
    PosixPath('frame.png')
    """
    out = _check_output(output, _IMAGE_SUFFIXES, "the image")
    tt = check_time(time)
    session, own = open_source(session)
    try:
        plan = build_plan(session, video=video, overlays=overlays, timeseries=timeseries, size=size, calibration=calibration, time=tt)
        try:
            img = Renderer(plan).render(0).copy()
        finally:
            plan.close()
    finally:
        if own:
            session.close()
    from PIL import Image

    try:
        with atomic_output(out) as tmp:
            Image.fromarray(img).save(tmp, format=Image.registered_extensions().get(out.suffix.lower()))
    except OSError as exc:
        raise OutputPathError(f"Cannot write the image to {str(out)!r}: {exc.strerror or exc}. Nothing was written.") from exc
    return out


def render_frames(plan: ExportPlan, frames: Sequence[int] | None = None) -> Iterator[np.ndarray]:
    """Yield rendered RGB frames of a plan (copies), without encoding: for previews and tests.

    The plan's video readers stay open (close them with ``plan.close()``).

    Examples
    --------
    >>> first = next(render_frames(build_plan(s, start=10, stop=11)))  # doctest: +SKIP
    """
    r = Renderer(plan)
    for k in range(len(plan)) if frames is None else frames:
        yield r.render(int(k)).copy()
