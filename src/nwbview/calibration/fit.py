"""Fitting a calibration to landmarks, checking it, and reading landmarks from CSV.

See :mod:`nwbview.calibration` for the pixel and world frames.
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


from nwbview.errors import CalibrationError, MissingFileError, NWBViewWarning
from nwbview.units import cm_per_unit


from nwbview.calibration.transform import (
    CSV_COLUMNS,
    Calibration,
    Landmarks,
    check_frame_dimension,
    check_points,
)

__all__ = ["fit_landmarks", "check_calibration", "read_landmarks_csv", "MIN_POINTS"]

#: landmarks a fit of each type needs at least
MIN_POINTS = {"similarity": 2, "affine": 3, "projective": 4}
LANDMARK_REFERENCE = "as given by the landmarks' world coordinates; x right, y up"


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
    fd = check_frame_dimension(frame_dimension)
    if transform_type not in ("auto", "similarity", "affine", "projective"):
        hint = " For a known scale use from_cm_per_px() or from_scale_bar()." if transform_type == "scale" else ""
        raise CalibrationError(
            f"transform_type is {transform_type!r}, expected 'auto', 'similarity', 'affine' or 'projective'.{hint}"
        )
    labels = None if labels is None else [str(v) for v in labels]
    pix = check_points("pixel", pixel, labels)
    wld = check_points("world", world, labels)
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
    cm = cm_per_unit(cal.unit)
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


def read_landmarks_csv(path: str | Path) -> Landmarks:
    """Read landmarks from a CSV file with the header ``label,pixel_x,pixel_y,world_x,world_y``.

    Columns may come in any order; extra columns are ignored, as are blank lines and lines starting
    with ``#``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Landmarks
        ``labels`` (n,), ``pixel`` (n, 2), ``world`` (n, 2); it also unpacks as
        ``labels, pixel, world``.

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
    >>> lm = read_landmarks_csv(path)
    >>> lm.labels, lm.pixel.tolist(), lm.world.tolist()
    (('SW', 'NE'), [[40.0, 464.0], [600.0, 16.0]], [[0.0, 0.0], [100.0, 80.0]])
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
    return Landmarks(tuple(labels), arr[:, :2].copy(), arr[:, 2:].copy())
