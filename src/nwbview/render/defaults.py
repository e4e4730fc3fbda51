"""What an export shows when nothing else is asked: the default overlays and time-series column.

:func:`default_overlays` draws the pose, the position with its trail and the time;
:func:`default_timeseries` fills the column with the running speed and one LFP channel. Both
leave out what the session does not hold.

Streams are chosen by name (``pose="male"``, ``lfp="LFP"``: matched by
:meth:`~nwbview.session.Session.find_stream`; None: the file's own) and switched on or off by
booleans (``show_pose``, ``show_position``, ``show_head_direction``, ``show_speed``,
``show_lfp``, ``show_time``). Naming a stream shows it. The CLI (``nwbview export``, ``snapshot``, ``view``)
builds its content with them (:mod:`nwbview.jobs`).

Examples
--------
>>> import nwbview
>>> from nwbview.render import default_overlays, default_timeseries
>>> with nwbview.open("demo_session.nwb") as s:  # doctest: +SKIP
...     overlays, column = default_overlays(s), default_timeseries(s)
"""

from __future__ import annotations

from typing import Any, Sequence

from nwbview.errors import NWBViewError, RenamedError, StreamNotFoundError, renamed_keywords, renamed_message
from nwbview.render.export_errors import ChannelError
from nwbview.render.overlays import (
    EventOverlay,
    HeadDirectionOverlay,
    Overlay,
    PoseOverlay,
    PositionOverlay,
    TimeSeriesOverlay,
    TimestampOverlay,
)

__all__ = ["content_from", "default_content", "default_overlays", "default_timeseries", "stream_shown"]


def _has(session: Any, kind: str) -> bool:
    return bool(session.inventory().of_kind(kind))


def stream_shown(kind: str, name: Any, show: bool, *, default: bool = True) -> bool:
    """Whether a kind of stream is drawn: ``show_<kind>``, or a stream of it named.

    ``name`` must be a stream name or None: a bool (0.1's ``pose=True``) is refused with an error
    naming ``show_<kind>``. A name with ``show_<kind>=False`` for a kind drawn by default
    (``default``) contradicts itself and is refused too.

    Examples
    --------
    >>> stream_shown("head_direction", "hd", False, default=False)
    True
    >>> stream_shown("pose", None, False)
    False
    """
    if isinstance(name, bool):
        raise NWBViewError(
            f"{kind}={name!r}: {kind} names a stream (a str, or None for the file's own); to draw it or not, "
            f"use show_{kind}={name!r}."
        )
    if name is not None and not isinstance(name, str):
        raise NWBViewError(f"{kind}={name!r}: give the name of a {kind.replace('_', ' ')} stream (a str) or None.")
    if name is not None and not show and default:
        raise NWBViewError(f"{kind}={name!r} names a stream to draw but show_{kind}=False leaves it out; give one of them.")
    return bool(show) or name is not None


