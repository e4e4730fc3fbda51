"""nwbview in the browser: a one-file HTML player and a notebook widget, one front-end.

Both hosts use the same ES module, ``nwbview.js`` (shipped in this package, no build step), and
the same data (:mod:`nwbview.render.browser.scene`: the export's plan and column as data):

- :func:`export_html` (``nwbview html``): a self-contained page with the clip as H.264 MP4;
- :func:`widget` (the ``notebook`` extra): an anywidget whose frames are decoded in the kernel
  and sent as JPEG on request.

Examples
--------
>>> import nwbview
>>> nwbview.export_html("session.nwb", "clip.html", start=60, stop=90)  # doctest: +SKIP
>>> w = nwbview.widget("session.nwb", start=60, stop=90)  # doctest: +SKIP
>>> w.time = 75.0  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from nwbview.render.browser.player import export_html, front_end

__all__ = ["export_html", "front_end", "widget"]


def widget(source: Any, start: float | None = None, stop: float | None = None, **options: Any) -> Any:
    """A notebook widget showing a session (JupyterLab, Notebook 7, VS Code): see
    :func:`nwbview.render.browser.notebook.session_widget`, which takes the same arguments.

    Raises
    ------
    MissingDependencyError
        anywidget is not installed (``pip install 'nwbview[notebook]'``).

    Examples
    --------
    >>> w = widget("session.nwb", start=60, stop=90, show_head_direction=True)  # doctest: +SKIP
    >>> w.frame = 1820  # doctest: +SKIP
    """
    from nwbview.errors import require

    require("anywidget", feature="nwbview.widget", extra="notebook")
    from nwbview.render.browser.notebook import session_widget

    return session_widget(source, start=start, stop=stop, **options)
