"""Layer thumbnails drawn when the slider rests, not on every step.

napari redraws each layer's 32x32 thumbnail (the picture in the layer list) every time the layer
is sliced, and the layer list repaints it: for nwbview's five layers that was 9-11 ms of a step
on software OpenGL (``benchmarks/bench_napari.py``, BENCHMARKS.md), more than any one layer's
drawing. While the slider moves nobody reads a 32x32 picture of the current step, so
:func:`defer_thumbnails` makes **nwbview's own layers** (those of a
:class:`~nwbview.render.napari.host.SessionView`) redraw theirs once the slider has rested for
:data:`DELAY_MS`: the layer list shows the current step when it is looked at, and a step (or the
play button) does not pay for it.

How, and where
--------------
napari 0.9 has no public switch for thumbnails, so each layer gets an instance attribute
``_update_thumbnail`` (the method napari calls when it slices the layer) that marks the
thumbnail stale and (re)starts one Qt timer; the timer calls napari's own method. No napari
class is patched; other layers keep napari's behaviour. It applies only on the napari versions
it was tested on (:data:`TESTED_NAPARI`), only where the layer type has that method, only in a
viewer with a window (a Qt event loop); ``NWBVIEW_DEFER_THUMBNAILS=0`` (or ``false``, ``no``,
``off``) leaves napari as it is.
"""

from __future__ import annotations

import types
import weakref
from typing import Any, Sequence

from nwbview.render.napari.notifications import workaround_applies

__all__ = ["TESTED_NAPARI", "ENV_SWITCH", "DELAY_MS", "deferral_applies", "ThumbnailDeferral"]

#: napari release series (``major.minor``) this was tested on
TESTED_NAPARI = ("0.9",)
#: the environment variable that switches it off (``0``, ``false``, ``no``, ``off``)
ENV_SWITCH = "NWBVIEW_DEFER_THUMBNAILS"
#: how long the slider rests before the thumbnails are redrawn (ms)
DELAY_MS = 300

_MARK = "_nwbview_deferred_thumbnail"


def deferral_applies() -> bool:
    """Whether thumbnails may be deferred here: not switched off, and a tested napari version."""
    return workaround_applies(
        ENV_SWITCH, "napari", TESTED_NAPARI,
        "nwbview redraws layer thumbnails on every step: deferring them was tested on napari %s, not %s.",
    )  # fmt: skip


class ThumbnailDeferral:
    """Redraws the thumbnails of some layers once the slider rests (see the module's doc).

    Examples
    --------
    >>> deferral = ThumbnailDeferral(); deferral.add(viewer.layers)  # doctest: +SKIP
    >>> deferral.flush()  # draw the stale thumbnails now  # doctest: +SKIP
    """

    def __init__(self, delay_ms: int = DELAY_MS):
        from qtpy.QtCore import QTimer

        self._stale: dict[int, tuple[weakref.ref, Any]] = {}
        self.timer = QTimer()
        self.timer.setSingleShot(True)
        self.timer.setInterval(int(delay_ms))
        self.timer.timeout.connect(self.flush)
        #: thumbnails drawn so far (for tests)
        self.drawn = 0

    def add(self, layers: Sequence[Any]) -> int:
        """Defer the thumbnails of ``layers``; returns how many layers have it (now or before)."""
        if not deferral_applies():
            return 0
        deferral, n = self, 0
        for layer in layers:
            current = layer.__dict__.get("_update_thumbnail")
            if getattr(current, _MARK, False):
                n += 1
                continue
            original = getattr(type(layer), "_update_thumbnail", None)
            if not callable(original) or current is not None:
                continue
            ref = weakref.ref(layer)

            def _update_thumbnail(layer_: Any, *_: Any, _original: Any = original, _ref: Any = ref) -> None:
                deferral._stale[id(layer_)] = (_ref, _original)
                deferral.timer.start()

            setattr(_update_thumbnail, _MARK, True)
            layer._update_thumbnail = types.MethodType(_update_thumbnail, layer)
            n += 1
        return n

    def flush(self) -> None:
        """Draw the stale thumbnails now (napari's own method; the layer list repaints them)."""
        self.timer.stop()
        stale, self._stale = self._stale, {}
        for ref, original in stale.values():
            layer = ref()
            if layer is not None:
                original(layer)
                self.drawn += 1

    @property
    def pending(self) -> int:
        """Layers whose thumbnail is stale."""
        return len(self._stale)
