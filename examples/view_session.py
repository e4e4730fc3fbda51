"""Open a session in the napari viewer and list its layers.

Usage::

    python examples/view_session.py [SESSION.nwb | OUT_DIR] [--show]

Without a .nwb file, a short demo session is made (and calibrated from its arena landmarks, so
the view is in world coordinates, cm) in OUT_DIR (default: a temporary folder). The view shows
the file's pose, position (with a 3 s trail) and head direction, and speed and LFP channel 1 in
the time-series dock (``lfp_channel=1``, ``trail_s=3.0``; ``show_pose=False`` and the other
``show_*`` switches hide a kind, ``pose="NAME"`` chooses a stream). Without
``--show`` the viewer stays hidden: the script builds it, steps the time slider and prints what
it holds, so it also runs without a display (with ``QT_QPA_PLATFORM=offscreen``, or no X server,
napari has no OpenGL and ``view(..., show=False)`` returns a headless viewer model with the same
layers). With ``--show`` it opens the window and runs napari until you close it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    show = "--show" in argv
    args = [a for a in argv if a != "--show"]
    if not show and sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no X server: Qt must not try to open one

    import nwbview

    if args and args[0].endswith(".nwb"):
        path = args[0]
    else:
        from nwbview.demo import make_demo_session
        from nwbview.jobs import calibrate_job

        out = args[0] if args else tempfile.mkdtemp(prefix="nwbview-")
        demo = make_demo_session(out, duration=4.0)
        calibrate_job(demo.nwb_path, landmarks=demo.landmarks_csv)  # world coordinates in the view
        path = demo.nwb_path
    try:
        from nwbview.render.napari import session_view, view
    except ImportError as err:
        print(f"the viewer is not available: {err}")
        return

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", nwbview.NWBViewWarning)
        viewer = view(path, show=show, trail_s=3.0, lfp_channel=1)
    for w in caught:
        if issubclass(w.category, nwbview.NWBViewWarning):
            print(f"note: {w.message}")
    sv = session_view(viewer)
    print(f"{type(viewer).__name__} of {path}")
    print(f"  {len(sv.timeline)} steps, {sv.times[0]:.3f} .. {sv.times[-1]:.3f} s; view in {sv.space.coordinates} coordinates ({sv.space.unit})")
    for layer in viewer.layers:
        shape = getattr(layer.data, "shape", None) or (len(layer.data),)
        print(f"  layer {layer.name!r}: {type(layer).__name__} {tuple(shape)}")
    sv.jump_to_time(2.0)
    print(f"  slider at step {sv.step}: t = {sv.time:.3f} s, video frame {int(sv.timeline.frames[sv.step])}")
    if sv.dock is not None:
        sv.dock.flush()
        print("  dock: " + ", ".join(f"{tr.label} = {sv.dock.readout(tr.label):.3g} {tr.units}".rstrip() for tr in sv.dock.traces))
    if show:
        import napari

        napari.run()
    else:
        viewer.close() if hasattr(viewer, "window") else sv.close()


if __name__ == "__main__":
    main()
