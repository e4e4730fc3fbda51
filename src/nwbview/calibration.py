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

This module is pure numpy/scipy; it imports ``ndx_video_calibration`` (and so pynwb) only inside
:meth:`Calibration.to_nwb`.
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbview.errors import CalibrationError, MissingFileError, NWBViewWarning

if TYPE_CHECKING:  # pragma: no cover
    from ndx_video_calibration import VideoCalibration

__all__ = [
    "TRANSFORM_TYPES",
    "Calibration",
    "Landmarks",
    "from_cm_per_px",
    "from_scale_bar",
    "fit_landmarks",
    "check_calibration",
    "read_landmarks_csv",
]

#: transform types, from the most to the least constrained
TRANSFORM_TYPES = ("scale", "similarity", "affine", "projective")
#: landmarks a fit of each type needs at least
MIN_POINTS = {"similarity": 2, "affine": 3, "projective": 4}
#: relative tolerance of the form checks (scale / similarity / last row)
FORM_RTOL = 1e-6
#: largest accepted condition number of the frame-normalised transform
MAX_CONDITION = 1e8
#: centimetres per unit, for the plausibility check of the arena size
CM_PER_UNIT = {
    "um": 1e-4, "µm": 1e-4, "micrometer": 1e-4, "micrometers": 1e-4,
    "mm": 0.1, "millimeter": 0.1, "millimeters": 0.1, "millimetre": 0.1, "millimetres": 0.1,
    "cm": 1.0, "centimeter": 1.0, "centimeters": 1.0, "centimetre": 1.0, "centimetres": 1.0,
    "m": 100.0, "meter": 100.0, "meters": 100.0, "metre": 100.0, "metres": 100.0,
    "in": 2.54, "inch": 2.54, "inches": 2.54, "ft": 30.48, "feet": 30.48, "foot": 30.48,
}
#: the pixel convention nwbview uses (and ndx-video-calibration's default ``pixel_convention``)
PIXEL_CONVENTION = "origin at the top-left corner of the top-left pixel; x right, y down; pixel centres at +0.5"
FRAME_REFERENCE = "origin at the bottom-left corner of the video frame; x right, y up"
LANDMARK_REFERENCE = "as given by the landmarks' world coordinates; x right, y up"
CSV_COLUMNS = ("label", "pixel_x", "pixel_y", "world_x", "world_y")


# ------------------------------------------------------------------------------------ helpers


def _fmt(a: Any) -> str:
    return np.array2string(np.asarray(a, dtype=float), precision=6, separator=", ", suppress_small=True).replace(
        "\n", ""
    )


def _frame_dimension(frame_dimension: Any) -> tuple[int, int]:
    try:
        fd = np.asarray(frame_dimension, dtype=float)
    except (TypeError, ValueError):
        fd = np.array([np.nan])
    if fd.shape != (2,) or not np.all(np.isfinite(fd)) or np.any(fd <= 0) or np.any(fd != np.round(fd)):
        raise CalibrationError(
            f"frame_dimension is {frame_dimension!r}, expected two positive integers (width, height) in "
            "pixels: the size of the video frame the calibration is for. Pass the video's size, e.g. "
            "frame_dimension=(640, 480)."
        )
    return int(fd[0]), int(fd[1])


def frame_corners(frame_dimension: tuple[int, int]) -> np.ndarray:
    """The four outer corners of a ``(width, height)`` video frame, in pixels (top-left first, clockwise).

    Examples
    --------
    >>> frame_corners((640, 480)).tolist()
    [[0.0, 0.0], [640.0, 0.0], [640.0, 480.0], [0.0, 480.0]]
    """
    w, h = frame_dimension
    return np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]], dtype=float)


