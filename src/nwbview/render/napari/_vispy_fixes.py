"""A workaround for a vispy bug that recompiles a Vectors layer's shader on every step.

vispy's ``MeshVisual`` makes a new pass-through colour function each time its data is set
(vispy/vispy#2568, open as of vispy 0.17), so the shader program is regenerated and relinked.
napari gives a Vectors layer new vertices on every slider step (the skeleton and head-direction
arrows of the current frame), so each step paid for a shader compile: 8-9 ms of a 70 ms step on
software OpenGL, measured in ``benchmarks/bench_napari.py``; GPU drivers compile shaders too.

:func:`install_mesh_shader_fix` makes each ``MeshVisual`` reuse the pass-through function it made
first. The shader code is the same, so nothing is drawn differently; colour-mapped meshes
(vertex values) keep vispy's own path. It is installed when a session is shown in napari, only
after checking that vispy's method still does what this fix assumes.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

_MARK = "_nwbview_reuses_color_transform"


def install_mesh_shader_fix() -> bool:
    """Make vispy's ``MeshVisual`` reuse its pass-through colour function (vispy/vispy#2568).

    Returns
    -------
    bool
        True when the fix is in place (now or from an earlier call); False when this vispy is not
        the one the fix was written for (no ``MeshVisual._build_color_transform``, or it no longer
        returns a plain pass-through for RGBA colours), in which case nothing is changed.

    Examples
    --------
    >>> install_mesh_shader_fix()  # doctest: +SKIP
    True
    """
    try:
        from vispy.visuals.mesh import MeshVisual
        from vispy.visuals.shaders import Function
    except ImportError:
        return False
    original = getattr(MeshVisual, "_build_color_transform", None)
    if original is None:
        return False
    if getattr(original, _MARK, False):
        return True
    try:  # the RGBA path must not depend on the visual or the colours: a constant pass-through
        probe = original(None, np.zeros((3, 4), np.float32))
    except Exception:  # noqa: BLE001 - a different vispy: leave it alone
        return False
    if not isinstance(probe, Function) or "return color" not in str(getattr(probe, "code", "")).replace("\n", " "):
        return False

    made: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()

    def _build_color_transform(self: Any, colors: Any) -> Any:
        if getattr(colors, "ndim", 0) == 2 and colors.shape[1] == 1:
            return original(self, colors)  # colour-mapped vertex values: vispy's own path
        fun = made.get(self)
        if fun is None:
            fun = made[self] = original(self, colors)
        return fun

    setattr(_build_color_transform, _MARK, True)
    _build_color_transform.__wrapped__ = original  # type: ignore[attr-defined]
    MeshVisual._build_color_transform = _build_color_transform
    return True
