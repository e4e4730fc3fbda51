"""nwbview: figures, annotated videos and an interactive view of NWB sessions.

Open a session, get its streams as xarray on one clock, and hand them to the
renderers::

    import nwbview
    with nwbview.open("session.nwb") as s:
        print(s.inventory())
        speed = nwbview.compute_speed(s.position())
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

from nwbview.errors import NWBViewError, NWBViewWarning
from nwbview.kinematics import (
    compute_acceleration,
    compute_head_direction,
    compute_speed,
    compute_velocity,
)
from nwbview.session import Session, open
from nwbview.timeline import Timeline

try:
    __version__ = _version("nwbview")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

_LAZY = {
    # name: (module, attribute) — imported on first use, so `import nwbview` stays light
    "export_video": ("nwbview.render.export", "export_video"),
    "snapshot": ("nwbview.render.export", "snapshot"),
    "view": ("nwbview.render.napari", "view"),
    "batch": ("nwbview.batching", "batch"),
    "scan": ("nwbview.scanning", "scan"),
    "write_results": ("nwbview.io.write", "write_results"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'nwbview' has no attribute {name!r}")


__all__ = [
    "open",
    "export_video",
    "snapshot",
    "view",
    "batch",
    "scan",
    "write_results",
    "Session",
    "Timeline",
    "NWBViewError",
    "NWBViewWarning",
    "compute_velocity",
    "compute_speed",
    "compute_acceleration",
    "compute_head_direction",
    "__version__",
]
