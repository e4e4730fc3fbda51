"""Timeline: nearest-sample and window alignment, computed once, at the edges too."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from nwbview import NWBViewError, NWBViewWarning, Timeline


def _stream(t, values=None):
    t = np.asarray(t, dtype=float)
    v = np.arange(t.size, dtype=float) if values is None else np.asarray(values, dtype=float)
    return xr.DataArray(v, dims=("time",), coords={"time": t}, name="s")


def test_regular():
    tl = Timeline.regular(0, 1, 4)
    np.testing.assert_allclose(tl.times, [0, 0.25, 0.5, 0.75])
    assert tl.fps == pytest.approx(4)
    with pytest.raises(NWBViewError, match="positive"):
        Timeline.regular(0, 1, 0)
    with pytest.raises(NWBViewError, match="stop must be after start"):
        Timeline.regular(1, 1, 10)


def test_nearest_inside_and_ties():
    tl = Timeline(np.array([0.0, 0.24, 0.26, 0.5]))
    s = _stream([0.0, 0.5])
    # 0.24 is nearer 0.0; 0.26 nearer 0.5
    np.testing.assert_array_equal(tl.nearest(s), [0, 0, 1, 1])


@pytest.mark.parametrize(
    "frame_t, expected",
    [
        pytest.param(0.94, -1, id="before-start-beyond-half-period"),
        pytest.param(0.96, 0, id="before-start-within-half-period"),
        pytest.param(1.0, 0, id="at-start"),
        pytest.param(1.9, 9, id="at-end"),
        pytest.param(1.94, 9, id="after-end-within-half-period"),
        pytest.param(1.96, -1, id="after-end-beyond-half-period"),
        pytest.param(100.0, -1, id="far-outside"),
    ],
)
def test_nearest_edges_never_clamped(frame_t, expected):
    s = _stream(1.0 + np.arange(10) * 0.1)  # 1.0 .. 1.9, half period 0.05
    assert Timeline(np.array([frame_t])).nearest(s)[0] == expected


def test_sample_nearest_and_linear_with_nan():
    s = _stream([0.0, 1.0, 2.0, 3.0], [0.0, 10.0, np.nan, 30.0])
    tl = Timeline(np.array([-1.0, 0.5, 0.9, 1.6, 3.0, 4.0]))
    near = tl.sample(s)  # 0.5 is a tie: the earlier sample wins
    np.testing.assert_allclose(near.values, [np.nan, 0.0, 10.0, np.nan, 30.0, np.nan])
    lin = tl.sample(s, method="linear")
    np.testing.assert_allclose(lin.values, [np.nan, 5.0, 9.0, np.nan, 30.0, np.nan])
    with pytest.raises(NWBViewError, match="Must be one of"):
        tl.sample(s, method="cubic")


def test_sample_keeps_other_dims():
    t = np.arange(5.0)
    pos = xr.DataArray(np.c_[t, -t], dims=("time", "space"), coords={"time": t, "space": ["x", "y"]})
    out = Timeline(np.array([1.5, 2.5])).sample(pos, method="linear")
    assert out.dims == ("time", "space")
    np.testing.assert_allclose(out.sel(space="y").values, [-1.5, -2.5])


def test_windows_centred_and_empty():
    s = _stream(np.arange(0, 10, 0.1))  # 100 samples at 10 Hz
    tl = Timeline(np.array([0.0, 5.0, 20.0]))
    w = tl.windows(s, 2.0)
    np.testing.assert_array_equal(w[0], [0, 10])  # [-1, 1) -> samples 0..9
    np.testing.assert_array_equal(w[1], [40, 60])  # [4, 6)
    assert w[2, 0] == w[2, 1] == 100  # empty window after the data
    with pytest.raises(NWBViewError, match="positive"):
        tl.windows(s, 0)


def test_align_warns_for_non_overlapping_stream():
    tl = Timeline.regular(0, 1, 10)
    with pytest.warns(NWBViewWarning, match="does not overlap"):
        out = tl.align({"late": _stream([50.0, 51.0]), "ok": _stream([0.0, 1.0])})
    assert (out["late"] == -1).all() and (out["ok"] >= 0).all()


def test_timeline_rejects_backwards_times():
    with pytest.raises(NWBViewError, match="backwards"):
        Timeline(np.array([0.0, 2.0, 1.0]))


def test_from_video_times_and_frames(tmp_path, monkeypatch):
    class FakeReader:
        name = "cam"
        times = 0.25 + np.arange(100) / 30.0

        def close(self):
            pass

    class FakeSession:
        def video_times(self, name=None):
            return FakeReader.times

    tl = Timeline.from_video(FakeSession(), start=1.0, stop=2.0)
    assert tl.times[0] >= 1.0 and tl.times[-1] < 2.0
    np.testing.assert_array_equal(FakeReader.times[tl.frames], tl.times)
    with pytest.raises(NWBViewError, match="No frame"):
        Timeline.from_video(FakeSession(), start=50, stop=60)
