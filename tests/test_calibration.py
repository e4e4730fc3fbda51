"""Tests of nwbview.calibration: transforms, fits, composition with crop/downsample, NWB, checks, CSV."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from nwbview.calibration import (
    Calibration,
    Landmarks,
    check_calibration,
    fit_landmarks,
    from_cm_per_px,
    from_scale_bar,
    read_landmarks_csv,
)
from nwbview.errors import CalibrationError, MissingFileError, NWBViewError, NWBViewWarning
from nwbview.units import same_unit

# The story: a camera views a 100 x 80 cm arena from above at 5.6 px/cm, in a 640 x 480 video; the
# arena's corners are at pixels SW (40, 464), SE (600, 464), NE (600, 16), NW (40, 16).
FRAME = (640, 480)
S = 1 / 5.6
ARENA_PX = np.array([[40.0, 464.0], [600.0, 464.0], [600.0, 16.0], [40.0, 16.0]])
ARENA_WORLD = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 80.0], [0.0, 80.0]])
ARENA_LABELS = ["SW", "SE", "NE", "NW"]


def _similarity(scale: float, theta_deg: float, tx: float, ty: float, reflect: bool) -> np.ndarray:
    p, q = scale * np.cos(np.radians(theta_deg)), scale * np.sin(np.radians(theta_deg))
    lin = [[p, q], [q, -p]] if reflect else [[p, -q], [q, p]]
    return np.array([[*lin[0], tx], [*lin[1], ty], [0.0, 0.0, 1.0]])


TRUTH = {
    "scale": np.array([[S, 0.0, -40 * S], [0.0, -S, 464 * S], [0.0, 0.0, 1.0]]),
    "similarity-reflecting": _similarity(S, 8.0, -9.0, 85.0, reflect=True),
    "similarity-proper": _similarity(S, -20.0, 3.0, -5.0, reflect=False),
    "affine": np.array([[0.18, 0.02, -7.0], [0.01, -0.17, 83.0], [0.0, 0.0, 1.0]]),
    "projective": np.array([[0.18, 0.01, -7.0], [0.005, -0.17, 83.0], [3e-5, 3e-4, 1.0]]),
}
TYPE_OF = {
    "scale": "scale",
    "similarity-reflecting": "similarity",
    "similarity-proper": "similarity",
    "affine": "affine",
    "projective": "projective",
}


def _apply(matrix, pts):
    h = np.asarray(pts) @ matrix[:, :2].T + matrix[:, 2]
    return h[:, :2] / h[:, 2:3]


def _random_pixels(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform([20, 20], [620, 460], size=(n, 2))


def _extent(cal: Calibration) -> float:
    return max(cal.world_extent())


# ---------------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", [pytest.param(k, id=k) for k in TRUTH])
def test_pixel_world_pixel_round_trip(name):
    cal = Calibration(TRUTH[name], TYPE_OF[name], FRAME)
    tol = max(1e-4, 1e-6 * _extent(cal))
    pix = np.random.default_rng(1).uniform([0, 0], FRAME, size=(4, 50, 2))  # any (..., 2)
    world = cal.pixels_to_world(pix)
    assert world.shape == pix.shape
    np.testing.assert_allclose(cal.world_to_pixels(world), pix, atol=tol, rtol=0)
    np.testing.assert_allclose(cal.pixels_to_world(cal.world_to_pixels(world)), world, atol=tol, rtol=0)
    np.testing.assert_allclose(cal.pixels_to_world(pix[0, 0]), world[0, 0])  # a single (2,) point


@pytest.mark.parametrize("name", [pytest.param(k, id=k) for k in TRUTH])
def test_nan_in_nan_out(name):
    cal = Calibration(TRUTH[name], TYPE_OF[name], FRAME)
    out = cal.pixels_to_world([[np.nan, 10.0], [10.0, 10.0], [np.nan, np.nan]])
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all() and np.isnan(out[2]).all()
    assert np.isnan(cal.world_to_pixels([np.nan, 1.0])).all()


def test_inverse_is_inverse():
    for name, matrix in TRUTH.items():
        cal = Calibration(matrix, TYPE_OF[name], FRAME)
        prod = cal.inverse @ cal.matrix
        np.testing.assert_allclose(prod / prod[2, 2], np.eye(3), atol=1e-12)


def test_projective_beyond_horizon_is_nan():
    cal = Calibration(TRUTH["projective"], "projective", FRAME)
    # w = 3e-5 x + 3e-4 y + 1 <= 0 for y <= -3400 (x = 0): no image there
    assert np.isnan(cal.pixels_to_world([0.0, -5000.0])).all()


def test_calibration_is_immutable():
    cal = from_cm_per_px(S, FRAME)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cal.unit = "m"
    with pytest.raises(ValueError):
        cal.matrix[0, 0] = 1.0


# ---------------------------------------------------------------------------------- simple fits


def test_from_cm_per_px_origin_bottom_left_y_up():
    cal = from_cm_per_px(S, FRAME)
    assert cal.transform_type == "scale" and cal.method == "cm_per_px" and cal.unit == "cm"
    np.testing.assert_allclose(cal.pixels_to_world([[0, 480], [640, 480], [640, 0]]),
                               [[0, 0], [640 * S, 0], [640 * S, 480 * S]], atol=1e-12)
    np.testing.assert_allclose(cal.pixels_to_world([10.0, 30.0]), [10 * S, (480 - 30) * S])
    assert cal.cm_per_px == pytest.approx(S) and cal.flips_y


def test_from_scale_bar():
    cal = from_scale_bar((40, 464), (600, 464), 100.0, FRAME, unit="cm")
    assert cal.method == "scale_bar" and cal.transform_type == "scale"
    assert 1 / cal.cm_per_px == pytest.approx(5.6)
    diagonal = from_scale_bar((0, 0), (300, 400), 50.0, FRAME, unit="mm")
    assert diagonal.cm_per_px == pytest.approx(0.1) and diagonal.unit == "mm"
    np.testing.assert_allclose(diagonal.pixels_to_world([0, 480]), [0, 0])


# ------------------------------------------------------------------------------- landmark fits

EXACT_FITS = [
    pytest.param("similarity-reflecting", "similarity", 2, id="similarity-reflecting-2pts"),
    pytest.param("similarity-reflecting", "similarity", 10, id="similarity-reflecting-10pts"),
    pytest.param("similarity-proper", "similarity", 3, id="similarity-proper-3pts"),
    pytest.param("scale", "similarity", 2, id="scale-as-similarity-2pts"),
    pytest.param("affine", "affine", 3, id="affine-3pts"),
    pytest.param("affine", "affine", 12, id="affine-12pts"),
    pytest.param("projective", "projective", 4, id="projective-4pts"),
    pytest.param("projective", "projective", 15, id="projective-15pts"),
    pytest.param("affine", "projective", 8, id="affine-as-projective-8pts"),
]


@pytest.mark.parametrize("truth, transform_type, n", EXACT_FITS)
def test_fit_recovers_noiseless_transform(truth, transform_type, n):
    pix = _random_pixels(n, seed=n)
    world = _apply(TRUTH[truth], pix)
    cal = fit_landmarks(pix, world, transform_type, frame_dimension=FRAME)
    assert cal.transform_type == transform_type and cal.method == "landmarks"
    np.testing.assert_allclose(cal.matrix, TRUTH[truth], rtol=1e-9, atol=1e-9)
    assert cal.residual_rms == pytest.approx(0.0, abs=1e-9)
    assert cal.residuals.shape == (n,)
    assert cal.landmarks.labels == tuple(str(i) for i in range(n))


@pytest.mark.parametrize(
    "truth, transform_type",
    [
        pytest.param("similarity-reflecting", "similarity", id="similarity"),
        pytest.param("affine", "affine", id="affine"),
        pytest.param("projective", "projective", id="projective"),
    ],
)
def test_fit_recovers_transform_from_noisy_landmarks(truth, transform_type):
    rng = np.random.default_rng(42)
    sigma_px = 0.5
    n = 30
    pix_true = _random_pixels(n, seed=7)
    world = _apply(TRUTH[truth], pix_true)
    pix_noisy = pix_true + rng.normal(0, sigma_px, size=pix_true.shape)
    cal = fit_landmarks(pix_noisy, world, transform_type, frame_dimension=FRAME)
    # the fitted map agrees with the truth all over the frame to within the noise
    grid = np.stack(np.meshgrid(np.linspace(0, 640, 9), np.linspace(0, 480, 7)), axis=-1).reshape(-1, 2)
    error_world = np.linalg.norm(cal.pixels_to_world(grid) - _apply(TRUTH[truth], grid), axis=1)
    assert error_world.max() < 3 * sigma_px * S
    # residuals are the noise, in world units (2-D: rms ~ sqrt(2) sigma)
    expected_rms = np.sqrt(2) * sigma_px * S
    assert 0.6 * expected_rms < cal.residual_rms < 1.3 * expected_rms


def test_two_points_prefer_the_reflecting_similarity():
    cal = fit_landmarks(ARENA_PX[:2], ARENA_WORLD[:2], frame_dimension=FRAME)
    assert cal.transform_type == "similarity" and cal.flips_y
    np.testing.assert_allclose(cal.matrix, TRUTH["scale"], atol=1e-12)
    # the y flip came out of the fit: the NW corner lands at the top of the world
    np.testing.assert_allclose(cal.pixels_to_world(ARENA_PX[3]), ARENA_WORLD[3], atol=1e-9)


def test_proper_similarity_wins_when_the_data_say_so():
    # a y-down world (no flip): three landmarks not on one line decide it
    world = ARENA_PX[:3] * S
    cal = fit_landmarks(ARENA_PX[:3], world, "similarity", frame_dimension=FRAME)
    assert not cal.flips_y
    np.testing.assert_allclose(cal.matrix, np.diag([S, S, 1.0]), atol=1e-12)


@pytest.mark.parametrize(
    "n, expected",
    [pytest.param(2, "similarity", id="2-similarity"), pytest.param(3, "affine", id="3-affine"),
     pytest.param(4, "affine", id="4-affine")],
)
def test_auto_picks_richest_type_up_to_affine(n, expected):
    cal = fit_landmarks(ARENA_PX[:n], ARENA_WORLD[:n], labels=ARENA_LABELS[:n], frame_dimension=FRAME)
    assert cal.transform_type == expected
    assert 1 / cal.cm_per_px == pytest.approx(5.6)
    np.testing.assert_allclose(cal.pixels_to_world([320, 240]), [50, 40], atol=1e-9)


def test_auto_with_collinear_landmarks_falls_back_to_similarity():
    pix = np.array([[40.0, 464.0], [320.0, 464.0], [600.0, 464.0]])
    world = np.array([[0.0, 0.0], [50.0, 0.0], [100.0, 0.0]])
    with pytest.warns(NWBViewWarning, match="lie on one line"):
        cal = fit_landmarks(pix, world, frame_dimension=FRAME)
    assert cal.transform_type == "similarity" and cal.flips_y


def test_cm_per_px_of_projective_is_at_frame_centre():
    cal = Calibration(TRUTH["projective"], "projective", FRAME)
    c = np.array([320.0, 240.0])
    eps = 1e-3
    jac = np.column_stack([
        (_apply(cal.matrix, [c + [eps, 0]]) - _apply(cal.matrix, [c - [eps, 0]]))[0] / (2 * eps),
        (_apply(cal.matrix, [c + [0, eps]]) - _apply(cal.matrix, [c - [0, eps]]))[0] / (2 * eps),
    ])
    assert cal.cm_per_px == pytest.approx(np.sqrt(abs(np.linalg.det(jac))), rel=1e-6)


# ------------------------------------------------------------------- crop + downsample (for_reader)


@pytest.mark.parametrize("name", [pytest.param(k, id=k) for k in TRUTH])
@pytest.mark.parametrize(
    "offset, scale, size",
    [
        pytest.param((0, 0), 1, FRAME, id="identity"),
        pytest.param((40, 16), 1, (560, 448), id="crop"),
        pytest.param((0, 0), 2, (320, 240), id="half"),
        pytest.param((40, 16), 2, (280, 224), id="crop-half"),
        pytest.param((10.5, 3.25), 0.5, (200, 100), id="crop-upsample"),
    ],
)
def test_for_reader_composes_crop_and_downsample(name, offset, scale, size):
    cal = Calibration(TRUTH[name], TYPE_OF[name], FRAME)
    reader = cal.for_reader(offset, scale, size)
    assert reader.frame_dimension == tuple(size) and reader.transform_type == cal.transform_type
    world = cal.pixels_to_world(_random_pixels(25, seed=3))
    source_px = cal.world_to_pixels(world)
    reader_px = reader.world_to_pixels(world)
    np.testing.assert_allclose(reader_px * scale + np.asarray(offset), source_px, atol=1e-6)
    np.testing.assert_allclose(reader.pixels_to_world(reader_px), world, atol=max(1e-4, 1e-6 * _extent(cal)))
    assert reader.cm_per_px == pytest.approx(cal.cm_per_px * scale, rel=1e-6) or name == "projective"


def test_for_reader_moves_landmarks_and_keeps_residuals():
    cal = fit_landmarks(ARENA_PX, ARENA_WORLD, labels=ARENA_LABELS, frame_dimension=FRAME)
    reader = cal.for_reader((40, 16), 2, (280, 224))
    np.testing.assert_allclose(reader.landmarks.pixel, (ARENA_PX - [40, 16]) / 2)
    np.testing.assert_allclose(reader.pixels_to_world(reader.landmarks.pixel), ARENA_WORLD, atol=1e-9)
    assert reader.residual_rms == cal.residual_rms


def test_for_reader_unequal_scale_makes_affine():
    cal = from_cm_per_px(S, FRAME)
    reader = cal.for_reader((0, 0), (2, 1), (320, 480))
    assert reader.transform_type == "affine"
    np.testing.assert_allclose(reader.pixels_to_world([160, 240]), cal.pixels_to_world([320, 240]))


# ------------------------------------------------------------------------------------------ NWB


def _write_calibrated_file(path, cal: Calibration):
    from ndx_video_calibration.testing import mock_ImageSeries
    from pynwb import NWBHDF5IO
    from pynwb.testing.mock.device import mock_Device
    from pynwb.testing.mock.file import mock_NWBFile

    nwbfile = mock_NWBFile()
    camera = mock_Device(name="camera", nwbfile=nwbfile)
    video = mock_ImageSeries(name="video", frame_dimension=cal.frame_dimension, device=camera, nwbfile=nwbfile)
    vc = cal.to_nwb(video, device=camera)
    nwbfile.create_processing_module("behavior", "behavior").add(vc)
    with NWBHDF5IO(path, "w") as io:
        io.write(nwbfile)
    return vc


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: from_cm_per_px(S, FRAME), id="cm_per_px"),
        pytest.param(lambda: fit_landmarks(ARENA_PX, ARENA_WORLD, labels=ARENA_LABELS, frame_dimension=FRAME),
                     id="landmarks-affine"),
        pytest.param(lambda: fit_landmarks(_random_pixels(6), _apply(TRUTH["projective"], _random_pixels(6)),
                                           "projective", frame_dimension=FRAME), id="landmarks-projective"),
    ],
)
@pytest.mark.slow
def test_to_nwb_from_nwb_round_trip_through_a_file(tmp_path, make):
    from pynwb import NWBHDF5IO, validate

    cal = make()
    path = tmp_path / "calibrated.nwb"
    vc = _write_calibrated_file(path, cal)
    assert vc.name == "VideoCalibration" and cal.summary().split()[0] in vc.description
    assert validate(path=str(path)) == []
    with NWBHDF5IO(path, "r") as io:
        nwbfile = io.read()
        stored = nwbfile.processing["behavior"]["VideoCalibration"]
        assert stored.image_series is nwbfile.acquisition["video"]
        assert stored.device is nwbfile.devices["camera"]
        back = Calibration.from_nwb(stored)
    np.testing.assert_array_equal(back.matrix, cal.matrix)
    assert back.frame_dimension == cal.frame_dimension
    for attr in ("transform_type", "method", "reference_frame"):
        assert getattr(back, attr) == getattr(cal, attr), attr
    assert same_unit(back.unit, cal.unit) and back.unit == "centimeters"  # "cm" is stored spelled out
    if cal.landmarks is None:
        assert back.landmarks is None and back.residual_rms is None
    else:
        assert back.landmarks.labels == cal.landmarks.labels
        np.testing.assert_array_equal(back.landmarks.pixel, cal.landmarks.pixel)
        np.testing.assert_array_equal(back.landmarks.world, cal.landmarks.world)
        np.testing.assert_allclose(back.residuals, cal.residuals, atol=1e-12)
        assert back.residual_rms == pytest.approx(cal.residual_rms, abs=1e-15)


@pytest.mark.slow
def test_a_reader_without_the_extension_package_gets_the_calibration(tmp_path):
    """pynwb alone (no nwbview, no ndx-video-calibration package) reads the stored calibration.

    nwbview itself depends on the extension package (the transform's rules live there, once), but a
    colleague who only has pynwb can still read the matrix and landmarks from the cached namespace.
    """
    cal = fit_landmarks(ARENA_PX, ARENA_WORLD, labels=ARENA_LABELS, frame_dimension=FRAME)
    path = tmp_path / "calibrated.nwb"
    _write_calibrated_file(path, cal)
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.modules["ndx_video_calibration"] = None
        sys.modules["nwbview"] = None
        from pynwb import NWBHDF5IO
        with NWBHDF5IO({str(path)!r}, "r", load_namespaces=True) as io:
            stored = io.read().processing["behavior"]["VideoCalibration"]
            labels = [str(v) for v in stored.landmarks["label"][:]]
            print(json.dumps({{"module": type(stored).__module__, "matrix": stored.transform[:].tolist(),
                               "labels": labels}}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not got["module"].startswith("ndx_video_calibration")
    np.testing.assert_array_equal(got["matrix"], cal.matrix)
    assert got["labels"] == ARENA_LABELS


def test_to_nwb_refuses_a_different_frame_size():
    from ndx_video_calibration.testing import mock_ImageSeries

    cal = from_cm_per_px(S, FRAME)
    with pytest.raises(CalibrationError, match=r"640x480 frame but ImageSeries 'video' has dimension \[320, 240\]"):
        cal.to_nwb(mock_ImageSeries(frame_dimension=(320, 240)))


def test_from_nwb_warns_on_another_pixel_convention():
    from ndx_video_calibration.testing import mock_VideoCalibration

    vc = mock_VideoCalibration()
    vc.fields["pixel_convention"] = "pixel centres at integer coordinates"
    with pytest.warns(NWBViewWarning, match="pixel convention"):
        cal = Calibration.from_nwb(vc)
    np.testing.assert_array_equal(cal.matrix, vc.transform)


def test_from_nwb_rejects_other_objects():
    with pytest.raises(CalibrationError, match="is not a VideoCalibration"):
        Calibration.from_nwb(object())


# --------------------------------------------------------------------------------------- summary


def test_summary_mentions_type_scale_rotation_residuals():
    cal = fit_landmarks(ARENA_PX, ARENA_WORLD, labels=ARENA_LABELS, frame_dimension=FRAME)
    text = cal.summary()
    assert text.startswith("affine calibration (from landmarks) of a 640 x 480 px frame")
    assert "0.178571 cm/px (5.6 px/cm)" in text
    assert "rotation: image x axis at 0.00 deg" in text and "y flipped" in text
    assert re.search(r"residuals: rms \S+ cm, max \S+ cm \('\w+'\) over 4 landmarks", text)


# ---------------------------------------------------------------------------------- bad inputs

GOOD_PIX = ARENA_PX[:3]
GOOD_WORLD = ARENA_WORLD[:3]

BAD_FITS = [
    pytest.param(dict(pixel=GOOD_PIX[:1], world=GOOD_WORLD[:1]), "1 landmark", id="one-point"),
    pytest.param(dict(pixel=GOOD_PIX[:2], world=GOOD_WORLD[:2], transform_type="affine"),
                 "affine fit needs at least 3 landmarks, got 2", id="too-few-affine"),
    pytest.param(dict(transform_type="projective"), "projective fit needs at least 4 landmarks, got 3",
                 id="too-few-projective"),
    pytest.param(dict(transform_type="homography"), "transform_type is 'homography'", id="bad-type"),
    pytest.param(dict(transform_type="scale"), "from_cm_per_px", id="scale-type-hint"),
    pytest.param(dict(world=GOOD_WORLD[:2]), "3 pixel positions but 2 world positions", id="count-mismatch"),
    pytest.param(dict(pixel=GOOD_PIX[:, :1]), r"shape \(3, 1\), expected \(n, 2\)", id="pixel-shape"),
    pytest.param(dict(world=GOOD_WORLD.ravel()), r"shape \(6,\), expected \(n, 2\)", id="world-shape"),
    pytest.param(dict(pixel=[[1, 2], [3, "x"], [5, 6]]), "must be numbers", id="pixel-text"),
    pytest.param(dict(pixel=np.where([[0, 0], [1, 0], [0, 0]], np.nan, GOOD_PIX), labels=["a", "b", "c"]),
                 r"NaN or infinite values for landmark\(s\) \['b'\]", id="pixel-nan"),
    pytest.param(dict(world=np.where([[0, 0], [0, 0], [0, 1]], np.inf, GOOD_WORLD)), "NaN or infinite",
                 id="world-inf"),
    pytest.param(dict(labels=["a", "b"]), "2 labels for 3 landmarks", id="labels-count"),
    pytest.param(dict(pixel=[[10, 10], [10, 10]], world=[[0, 0], [1, 1]]), "same pixel position",
                 id="similarity-coincident-pixels"),
    pytest.param(dict(pixel=[[10, 10], [20, 10]], world=[[5, 5], [5, 5]]), "same world position",
                 id="similarity-coincident-world"),
    pytest.param(dict(pixel=[[10, 10], [10, 10], [50, 60]], transform_type="affine", labels=["a", "b", "c"]),
                 "landmarks 'a' and 'b' are at the same pixel position", id="affine-coincident"),
    pytest.param(dict(pixel=[[10, 10], [20, 20], [30, 30]], transform_type="affine"),
                 "pixel positions of the landmarks .* lie on one line", id="affine-collinear-pixels"),
    pytest.param(dict(world=[[0, 0], [1, 2], [2, 4]], transform_type="affine"),
                 "world positions of the landmarks .* lie on one line", id="affine-collinear-world"),
    pytest.param(dict(pixel=[[0, 0], [10, 0], [20, 0], [5, 40]], world=ARENA_WORLD, transform_type="projective",
                      labels=ARENA_LABELS), r"landmarks \('SW', 'SE', 'NE'\) lie on one line",
                 id="projective-3-of-4-collinear"),
    pytest.param(dict(pixel=[[0, 0], [10, 0], [20, 0], [30, 0], [5, 40]],
                      world=[[0, 0], [1, 0], [2, 0], [3, 0], [0, 5]], transform_type="projective"),
                 "degenerate configuration|not a usable calibration", id="projective-degenerate-5"),
    pytest.param(dict(pixel=ARENA_PX, world=ARENA_WORLD[[0, 2, 1, 3]], transform_type="affine"),
                 "not invertible over the frame.*Swapped or mistyped landmarks", id="affine-swapped-collapses"),
    pytest.param(dict(frame_dimension=(640,)), "frame_dimension is", id="frame-dimension-short"),
    pytest.param(dict(frame_dimension=(640, -1)), "two positive integers", id="frame-dimension-negative"),
]


@pytest.mark.parametrize("overrides, message", BAD_FITS)
def test_fit_landmarks_bad_input(overrides, message):
    kwargs = dict(pixel=GOOD_PIX, world=GOOD_WORLD, frame_dimension=FRAME)
    kwargs.update(overrides)
    with pytest.raises(CalibrationError, match=message) as info:
        fit_landmarks(**kwargs)
    assert isinstance(info.value, NWBViewError)


def test_projective_fit_with_horizon_in_frame_errors():
    # world positions of a swapped pair make the best homography fold the frame through infinity
    world = ARENA_WORLD[[0, 2, 1, 3]]
    with pytest.raises(CalibrationError, match="to infinity|not invertible|not a usable"):
        fit_landmarks(ARENA_PX, world, "projective", frame_dimension=FRAME)


BAD_SIMPLE = [
    pytest.param(lambda: from_cm_per_px(0, FRAME), "expected a finite number > 0", id="cm_per_px-zero"),
    pytest.param(lambda: from_cm_per_px(-0.2, FRAME), "expected a finite number > 0", id="cm_per_px-negative"),
    pytest.param(lambda: from_cm_per_px(float("nan"), FRAME), "finite", id="cm_per_px-nan"),
    pytest.param(lambda: from_cm_per_px("a", FRAME), "finite number", id="cm_per_px-text"),
    pytest.param(lambda: from_cm_per_px(0.2, (640, 480.5)), "two positive integers", id="frame-fraction"),
    pytest.param(lambda: from_scale_bar((10, 10), (10, 10), 5, FRAME), "zero length", id="scale-bar-zero-length"),
    pytest.param(lambda: from_scale_bar((10, 10), (20, 10), 0, FRAME), "length is 0", id="scale-bar-zero-real"),
    pytest.param(lambda: from_scale_bar((10, np.nan), (20, 10), 5, FRAME), r"\['p1'\]", id="scale-bar-nan"),
    pytest.param(lambda: from_scale_bar((10, 10, 1), (20, 10), 5, FRAME), "shape", id="scale-bar-3d"),
    pytest.param(lambda: Calibration(np.eye(3)[:2], "affine", FRAME), r"shape \(2, 3\)", id="matrix-2x3"),
    pytest.param(lambda: Calibration(np.full((3, 3), np.nan), "affine", FRAME), "NaN", id="matrix-nan"),
    pytest.param(lambda: Calibration(np.eye(3), "rigid", FRAME), "transform_type is 'rigid'", id="matrix-type"),
    pytest.param(lambda: Calibration(np.diag([1.0, 1.0, 2.0]), "affine", FRAME), r"last row", id="last-row"),
    pytest.param(lambda: Calibration(np.diag([1.0, 0.0, 1.0]), "affine", FRAME), "not invertible", id="singular"),
    pytest.param(lambda: Calibration(TRUTH["affine"], "scale", FRAME), "no rotation or shear", id="not-scale"),
    pytest.param(lambda: Calibration(TRUTH["affine"], "similarity", FRAME), "orthogonal", id="not-similarity"),
    pytest.param(lambda: Calibration([[1, 0, 0], [0, 1, 0], [-1 / 320, 0, 1]], "projective", FRAME),
                 "to infinity", id="horizon-in-frame"),
    pytest.param(lambda: Calibration(np.eye(3), "affine", FRAME, unit=""), "unit is ''", id="empty-unit"),
    pytest.param(lambda: Calibration(np.eye(3), "affine", FRAME, residual_rms=-1), "residual_rms", id="neg-rms"),
    pytest.param(lambda: Landmarks(("a",), [[1, 2], [3, 4]], [[1, 2], [3, 4]]), "disagree in number",
                 id="landmarks-count"),
    pytest.param(lambda: from_cm_per_px(S, FRAME).pixels_to_world([1, 2, 3]), r"shape \(\.\.\., 2\)",
                 id="points-shape"),
    pytest.param(lambda: from_cm_per_px(S, FRAME).world_to_pixels("ab"), r"numbers|shape", id="points-text"),
    pytest.param(lambda: from_cm_per_px(S, FRAME).for_reader((0, 0), 0, (10, 10)), "scale", id="reader-scale"),
    pytest.param(lambda: from_cm_per_px(S, FRAME).for_reader((0, np.inf), 1, (10, 10)), "finite",
                 id="reader-offset"),
    pytest.param(lambda: from_cm_per_px(S, FRAME).for_reader((0, 0), 1, (0, 10)), "two positive integers",
                 id="reader-size"),
]


@pytest.mark.parametrize("call, message", BAD_SIMPLE)
def test_bad_input(call, message):
    with pytest.raises(CalibrationError, match=message):
        call()


# ------------------------------------------------------------------------------ check_calibration


def test_check_calibration_quiet_for_a_good_calibration():
    cal = fit_landmarks(ARENA_PX, ARENA_WORLD, labels=ARENA_LABELS, frame_dimension=FRAME)
    inside = np.random.default_rng(0).uniform([40, 16], [600, 464], size=(500, 2))
    inside[::50] = np.nan  # NaN positions are ignored
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_calibration(cal, inside) == []


def test_check_calibration_warns_on_swapped_landmarks_exact_fit():
    # 3 landmarks, world positions of SE and NW swapped: the affine fit is exact but mirrors the arena
    world = ARENA_WORLD[[0, 3, 2, 1]]
    cal = fit_landmarks(ARENA_PX[[0, 1, 3]], world[[0, 1, 3]], labels=["SW", "SE", "NW"], frame_dimension=FRAME)
    with pytest.warns(NWBViewWarning, match="does not flip y"):
        messages = check_calibration(cal)
    assert len(messages) == 1


def test_check_calibration_warns_on_swapped_landmarks_overdetermined():
    pixel = np.vstack([ARENA_PX, [[320.0, 240.0], [180.0, 100.0]]])
    world = _apply(TRUTH["scale"], pixel)
    world[[4, 5]] = world[[5, 4]]  # the world positions of two inner landmarks typed the wrong way round
    cal = fit_landmarks(pixel, world, labels=[*ARENA_LABELS, "centre", "pillar"], frame_dimension=FRAME)
    with pytest.warns(NWBViewWarning, match="large landmark fit error.*the worst landmark is"):
        messages = check_calibration(cal)
    assert any("swapped" in m for m in messages)


@pytest.mark.parametrize(
    "cal, message",
    [
        pytest.param(from_cm_per_px(0.005, FRAME), "less than 5 cm", id="tiny-arena"),
        pytest.param(from_cm_per_px(10.0, FRAME), "more than 50 m", id="huge-arena"),
        pytest.param(from_cm_per_px(10.0, FRAME, unit="mm"), None, id="mm-plausible"),
        pytest.param(from_cm_per_px(0.2, FRAME, unit="m"), "more than 50 m", id="metres"),
        pytest.param(from_cm_per_px(10.0, FRAME, unit="furlong"), None, id="unknown-unit-skipped"),
    ],
)
def test_check_calibration_arena_size(cal, message):
    if message is None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert check_calibration(cal) == []
    else:
        with pytest.warns(NWBViewWarning, match=message):
            check_calibration(cal)


def test_check_calibration_positions_outside_frame():
    cal = from_cm_per_px(S, FRAME)
    positions = np.random.default_rng(0).uniform([0, 0], [640, 480], size=(1000, 2))
    positions[:5] = [700, 10]  # 0.5 %: tolerated
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_calibration(cal, positions) == []
    positions[:50] = [700, 10]  # 5 %
    with pytest.warns(NWBViewWarning, match="5.0% of the tracked positions lie outside"):
        check_calibration(cal, positions.reshape(10, 100, 2))
    with pytest.raises(CalibrationError, match="shape"):
        check_calibration(cal, np.zeros((4, 3)))


# ------------------------------------------------------------------------------------------- CSV


def test_read_landmarks_csv(tmp_path):
    path = tmp_path / "landmarks.csv"
    path.write_text(
        "\ufeff# arena corners, clicked in frame 0\n"
        "world_x, world_y, label, pixel_x, pixel_y, note\n"
        "0,0,SW,40,464,\n"
        "\n"
        "100,0,SE,600,464,a comment\n"
        "100,80,NE,600,16,\n",
        encoding="utf-8",
    )
    labels, pixel, world = read_landmarks_csv(path)
    assert labels == ["SW", "SE", "NE"]
    np.testing.assert_array_equal(pixel, ARENA_PX[:3])
    np.testing.assert_array_equal(world, ARENA_WORLD[:3])
    cal = fit_landmarks(pixel, world, labels=labels, frame_dimension=FRAME)
    assert cal.landmarks.labels == ("SW", "SE", "NE")


@pytest.mark.parametrize(
    "text, message",
    [
        pytest.param("label,pixel_x,pixel_y,world_x\nSW,1,2,3\n", r"lacks the column\(s\) \['world_y'\]",
                     id="missing-column"),
        pytest.param("label,pixel_x,pixel_y,world_x,world_y\nSW,40,464,0,0\nSE,600,abc,100,0\n",
                     r"line 3 \(landmark 'SE'\): pixel_y is 'abc'", id="non-numeric"),
        pytest.param("label,pixel_x,pixel_y,world_x,world_y\nSW,40,,0,0\n", r"line 2 .*pixel_y is ''",
                     id="empty-cell"),
        pytest.param("label,pixel_x,pixel_y,world_x,world_y\nSW,40,nan,0,0\n", "finite number", id="nan-cell"),
        pytest.param("label,pixel_x,pixel_y,world_x,world_y\nSW,40,464\n", r"line 2: 3 cells, expected 5",
                     id="short-row"),
        pytest.param("label,pixel_x,pixel_y,world_x,world_y\n", "no landmarks", id="header-only"),
        pytest.param("", "is empty", id="empty-file"),
    ],
)
def test_read_landmarks_csv_errors(tmp_path, text, message):
    path = tmp_path / "landmarks.csv"
    path.write_text(text)
    with pytest.raises(CalibrationError, match=message):
        read_landmarks_csv(path)


def test_read_landmarks_csv_missing_file(tmp_path):
    with pytest.raises(MissingFileError, match="does not exist"):
        read_landmarks_csv(tmp_path / "nope.csv")


def test_pixel_convention_matches_the_extension_default():
    from ndx_video_calibration import DEFAULT_PIXEL_CONVENTION

    from nwbview.calibration import PIXEL_CONVENTION

    assert PIXEL_CONVENTION == DEFAULT_PIXEL_CONVENTION
