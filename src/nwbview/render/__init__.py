"""Rendering: annotated video export, snapshots and the overlay specs shared with the viewer.

This layer may import matplotlib (static parts of figures are drawn with it); nothing above it
does. Per-frame drawing uses OpenCV on numpy frames.

Examples
--------
A clip with the head direction and a 4 s trail, and a column of theta power:

>>> import nwbview
>>> from nwbview.render import TimeSeriesOverlay, default_overlays, export_video
>>> with nwbview.open("demo_session.nwb") as s:  # doctest: +SKIP
...     theta = nwbview.heatmap.band_power(s.lfp(channels=[0]), (6, 10))
...     export_video(s, "clip.mp4", start=10, stop=20, overlays=default_overlays(s, show_head_direction=True, trail_s=4),
...                  timeseries=[TimeSeriesOverlay(theta, label="theta")])
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
from nwbview.render import overlays as _overlays
from nwbview.render.overlays import *  # noqa: F403  (the overlay specs)

__all__ = [
    "export_video",
    "snapshot",
    "build_plan",
    "render_frames",
    "default_overlays",
    "default_timeseries",
    "ExportError",
    "TimeRangeError",
    "OutputPathError",
    "ChannelError",
    *_overlays.__all__,
]
