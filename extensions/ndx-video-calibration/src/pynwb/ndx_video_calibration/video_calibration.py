"""The :class:`VideoCalibration` container and the checks it runs on its transform."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from hdmf.common import DynamicTable, VectorData
from hdmf.utils import AllowPositional, docval, popargs
from pynwb import register_class
from pynwb.core import NWBDataInterface
from pynwb.device import Device
from pynwb.image import ImageSeries

__all__ = [
    "DEFAULT_PIXEL_CONVENTION",
    "LANDMARK_COLUMNS",
    "TRANSFORM_TYPES",
    "VideoCalibration",
    "validate_transform",
    "apply_transform",
    "positive_inverse",
    "frame_corners",
]

NAMESPACE = "ndx-video-calibration"
TRANSFORM_TYPES = ("scale", "similarity", "affine", "projective")
DEFAULT_PIXEL_CONVENTION = (
    "origin at the top-left corner of the top-left pixel; x right, y down; pixel centres at +0.5"
)
LANDMARK_COLUMNS = {
    "label": "Name of the landmark, e.g. 'arena corner NW'.",
    "pixel_x": "x of the landmark in the video, in pixels (right).",
    "pixel_y": "y of the landmark in the video, in pixels (down).",
    "world_x": "x of the landmark in the world, in 'unit'.",
    "world_y": "y of the landmark in the world, in 'unit'.",
}
LANDMARKS_DESCRIPTION = (
    "Landmarks the transform was fitted to, one row per landmark: pixel position in the video and "
    "world position in the calibration's unit and reference frame."
)

#: relative tolerance of the form checks (scale / similarity / affine last row)
FORM_RTOL = 1e-6
#: largest accepted condition number of the frame-normalised transform
MAX_CONDITION = 1e8


def _fmt(matrix: np.ndarray) -> str:
    return np.array2string(np.asarray(matrix), precision=6, separator=", ", suppress_small=True).replace("\n", "")


def frame_corners(frame_dimension) -> np.ndarray:
    """The four outer corners of a ``(width, height)`` frame in pixels, top-left first, clockwise."""
    w, h = (float(v) for v in frame_dimension)
    return np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])


def validate_transform(transform, transform_type: str, frame_dimension) -> np.ndarray:
    """Check a pixel -> world matrix against its declared type; return it as a float64 (3, 3) array.

    Raises ``ValueError`` naming the bad value and what is expected when ``transform`` is not a
    finite 3x3 matrix, is not invertible over the frame (condition number of the frame-normalised
    map above 1e8), does not have the form ``transform_type`` promises, or (projective) sends part
    of the frame to infinity.

    Examples
    --------
    >>> validate_transform([[0.25, 0, 0], [0, -0.25, 120], [0, 0, 1]], "scale", (640, 480)).shape
    (3, 3)
    """
    if transform_type not in TRANSFORM_TYPES:
        raise ValueError(
            f"transform_type is {transform_type!r}, expected one of {', '.join(map(repr, TRANSFORM_TYPES))}. "
            "Use 'scale' for a known px -> world scale, 'similarity' for rotation + uniform scale, "
            "'affine' for unequal scales or shear, 'projective' for a tilted camera."
        )
    fd = np.asarray(frame_dimension)
    if fd.shape != (2,) or not np.all(np.isfinite(fd)) or np.any(fd <= 0):
        raise ValueError(
            f"frame_dimension is {fd.tolist()!r}, expected two positive integers (width, height) in pixels."
        )
    try:
        matrix = np.array(transform, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"transform must be a numeric 3x3 matrix; could not convert it to numbers ({err}).") from None
    if matrix.shape != (3, 3):
        raise ValueError(
            f"transform has shape {matrix.shape}, expected (3, 3): a homogeneous pixel -> world matrix "
            "(for a 2x3 affine matrix append the row [0, 0, 1])."
        )
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"transform holds NaN or infinite values: {_fmt(matrix)}; every entry must be finite.")

    if transform_type != "projective":
        if not (np.abs(matrix[2, :2]).max() <= 1e-12 and abs(matrix[2, 2] - 1.0) <= 1e-12):
            raise ValueError(
                f"transform_type {transform_type!r} needs the last row of transform to be [0, 0, 1]; "
                f"got {_fmt(matrix[2])}. Divide the matrix by its [2, 2] entry, or use "
                "transform_type='projective' if the map really is a homography."
            )

    # Invertibility, measured on the frame: normalise pixels so the frame is [-1, 1]^2 and world so
    # the frame's image has unit spread, then take the condition number.
    corners = frame_corners(fd)
    h = corners @ matrix[:, :2].T + matrix[:, 2]
    w = h[:, 2]
    if transform_type == "projective" and not (np.all(w > 0) or np.all(w < 0)):
        raise ValueError(
            f"transform sends part of the {int(fd[0])}x{int(fd[1])} frame to infinity (the horizon line of "
            f"the homography crosses the frame; homogeneous w at the frame corners: {_fmt(w)}). "
            "A camera looking at a plane never sees its horizon inside a calibrated arena: check the "
            "matrix for swapped rows or mislabeled landmarks."
        )
    world = h[:, :2] / w[:, None]
    centre = world.mean(axis=0)
    spread = np.sqrt(((world - centre) ** 2).sum(axis=1)).mean()
    n_pix = np.array([[fd[0] / 2, 0, fd[0] / 2], [0, fd[1] / 2, fd[1] / 2], [0, 0, 1.0]])
    if not np.isfinite(spread) or spread <= 0:
        cond = np.inf
    else:
        n_world_inv = np.array([[1 / spread, 0, -centre[0] / spread], [0, 1 / spread, -centre[1] / spread], [0, 0, 1]])
        normalised = n_world_inv @ matrix @ n_pix
        normalised = normalised / np.abs(normalised).max()
        with np.errstate(all="ignore"):
            cond = np.linalg.cond(normalised)
    if not np.isfinite(cond) or cond > MAX_CONDITION:
        raise ValueError(
            f"transform {_fmt(matrix)} is not invertible over the frame (condition number {cond:.3g}, "
            f"expected < {MAX_CONDITION:.0e}): it squashes the video onto a line or a point. "
            "Check that the scale is not zero and that the landmarks it came from were not collinear."
        )

    a = matrix[:2, :2]
    size = np.abs(a).max()
    if transform_type == "scale":
        sx, sy = abs(a[0, 0]), abs(a[1, 1])
        if max(abs(a[0, 1]), abs(a[1, 0])) > FORM_RTOL * size or abs(sx - sy) > FORM_RTOL * size:
            raise ValueError(
                f"transform_type 'scale' needs [[s, 0, tx], [0, +-s, ty], [0, 0, 1]] (no rotation or shear, "
                f"|sx| == |sy|); got {_fmt(matrix)} (|sx| = {sx:.6g}, |sy| = {sy:.6g}, off-diagonal "
                f"{a[0, 1]:.3g}, {a[1, 0]:.3g}). Use transform_type='similarity' or 'affine' instead."
            )
    elif transform_type == "similarity":
        c0, c1 = a[:, 0], a[:, 1]
        s2 = size * size
        if abs(c0 @ c1) > FORM_RTOL * s2 or abs(c0 @ c0 - c1 @ c1) > FORM_RTOL * s2:
            raise ValueError(
                "transform_type 'similarity' needs a linear part s * R (rotation and uniform scale, a "
                "reflection allowed); its columns must be orthogonal and of equal length. Got "
                f"{_fmt(matrix)} (column lengths {np.hypot(*c0):.6g} and {np.hypot(*c1):.6g}, dot product "
                f"{c0 @ c1:.3g}). Use transform_type='affine' for unequal scales or shear."
            )
    return matrix


def apply_transform(matrix: np.ndarray, xy, projective: bool) -> np.ndarray:
    """Apply a homogeneous 3x3 ``matrix`` to ``(..., 2)`` points; NaN in -> NaN out."""
    pts = np.asarray(xy, dtype=np.float64)
    if pts.ndim == 0 or pts.shape[-1] != 2:
        raise ValueError(f"points must have shape (..., 2) (x, y); got shape {pts.shape}.")
    h = pts @ matrix[:, :2].T + matrix[:, 2]
    w = h[..., 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = h[..., :2] / w
    if projective:
        out = np.where(w > 0, out, np.nan)  # beyond the horizon: no image
    return out


def positive_inverse(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a homogeneous matrix, scaled so that w stays positive."""
    inv = np.linalg.inv(matrix)
    k = inv[2, 2] if abs(inv[2, 2]) > 1e-12 * np.abs(inv).max() else np.abs(inv).max()
    return inv / abs(k)


