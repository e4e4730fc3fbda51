"""Heatmaps: occupancy, signal by position, and the head-centred movement heatmap.

Pure computation, no matplotlib (figures live in :mod:`nwbview.render.figures`):
:func:`occupancy` and :func:`signal_by_position` take xarray positions and signals and return
DataArrays; :func:`movement_heatmap` reads video frames, so it takes a Session (its frames and pose)
and returns a :class:`MovementHeatmap` whose ``heatmap`` is the DataArray, with the crops' mean
and coverage beside it.

Lengths (``bin_size``, ``sigma``) are in the map's spatial unit; durations end in ``_s``.

Maps are ``(y, x)`` DataArrays with bin-centre coordinates ``x`` and ``y``
and the bin edges in ``attrs["x_edges"]`` and ``attrs["y_edges"]``; ``y`` increases
upward in the world frame, downward in the pixel frame (``attrs["coordinates"]``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import xarray as xr

from nwbview.errors import DataShapeError, NWBViewError, NWBViewWarning, VideoError, renamed_keywords
from nwbview.kinematics import HEAD_NAMES, TAIL_NAMES, compute_speed, match_keypoint
from nwbview.timeline import Timeline

#: the default bin of the spatial maps, in world units (cm) and in pixels
DEFAULT_BIN_SIZE = 2.5
DEFAULT_BIN_SIZE_PX = 10.0

__all__ = [
    "occupancy",
    "signal_by_position",
    "band_power",
    "movement_heatmap",
    "MovementHeatmap",
    "heatmap_from_images",
]


# ------------------------------------------------------------------------------------------------
# binning shared by occupancy and signal maps
# ------------------------------------------------------------------------------------------------


def _xy(position: xr.DataArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(position, xr.Dataset):
        raise DataShapeError("Pass a position DataArray (time, space); for a pose select one keypoint first.")
    if "time" not in position.dims or "space" not in position.dims:
        raise DataShapeError(f"position must have dims (time, space); got {position.dims}.")
    extra = [d for d in position.dims if d not in ("time", "space")]
    if extra:
        raise DataShapeError(f"position has extra dims {extra}; select one (e.g. .sel(keypoint='snout')).")
    p = position.transpose("time", "space")
    t = np.asarray(p["time"].values, dtype=np.float64)
    return t, np.asarray(p.sel(space="x").values, float), np.asarray(p.sel(space="y").values, float)


def _dwell(t: np.ndarray, max_gap_s: float | None) -> np.ndarray:
    """Time each sample stands for: the interval to the next one (capped at ``max_gap_s``)."""
    if t.size == 0:
        return np.zeros(0)
    if t.size == 1:
        return np.zeros(1)
    d = np.diff(t)
    med = float(np.median(d))
    d = np.r_[d, med]
    cap = 2.0 * med if max_gap_s is None else max_gap_s
    return np.minimum(d, cap)


def _edges(lo: float, hi: float, bin_size: float) -> np.ndarray:
    n = max(1, int(math.ceil((hi - lo) / bin_size - 1e-9)))
    return lo + np.arange(n + 1) * bin_size


def _bounds(position: xr.DataArray, bounds, calibration, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    if bounds is not None:
        if len(bounds) != 4 or not np.all(np.isfinite(bounds)) or bounds[1] <= bounds[0] or bounds[3] <= bounds[2]:
            raise NWBViewError(f"Invalid bounds {bounds!r}: expected (xmin, xmax, ymin, ymax) with xmin < xmax, ymin < ymax.")
        return tuple(float(b) for b in bounds)  # type: ignore[return-value]
    frame = position.attrs.get("coordinates")
    if calibration is not None and frame == "world":
        w, h = calibration.frame_dimension
        world = calibration.pixels_to_world(np.array([[0, 0], [w, 0], [w, h], [0, h]], float))
        (x0, y0), (x1, y1) = world.min(axis=0), world.max(axis=0)
        return float(x0), float(x1), float(y0), float(y1)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        raise NWBViewError("Every position is NaN: nothing to bin.")
    return float(x[ok].min()), float(x[ok].max()), float(y[ok].min()), float(y[ok].max())


def _speed_mask(position: xr.DataArray, min_speed: float | None, speed: xr.DataArray | None) -> np.ndarray:
    n = position.sizes["time"]
    if min_speed is None:
        return np.ones(n, bool)
    sp = compute_speed(position) if speed is None else Timeline(position["time"].values).sample(speed, method="linear")
    v = np.asarray(sp.values, float)
    return np.isfinite(v) & (v >= min_speed)


def _gauss(a: np.ndarray, sigma_bins: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(a, sigma_bins, mode="constant", cval=0.0)


def _map(values: np.ndarray, xe: np.ndarray, ye: np.ndarray, *, name: str, units: str, attrs: dict) -> xr.DataArray:
    xc = (xe[:-1] + xe[1:]) / 2
    yc = (ye[:-1] + ye[1:]) / 2
    return xr.DataArray(
        values,
        dims=("y", "x"),
        coords={"x": xc, "y": yc},
        name=name,
        attrs={"units": units, "x_edges": xe, "y_edges": ye, **attrs},
    )


def default_bin_size(position: xr.DataArray) -> float:
    """The one default bin of the spatial maps: 2.5 world units (cm), or 10 px for pixel positions.

    Examples
    --------
    >>> default_bin_size(xr.DataArray([[0.0, 0.0]], dims=("time", "space"), attrs={"coordinates": "pixel"}))
    10.0
    """
    return DEFAULT_BIN_SIZE_PX if position.attrs.get("coordinates") == "pixel" else DEFAULT_BIN_SIZE


def _binned(position, bin_size, bounds, calibration, min_speed, speed, max_gap_s):
    if not (np.isfinite(bin_size) and bin_size > 0):
        raise NWBViewError(f"Invalid bin_size {bin_size!r}: must be a positive length in the position's unit.")
    t, x, y = _xy(position)
    x0, x1, y0, y1 = _bounds(position, bounds, calibration, x, y)
    xe, ye = _edges(x0, x1, bin_size), _edges(y0, y1, bin_size)
    w = _dwell(t, max_gap_s)
    use = np.isfinite(x) & np.isfinite(y) & _speed_mask(position, min_speed, speed)
    use &= (x >= xe[0]) & (x <= xe[-1]) & (y >= ye[0]) & (y <= ye[-1])
    ix = np.clip(np.searchsorted(xe, x[use], side="right") - 1, 0, xe.size - 2)
    iy = np.clip(np.searchsorted(ye, y[use], side="right") - 1, 0, ye.size - 2)
    return t, use, ix, iy, w, xe, ye


@renamed_keywords(smooth="sigma", max_gap="max_gap_s")
def occupancy(
    position: xr.DataArray,
    *,
    bin_size: float | None = None,
    bounds: Sequence[float] | None = None,
    calibration: Any = None,
    min_speed: float | None = None,
    speed: xr.DataArray | None = None,
    sigma: float | None = None,
    max_gap_s: float | None = None,
) -> xr.DataArray:
    """Time spent in each spatial bin (seconds), NaN where the animal never was.

    Each position sample stands for the time until the next one (capped at
    twice the median sampling interval, or ``max_gap_s``), so jitter and dropped
    samples do not bias the map, and the map sums to the time used.

    Parameters
    ----------
    position
        ``(time, space)`` in world units (or pixels).
    bin_size
        Bin side, in the position's unit (default :func:`default_bin_size`).
    bounds
        ``(xmin, xmax, ymin, ymax)``; default: the calibrated frame's extent
        (world positions with a ``calibration``), else the data's range.
    min_speed
        Use only samples at or above this speed (position units per second).
    speed
        The speed to threshold (default: computed from ``position``).
    sigma
        Gaussian smoothing, sigma in the position's unit.

    Returns
    -------
    xarray.DataArray
        ``(y, x)`` with bin centres and edges, ``units = "s"``.

    Examples
    --------
    A mouse explored a 100 x 80 cm open field; where did it spend its time?

    >>> occ = occupancy(session.position(), bin_size=2.5)  # doctest: +SKIP
    >>> float(occ.sum())  # seconds of tracking used  # doctest: +SKIP
    """
    bin_size = default_bin_size(position) if bin_size is None else bin_size
    t, use, ix, iy, w, xe, ye = _binned(position, bin_size, bounds, calibration, min_speed, speed, max_gap_s)
    occ = np.zeros((ye.size - 1, xe.size - 1))
    np.add.at(occ, (iy, ix), w[use])
    visited = occ > 0
    if sigma:
        occ = _gauss(occ, sigma / bin_size)
    occ[~visited] = np.nan
    unit = position.attrs.get("space_unit") or position.attrs.get("units", "")
    return _map(
        occ, xe, ye, name="occupancy", units="s",
        attrs={
            "space_unit": unit, "coordinates": position.attrs.get("coordinates", ""), "source": position.attrs.get("source", ""),
            "kind": "occupancy", "bin_size": bin_size, "min_speed": min_speed if min_speed is not None else "",
            "sigma": sigma if sigma else "", "time_used_s": float(w[use].sum()),
        },
    )


@renamed_keywords(smooth="sigma", max_gap="max_gap_s")
def signal_by_position(
    position: xr.DataArray,
    signal: xr.DataArray,
    *,
    bin_size: float | None = None,
    min_occupancy: float = 0.0,
    bounds: Sequence[float] | None = None,
    calibration: Any = None,
    min_speed: float | None = None,
    speed: xr.DataArray | None = None,
    max_gap_s: float | None = None,
    sigma: float | None = None,
) -> xr.DataArray:
    """Occupancy-normalised mean of a signal in each spatial bin.

    The signal is sampled at the position times (linear interpolation, NaN
    outside it); each bin holds ``sum(signal * dwell) / sum(dwell)``. With
    ``sigma``, numerator and denominator are smoothed separately (the usual
    rate-map estimate).

    Parameters
    ----------
    signal
        ``(time,)``: speed, a LFP band's power (:func:`band_power`), any TimeSeries.
    min_occupancy
        Bins with less time than this (seconds) are NaN.

    Examples
    --------
    Where in the arena is theta strongest?

    >>> theta = band_power(session.lfp(channels=[0]), (6, 10))  # doctest: +SKIP
    >>> m = signal_by_position(session.position(), theta, bin_size=5)  # doctest: +SKIP
    """
    if "time" not in signal.dims:
        raise DataShapeError(f"signal needs a 'time' dimension; got {signal.dims}.")
    extra = [d for d in signal.dims if d != "time"]
    if extra:
        if all(signal.sizes[d] == 1 for d in extra):
            signal = signal.squeeze(extra, drop=True)
        else:
            raise DataShapeError(f"signal has extra dims {extra}; select one channel (e.g. .isel(channel=0)).")
    bin_size = default_bin_size(position) if bin_size is None else bin_size
    t, use, ix, iy, w, xe, ye = _binned(position, bin_size, bounds, calibration, min_speed, speed, max_gap_s)
    s = np.asarray(Timeline(t).sample(signal, method="linear").values, float)
    ok = np.isfinite(s[use])
    num = np.zeros((ye.size - 1, xe.size - 1))
    den = np.zeros_like(num)
    np.add.at(num, (iy[ok], ix[ok]), (s[use] * w[use])[ok])
    np.add.at(den, (iy[ok], ix[ok]), w[use][ok])
    visited = den > max(min_occupancy, 0.0) if min_occupancy > 0 else den > 0
    if sigma:
        num, den = _gauss(num, sigma / bin_size), _gauss(den, sigma / bin_size)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[~visited] = np.nan
    unit = position.attrs.get("space_unit") or position.attrs.get("units", "")
    return _map(
        out, xe, ye, name=f"{signal.name or 'signal'}_by_position", units=str(signal.attrs.get("units", "")),
        attrs={
            "space_unit": unit, "coordinates": position.attrs.get("coordinates", ""), "source": position.attrs.get("source", ""),
            "signal": str(signal.attrs.get("source", signal.name or "")), "kind": "signal", "bin_size": bin_size,
            "min_speed": min_speed if min_speed is not None else "", "sigma": sigma if sigma else "",
        },
    )


def band_power(lfp: xr.DataArray, band: tuple[float, float] = (6.0, 10.0), *, out_rate: float = 50.0, order: int = 4) -> xr.DataArray:
    """Power envelope of a LFP frequency band, as a ``(time,)`` series.

    Band-pass (zero-phase Butterworth), Hilbert amplitude squared, then
    averaged in blocks down to ``out_rate`` Hz (so a 1-hour LFP gives a small
    series to map).

    Parameters
    ----------
    lfp
        ``(time,)`` or ``(time, channel)`` with one channel, regularly sampled.
    band
        ``(low, high)`` in Hz, e.g. theta ``(6, 10)``.

    Examples
    --------
    >>> theta = band_power(session.lfp(channels=[0]), (6, 10))  # doctest: +SKIP
    >>> theta.attrs["units"]  # doctest: +SKIP
    'uV^2'
    """
    from scipy.signal import butter, hilbert, sosfiltfilt

    x = lfp
    if "channel" in x.dims:
        if x.sizes["channel"] != 1:
            raise DataShapeError(f"band_power takes one channel; got {x.sizes['channel']}. Pick one with channels=[k].")
        x = x.isel(channel=0)
    t = np.asarray(x["time"].values, float)
    if t.size < 16:
        raise DataShapeError(f"band_power needs more samples; got {t.size}.")
    fs = 1.0 / float(np.median(np.diff(t)))
    lo, hi = band
    if not (0 < lo < hi < fs / 2):
        raise NWBViewError(f"Invalid band {band!r} Hz for a signal sampled at {fs:g} Hz: need 0 < low < high < {fs / 2:g}.")
    v = np.asarray(x.values, float)
    bad = ~np.isfinite(v)
    v = np.where(bad, 0.0, v)
    sos = butter(order, [lo, hi], btype="bandpass", fs=fs, output="sos")
    env = np.abs(hilbert(sosfiltfilt(sos, v))) ** 2
    env[bad] = np.nan
    k = max(1, int(round(fs / out_rate)))
    m = env.size // k
    env_b = np.nanmean(env[: m * k].reshape(m, k), axis=1) if m else env
    t_b = t[: m * k].reshape(m, k).mean(axis=1) if m else t
    units = x.attrs.get("units", "")
    return xr.DataArray(
        env_b, dims=("time",), coords={"time": t_b}, name=f"power_{lo:g}_{hi:g}Hz",
        attrs={"units": f"{units}^2" if units else "", "source": x.attrs.get("source", ""), "band_hz": [lo, hi]},
    )


# ------------------------------------------------------------------------------------------------
# movement heatmap
# ------------------------------------------------------------------------------------------------


@dataclass
class MovementHeatmap:
    """What :func:`movement_heatmap` returns.

    Attributes
    ----------
    heatmap
        ``(y, x)`` in [0, 1] after normalisation, blur and gamma; coordinates
        are pixel offsets from the head (``x``, ``y``, y down), and, when
        calibrated, ``x_cm``/``y_cm`` (y up, or "ahead" when egocentric).
    mean
        The mean grayscale crop (0-255) before post-processing.
    coverage
        How many frames contributed to each pixel (fewer at frame edges).
    radius
        Crop radius in pixels; the heatmap is ``2 * radius + 1`` square with
        the head at its centre pixel.
    bbox
        ``(x0, y0, x1, y1)`` of the crop relative to the head pixel.
    frames_used, frames_skipped
        Counts; ``frames_skipped`` by reason.
    """

    heatmap: xr.DataArray
    mean: np.ndarray
    coverage: np.ndarray
    radius: int
    bbox: tuple[int, int, int, int]
    frames_used: int
    frames_skipped: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)


def _intervals_mask(times: np.ndarray, intervals: Any, session: Any) -> np.ndarray:
    if intervals is None:
        return np.ones(times.size, bool)
    if isinstance(intervals, str):
        table = session.find_stream("intervals", intervals, label="TimeIntervals table").obj
        pairs = np.c_[np.asarray(table["start_time"][:], float), np.asarray(table["stop_time"][:], float)]
    else:
        pairs = np.asarray(intervals, float).reshape(-1, 2)
    if pairs.size and np.any(pairs[:, 1] < pairs[:, 0]):
        raise NWBViewError(f"Invalid time ranges: a stop is before its start in {pairs.tolist()}.")
    mask = np.zeros(times.size, bool)
    for a, b in pairs:
        mask |= (times >= a) & (times < b)
    return mask


@renamed_keywords(blur="sigma")
def movement_heatmap(
    session: Any,
    *,
    video: str | None = None,
    pose: str | None = None,
    head: str | Sequence[str] = HEAD_NAMES,
    tail: str | Sequence[str] = TAIL_NAMES,
    intervals: Any = None,
    min_speed: float | None = None,
    buffer_mult: float = 2.0,
    crop_padding: int = 0,
    min_confidence: float | None = None,
    egocentric: bool = False,
    sigma: float | None = None,
    gamma: float = 0.5,
    polarity: str = "auto",
    calibration: Any = None,
    scale_override: float | None = None,
    progress: bool = False,
) -> MovementHeatmap:
    """What the video looks like around the animal's head: the mean of head-centred crops.

    Each used video frame is cropped around the head keypoint (grayscale) and
    added into an accumulator (clipped crops stay aligned); the mean is
    normalised by its maximum, optionally blurred, and gamma-corrected.

    Parameters
    ----------
    head, tail
        Keypoint names (or candidates), matched ignoring case, spaces and
        underscores; defaults: snout/nose/head and tail base.
    intervals
        Time ranges to use: None (all), ``[(start, stop), ...]`` or the name
        of a TimeIntervals table (e.g. ``"running_bouts"``).
    min_speed
        Use frames where the head moves at least this fast (cm/s when
        calibrated, else px/s).
    buffer_mult
        Crop radius = largest head-to-tail distance over the used frames x
        ``buffer_mult`` (>= 1), at least 1 px, plus ``crop_padding``.
    min_confidence
        Frames whose head or tail confidence is below this are skipped (the
        rule of :func:`nwbview.kinematics.mask_low_confidence`; default
        :data:`nwbview.kinematics.DEFAULT_MIN_CONFIDENCE`).
    pose
        The pose to use (a name as ``session.pose`` takes it). With several
        individuals, the first is used, with a warning: pass one by name.
    egocentric
        Rotate each crop so the head direction points up.
    sigma
        Gaussian blur sigma in pixels (after averaging).
    gamma
        Exponent applied to the normalised map (0.5 brightens faint movement).
    polarity : {"auto", "bright", "dark"}, default: "auto"
        ``bright``: map the mean intensity as is (a light animal on a dark
        floor is hot); ``dark``: invert it (``255 - mean``), so a dark animal
        on a light floor is hot; ``auto`` picks ``dark`` when the centre of the
        mean crop is darker than its surround.
    calibration
        A Calibration for cm coordinates (default: the session's);
        ``scale_override`` (cm per pixel) only for files with none.

    Returns
    -------
    MovementHeatmap

    Examples
    --------
    The mouse ran along the walls; what did the video show around its head
    during running bouts?

    >>> res = movement_heatmap(session, intervals="running_bouts", egocentric=True)  # doctest: +SKIP
    >>> res.heatmap.sel(x=0, y=0)  # the head  # doctest: +SKIP
    """
    if not (np.isfinite(buffer_mult) and buffer_mult >= 1):
        raise NWBViewError(f"Invalid buffer_mult {buffer_mult!r}: must be >= 1 (a multiple of the head-to-tail length).")
    if crop_padding < 0 or int(crop_padding) != crop_padding:
        raise NWBViewError(f"Invalid crop_padding {crop_padding!r}: must be a whole number of pixels >= 0.")
    if not (np.isfinite(gamma) and gamma > 0):
        raise NWBViewError(f"Invalid gamma {gamma!r}: must be > 0.")
    if polarity not in ("auto", "bright", "dark"):
        raise NWBViewError(f"Invalid polarity {polarity!r}. Must be one of ('auto', 'bright', 'dark').")
    if min_confidence is None:
        from nwbview.kinematics import DEFAULT_MIN_CONFIDENCE

        min_confidence = DEFAULT_MIN_CONFIDENCE
    notes: list[str] = []
    reader = session.video(video)
    try:
        return _movement(session, reader, pose, head, tail, intervals, min_speed, buffer_mult, int(crop_padding),
                         min_confidence, egocentric, sigma, gamma, polarity, calibration, scale_override, progress, notes)
    finally:
        reader.close()


def _movement(session, reader, pose_name, head, tail, intervals, min_speed, buffer_mult, crop_padding,
              min_confidence, egocentric, sigma, gamma, polarity, calibration, scale_override, progress, notes):
    cal = calibration if calibration is not None else session.calibration(getattr(reader, "source", None) or None)
    if cal is not None and scale_override is not None:
        raise NWBViewError("scale_override is only for sessions without a calibration; this one has one.")
    ds = session.pose(pose_name)
    if ds.attrs.get("coordinates") != "pixel":
        if cal is None:
            raise NWBViewError("The pose is not in pixels and there is no calibration to bring it onto the video.")
        ds = session.to_coordinates(ds, "pixel")
    if ds.sizes.get("individual", 1) > 1:
        inds = [str(i) for i in ds.individual.values]
        msg = (f"the pose holds {len(inds)} individuals ({', '.join(inds)}); the movement heatmap is made around "
               f"one head: {inds[0]!r}. Pass pose=NAME (--pose NAME) for another one.")
        notes.append(msg)
        warnings.warn(msg, NWBViewWarning, stacklevel=3)
    ds = ds.isel(individual=0)
    names = [str(k) for k in ds.keypoint.values]
    h, tl_ = match_keypoint(names, head), match_keypoint(names, tail)
    hp = ds.position.sel(keypoint=h).transpose("time", "space").values
    tp = ds.position.sel(keypoint=tl_).transpose("time", "space").values
    hc = ds.confidence.sel(keypoint=h).values
    tc = ds.confidence.sel(keypoint=tl_).values

    n_frames = len(reader)
    ftimes = np.asarray(reader.times, float)
    # video frame -> nearest pose sample (never clamped)
    idx = Timeline(ftimes).nearest(ds.time.values)
    skipped = {"outside_intervals": 0, "no_pose_sample": 0, "nan_keypoint": 0, "low_confidence": 0, "too_slow": 0, "unreadable": 0}
    wanted = _intervals_mask(ftimes, intervals, session)
    skipped["outside_intervals"] = int((~wanted).sum())
    no_pose = wanted & (idx < 0)
    skipped["no_pose_sample"] = int(no_pose.sum())
    if skipped["no_pose_sample"]:
        msg = (f"{skipped['no_pose_sample']} of {n_frames} video frames have no pose sample near them "
               f"(pose {ds.time.values[0]:.3f}..{ds.time.values[-1]:.3f} s, video {ftimes[0]:.3f}..{ftimes[-1]:.3f} s); they are skipped")
        notes.append(msg)
        warnings.warn(msg, NWBViewWarning, stacklevel=3)
    cand = np.flatnonzero(wanted & (idx >= 0))
    j = idx[cand]
    hv, tv = hp[j], tp[j]
    nan = ~(np.isfinite(hv).all(1) & np.isfinite(tv).all(1))
    conf_h = np.where(np.isfinite(hc[j]), hc[j], 1.0)
    conf_t = np.where(np.isfinite(tc[j]), tc[j], 1.0)
    low = ~nan & ((conf_h < min_confidence) | (conf_t < min_confidence))
    skipped["nan_keypoint"], skipped["low_confidence"] = int(nan.sum()), int(low.sum())
    keep = ~nan & ~low
    scale = cal.cm_per_px if cal is not None else scale_override
    if min_speed is not None:
        head_px = ds.position.sel(keypoint=h)
        sp = compute_speed(head_px).values * (scale if scale else 1.0)
        v = sp[j]
        slow = keep & ~(np.isfinite(v) & (v >= min_speed))
        skipped["too_slow"] = int(slow.sum())
        keep &= ~slow
    frames, hv, tv = cand[keep], hv[keep], tv[keep]
    if frames.size == 0:
        raise NWBViewError(
            f"No video frame can be used for the movement heatmap: skipped {skipped}. Loosen the "
            "intervals, min_speed or min_confidence."
        )
    dist = float(np.max(np.hypot(*(hv - tv).T)))
    radius = max(1, int(math.ceil(dist * buffer_mult))) + crop_padding
    size = 2 * radius + 1
    # uint32 sums of uint8 pixels are exact for up to 16 million frames, and faster than float
    acc = np.zeros((size, size), np.float64 if egocentric else np.uint32)
    cov = np.zeros((size, size), np.int64)
    rect = np.zeros((size + 1, size + 1), np.int64)  # coverage as a 2-D difference array: O(1) per frame
    w, hgt = reader.size
    if egocentric:
        fwd = hv - tv
        fwd /= np.maximum(np.hypot(*fwd.T), 1e-12)[:, None]
        grid = np.arange(-radius, radius + 1, dtype=np.float64)
        du, dv = np.meshgrid(grid, grid)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=frames.size, desc="movement heatmap", unit="frame", disable=None)
    used = 0
    for k, g in _gray_frames(reader, frames, skipped):
        cx, cy = int(math.floor(hv[k, 0])), int(math.floor(hv[k, 1]))
        if not egocentric:
            x0, y0 = cx - radius, cy - radius
            sx0, sy0 = max(x0, 0), max(y0, 0)
            sx1, sy1 = min(x0 + size, w), min(y0 + size, hgt)
            if sx1 > sx0 and sy1 > sy0:  # else the head is off the frame by more than the radius
                ax, ay = sx0 - x0, sy0 - y0
                ay1, ax1 = ay + sy1 - sy0, ax + sx1 - sx0
                acc[ay:ay1, ax:ax1] += g[sy0:sy1, sx0:sx1]
                rect[ay, ax] += 1
                rect[ay, ax1] -= 1
                rect[ay1, ax] -= 1
                rect[ay1, ax1] += 1
        else:
            fx, fy = fwd[k]
            # output (du, dv) -> source: head + du * right + dv * (-forward), right = (-fy, fx)
            px = hv[k, 0] + du * (-fy) + dv * (-fx)
            py = hv[k, 1] + du * fx + dv * (-fy)
            crop, inside = _bilinear(g, px - 0.5, py - 0.5)
            acc += crop
            cov += inside
        used += 1
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if not egocentric:
        cov = rect.cumsum(0).cumsum(1)[:size, :size]
    if used == 0:
        raise NWBViewError(f"No video frame could be read for the movement heatmap: skipped {skipped}.")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cov > 0, acc.astype(np.float64) / np.maximum(cov, 1), np.nan)
    if polarity == "auto":
        c, q = radius, max(1, radius // 6)
        centre = np.nanmean(mean[c - q : c + q + 1, c - q : c + q + 1])
        polarity = "dark" if centre < np.nanmean(mean) else "bright"
    out = np.nan_to_num(255.0 - mean if polarity == "dark" else mean, nan=0.0)
    if sigma:
        from scipy.ndimage import gaussian_filter

        out = gaussian_filter(out, sigma)
    peak = float(np.max(out))
    out = out / max(peak, 1e-12)
    out = np.clip(out, 0.0, 1.0) ** gamma
    offs = np.arange(-radius, radius + 1)
    coords: dict = {"x": offs, "y": offs}
    if scale:
        coords["x_cm"] = ("x", offs * scale)
        coords["y_cm"] = ("y", -offs * scale)  # pixel y down -> up (or "ahead" when egocentric)
    params = {
        "head": h, "tail": tl_, "intervals": intervals if not isinstance(intervals, np.ndarray) else intervals.tolist(),
        "min_speed": min_speed, "buffer_mult": buffer_mult, "crop_padding": crop_padding, "min_confidence": min_confidence,
        "egocentric": egocentric, "sigma": sigma, "gamma": gamma, "polarity": polarity, "cm_per_px": scale,
    }
    heat = xr.DataArray(
        out, dims=("y", "x"), coords=coords, name="movement_heatmap",
        attrs={"units": "normalised", "kind": "movement", "coordinates": "head-centred pixels" + (" (egocentric)" if egocentric else ""),
               "radius_px": radius, "frames_used": used, **{k: ("" if v is None else v) for k, v in params.items() if not isinstance(v, (list, tuple))}},
    )
    dropped = sum(v for k, v in skipped.items() if k != "outside_intervals")
    if dropped:
        notes.append(f"{dropped} frames skipped: " + ", ".join(f"{k} {v}" for k, v in skipped.items() if v and k != "outside_intervals"))
    return MovementHeatmap(
        heatmap=heat, mean=mean, coverage=cov, radius=radius, bbox=(-radius, -radius, radius, radius),
        frames_used=used, frames_skipped=skipped, warnings=notes, parameters=params,
    )


def _gray_frames(reader: Any, frames: np.ndarray, skipped: dict):
    """Yield ``(k, gray frame)`` for the sorted frame indices, decoding contiguous runs sequentially.

    A frame that cannot be decoded is counted in ``skipped["unreadable"]`` (one
    warning) and the work goes on.
    """
    runs = np.split(np.arange(frames.size), np.flatnonzero(np.diff(frames) != 1) + 1)
    for run in runs:
        if run.size == 0:
            continue
        first = int(frames[run[0]])
        done = 0
        try:
            for k, g in zip(run, reader.iter_frames(first, first + run.size, gray=True)):
                yield int(k), g
                done += 1
        except VideoError as exc:
            if skipped["unreadable"] == 0:
                warnings.warn(f"Video frame {first + done} could not be read ({exc}); skipping it and going on.", NWBViewWarning, stacklevel=4)
            skipped["unreadable"] += 1
            # the rest of the run frame by frame, so one bad frame costs one frame
            for k in run[done + 1 :]:
                try:
                    g = reader.gray(int(frames[k]))
                except VideoError:
                    skipped["unreadable"] += 1
                    continue
                yield int(k), g


def _bilinear(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``img`` at continuous pixel-index coords (centres at integers); 0 outside."""
    h, w = img.shape
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    xc = np.clip(x, 0, w - 1)
    yc = np.clip(y, 0, h - 1)
    x0 = np.floor(xc).astype(np.intp)
    y0 = np.floor(yc).astype(np.intp)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    fx, fy = xc - x0, yc - y0
    im = img.astype(np.float64, copy=False)
    top = im[y0, x0] * (1 - fx) + im[y0, x1] * fx
    bot = im[y1, x0] * (1 - fx) + im[y1, x1] * fx
    out = top * (1 - fy) + bot * fy
    out[~inside] = 0.0
    return out, inside.astype(np.int64)


# ------------------------------------------------------------------------------------------------
# reading back what write-back stored
# ------------------------------------------------------------------------------------------------


def heatmap_from_images(container: Any) -> xr.DataArray:
    """Rebuild a heatmap DataArray from the ``Images`` container nwbview wrote.

    Examples
    --------
    >>> occ = heatmap_from_images(nwbfile.processing["behavior"]["heatmap_occupancy_nwbview"])  # doctest: +SKIP
    """
    import json

    img = container.images["values"]
    meta = json.loads(img.description)
    data = np.asarray(img.data[:], dtype=np.float64)
    coords: dict = {d: np.asarray(meta["coords"][d], float) for d in meta["dims"]}
    for name, (dim, vals) in meta.get("extra_coords", {}).items():
        coords[name] = (dim, np.asarray(vals, float))
    attrs = dict(meta.get("attrs", {}))
    for key in ("x_edges", "y_edges"):
        if key in attrs:
            attrs[key] = np.asarray(attrs[key], float)
    return xr.DataArray(data, dims=tuple(meta["dims"]), coords=coords, name=meta.get("name"), attrs=attrs)


# ------------------------------------------------------------------------------------------------
# one entry point for the CLI and notebooks
# ------------------------------------------------------------------------------------------------

KINDS = ("occupancy", "signal", "movement")


@renamed_keywords(smooth="sigma")
def compute_heatmap(
    session: Any,
    kind: str = "occupancy",
    *,
    bin_size: float | None = None,
    min_speed: float | None = None,
    sigma: float | None = None,
    signal: str = "speed",
    band: tuple[float, float] = (6.0, 10.0),
    lfp_channel: int = 0,
    position: str | None = None,
    lfp: str | None = None,
    **movement_options: Any,
):
    """Compute one kind of heatmap of a session with sensible defaults.

    Parameters
    ----------
    kind : {"occupancy", "signal", "movement"}, default: "occupancy"
    bin_size
        Spatial bin (default :func:`default_bin_size`: 2.5 in world units, 10 in pixels).
    signal
        For ``kind="signal"``: ``"speed"``, ``"lfp-power"`` (the power of
        ``band`` on ``lfp_channel``) or the name of any TimeSeries.
    position, lfp
        The position and LFP streams to use (names as ``session.position`` and
        ``session.lfp`` take them; ``"Position/x,y"`` names one-column series).
    **movement_options
        For ``kind="movement"``: passed to :func:`movement_heatmap` (its
        ``pose``, ``video``, ``min_confidence``, ...).

    Returns
    -------
    xarray.DataArray or MovementHeatmap

    Examples
    --------
    >>> occ = compute_heatmap(session, "occupancy", bin_size=2.5)  # doctest: +SKIP
    >>> theta = compute_heatmap(session, "signal", signal="lfp-power", band=(6, 10))  # doctest: +SKIP
    """
    if kind not in KINDS:
        raise NWBViewError(f"Invalid kind {kind!r}. Must be one of {KINDS}.")
    if kind == "movement":
        if min_speed is not None:
            movement_options["min_speed"] = min_speed
        if sigma is not None:
            movement_options.setdefault("sigma", sigma)
        return movement_heatmap(session, **movement_options)
    if movement_options:
        raise NWBViewError(f"Options {sorted(movement_options)} are for kind='movement' only.")
    cal = session.calibration()
    pos = session.position(position)
    if pos.attrs.get("coordinates") == "pixel" and cal is not None:
        pos = session.position(position, coordinates="world")
    common = dict(bin_size=bin_size, calibration=cal, min_speed=min_speed, sigma=sigma)
    if kind == "occupancy":
        return occupancy(pos, **common)
    if signal == "speed":
        sig = compute_speed(pos)
    elif signal in ("lfp-power", "theta"):
        sig = band_power(session.lfp(lfp, channels=[lfp_channel]), band)
    else:
        sig = session.timeseries(signal)
    return signal_by_position(pos, sig, **common)
