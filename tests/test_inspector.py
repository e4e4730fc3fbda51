"""NWB Inspector finds nothing critical and no best-practice violation in the demo session, before
and after the write-back steps ``make demo`` runs (issue 18)."""

from __future__ import annotations

import pytest

from nwbview import jobs
from nwbview.demo import make_demo_session

BAD = ("CRITICAL", "BEST_PRACTICE_VIOLATION")


def _messages(path) -> list:
    from nwbinspector import inspect_nwbfile

    return [m for m in inspect_nwbfile(nwbfile_path=str(path)) if m is not None]


def _show(messages) -> str:
    return "\n".join(f"{m.importance.name} {m.check_function_name} {m.location}: {m.message}" for m in messages)


@pytest.fixture(scope="module")
def demo_after_make_demo(tmp_path_factory):
    """The demo session, then the write-back steps of the Makefile's demo target, through the jobs."""
    pytest.importorskip("nwbinspector")
    out = tmp_path_factory.mktemp("inspected")
    demo = make_demo_session(out, duration=6.0)
    path = demo.nwb_path
    before = _messages(path)
    jobs.calibrate_job(path, landmarks=demo.landmarks_csv, overwrite=True)
    jobs.kinematics_job(path, tracking="pose", csv=out / "kinematics.csv", write=True, overwrite=True)
    jobs.heatmap_job(path, kind="occupancy", output=out / "occupancy.png", write=True, overwrite=True)
    jobs.heatmap_job(path, kind="signal", signal="lfp-power", output=out / "theta_by_position.png", write=True, overwrite=True)
    jobs.heatmap_job(path, kind="movement", egocentric=True, intervals="running_bouts", output=out / "movement.png",
                     write=True, overwrite=True)
    return path, before, _messages(path)


@pytest.mark.slow
def test_the_demo_passes_the_inspector(demo_after_make_demo):
    _, before, _ = demo_after_make_demo
    bad = [m for m in before if m.importance.name in BAD]
    assert not bad, "NWB Inspector on the demo session:\n" + _show(bad)
    assert not [m for m in before if m.check_function_name == "check_experimenter_form"], _show(before)


def test_what_nwbview_writes_passes_the_inspector(demo_after_make_demo):
    path, _, after = demo_after_make_demo
    bad = [m for m in after if m.importance.name in BAD]
    assert not bad, "NWB Inspector after calibrate, kinematics and heatmaps were written back:\n" + _show(bad)
    print(f"\n{len(after)} inspector message(s) after the write-back" + (":\n" + _show(after) if after else ""))


def test_world_units_are_spelled_out(demo_after_make_demo):
    import pynwb

    path, _, _ = demo_after_make_demo
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        behavior = nwb.processing["behavior"]
        assert behavior["Position"]["position"].unit == "centimeters"
        assert behavior["VideoCalibration"].unit == "centimeters"
        assert behavior["speed_nwbview"].unit == "centimeters/s"
        assert behavior["HeadDirection_nwbview"]["head_direction_nwbview"].unit == "radians"
