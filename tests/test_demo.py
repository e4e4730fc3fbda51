"""Ground-truth checks of the built-in demo session (nwbview.demo)."""

from __future__ import annotations

import csv
import hashlib
import json

import av
import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwbview.demo import KEYPOINTS, DemoSession, make_demo_session
from nwbview.errors import NWBViewError, WriteError

DURATION = 4.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> DemoSession:
    return make_demo_session(tmp_path_factory.mktemp("demo"), duration=DURATION, seed=0)


@pytest.fixture(scope="module")
def nwb_data(demo):
    """Everything the tests need from the NWB file, read once, as plain arrays."""
    import ndx_pose  # noqa: F401  (registers the ndx-pose classes)

    out = {}
    with NWBHDF5IO(str(demo.nwb_path), mode="r", load_namespaces=True) as io:
        nwb = io.read()
        out["session_id"] = nwb.session_id
        out["identifier"] = nwb.identifier
        out["species"] = nwb.subject.species
        v = nwb.acquisition["BehaviorVideo"]
        out["video"] = dict(
            external_file=list(v.external_file[:]),
            starting_frame=list(v.starting_frame[:]),
            format=v.format,
            dimension=list(v.dimension[:]),
            rate=v.rate,
            device=v.device.name if v.device is not None else None,
            timestamps=np.asarray(v.timestamps[:]),
        )
        beh = nwb.processing["behavior"]
        pos = beh["Position"]["position"]
        out["position"] = dict(
            unit=pos.unit,
            rate=pos.rate,
            starting_time=pos.starting_time,
            timestamps=pos.timestamps,
            reference_frame=pos.reference_frame,
            data=np.asarray(pos.data[:]),
        )
        hd = beh["CompassDirection"]["head_direction"]
        out["hd"] = dict(unit=hd.unit, rate=hd.rate, starting_time=hd.starting_time, data=np.asarray(hd.data[:]))
        skel = beh["Skeletons"]["mouse"]
        out["skeleton"] = dict(nodes=list(skel.nodes[:]), edges=np.asarray(skel.edges[:]))
        pe = beh["PoseEstimation"]
        out["pose_meta"] = dict(
            source_video=pe.source_video.name,
            skeleton=pe.skeleton.name,
            scorer=pe.scorer,
            source_software=pe.source_software,
        )
        out["pose"] = {}
        for name in KEYPOINTS:
            s = pe.pose_estimation_series[name]
            out["pose"][name] = dict(
                unit=s.unit,
                reference_frame=s.reference_frame,
                data=np.asarray(s.data[:]),
                confidence=np.asarray(s.confidence[:]),
                timestamps=np.asarray(s.timestamps[:]),
            )
        lfp = nwb.processing["ecephys"]["LFP"]["lfp"]
        out["lfp"] = dict(
            data=np.asarray(lfp.data[:]),
            conversion=lfp.conversion,
            unit=lfp.unit,
            rate=lfp.rate,
            starting_time=lfp.starting_time,
            locations=list(lfp.electrodes.table["location"][:]),
        )
        out["bouts"] = nwb.intervals["running_bouts"].to_dataframe()[["start_time", "stop_time"]].to_numpy()
    return out


def _luma(rgb: np.ndarray) -> float:
    r, g, b = (float(v) for v in rgb)
    return 0.299 * r + 0.587 * g + 0.114 * b


def _decode(path, wanted: set[int]) -> tuple[int, list[int], tuple[int, int], dict[int, np.ndarray]]:
    """Frame count, pts, (width, height) and the RGB images of the wanted frames."""
    frames, pts, size = {}, [], None
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            pts.append(f.pts)
            size = (f.width, f.height)
            if i in wanted:
                frames[i] = f.to_ndarray(format="rgb24")
    return len(pts), pts, size, frames


@pytest.mark.slow
def test_files_written(demo):
    names = {p.name for p in (demo.nwb_path, demo.video_path, demo.landmarks_csv, demo.truth_json)}
    assert names == {"demo_session.nwb", "demo_video.mp4", "demo_landmarks.csv", "demo_truth.json"}
    for p in (demo.nwb_path, demo.video_path, demo.landmarks_csv, demo.truth_json):
        assert p.is_file() and p.stat().st_size > 0
    assert len({p.parent for p in (demo.nwb_path, demo.video_path)}) == 1
    assert json.loads(demo.truth_json.read_text()) == demo.truth
    assert not list(demo.nwb_path.parent.glob(".*tmp*")), "temporary files left behind"


