"""The one-file HTML player: a clip of a session, its overlays and traces, and the front-end, in one file.

:func:`export_html` writes a self-contained page (no server, no network): the clip as H.264 MP4
(a bare :func:`~nwbview.render.export_video` of the range, base64), the scene
(:mod:`nwbview.render.browser.scene`: the frame-time table, the overlays per frame, the traces of
the range) and the front-end module ``nwbview.js``, inlined. The browser draws the overlays on a
canvas over the ``<video>`` and the scrolling column beside it, following the frame it actually
shows (``requestVideoFrameCallback`` and the clip's frame-time table).

Examples
--------
>>> import nwbview
>>> nwbview.export_html("session.nwb", "clip.html", start=60, stop=90)  # doctest: +SKIP
PosixPath('clip.html')
"""

from __future__ import annotations

import html
import os
import warnings
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from nwbview.errors import NWBViewWarning, renamed_keywords
from nwbview.io.atomic import check_output_path, save_output, temp_dir
from nwbview.render.browser.scene import Scene, opened_scene, scene_keywords
from nwbview.render.export_errors import OutputPathError

__all__ = ["export_html", "front_end", "clip_times", "page"]

HTML_SUFFIXES = {".html", ".htm"}


def front_end() -> str:
    """The text of the front-end module ``nwbview.js`` shipped in the package.

    Examples
    --------
    >>> "export default" in front_end()
    True
    """
    return resources.files("nwbview.render.browser").joinpath("nwbview.js").read_text(encoding="utf-8")


def clip_times(path: str | os.PathLike) -> np.ndarray:
    """Presentation times (seconds, sorted) of the frames of a video file: the clip's frame-time table.

    Examples
    --------
    >>> clip_times("clip.mp4")[:3]  # doctest: +SKIP
    array([0.        , 0.03333333, 0.06666667])
    """
    import av

    with av.open(os.fspath(path)) as c:
        st = c.streams.video[0]
        pts = sorted(p.pts for p in c.demux(st) if p.pts is not None and p.size)
        return np.asarray(pts, dtype=np.float64) * float(st.time_base)


def page(scene: Scene, extra: str = "") -> str:
    """The HTML page of a scene: the data and the front-end inlined, nothing loaded from elsewhere.

    ``extra`` is HTML put below the player (the session report's section).

    Examples
    --------
    >>> text = page(scene)  # doctest: +SKIP
    """
    js = front_end()
    if "</script" in js.lower():  # pragma: no cover - a rule for nwbview.js
        raise RuntimeError("nwbview.js must not contain '</script'")
    title = html.escape(scene.meta.get("title") or "nwbview")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="nwbview">
<title>{title}</title>
<style>body {{ margin: 16px; font: 14px system-ui, sans-serif; background: #fafafa; color: #222; }}</style>
</head>
<body>
<div id="nwbview-app"></div>
{extra}
<script type="application/json" id="nwbview-scene">{scene.to_json()}</script>
<script type="module">
{js}
mountPage(document.getElementById("nwbview-app"), document.getElementById("nwbview-scene"));
</script>
</body>
</html>
"""


@renamed_keywords(path="output", trail="trail_s", window="window_s", speed="show_speed", no_lfp="use show_lfp=False instead.")
def export_html(
    source: Any,
    output: str | os.PathLike,
    *,
    start: float | None = None,
    stop: float | None = None,
    video: str | Sequence[str] | None = None,
    size: tuple[int, int] | str | None = None,
    workers: int | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    progress: bool = True,
    report: bool = False,
    **view: Any,
) -> Path:
    """Write a one-file HTML player of a session: the clip, its overlays and traces, and the front-end.

    The page needs nothing else (no server, no network): open it in any browser. It shows the
    video with the overlays drawn over it, the scrolling time-series column (stable y-limits, a
    cursor, the value at the cursor), a time slider in session seconds, play/pause at
    0.25x-4x; arrow keys step one frame and a click on a trace jumps to that time.

    Parameters
    ----------
    source : Session or path
        An open session (``nwbview.open``) or what ``nwbview.open`` takes.
    output : str or os.PathLike
        The page made (``.html``); written whole or not at all.
    start, stop : float, optional
        Session time range in seconds, half-open; default the whole video. A range reaching
        outside the recording is cut to it with a warning; one holding no frame is refused.
    video, size, workers, crf, preset
        As for :func:`~nwbview.render.export_video` (they make the embedded clip; ``size``
        scales it, ``crf``/``preset`` trade its size for quality).
    progress : bool
        A progress bar while the clip is encoded (on a terminal).
    report : bool
        Make it a session report: below the player, the session's inventory (as ``nwbview
        info`` prints it) and the heatmaps written in the file
        (:mod:`nwbview.render.browser.report`).
    **view
        What is shown: ``overlays``, ``timeseries`` and ``calibration`` as for
        :func:`~nwbview.render.export_video` (default: what the stream keywords say), ``title``
        (default: the file name and the range), and the stream keywords of
        :func:`nwbview.jobs.export_job` (``pose``, ``position``, ``head_direction``, ``lfp``,
        ``show_*``, ``trail_s``, ``window_s``, ``events``, ``lfp_channel``, ``min_confidence``,
        ``landmarks``), with its defaults.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    TimeRangeError
        ``start``/``stop`` not a time, or a range holding no frame.
    OutputPathError
        The page cannot be written there.
    NWBViewError
        Other bad input (a stream that is not there, a keyword it does not take, ...).

    Examples
    --------
    >>> import nwbview
    >>> nwbview.export_html("session.nwb", "clip.html", start=60, stop=90, show_head_direction=True)  # doctest: +SKIP
    PosixPath('clip.html')
    """
    out = check_output_path(output, "the HTML player", HTML_SUFFIXES, error=OutputPathError)
    keywords = scene_keywords({"video": video, "size": size, **view})
    with opened_scene(source, start=start, stop=stop, caller="export_html", **keywords) as (session, scene):
        try:
            if scene.has_video:
                _embed_clip(scene, session, out, scene.plan.times, video, size, workers, crf, preset, progress)
            extra = ""
            if report:
                from nwbview.render.browser.report import report_section

                extra = report_section(session)
            text = page(scene, extra)
        finally:
            scene.close()
    return save_output(out, "the HTML player", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), HTML_SUFFIXES)


def _embed_clip(scene: Scene, session, out: Path, times, video, size, workers, crf, preset, progress) -> None:
    """The bare clip of the scene's frames (the export's, no overlays), and its frame-time table."""
    from nwbview.render.export import export_video

    with temp_dir(out) as folder:
        with warnings.catch_warnings():  # the scene said it already (a range cut to the recording, ...)
            warnings.simplefilter("ignore", NWBViewWarning)
            # the scene's frames exactly: from the first frame's time to just after the last one's
            stop = float(times[-1]) + (float(times[-1] - times[-2]) / 2 if times.size > 1 else 1e-3)
            clip = export_video(session, Path(folder) / "clip.mp4", start=float(times[0]), stop=stop, video=video, overlays=[], timeseries=[],
                                size=size, workers=workers, crf=crf, preset=preset, progress=progress)
        table = clip_times(clip)
        data = clip.read_bytes()
    n = times.size
    if table.size != n:  # pragma: no cover - the export writes one frame per timeline frame
        raise RuntimeError(f"the clip has {table.size} frames, the scene {n}")
    scene.add("clip", data)
    scene.add("clip_times", table)
