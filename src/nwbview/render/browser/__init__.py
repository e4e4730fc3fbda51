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

import os
import sys
from typing import Any

from nwbview.render.browser.player import export_html, front_end

__all__ = ["export_html", "front_end", "widget", "brief_errors"]


def brief_errors() -> bool:
    """In IPython (Jupyter, VS Code): show nwbview's errors as one line, without a traceback.

    A user error (a stream that is not there, a time outside the session) then reads like the
    command line's ``error: ...``; bugs keep their traceback, and ``NWBVIEW_DEBUG=1`` keeps every
    traceback. Returns whether it was set up (False outside IPython).

    Examples
    --------
    >>> brief_errors()  # outside IPython: nothing to do
    False
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or os.environ.get("NWBVIEW_DEBUG"):
        return False
    from nwbview.errors import NWBViewError, plain_numbers

    def one_line(shell, etype, value, tb, tb_offset=None):
        stb = [f"\x1b[0;31merror:\x1b[0m {plain_numbers(str(value))}"]
        show = getattr(shell, "_showtraceback", None)  # IPython's own way to show an error output (run_code drops stb)
        if show is not None:
            show(etype, value, stb)
        else:  # pragma: no cover - older shells
            print(stb[0], file=sys.stderr)
        return stb

    shell.set_custom_exc((NWBViewError,), one_line)
    return True


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

    brief_errors()
    require("anywidget", feature="nwbview.widget", extra="notebook")
    from nwbview.render.browser.notebook import session_widget

    return session_widget(source, start=start, stop=stop, **options)
