"""What an export shows when nothing else is asked: the default overlays and time-series column.

:func:`default_overlays` draws the pose, the position with its trail and the time;
:func:`default_timeseries` fills the column with the running speed and one LFP channel. Both
leave out what the session does not hold. The CLI (``nwbview export``, ``snapshot``, ``view``)
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

from nwbview.errors import StreamNotFoundError
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

__all__ = ["default_overlays", "default_timeseries"]


def _has(session: Any, kind: str) -> bool:
    return bool(session.inventory().of_kind(kind))


def default_overlays(
    session: Any,
    *,
    pose: bool | str = True,
    position: bool | str = True,
    trail_seconds: float = 2.0,
    head_direction: bool | str = False,
    timestamp: bool = True,
    events: Sequence[str] = (),
    min_confidence: float | None = None,
) -> list[Overlay]:
    """The overlays :func:`export_video` draws by default: pose, position with its trail, time.

    Streams the session does not have are left out. The overlays are made with
    ``required=False``: an export skips one it cannot place (world-frame position on a video
    without calibration) with an ``NWBViewWarning`` instead of failing.

    Parameters
    ----------
    session : Session
        The open session.
    pose, position, head_direction, timestamp : bool or str
        Which overlays to include (when the session has the data); a name
        chooses the stream (as ``session.pose(name)``, ``session.position(name)``
        and ``session.head_direction(name)`` take it). Every individual of the
        pose is drawn.
    min_confidence : float, optional
        Keypoints below this confidence are hidden (default
        :data:`nwbview.kinematics.DEFAULT_MIN_CONFIDENCE`).
    trail_seconds : float
        Length of the position trail.
    events : sequence of str
        Names of TimeIntervals tables to show as :class:`EventOverlay`.

    Examples
    --------
    >>> overlays = default_overlays(s, trail_seconds=4.0)  # doctest: +SKIP
    """
    from nwbview.kinematics import DEFAULT_MIN_CONFIDENCE

    threshold = DEFAULT_MIN_CONFIDENCE if min_confidence is None else float(min_confidence)
    out: list[Overlay] = []
    pose_name = pose if isinstance(pose, str) and pose else None
    pos_name = position if isinstance(position, str) and position else None
    hd_name = head_direction if isinstance(head_direction, str) and head_direction else None
    if (pose is not False) and (pose_name is not None or _has(session, "pose")):
        out.append(PoseOverlay(session.pose(pose_name), confidence_threshold=threshold, required=False))
    if (position is not False) and (pos_name is not None or _has(session, "position")):
        out.append(PositionOverlay(session.position(pos_name), trail_seconds=trail_seconds, required=False))
    if (head_direction is not False and head_direction is not None) and (hd_name is not None or _has(session, "head_direction")) and _has(session, "position"):
        out.append(HeadDirectionOverlay(session.head_direction(hd_name), session.position(pos_name), required=False))
    for name in events:
        out.append(EventOverlay(_intervals(session, name), label=name, required=False))
    if timestamp:
        out.append(TimestampOverlay(required=False))
    return out


def _intervals(session: Any, name: str) -> Any:
    items = session.inventory().of_kind("intervals")
    for s in items:
        if name in (s.name, s.path):
            return s.obj
    raise StreamNotFoundError(
        f"No intervals table named {name!r} in {session.source}. Available: "
        f"{', '.join(repr(s.name) for s in items) or 'none'}."
    )


def default_timeseries(
    session: Any,
    *,
    speed: bool = True,
    lfp_channel: int | None = 0,
    window_seconds: float = 2.0,
    lfp_required: bool = False,
    speed_smooth_s: float | None = 0.2,
    position: str | None = None,
    lfp: str | None = None,
) -> list[TimeSeriesOverlay]:
    """The column :func:`export_video` shows by default: speed and one LFP channel.

    Parameters
    ----------
    session : Session
        The open session.
    speed : bool
        Running speed from the tracked position (when the session has position).
    lfp_channel : int or None
        The LFP channel (column of the LFP series) to show; None for none.
    window_seconds : float
        Width of the scrolling window.
    lfp_required : bool
        Raise when the session has no LFP (instead of leaving it out).
    speed_smooth_s : float or None
        Show speed smoothed by a centred rolling mean of this many seconds
        (tracking jitter makes a raw derivative jagged); None for the raw speed.
    position, lfp : str, optional
        The position (for speed) and LFP streams, by name; default the only one.

    Raises
    ------
    ChannelError
        ``lfp_channel`` is not a channel of the LFP.

    Examples
    --------
    >>> column = default_timeseries(s, lfp_channel=2, window_seconds=4)  # doctest: +SKIP
    """
    from nwbview.kinematics import compute_speed, smooth

    out: list[TimeSeriesOverlay] = []
    if speed and _has(session, "position"):
        sp = compute_speed(session.position(position))
        if speed_smooth_s:
            sp = smooth(sp, speed_smooth_s, statistic="mean")
        out.append(TimeSeriesOverlay(sp, label="speed", window_seconds=window_seconds, color=(214, 39, 40)))
    if lfp_channel is not None:
        if lfp is None and not _has(session, "lfp"):
            if lfp_required:
                raise StreamNotFoundError(f"No LFP in {session.source}, so channel {lfp_channel} cannot be shown. Leave out --lfp-channel (or pass --no-lfp).")
        else:
            lfp = session.lfp(lfp)
            n = lfp.sizes.get("channel", 1)
            ch = int(lfp_channel)
            if not 0 <= ch < n:
                raise ChannelError(
                    f"LFP channel {lfp_channel} does not exist: {lfp.attrs.get('source', 'the LFP')} has {n} "
                    f"channel{'s' if n != 1 else ''}, numbered 0 to {n - 1}. Pick one of those."
                )
            da = lfp.isel(channel=ch) if "channel" in lfp.dims else lfp
            out.append(TimeSeriesOverlay(da, label=f"LFP ch{ch}", window_seconds=window_seconds, color=(31, 119, 180)))
    return out
