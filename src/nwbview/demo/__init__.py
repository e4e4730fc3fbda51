"""A built-in demo session: a simulated mouse in a 100 x 80 cm open field.

:func:`make_demo_session` generates (it downloads nothing) a small but complete
NWB session with an external behavioral video, a 50 Hz position tracker, head
direction, ndx-pose keypoints, a 4-channel LFP and running bouts, plus the
ground truth (the pixel -> world matrix, landmarks) that produced it. It is
deterministic for a given seed, so tests, examples and the docs can rely on it.

Geometry (exact, by construction):

- video 640 x 480 px; the arena floor (100 x 80 cm) is seen from straight above
  at 5.6 px/cm, its corners at pixel x in [40, 600], y in [16, 464] (pixel-corner
  convention: pixel ``i`` covers ``[i, i + 1)``);
- world: cm, origin at the floor's bottom-left corner, x right, y up, so
  ``world = ((px - 40) / 5.6, (464 - py) / 5.6)``.

Timing (session clock, seconds): the camera starts at 0.25 s, nominally 30 fps,
with ~1 ms jitter and one dropped frame in the middle (the timestamps skip it;
the video file, with evenly spaced pts, simply lacks it). Video frame ``i`` shows
the animal as it was at ``timestamps[i]``.

This module never imports matplotlib, Qt or napari.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nwbview.errors import NWBViewError, WriteError

__all__ = ["DemoSession", "make_demo_session", "KEYPOINTS", "SKELETON_EDGES", "PIXEL_TO_WORLD", "WORLD_TO_PIXEL"]

from nwbview.demo.scene import (  # noqa: E402  (PIXEL_TO_WORLD, WORLD_TO_PIXEL: the ground truth, public)
    keypoints_world,
    to_pixel,
    ARENA_HEIGHT_CM,
    ARENA_WIDTH_CM,
    CAMERA_START_TIME,
    KEYPOINTS,
    LANDMARKS_CM,
    LANDMARKS_NAME,
    LFP_CONVERSION,
    NWB_NAME,
    PIXEL_FRAME,
    PIXEL_TO_WORLD,
    POSITION_RATE,
    PX_PER_CM,
    SESSION_START,
    SIM_DT,
    SKELETON_EDGES,
    SNOUT_AT,
    TAIL_BASE_AT,
    TRUTH_NAME,
    VIDEO_HEIGHT,
    VIDEO_NAME,
    VIDEO_WIDTH,
    WALL_CLEARANCE,
    WORLD_FRAME,
    WORLD_TO_PIXEL,
)
from nwbview.demo.video import background, write_video  # noqa: E402


@dataclass(frozen=True)
class DemoSession:
    """The files of a generated demo session and its ground truth.

    Attributes
    ----------
    nwb_path, video_path, landmarks_csv, truth_json : pathlib.Path
        ``demo_session.nwb``, ``demo_video.mp4`` (referenced from the NWB file by
        the relative path ``"demo_video.mp4"``), ``demo_landmarks.csv`` and
        ``demo_truth.json``, all in the same folder.
    truth : dict
        The content of ``demo_truth.json``: ``pixel_to_world`` (3x3),
        ``world_to_pixel``, ``px_per_cm``, ``arena_corners_px``,
        ``arena_corners_cm``, ``landmarks``, ``keypoints``, ``skeleton_edges``,
        ``video_start_time``, ``n_frames``, ``dropped_frame`` and more.
    """

    nwb_path: Path
    video_path: Path
    landmarks_csv: Path
    truth_json: Path
    truth: dict[str, Any] = field(repr=False)


# ---------------------------------------------------------------------------
# the animal's path
# ---------------------------------------------------------------------------
@dataclass
class _Path:
    t: np.ndarray  # sim clock (s)
    x: np.ndarray  # body centre, world cm
    y: np.ndarray
    heading: np.ndarray  # unwrapped, rad, CCW from world +x
    speed: np.ndarray  # cm/s
    omega: np.ndarray  # rad/s

    def at(self, times: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "x": np.interp(times, self.t, self.x),
            "y": np.interp(times, self.t, self.y),
            "heading": np.interp(times, self.t, self.heading),
            "speed": np.interp(times, self.t, self.speed),
            "omega": np.interp(times, self.t, self.omega),
        }


def _behaviour_targets(rng: np.random.Generator, n: int) -> np.ndarray:
    """Target speed per sim step: alternating pauses and runs (some walks)."""
    target = np.zeros(n)
    i = int(rng.uniform(0.5, 1.0) / SIM_DT)  # start with a short pause
    running = True
    while i < n:
        if running:
            dur = rng.uniform(1.0, 4.0)
            v = rng.uniform(6.0, 12.0) if rng.random() < 0.25 else rng.uniform(18.0, 36.0)
        else:
            dur, v = rng.uniform(0.4, 2.0), 0.0
        k = max(1, int(dur / SIM_DT))
        target[i : i + k] = v
        i += k
        running = not running
    return target


def _simulate_path(rng: np.random.Generator, t_end: float) -> _Path:
    """Integrate a smooth random walk with pauses, runs and wall avoidance."""
    n = int(math.ceil(t_end / SIM_DT)) + 2
    t = np.arange(n) * SIM_DT
    target = _behaviour_targets(rng, n)
    noise = rng.standard_normal(n)
    W, H, m = ARENA_WIDTH_CM, ARENA_HEIGHT_CM, WALL_CLEARANCE
    x, y = rng.uniform(30.0, 70.0), rng.uniform(25.0, 55.0)
    th = rng.uniform(-math.pi, math.pi)
    s, w_ou = 0.0, 0.0
    tau_w, sig_w, tau_s, reach = 0.6, 2.2, 0.3, 10.0
    sq = math.sqrt(SIM_DT)
    xs, ys, ths, ss, ws = (np.empty(n) for _ in range(5))
    for i in range(n):
        ux, uy = math.cos(th), math.sin(th)
        # random turning (calmer while paused)
        sig = sig_w * (0.35 + 0.65 * min(s / 10.0, 1.0))
        w_ou += -w_ou / tau_w * SIM_DT + sig * sq * noise[i]
        # near a wall, cancel the part of the heading that points into it: the
        # animal turns to run along the wall (thigmotaxis) instead of into it
        omega = w_ou
        dx, dy, near = ux, uy, 0.0
        walls = ((x - m, 1.0, 0.0), (W - m - x, -1.0, 0.0), (y - m, 0.0, 1.0), (H - m - y, 0.0, -1.0))
        for d, nx, ny in walls:  # (distance, inward normal)
            if d < reach:
                w = (reach - d) / reach
                push = 2.0 * w * max(0.0, 0.15 - (ux * nx + uy * ny))
                dx, dy, near = dx + push * nx, dy + push * ny, max(near, w)
        if near:
            err = (math.atan2(dy, dx) - th + math.pi) % (2 * math.pi) - math.pi
            omega += 12.0 * near * err
        omega = max(-7.0, min(7.0, omega))
        th += omega * SIM_DT
        ux, uy = math.cos(th), math.sin(th)
        # slow down in front of a wall (distance along the heading)
        ahead = math.inf
        if ux > 1e-9:
            ahead = min(ahead, (W - m - x) / ux)
        elif ux < -1e-9:
            ahead = min(ahead, (x - m) / -ux)
        if uy > 1e-9:
            ahead = min(ahead, (H - m - y) / uy)
        elif uy < -1e-9:
            ahead = min(ahead, (y - m) / -uy)
        tgt = min(target[i], max(0.0, 2.5 * (ahead - 2.0)))
        s += (tgt - s) * SIM_DT / tau_s
        x = min(max(x + s * ux * SIM_DT, m), W - m)
        y = min(max(y + s * uy * SIM_DT, m), H - m)
        xs[i], ys[i], ths[i], ss[i], ws[i] = x, y, th, s, omega
    return _Path(t=t, x=xs, y=ys, heading=ths, speed=ss, omega=ws)


# ---------------------------------------------------------------------------
# drawing
def _frame_times(rng: np.random.Generator, duration: float, fps: float) -> tuple[np.ndarray, int]:
    """Jittered camera timestamps with one dropped frame; return (times, dropped nominal index)."""
    n_nominal = int(math.ceil((duration - CAMERA_START_TIME) * fps - 1e-9))
    if n_nominal < 4:
        raise NWBViewError(
            f"duration={duration!r} s at fps={fps!r} gives {n_nominal} video frames after the camera "
            f"starts at {CAMERA_START_TIME} s; a demo needs at least 4. Use a longer duration."
        )
    period = 1.0 / fps
    jitter = np.clip(rng.normal(0.0, 1e-3, n_nominal), -0.2 * period, 0.2 * period)
    jitter[0] = 0.0
    nominal = CAMERA_START_TIME + np.arange(n_nominal) * period + jitter
    spread = max(1, n_nominal // 10)
    drop = int(np.clip(n_nominal // 2 + rng.integers(-spread, spread + 1), 1, n_nominal - 2))
    return np.delete(nominal, drop), drop


def _pink_noise(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """Unit-rms noise with a ~1/f power spectrum (flat below 1 Hz)."""
    spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.fft.rfftfreq(n, 1.0 / rate)
    spec *= 1.0 / np.sqrt(np.maximum(f, 1.0))
    spec[0] = 0.0
    x = np.fft.irfft(spec, n)
    return x / max(float(x.std()), 1e-12)


def _make_lfp(
    rng: np.random.Generator, path_model: _Path, duration: float, rate: float, n_channels: int
) -> np.ndarray:
    """int16 (n, n_channels) LFP: speed-modulated theta + 1/f noise; times 1 bit = 0.195 uV."""
    n = int(round(duration * rate))
    t = np.arange(n) / rate
    speed = np.interp(t, path_model.t, path_model.speed)
    amp = 70.0 + 330.0 * np.clip(speed / 30.0, 0.0, 1.25)  # uV
    freq = 6.8 + 0.06 * np.clip(speed, 0.0, 40.0)  # Hz
    phase = 2 * np.pi * np.cumsum(freq) / rate + rng.uniform(0, 2 * np.pi)
    common = 45.0 * _pink_noise(rng, n, rate)
    out = np.empty((n, n_channels), dtype=np.int16)
    for c in range(n_channels):
        frac = c / max(n_channels - 1, 1)
        ph = phase + 0.35 * np.pi * frac  # theta phase shifts with depth
        theta = amp * (1.0 - 0.35 * frac) * (np.sin(ph) + 0.15 * np.sin(2 * ph))
        uv = theta + common + 20.0 * _pink_noise(rng, n, rate)
        out[:, c] = np.clip(np.rint(uv * 1e-6 / LFP_CONVERSION), -32768, 32767).astype(np.int16)
    return out


def _running_bouts(
    path_model: _Path, duration: float, threshold: float = 5.0, min_len: float = 0.5
) -> list[tuple[float, float]]:
    """(start, stop) of stretches with speed > threshold lasting at least min_len seconds."""
    keep = path_model.t <= duration
    t, fast = path_model.t[keep], path_model.speed[keep] > threshold
    edges = np.diff(np.concatenate([[0], fast.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    bouts = []
    for i0, i1 in zip(starts, stops):
        t0, t1 = float(t[i0]), float(t[min(i1, len(t) - 1)])
        if t1 - t0 >= min_len:
            bouts.append((round(t0, 6), round(t1, 6)))
    return bouts


# ---------------------------------------------------------------------------
# the NWB file
# ---------------------------------------------------------------------------
def _write_nwb(
    path: Path,
    *,
    seed: int,
    duration: float,
    fps: float,
    frame_times: np.ndarray,
    pose_px: np.ndarray,
    confidence: np.ndarray,
    position: np.ndarray,
    head_direction: np.ndarray,
    lfp: np.ndarray,
    lfp_rate: float,
    bouts: list[tuple[float, float]],
) -> None:
    import ndx_pose
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.behavior import CompassDirection, Position, SpatialSeries
    from pynwb.ecephys import LFP, ElectricalSeries
    from pynwb.epoch import TimeIntervals
    from pynwb.file import Subject
    from pynwb.image import ImageSeries

    ident = uuid.uuid5(
        uuid.NAMESPACE_URL,
        f"nwbview-demo/seed={seed}/duration={duration!r}/fps={fps!r}/lfp={lfp_rate!r}/ch={lfp.shape[1]}",
    )
    nwb = NWBFile(
        session_description=(
            f"Simulated open-field session (100 x 80 cm arena, one mouse), generated by "
            f"nwbview.demo.make_demo_session(seed={seed}, duration={duration:g})."
        ),
        identifier=str(ident),
        session_start_time=SESSION_START,
        file_create_date=[SESSION_START],
        session_id="demo",
        experimenter=["Generator, Demo"],  # DANDI's "Last, First" form
        lab="nwbview",
        institution="nwbview",
        experiment_description=(
            "Synthetic ground-truth data: behavioral video, 50 Hz position tracking, head "
            "direction, pose keypoints (ndx-pose) and hippocampal LFP with speed-modulated theta."
        ),
        keywords=["demo", "synthetic", "open field", "pose", "LFP", "theta"],
    )
    nwb.subject = Subject(
        subject_id="demo-mouse-01",
        species="Mus musculus",
        sex="M",
        age="P90D",
        strain="C57BL/6J",
        description="simulated mouse",
    )

    camera = nwb.create_device(
        name="camera",
        description="Simulated overhead camera, 640 x 480 px, nominal 30 fps, 5.6 px/cm at the floor.",
    )
    video = ImageSeries(
        name="BehaviorVideo",
        description="Overhead view of the open field (H.264 in an external mp4 file).",
        unit="n.a.",
        format="external",
        external_file=[VIDEO_NAME],
        starting_frame=[0],
        timestamps=frame_times,
        dimension=[VIDEO_WIDTH, VIDEO_HEIGHT],
        device=camera,
    )
    nwb.add_acquisition(video)

    behavior = nwb.create_processing_module("behavior", "Tracked position, head direction and pose.")
    pos_series = SpatialSeries(
        name="position",
        description="Body centre from a separate 50 Hz tracker; NaN where tracking was lost.",
        data=position,
        unit="centimeters",  # spelled out, as NWB Inspector wants a SpatialSeries unit
        reference_frame=WORLD_FRAME,
        starting_time=0.0,
        rate=POSITION_RATE,
    )
    behavior.add(Position(spatial_series=pos_series, name="Position"))
    hd_series = SpatialSeries(
        name="head_direction",
        description="Angle of the tail_base -> snout vector in the world frame; NaN where tracking was lost.",
        data=head_direction,
        unit="radians",
        reference_frame=(
            "0 rad points along world +x (arena right); angles increase counter-clockwise (toward world +y)"
        ),
        starting_time=0.0,
        rate=POSITION_RATE,
    )
    behavior.add(CompassDirection(spatial_series=hd_series, name="CompassDirection"))

    skeleton = ndx_pose.Skeleton(
        name="mouse",
        nodes=list(KEYPOINTS),
        edges=np.array(SKELETON_EDGES, dtype="uint8"),
        subject=nwb.subject,
    )
    behavior.add(ndx_pose.Skeletons(skeletons=[skeleton]))
    series = []
    for k, name in enumerate(KEYPOINTS):
        series.append(
            ndx_pose.PoseEstimationSeries(
                name=name,
                description=f"Estimated position of the {name.replace('_', ' ')}.",
                data=pose_px[:, k, :],
                unit="pixels",
                reference_frame=PIXEL_FRAME,
                timestamps=frame_times if k == 0 else series[0],
                confidence=confidence[:, k],
                confidence_definition="Simulated detector confidence in [0, 1].",
            )
        )
    behavior.add(
        ndx_pose.PoseEstimation(
            name="PoseEstimation",
            pose_estimation_series=series,
            description=(
                "Keypoints of one mouse: true positions plus ~0.5 px noise (larger where confidence is low)."
            ),
            scorer="nwbview-demo-ground-truth",
            source_software="nwbview.demo",
            source_software_version=_version(),
            skeleton=skeleton,
            source_video=video,
            device=camera,
        )
    )

    probe = nwb.create_device(name="probe", description=f"Simulated {lfp.shape[1]}-channel silicon probe.")
    group = nwb.create_electrode_group(
        name="shank0", description="single shank", location="CA1", device=probe
    )
    for c in range(lfp.shape[1]):
        nwb.add_electrode(group=group, location="CA1", rel_x=0.0, rel_y=20.0 * c, rel_z=0.0)
    region = nwb.create_electrode_table_region(
        region=list(range(lfp.shape[1])), description="all channels"
    )
    ecephys = nwb.create_processing_module("ecephys", "Local field potential.")
    # add the LFP container to the file before the series, so the electrodes
    # region and its table share an ancestor when the series gets its parent
    lfp_container = LFP(name="LFP")
    ecephys.add(lfp_container)
    lfp_container.add_electrical_series(
        ElectricalSeries(
            name="lfp",
            description="Simulated CA1 LFP: theta whose amplitude follows running speed, plus 1/f noise.",
            data=lfp,
            electrodes=region,
            starting_time=0.0,
            rate=float(lfp_rate),
            conversion=LFP_CONVERSION,
            filtering="simulated; 0.1-500 Hz",
        )
    )

    intervals = TimeIntervals(
        name="running_bouts", description="Stretches where body speed > 5 cm/s for at least 0.5 s."
    )
    for t0, t1 in bouts:
        intervals.add_interval(start_time=t0, stop_time=t1)
    nwb.add_time_intervals(intervals)

    # hdmf gives every object a random uuid4; derive them from the identifier
    # instead so the same arguments write a byte-identical file. (This sets a
    # private hdmf attribute; if it is ever renamed, ids are just random again.)
    for i, obj in enumerate(nwb.all_children()):
        attr = "_AbstractContainer__object_id"
        if hasattr(obj, attr):
            setattr(obj, attr, str(uuid.uuid5(ident, f"{i}/{type(obj).__name__}/{obj.name}")))

    with NWBHDF5IO(str(path), mode="w") as io:
        io.write(nwb)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("nwbview")
    except Exception:  # pragma: no cover - not installed
        return "unknown"


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------
def make_demo_session(
    out_dir: str | os.PathLike[str],
    *,
    duration: float = 60.0,
    fps: float = 30.0,
    seed: int = 0,
    lfp_rate: float = 1250.0,
    n_channels: int = 4,
    overwrite: bool = True,
) -> DemoSession:
    """Generate a demo session: a simulated mouse exploring a 100 x 80 cm open field.

    Writes four files into `out_dir`: ``demo_session.nwb`` (position, head
    direction, ndx-pose keypoints, LFP, running bouts and an ``ImageSeries``
    pointing at the video by a relative path), ``demo_video.mp4`` (640 x 480,
    H.264), ``demo_landmarks.csv`` (the 4 floor corners and 2 painted floor
    marks, in pixels and cm) and ``demo_truth.json`` (the ground truth). The
    result depends only on the arguments: the same seed gives the same data.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder to write into; created if it does not exist.
    duration : float, default 60.0
        Length of the session in seconds (session clock starts at 0). The
        camera starts at 0.25 s; the 60 s default takes a few seconds.
    fps : float, default 30.0
        Nominal camera frame rate.
    seed : int, default 0
        Seed of every random choice (path, textures, noise, dropped frame).
    lfp_rate : float, default 1250.0
        LFP sampling rate in Hz.
    n_channels : int, default 4
        Number of LFP channels.
    overwrite : bool, default True
        Replace existing demo files in `out_dir`. If False and any of them
        exists, raise :class:`~nwbview.errors.WriteError`.

    Returns
    -------
    DemoSession
        Paths of the written files and the ground truth (also in ``demo_truth.json``).

    Raises
    ------
    NWBViewError
        If an argument is out of range.
    WriteError
        If a file exists and `overwrite` is False.

    Examples
    --------
    >>> import tempfile
    >>> from nwbview.demo import make_demo_session
    >>> demo = make_demo_session(tempfile.mkdtemp(), duration=4.0)
    >>> demo.nwb_path.name, demo.video_path.name
    ('demo_session.nwb', 'demo_video.mp4')
    >>> demo.truth["px_per_cm"], demo.truth["video_start_time"]
    (5.6, 0.25)
    >>> demo.truth["pixel_to_world"][0]
    [0.17857142857142858, 0.0, -7.142857142857143]
    """
    if not (isinstance(duration, (int, float)) and math.isfinite(duration) and duration > 0):
        raise NWBViewError(f"duration must be a positive number of seconds, got {duration!r}.")
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and 1.0 <= fps <= 240.0):
        raise NWBViewError(f"fps must be between 1 and 240, got {fps!r}.")
    if not (isinstance(lfp_rate, (int, float)) and math.isfinite(lfp_rate) and lfp_rate >= 50.0):
        raise NWBViewError(f"lfp_rate must be at least 50 Hz, got {lfp_rate!r}.")
    if not (isinstance(n_channels, (int, np.integer)) and 1 <= n_channels <= 64):
        raise NWBViewError(f"n_channels must be an integer from 1 to 64, got {n_channels!r}.")
    duration, fps, lfp_rate, n_channels = float(duration), float(fps), float(lfp_rate), int(n_channels)

    out = Path(out_dir)
    paths = {name: out / name for name in (NWB_NAME, VIDEO_NAME, LANDMARKS_NAME, TRUTH_NAME)}
    if not overwrite:
        existing = [str(p) for p in paths.values() if p.exists()]
        if existing:
            raise WriteError(
                f"Demo files already exist: {', '.join(existing)}. Pass overwrite=True to replace "
                f"them, or choose another out_dir."
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"Cannot create the output folder {str(out)!r}: {exc}.") from exc

    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    rng_path, rng_frames, rng_bg, rng_pose, rng_track, rng_lfp = rngs

    path_model = _simulate_path(rng_path, duration + 0.1)
    frame_times, dropped = _frame_times(rng_frames, duration, fps)
    n_frames = len(frame_times)

    # pose: true keypoints + noise; a few low-confidence bursts with larger error
    true_px = to_pixel(keypoints_world(path_model.at(frame_times)))
    nk = len(KEYPOINTS)
    pose = true_px + rng_pose.normal(0.0, 0.5, true_px.shape)
    conf = np.clip(1.0 - np.abs(rng_pose.normal(0.0, 0.04, (n_frames, nk))), 0.0, 1.0)
    n_bursts = max(1, int(round(duration / 15.0)))
    low_frames: list[list[int]] = []
    for k in range(nk):
        low: list[int] = []
        for _ in range(n_bursts):
            length = int(rng_pose.integers(2, 6))
            start = int(rng_pose.integers(0, max(1, n_frames - length)))
            idx = np.arange(start, min(start + length, n_frames))
            conf[idx, k] = rng_pose.uniform(0.05, 0.45, len(idx))
            pose[idx, k] += rng_pose.normal(0.0, 4.0, (len(idx), 2))
            low.extend(int(i) for i in idx)
        low_frames.append(sorted(set(low)))

    # 50 Hz tracker: body centre and head direction, with ~0.3 s of lost tracking
    n_track = int(round(duration * POSITION_RATE))
    t_track = np.arange(n_track) / POSITION_RATE
    st = path_model.at(t_track)
    position = np.stack([st["x"], st["y"]], axis=1) + rng_track.normal(0.0, 0.08, (n_track, 2))
    hd = np.angle(np.exp(1j * (st["heading"] + rng_track.normal(0.0, 0.02, n_track))))
    n_lost = max(1, int(round(0.3 * POSITION_RATE)))
    lo = int(0.3 * n_track)
    lost0 = int(rng_track.integers(lo, max(lo + 1, int(0.7 * n_track) - n_lost)))
    lost0 = min(lost0, max(n_track - n_lost, 0))
    position[lost0 : lost0 + n_lost] = np.nan
    hd[lost0 : lost0 + n_lost] = np.nan

    lfp = _make_lfp(rng_lfp, path_model, duration, lfp_rate, n_channels)
    bouts = _running_bouts(path_model, duration)

    # write everything under temporary names, then move into place
    tmp = {name: p.with_name(f".{p.name}.tmp{os.getpid()}{p.suffix}") for name, p in paths.items()}
    try:
        write_video(tmp[VIDEO_NAME], background(rng_bg), path_model, frame_times, fps)
        _write_nwb(
            tmp[NWB_NAME],
            seed=seed,
            duration=duration,
            fps=fps,
            frame_times=frame_times,
            pose_px=pose,
            confidence=conf,
            position=position,
            head_direction=hd,
            lfp=lfp,
            lfp_rate=lfp_rate,
            bouts=bouts,
        )
        landmarks = []
        lines = ["label,pixel_x,pixel_y,world_x,world_y"]
        for label, (wx, wy) in LANDMARKS_CM.items():
            px, py = (float(v) for v in to_pixel(np.array([wx, wy])))
            landmarks.append({"label": label, "pixel": [px, py], "world": [wx, wy]})
            lines.append(f"{label},{px:.6g},{py:.6g},{wx:.6g},{wy:.6g}")
        tmp[LANDMARKS_NAME].write_text("\n".join(lines) + "\n")

        corners = ("bottom_left", "bottom_right", "top_right", "top_left")
        truth: dict[str, Any] = {
            "generator": "nwbview.demo.make_demo_session",
            "version": _version(),
            "seed": seed,
            "duration": duration,
            "session_start_time": SESSION_START.isoformat(),
            "pixel_to_world": PIXEL_TO_WORLD.tolist(),
            "world_to_pixel": WORLD_TO_PIXEL.tolist(),
            "px_per_cm": PX_PER_CM,
            "world_unit": "centimeters",
            "world_frame": WORLD_FRAME,
            "pixel_frame": PIXEL_FRAME,
            "frame_size": [VIDEO_WIDTH, VIDEO_HEIGHT],
            "arena_size_cm": [ARENA_WIDTH_CM, ARENA_HEIGHT_CM],
            "arena_corners_px": {
                c: [float(v) for v in to_pixel(np.array(LANDMARKS_CM[c]))] for c in corners
            },
            "arena_corners_cm": {c: list(LANDMARKS_CM[c]) for c in corners},
            "landmarks": landmarks,
            "keypoints": list(KEYPOINTS),
            "skeleton_edges": [list(e) for e in SKELETON_EDGES],
            "snout_to_tail_base_cm": SNOUT_AT - TAIL_BASE_AT,
            "video_start_time": float(frame_times[0]),
            "nominal_fps": fps,
            "n_frames": n_frames,
            # the camera dropped the frame that would have been video frame `index`
            # (nominal time `time`); timestamps[index] - timestamps[index - 1] ~ 2 periods
            "dropped_frame": {"index": dropped, "time": CAMERA_START_TIME + dropped / fps},
            "low_confidence_frames": {name: low_frames[k] for k, name in enumerate(KEYPOINTS)},
            "position_rate": POSITION_RATE,
            "tracking_lost": [lost0 / POSITION_RATE, (lost0 + n_lost) / POSITION_RATE],
            "lfp_rate": lfp_rate,
            "lfp_conversion": LFP_CONVERSION,
            "n_channels": n_channels,
            "running_bouts": [list(b) for b in bouts],
        }
        tmp[TRUTH_NAME].write_text(json.dumps(truth, indent=2) + "\n")
        for name, p in paths.items():
            os.replace(tmp[name], p)
    finally:
        for p in tmp.values():
            if p.exists():
                p.unlink()

    return DemoSession(
        nwb_path=paths[NWB_NAME],
        video_path=paths[VIDEO_NAME],
        landmarks_csv=paths[LANDMARKS_NAME],
        truth_json=paths[TRUTH_NAME],
        truth=truth,
    )
