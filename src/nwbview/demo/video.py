"""The demo session's video: the floor with its landmarks and a drawn mouse, written as H.264."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from nwbview.demo.scene import (  # noqa: E402
    keypoints_world,
    to_pixel,
    ARENA_HEIGHT_CM,
    ARENA_WIDTH_CM,
    BODY_A,
    BODY_B,
    BODY_CENTRE,
    BODY_RGB,
    EAR_RADIUS,
    EAR_RGB,
    FLOOR_BOTTOM_PX,
    FLOOR_LEFT_PX,
    FLOOR_RIGHT_PX,
    FLOOR_TOP_PX,
    HEAD_A,
    HEAD_B,
    HEAD_CENTRE,
    HEAD_RGB,
    LANDMARKS_CM,
    MARK_COLORS,
    PX_PER_CM,
    TAIL_BASE_AT,
    TAIL_LENGTH,
    TAIL_R0,
    TAIL_R1,
    TAIL_RGB,
    TAIL_SEGMENTS,
    VIDEO_HEIGHT,
    VIDEO_WIDTH,
)

# ---------------------------------------------------------------------------
def _cover_1d(lo: float, hi: float, edges: np.ndarray) -> np.ndarray:
    """Fraction of each pixel [e, e+1) covered by the interval [lo, hi)."""
    return np.clip(np.minimum(edges + 1.0, hi) - np.maximum(edges, lo), 0.0, 1.0)


def background(rng: np.random.Generator) -> np.ndarray:
    """The static scene (H, W, 3) float32: surround, walls, textured floor, marks."""
    from scipy.ndimage import gaussian_filter

    H, W = VIDEO_HEIGHT, VIDEO_WIDTH
    xs, ys = np.arange(W, dtype=float), np.arange(H, dtype=float)
    img = np.empty((H, W, 3), dtype=np.float32)
    img[:] = (28.0, 28.0, 32.0)  # room beyond the box
    l, r, t, b = FLOOR_LEFT_PX, FLOOR_RIGHT_PX, FLOOR_TOP_PX, FLOOR_BOTTOM_PX
    wall = 12.0

    def box(x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
        return _cover_1d(y0, y1, ys)[:, None] * _cover_1d(x0, x1, xs)[None, :]

    def paint(alpha: np.ndarray, rgb: Any) -> None:
        a = alpha[..., None].astype(np.float32)
        img[:] = img * (1.0 - a) + np.asarray(rgb, dtype=np.float32) * a

    paint(box(l - wall, r + wall, t - wall, b + wall), (206.0, 204.0, 198.0))  # wall tops
    paint(box(l - 3.0, r + 3.0, t - 3.0, b + 3.0), (96.0, 94.0, 92.0))  # wall base / shadow
    # floor: base colour + smooth mottling + fine grain + faint 10 cm grid
    floor = np.empty((int(b - t), int(r - l), 3), dtype=np.float32)
    smooth = gaussian_filter(rng.standard_normal(floor.shape[:2]), sigma=7.0)
    smooth *= 6.0 / max(smooth.std(), 1e-9)
    grain = rng.normal(0.0, 2.0, floor.shape[:2])
    floor[:] = np.array([176.0, 171.0, 160.0], dtype=np.float32)
    floor += (smooth + grain)[..., None].astype(np.float32)
    fx, fy = np.arange(floor.shape[1], dtype=float), np.arange(floor.shape[0], dtype=float)
    grid_x = np.zeros(floor.shape[1])
    grid_y = np.zeros(floor.shape[0])
    for k in range(1, int(ARENA_WIDTH_CM // 10)):
        c = k * 10.0 * PX_PER_CM
        grid_x = np.maximum(grid_x, _cover_1d(c - 0.6, c + 0.6, fx))
    for k in range(1, int(ARENA_HEIGHT_CM // 10)):
        c = k * 10.0 * PX_PER_CM
        grid_y = np.maximum(grid_y, _cover_1d(c - 0.6, c + 0.6, fy))
    grid = np.maximum(grid_x[None, :], grid_y[:, None])
    floor -= (14.0 * grid)[..., None].astype(np.float32)
    img[int(t) : int(b), int(l) : int(r)] = floor
    # two painted crosses; their centres are landmarks
    arm, half_w = 2.0 * PX_PER_CM, 0.35 * PX_PER_CM
    for label, rgb in MARK_COLORS.items():
        cx, cy = to_pixel(np.array(LANDMARKS_CM[label]))
        h = box(cx - arm, cx + arm, cy - half_w, cy + half_w)
        v = box(cx - half_w, cx + half_w, cy - arm, cy + arm)
        paint(h + v - h * v, rgb)
    return img


def _ellipse_alpha(a: np.ndarray, b: np.ndarray, a0: float, A: float, B: float) -> np.ndarray:
    """Antialiased coverage of an ellipse centred at (a0, 0) in (a, b) pixel coordinates."""
    p, q = (a - a0) / A, b / B
    r = np.sqrt(p * p + q * q)
    grad = np.sqrt((p / A) ** 2 + (q / B) ** 2) / np.maximum(r, 1e-6)
    return np.clip(0.5 - (r - 1.0) / np.maximum(grad, 1e-6), 0.0, 1.0)


def _disc_alpha(X: np.ndarray, Y: np.ndarray, cx: float, cy: float, rad: float) -> np.ndarray:
    d = np.sqrt((X - cx) ** 2 + (Y - cy) ** 2)
    return np.clip(0.5 - (d - rad), 0.0, 1.0)


def _tail_points(x: float, y: float, heading: float, omega: float, t: float) -> np.ndarray:
    """Tail polyline (K+1, 2) in world cm, from the tail base backwards."""
    ux, uy = math.cos(heading), math.sin(heading)
    p = [(x + TAIL_BASE_AT * ux, y + TAIL_BASE_AT * uy)]
    bend = max(-1.2, min(1.2, -0.3 * omega))  # the tail trails the turn
    seg = TAIL_LENGTH / TAIL_SEGMENTS
    for k in range(TAIL_SEGMENTS):
        f = (k + 1) / TAIL_SEGMENTS
        ang = heading + math.pi + f * bend + 0.25 * f * math.sin(2 * math.pi * 0.7 * t - 0.8 * k)
        p.append((p[-1][0] + seg * math.cos(ang), p[-1][1] + seg * math.sin(ang)))
    return np.array(p)


def _draw_animal(frame: np.ndarray, st: dict[str, float], t: float) -> tuple[int, int, int, int]:
    """Draw the mouse into ``frame`` (float32, H x W x 3) in place; return its bbox."""
    s = PX_PER_CM
    heading = st["heading"]
    ux, uy = math.cos(heading), -math.sin(heading)  # heading in the pixel frame
    (cx, cy) = to_pixel(np.array([st["x"], st["y"]]))
    kp = to_pixel(keypoints_world({k: np.atleast_1d(v) for k, v in st.items()}))[0]
    tail = to_pixel(_tail_points(st["x"], st["y"], heading, st["omega"], t))
    tip = (HEAD_CENTRE + HEAD_A) * s
    pts = np.vstack([tail, kp, [[cx + ux * tip, cy + uy * tip]]])
    pad = 2.0 * s
    x0 = max(int(math.floor(pts[:, 0].min() - pad)), 0)
    x1 = min(int(math.ceil(pts[:, 0].max() + pad)), VIDEO_WIDTH)
    y0 = max(int(math.floor(pts[:, 1].min() - pad)), 0)
    y1 = min(int(math.ceil(pts[:, 1].max() + pad)), VIDEO_HEIGHT)
    if x1 <= x0 or y1 <= y0:
        return (0, 0, 0, 0)
    X = (np.arange(x0, x1, dtype=np.float32) + 0.5)[None, :]
    Y = (np.arange(y0, y1, dtype=np.float32) + 0.5)[:, None]
    dx, dy = X - np.float32(cx), Y - np.float32(cy)
    a = dx * ux + dy * uy  # along the heading (px)
    b = -dx * uy + dy * ux  # across
    roi = frame[y0:y1, x0:x1]

    def paint(alpha: np.ndarray, rgb: np.ndarray) -> None:
        al = alpha[..., None]
        roi[:] = roi * (1.0 - al) + rgb * al

    # tail: tapered polyline
    radii = np.linspace(TAIL_R0, TAIL_R1, len(tail)) * s
    ta = np.zeros(a.shape, dtype=np.float32)
    for k in range(len(tail) - 1):
        (px0, py0), (px1, py1) = tail[k], tail[k + 1]
        ddx, ddy = px1 - px0, py1 - py0
        L2 = max(ddx * ddx + ddy * ddy, 1e-9)
        u = np.clip(((X - px0) * ddx + (Y - py0) * ddy) / L2, 0.0, 1.0)
        dist = np.sqrt((X - (px0 + u * ddx)) ** 2 + (Y - (py0 + u * ddy)) ** 2)
        rad = radii[k] + u * (radii[k + 1] - radii[k])
        np.maximum(ta, np.clip(0.5 - (dist - rad), 0.0, 1.0), out=ta)
    paint(ta, TAIL_RGB)
    paint(_ellipse_alpha(a, b, BODY_CENTRE * s, BODY_A * s, BODY_B * s), BODY_RGB)
    paint(_ellipse_alpha(a, b, HEAD_CENTRE * s, HEAD_A * s, HEAD_B * s), HEAD_RGB)
    for k in (1, 2):
        paint(_disc_alpha(X, Y, kp[k, 0], kp[k, 1], EAR_RADIUS * s), EAR_RGB)
    return (x0, x1, y0, y1)


def write_video(
    path: Path, background: np.ndarray, path_model: Any, times: np.ndarray, fps: float
) -> None:
    """Render one frame per timestamp and encode them (H.264, evenly spaced pts)."""
    import av

    rate = Fraction(fps).limit_denominator(100000)
    states = path_model.at(times)
    frame = background.copy()
    bg_u8 = np.clip(np.rint(background), 0, 255).astype(np.uint8)
    out = bg_u8.copy()
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = VIDEO_WIDTH, VIDEO_HEIGHT, "yuv420p"
        stream.codec_context.gop_size = 60
        stream.codec_context.thread_count = 2  # fixed: x264 output depends on it
        stream.codec_context.options = {"preset": "veryfast", "crf": "23"}
        for i, t in enumerate(times):
            st = {k: float(v[i]) for k, v in states.items()}
            x0, x1, y0, y1 = _draw_animal(frame, st, float(t))
            out[y0:y1, x0:x1] = np.clip(np.rint(frame[y0:y1, x0:x1]), 0, 255)
            vf = av.VideoFrame.from_ndarray(out, format="rgb24")
            vf.pts = i
            container.mux(stream.encode(vf))
            # restore the static scene where the animal was
            frame[y0:y1, x0:x1] = background[y0:y1, x0:x1]
            out[y0:y1, x0:x1] = bg_u8[y0:y1, x0:x1]
        container.mux(stream.encode(None))


# ---------------------------------------------------------------------------
# derived signals
# ---------------------------------------------------------------------------