@pytest.mark.slow
def test_truth(demo):
    t = demo.truth
    assert t["px_per_cm"] == 5.6
    assert t["keypoints"] == list(KEYPOINTS)
    assert t["video_start_time"] == 0.25
    M = np.array(t["pixel_to_world"])
    assert M.shape == (3, 3)
    assert np.allclose(M @ np.array(t["world_to_pixel"]), np.eye(3))
    assert t["arena_corners_px"]["bottom_left"] == [40.0, 464.0]
    assert t["arena_corners_px"]["top_right"] == [600.0, 16.0]
    assert t["arena_corners_cm"]["top_right"] == [100.0, 80.0]


def test_nwb_contents(nwb_data):
    d = nwb_data
    assert d["session_id"] == "demo" and d["species"] == "Mus musculus"
    v = d["video"]
    assert v["external_file"] == ["demo_video.mp4"] and v["starting_frame"] == [0]
    assert v["format"] == "external" and v["dimension"] == [640, 480]
    assert v["rate"] is None and v["device"] == "camera"
    n_frames = len(v["timestamps"])

    p = d["position"]
    n_track = int(DURATION * 50)
    assert p["unit"] == "centimeters" and p["rate"] == 50.0 and p["starting_time"] == 0.0 and p["timestamps"] is None
    assert p["data"].shape == (n_track, 2)
    lost = np.isnan(p["data"][:, 0])
    assert 10 <= lost.sum() <= 20 and np.ptp(np.flatnonzero(lost)) == lost.sum() - 1  # one ~0.3 s stretch
    ok = p["data"][~lost]
    assert (ok[:, 0] > 0).all() and (ok[:, 0] < 100).all() and (ok[:, 1] > 0).all() and (ok[:, 1] < 80).all()

    h = d["hd"]
    assert h["unit"] == "radians" and h["rate"] == 50.0 and h["starting_time"] == 0.0
    assert h["data"].shape == (n_track,)
    assert np.nanmax(np.abs(h["data"])) <= np.pi

    assert d["skeleton"]["nodes"] == list(KEYPOINTS)
    assert d["skeleton"]["edges"].shape[1] == 2 and d["skeleton"]["edges"].max() < len(KEYPOINTS)
    assert d["pose_meta"]["source_video"] == "BehaviorVideo" and d["pose_meta"]["skeleton"] == "mouse"
    assert d["pose_meta"]["scorer"] and d["pose_meta"]["source_software"]
    for name in KEYPOINTS:
        s = d["pose"][name]
        assert s["unit"] == "pixels" and "top-left" in s["reference_frame"]
        assert s["data"].shape == (n_frames, 2)
        np.testing.assert_array_equal(s["timestamps"], v["timestamps"])
        c = s["confidence"]
        assert c.shape == (n_frames,) and c.min() >= 0 and c.max() <= 1
        assert np.median(c) > 0.9 and 1 <= (c < 0.5).sum() <= 10

    lfp = d["lfp"]
    assert lfp["data"].dtype == np.int16 and lfp["data"].shape == (int(DURATION * 1250), 4)
    assert lfp["unit"] == "volts" and lfp["rate"] == 1250.0 and lfp["starting_time"] == 0.0
    assert lfp["locations"] == ["CA1"] * 4
    uv = lfp["data"] * lfp["conversion"] * 1e6
    assert 50 < np.percentile(np.abs(uv), 99) < 1500

    bouts = d["bouts"]
    assert len(bouts) >= 1 and (bouts[:, 1] - bouts[:, 0] >= 0.5 - 1e-9).all()


def test_timestamps_one_dropped_frame(demo, nwb_data):
    ts = nwb_data["video"]["timestamps"]
    period = 1 / 30
    dt = np.diff(ts)
    assert (dt > 0).all()
    assert ts[0] == pytest.approx(0.25)
    gaps = np.flatnonzero(dt > 1.5 * period)
    assert len(gaps) == 1 and dt[gaps[0]] == pytest.approx(2 * period, abs=0.01)
    assert gaps[0] + 1 == demo.truth["dropped_frame"]["index"]
    normal = np.delete(dt, gaps)
    assert np.abs(normal - period).max() < 0.01 and normal.std() > 1e-4  # jittered, not ideal