def _landmarks_table(landmarks) -> DynamicTable:
    """Turn a dict / DataFrame of columns into the 'landmarks' DynamicTable, checking it."""
    if isinstance(landmarks, DynamicTable):
        if landmarks.name != "landmarks":
            raise ValueError(
                f"landmarks table is named {landmarks.name!r}; it must be named 'landmarks' "
                "(or pass a dict / DataFrame of columns and it is built for you)."
            )
        columns = {name: np.asarray(landmarks[name].data[:]) for name in LANDMARK_COLUMNS if name in landmarks.colnames}
        missing = [name for name in LANDMARK_COLUMNS if name not in landmarks.colnames]
    else:
        if isinstance(landmarks, pd.DataFrame):
            landmarks = {str(k): landmarks[k].to_numpy() for k in landmarks.columns}
        if not isinstance(landmarks, Mapping):
            raise ValueError(
                f"landmarks must be a DynamicTable, a dict or a DataFrame of columns, or None; got "
                f"{type(landmarks).__name__}."
            )
        missing = [name for name in LANDMARK_COLUMNS if name not in landmarks]
        columns = {name: np.asarray(landmarks[name]) for name in LANDMARK_COLUMNS if name in landmarks}
    if missing:
        raise ValueError(
            f"landmarks lack the column(s) {missing}; expected the columns {list(LANDMARK_COLUMNS)} "
            "(label, pixel position, world position)."
        )
    lengths = {name: len(col) for name, col in columns.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"landmarks columns differ in length: {lengths}; every column needs one value per landmark.")
    for name in ("pixel_x", "pixel_y", "world_x", "world_y"):
        try:
            values = columns[name].astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"landmarks column {name!r} must hold numbers; got {columns[name].tolist()!r}.") from None
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValueError(
                f"landmarks column {name!r} holds NaN or infinite values at rows {bad.tolist()}; "
                "every landmark needs a finite pixel and world position."
            )
        columns[name] = values
    if isinstance(landmarks, DynamicTable):
        # hdmf writes a DynamicTable with its own mapper, which does not convert column dtypes to the
        # ones this spec asks for: refuse what would be written as an invalid file.
        wrong = [
            f"{name} ({np.asarray(landmarks[name].data[:]).dtype})"
            for name in ("pixel_x", "pixel_y", "world_x", "world_y")
            if np.asarray(landmarks[name].data[:]).dtype != np.float64
        ]
        if not all(isinstance(v, (str, bytes)) for v in landmarks["label"].data[:]):
            wrong.append("label (not text)")
        if wrong:
            raise ValueError(
                f"landmarks table columns have the wrong dtype: {', '.join(wrong)}; expected float64 "
                "positions and a text label. Pass a dict or DataFrame of columns instead and the table "
                "is built with the right dtypes."
            )
        return landmarks
    columns["label"] = [v.decode() if isinstance(v, bytes) else str(v) for v in columns["label"]]
    return DynamicTable(
        name="landmarks",
        description=LANDMARKS_DESCRIPTION,
        columns=[
            VectorData(name=name, description=doc, data=list(columns[name]) if name == "label" else columns[name])
            for name, doc in LANDMARK_COLUMNS.items()
        ],
    )


