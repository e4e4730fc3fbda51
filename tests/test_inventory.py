"""The inventory: what a file holds, and the problems of each stream it finds."""

from __future__ import annotations

import numpy as np
import pytest
from pynwb.behavior import Position, SpatialSeries
from pynwb.testing.mock.file import mock_NWBFile

import nwbview
from nwbview.errors import (
    MissingFileError,
    NWBViewWarning,
    StreamNotFoundError,
    TimestampError,
)
from click.testing import CliRunner

from nwbview.cli import main
from tests.fixtures.sessions import (
    add_position,
    add_video,
    behavior,
    overwrite_dataset,
    write,
)


# -- time and units -----------------------------------------------------------------------------


def test_inventory_lists_everything(basic_file):
    with nwbview.open(basic_file) as s:
        inv = s.inventory()
        kinds = sorted({x.kind for x in inv})
        assert kinds == ["head_direction", "lfp", "position"]
        lfp = inv.of_kind("lfp")[0]
        assert lfp.rate == 1000.0 and lfp.shape == (5000, 4) and lfp.details["channels"] == 4
        assert lfp.t_start == 0.0 and lfp.t_stop == pytest.approx(4.999)
        text = str(inv)
        assert "processing/ecephys/LFP/lfp" in text and "1000 Hz" in text
        assert inv.to_dict()["session"]["session_id"] == "s1"


def test_file_with_nothing_to_show(tmp_path):
    with nwbview.open(write(mock_NWBFile(), tmp_path / "empty.nwb")) as s:
        inv = s.inventory()
        assert len(inv) == 0
        assert "Nothing nwbview can show" in str(inv)
        with pytest.raises(StreamNotFoundError, match="No position"):
            s.position()


def test_unit_that_does_not_fit_values_is_flagged(tmp_path):
    nwb = mock_NWBFile()
    ss = SpatialSeries(name="p", data=np.full((10, 2), 300.0), unit="meters", reference_frame="r", rate=10.0)
    behavior(nwb).add(Position(spatial_series=[ss]))
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        assert any("looks like cm or pixels" in p for p in s.inventory().problems)


def test_timestamps_going_backwards(tmp_path):
    nwb = mock_NWBFile()
    add_position(nwb, timestamps=True, n=20)
    p = write(nwb, tmp_path / "f.nwb")
    t = 1.0 + np.arange(20) / 20.0
    t[10] = 0.2
    overwrite_dataset(p, "processing/behavior/Position/position/timestamps", t)
    with nwbview.open(p) as s:
        assert any("go backwards" in x for x in s.inventory().problems)
        with pytest.raises(TimestampError, match="go backwards: index 10"):
            s.position()


def test_missing_external_video(tmp_path):
    nwb = mock_NWBFile()
    add_video(nwb, ["videos/cam.mp4"], timestamps=np.arange(5) / 30)
    with nwbview.open(write(nwb, tmp_path / "f.nwb")) as s:
        probs = s.inventory().problems
        assert any("external file not found" in p and "cam.mp4" in p for p in probs)
        with pytest.raises(MissingFileError, match=r"videos/cam.mp4.*resolved against"):
            s.video()




def test_a_video_whose_timestamps_disagree_with_its_file_rate(tmp_path):
    """60 fps in the file, timestamps at 30 Hz, same count: info says so, and reading warns."""
    from pynwb.testing.mock.file import mock_NWBFile

    from nwbview.testing.video import write_test_video
    from tests.fixtures.sessions import add_video, write

    write_test_video(tmp_path / "cam.mp4", 60, fps=60.0)
    nwb = mock_NWBFile()
    add_video(nwb, ["cam.mp4"], timestamps=np.arange(60) / 30.0)
    path = write(nwb, tmp_path / "s.nwb")
    with nwbview.open(path) as s:
        (video,) = s.inventory().of_kind("video")
        assert video.details["timestamps_match_file"].startswith("no (counts agree, but the rates differ: 60 fps")
        assert any("60 fps but the timestamps run at about 30 Hz" in p for p in video.problems)
        assert not any("the shorter one wins" in p for p in video.problems)
        with pytest.warns(NWBViewWarning, match="BehaviorVideo.*60 fps but the timestamps run at about 30 Hz"):
            s.video()
    r = CliRunner().invoke(main, ["info", str(path)])
    assert r.exit_code == 0 and "60 fps but the timestamps run at about 30 Hz" in r.output


