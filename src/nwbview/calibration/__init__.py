"""Pixel <-> world calibration of a 2-D video: the transform, fitting it, storing it in NWB.

A calibration is one 3x3 homogeneous matrix ``M`` mapping video pixels to world coordinates on the
arena floor: ``[wx, wy, w] = M @ [px, py, 1]`` and ``world = (wx / w, wy / w)``.

- *pixel*: x right, y down, origin at the top-left corner of the top-left pixel (pixel centres at
  +0.5). Frame sizes are ``(width, height)``.
- *world*: the arena, in ``unit`` (``cm`` by default), y up.

The y flip between the two lives only inside ``M``: it comes out of the fit (a reflecting
similarity, an affine or projective map with negative determinant), nothing else flips y.

The running example in the docstrings: a camera views a 100 x 80 cm arena from above at 5.6 px/cm.
In the 640 x 480 video the arena's corners are at pixels (40, 464) south-west, (600, 464)
south-east, (600, 16) north-east and (40, 16) north-west, so with the world origin at the
south-west corner and y pointing north, ``world = ((px - 40) / 5.6, (464 - py) / 5.6)``.

The transform's rules (form, invertibility over the frame) live once, in ``ndx_video_calibration``;
nwbview reports a broken one as :class:`~nwbview.errors.CalibrationError`.
"""

from nwbview.calibration.fit import MIN_POINTS, check_calibration, fit_landmarks, read_landmarks_csv
from nwbview.calibration.transform import (
    CSV_COLUMNS,
    FRAME_REFERENCE,
    PIXEL_CONVENTION,
    TRANSFORM_TYPES,
    Calibration,
    Landmarks,
    frame_corners,
    from_cm_per_px,
    from_scale_bar,
)

__all__ = [
    "TRANSFORM_TYPES",
    "MIN_POINTS",
    "CSV_COLUMNS",
    "PIXEL_CONVENTION",
    "FRAME_REFERENCE",
    "Calibration",
    "Landmarks",
    "frame_corners",
    "from_cm_per_px",
    "from_scale_bar",
    "fit_landmarks",
    "check_calibration",
    "read_landmarks_csv",
]
