"""What a view shows when it is not given overlay specs: the session's streams, chosen by name.

The words are those of ``docs/api-conventions.md``: ``pose``, ``position``, ``head_direction``
and ``lfp`` name a stream of the file (None: the file's default one, matched by
``Session.find_stream``), ``show_*`` say whether a kind is drawn at all, ``trail_s`` and
``window_s`` are durations in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nwbview.errors import NWBViewError

__all__ = ["ViewContent"]

#: the kinds a stream keyword names, each with its ``show_<kind>`` switch
NAMED_KINDS = ("pose", "position", "head_direction", "lfp")


@dataclass(frozen=True)
class ViewContent:
    """The default overlays and dock signals of a view, by stream name.

    The fields are :func:`~nwbview.render.napari.view`'s stream keywords, with the same meaning
    and defaults: ``pose``, ``position``, ``head_direction``, ``lfp`` (stream names, None: the
    file's), ``lfp_channel`` (None: channel 0), ``show_pose``, ``show_position``,
    ``show_head_direction``, ``show_speed``, ``show_lfp`` (True), ``trail_s`` and ``window_s``
    (2.0 s) and ``min_confidence``. Names that contradict a ``show_*`` switch, and values of the
    wrong kind (0.1's ``pose=True``, ``lfp_channel="auto"``), are refused.

    Examples
    --------
    Two mice were tracked; show the male's pose, no head direction, and LFP channel 3:

    >>> content = ViewContent(pose="male", show_head_direction=False, lfp_channel=3)
    >>> content.trail_s
    2.0
    >>> ViewContent(pose="male", show_pose=False)
    Traceback (most recent call last):
    ...
    nwbview.errors.NWBViewError: pose='male' and show_pose=False contradict each other: naming a stream shows it; give one.
    """

    pose: str | None = None
    position: str | None = None
    head_direction: str | None = None
    lfp: str | None = None
    lfp_channel: int | None = None
    show_pose: bool = True
    show_position: bool = True
    show_head_direction: bool = True
    show_speed: bool = True
    show_lfp: bool = True
    trail_s: float = 2.0
    window_s: float = 2.0
    min_confidence: float | None = None

    def __post_init__(self) -> None:
        for kind in NAMED_KINDS:
            name = getattr(self, kind)
            if name is not None and not isinstance(name, str):
                raise NWBViewError(
                    f"Invalid {kind}={name!r}: give the name of a stream (str), or None for the file's; "
                    f"show_{kind}=False hides it."
                )
            if name is not None and not getattr(self, f"show_{kind}"):
                raise NWBViewError(
                    f"{kind}={name!r} and show_{kind}=False contradict each other: naming a stream shows it; give one."
                )
        channel = self.lfp_channel
        if channel is not None and (isinstance(channel, (str, bool)) or not float(channel).is_integer()):
            raise NWBViewError(
                f"Invalid lfp_channel={channel!r}: give a channel number, or None for channel 0 when the file has "
                "LFP; show_lfp=False hides the LFP."
            )
        if channel is not None and not self.show_lfp:
            raise NWBViewError(f"lfp_channel={channel!r} and show_lfp=False contradict each other; give one.")

    def overlays(self, session: Any) -> list:
        """The overlay specs: pose, position with its trail, head direction (no time label:
        the slider's label shows the time, and a canvas text would cost a redraw a step)."""
        from nwbview.render.export import default_overlays

        return default_overlays(session, pose=self.pose, position=self.position, head_direction=self.head_direction,
                                show_pose=self.show_pose, show_position=self.show_position,
                                show_head_direction=self.show_head_direction, show_time=False, trail_s=self.trail_s,
                                min_confidence=self.min_confidence)  # fmt: skip

    def timeseries(self, session: Any) -> list:
        """The dock's signals: speed (from the position) and one LFP channel."""
        from nwbview.render.export import default_timeseries

        channel = 0 if self.lfp_channel is None else int(self.lfp_channel)
        return default_timeseries(session, show_speed=self.show_speed, show_lfp=self.show_lfp, lfp_channel=channel,
                                  window_s=self.window_s, lfp_required=self.lfp is not None or self.lfp_channel is not None,
                                  position=self.position, lfp=self.lfp)  # fmt: skip