@renamed_keywords(trail_seconds="trail_s", timestamp="show_time")
def default_overlays(
    session: Any,
    *,
    pose: str | None = None,
    position: str | None = None,
    head_direction: str | None = None,
    show_pose: bool = True,
    show_position: bool = True,
    show_head_direction: bool = False,
    show_time: bool = True,
    trail_s: float = 2.0,
    events: Sequence[str] = (),
    min_confidence: float | None = None,
) -> list[Overlay]:
    """The overlays :func:`~nwbview.render.export_video` draws by default: pose, position with its trail, time.

    Streams the session does not have are left out. The overlays are made with
    ``required=False``: an export skips one it cannot place (world-coordinate position on a
    video without calibration) with an ``NWBViewWarning`` instead of failing.

    Parameters
    ----------
    session : Session
        The open session.
    pose, position, head_direction : str, optional
        The streams to draw, by name (as ``session.pose(name)``, ``session.position(name)`` and
        ``session.head_direction(name)`` take it); None: the file's own. Naming a stream shows
        it. Every individual of the pose is drawn; the head-direction arrow starts at the position.
    show_pose, show_position, show_head_direction, show_time : bool
        Draw the pose, the position, the head direction (off by default), the time.
    trail_s : float
        Length of the position trail, seconds.
    events : sequence of str
        Names of TimeIntervals tables to show as :class:`EventOverlay`.
    min_confidence : float, optional
        Keypoints below this confidence are hidden (default
        :data:`nwbview.kinematics.DEFAULT_MIN_CONFIDENCE`).

    Raises
    ------
    NWBViewError
        A stream keyword given a bool (``pose=True``: use ``show_pose``), or a name with its
        switch off.
    RenamedError
        A keyword of nwbview 0.1 (``trail_seconds``, ``timestamp``).

    Examples
    --------
    >>> overlays = default_overlays(s, trail_s=4.0, head_direction="hd")  # doctest: +SKIP
    """
    from nwbview.kinematics import DEFAULT_MIN_CONFIDENCE

    threshold = DEFAULT_MIN_CONFIDENCE if min_confidence is None else float(min_confidence)
    out: list[Overlay] = []
    if stream_shown("pose", pose, show_pose) and (pose is not None or _has(session, "pose")):
        out.append(PoseOverlay(session.pose(pose), confidence_threshold=threshold, required=False))
    if stream_shown("position", position, show_position) and (position is not None or _has(session, "position")):
        out.append(PositionOverlay(session.position(position), trail_s=trail_s, required=False))
    if stream_shown("head_direction", head_direction, show_head_direction, default=False) \
            and (head_direction is not None or _has(session, "head_direction")) and _has(session, "position"):
        out.append(HeadDirectionOverlay(session.head_direction(head_direction), session.position(position), required=False))
    for name in events:
        out.append(EventOverlay(session.find_stream("intervals", name, label="intervals table").obj, label=name, required=False))
    if show_time:
        out.append(TimestampOverlay(required=False))
    return out


@renamed_keywords(speed="show_speed", window_seconds="window_s", speed_smooth_s="smooth_s")
def default_timeseries(
    session: Any,
    *,
    position: str | None = None,
    lfp: str | None = None,
    show_speed: bool = True,
    show_lfp: bool = True,
    lfp_channel: int = 0,
    lfp_required: bool = False,
    window_s: float = 2.0,
    smooth_s: float | None = 0.2,
) -> list[TimeSeriesOverlay]:
    """The column :func:`~nwbview.render.export_video` shows by default: speed and one LFP channel.

    Parameters
    ----------
    session : Session
        The open session.
    position, lfp : str, optional
        The position (for speed) and LFP streams, by name; None: the file's own.
    show_speed : bool
        Running speed from the tracked position (when the session has position).
    show_lfp : bool
        One LFP channel (when the session has LFP, or ``lfp`` names one).
    lfp_channel : int
        The LFP channel (column of the LFP series) to show.
    lfp_required : bool
        Raise when the session has no LFP (instead of leaving it out).
    window_s : float
        Width of the scrolling window, seconds.
    smooth_s : float or None
        Show speed smoothed by a centred rolling mean of this many seconds
        (tracking jitter makes a raw derivative jagged); None for the raw speed.

    Raises
    ------
    ChannelError
        ``lfp_channel`` is not a channel of the LFP.
    RenamedError
        A keyword of nwbview 0.1 (``speed``, ``window_seconds``, ``speed_smooth_s``), or
        ``lfp_channel=None`` (0.1's "no LFP": ``show_lfp=False`` now).

    Examples
    --------
    >>> column = default_timeseries(s, lfp_channel=2, window_s=4)  # doctest: +SKIP
    """
    from nwbview.kinematics import compute_speed, smooth

    if lfp_channel is None:
        raise RenamedError(renamed_message("default_timeseries(lfp_channel=None)", "use show_lfp=False to leave the LFP out.", python=True))
    out: list[TimeSeriesOverlay] = []
    if show_speed and _has(session, "position"):
        sp = compute_speed(session.position(position))
        if smooth_s:
            sp = smooth(sp, smooth_s, statistic="mean")
        out.append(TimeSeriesOverlay(sp, label="speed", window_s=window_s, color=(214, 39, 40)))
    if stream_shown("lfp", lfp, show_lfp):
        if lfp is None and not _has(session, "lfp"):
            if lfp_required:
                raise StreamNotFoundError(f"No LFP in {session.source}, so channel {lfp_channel} cannot be shown. Leave out --lfp-channel (or pass --no-lfp).")
        else:
            data = session.lfp(lfp)
            n = data.sizes.get("channel", 1)
            ch = int(lfp_channel)
            if not 0 <= ch < n:
                raise ChannelError(
                    f"LFP channel {lfp_channel} does not exist: {data.attrs.get('source', 'the LFP')} has {n} "
                    f"channel{'s' if n != 1 else ''}, numbered 0 to {n - 1}. Pick one of those."
                )
            da = data.isel(channel=ch) if "channel" in data.dims else data
            out.append(TimeSeriesOverlay(da, label=f"LFP ch{ch}", window_s=window_s, color=(31, 119, 180)))
    return out


