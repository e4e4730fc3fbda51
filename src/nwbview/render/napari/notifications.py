"""What the napari viewer tells its user: notifications, and GUI actions whose errors become them.

The reader plugin, the view, the dock and the calibration widget all report through here: an
:class:`~nwbview.errors.NWBViewError` is an error notification with its message, an
:class:`~nwbview.errors.NWBViewWarning` a warning notification, and any other exception a bug
(a short report; the traceback goes to the ``nwbview.napari`` logger).

Examples
--------
>>> notify("info", "Saved the calibration.")  # doctest: +SKIP
>>> button.clicked.connect(lambda *_: report_errors(widget.fit)())  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import logging
import traceback
import warnings
from typing import Callable

from nwbview.errors import NWBViewError, NWBViewWarning

__all__ = ["notify", "report_errors", "report_bug", "forward_warnings", "log"]

log = logging.getLogger("nwbview.napari")

KINDS = ("error", "warning", "info")


def notify(kind: str, message: str) -> None:
    """Show a napari notification: ``kind`` is ``"error"``, ``"warning"`` or ``"info"``.

    Examples
    --------
    >>> notify("warning", "The video has no calibration.")  # doctest: +SKIP
    """
    from napari.utils.notifications import show_error, show_info, show_warning

    if kind not in KINDS:
        raise NWBViewError(f"Invalid notification kind {kind!r}: must be one of {KINDS}.")
    {"error": show_error, "warning": show_warning, "info": show_info}[kind](message)


def report_bug(what: str, exc: BaseException) -> None:
    """An exception that is not the user's: log its traceback, show a short error notification.

    Examples
    --------
    >>> try:
    ...     step()
    ... except Exception as exc:  # doctest: +SKIP
    ...     report_bug("while stepping", exc)
    """
    log.error("nwbview viewer: %s", traceback.format_exc())
    notify(
        "error",
        f"internal error {what}: {type(exc).__name__}: {exc}. This is a bug in nwbview; the traceback is in "
        "the log (logger 'nwbview.napari').",
    )


def forward_warnings(caught: list) -> None:
    """Warnings recorded by ``warnings.catch_warnings(record=True)``: nwbview's become
    warning notifications, the others are warned again as they were.

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as caught:  # doctest: +SKIP
    ...     warnings.simplefilter("always", NWBViewWarning)
    ...     sv = SessionView.open(path)
    >>> forward_warnings(caught)  # doctest: +SKIP
    """
    for w in caught:
        if issubclass(w.category, NWBViewWarning):
            notify("warning", str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def report_errors(fn: Callable) -> Callable:
    """Run a GUI action: its errors and nwbview warnings become napari notifications.

    An :class:`~nwbview.errors.NWBViewError` shows its message; any other exception is a bug
    and shows a short report (:func:`report_bug`). The wrapped action returns None when it
    failed.

    Examples
    --------
    >>> button.clicked.connect(lambda *_: report_errors(widget.fit)())  # doctest: +SKIP
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", NWBViewWarning)
                out = fn(*args, **kwargs)
        except NWBViewError as exc:
            notify("error", str(exc))
            return None
        except Exception as exc:  # noqa: BLE001 - a bug: report it in the GUI, not as a traceback
            report_bug(f"in {getattr(fn, '__name__', 'nwbview')}", exc)
            return None
        forward_warnings(caught)
        return out

    return wrapper
