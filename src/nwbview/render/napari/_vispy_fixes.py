"""A workaround for a vispy bug that recompiles a Vectors layer's shader on every step, and the
empty text of nwbview's Points layers left undrawn (:func:`hide_empty_text`).

vispy's ``MeshVisual`` makes a new pass-through colour function each time its data is set
(vispy/vispy#2568, open as of vispy 0.17), so the shader program is regenerated and relinked.
napari gives a Vectors layer new vertices on every slider step (the skeleton and head-direction
arrows of the current step), so each step paid for a shader compile: 8-9 ms of a 70 ms step on
software OpenGL, measured in ``benchmarks/bench_napari.py``; GPU drivers compile shaders too.

What it changes, and where
--------------------------
:func:`mend_layer_visuals` gives the vispy visual of each of **nwbview's own layers** (those of
a :class:`~nwbview.render.napari.host.SessionView`; in practice its one Vectors layer) an
instance attribute ``_build_color_transform`` that returns the pass-through function the visual
made first instead of a new one. The shader code is the same, so nothing is drawn differently;
colour-mapped meshes (vertex values) keep vispy's own path. No vispy or napari class is
patched: other layers and other programs' visuals in the same process are untouched. Finding a
layer's visual uses napari's ``viewer.window._qt_viewer.layer_to_visual`` (napari has no public
way); where that is missing, nothing is changed.

When it is applied
------------------
- only on the vispy versions it was tested on (:data:`TESTED_VISPY`: the 0.17 series). On any
  other version nothing is changed and one line is logged (logger ``nwbview.napari``, once per
  process): stepping is then only slower, never wrong;
- only when vispy's method still does what the fix assumes (a constant pass-through for RGBA
  colours, checked on each visual before it is changed);
- never when the environment variable ``NWBVIEW_VISPY_PATCH`` is ``0`` (or ``false``, ``no``,
  ``off``): vispy is then left as it is, to rule the fix out when something looks wrong.
"""

from __future__ import annotations

import logging
import types
import weakref
from typing import Any, Sequence

import numpy as np

from nwbview.render.napari.notifications import workaround_applies

__all__ = ["TESTED_VISPY", "ENV_SWITCH", "fix_applies", "reuse_color_transform", "mend_layer_visuals", "TESTED_NAPARI",
           "TEXT_ENV_SWITCH", "text_fix_applies", "hide_empty_text", "layer_nodes"]

#: vispy release series (``major.minor``) the fix was tested on
TESTED_VISPY = ("0.17",)
#: the environment variable that switches the fix off (``0``, ``false``, ``no``, ``off``)
ENV_SWITCH = "NWBVIEW_VISPY_PATCH"

_MARK = "_nwbview_reuses_color_transform"


def fix_applies() -> bool:
    """Whether the fix may be applied here: not switched off, and a tested vispy version.

    Examples
    --------
    >>> fix_applies()  # vispy 0.17, NWBVIEW_VISPY_PATCH unset  # doctest: +SKIP
    True
    """
    return workaround_applies(
        ENV_SWITCH, "vispy", TESTED_VISPY,
        "nwbview's vispy shader fix (vispy/vispy#2568) is not applied: it was tested on vispy %s and this "
        "is vispy %s. The viewer works; stepping may be slower.", level=logging.WARNING,
    )  # fmt: skip


def reuse_color_transform(visual: Any) -> bool:
    """Make one vispy ``MeshVisual`` reuse its pass-through colour function (vispy/vispy#2568).

    Only this visual changes (an instance attribute); its class and every other visual keep
    vispy's method.

    Returns
    -------
    bool
        True when the fix is in place on ``visual`` (now or from an earlier call); False when it
        is switched off, the vispy version is not a tested one, ``visual`` is not a mesh, or its
        method no longer returns a constant pass-through for RGBA colours (nothing changed).

    Examples
    --------
    >>> from vispy.visuals.mesh import MeshVisual  # doctest: +SKIP
    >>> reuse_color_transform(MeshVisual())  # doctest: +SKIP
    True
    """
    if getattr(getattr(visual, "_build_color_transform", None), _MARK, False):
        return True
    if not fix_applies():
        return False
    try:
        from vispy.visuals.mesh import MeshVisual
        from vispy.visuals.shaders import Function
    except ImportError:
        return False
    original = getattr(type(visual), "_build_color_transform", None)
    if not isinstance(visual, MeshVisual) or original is None:
        return False
    try:  # the RGBA path must not depend on the colours: a constant pass-through
        probe = original(visual, np.zeros((3, 4), np.float32))
    except Exception:  # noqa: BLE001 - a different vispy: leave it alone
        return False
    if not isinstance(probe, Function) or "return color" not in str(getattr(probe, "code", "")).replace("\n", " "):
        return False
    made: list[Any] = []

    def _build_color_transform(self: Any, colors: Any) -> Any:
        if getattr(colors, "ndim", 0) == 2 and colors.shape[1] == 1:
            return original(self, colors)  # colour-mapped vertex values: vispy's own path
        if not made:
            made.append(original(self, colors))
        return made[0]

    setattr(_build_color_transform, _MARK, True)
    # an instance attribute, not the class's: vispy's frozen visuals take it, as the method exists
    visual._build_color_transform = types.MethodType(_build_color_transform, visual)
    return True


