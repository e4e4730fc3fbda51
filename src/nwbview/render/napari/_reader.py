"""The napari reader contribution: open a ``.nwb`` session with ``viewer.open(path)``.

The reader returns the session's layers as layer-data tuples; napari adds them. The view is
bound to the viewer napari opens the file in (``napari.current_viewer()``): when its last layer
is in, it adds the time-series dock and the calibration widget and keeps the slider label in step.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

from nwbview.errors import NWBViewError, NWBViewWarning

__all__ = ["napari_get_reader", "read_nwb"]


def _one_path(path: Any) -> str | None:
    if isinstance(path, (list, tuple)):
        if len(path) != 1:
            return None
        path = path[0]
    path = str(path)
    return path if path.lower().endswith(".nwb") else None


def napari_get_reader(path: Any) -> Callable | None:
    """The reader for ``path`` when it is one ``.nwb`` file (local path or URL), else None.

    Examples
    --------
    >>> napari_get_reader("session.nwb") is read_nwb
    True
    >>> napari_get_reader("movie.mp4") is None
    True
    """
    return read_nwb if _one_path(path) is not None else None


def read_nwb(path: Any, *, viewer: Any = None) -> list[tuple]:
    """Open an NWB session and return its layers (``[(data, kwargs, layer_type), ...]``).

    Errors a user can cause (a broken file, a missing video) become a napari error notification
    and no layer (napari's empty-file sentinel ``[(None,)]``); nwbview warnings become warning
    notifications.
    """
    from nwbview.render.napari.host import SessionView
    from nwbview.render.napari.notifications import forward_warnings, notify

    p = _one_path(path)
    if p is None:
        return [(None,)]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NWBViewWarning)
            sv = SessionView.open(p)
    except NWBViewError as exc:
        notify("error", f"nwbview could not open {p}: {exc}")
        return [(None,)]
    forward_warnings(caught)
    if viewer is None:
        import napari

        viewer = napari.current_viewer()
    if viewer is not None:
        sv.attach(viewer, add_layers=False)
    return sv.layer_data()
