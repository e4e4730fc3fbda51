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
import importlib
import logging
import os
import traceback
import warnings
from typing import Callable, Sequence

from nwbview.errors import NWBViewError, NWBViewWarning

__all__ = ["notify", "report_errors", "report_bug", "forward_warnings", "log", "workaround_applies", "OFF_WORDS"]

log = logging.getLogger("nwbview.napari")

KINDS = ("error", "warning", "info")
#: values of a workaround's environment switch that turn it off
OFF_WORDS = ("0", "false", "no", "off")
# (switch, version) pairs already logged as untested, so each is said once per process
logged_untested: set[tuple[str, str]] = set()


def workaround_applies(switch: str, module: str, tested: Sequence[str], untested: str, level: int = logging.INFO) -> bool:
    """Whether a version-gated workaround of nwbview's may be applied here.

    It applies unless the environment variable ``switch`` turns it off (:data:`OFF_WORDS`), and
    only when ``module`` imports and its ``major.minor`` is one of ``tested``. On another
    version it does not apply, and ``untested`` (a message with two ``%s``: the tested series
    and this version) is logged once per switch and version on the ``nwbview.napari`` logger.

    Examples
    --------
    >>> workaround_applies("NWBVIEW_VISPY_PATCH", "vispy", ("0.17",),
    ...                    "vispy fix tested on %s, not %s.")  # vispy 0.17  # doctest: +SKIP
    True
    """
    if os.environ.get(switch, "").strip().lower() in OFF_WORDS:
        return False
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return False
    version = str(getattr(mod, "__version__", ""))
    if ".".join(version.split(".")[:2]) in tested:
        return True
    if (switch, version) not in logged_untested:
        logged_untested.add((switch, version))
        log.log(level, untested, ", ".join(tested), version or "of unknown version")
    return False


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
