"""The napari sample-data contribution: the demo session (a mouse in a 100 x 80 cm arena).

It is generated (nothing is downloaded) into a cache folder the first time: ``$NWBVIEW_CACHE``,
else ``$XDG_CACHE_HOME/nwbview`` (``~/.cache/nwbview``), in ``napari-demo/``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["demo_folder", "make_demo_sample"]

#: length of the sample session, seconds
DURATION = 30.0


def demo_folder() -> Path:
    """Where the sample session is cached."""
    root = os.environ.get("NWBVIEW_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "nwbview"
    )
    return Path(root) / "napari-demo"


def demo_session_path(duration: float = DURATION) -> Path:
    """The cached demo session (made on first use)."""
    from nwbview.demo import make_demo_session

    folder = demo_folder()
    nwb = folder / "demo_session.nwb"
    done = folder / f".complete-{duration:g}s"
    if not (nwb.exists() and done.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        make_demo_session(folder, duration=duration)
        done.write_text("made by nwbview's napari sample\n")
    return nwb


def make_demo_sample() -> list[tuple]:
    """The demo session's layers (the plugin's sample data)."""
    from nwbview.render.napari._reader import read_nwb

    return read_nwb(str(demo_session_path()))