def _apply(matrix: np.ndarray, xy: Any, projective: bool, what: str) -> np.ndarray:
    try:
        pts = np.asarray(xy, dtype=np.float64)
    except (TypeError, ValueError):
        raise CalibrationError(
            f"{what} must be numbers of shape (..., 2) (x, y); could not convert {type(xy).__name__} to numbers."
        ) from None
    if pts.ndim == 0 or pts.shape[-1] != 2:
        raise CalibrationError(
            f"{what} must have shape (..., 2) (x, y in the last axis); got shape {pts.shape}. "
            "Stack x and y as the last axis, e.g. np.stack([x, y], axis=-1)."
        )
    h = pts @ matrix[:, :2].T + matrix[:, 2]
    w = h[..., 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = h[..., :2] / w
    if projective:
        out = np.where(w > 0, out, np.nan)  # beyond the horizon line: no image
    return out


def _positive_inverse(matrix: np.ndarray) -> np.ndarray:
    inv = np.linalg.inv(matrix)
    k = inv[2, 2] if abs(inv[2, 2]) > 1e-12 * np.abs(inv).max() else np.abs(inv).max()
    return inv / abs(k)


def _jacobian(matrix: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """d world / d pixel at the pixel point ``xy`` (2,)."""
    ph = np.array([xy[0], xy[1], 1.0])
    u = matrix[:2] @ ph
    w = matrix[2] @ ph
    return (matrix[:2, :2] * w - np.outer(u, matrix[2, :2])) / (w * w)


def _check_matrix(matrix: Any, transform_type: str, frame_dimension: tuple[int, int]) -> np.ndarray:
    """Validate a pixel -> world matrix; return it float64, projective ones scaled to M[2, 2] = 1."""
    if transform_type not in TRANSFORM_TYPES:
        raise CalibrationError(
            f"transform_type is {transform_type!r}, expected one of {', '.join(map(repr, TRANSFORM_TYPES))}."
        )
    try:
        m = np.array(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise CalibrationError(f"the calibration matrix must be numbers; got {matrix!r}.") from None
    if m.shape != (3, 3):
        raise CalibrationError(
            f"the calibration matrix has shape {m.shape}, expected (3, 3) (homogeneous pixel -> world). "
            "For a 2x3 affine matrix append the row [0, 0, 1]."
        )
    if not np.all(np.isfinite(m)):
        raise CalibrationError(f"the calibration matrix holds NaN or infinite values: {_fmt(m)}.")
    if transform_type != "projective" and not (
        np.abs(m[2, :2]).max() <= 1e-12 and abs(m[2, 2] - 1.0) <= 1e-12
    ):
        raise CalibrationError(
            f"a {transform_type} matrix must have the last row [0, 0, 1]; got {_fmt(m[2])}. Divide it by its "
            "[2, 2] entry, or use transform_type='projective' for a homography."
        )
    corners = frame_corners(frame_dimension)
    h = corners @ m[:, :2].T + m[:, 2]
    w = h[:, 2]
    if transform_type == "projective":
        if not (np.all(w > 0) or np.all(w < 0)):
            raise CalibrationError(
                f"the projective calibration sends part of the {frame_dimension[0]}x{frame_dimension[1]} frame "
                f"to infinity (its horizon line crosses the frame; w at the corners: {_fmt(w)}). A camera "
                "never sees the floor's horizon inside the arena: check the matrix, or the landmarks it was "
                "fitted to."
            )
        m = m / m[2, 2]  # w > 0 over the frame (the top-left corner is (0, 0), where w = m[2, 2])
        h = corners @ m[:, :2].T + m[:, 2]
        w = h[:, 2]
    world = h[:, :2] / w[:, None]
    centre = world.mean(axis=0)
    spread = float(np.sqrt(((world - centre) ** 2).sum(axis=1)).mean())
    cond = np.inf
    if np.isfinite(spread) and spread > 0:
        fw, fh = frame_dimension
        n_pix = np.array([[fw / 2, 0, fw / 2], [0, fh / 2, fh / 2], [0, 0, 1.0]])
        n_world = np.array([[1 / spread, 0, -centre[0] / spread], [0, 1 / spread, -centre[1] / spread], [0, 0, 1]])
        normalised = n_world @ m @ n_pix
        with np.errstate(all="ignore"):
            cond = float(np.linalg.cond(normalised / np.abs(normalised).max()))
    if not np.isfinite(cond) or cond > MAX_CONDITION:
        raise CalibrationError(
            f"the calibration matrix {_fmt(m)} is not invertible over the frame (condition number {cond:.3g}, "
            f"expected < {MAX_CONDITION:.0e}): it squashes the video onto a line or a point. Check that the "
            "scale is not zero and that the landmarks were not collinear."
        )
    a = m[:2, :2]
    size = np.abs(a).max()
    if transform_type == "scale":
        if max(abs(a[0, 1]), abs(a[1, 0])) > FORM_RTOL * size or abs(abs(a[0, 0]) - abs(a[1, 1])) > FORM_RTOL * size:
            raise CalibrationError(
                f"a scale calibration must be [[s, 0, tx], [0, +-s, ty], [0, 0, 1]] (no rotation or shear, "
                f"|sx| == |sy|); got {_fmt(m)}. Use transform_type='similarity' or 'affine'."
            )
    elif transform_type == "similarity":
        c0, c1 = a[:, 0], a[:, 1]
        if abs(c0 @ c1) > FORM_RTOL * size**2 or abs(c0 @ c0 - c1 @ c1) > FORM_RTOL * size**2:
            raise CalibrationError(
                "a similarity calibration must be rotation + uniform scale (+ reflection): the columns of its "
                f"linear part must be orthogonal and of equal length; got {_fmt(m)}. Use transform_type='affine'."
            )
    return m


def _points(name: str, values: Any, labels: Sequence[str] | None = None) -> np.ndarray:
    try:
        pts = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise CalibrationError(
            f"{name} must be numbers of shape (n, 2) (x, y per landmark); could not convert {values!r} to numbers."
        ) from None
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise CalibrationError(
            f"{name} has shape {pts.shape}, expected (n, 2): one (x, y) row per landmark."
        )
    bad = np.flatnonzero(~np.isfinite(pts).all(axis=1))
    if bad.size:
        which = [labels[i] for i in bad] if labels is not None and len(labels) == len(pts) else bad.tolist()
        raise CalibrationError(
            f"{name} holds NaN or infinite values for landmark(s) {which}; every landmark needs a finite "
            "position. Remove those landmarks or fill in their coordinates."
        )
    return pts


def _similarity_normaliser(pts: np.ndarray) -> np.ndarray:
    """Hartley normalisation: centroid to 0, mean distance to sqrt(2)."""
    c = pts.mean(axis=0)
    d = np.sqrt(((pts - c) ** 2).sum(axis=1)).mean()
    s = math.sqrt(2.0) / d if d > 0 else 1.0
    return np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1.0]])


def _coincident_pairs(pts: np.ndarray, labels: Sequence[str]) -> list[tuple[str, str]]:
    n = len(pts)
    if n > 2000:  # pragma: no cover - only for huge landmark sets
        return []
    extent = float(np.ptp(pts, axis=0).max()) if n else 0.0
    tol = max(1e-9 * extent, 1e-12)
    d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=-1))
    i, j = np.nonzero(np.triu(d <= tol, k=1))
    return [(labels[a], labels[b]) for a, b in zip(i, j)]


def _is_collinear(pts: np.ndarray) -> bool:
    if len(pts) < 3:
        return True
    centred = pts - pts.mean(axis=0)
    s = np.linalg.svd(centred, compute_uv=False)
    return bool(s[0] == 0 or s[1] / s[0] < 1e-6)


def _collinear_triple(pts: np.ndarray, labels: Sequence[str]) -> tuple[str, str, str] | None:
    n = len(pts)
    scale = float(np.ptp(pts, axis=0).max()) or 1.0
    for i in range(n):
        for j in range(i + 1, n):
            for k in range(j + 1, n):
                a, b = pts[j] - pts[i], pts[k] - pts[i]
                if abs(a[0] * b[1] - a[1] * b[0]) <= 1e-9 * scale * scale:
                    return labels[i], labels[j], labels[k]
    return None


# ---------------------------------------------------------------------------------- data types