def test_video_matches_timestamps_and_keypoints_sit_on_animal(demo, nwb_data):
    ts = nwb_data["video"]["timestamps"]
    pose = nwb_data["pose"]
    n = len(ts)
    conf = np.min([pose[k]["confidence"] for k in KEYPOINTS], axis=0)
    picks = [i for i in (3, n // 3, n // 2 + 2, 2 * n // 3, n - 4) if conf[i] > 0.8]
    assert len(picks) >= 3
    marks = np.array([r["pixel"] for r in demo.truth["landmarks"] if r["label"].endswith("cross")])
    body = {i: (pose["snout"]["data"][i] + pose["tail_base"]["data"][i]) / 2 for i in range(n)}

    n_decoded, pts, size, frames = _decode(demo.video_path, set(picks) | {0, n - 1})
    assert n_decoded == n
    assert size == (640, 480)
    assert len(set(np.diff(pts))) == 1  # the file itself has evenly spaced pts

    for i in picks:
        img = frames[i]
        for name in ("snout", "tail_base"):
            x, y = pose[name]["data"][i]
            assert _luma(img[int(y), int(x)]) < 90, (i, name, img[int(y), int(x)])
        # a floor pixel 40 px from the snout, sideways or ahead, away from the painted marks
        snout, tail = pose["snout"]["data"][i], pose["tail_base"]["data"][i]
        fwd = (snout - tail) / np.linalg.norm(snout - tail)
        side = np.array([-fwd[1], fwd[0]])
        for direction in (side, -side, fwd, (fwd + side) / np.sqrt(2), (fwd - side) / np.sqrt(2)):
            fx, fy = snout + 40 * direction
            if 45 < fx < 595 and 21 < fy < 459 and np.hypot(*(marks - (fx, fy)).T).min() > 25:
                break
        else:
            pytest.fail(f"no floor point found near frame {i}")
        floor = img[int(fy), int(fx)]
        assert _luma(floor) > 110, (i, floor)
        # ... and it is the static floor texture: the same in a frame where the animal is far away
        other = 0 if np.linalg.norm(body[0] - (fx, fy)) > 100 else n - 1
        assert np.linalg.norm(body[other] - (fx, fy)) > 100
        assert np.abs(frames[other][int(fy), int(fx)].astype(int) - floor.astype(int)).max() <= 12


def test_landmarks_csv_matches_truth_matrix(demo):
    with open(demo.landmarks_csv, newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["label", "pixel_x", "pixel_y", "world_x", "world_y"]
        rows = list(reader)
    assert len(rows) == 6
    labels = [r["label"] for r in rows]
    assert {"bottom_left", "bottom_right", "top_left", "top_right"} <= set(labels)
    px = np.array([[float(r["pixel_x"]), float(r["pixel_y"]), 1.0] for r in rows])
    world = np.array([[float(r["world_x"]), float(r["world_y"])] for r in rows])
    mapped = px @ np.array(demo.truth["pixel_to_world"]).T
    np.testing.assert_allclose(mapped[:, :2] / mapped[:, 2:], world, atol=1e-6)
    corners = {r["label"]: (float(r["pixel_x"]), float(r["pixel_y"])) for r in rows}
    assert corners["bottom_left"] == (40.0, 464.0) and corners["top_right"] == (600.0, 16.0)


def test_lfp_theta_follows_running(nwb_data):
    lfp = nwb_data["lfp"]
    uv = lfp["data"][:, 0] * lfp["conversion"] * 1e6
    t = np.arange(len(uv)) / lfp["rate"]
    running = np.zeros(len(t), bool)
    for t0, t1 in nwb_data["bouts"]:
        running |= (t >= t0) & (t < t1)
    assert running.any() and (~running).any()
    assert uv[running].std() > 1.5 * uv[~running].std()


@pytest.mark.slow
def test_deterministic(tmp_path):
    a = make_demo_session(tmp_path / "a", duration=2.0, seed=7)
    b = make_demo_session(tmp_path / "b", duration=2.0, seed=7)
    c = make_demo_session(tmp_path / "c", duration=2.0, seed=8)
    import ndx_pose  # noqa: F401

    def snout(s):
        with NWBHDF5IO(str(s.nwb_path), mode="r", load_namespaces=True) as io:
            nwb = io.read()
            pe = nwb.processing["behavior"]["PoseEstimation"]
            return nwb.identifier, np.asarray(pe.pose_estimation_series["snout"].data[:])

    (ida, pa), (idb, pb), (idc, pc) = snout(a), snout(b), snout(c)
    assert ida == idb != idc
    np.testing.assert_array_equal(pa, pb)
    assert pa.shape != pc.shape or not np.array_equal(pa, pc)
    assert a.truth == b.truth
    md5 = [hashlib.md5(s.video_path.read_bytes()).hexdigest() for s in (a, b)]
    assert md5[0] == md5[1]


def test_overwrite_false_refuses(tmp_path):
    make_demo_session(tmp_path, duration=1.0)
    with pytest.raises(WriteError, match="overwrite=True"):
        make_demo_session(tmp_path, duration=1.0, overwrite=False)


@pytest.mark.parametrize(
    "kwargs", [dict(duration=0), dict(duration=0.3), dict(fps=0), dict(n_channels=0), dict(lfp_rate=float("nan"))]
)
def test_bad_arguments(tmp_path, kwargs):
    with pytest.raises(NWBViewError):
        make_demo_session(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())
