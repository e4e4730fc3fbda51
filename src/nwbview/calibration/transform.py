"""The calibration transform: :class:`Calibration`, :class:`Landmarks`, and simple constructors.

See :mod:`nwbview.calibration` for the pixel and world frames.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ndx_video_calibration import TRANSFORM_TYPES, apply_transform, frame_corners, positive_inverse, validate_transform

from nwbview.errors import CalibrationError, NWBViewWarning
from nwbview.units import normalize_unit

if TYPE_CHECKING:  # pragma: no cover
    from ndx_video_calibration import VideoCalibration

__all__ = [
    "TRANSFORM_TYPES",
    "frame_corners",
    "Calibration",
    "Landmarks",
    "from_cm_per_px",
    "from_scale_bar",
]

#: the pixel convention nwbview uses (and ndx-video-calibration's default ``pixel_convention``)
PIXEL_CONVENTION = "origin at the top-left corner of the top-left pixel; x right, y down; pixel centres at +0.5"
FRAME_REFERENCE = "origin at the bottom-left corner of the video frame; x right, y up"
CSV_COLUMNS = ("label", "pixel_x", "pixel_y", "world_x", "world_y")


# ------------------------------------------------------------------------------------ helpers


def _fmt(a: Any) -> str:
    return np.array2string(np.asarray(a, dtype=float), precision=6, separator=", ", suppress_small=True).replace(
        "\n", ""
    )


def check_frame_dimension(frame_dimension: Any) -> tuple[int, int]:
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


def _numbers(values: Any, what: str, shape: str) -> np.ndarray:
    """``values`` as float64, or a CalibrationError naming ``what`` and the ``shape`` expected."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise CalibrationError(
            f"{what} must be numbers of shape {shape}; could not convert {type(values).__name__} {values!r:.80} to numbers."
        ) from None


def _apply(matrix: np.ndarray, xy: Any, projective: bool, what: str) -> np.ndarray:
    pts = _numbers(xy, what, "(..., 2) (x, y)")
    if pts.ndim == 0 or pts.shape[-1] != 2:
        raise CalibrationError(
            f"{what} must have shape (..., 2) (x, y in the last axis); got shape {pts.shape}. "
            "Stack x and y as the last axis, e.g. np.stack([x, y], axis=-1)."
        )
    return apply_transform(matrix, pts, projective)


def _jacobian(matrix: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """d world / d pixel at the pixel point ``xy`` (2,)."""
    ph = np.array([xy[0], xy[1], 1.0])
    u = matrix[:2] @ ph
    w = matrix[2] @ ph
    return (matrix[:2, :2] * w - np.outer(u, matrix[2, :2])) / (w * w)


def _check_matrix(matrix: Any, transform_type: str, frame_dimension: tuple[int, int]) -> np.ndarray:
    """Validate a pixel -> world matrix (the extension's rules, once); projective ones scaled to M[2, 2] = 1."""
    try:
        m = validate_transform(matrix, transform_type, frame_dimension)
    except ValueError as exc:
        raise CalibrationError(f"Invalid calibration: {exc}") from None
    return m / m[2, 2] if transform_type == "projective" else m


def check_points(name: str, values: Any, labels: Sequence[str] | None = None) -> np.ndarray:
    """Landmark positions as a finite float64 ``(n, 2)`` array, or a CalibrationError naming the bad one."""
    pts = _numbers(values, name, "(n, 2) (x, y per landmark)")
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


@dataclass(frozen=True, eq=False)
class Landmarks:
    """Landmarks a calibration was fitted to: ``labels`` (n,), ``pixel`` (n, 2), ``world`` (n, 2)."""

    labels: tuple[str, ...]
    pixel: np.ndarray
    world: np.ndarray

    def __post_init__(self) -> None:
        labels = tuple(str(v) for v in self.labels)
        pixel = check_points("landmark pixel positions", self.pixel, labels)
        world = check_points("landmark world positions", self.world, labels)
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

    def __iter__(self):
        """``labels, pixel, world = landmarks``."""
        return iter((list(self.labels), self.pixel, self.world))

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
        fd = check_frame_dimension(self.frame_dimension)
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
        return positive_inverse(self.matrix)

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
        size = check_frame_dimension(size)
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
                unit=normalize_unit(self.unit),  # spelled out, as NWB Inspector wants it
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
        ('similarity', 'centimeters', 4)
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
                unit=str(getattr(container, "unit", None) or "centimeters"),
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
    fd = check_frame_dimension(frame_dimension)
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
    pts = check_points("scale bar end points (p1, p2)", [p1, p2], ["p1", "p2"])
    length = _positive("length", length, "give the real distance between the two points.")
    px = float(np.hypot(*(pts[1] - pts[0])))
    if px <= 1e-9 * max(1.0, float(np.abs(pts).max())):
        raise CalibrationError(
            f"the scale bar has zero length in the video: p1 = p2 = {pts[0].tolist()}. Pick two different "
            "points at the ends of an object of known length."
        )
    cal = from_cm_per_px(length / px, frame_dimension, unit=unit)
    return replace(cal, method="scale_bar")
