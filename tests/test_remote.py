"""Streaming sessions over HTTP and DANDI, against a local server that counts bytes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import nwbview
from nwbview.cli import main
from nwbview.errors import MissingFileError, NWBViewError
from nwbview.io.remote import RemoteError


@pytest.fixture
def served_demo(http_server, demo_session):
    """The 4 s demo session and its video, served over HTTP."""
    src = Path(demo_session.nwb_path).parent
    for name in ("demo_session.nwb", "demo_video.mp4", "demo_landmarks.csv"):
        shutil.copy(src / name, http_server.root / name)
    return http_server


@pytest.mark.slow
def test_every_stream_read_remotely_equals_the_local_read(served_demo, demo_session):
    with nwbview.open(served_demo.file_url("demo_session.nwb")) as r, nwbview.open(demo_session.nwb_path) as s:
        assert r.is_remote
        assert [(x.kind, x.path) for x in r.inventory()] == [(x.kind, x.path) for x in s.inventory()]
        assert not r.inventory().problems
        xr.testing.assert_identical(r.position(), s.position())
        xr.testing.assert_identical(r.head_direction(), s.head_direction())
        xr.testing.assert_identical(r.pose(), s.pose())
        xr.testing.assert_identical(r.lfp(channels=[1, 2], start=1.0, stop=2.5).load(), s.lfp(channels=[1, 2], start=1.0, stop=2.5).load())
        rv, lv = r.video(), s.video()
        assert rv.files[0].startswith("http://") and len(rv) == len(lv)
        np.testing.assert_array_equal(rv.times, lv.times)
        for i in [0, 1, 57, 30, len(lv) - 1, 2]:  # random order: seeks over HTTP
            np.testing.assert_array_equal(rv[i], lv[i])
        np.testing.assert_array_equal(rv.gray(40), lv.gray(40))


@pytest.fixture
def big_session(http_server, tmp_path_factory):
    """A ~100 MB session (64-channel int16 LFP in chunks) with position, served over HTTP."""
    from hdmf.backends.hdf5.h5_utils import H5DataIO
    from pynwb.testing.mock.file import mock_NWBFile

    from tests.fixtures.sessions import add_position, write

    nwb = mock_NWBFile()
    add_position(nwb, n=20000)
    dev = nwb.create_device("probe")
    grp = nwb.create_electrode_group("shank", description="s", location="CA1", device=dev)
    for _ in range(64):
        nwb.add_electrode(group=grp, location="CA1")
    from pynwb.ecephys import LFP, ElectricalSeries

    region = nwb.create_electrode_table_region(list(range(64)), "all")
    data = np.random.default_rng(0).integers(-3000, 3000, (800_000, 64), dtype=np.int16)
    es = ElectricalSeries(name="lfp", data=H5DataIO(data, chunks=(8192, 64)), electrodes=region, rate=1000.0, starting_time=0.0, conversion=1e-6)
    nwb.create_processing_module("ecephys", "e").add(LFP(electrical_series=es))
    write(nwb, http_server.root / "big.nwb")
    return http_server, data


@pytest.mark.slow
def test_info_reads_under_5_percent_of_a_100_mb_file(big_session):
    srv, _ = big_session
    size = (srv.root / "big.nwb").stat().st_size
    assert size > 100e6
    srv.reset_counts()
    r = CliRunner().invoke(main, ["info", srv.file_url("big.nwb")])
    assert r.exit_code == 0, r.output
    assert "processing/ecephys/LFP/lfp" in r.output
    assert srv.bytes_sent["big.nwb"] < 0.05 * size, srv.bytes_sent["big.nwb"] / size


@pytest.mark.slow
def test_a_10_s_lfp_read_fetches_only_its_chunks(big_session):
    srv, data = big_session
    size = (srv.root / "big.nwb").stat().st_size
    with nwbview.open(srv.file_url("big.nwb")) as s:
        srv.reset_counts()
        x = s.lfp(channels=[5], start=300.0, stop=310.0).values
    np.testing.assert_allclose(x[:, 0], data[300_000:310_000, 5] * 1.0, atol=1e-9)  # 1e-6 V = 1 uV per count
    assert srv.bytes_sent["big.nwb"] < 0.05 * size


@pytest.fixture(scope="module")
def noisy_session(tmp_path_factory):
    """A 60 s, 30 fps camera-like video (sensor noise: ~25 Mbit/min, unlike the demo's static floor)."""
    import av
    from pynwb.image import ImageSeries
    from pynwb.testing.mock.file import mock_NWBFile

    from tests.fixtures.sessions import write

    folder = tmp_path_factory.mktemp("noisy")
    rng = np.random.default_rng(0)
    base = (rng.random((240, 320)) * 120 + 60).astype(np.uint8)
    with av.open(str(folder / "cam.mp4"), "w", options={"movflags": "+faststart"}) as c:
        st = c.add_stream("libx264", rate=30)
        st.width, st.height, st.pix_fmt = 320, 240, "yuv420p"
        st.codec_context.gop_size = 60
        st.codec_context.options = {"preset": "ultrafast", "crf": "23"}
        for i in range(1800):
            y = np.clip(base.astype(np.int16) + rng.integers(-6, 7, base.shape), 0, 255).astype(np.uint8)
            frame = av.VideoFrame(320, 240, "yuv420p")
            frame.planes[0].update(np.ascontiguousarray(y).tobytes())
            frame.planes[1].update(np.full(160 * 120, 128, np.uint8).tobytes())
            frame.planes[2].update(np.full(160 * 120, 128, np.uint8).tobytes())
            for p in st.encode(frame):
                c.mux(p)
        for p in st.encode():
            c.mux(p)
    nwb = mock_NWBFile()
    nwb.add_acquisition(ImageSeries(name="cam", external_file=["cam.mp4"], format="external", starting_frame=[0],
                                    timestamps=0.5 + np.arange(1800) / 30.0, dimension=[320, 240]))
    write(nwb, folder / "session.nwb")
    return folder


@pytest.mark.slow
def test_a_5_s_clip_reads_under_20_percent_of_the_video(http_server, noisy_session):
    for name in ("session.nwb", "cam.mp4"):
        shutil.copy(noisy_session / name, http_server.root / name)
    vsize = (http_server.root / "cam.mp4").stat().st_size
    assert vsize > 2e6
    with nwbview.open(http_server.file_url("session.nwb")) as s, nwbview.open(noisy_session / "session.nwb") as local:
        http_server.reset_counts()
        tl = nwbview.Timeline.from_video(s, start=30.0, stop=35.0)
        v, lv = s.video(), local.video()
        for k, frame in zip(tl.frames, v.iter_frames(int(tl.frames[0]), int(tl.frames[-1]) + 1)):
            if k % 37 == 0:
                np.testing.assert_array_equal(frame, lv[int(k)])
        sent = http_server.bytes_sent["cam.mp4"]
    assert len(tl) == 150
    assert sent < 0.20 * vsize, f"read {sent / vsize:.0%} of the video"


# -- faults ---------------------------------------------------------------------------------------


def test_server_without_range_support_is_refused(served_demo):
    served_demo.mode = "norange"
    with pytest.raises(RemoteError, match="does not support byte-range requests.*download the file"):
        nwbview.open(served_demo.file_url("demo_session.nwb"))
    assert served_demo.bytes_sent["demo_session.nwb"] < 200_000  # it did not read the file


@pytest.mark.slow
def test_not_found(served_demo):
    with pytest.raises(MissingFileError, match="HTTP 404"):
        nwbview.open(served_demo.file_url("nope.nwb"))


def test_dropped_connection(served_demo):
    served_demo.mode = "drop"
    with pytest.raises(RemoteError, match="closed the connection"):
        nwbview.open(served_demo.file_url("demo_session.nwb"))


def test_timeout_is_configurable(served_demo):
    served_demo.mode = "slow"
    served_demo.delay = 2.0
    with pytest.raises(RemoteError, match="no answer within 0.5 s.*NWBVIEW_HTTP_TIMEOUT"):
        nwbview.open(served_demo.file_url("demo_session.nwb"), timeout=0.5)


def test_refused():
    with pytest.raises(RemoteError, match="connection refused"):
        nwbview.open("http://127.0.0.1:9/none.nwb", timeout=2)


def test_cli_remote_error_is_one_line(served_demo):
    served_demo.mode = "norange"
    r = CliRunner().invoke(main, ["info", served_demo.file_url("demo_session.nwb")])
    assert r.exit_code == 1 and r.output.startswith("error:") and "byte-range" in r.output


@pytest.mark.slow
def test_unreachable_video_leaves_the_rest_working(served_demo):
    (served_demo.root / "demo_video.mp4").unlink()
    with nwbview.open(served_demo.file_url("demo_session.nwb")) as s:
        assert any("video unreadable" in p or "404" in p for p in s.inventory().problems)
        assert s.position().sizes["time"] > 0
        with pytest.raises(NWBViewError):
            s.video()


@pytest.mark.slow
def test_write_on_a_remote_session_makes_a_local_derived_file(served_demo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["kinematics", served_demo.file_url("demo_session.nwb"), "--write"])
    assert r.exit_code == 0, r.output
    assert "derived local file" in r.output
    out = tmp_path / "demo_session_nwbview.nwb"
    with nwbview.open(out) as s:
        assert "speed_nwbview" in s.nwbfile.processing["behavior"].data_interfaces
        [vid] = s.inventory().of_kind("video")
        assert vid.details["files"][0].startswith("http://127.0.0.1")  # the video stays on the server
        assert s.video().size == (640, 480)


# -- DANDI ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_dandi_source_through_the_api(served_demo, monkeypatch):
    pytest.importorskip("dandi")
    served_demo.add_dandiset("000123", {
        "sub-mouse/sub-mouse_ses-1_behavior.nwb": "demo_session.nwb",
        "sub-mouse/demo_video.mp4": "demo_video.mp4",
    })
    monkeypatch.setenv("NWBVIEW_DANDI_API", served_demo.url + "/api")
    with nwbview.open("dandi://000123/sub-mouse/sub-mouse_ses-1_behavior.nwb") as s:
        assert s.position().sizes["time"] > 0
        v = s.video()  # the relative external file, resolved through the DANDI API
        assert "/files/demo_video.mp4" in v.files[0] or "/assets/" in v.files[0]
        assert v[3].shape == (480, 640, 3)
    with pytest.raises(MissingFileError):
        nwbview.open("dandi://000123/sub-mouse/missing.nwb")


@pytest.mark.network
def test_public_dandi_asset():  # pragma: no cover - needs the internet
    with nwbview.open("dandi://000409/sub-CSHL047/sub-CSHL047_ses-b52182e7-39f6-4914-9717-136db589706e_behavior+ecephys+image.nwb") as s:
        assert len(s.inventory()) > 0
