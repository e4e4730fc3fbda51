"""nwbview: figures, annotated videos and an interactive view of NWB sessions.

Open a session, get its streams as xarray on one clock, and hand them to the
renderers::

    import nwbview
    with nwbview.open("session.nwb") as s:
        print(s.inventory())
        speed = nwbview.compute_speed(s.position())

``import nwbview`` is light (it loads none of xarray, pynwb, matplotlib, PyAV, OpenCV,
SciPy or napari): every name below is imported on first use. The export's worker
processes start with it.
"""

from __future__ import annotations

from nwbview.errors import NWBViewError, NWBViewWarning

_LAZY = {
    # name: (module, attribute), imported on first use so that `import nwbview` stays light
    "open": ("nwbview.session", "open"),
    "Session": ("nwbview.session", "Session"),
    "Timeline": ("nwbview.timeline", "Timeline"),
    "compute_velocity": ("nwbview.kinematics", "compute_velocity"),
    "compute_speed": ("nwbview.kinematics", "compute_speed"),
    "compute_acceleration": ("nwbview.kinematics", "compute_acceleration"),
    "compute_head_direction": ("nwbview.kinematics", "compute_head_direction"),
    "export_video": ("nwbview.render.export", "export_video"),
    "snapshot": ("nwbview.render.export", "snapshot"),
    "export_html": ("nwbview.render.browser", "export_html"),
    "widget": ("nwbview.render.browser", "widget"),
    "view": ("nwbview.render.napari", "view"),
    "batch": ("nwbview.batching", "batch"),
    "scan": ("nwbview.scanning", "scan"),
    "write_results": ("nwbview.io.write", "write_results"),
    "to_movement": ("nwbview.interop", "to_movement"),
    "to_pynapple": ("nwbview.interop", "to_pynapple"),
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nwbview")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0+unknown"


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'nwbview' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "open",
    "export_video",
    "snapshot",
    "export_html",
    "widget",
    "view",
    "batch",
    "scan",
    "write_results",
    "to_movement",
    "to_pynapple",
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
