"""Tests of the ndx-video-calibration extension: spec, class checks, file round trip, spec caching."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import pynwb
from hdmf.common import DynamicTable, VectorData
from pynwb import NWBHDF5IO
from pynwb.testing.mock.device import mock_Device
from pynwb.testing.mock.file import mock_NWBFile
from ruamel.yaml import YAML

from ndx_video_calibration import DEFAULT_PIXEL_CONVENTION, VideoCalibration
from ndx_video_calibration.testing import mock_ImageSeries, mock_VideoCalibration

EXTENSION_ROOT = Path(__file__).resolve().parents[3]
SPEC_DIR = EXTENSION_ROOT / "spec"
SPEC_SCRIPT = EXTENSION_ROOT / "src" / "spec" / "create_extension_spec.py"
NAMESPACE = "ndx-video-calibration"

SCALE = [[0.25, 0.0, 0.0], [0.0, -0.25, 120.0], [0.0, 0.0, 1.0]]
theta = np.deg2rad(30.0)
# rotation by 30 degrees, 0.2 cm/px, with the y flip (a reflection)
SIMILARITY = [
    [0.2 * np.cos(theta), 0.2 * np.sin(theta), 5.0],
    [0.2 * np.sin(theta), -0.2 * np.cos(theta), 100.0],
    [0.0, 0.0, 1.0],
]
AFFINE = [[0.2, 0.03, 1.0], [0.01, -0.25, 120.0], [0.0, 0.0, 1.0]]
PROJECTIVE = [[0.2, 0.01, 1.0], [0.005, -0.25, 120.0], [1e-4, 2e-4, 1.0]]


def _load_yaml(path: Path):
    with open(path) as f:
        return YAML(typ="safe").load(f)


def _load_spec_script():
    spec = importlib.util.spec_from_file_location("create_extension_spec", SPEC_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------------------------- spec


def test_spec_script_reproduces_committed_yaml(tmp_path):
    ns_path, ext_path = _load_spec_script().main(tmp_path)
    for generated in (ns_path, ext_path):
        committed = SPEC_DIR / generated.name
        assert committed.exists(), f"{committed} missing: run python {SPEC_SCRIPT}"
        assert _load_yaml(generated) == _load_yaml(committed), (
            f"{committed.name} is out of date with the spec script: run python {SPEC_SCRIPT} and commit spec/"
        )


def test_spec_validates_against_nwb_schema_language():
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = Path(pynwb.__file__).parent / "nwb-schema" / "nwb.schema.json"
    if not schema_path.exists():
        pytest.skip("pynwb does not ship nwb.schema.json")
    with open(schema_path) as f:
        schema = json.load(f)
    for name in (f"{NAMESPACE}.namespace.yaml", f"{NAMESPACE}.extensions.yaml"):
        jsonschema.validate(_load_yaml(SPEC_DIR / name), schema)


def test_namespace_loads_into_a_fresh_type_map():
    from pynwb import get_type_map

    type_map = get_type_map()  # a copy of the core type map, without extensions loaded by imports
    type_map.load_namespaces(str(SPEC_DIR / f"{NAMESPACE}.namespace.yaml"))
    spec = type_map.namespace_catalog.get_spec(NAMESPACE, "VideoCalibration")
    assert spec.neurodata_type_inc == "NWBDataInterface"
    assert {a.name for a in spec.attributes} >= {
        "description", "method", "transform_type", "unit", "reference_frame", "pixel_convention",
    }
    assert spec.get_dataset("transform").shape == [3, 3]
    assert spec.get_dataset("frame_dimension").dtype == "uint32"
    assert spec.get_link("image_series").target_type == "ImageSeries"
    assert spec.get_link("device").quantity == "?"
    landmarks = spec.get_group("landmarks")
    assert landmarks.neurodata_type_inc == "DynamicTable"
    assert {d.name for d in landmarks.datasets} >= {"label", "pixel_x", "pixel_y", "world_x", "world_y"}


def test_registered_class():
    assert pynwb.get_class("VideoCalibration", NAMESPACE) is VideoCalibration


# --------------------------------------------------------------------------------------- transforms


@pytest.mark.parametrize(
    "transform, transform_type",
    [
        pytest.param(SCALE, "scale", id="scale"),
        pytest.param(SIMILARITY, "similarity", id="similarity"),
        pytest.param(AFFINE, "affine", id="affine"),
        pytest.param(PROJECTIVE, "projective", id="projective"),
    ],
)
def test_pixels_world_round_trip(transform, transform_type):
    cal = mock_VideoCalibration(transform=transform, transform_type=transform_type)
    rng = np.random.default_rng(0)
    pix = rng.uniform([0, 0], [640, 480], size=(5, 7, 2))
    world = cal.pixels_to_world(pix)
    assert world.shape == pix.shape
    np.testing.assert_allclose(cal.world_to_pixels(world), pix, atol=1e-6)
    np.testing.assert_allclose(cal.inverse @ cal.matrix / (cal.inverse @ cal.matrix)[2, 2], np.eye(3), atol=1e-9)
    # a single point and NaN propagation
    assert cal.pixels_to_world([10.0, 20.0]).shape == (2,)
    out = cal.pixels_to_world([[np.nan, 1.0], [1.0, 1.0]])
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()


def test_scale_maps_frame_corners():
    cal = mock_VideoCalibration(transform=SCALE, transform_type="scale", with_landmarks=False)
    np.testing.assert_allclose(cal.pixels_to_world([[0, 480], [640, 0]]), [[0, 0], [160, 120]])


def test_projective_beyond_horizon_is_nan():
    cal = mock_VideoCalibration(transform=PROJECTIVE, transform_type="projective", with_landmarks=False)
    # w = 1e-4 x + 2e-4 y + 1 < 0 far up-left of the frame
    assert np.isnan(cal.pixels_to_world([-20000.0, -20000.0])).all()


def test_bad_points_shape():
    cal = mock_VideoCalibration()
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        cal.pixels_to_world([[1.0, 2.0, 3.0]])


# ---------------------------------------------------------------------------------- file round trip


@pytest.fixture
def written(tmp_path):
    nwbfile = mock_NWBFile()
    camera = mock_Device(name="camera", nwbfile=nwbfile)
    video = mock_ImageSeries(name="video", device=camera, nwbfile=nwbfile)
    cal = mock_VideoCalibration(
        image_series=video, device=camera, transform=SIMILARITY, transform_type="similarity", nwbfile=nwbfile
    )
    path = tmp_path / "calibrated.nwb"
    with NWBHDF5IO(path, "w") as io:
        io.write(nwbfile)
    return path, cal


def test_round_trip_all_fields(written):
    path, cal = written
    with NWBHDF5IO(path, "r") as io:
        nwbfile = io.read()
        read = nwbfile.processing["behavior"]["VideoCalibration"]
        assert isinstance(read, VideoCalibration)
        np.testing.assert_array_equal(read.transform, cal.transform)
        np.testing.assert_array_equal(read.frame_dimension, [640, 480])
        for attr in ("transform_type", "unit", "method", "description", "reference_frame", "pixel_convention"):
            assert getattr(read, attr) == getattr(cal, attr), attr
        assert read.pixel_convention == DEFAULT_PIXEL_CONVENTION
        assert read.residual_rms == 0.0
        # the links point at the very objects in the file, not at copies
        assert read.image_series is nwbfile.acquisition["video"]
        assert read.device is nwbfile.devices["camera"]
        table = read.landmarks
        assert isinstance(table, DynamicTable) and table.name == "landmarks"
        expected = cal.landmarks_as_dict()
        got = read.landmarks_as_dict()
        assert got["label"] == expected["label"]
        for column in ("pixel_x", "pixel_y", "world_x", "world_y"):
            np.testing.assert_array_equal(got[column], expected[column])
        np.testing.assert_allclose(read.pixels_to_world([[40.0, 40.0]]), cal.pixels_to_world([[40.0, 40.0]]))
    with h5py.File(path, "r") as f:
        group = f["processing/behavior/VideoCalibration"]
        link = group.get("image_series", getlink=True)
        assert isinstance(link, h5py.SoftLink) and link.path == "/acquisition/video"
        assert group.get("device", getlink=True).path == "/general/devices/camera"
        assert group["transform"].dtype == np.float64 and group["frame_dimension"].dtype == np.uint32
        assert group.attrs["neurodata_type"] == "VideoCalibration"
        assert group.attrs["namespace"] == NAMESPACE


def test_optional_fields_absent(tmp_path):
    nwbfile = mock_NWBFile()
    mock_VideoCalibration(with_landmarks=False, nwbfile=nwbfile)
    path = tmp_path / "minimal.nwb"
    with NWBHDF5IO(path, "w") as io:
        io.write(nwbfile)
    assert pynwb.validate(path=str(path)) == []
    with NWBHDF5IO(path, "r") as io:
        read = io.read().processing["behavior"]["VideoCalibration"]
        assert read.landmarks is None and read.residual_rms is None and read.device is None
        assert read.unit == "centimeters"


def test_written_file_validates(written):
    path, _ = written
    assert pynwb.validate(path=str(path)) == []


def test_whole_file_validates_against_the_installed_namespace(written):
    """The namespace includes all of core (as ndx-pose's does), so it holds NWBFile: validating a
    whole file against it, with the installed spec rather than the cached one, finds no error."""
    path, _ = written
    with NWBHDF5IO(path, "r") as io:  # the installed extension's type map, not the file's cached spec
        assert pynwb.validate(io=io, namespace=NAMESPACE) == []
    assert pynwb.validate(path=str(path), namespace=NAMESPACE) == []  # against the cached spec


def test_namespace_includes_core_whole_and_names_real_authors():
    ns = _load_yaml(SPEC_DIR / f"{NAMESPACE}.namespace.yaml")["namespaces"][0]
    assert {"namespace": "core"} in ns["schema"]  # every core type, NWBFile included
    assert ns["author"] == ["nwbview developers"]
    assert all(c.startswith("https://github.com/") for c in ns["contact"]), ns["contact"]
    from pynwb import get_type_map

    type_map = get_type_map()
    type_map.load_namespaces(str(SPEC_DIR / f"{NAMESPACE}.namespace.yaml"))
    assert type_map.namespace_catalog.get_spec(NAMESPACE, "NWBFile") is not None


def test_read_without_extension_uses_cached_spec(written):
    path, cal = written
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.modules["ndx_video_calibration"] = None  # the extension is not importable
        import numpy as np
        from pynwb import NWBHDF5IO
        with NWBHDF5IO({str(path)!r}, "r", load_namespaces=True) as io:
            nwbfile = io.read()
            cal = nwbfile.processing["behavior"]["VideoCalibration"]
            table = cal.landmarks
            print(json.dumps({{
                "class_module": type(cal).__module__,
                "neurodata_type": cal.neurodata_type,
                "transform": np.asarray(cal.transform[:]).tolist(),
                "frame_dimension": np.asarray(cal.frame_dimension[:]).tolist(),
                "transform_type": cal.transform_type,
                "unit": cal.unit,
                "method": cal.method,
                "residual_rms": float(cal.residual_rms),
                "image_series_is_video": cal.image_series is nwbfile.acquisition["video"],
                "labels": [str(v) for v in table["label"].data[:]],
                "world_x": np.asarray(table["world_x"].data[:]).tolist(),
            }}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not got["class_module"].startswith("ndx_video_calibration")  # generated from the cached spec
    assert got["neurodata_type"] == "VideoCalibration"
    np.testing.assert_array_equal(got["transform"], cal.transform)
    assert got["frame_dimension"] == [640, 480]
    assert (got["transform_type"], got["unit"], got["method"]) == ("similarity", "centimeters", "landmarks")
    assert got["residual_rms"] == 0.0
    assert got["image_series_is_video"] is True
    assert got["labels"] == cal.landmarks_as_dict()["label"]
    np.testing.assert_array_equal(got["world_x"], cal.landmarks_as_dict()["world_x"])


def test_bad_value_in_file_warns_on_read(written):
    path, _ = written
    with h5py.File(path, "r+") as f:
        f["processing/behavior/VideoCalibration"].attrs["transform_type"] = "bogus"
    with NWBHDF5IO(path, "r") as io:
        with pytest.warns(UserWarning, match="transform_type is 'bogus'"):
            read = io.read().processing["behavior"]["VideoCalibration"]
        assert read.transform_type == "bogus"


# ----------------------------------------------------------------------------------------- landmarks


def test_landmarks_from_dataframe_and_table():
    df = pd.DataFrame(
        {"label": ["a", "b"], "pixel_x": [0, 640], "pixel_y": [480, 0], "world_x": [0, 160], "world_y": [0, 120]}
    )
    video = mock_ImageSeries()
    common = dict(
        transform=SCALE, transform_type="scale", frame_dimension=[640, 480], image_series=video,
        reference_frame="r", method="landmarks", description="d",
    )
    cal = VideoCalibration(landmarks=df, **common)
    assert cal.landmarks.name == "landmarks"
    assert cal.landmarks["pixel_x"].data.dtype == np.float64  # ints converted for a valid file
    assert cal.landmarks_as_dict()["label"] == ["a", "b"]
    table = cal.landmarks
    cal2 = VideoCalibration(landmarks=DynamicTable(name="landmarks", description="d", columns=[
        VectorData(name=c, description=c, data=table[c].data) for c in table.colnames]), **common)
    assert cal2.landmarks_as_dict()["label"] == ["a", "b"]


# ----------------------------------------------------------------------------------- invalid inputs


def _kwargs(**overrides):
    kwargs = dict(
        transform=SCALE, transform_type="scale", frame_dimension=[640, 480], image_series=mock_ImageSeries(),
        reference_frame="origin bottom-left, y up", method="cm_per_px", description="d",
    )
    kwargs.update(overrides)
    return kwargs


GOOD_LANDMARKS = {"label": ["a", "b"], "pixel_x": [0.0, 1.0], "pixel_y": [0.0, 1.0],
                  "world_x": [0.0, 1.0], "world_y": [0.0, 1.0]}

INVALID = [
    pytest.param(dict(transform_type="homography"), "transform_type is 'homography', expected one of", id="type"),
    pytest.param(dict(transform=[[1.0, 0, 0], [0, 1, 0]]), r"shape \(2, 3\), expected \(3, 3\)", id="shape-2x3"),
    pytest.param(dict(transform=[[np.nan, 0, 0], [0, 1, 0], [0, 0, 1]]), "NaN or infinite", id="nan"),
    pytest.param(dict(transform=[["a", 0, 0], [0, 1, 0], [0, 0, 1]]), "numeric 3x3", id="text"),
    pytest.param(dict(transform=[[0.25, 0, 0], [0, -0.25, 120], [0, 0, 2]]), r"last row .* \[0, 0, 1\]",
                 id="last-row-w"),
    pytest.param(dict(transform=[[0.25, 0, 0], [0, -0.25, 120], [1e-3, 0, 1]], transform_type="affine"),
                 "last row", id="last-row-projective-part"),
    pytest.param(dict(transform=[[0.0, 0, 0], [0, 0, 120], [0, 0, 1]]), "not invertible", id="zero-scale"),
    pytest.param(dict(transform=[[0.2, 0.4, 0], [0.1, 0.2, 0], [0, 0, 1]], transform_type="affine"),
                 "not invertible", id="singular-affine"),
    pytest.param(dict(transform=[[0.2, 1e-10, 0], [0, 0.2 * 1e-9, 0], [0, 0, 1]], transform_type="affine"),
                 "condition number", id="ill-conditioned"),
    pytest.param(dict(transform=[[0.25, 0, 0], [0, -0.3, 120], [0, 0, 1]]), r"\|sx\| == \|sy\|",
                 id="scale-unequal"),
    pytest.param(dict(transform=SIMILARITY), "no rotation or shear", id="scale-rotated"),
    pytest.param(dict(transform=AFFINE, transform_type="similarity"), "orthogonal and of equal length",
                 id="similarity-sheared"),
    pytest.param(dict(transform=[[0.2, 0, 0], [0, -0.2, 120], [-1 / 320, 0, 1]], transform_type="projective"),
                 "to infinity", id="projective-horizon-in-frame"),
    pytest.param(dict(frame_dimension=[640]), "two positive integers", id="frame-dimension-shape"),
    pytest.param(dict(frame_dimension=[640, 0]), "two positive integers", id="frame-dimension-zero"),
    pytest.param(dict(frame_dimension=[640.5, 480]), "two positive integers", id="frame-dimension-fraction"),
    pytest.param(dict(frame_dimension=[480, 640]), "differs from the dimension", id="frame-dimension-mismatch"),
    pytest.param(dict(residual_rms=-1.0), "residual_rms is -1.0", id="residual-negative"),
    pytest.param(dict(residual_rms=float("nan")), "residual_rms is nan", id="residual-nan"),
    pytest.param(dict(unit=" "), "unit is empty", id="unit-empty"),
    pytest.param(dict(landmarks={k: v for k, v in GOOD_LANDMARKS.items() if k != "world_y"}),
                 r"lack the column\(s\) \['world_y'\]", id="landmarks-missing-column"),
    pytest.param(dict(landmarks={**GOOD_LANDMARKS, "world_x": [0.0]}), "differ in length", id="landmarks-length"),
    pytest.param(dict(landmarks={**GOOD_LANDMARKS, "pixel_y": [0.0, np.inf]}), r"at rows \[1\]",
                 id="landmarks-inf"),
    pytest.param(dict(landmarks={**GOOD_LANDMARKS, "pixel_y": ["x", "y"]}), "must hold numbers",
                 id="landmarks-text"),
    pytest.param(dict(landmarks=DynamicTable(name="points", description="d")), "must be named 'landmarks'",
                 id="landmarks-table-name"),
    pytest.param(dict(landmarks=DynamicTable(name="landmarks", description="d", columns=[
        VectorData(name=k, description=k, data=[0, 1] if k != "label" else ["a", "b"]) for k in GOOD_LANDMARKS])),
        r"wrong dtype: pixel_x \(int64\)", id="landmarks-table-int-columns"),
]


@pytest.mark.parametrize("overrides, message", INVALID)
def test_invalid(overrides, message):
    with pytest.raises(ValueError, match=message):
        VideoCalibration(**_kwargs(**overrides))


def test_valid_types_accepted():
    for transform, transform_type in ((SCALE, "scale"), (SIMILARITY, "similarity"), (AFFINE, "affine"),
                                      (PROJECTIVE, "projective"), (SCALE, "affine"), (SIMILARITY, "projective")):
        VideoCalibration(**_kwargs(transform=transform, transform_type=transform_type))