@dataclass(frozen=True, eq=False)
class Landmarks:
    """Landmarks a calibration was fitted to: ``labels`` (n,), ``pixel`` (n, 2), ``world`` (n, 2)."""

    labels: tuple[str, ...]
    pixel: np.ndarray
    world: np.ndarray

    def __post_init__(self) -> None:
        labels = tuple(str(v) for v in self.labels)
        pixel = _points("landmark pixel positions", self.pixel, labels)
        world = _points("landmark world positions", self.world, labels)
        if not (len(labels) == len(pixel) == len(world)):
            raise CalibrationError(
                f"landmarks disagree in number: {len(labels)} labels, {len(pixel)} pixel positions, "
                f"{len(world)} world positions; give one of each per landmark."
            )
        pixel.setflags(write=False)
        world.setflags(write=False)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "pixel", pixel)
        object.__setattr__(self, "world", world)

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True, eq=False)
class Calibration:
    """A pixel -> world calibration of one video frame size.

    Parameters
    ----------
    matrix : array_like, shape (3, 3)
        Homogeneous pixel -> world matrix. Projective matrices are rescaled so ``matrix[2, 2] == 1``.
    transform_type : {"scale", "similarity", "affine", "projective"}
        The form of ``matrix``; checked.
    frame_dimension : (int, int)
        ``(width, height)`` of the calibrated video frame in pixels.
    unit : str, default: "cm"
        Unit of world coordinates.
    method : str, default: "manual"
        How it was obtained: ``"landmarks"``, ``"scale_bar"``, ``"cm_per_px"``, ...
    residuals : array_like, shape (n,), optional
        Fit error of each landmark in world units. Computed from ``landmarks`` when not given.
    residual_rms : float, optional
        Root-mean-square of ``residuals``. Computed from ``residuals`` when not given.
    landmarks : Landmarks, optional
        What the matrix was fitted to.
    reference_frame : str
        Where the world origin is and which way its axes point.

    Notes
    -----
    Instances are immutable and compare by identity (``==`` is ``is``); compare ``matrix`` with
    :func:`numpy.allclose` to compare two calibrations.

    Examples
    --------
    A camera views a 100 x 80 cm arena from above at 5.6 px/cm; the arena's south-west corner is
    at pixel (40, 464). Put the world origin there, y pointing north (up in the image):

    >>> s = 1 / 5.6
    >>> cal = Calibration([[s, 0, -40 * s], [0, -s, 464 * s], [0, 0, 1]], "scale", (640, 480))
    >>> cal.pixels_to_world([[40, 464], [600, 16]]).round(6).tolist()
    [[0.0, 0.0], [100.0, 80.0]]
    >>> round(cal.cm_per_px, 4)
    0.1786
    """

    matrix: np.ndarray
    transform_type: str
    frame_dimension: tuple[int, int]
    unit: str = "cm"
    method: str = "manual"
    residuals: np.ndarray | None = None
    residual_rms: float | None = None
    landmarks: Landmarks | None = None
    reference_frame: str = field(default=FRAME_REFERENCE)

    def __post_init__(self) -> None:
        fd = _frame_dimension(self.frame_dimension)
        m = _check_matrix(self.matrix, self.transform_type, fd)
        m.setflags(write=False)
        object.__setattr__(self, "frame_dimension", fd)
        object.__setattr__(self, "matrix", m)
        if not isinstance(self.unit, str) or not self.unit.strip():
            raise CalibrationError(f"unit is {self.unit!r}; give the world unit as text, e.g. unit='cm'.")
        residuals = self.residuals
        if self.landmarks is not None and not isinstance(self.landmarks, Landmarks):
            raise CalibrationError(
                f"landmarks must be a Landmarks(labels, pixel, world) or None; got {type(self.landmarks).__name__}."
            )
        if residuals is None and self.landmarks is not None:
            residuals = np.linalg.norm(
                _apply(m, self.landmarks.pixel, self.transform_type == "projective", "landmarks")
                - self.landmarks.world,
                axis=-1,
            )
        if residuals is not None:
            residuals = np.array(residuals, dtype=np.float64).reshape(-1)
            if self.landmarks is not None and len(residuals) != len(self.landmarks):
                raise CalibrationError(
                    f"{len(residuals)} residuals for {len(self.landmarks)} landmarks; give one per landmark."
                )
            residuals.setflags(write=False)
            object.__setattr__(self, "residuals", residuals)
        rms = self.residual_rms
        if rms is None and residuals is not None and len(residuals):
            rms = float(np.sqrt(np.mean(residuals**2)))
        if rms is not None:
            rms = float(rms)
            if not (math.isfinite(rms) and rms >= 0):
                raise CalibrationError(f"residual_rms is {rms!r}, expected a finite number >= 0 (world units).")
        object.__setattr__(self, "residual_rms", rms)

    # -- mapping -----------------------------------------------------------------------------
    @property
    def inverse(self) -> np.ndarray:
        """The world -> pixel matrix (3, 3).

        Examples
        --------
        >>> cal = from_cm_per_px(0.5, (640, 480))
        >>> cal.inverse @ [10, 20, 1]
        array([ 20., 440.,   1.])
        """
        return _positive_inverse(self.matrix)

    def pixels_to_world(self, xy: Any) -> np.ndarray:
        """Map pixel points ``(..., 2)`` to world points ``(..., 2)`` in ``unit``; NaN in, NaN out.

        Examples
        --------
        >>> cal = from_cm_per_px(1 / 5.6, (640, 480))
        >>> cal.pixels_to_world([[0, 480], [560, 32], [np.nan, 1]]).round(6).tolist()
        [[0.0, 0.0], [100.0, 80.0], [nan, nan]]
        """
        return _apply(self.matrix, xy, self.transform_type == "projective", "pixel points")

    def world_to_pixels(self, xy: Any) -> np.ndarray:
        """Map world points ``(..., 2)`` to pixel points ``(..., 2)``; NaN in, NaN out.

        Examples
        --------
        >>> cal = from_cm_per_px(1 / 5.6, (640, 480))
        >>> cal.world_to_pixels([100, 80]).round(6).tolist()
        [560.0, 32.0]
        """
        return _apply(self.inverse, xy, self.transform_type == "projective", "world points")

    @property
    def frame_centre(self) -> np.ndarray:
        """The centre of the frame in pixels, ``(width / 2, height / 2)``."""
        return np.array(self.frame_dimension, dtype=float) / 2

    def jacobian(self, xy: Any | None = None) -> np.ndarray:
        """d world / d pixel (2, 2) at pixel ``xy`` (default: the frame centre); constant unless projective.

        Examples
        --------
        >>> from_cm_per_px(0.5, (640, 480)).jacobian().tolist()
        [[0.5, 0.0], [0.0, -0.5]]
        """
        p = self.frame_centre if xy is None else np.asarray(xy, dtype=float).reshape(2)
        return _jacobian(self.matrix, p)

    @property
    def cm_per_px(self) -> float:
        """World units per pixel (cm/px when ``unit`` is cm): ``sqrt(|det J|)`` of the Jacobian.

        The square root of the area scale, i.e. the geometric mean of the scales along the two principal
        directions; for a projective calibration it is taken at the frame centre.

        Examples
        --------
        >>> round(from_cm_per_px(1 / 5.6, (640, 480)).cm_per_px, 6)
        0.178571
        """
        return float(math.sqrt(abs(np.linalg.det(self.jacobian()))))

    @property
    def rotation_deg(self) -> float:
        """Angle (degrees, counter-clockwise in the world) of the image x axis, at the frame centre."""
        j = self.jacobian()
        return float(np.degrees(np.arctan2(j[1, 0], j[0, 0])))

    @property
    def flips_y(self) -> bool:
        """True when the map reflects (image y down -> world y up): negative Jacobian determinant."""
        return bool(np.linalg.det(self.jacobian()) < 0)

    def world_extent(self) -> tuple[float, float]:
        """Width and height (``unit``) of the world bounding box of the frame's four corners."""
        world = self.pixels_to_world(frame_corners(self.frame_dimension))
        w, h = np.ptp(world, axis=0)
        return float(w), float(h)

    # -- derived calibrations ----------------------------------------------------------------
    def for_reader(self, offset: Sequence[float], scale: float | Sequence[float], size: Sequence[int]) -> Calibration:
        """The calibration of a cropped and/or downsampled version of the video.

        A reader pixel ``p`` (in the reader's frame of ``size``) shows source pixel
        ``p * scale + offset``, so the new matrix is ``matrix @ [[sx, 0, ox], [0, sy, oy], [0, 0, 1]]``.
        Pixel corners, not centres, line up: reader pixel (0, 0)'s corner is source ``offset``.

        Parameters
        ----------
        offset : (float, float)
            Source pixel of the reader frame's top-left corner (the crop's left and top).
        scale : float or (float, float)
            Source pixels per reader pixel (2 for a half-size video). Unequal x and y scales turn a
            scale or similarity calibration into an affine one.
        size : (int, int)
            ``(width, height)`` of the reader's frame.

        Returns
        -------
        Calibration
            With the composed matrix, ``frame_dimension = size`` and the landmarks moved to reader pixels.

        Examples
        --------
        Crop the arena out of the 640 x 480 video (x 40..600, y 16..464) and halve it:

        >>> cal = from_cm_per_px(1 / 5.6, (640, 480))
        >>> small = cal.for_reader(offset=(40, 16), scale=2, size=(280, 224))
        >>> small.pixels_to_world([[0, 224], [280, 0]]).round(6).tolist()
        [[7.142857, 2.857143], [107.142857, 82.857143]]
        >>> round(small.cm_per_px, 6)
        0.357143
        """
        try:
            ox, oy = (float(v) for v in np.asarray(offset, dtype=float).reshape(2))
            sxy = np.broadcast_to(np.asarray(scale, dtype=float), (2,))
            sx, sy = float(sxy[0]), float(sxy[1])
        except (TypeError, ValueError):
            raise CalibrationError(
                f"for_reader needs offset=(x, y) and scale=s or (sx, sy) as numbers; got offset={offset!r}, "
                f"scale={scale!r}."
            ) from None
        if not all(math.isfinite(v) for v in (ox, oy, sx, sy)) or sx <= 0 or sy <= 0:
            raise CalibrationError(
                f"for_reader got offset={offset!r}, scale={scale!r}; the offset must be finite and the scale "
                "(source pixels per reader pixel) finite and > 0."
            )
        size = _frame_dimension(size)
        to_source = np.array([[sx, 0, ox], [0, sy, oy], [0, 0, 1.0]])
        transform_type = self.transform_type
        if sx != sy and transform_type in ("scale", "similarity"):
            transform_type = "affine"
        landmarks = None
        if self.landmarks is not None:
            pix = (self.landmarks.pixel - [ox, oy]) / [sx, sy]
            landmarks = Landmarks(self.landmarks.labels, pix, self.landmarks.world)
        return replace(
            self,
            matrix=self.matrix @ to_source,
            transform_type=transform_type,
            frame_dimension=size,
            landmarks=landmarks,
            residuals=self.residuals,
            residual_rms=self.residual_rms,
        )

    # -- NWB -----------------------------------------------------------------------------------
    def to_nwb(
        self,
        image_series: Any,
        device: Any | None = None,
        name: str = "VideoCalibration",
        description: str | None = None,
    ) -> VideoCalibration:
        """This calibration as an ``ndx_video_calibration.VideoCalibration`` linked to ``image_series``.

        Add the result to ``nwbfile.processing["behavior"]``; writing the file writes it.

        Examples
        --------
        >>> from ndx_video_calibration.testing import mock_ImageSeries
        >>> cal = from_cm_per_px(1 / 5.6, (640, 480))
        >>> vc = cal.to_nwb(mock_ImageSeries(frame_dimension=(640, 480)))
        >>> vc.transform_type, vc.method, vc.frame_dimension.tolist()
        ('scale', 'cm_per_px', [640, 480])
        """
        try:
            from ndx_video_calibration import VideoCalibration
        except ImportError as err:  # pragma: no cover - it is a dependency
            raise CalibrationError(
                "storing a calibration in NWB needs the ndx-video-calibration package, which could not be "
                f"imported ({err}). Install it: pip install ndx-video-calibration."
            ) from err
        dim = getattr(image_series, "dimension", None)
        if dim is not None and len(dim) >= 2 and tuple(int(v) for v in dim[:2]) != self.frame_dimension:
            raise CalibrationError(
                f"this calibration is for a {self.frame_dimension[0]}x{self.frame_dimension[1]} frame but "
                f"ImageSeries {image_series.name!r} has dimension {[int(v) for v in dim[:2]]} (width, height). "
                "Calibrate the video as stored, or derive the matching calibration with for_reader()."
            )
        if description is None:
            description = (
                f"Pixel-to-world calibration of {getattr(image_series, 'name', 'the video')}: {self.transform_type}, "
                f"from {self.method}, {self.cm_per_px:.6g} {self.unit}/px"
                + (f", landmark RMS error {self.residual_rms:.3g} {self.unit}" if self.residual_rms is not None else "")
                + "."
            )
        landmarks = None
        if self.landmarks is not None:
            landmarks = {
                "label": list(self.landmarks.labels),
                "pixel_x": self.landmarks.pixel[:, 0].copy(),
                "pixel_y": self.landmarks.pixel[:, 1].copy(),
                "world_x": self.landmarks.world[:, 0].copy(),
                "world_y": self.landmarks.world[:, 1].copy(),
            }
        try:
            return VideoCalibration(
                name=name,
                transform=np.array(self.matrix),
                transform_type=self.transform_type,
                frame_dimension=list(self.frame_dimension),
                image_series=image_series,
                reference_frame=self.reference_frame,
                method=self.method,
                description=description,
                unit=self.unit,
                residual_rms=self.residual_rms,
                landmarks=landmarks,
                device=device,
            )
        except ValueError as err:
            raise CalibrationError(f"cannot store the calibration in NWB: {err}") from err

    @classmethod
    def from_nwb(cls, container: Any) -> Calibration:
        """Read a ``VideoCalibration`` (the registered class, or the one pynwb builds from a cached spec).

        Residuals are recomputed from the stored landmarks.

        Examples
        --------
        >>> from ndx_video_calibration.testing import mock_VideoCalibration
        >>> cal = Calibration.from_nwb(mock_VideoCalibration())
        >>> cal.transform_type, cal.unit, len(cal.landmarks)
        ('similarity', 'cm', 4)
        """
        try:
            matrix = np.asarray(container.transform[:], dtype=np.float64)
            frame_dimension = tuple(int(v) for v in np.asarray(container.frame_dimension[:]))
            transform_type = str(container.transform_type)
        except AttributeError as err:
            raise CalibrationError(
                f"{getattr(container, 'name', container)!r} is not a VideoCalibration ({err}); pass the "
                "VideoCalibration container from processing/behavior."
            ) from None
        landmarks = None
        table = getattr(container, "landmarks", None)
        if table is not None:
            try:
                cols = {c: table[c].data[:] for c in CSV_COLUMNS}
            except KeyError as err:
                raise CalibrationError(
                    f"the landmarks table of {container.name!r} lacks the column {err}; expected {list(CSV_COLUMNS)}."
                ) from None
            labels = tuple(v.decode() if isinstance(v, bytes) else str(v) for v in cols["label"])
            landmarks = Landmarks(
                labels,
                np.column_stack([cols["pixel_x"], cols["pixel_y"]]).astype(float),
                np.column_stack([cols["world_x"], cols["world_y"]]).astype(float),
            )
        convention = getattr(container, "pixel_convention", None)
        if convention is not None and " ".join(str(convention).lower().split()) != PIXEL_CONVENTION.lower():
            warnings.warn(
                f"VideoCalibration {getattr(container, 'name', '')!r} declares the pixel convention "
                f"{str(convention)!r}, not nwbview's ({PIXEL_CONVENTION!r}); its matrix is used as stored, "
                "so positions may be off by up to a pixel. Re-fit the calibration in nwbview's convention "
                "if that matters.",
                NWBViewWarning,
                stacklevel=2,
            )
        rms = getattr(container, "residual_rms", None)
        try:
            return cls(
                matrix=matrix,
                transform_type=transform_type,
                frame_dimension=frame_dimension,
                unit=str(getattr(container, "unit", None) or "cm"),
                method=str(getattr(container, "method", None) or "unknown"),
                residual_rms=None if rms is None else float(np.asarray(rms)),
                landmarks=landmarks,
                reference_frame=str(getattr(container, "reference_frame", None) or ""),
            )
        except CalibrationError as err:
            raise CalibrationError(
                f"the VideoCalibration {getattr(container, 'name', '')!r} in the file is invalid: {err}"
            ) from err

    # -- text ----------------------------------------------------------------------------------
    def summary(self) -> str:
        """A few lines describing the calibration: type, scale, rotation, extent, residuals.

        Examples
        --------
        >>> print(from_cm_per_px(1 / 5.6, (640, 480)).summary())  # doctest: +NORMALIZE_WHITESPACE
        scale calibration (from cm_per_px) of a 640 x 480 px frame
          scale: 0.178571 cm/px (5.6 px/cm)
          rotation: image x axis at 0.00 deg from world x; y flipped (image y down -> world y up)
          frame in the world: 114.286 x 85.7143 cm
          residuals: none (no landmarks)
          reference frame: origin at the bottom-left corner of the video frame; x right, y up; in cm
        """
        u = self.unit
        s = self.cm_per_px
        at = " at the frame centre" if self.transform_type == "projective" else ""
        lines = [
            f"{self.transform_type} calibration (from {self.method}) of a "
            f"{self.frame_dimension[0]} x {self.frame_dimension[1]} px frame",
            f"  scale: {s:.6g} {u}/px ({1 / s:.6g} px/{u}){at}",
        ]
        if self.transform_type in ("affine", "projective"):
            j = self.jacobian()
            lines.append(
                f"  scale along image x / y: {np.hypot(*j[:, 0]):.6g} / {np.hypot(*j[:, 1]):.6g} {u}/px{at}"
            )
        flip = "y flipped (image y down -> world y up)" if self.flips_y else "no flip (world y points down, as in the image)"
        lines.append(f"  rotation: image x axis at {self.rotation_deg:.2f} deg from world x; {flip}")
        ew, eh = self.world_extent()
        lines.append(f"  frame in the world: {ew:.6g} x {eh:.6g} {u}")
        if self.residuals is not None and len(self.residuals):
            worst = int(np.argmax(self.residuals))
            name = self.landmarks.labels[worst] if self.landmarks is not None else str(worst)
            lines.append(
                f"  residuals: rms {self.residual_rms:.3g} {u}, max {self.residuals[worst]:.3g} {u} "
                f"({name!r}) over {len(self.residuals)} landmarks"
            )
        elif self.residual_rms is not None:
            lines.append(f"  residuals: rms {self.residual_rms:.3g} {u}")
        else:
            lines.append("  residuals: none (no landmarks)")
        if self.reference_frame:
            lines.append(f"  reference frame: {self.reference_frame}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------ simple fits


def _positive(name: str, value: Any, how: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not (math.isfinite(v) and v > 0):
        raise CalibrationError(f"{name} is {value!r}, expected a finite number > 0; {how}")
    return v


def from_cm_per_px(value: float, frame_dimension: Sequence[int], *, unit: str = "cm") -> Calibration:
    """A scale calibration from a known world-units-per-pixel value.

    The world origin is the bottom-left corner of the frame, x right and y up:
    ``world = (s * px, s * (H - py))``.

    Parameters
    ----------
    value : float
        World units (``unit``) per pixel, > 0.
    frame_dimension : (int, int)
        ``(width, height)`` of the video in pixels.
    unit : str, default: "cm"
        Unit of ``value``'s numerator and of world coordinates.

    Returns
    -------
    Calibration
        ``transform_type="scale"``, ``method="cm_per_px"``.

    Raises
    ------
    CalibrationError
        When ``value`` is not a finite number > 0 or ``frame_dimension`` is not two positive integers.

    Examples
    --------
    A camera views a 100 x 80 cm arena from above at 5.6 px/cm, in a 640 x 480 video:

    >>> cal = from_cm_per_px(1 / 5.6, (640, 480))
    >>> cal.pixels_to_world([[0, 480], [640, 0]]).round(4).tolist()
    [[0.0, 0.0], [114.2857, 85.7143]]
    """
    s = _positive("the scale (world units per pixel)", value, "measure a known length in the video and divide.")
    fd = _frame_dimension(frame_dimension)
    matrix = np.array([[s, 0.0, 0.0], [0.0, -s, s * fd[1]], [0.0, 0.0, 1.0]])
    return Calibration(
        matrix, "scale", fd, unit=unit, method="cm_per_px",
        reference_frame=f"{FRAME_REFERENCE}; in {unit}",
    )


def from_scale_bar(
    p1: Sequence[float],
    p2: Sequence[float],
    length: float,
    frame_dimension: Sequence[int],
    *,
    unit: str = "cm",
) -> Calibration:
    """A scale calibration from a scale bar: two pixel points a known world ``length`` apart.

    Same origin convention as :func:`from_cm_per_px`: the bottom-left corner of the frame, y up.

    Parameters
    ----------
    p1, p2 : (float, float)
        Pixel positions of the bar's ends.
    length : float
        Real distance between them, in ``unit``.
    frame_dimension : (int, int)
        ``(width, height)`` of the video in pixels.
    unit : str, default: "cm"

    Returns
    -------
    Calibration
        ``transform_type="scale"``, ``method="scale_bar"``.

    Raises
    ------
    CalibrationError
        For a zero-length bar (``p1 == p2``), a non-positive ``length`` or non-finite points.

    Examples
    --------
    The arena's 100 cm south wall runs from pixel (40, 464) to (600, 464):

    >>> cal = from_scale_bar((40, 464), (600, 464), 100, (640, 480))
    >>> round(1 / cal.cm_per_px, 6)
    5.6
    """
    pts = _points("scale bar end points (p1, p2)", [p1, p2], ["p1", "p2"])
    length = _positive("length", length, "give the real distance between the two points.")
    px = float(np.hypot(*(pts[1] - pts[0])))
    if px <= 1e-9 * max(1.0, float(np.abs(pts).max())):
        raise CalibrationError(
            f"the scale bar has zero length in the video: p1 = p2 = {pts[0].tolist()}. Pick two different "
            "points at the ends of an object of known length."
        )
    cal = from_cm_per_px(length / px, frame_dimension, unit=unit)
    return replace(cal, method="scale_bar")


# ------------------------------------------------------------------------------ landmark fits


def _fit_similarity(pix: np.ndarray, world: np.ndarray) -> np.ndarray:
    """Best similarity (proper or reflecting) in the least-squares sense; ties go to the reflecting one."""
    z = pix[:, 0] + 1j * pix[:, 1]
    w = world[:, 0] + 1j * world[:, 1]
    zc, wc = z - z.mean(), w - w.mean()
    denom = float(np.sum(np.abs(zc) ** 2))
    # proper: w = a z + b;  improper (reflecting): w = a conj(z) + b
    a_p = np.sum(np.conj(zc) * wc) / denom
    a_r = np.sum(zc * wc) / denom
    ss_p = float(np.sum(np.abs(wc - a_p * zc) ** 2))
    ss_r = float(np.sum(np.abs(wc - a_r * np.conj(zc)) ** 2))
    tie = 1e-9 * float(np.sum(np.abs(wc) ** 2)) + 1e-300
    if ss_r <= ss_p + tie:
        a = a_r
        b = w.mean() - a * np.conj(z.mean())
        p, q = a.real, a.imag
        lin = np.array([[p, q], [q, -p]])
    else:
        a = a_p
        b = w.mean() - a * z.mean()
        p, q = a.real, a.imag
        lin = np.array([[p, -q], [q, p]])
    return np.array([[lin[0, 0], lin[0, 1], b.real], [lin[1, 0], lin[1, 1], b.imag], [0.0, 0.0, 1.0]])


def _fit_affine(pix: np.ndarray, world: np.ndarray) -> np.ndarray:
    tp, tw = _similarity_normaliser(pix), _similarity_normaliser(world)
    pn = pix @ tp[:2, :2].T + tp[:2, 2]
    wn = world @ tw[:2, :2].T + tw[:2, 2]
    design = np.column_stack([pn, np.ones(len(pn))])
    sol, *_ = np.linalg.lstsq(design, wn, rcond=None)
    an = np.vstack([sol.T, [0.0, 0.0, 1.0]])
    m = np.linalg.inv(tw) @ an @ tp
    m[2] = [0.0, 0.0, 1.0]
    return m


def _fit_projective(pix: np.ndarray, world: np.ndarray) -> np.ndarray:
    """Normalised DLT, then (more than 4 points) least squares on the world-space residuals."""
    tp, tw = _similarity_normaliser(pix), _similarity_normaliser(world)
    pn = pix @ tp[:2, :2].T + tp[:2, 2]
    wn = world @ tw[:2, :2].T + tw[:2, 2]
    n = len(pn)
    a = np.zeros((2 * n, 9))
    x, y = pn[:, 0], pn[:, 1]
    u, v = wn[:, 0], wn[:, 1]
    a[0::2, 0:3] = np.column_stack([x, y, np.ones(n)])
    a[0::2, 6:9] = -np.column_stack([u * x, u * y, u])
    a[1::2, 3:6] = np.column_stack([x, y, np.ones(n)])
    a[1::2, 6:9] = -np.column_stack([v * x, v * y, v])
    _, s, vt = np.linalg.svd(a)
    if s[7] <= 1e-10 * s[0]:
        raise CalibrationError(
            "the landmarks do not determine a projective transform (degenerate configuration: too many of "
            "them lie on one line). Add landmarks spread over the arena, away from a common line."
        )
    hn = vt[-1].reshape(3, 3)
    if abs(hn[2, 2]) > 1e-12:
        hn = hn / hn[2, 2]
    if n > 4:
        from scipy.optimize import least_squares

        def resid(params: np.ndarray) -> np.ndarray:
            h = np.append(params, 1.0).reshape(3, 3)
            q = pn @ h[:, :2].T + h[:, 2]
            return (q[:, :2] / q[:, 2:3] - wn).ravel()

        if abs(hn[2, 2] - 1.0) < 1e-12:
            fit = least_squares(resid, hn.ravel()[:8], method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
            if fit.success and np.all(np.isfinite(fit.x)):
                cand = np.append(fit.x, 1.0).reshape(3, 3)
                if np.sum(resid(fit.x) ** 2) <= np.sum(resid(hn.ravel()[:8]) ** 2):
                    hn = cand
    return np.linalg.inv(tw) @ hn @ tp


def fit_landmarks(
    pixel: Any,
    world: Any,
    transform_type: str = "auto",
    *,
    labels: Sequence[str] | None = None,
    frame_dimension: Sequence[int],
    unit: str = "cm",
    reference_frame: str = LANDMARK_REFERENCE,
) -> Calibration:
    """Fit a pixel -> world calibration to landmarks seen in the video at known world positions.

    Parameters
    ----------
    pixel : array_like, shape (n, 2)
        Landmark positions in the video (pixels; origin at the top-left corner, y down).
    world : array_like, shape (n, 2)
        The same landmarks in the world (``unit``; y up, as the user defines the arena).
    transform_type : {"auto", "similarity", "affine", "projective"}, default: "auto"
        - ``similarity`` (2+ landmarks): rotation, uniform scale, translation, reflection allowed.
        - ``affine`` (3+ landmarks, not all on one line): also unequal scales and shear.
        - ``projective`` (4+ landmarks, no 3 of 4 on one line): a camera that is not looking straight
          down. Normalised DLT, refined by least squares on world-space residuals with more than 4.
        - ``auto``: the richest type the landmark count allows, up to ``affine``: 2 landmarks give a
          similarity, 3 or more an affine map (a similarity, with a warning, when they all lie on one
          line). ``projective`` is fitted only when asked: with few landmarks it also fits clicking
          noise, and most top-down cameras are affine to well under a pixel.
    labels : sequence of str, optional
        A name per landmark, used in messages and stored with the calibration; default ``"0"``, ``"1"``, ...
    frame_dimension : (int, int)
        ``(width, height)`` of the video in pixels.
    unit : str, default: "cm"
        Unit of ``world``.
    reference_frame : str
        Text describing the world origin and axes (stored in NWB).

    Returns
    -------
    Calibration
        With ``method="landmarks"``, per-landmark ``residuals`` and ``residual_rms`` in world units.

    Raises
    ------
    CalibrationError
        Mismatched or malformed shapes, non-finite values, too few landmarks for the type, coincident
        landmarks, landmarks all on one line (affine, projective), a degenerate or horizon-crossing fit.

    Notes
    -----
    The y flip is found by the fit, not assumed: image y points down and a world y usually points up,
    so the usual answer is a *reflecting* map (negative determinant). For ``similarity`` both a proper
    and a reflecting similarity are fitted and the one with the smaller squared error is kept. Two
    landmarks (or landmarks all on one line) are fitted exactly by both; then the reflecting one is
    kept, because it is the standard y-up world seen by an upright camera, whereas the proper one
    would describe a y-down world or a mirrored video. If your world really has y down, give three
    landmarks not on one line.

    Examples
    --------
    A camera views a 100 x 80 cm arena from above at 5.6 px/cm; its corners are clicked in the video:

    >>> pixel = [[40, 464], [600, 464], [600, 16], [40, 16]]
    >>> world = [[0, 0], [100, 0], [100, 80], [0, 80]]
    >>> cal = fit_landmarks(pixel, world, labels=["SW", "SE", "NE", "NW"], frame_dimension=(640, 480))
    >>> cal.transform_type, round(1 / cal.cm_per_px, 6), round(cal.residual_rms, 9)
    ('affine', 5.6, 0.0)
    >>> cal.pixels_to_world([320, 240]).round(6).tolist()
    [50.0, 40.0]

    Two landmarks give a similarity, with the y flip found from the data:

    >>> cal = fit_landmarks(pixel[:2], world[:2], frame_dimension=(640, 480))
    >>> cal.transform_type, cal.flips_y
    ('similarity', True)
    """
    fd = _frame_dimension(frame_dimension)
    if transform_type not in ("auto", "similarity", "affine", "projective"):
        hint = " For a known scale use from_cm_per_px() or from_scale_bar()." if transform_type == "scale" else ""
        raise CalibrationError(
            f"transform_type is {transform_type!r}, expected 'auto', 'similarity', 'affine' or 'projective'.{hint}"
        )
    labels = None if labels is None else [str(v) for v in labels]
    pix = _points("pixel", pixel, labels)
    wld = _points("world", world, labels)
    n = len(pix)
    if len(wld) != n:
        raise CalibrationError(
            f"{n} pixel positions but {len(wld)} world positions; give both for every landmark, in the same order."
        )
    if labels is None:
        labels = [str(i) for i in range(n)]
    if len(labels) != n:
        raise CalibrationError(f"{len(labels)} labels for {n} landmarks; give one label per landmark (or none).")
    if n < 2:
        raise CalibrationError(
            f"{n} landmark(s) cannot fix a calibration: a similarity needs 2, an affine 3, a projective 4. "
            "Add landmarks, or use from_cm_per_px() / from_scale_bar() for a known scale."
        )
    kind = transform_type
    if kind == "auto":
        if n == 2:
            kind = "similarity"
        elif _is_collinear(pix) or _is_collinear(wld):
            warnings.warn(
                f"the {n} landmarks {labels} lie on one line, which fixes only a similarity (rotation + "
                "uniform scale), not an affine map: fitting a similarity. Add a landmark off that line for "
                "an affine fit.",
                NWBViewWarning,
                stacklevel=2,
            )
            kind = "similarity"
        else:
            kind = "affine"
    need = MIN_POINTS[kind]
    if n < need:
        raise CalibrationError(
            f"a {kind} fit needs at least {need} landmarks, got {n} ({labels}). Add landmarks or choose "
            f"transform_type={'similarity' if n >= 2 else 'auto'!r}."
        )

    if kind == "similarity":
        for name, pts in (("pixel", pix), ("world", wld)):
            if np.ptp(pts, axis=0).max() <= 1e-12 * max(1.0, float(np.abs(pts).max())):
                raise CalibrationError(
                    f"all landmarks are at the same {name} position {pts[0].tolist()}; a calibration needs "
                    "at least two distinct landmarks. Check the coordinates."
                )
        matrix = _fit_similarity(pix, wld)
    else:
        for name, pts in (("pixel", pix), ("world", wld)):
            pairs = _coincident_pairs(pts, labels)
            if pairs:
                raise CalibrationError(
                    f"landmarks {pairs[0][0]!r} and {pairs[0][1]!r} are at the same {name} position "
                    f"{pts[labels.index(pairs[0][0])].tolist()}; coincident landmarks make a {kind} fit "
                    "ill-posed. Remove the duplicate or fix its coordinates."
                )
            if _is_collinear(pts):
                raise CalibrationError(
                    f"the {name} positions of the landmarks {labels} lie on one line, which cannot fix a "
                    f"{kind} map (it could stretch the perpendicular direction freely). Add landmarks off "
                    "that line, or use transform_type='similarity'."
                )
            if kind == "projective" and n == 4:
                triple = _collinear_triple(pts, labels)
                if triple is not None:
                    raise CalibrationError(
                        f"landmarks {triple} lie on one line in {name} coordinates; 4 landmarks fix a "
                        "projective map only when no 3 of them are collinear. Move one, or add more landmarks."
                    )
        matrix = _fit_affine(pix, wld) if kind == "affine" else _fit_projective(pix, wld)

    try:
        cal = Calibration(
            matrix,
            kind,
            fd,
            unit=unit,
            method="landmarks",
            landmarks=Landmarks(tuple(labels), pix, wld),
            reference_frame=reference_frame,
        )
    except CalibrationError as err:
        raise CalibrationError(
            f"the {kind} fit to the landmarks {labels} is not a usable calibration: {err} Swapped or "
            "mistyped landmarks are the usual cause: check that each pixel position belongs to the world "
            "position on its row."
        ) from err
    return cal


# ------------------------------------------------------------------------------------ checks


def check_calibration(cal: Calibration, positions_px: Any | None = None) -> list[str]:
    """Look for the usual signs of a wrong calibration; warn (``NWBViewWarning``) and return the messages.

    Checks:

    - more than 1% of the tracked ``positions_px`` (NaN ignored) fall outside the calibrated frame
      (wrong video, or positions from a cropped/downsampled video);
    - the frame spans less than 5 cm or more than 50 m in the world (mistyped units or landmarks);
    - the landmark fit error (RMS) is more than 2% of the frame's world extent (swapped landmarks);
    - the map does not flip y (image y down -> world y up): with a y-up world, two landmarks are swapped.

    Parameters
    ----------
    cal : Calibration
    positions_px : array_like, shape (..., 2), optional
        Tracked positions in video pixels.

    Returns
    -------
    list of str
        One message per problem found; empty when none.

    Examples
    --------
    The arena's corners, with the world positions of SE and NW typed the wrong way round:

    >>> pixel = [[40, 464], [600, 464], [600, 16], [40, 16]]
    >>> world = [[0, 0], [0, 80], [100, 80], [100, 0]]
    >>> cal = fit_landmarks(pixel, world, labels=["SW", "SE", "NE", "NW"], frame_dimension=(640, 480))
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     messages = check_calibration(cal)
    >>> [m.split(":")[0] for m in messages]
    ['the map does not flip y']
    """
    if not isinstance(cal, Calibration):
        raise CalibrationError(f"check_calibration needs a Calibration, got {type(cal).__name__}.")
    messages: list[str] = []
    w, h = cal.frame_dimension
    if positions_px is not None:
        try:
            pts = np.asarray(positions_px, dtype=float)
        except (TypeError, ValueError):
            raise CalibrationError("positions_px must be numbers of shape (..., 2).") from None
        if pts.ndim == 0 or pts.shape[-1] != 2:
            raise CalibrationError(f"positions_px must have shape (..., 2); got {pts.shape}.")
        pts = pts.reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)]
        if len(pts):
            outside = (pts[:, 0] < 0) | (pts[:, 0] > w) | (pts[:, 1] < 0) | (pts[:, 1] > h)
            frac = float(outside.mean())
            if frac > 0.01:
                messages.append(
                    f"positions outside the frame: {frac:.1%} of the tracked positions lie outside the "
                    f"calibrated {w} x {h} px frame (x range {pts[:, 0].min():.1f}..{pts[:, 0].max():.1f}, "
                    f"y range {pts[:, 1].min():.1f}..{pts[:, 1].max():.1f}). They are from another video size "
                    "(cropped or downsampled?) or another video: use cal.for_reader(...) for the video they "
                    "were tracked in, or the calibration of that video."
                )
    ew, eh = cal.world_extent()
    cm = CM_PER_UNIT.get(cal.unit.strip().lower()) if cal.unit else None
    if cm is not None:
        extent_cm = max(ew, eh) * cm
        if extent_cm < 5 or extent_cm > 5000:
            messages.append(
                f"implausible arena size: the {w} x {h} px frame spans {ew:.4g} x {eh:.4g} {cal.unit} "
                f"({extent_cm / 100:.4g} m across), {'less than 5 cm' if extent_cm < 5 else 'more than 50 m'}. "
                "The usual cause is world coordinates in another unit than declared (mm typed as cm), or "
                "pixel and world columns swapped. Check the landmarks / scale and the unit."
            )
    if cal.residuals is not None and len(cal.residuals) and cal.residual_rms is not None:
        extent = max(ew, eh)
        if extent > 0 and cal.residual_rms > 0.02 * extent:
            worst = int(np.argmax(cal.residuals))
            label = cal.landmarks.labels[worst] if cal.landmarks is not None else str(worst)
            messages.append(
                f"large landmark fit error: RMS {cal.residual_rms:.3g} {cal.unit} is "
                f"{cal.residual_rms / extent:.1%} of the arena's extent; the worst landmark is {label!r} "
                f"({cal.residuals[worst]:.3g} {cal.unit}). Landmarks are likely swapped or mistyped: check "
                "that each pixel position belongs to the world position on its row."
            )
    if not cal.flips_y:
        messages.append(
            "the map does not flip y: image y points down, and this calibration keeps world y pointing "
            "down too (or mirrors the video). With the usual y-up world two landmarks are swapped; if "
            "your world's y axis really points down (or the video is mirrored), ignore this."
        )
    for message in messages:
        warnings.warn(message, NWBViewWarning, stacklevel=2)
    return messages


# ---------------------------------------------------------------------------------------- CSV


def read_landmarks_csv(path: str | Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Read landmarks from a CSV file with the header ``label,pixel_x,pixel_y,world_x,world_y``.

    Columns may come in any order; extra columns are ignored, as are blank lines and lines starting
    with ``#``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    labels : list of str
    pixel : ndarray, shape (n, 2)
    world : ndarray, shape (n, 2)

    Raises
    ------
    MissingFileError
        When the file does not exist.
    CalibrationError
        For missing columns, empty or non-numeric cells (naming the line) and files without landmarks.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "landmarks.csv"
    >>> _ = path.write_text("label,pixel_x,pixel_y,world_x,world_y\\nSW,40,464,0,0\\nNE,600,16,100,80\\n")
    >>> labels, pixel, world = read_landmarks_csv(path)
    >>> labels, pixel.tolist(), world.tolist()
    (['SW', 'NE'], [[40.0, 464.0], [600.0, 16.0]], [[0.0, 0.0], [100.0, 80.0]])
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(
            f"landmarks file {str(path)!r} does not exist. Give the path of a CSV file with the header "
            f"{','.join(CSV_COLUMNS)}."
        )
    with open(path, newline="", encoding="utf-8-sig") as f:
        lines = [(i, line) for i, line in enumerate(f, start=1) if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise CalibrationError(f"landmarks file {str(path)!r} is empty; expected the header {','.join(CSV_COLUMNS)}.")
    rows = list(csv.reader([line for _, line in lines]))
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise CalibrationError(
            f"landmarks file {str(path)!r} lacks the column(s) {missing} (header on line {lines[0][0]}: "
            f"{rows[0]}). The header must name {','.join(CSV_COLUMNS)}."
        )
    index = {c: header.index(c) for c in CSV_COLUMNS}
    labels: list[str] = []
    values: list[list[float]] = []
    for (lineno, _), row in zip(lines[1:], rows[1:]):
        if len(row) < len(header):
            raise CalibrationError(
                f"landmarks file {str(path)!r}, line {lineno}: {len(row)} cells, expected {len(header)} "
                f"({','.join(header)}). Fill in the missing cells."
            )
        labels.append(row[index["label"]].strip())
        nums = []
        for c in CSV_COLUMNS[1:]:
            cell = row[index[c]].strip()
            try:
                v = float(cell)
            except ValueError:
                v = float("nan")
            if not math.isfinite(v):
                raise CalibrationError(
                    f"landmarks file {str(path)!r}, line {lineno} (landmark {labels[-1]!r}): {c} is "
                    f"{cell!r}, expected a finite number. Fix that cell."
                )
            nums.append(v)
        values.append(nums)
    if not values:
        raise CalibrationError(f"landmarks file {str(path)!r} has a header but no landmarks; add one row per landmark.")
    arr = np.array(values, dtype=float)
    return labels, arr[:, :2].copy(), arr[:, 2:].copy()