def default_content(
    session: Any,
    videos: Sequence[str] = (),
    *,
    pose: str | None = None,
    position: str | None = None,
    head_direction: str | None = None,
    lfp: str | None = None,
    show_pose: bool = True,
    show_position: bool = True,
    show_head_direction: bool = False,
    show_speed: bool = True,
    show_lfp: bool = True,
    show_time: bool = True,
    trail_s: float = 2.0,
    window_s: float = 2.0,
    events: Sequence[str] = (),
    lfp_channel: int | None = None,
    min_confidence: float | None = None,
    landmarks: Any = None,
) -> dict[str, Any]:
    """What ``nwbview export`` shows, from its stream keywords: ``video``, ``overlays``, ``timeseries``, ``calibration``.

    The keywords are those of :func:`nwbview.jobs.export_job` that say what is shown, with the
    same defaults: ``pose``, ``position``, ``head_direction`` and ``lfp`` name streams (None: the
    file's own; naming one shows it), the ``show_*`` switches say what is drawn, then
    ``trail_s``, ``window_s``, ``events`` (TimeIntervals names), ``lfp_channel`` (default 0; one
    given must exist), ``min_confidence`` and ``landmarks`` (a CSV the first video is calibrated
    from). ``videos`` are the names of the videos shown (empty: the session's).

    Examples
    --------
    >>> content = default_content(s, show_head_direction=True, trail_s=4)  # doctest: +SKIP
    >>> export_video(s, "clip.mp4", start=10, stop=20, **content)  # doctest: +SKIP
    """
    calibration = None
    if landmarks:
        calibration = session.fit_calibration(videos[0] if videos else None, landmarks=landmarks)
    overlays = default_overlays(session, pose=pose, position=position, head_direction=head_direction, show_pose=show_pose,
                                show_position=show_position, show_head_direction=show_head_direction, show_time=show_time,
                                trail_s=trail_s, events=list(events or ()), min_confidence=min_confidence)
    timeseries = default_timeseries(session, position=position, lfp=lfp, show_speed=show_speed, show_lfp=show_lfp,
                                    lfp_channel=0 if lfp_channel is None else lfp_channel,
                                    lfp_required=lfp_channel is not None or lfp is not None, window_s=window_s)
    return dict(video=list(videos) or None, overlays=overlays, timeseries=timeseries, calibration=calibration)


def content_from(session: Any, videos: Sequence[str], given: dict[str, Any], *, caller: str, exclude: Sequence[str] = ()) -> dict[str, Any]:
    """:func:`default_content` with the keywords ``given``; one it does not take (or one in
    ``exclude``) is refused with an error naming ``caller``.

    Examples
    --------
    >>> content_from(s, [], {"trail_s": 4}, caller="export_html")["overlays"]  # doctest: +SKIP
    """
    import inspect

    names = [n for n, p in inspect.signature(default_content).parameters.items() if p.kind is p.KEYWORD_ONLY and n not in exclude]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise NWBViewError(f"{caller}() has no option {', '.join(map(repr, unknown))}; what it shows is set with {', '.join(names)}.")
    return default_content(session, videos, **given)