@register_class("VideoCalibration", NAMESPACE)
class VideoCalibration(NWBDataInterface):
    """Planar pixel -> world calibration of one video (an ``ImageSeries``).

    ``transform`` is a 3x3 homogeneous matrix: ``[wx, wy, w] = transform @ [px, py, 1]`` and the world
    point is ``(wx / w, wy / w)``. Pixels follow ``pixel_convention`` (origin at the top-left corner of
    the top-left pixel, x right, y down); the world follows ``reference_frame`` in ``unit``. Any y flip
    between the two lives in the matrix.

    Examples
    --------
    >>> from pynwb.image import ImageSeries
    >>> video = ImageSeries(name="video", external_file=["video.mp4"], format="external",
    ...                     starting_frame=[0], rate=30.0, num_samples=9000, dimension=[640, 480])
    >>> cal = VideoCalibration(
    ...     transform=[[0.25, 0, 0], [0, -0.25, 120], [0, 0, 1]], transform_type="scale",
    ...     frame_dimension=[640, 480], image_series=video, method="cm_per_px",
    ...     reference_frame="origin at the bottom-left corner of the frame; x right, y up",
    ...     description="4 px per cm, measured with a ruler on the arena floor")
    >>> cal.pixels_to_world([[0, 480], [640, 0]]).tolist()
    [[0.0, 0.0], [160.0, 120.0]]
    """

    __nwbfields__ = (
        "description",
        "method",
        "transform_type",
        "unit",
        "reference_frame",
        "pixel_convention",
        "transform",
        "frame_dimension",
        "residual_rms",
        {"name": "landmarks", "child": True},
        "image_series",
        "device",
    )

    @docval(
        {
            "name": "transform",
            "type": ("array_data", "data"),
            "doc": "3x3 homogeneous pixel -> world matrix (rows world x, y, w; columns pixel x, y, 1).",
        },
        {
            "name": "transform_type",
            "type": str,
            "doc": f"Form of the transform, one of {TRANSFORM_TYPES}.",
        },
        {
            "name": "frame_dimension",
            "type": ("array_data", "data"),
            "doc": "(width, height) of the calibrated video frame in pixels.",
        },
        {"name": "image_series", "type": ImageSeries, "doc": "The video this calibration belongs to."},
        {
            "name": "reference_frame",
            "type": str,
            "doc": "Where the world origin is and which way the world axes point.",
        },
        {
            "name": "method",
            "type": str,
            "doc": "How the transform was obtained, e.g. 'landmarks', 'scale_bar', 'cm_per_px'.",
        },
        {"name": "description", "type": str, "doc": "Free-text description of the calibration."},
        {"name": "name", "type": str, "doc": "Name of this container.", "default": "VideoCalibration"},
        {"name": "unit", "type": str, "doc": "Unit of world coordinates (spelled out: centimeters, meters, ...).", "default": "centimeters"},
        {
            "name": "pixel_convention",
            "type": str,
            "doc": "Pixel coordinate convention of the transform's input.",
            "default": DEFAULT_PIXEL_CONVENTION,
        },
        {
            "name": "residual_rms",
            "type": (float, int, np.number),
            "doc": "RMS landmark fit error in world units.",
            "default": None,
        },
        {
            "name": "landmarks",
            "type": (DynamicTable, dict, pd.DataFrame),
            "doc": "Landmarks table, or a dict / DataFrame with the columns label, pixel_x, pixel_y, world_x, world_y.",
            "default": None,
        },
        {"name": "device", "type": Device, "doc": "The camera that recorded the video.", "default": None},
        allow_positional=AllowPositional.ERROR,
    )
    def __init__(self, **kwargs):
        fields = popargs(
            "transform",
            "transform_type",
            "frame_dimension",
            "image_series",
            "reference_frame",
            "method",
            "description",
            "unit",
            "pixel_convention",
            "residual_rms",
            "landmarks",
            "device",
            kwargs,
        )
        (transform, transform_type, frame_dimension, image_series, reference_frame, method, description,
         unit, pixel_convention, residual_rms, landmarks, device) = fields
        super().__init__(**kwargs)
        strict = not self._in_construct_mode  # reading a file: warn about bad values, do not refuse it

        def problem(message: str) -> None:
            message = f"VideoCalibration {self.name!r}: {message}"
            if strict:
                raise ValueError(message)
            warnings.warn(message, UserWarning, stacklevel=3)

        fd = np.asarray(frame_dimension)
        if fd.shape != (2,) or not np.issubdtype(fd.dtype, np.number) or not np.all(np.isfinite(fd)) \
                or np.any(fd <= 0) or np.any(fd != np.round(fd)):
            problem(f"frame_dimension is {fd.tolist()!r}, expected two positive integers (width, height) in pixels.")
        else:
            fd = fd.astype(np.uint32)
            dim = getattr(image_series, "dimension", None)
            if dim is not None and len(dim) >= 2 and tuple(int(v) for v in dim[:2]) != tuple(int(v) for v in fd):
                problem(
                    f"frame_dimension {fd.tolist()} (width, height) differs from the dimension "
                    f"{[int(v) for v in dim[:2]]} (x, y) of ImageSeries {image_series.name!r}. The calibration "
                    "must be of the video as stored; fix frame_dimension or the ImageSeries' dimension."
                )
        try:
            matrix = validate_transform(np.asarray(transform), transform_type, fd)
        except ValueError as err:
            problem(str(err))
            matrix = np.asarray(transform, dtype=np.float64)
        if residual_rms is not None:
            residual_rms = float(residual_rms)
            if not (np.isfinite(residual_rms) and residual_rms >= 0):
                problem(f"residual_rms is {residual_rms!r}, expected a finite number >= 0 (world units).")
        if landmarks is not None:
            try:
                landmarks = _landmarks_table(landmarks)
            except ValueError as err:
                problem(str(err))
        for attr, value in (("unit", unit), ("method", method)):
            if not value.strip():
                problem(f"{attr} is empty; give it a value (e.g. unit='cm', method='landmarks').")

        self.transform = matrix
        self.transform_type = transform_type
        self.frame_dimension = fd
        self.image_series = image_series
        self.reference_frame = reference_frame
        self.method = method
        self.description = description
        self.unit = unit
        self.pixel_convention = pixel_convention
        self.residual_rms = residual_rms
        self.landmarks = landmarks
        self.device = device

    @property
    def matrix(self) -> np.ndarray:
        """The pixel -> world matrix as a float64 (3, 3) array."""
        return np.asarray(self.transform[:], dtype=np.float64)

    @property
    def inverse(self) -> np.ndarray:
        """The world -> pixel matrix (the inverse of ``transform``, scaled so valid points have w > 0)."""
        return positive_inverse(self.matrix)

    def pixels_to_world(self, xy) -> np.ndarray:
        """Map pixel points of shape ``(..., 2)`` to world points (``unit``); NaN in, NaN out.

        Examples
        --------
        >>> cal.pixels_to_world([320, 240])  # doctest: +SKIP
        array([80., 60.])
        """
        return apply_transform(self.matrix, xy, self.transform_type == "projective")

    def world_to_pixels(self, xy) -> np.ndarray:
        """Map world points of shape ``(..., 2)`` to pixel points; NaN in, NaN out.

        Examples
        --------
        >>> cal.world_to_pixels([80, 60])  # doctest: +SKIP
        array([320., 240.])
        """
        return apply_transform(self.inverse, xy, self.transform_type == "projective")

    def landmarks_as_dict(self) -> dict[str, np.ndarray | list[str]] | None:
        """The landmarks table as a dict of columns (label, pixel_x, pixel_y, world_x, world_y), or None."""
        if self.landmarks is None:
            return None
        out: dict = {}
        for name in LANDMARK_COLUMNS:
            values = self.landmarks[name].data[:]
            if name == "label":
                out[name] = [v.decode() if isinstance(v, bytes) else str(v) for v in values]
            else:
                out[name] = np.asarray(values, dtype=np.float64)
        return out