def mend_layer_visuals(viewer: Any, layers: Sequence[Any]) -> int:
    """Apply :func:`reuse_color_transform` to the vispy visuals of ``layers`` (nwbview's own).

    A viewer without a canvas (napari's headless ``ViewerModel``) has no visuals: nothing to do.

    Returns
    -------
    int
        How many visuals have the fix.

    Examples
    --------
    >>> mend_layer_visuals(viewer, [viewer.layers["skeleton + head direction + position trail"]])  # doctest: +SKIP
    1
    """
    return sum(1 for _, node in layer_nodes(viewer, layers) if node is not None and reuse_color_transform(node))


def layer_nodes(viewer: Any, layers: Sequence[Any]) -> list[tuple[Any, Any]]:
    """``(layer, vispy node or None)`` for each of ``layers`` shown in ``viewer``'s window; empty
    without a window (napari has no public way: ``window._qt_viewer.layer_to_visual``)."""
    qt_viewer = getattr(getattr(viewer, "window", None), "_qt_viewer", None)
    visuals = getattr(qt_viewer, "layer_to_visual", None)
    if not visuals:
        return []
    return [(layer, getattr(visuals.get(layer), "node", None)) for layer in layers]


#: napari release series (``major.minor``) the empty-text fix was tested on
TESTED_NAPARI = ("0.9",)
#: the environment variable that switches the empty-text fix off (``0``, ``false``, ``no``, ``off``)
TEXT_ENV_SWITCH = "NWBVIEW_HIDE_EMPTY_TEXT"

_following: "weakref.WeakSet[Any]" = weakref.WeakSet()


def text_fix_applies() -> bool:
    """Whether :func:`hide_empty_text` may change anything: not switched off, a tested napari."""
    return workaround_applies(
        TEXT_ENV_SWITCH, "napari", TESTED_NAPARI,
        "nwbview draws the empty text of its Points layers: hiding it was tested on napari %s, not %s.",
    )  # fmt: skip


def _has_text(layer: Any) -> bool:
    """Whether a Points layer shows text (napari's own test: visible, and not the constant '')."""
    text = layer.text
    string = getattr(text, "string", None)
    return bool(text.visible) and not (getattr(string, "constant", None) == "" and hasattr(string, "constant"))


def hide_empty_text(viewer: Any, layers: Sequence[Any]) -> int:
    """Hide the text visual of those of ``layers`` (nwbview's Points layers) that show no text.

    napari gives vispy one empty string to draw when a Points layer has no text, and draws it on
    every paint (~1.3 ms a layer on software OpenGL). The text visual (``node.text`` of the
    layer's vispy visual, found through ``viewer.window._qt_viewer.layer_to_visual``: napari
    has no public way) is made invisible while the layer has no text, and visible again as soon
    as the user gives it some (the layer's ``text`` events). Only on napari 0.9
    (:data:`TESTED_NAPARI`); ``NWBVIEW_HIDE_EMPTY_TEXT=0`` switches it off.

    Returns
    -------
    int
        How many layers' text visuals follow their text now.

    Examples
    --------
    >>> hide_empty_text(viewer, [viewer.layers["pose: PoseEstimation + position"]])  # doctest: +SKIP
    1
    """
    if not text_fix_applies():
        return 0
    done = 0
    for layer, node in layer_nodes(viewer, layers):
        text_node = getattr(node, "text", None)
        events = getattr(getattr(layer, "text", None), "events", None)
        if text_node is None or events is None:
            continue
        if text_node not in _following:

            def follow(event: Any = None, _layer: Any = layer, _node: Any = text_node) -> None:
                _node.visible = _has_text(_layer)

            events.connect(follow)
            _following.add(text_node)  # (vispy's visuals are frozen: no attribute of ours on them)
            follow()
        done += 1
    return done
