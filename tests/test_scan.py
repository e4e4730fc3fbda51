"""Scanning many sessions: ``nwbview.scan`` and ``nwbview info SOURCES`` (issue 20)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import nwbview
from nwbview.cli import main
from nwbview.errors import NWBViewError
from nwbview.scanning import COLUMNS, looks_like_one_session, scan
from tests.fixtures.converters import make_dlc_session
from tests.fixtures.sessions import add_lfp, add_position, add_video, write


# -- a folder of varied sessions ---------------------------------------------------------------


@pytest.fixture(scope="module")
def sessions(tmp_path_factory, demo_session):
    """good/ (the demo: video, pose, position, LFP), pose_only/ (DeepLabCut, its video beside it),
    pose_novideo/ (its video nowhere), lfp_only.nwb, missing_video.nwb, broken.nwb (truncated)."""
    from pynwb.testing.mock.file import mock_NWBFile

    root = tmp_path_factory.mktemp("scan") / "sessions"
    src = Path(demo_session.nwb_path).parent
    (root / "good").mkdir(parents=True)
    for name in ("demo_session.nwb", "demo_video.mp4"):
        shutil.copy(src / name, root / "good" / name)
    make_dlc_session(root / "pose_only")
    make_dlc_session(root / "pose_novideo", with_video=False)
    nwb = mock_NWBFile(session_id="lfp1")
    add_lfp(nwb, n=20000, n_ch=8, rate=1000.0)
    write(nwb, root / "lfp_only.nwb")
    nwb = mock_NWBFile(session_id="mv1")
    add_position(nwb, n=200)
    add_video(nwb, ["gone.mp4"], timestamps=np.arange(300) / 30.0)
    write(nwb, root / "missing_video.nwb")
    (root / "broken.nwb").write_bytes((src / "demo_session.nwb").read_bytes()[:4096])
    return root


def _by_name(table) -> dict:
    return {Path(r["source"]).parent.name if Path(r["source"]).parent.name != "sessions" else Path(r["source"]).name: r
            for r in table.to_dict(orient="records")}


def test_a_folder_of_varied_sessions(sessions, tmp_path):
    t = scan(sessions, cache_dir=tmp_path / "cache", progress=False)
    assert tuple(t.columns) == COLUMNS
    assert len(t) == 6 and list(t.row) == [1, 2, 3, 4, 5, 6]
    assert list(t.source) == sorted(t.source)
    r = _by_name(t)

    good = r["good"]
    assert good["error"] == "" and good["problems"] == ""
    assert good["subject"] == "demo-mouse-01" and good["session_id"] == "demo"
    assert good["duration_s"] == pytest.approx(4.0, abs=0.05)
    assert (good["video"], good["video_files"], good["video_status"], good["video_size"]) == (1, 1, "found", "640x480")
    assert good["video_frames"] > 100 and good["video_bytes"] == (sessions / "good" / "demo_video.mp4").stat().st_size
    assert (good["pose"], good["pose_keypoints"], good["pose_individuals"]) == (1, 4, 1)
    assert (good["position"], good["head_direction"], good["lfp"], good["lfp_channels"], good["lfp_rate"]) == (1, 1, 1, 4, 1250.0)
    assert good["size_bytes"] == (sessions / "good" / "demo_session.nwb").stat().st_size

    pose = r["pose_only"]
    assert pose["error"] == "" and pose["pose_software"] == "DeepLabCut" and pose["pose_keypoints"] == 4
    assert pose["video"] == 1 and pose["video_status"] == "found" and pose["lfp"] == 0 and pose["position"] == 0

    novideo = r["pose_novideo"]
    assert novideo["video"] == 0 and novideo["video_status"] == "missing"
    assert "original_videos" in novideo["problems"]

    lfp = r["lfp_only.nwb"]
    assert (lfp["lfp_channels"], lfp["lfp_rate"], lfp["video"], lfp["pose"]) == (8, 1000.0, 0, 0)
    assert lfp["duration_s"] == pytest.approx(19.999) and lfp["session_id"] == "lfp1"

    mv = r["missing_video.nwb"]
    assert mv["video_status"] == "missing" and "external file not found" in mv["problems"] and "gone.mp4" in mv["problems"]

    broken = r["broken.nwb"]
    assert broken["error"] and "broken.nwb" in broken["error"] and broken["video"] is None or np.isnan(broken["video"])
    assert t.attrs["failed"] == 1 and t.attrs["sessions"] == 6


@pytest.mark.slow
def test_filters_keep_the_row_numbers(sessions, tmp_path):
    kw = dict(cache_dir=tmp_path / "cache", progress=False)
    t = scan(sessions, has="video,pose", **kw)
    assert sorted(_by_name(t)) == ["good", "pose_only"]
    full = scan(sessions, **kw)
    assert set(t.row) == set(full.row[full.source.isin(t.source)])
    assert sorted(_by_name(scan(sessions, has=["lfp"], **kw))) == ["good", "lfp_only.nwb"]
    assert sorted(_by_name(scan(sessions, min_duration_s=10, **kw))) == ["lfp_only.nwb", "missing_video.nwb"] or \
        all(d >= 10 for d in scan(sessions, min_duration_s=10, **kw).duration_s)
    assert len(scan(sessions, has="pose", min_duration_s=1000, **kw)) == 0
    with pytest.raises(NWBViewError, match="Unknown stream 'vidoe'.*video, pose"):
        scan(sessions, has="vidoe", **kw)


@pytest.mark.slow
def test_second_scan_comes_from_the_cache_until_a_file_changes(sessions, tmp_path, monkeypatch):
    folder = tmp_path / "sessions"
    shutil.copytree(sessions, folder)
    monkeypatch.setenv("NWBVIEW_SCAN_CACHE", str(tmp_path / "cache"))  # the default cache folder
    first = scan(folder, progress=False)
    assert first.attrs["from_cache"] == 0
    opened = []
    real_open = nwbview.open
    monkeypatch.setattr(nwbview, "open", lambda src, **kw: opened.append(src) or real_open(src, **kw))
    again = scan(folder, progress=False)
    assert again.attrs["from_cache"] == 5 and opened == [str(folder / "broken.nwb")]  # errors are not cached
    assert again.drop(columns="error").equals(first.drop(columns="error"))
    assert len(list((tmp_path / "cache").glob("*.json"))) == 5

    # the pose-only file's video appears beside it: its row is read again, now with the video
    shutil.copy(folder / "pose_only" / "m1s1.mp4", folder / "pose_novideo" / "m1s1.mp4")
    # and a session is rewritten (another size / mtime)
    nwb = __import__("pynwb").testing.mock.file.mock_NWBFile(session_id="lfp2")
    add_lfp(nwb, n=30000, n_ch=2, rate=1000.0)
    write(nwb, folder / "lfp_only.nwb")
    opened.clear()
    third = scan(folder, progress=False)
    assert sorted(Path(p).parent.name if "pose" in p else Path(p).name for p in opened) == ["broken.nwb", "lfp_only.nwb", "pose_novideo"]
    r = _by_name(third)
    assert r["pose_novideo"]["video_status"] == "found" and r["pose_novideo"]["problems"] == ""
    assert (r["lfp_only.nwb"]["session_id"], r["lfp_only.nwb"]["lfp_channels"]) == ("lfp2", 2)
    opened.clear()
    assert scan(folder, progress=False, cache=False).attrs["from_cache"] == 0 and len(opened) == 6


def test_sources_like_batch(sessions, tmp_path):
    kw = dict(cache_dir=tmp_path / "cache", progress=False)
    listing = tmp_path / "list.txt"
    listing.write_text(f"# chosen\n{sessions / 'good' / 'demo_session.nwb'}\n{sessions}/*.nwb\n")
    t = scan(listing, **kw)
    assert [Path(s).name for s in t.source] == ["demo_session.nwb", "broken.nwb", "lfp_only.nwb", "missing_video.nwb"]
    assert len(scan(str(sessions / "*" / "*.nwb"), **kw)) == 3
    with pytest.raises(NWBViewError, match="No .nwb files in the folder"):
        scan(tmp_path / "cache", **kw)
    assert callable(nwbview.scan) and nwbview.scan(str(sessions / "lfp_only.nwb"), **kw).lfp_channels[0] == 8


def test_one_session_or_a_pattern():
    assert looks_like_one_session("a.nwb") and looks_like_one_session("https://x.org/a.nwb")
    assert looks_like_one_session("dandi://000123/sub-a/a.nwb")
    assert not looks_like_one_session("dandi://000123") and not looks_like_one_session("dandi://000123/sub-*/*.nwb")
    assert not looks_like_one_session("s/*.nwb") and not looks_like_one_session(".")


# -- the command --------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_table_json_csv_paths_row(sessions, tmp_path, monkeypatch):
    monkeypatch.setenv("NWBVIEW_SCAN_CACHE", str(tmp_path / "cache"))
    run = CliRunner().invoke
    r = run(main, ["info", str(sessions)])
    assert r.exit_code == 0, r.output
    assert f"sessions in {sessions}/" in r.output and "6 sessions" in r.output and "1 could not be read" in r.output
    lines = r.output.splitlines()
    assert any(ln.startswith("2  good/demo_session.nwb") and "640x480" in ln and "4 ch 1250 Hz" in ln for ln in lines), r.output
    assert any("broken.nwb" in ln and "ERROR:" in ln for ln in lines)

    r = run(main, ["info", str(sessions), "--json", "--has", "pose"])
    rows = json.loads(r.output)
    assert [x["row"] for x in rows] == [2, 5, 6] and rows[1]["pose_software"] == "DeepLabCut"
    assert isinstance(rows[1]["problems"], list) and rows[1]["video"] == 0 and "original_videos" in rows[1]["problems"][0]
    assert any(ln.startswith("5  pose_novideo/m1s1") and "MISSING" in ln for ln in lines), r.output

    r = run(main, ["info", str(sessions / "*.nwb"), "--csv"])
    import io

    import pandas as pd

    csv = pd.read_csv(io.StringIO(r.output))
    assert list(csv.columns) == list(COLUMNS) and len(csv) == 3

    r = run(main, ["info", str(sessions), "--has", "video", "--paths"])  # a missing video does not count
    assert r.output.split() == [str(sessions / "good" / "demo_session.nwb"),
                                str(sessions / "pose_only" / "m1s1DLC_resnet50_openfieldOct30shuffle1_1000.nwb")]
    r = run(main, ["info", str(sessions), "--row", "2", "--paths"])
    assert r.output.strip() == str(sessions / "good" / "demo_session.nwb")
    r = run(main, ["info", str(sessions), "--row", "2"])
    assert r.output.startswith(f"NWB file: {sessions / 'good' / 'demo_session.nwb'}") and "video (1)" in r.output
    r = run(main, ["info", str(sessions), "--row", "9"])
    assert r.exit_code == 1 and "--row 9 is not a session" in r.output

    # one file: today's detailed view (and --table for its row)
    one = str(sessions / "lfp_only.nwb")
    r = run(main, ["info", one])
    assert r.exit_code == 0 and r.output.startswith(f"NWB file: {one}") and "lfp (1)" in r.output
    r = run(main, ["info", one, "--table"])
    assert "1 sessions" in r.output and "8 ch 1000 Hz" in r.output
    r = run(main, ["info", str(sessions), "--video", one])
    assert r.exit_code == 1 and "--video names the video of one" in r.output
    r = run(main, ["info", str(sessions), "--has", "nope"])
    assert r.exit_code == 1 and r.output.startswith("error: Unknown stream 'nope'")


# -- remote: a dandiset on the local stand-in of the DANDI API ---------------------------------


@pytest.fixture(scope="module")
def big_files(tmp_path_factory, demo_session):
    """Two ~33 MB sessions (64-channel LFP): one with video, pose and position, one LFP only."""
    from hdmf.backends.hdf5.h5_utils import H5DataIO
    from pynwb.ecephys import LFP, ElectricalSeries
    from pynwb.testing.mock.file import mock_NWBFile

    from tests.fixtures.sessions import add_pose

    folder = tmp_path_factory.mktemp("big")
    out = {}
    for name, full in (("full.nwb", True), ("lfp.nwb", False)):
        nwb = mock_NWBFile(session_id=name[:-4])
        if full:
            add_position(nwb, n=2000)
            vid = add_video(nwb, ["demo_video.mp4"], timestamps=0.25 + np.arange(112) / 28.0)
            add_pose(nwb, n=100, source_video=vid)
        dev = nwb.create_device("probe")
        grp = nwb.create_electrode_group("shank", description="s", location="CA1", device=dev)
        for _ in range(64):
            nwb.add_electrode(group=grp, location="CA1")
        region = nwb.create_electrode_table_region(list(range(64)), "all")
        data = np.zeros((260_000, 64), dtype=np.int16)
        es = ElectricalSeries(name="lfp", data=H5DataIO(data, chunks=(8192, 64)), electrodes=region, rate=1000.0,
                              starting_time=0.0, conversion=1e-6)
        nwb.create_processing_module("ecephys", "e").add(LFP(electrical_series=es))
        out[name] = write(nwb, folder / name)
    shutil.copy(Path(demo_session.nwb_path).parent / "demo_video.mp4", folder / "demo_video.mp4")
    return folder


@pytest.fixture
def dandiset(http_server, big_files, monkeypatch):
    pytest.importorskip("dandi")
    pytest.importorskip("remfile")
    for p in big_files.iterdir():
        os.link(p, http_server.root / p.name)
    (http_server.root / "junk.nwb").write_bytes(b"\0" * 200_000)
    http_server.add_dandiset("000123", {
        "sub-a/sub-a_ses-1.nwb": "full.nwb",
        "sub-a/demo_video.mp4": "demo_video.mp4",
        "sub-b/sub-b_ses-1.nwb": "lfp.nwb",
        "sub-c/sub-c_ses-1.nwb": "junk.nwb",
    })
    monkeypatch.setenv("NWBVIEW_DANDI_API", http_server.url + "/api")
    return http_server


@pytest.mark.slow
def test_a_dandiset_reads_metadata_only_in_parallel_and_caches_per_asset(dandiset, tmp_path):
    srv = dandiset
    sizes = {n: (srv.root / n).stat().st_size for n in ("full.nwb", "lfp.nwb")}
    assert min(sizes.values()) > 30e6
    srv.reset_counts()
    t = scan("dandi://000123", cache_dir=tmp_path / "cache", workers=3, progress=False)
    assert list(t.source) == [f"dandi://000123@draft/sub-{x}/sub-{x}_ses-1.nwb" for x in "abc"]
    a, b, c = t.to_dict(orient="records")
    assert a["error"] == "" and a["session_id"] == "full" and a["size_bytes"] == sizes["full.nwb"]
    assert (a["video"], a["video_status"], a["pose"], a["position"], a["lfp_channels"], a["lfp_rate"]) == (1, "found", 1, 1, 64, 1000.0)
    assert a["duration_s"] == pytest.approx(259.999)
    assert b["error"] == "" and (b["video"], b["lfp_channels"]) == (0, 64)
    assert "not an NWB" in c["error"] or "HDF5" in c["error"], c["error"]  # this asset fails, the scan goes on
    for name, size in sizes.items():
        assert srv.bytes_sent[name] < 0.05 * size, (name, srv.bytes_sent[name] / size)
    assert srv.bytes_sent["demo_video.mp4"] < 1000  # the video answered; it was not read

    srv.reset_counts()
    again = scan("dandi://000123", cache_dir=tmp_path / "cache", progress=False)
    assert again.attrs["from_cache"] == 2
    assert srv.bytes_sent["full.nwb"] == srv.bytes_sent["lfp.nwb"] == 0  # only the listing was asked for
    assert again.drop(columns="error").equals(t.drop(columns="error"))

    # a new version of an asset (new asset id and modification date) is read again
    srv.dandisets["000123"]["sub-b/sub-b_ses-1.nwb"].update(asset_id="00000000-0000-0000-0000-000000000001",
                                                             modified="2025-02-02T00:00:00.000000Z")
    srv.reset_counts()
    third = scan("dandi://000123/sub-*/*.nwb", has="lfp", cache_dir=tmp_path / "cache", progress=False)
    assert third.attrs["from_cache"] == 1 and srv.bytes_sent["lfp.nwb"] > 0 and srv.bytes_sent["full.nwb"] == 0
    assert list(third.row) == [1, 2]


@pytest.mark.slow
def test_http_urls_and_the_cli_on_a_dandiset(dandiset, tmp_path, monkeypatch):
    srv = dandiset
    monkeypatch.setenv("NWBVIEW_SCAN_CACHE", str(tmp_path / "cache"))
    urls = [srv.file_url("lfp.nwb"), srv.file_url("nope.nwb")]
    t = scan(urls, progress=False)
    assert t.lfp_channels[0] == 64 and t.size_bytes[0] == (srv.root / "lfp.nwb").stat().st_size and "HTTP 404" in t.error[1]
    assert scan(urls, progress=False).attrs["from_cache"] == 0  # this server sends no ETag / Last-Modified
    r = CliRunner().invoke(main, ["info", "dandi://000123", "--has", "video,pose"])
    assert r.exit_code == 0, r.output
    assert "sessions in dandi://000123@draft/sub-a/" in r.output and "1 of 3 sessions" in r.output
    r = CliRunner().invoke(main, ["info", "dandi://000123", "--row", "2", "--paths"])
    assert r.output.strip() == "dandi://000123@draft/sub-b/sub-b_ses-1.nwb"
