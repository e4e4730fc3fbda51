"""Where data land in napari: the display coordinates of a view and the maps into them.

napari's first display axis points down. With an affine (scale, similarity, affine)
calibration the view is in *world* coordinates: a world point ``(x, y)`` (cm, y up) sits at
napari coordinates ``(row, col) = (-y, x)``, so the arena is shown with y up, and the video is
placed by the affine ``F @ M @ P`` (``P``: napari pixel index -> video pixel, pixel centres at
+0.5; ``M``: the calibration, pixel -> world; ``F``: world -> ``(-y, x)``). Without a
calibration, or with a projective one (which no affine can place), the view is in *pixel*
coordinates: napari coordinates are video pixel coordinates ``(row, col) = (y, x)`` and
world-coordinate data are mapped into the video through ``Calibration.world_to_pixels`` (or
refused, when there is no calibration: nwbview never guesses the y flip).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbview.errors import CalibrationError, NWBViewError, RenamedError, renamed_keywords, renamed_message

__all__ = ["Space", "affine_nd", "COORDINATES"]

#: the coordinates a view can be in
COORDINATES = ("world", "pixel")


class Space:
    """Where data land in napari: the display coordinates and the maps into them.

    Parameters
    ----------
    calibration : Calibration or None
        The video's pixel -> world calibration.
    coordinates : {"world", "pixel"}, optional
        Force the display coordinates (a session without video is shown in world coordinates).
        Default: world with an affine calibration, else pixel.
    unit : str, default: "cm"
        Unit of world coordinates when there is no calibration to say it.

    Attributes
    ----------
    coordinates : {"world", "pixel"}
        ``world`` with an affine calibration (napari ``(row, col) = (-y, x)``), else ``pixel``
        (napari ``(row, col) = (y, x)`` in video pixels).
    unit : str
        Unit of the displayed coordinates (the calibration's unit, or ``"px"``).

    Examples
    --------
    The demo camera sees the 100 x 80 cm arena at 5.6 px/cm, its south-west corner at pixel
    (40, 464):

    >>> from nwbview.calibration import Calibration
    >>> s = 1 / 5.6
    >>> space = Space(Calibration([[s, 0, -40 * s], [0, -s, 464 * s], [0, 0, 1]], "scale", (640, 480)))
    >>> space.coordinates, space.to_display([[0.0, 80.0]], "world").tolist()
    ('world', [[-80.0, 0.0]])
    >>> space.to_display([[40.0, 464.0]], "pixel").round(9).tolist()
    [[-0.0, 0.0]]
    >>> Space(None).to_display([[40.0, 464.0]], "pixel").tolist()
    [[464.0, 40.0]]
    """

    @renamed_keywords(frame="coordinates")
    def __init__(self, calibration: Any = None, *, coordinates: str | None = None, unit: str = "cm"):
        self.calibration = calibration
        self.projective = calibration is not None and calibration.transform_type == "projective"
        if coordinates is None:
            coordinates = "world" if calibration is not None and not self.projective else "pixel"
        if coordinates not in COORDINATES:
            raise NWBViewError(f"Invalid coordinates {coordinates!r}: must be one of {COORDINATES}.")
        self.coordinates = coordinates
        self.unit = (calibration.unit if calibration is not None else unit) if coordinates == "world" else "px"

    @property
    def frame(self) -> str:
        """Renamed in nwbview 0.2: :attr:`coordinates`."""
        raise RenamedError(renamed_message("Space.frame", "Space.coordinates", python=False))

    def __repr__(self) -> str:
        return f"<Space {self.coordinates} ({self.unit})>"

    def describe(self) -> str:
        """One sentence for the user: which coordinates the view is in, and why."""
        if self.coordinates == "world" and self.calibration is None:
            return f"World coordinates ({self.unit}, y up): the session has no video."
        if self.coordinates == "world":
            return (
                f"World coordinates ({self.unit}, y up) from the {self.calibration.transform_type} calibration: "
                "the video is placed by the calibration's affine."
            )
        if self.projective:
            return (
                "The calibration is projective, and napari can place an image only by an affine map: the "
                "view stays in video pixels and world-coordinate data (position, head direction) are mapped "
                "into the video through the calibration."
            )
        return "Video pixels: the video has no calibration."

    def _convert(self, xy: np.ndarray, coordinates: str, what: str) -> np.ndarray:
        if coordinates == self.coordinates:
            return xy
        if self.calibration is None:
            raise CalibrationError(
                f"{what} is in world coordinates but the video has no pixel <-> world calibration, so it "
                "cannot be placed on the video (nwbview never guesses the y flip). Calibrate the video "
                "(the viewer's calibration widget, or `nwbview calibrate FILE --landmarks CSV`)."
            )
        if coordinates == "pixel":
            return self.calibration.pixels_to_world(xy)
        return self.calibration.world_to_pixels(xy)

    @renamed_keywords(frame="coordinates")
    def to_display(self, xy: Any, coordinates: str, what: str = "The data") -> np.ndarray:
        """Points ``(..., 2)`` (x, y) in ``coordinates`` -> napari ``(row, col)``; NaN stays NaN."""
        xy = self._convert(np.asarray(xy, dtype=np.float64), coordinates, what)
        out = np.empty_like(xy)
        if self.coordinates == "world":
            out[..., 0] = -xy[..., 1]
            out[..., 1] = xy[..., 0]
        else:
            out[..., 0] = xy[..., 1]
            out[..., 1] = xy[..., 0]
        return out

    @renamed_keywords(frame="coordinates")
    def from_display(self, rc: Any, coordinates: str = "pixel") -> np.ndarray:
        """napari ``(row, col)`` -> points ``(..., 2)`` (x, y) in ``coordinates``."""
        rc = np.asarray(rc, dtype=np.float64)
        xy = np.empty_like(rc)
        if self.coordinates == "world":
            xy[..., 0] = rc[..., 1]
            xy[..., 1] = -rc[..., 0]
        else:
            xy[..., 0] = rc[..., 1]
            xy[..., 1] = rc[..., 0]
        if coordinates == self.coordinates:
            return xy
        if self.calibration is None:
            raise CalibrationError("The view is in video pixels and has no calibration to convert to world coordinates.")
        return self.calibration.world_to_pixels(xy) if coordinates == "pixel" else self.calibration.pixels_to_world(xy)

    def video_affine(self) -> np.ndarray:
        """3x3 affine: napari pixel index ``(r, c, 1)`` of the video -> napari ``(row, col, 1)``.

        napari draws pixel ``(r, c)`` centred on ``(r, c)``; nwbview's pixel centres are at
        ``(x, y) = (c + 0.5, r + 0.5)``.
        """
        if self.coordinates == "pixel":
            return np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
        p = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.5], [0.0, 0.0, 1.0]])  # (r, c) -> (x, y)
        f = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # (x, y) -> (-y, x)
        return f @ np.asarray(self.calibration.matrix, dtype=np.float64) @ p

    @property
    def px_size(self) -> float:
        """Display units per video pixel (to size markers like the export does)."""
        if self.coordinates == "world":
            return float(self.calibration.cm_per_px) if self.calibration is not None else 0.2  # no video: ~5 px/cm
        return 1.0


def affine_nd(a2: np.ndarray) -> np.ndarray:
    """A 2-D (row, col) affine as the 3-D (time, row, col) affine napari takes.

    Examples
    --------
    >>> affine_nd(Space(None).video_affine())[1:3, 3].tolist()
    [0.5, 0.5]
    """
    out = np.eye(4)
    out[1:3, 1:3] = a2[:2, :2]
    out[1:3, 3] = a2[:2, 2]
    return out
