"""Rendering: annotated video export, snapshots and the overlay specs shared with the viewer.

This layer may import matplotlib (static parts of figures are drawn with it); nothing above it
does. Per-frame drawing uses OpenCV on numpy frames.

Examples
--------
>>> import nwbview
>>> from nwbview.render import export_video, snapshot
>>> with nwbview.open("demo_session.nwb") as s:  # doctest: +SKIP
...     export_video(s, "clip.mp4", start=10, stop=20)
...     snapshot(s, "frame.png", time=12.5)
"""

from __future__ import annotations

from nwbview.render.export import (
    ChannelError,
    ExportError,
    OutputPathError,
    TimeRangeError,
    build_plan,
    default_overlays,
    default_timeseries,
    export_video,
    render_frames,
    snapshot,
)
from nwbview.render.overlays import (
    EventOverlay,
    FieldOverlay,
    HeadDirectionOverlay,
    PoseOverlay,
    PositionOverlay,
    TimeSeriesOverlay,
    TimestampOverlay,
)

__all__ = [
    "export_video",
    "snapshot",
    "build_plan",
    "render_frames",
    "default_overlays",
    "default_timeseries",
    "PositionOverlay",
    "PoseOverlay",
    "HeadDirectionOverlay",
    "FieldOverlay",
    "EventOverlay",
    "TimestampOverlay",
    "TimeSeriesOverlay",
    "ExportError",
    "TimeRangeError",
    "OutputPathError",
    "ChannelError",
]
