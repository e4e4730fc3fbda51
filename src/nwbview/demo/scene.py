"""The demo session's ground truth: arena geometry, camera, body plan, names and colours.

Everything here is exact: tests and other modules rely on these numbers.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

# ---------------------------------------------------------------------------
# ground-truth geometry (keep exactly: tests and other modules rely on it)
# ---------------------------------------------------------------------------
VIDEO_WIDTH, VIDEO_HEIGHT = 640, 480
ARENA_WIDTH_CM, ARENA_HEIGHT_CM = 100.0, 80.0
PX_PER_CM = 5.6
FLOOR_LEFT_PX, FLOOR_TOP_PX = 40.0, 16.0
FLOOR_RIGHT_PX = FLOOR_LEFT_PX + ARENA_WIDTH_CM * PX_PER_CM  # 600
FLOOR_BOTTOM_PX = FLOOR_TOP_PX + ARENA_HEIGHT_CM * PX_PER_CM  # 464

#: pixel (x, y, 1) -> world (x_cm, y_cm, 1)
PIXEL_TO_WORLD = np.array(
    [
        [1.0 / PX_PER_CM, 0.0, -FLOOR_LEFT_PX / PX_PER_CM],
        [0.0, -1.0 / PX_PER_CM, FLOOR_BOTTOM_PX / PX_PER_CM],
        [0.0, 0.0, 1.0],
    ]
)
WORLD_TO_PIXEL = np.array(
    [
        [PX_PER_CM, 0.0, FLOOR_LEFT_PX],
        [0.0, -PX_PER_CM, FLOOR_BOTTOM_PX],
        [0.0, 0.0, 1.0],
    ]
)

CAMERA_START_TIME = 0.25
POSITION_RATE = 50.0
LFP_CONVERSION = 0.195e-6  # volts per bit (Intan)
KEYPOINTS = ("snout", "left_ear", "right_ear", "tail_base")
SKELETON_EDGES = ((0, 1), (0, 2), (1, 3), (2, 3))
#: floor landmarks (label -> world cm); the last two are painted crosses
LANDMARKS_CM = {
    "bottom_left": (0.0, 0.0),
    "bottom_right": (ARENA_WIDTH_CM, 0.0),
    "top_right": (ARENA_WIDTH_CM, ARENA_HEIGHT_CM),
    "top_left": (0.0, ARENA_HEIGHT_CM),
    "red_cross": (25.0, 55.0),
    "blue_cross": (70.0, 25.0),
}
MARK_COLORS = {"red_cross": (205.0, 55.0, 50.0), "blue_cross": (45.0, 75.0, 200.0)}

# animal body plan, in cm along the heading (+ forward) from the body centre
SNOUT_AT = 4.45
TAIL_BASE_AT = -3.5  # snout -> tail base: 7.95 cm
EAR_AT, EAR_SIDE, EAR_RADIUS = 2.5, 1.05, 0.55
BODY_CENTRE, BODY_A, BODY_B = -0.6, 3.45, 1.8
HEAD_CENTRE, HEAD_A, HEAD_B = 3.4, 1.55, 1.2
TAIL_LENGTH, TAIL_SEGMENTS = 7.0, 8
TAIL_R0, TAIL_R1 = 0.45, 0.15
WALL_CLEARANCE = 5.0  # the body centre never comes closer than this to a wall (cm)

BODY_RGB = np.array([52.0, 46.0, 44.0], dtype=np.float32)
HEAD_RGB = np.array([60.0, 54.0, 50.0], dtype=np.float32)
EAR_RGB = np.array([100.0, 72.0, 76.0], dtype=np.float32)
TAIL_RGB = np.array([135.0, 100.0, 100.0], dtype=np.float32)

SIM_DT = 1.0 / 200.0
NWB_NAME, VIDEO_NAME = "demo_session.nwb", "demo_video.mp4"
LANDMARKS_NAME, TRUTH_NAME = "demo_landmarks.csv", "demo_truth.json"
SESSION_START = datetime(2024, 3, 14, 9, 26, 53, tzinfo=timezone.utc)
PIXEL_FRAME = "(0,0) is the top-left corner of the video; x right, y down"
WORLD_FRAME = (
    "(0,0) is the bottom-left corner of the arena floor (100 x 80 cm) as seen from the "
    "camera above; x right, y up, in cm"
)


def to_pixel(xy: np.ndarray) -> np.ndarray:
    """World cm (..., 2) -> pixel (..., 2)."""
    xy = np.asarray(xy, dtype=float)
    return np.stack(
        [FLOOR_LEFT_PX + PX_PER_CM * xy[..., 0], FLOOR_BOTTOM_PX - PX_PER_CM * xy[..., 1]], axis=-1
    )


def keypoints_world(st: dict[str, np.ndarray]) -> np.ndarray:
    """True keypoints (n, 4, 2) in world cm, in the order of KEYPOINTS."""
    ux, uy = np.cos(st["heading"]), np.sin(st["heading"])
    lx, ly = -uy, ux  # the animal's left (CCW from heading, world y up)
    cx, cy = st["x"], st["y"]
    out = np.empty((len(cx), len(KEYPOINTS), 2))
    for k, (along, side) in enumerate(
        [(SNOUT_AT, 0.0), (EAR_AT, EAR_SIDE), (EAR_AT, -EAR_SIDE), (TAIL_BASE_AT, 0.0)]
    ):
        out[:, k, 0] = cx + along * ux + side * lx
        out[:, k, 1] = cy + along * uy + side * ly
    return out
