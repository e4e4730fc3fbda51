"""The moov-box frame table equals the demux scan (what remote video relies on)."""

from __future__ import annotations

import os

import av
import numpy as np
import pytest

from nwbview.io.mp4index import Mp4IndexError, read_mp4_index
from nwbview.testing.video import vfr_timestamps, write_test_video


def _reader(path):
    f = open(path, "rb")  # noqa: SIM115 - closed with the test process

    def read(offset, size):
        f.seek(offset)
        return f.read(size)

    return read


@pytest.mark.parametrize(
    "name, kwargs",
    [
        pytest.param("b.mp4", dict(n_frames=300, gop=250, bframes=3), id="h264-bframes-gop250"),
        pytest.param("b.mov", dict(n_frames=120, gop=30, bframes=2), id="mov"),
        pytest.param("intra.mp4", dict(n_frames=60, gop=1, bframes=0), id="all-keyframes"),
        pytest.param("vfr.mp4", dict(n_frames=200, timestamps="vfr"), id="vfr-with-gaps"),
    ],
)
def test_moov_table_equals_demux(tmp_path, name, kwargs):
    if kwargs.get("timestamps") == "vfr":
        kwargs["timestamps"] = vfr_timestamps(kwargs["n_frames"])
    path = write_test_video(tmp_path / name, **kwargs)
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        packets = [(p.pts, p.dts, p.is_keyframe) for p in c.demux(s) if p.size]
        tb = s.time_base
    demux = np.array(packets)
    track = read_mp4_index(_reader(path), os.path.getsize(path))
    assert track.timescale == tb.denominator and tb.numerator == 1
    shift = demux[0, 0] - track.cts[0]
    np.testing.assert_array_equal(demux[:, 0], track.cts + shift)
    np.testing.assert_array_equal(demux[:, 2].astype(bool), track.keyframe)
    assert shift == -track.edit_media_time


def test_not_an_mp4(tmp_path):
    p = write_test_video(tmp_path / "m.avi", n_frames=10, codec="mjpeg")
    with pytest.raises(Mp4IndexError):
        read_mp4_index(_reader(p), os.path.getsize(p))
