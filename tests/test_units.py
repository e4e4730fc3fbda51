"""One world unit, many spellings: cm and centimeters are the same unit everywhere."""

from __future__ import annotations

import numpy as np
import pytest

import nwbview
from nwbview import jobs
from nwbview.errors import CalibrationError
from nwbview.units import cm_per_unit, is_pixel_unit, normalize_unit, same_unit


@pytest.mark.parametrize("spelling", ["cm", "CM", "centimeter", "centimeters", "centimetre", "Centimetres"])
def test_spellings_of_centimeters(spelling):
    assert normalize_unit(spelling) == "centimeters" and same_unit(spelling, "cm") and cm_per_unit(spelling) == 1.0


def test_other_units():
    assert [normalize_unit(u) for u in ("m", "mm", "um", "µm", "px", "pixel", "rad", "deg", "cm/s", "volts", "")] == [
        "meters", "millimeters", "micrometers", "micrometers", "pixels", "pixels", "radians", "degrees",
        "centimeters/s", "volts", ""]
    assert is_pixel_unit("px") and not is_pixel_unit("cm") and not same_unit("cm", "mm")
    assert cm_per_unit("meters") == 100.0 and cm_per_unit("radians") is None


@pytest.mark.slow
def test_world_positions_in_another_length_unit_map_to_the_same_pixels(demo_copy):
    jobs.calibrate_job(demo_copy, landmarks=demo_copy.parent / "demo_landmarks.csv")  # unit="cm" as typed
    with nwbview.open(demo_copy) as s:
        assert s.calibration().unit == "centimeters"  # stored spelled out
        pos = s.position()
        assert pos.attrs["units"] == "centimeters"
        px = s.to_coordinates(pos, "pixel")
        in_m = (pos / 100.0).assign_attrs({**pos.attrs, "units": "m", "space_unit": "m"})
        np.testing.assert_allclose(s.to_coordinates(in_m, "pixel").values, px.values, rtol=1e-12)
        with pytest.raises(CalibrationError, match="cannot convert"):
            s.to_coordinates(pos.assign_attrs(units="furlongs", space_unit="furlongs"), "pixel")
