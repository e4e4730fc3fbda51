"""Open a session in napari: :func:`view`.

:func:`view` builds a :class:`~nwbview.render.napari.host.SessionView` (the layers, the time
axis, the docks) and attaches it to a napari viewer, without blocking. The pieces:

- :mod:`.space`: where data land (world coordinates with an affine calibration, else video pixels);
- :mod:`.content`: which streams the default overlays and dock show;
- :mod:`.layers`: the napari layers built from overlay specs;
- :mod:`.host`: the view that keeps the layers, the slider label and the docks in step;
- :mod:`.dock` and :mod:`.calibration_widget`: the time-series dock and the calibration widget.

Examples
--------
>>> import nwbview
>>> from nwbview.render.napari import view
>>> viewer = view("demo_session.nwb")  # doctest: +SKIP
>>> [layer.name for layer in viewer.layers]  # doctest: +SKIP
['video: BehaviorVideo', 'skeleton + head direction + position trail', 'pose: PoseEstimation + position']
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any, Sequence

# the widgets register how they are made for a view (host.register_widget) when imported
import nwbview.render.napari.calibration_widget  # noqa: F401
import nwbview.render.napari.dock  # noqa: F401
from nwbview.errors import NWBViewError, NWBViewWarning, renamed_keywords
from nwbview.render.napari.content import ViewContent
from nwbview.render.napari.host import SessionView
from nwbview.render.overlays import TimeSeriesOverlay

__all__ = ["view"]


def _display_available() -> bool:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform.startswith(("offscreen", "minimal")):
        return False
    try:
        from qtpy.QtWidgets import QApplication

        app = QApplication.instance()
    except Exception:  # noqa: BLE001 - no Qt binding: napari will say so
        app = None
    if app is not None:
        return app.platformName() not in ("offscreen", "minimal")
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    return True


@renamed_keywords(session_or_path="source", trail_seconds="trail_s", window_seconds="window_s")
def view(
    source: Any,
    *,
    video: str | None = None,
    start: float | None = None,
    stop: float | None = None,
    pose: str | None = None,
    position: str | None = None,
    head_direction: str | None = None,
    lfp: str | None = None,
    lfp_channel: int | None = None,
    show_pose: bool = True,
    show_position: bool = True,
    show_head_direction: bool = True,
    show_speed: bool = True,
    show_lfp: bool = True,
    trail_s: float = 2.0,
    window_s: float = 2.0,
    min_confidence: float | None = None,
    overlays: Sequence[Any] | None = None,
    timeseries: Sequence[TimeSeriesOverlay] | None = None,
    calibration: Any = None,
    viewer: Any = None,
    docks: bool = True,
    show: bool = True,
    title: str | None = None,
) -> Any:
    """Open a session in napari: the video, pose, position trail, head direction and docks.

    Returns at once (it does not run the Qt event loop): call ``napari.run()`` to interact from
    a script, or use it in a notebook / IPython session with a Qt event loop.

    Parameters
    ----------
    source
        A :class:`~nwbview.session.Session` (left open when the viewer closes), or what
        :func:`nwbview.open` takes (a path, URL or ``NWBFile``; closed with the viewer).
    video : str, optional
        The ImageSeries to show (default: the only one).
    start, stop : float, optional
        Session time range (seconds, half-open) the slider steps through (default: the whole
        video).
    pose, position, head_direction, lfp : str, optional
        The streams to show, by name or NWB path (default: the file's, when it has one; matched
        as ``Session.find_stream`` matches). Naming a stream shows it.
    lfp_channel : int, optional
        The LFP channel in the dock (default: channel 0 when the file has LFP). A channel given
        must exist.
    show_pose, show_position, show_head_direction, show_speed, show_lfp : bool, default: True
        Show that kind at all (speed and LFP are rows of the dock).
    trail_s : float, default: 2.0
        Length of the position trail, seconds.
    window_s : float, default: 2.0
        Width of the dock's window, seconds.
    min_confidence : float, optional
        Keypoints below this confidence are hidden (default
        :data:`nwbview.kinematics.DEFAULT_MIN_CONFIDENCE`).
    overlays : list, optional
        Overlay specs (:class:`~nwbview.render.overlays.PositionOverlay`,
        :class:`~nwbview.render.overlays.PoseOverlay`,
        :class:`~nwbview.render.overlays.HeadDirectionOverlay`,
        :class:`~nwbview.render.overlays.TimestampOverlay`) instead of those the stream keywords
        choose.
    timeseries : list of TimeSeriesOverlay, optional
        The dock's signals, instead of speed and LFP.
    calibration : Calibration, optional
        Override the calibration stored in the file.
    viewer : napari.Viewer, optional
        Add to this viewer instead of making a new one.
    docks : bool, default: True
        Add the time-series dock and the calibration widget.
    show : bool, default: True
        Show the window. ``False`` for scripts and tests: the viewer works hidden (layers,
        slider, docks, screenshots). Without a display (no X server, or
        ``QT_QPA_PLATFORM=offscreen``, where napari has no OpenGL), ``show=False`` returns a
        headless ``napari.components.ViewerModel`` with the same layers and no window or docks.
    title : str, optional
        Window title (default: the file name).

    Returns
    -------
    napari.Viewer
        (or a ``ViewerModel`` when there is no display). :func:`session_view` gives its
        :class:`SessionView`.

    Raises
    ------
    NWBViewError
        The session cannot be shown (no video and no world-coordinate position, several videos
        and no ``video``), a stream named is not in the file, or ``show=True`` without a display.
    RenamedError
        A keyword of nwbview 0.1 (``trail_seconds``, ``window_seconds``, ``session_or_path``):
        the message names the new one. (0.1's ``lfp_channel=None``, no LFP, is ``show_lfp=False``.)

    Examples
    --------
    A mouse explored an open field; look at its first minute, with LFP channel 3 in the dock and
    a 4 s trail:

    >>> from nwbview.render.napari import view
    >>> viewer = view("demo_session.nwb", stop=60, lfp_channel=3, trail_s=4.0)  # doctest: +SKIP
    >>> import napari; napari.run()  # doctest: +SKIP
    """
    import napari

    from nwbview.session import Session

    content = ViewContent(pose=pose, position=position, head_direction=head_direction, lfp=lfp, lfp_channel=lfp_channel,
                          show_pose=show_pose, show_position=show_position, show_head_direction=show_head_direction,
                          show_speed=show_speed, show_lfp=show_lfp, trail_s=trail_s, window_s=window_s,
                          min_confidence=min_confidence)  # fmt: skip
    options = dict(video=video, start=start, stop=stop, overlays=overlays, timeseries=timeseries, calibration=calibration, content=content)
    if isinstance(source, Session):
        sv = SessionView(source, owns_session=False, **options)
    else:
        sv = SessionView.open(source, **options)
    try:
        if viewer is None:
            name = title or f"nwbview: {Path(str(sv.session.source)).name}"
            if _display_available():
                viewer = napari.Viewer(title=name, show=show)
            elif show:
                raise NWBViewError(
                    "No display to show the viewer on (no X server / Wayland, or QT_QPA_PLATFORM=offscreen). "
                    "Run it on a desktop, under xvfb-run, or pass show=False for a headless viewer model."
                )
            else:
                from napari.components import ViewerModel

                warnings.warn(
                    "No display with OpenGL: returning a headless napari ViewerModel (layers and slider, no "
                    "window, docks or screenshots).",
                    NWBViewWarning,
                    stacklevel=3,
                )
                viewer = ViewerModel(title=name)
                docks = False
        sv.attach(viewer, docks=docks)
    except BaseException:
        sv.close()
        raise
    return viewer
