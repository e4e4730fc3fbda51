"""napari viewer of nwbview sessions (the optional ``napari`` extra).

:func:`view` opens a session in napari: the behavioral video on a time slider, pose keypoints
with the skeleton, the position with a fading trail, the head direction, a time-series dock and a
calibration widget. The same pieces are a napari plugin (``napari.yaml``): a reader for ``.nwb``
files, the two widgets, and the demo session as sample data.

Only this package imports napari and Qt.

Examples
--------
>>> from nwbview.render.napari import view
>>> viewer = view("demo_session.nwb")  # doctest: +SKIP
>>> import napari; napari.run()  # doctest: +SKIP
"""

from __future__ import annotations

try:
    import napari as _napari  # noqa: F401
except ImportError as err:  # pragma: no cover - the extra is not installed
    raise ImportError(
        "nwbview's viewer needs napari with a Qt binding: pip install 'nwbview[napari]' "
        f"(importing napari failed: {err})."
    ) from err

from nwbview.render.napari.content import ViewContent
from nwbview.render.napari.host import SessionView, session_view
from nwbview.render.napari.layers import VideoFrames
from nwbview.render.napari.space import Space
from nwbview.render.napari.viewer import view

__all__ = ["view", "session_view", "SessionView", "ViewContent", "Space", "VideoFrames"]
