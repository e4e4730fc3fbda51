"""The export's blending arithmetic and the position trail, against straightforward references:
the faster code must draw the same pixels (issue 21). No timing here."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from nwbview.render.draw import GlyphAtlas, PanelGeometry, bind_overlay, blend_mask, fixed, mix
from nwbview.render.overlays import PositionOverlay
from nwbview.timeline import Timeline


def reference_mix(px, m, color):
    m3 = np.asarray(m, np.uint16)[..., None]
    return ((px.astype(np.uint16) * (255 - m3) + np.asarray(color, np.uint16) * m3 + 127) // 255).astype(np.uint8)


@pytest.mark.parametrize("color", [(0, 0, 0), (255, 255, 255), (31, 119, 180), (255, 140, 0)])
def test_mix_equals_the_integer_blend_for_every_pixel_value_and_coverage(color):
    v, m = np.meshgrid(np.arange(256, dtype=np.uint8), np.arange(256, dtype=np.uint8))
    px = np.stack([v, v[::-1], v.T], axis=-1)  # every value in every channel
    assert np.array_equal(mix(px, m, color), reference_mix(px, m, color))


def test_blend_mask_clips_and_blends_like_the_reference():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    mask = rng.integers(0, 256, (12, 30), dtype=np.uint8)
    for x, y, opacity in [(5, 6, 1.0), (-7, 33, 1.0), (40, -4, 0.75), (200, 200, 1.0)]:
        got, want = img.copy(), img.copy()
        blend_mask(got, mask, (200, 30, 90), x, y, opacity=opacity)
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + 30, 50), min(y + 12, 40)
        if x1 > x0 and y1 > y0:
            m = mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.uint16)
            if opacity != 1.0:
                m = (m * opacity).astype(np.uint16)
            want[y0:y1, x0:x1] = reference_mix(want[y0:y1, x0:x1], m, (200, 30, 90))
        assert np.array_equal(got, want), (x, y, opacity)
    assert np.array_equal(got, img)  # (200, 200) lies outside: nothing drawn


def reference_trail(d, img, lo, hi, now):
    """The trail as it was drawn before issue 21: one polylines call per opacity level, found with np.unique."""
    import cv2

    pts, fin = d.pts[lo : hi + 1], d.fin[lo : hi + 1]
    seg_ok = fin[:-1] & fin[1:]
    both = pts[np.concatenate([seg_ok, [False]]) | np.concatenate([[False], seg_ok])]
    pad = d.thickness + 2
    H, W = img.shape[:2]
    x0 = max(int(np.floor(both[:, 0].min())) - pad, 0)
    y0 = max(int(np.floor(both[:, 1].min())) - pad, 0)
    x1 = min(int(np.ceil(both[:, 0].max())) + pad, W)
    y1 = min(int(np.ceil(both[:, 1].max())) + pad, H)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fx = fixed(np.where(fin[:, None], pts - [x0, y0], 0.0))
    alpha = np.clip(1.0 - (now - d.t[lo + 1 : hi + 1]) / d.trail, 0.0, 1.0)
    level = np.ceil(alpha * d.N_LEVELS).astype(np.int64)
    idx = np.flatnonzero(seg_ok & (level > 0))
    for lev in np.unique(level[idx]):
        sel = idx[level[idx] == lev]
        cv2.polylines(mask, list(np.stack([fx[sel], fx[sel + 1]], axis=1)), False, int(round(255 * lev / d.N_LEVELS)), d.thickness,
                      cv2.LINE_AA, 4)
    roi = img[y0:y1, x0:x1]
    roi[:] = reference_mix(roi, mask, d.color)


def test_the_trail_draws_the_pixels_of_one_call_per_level():
    """A wandering path at 50 Hz with gaps (NaN), some samples off the panel, drawn at 30 frames/s."""
    rng = np.random.default_rng(7)
    t = np.arange(0, 6, 0.02)
    xy = np.cumsum(rng.normal(0, 4, (t.size, 2)), axis=0) + [160, 120]
    xy[40:47] = np.nan
    xy[200:203, 0] = -30.0  # off the left edge
    pos = xr.DataArray(xy, dims=("time", "space"), coords={"time": t, "space": ["x", "y"]}, attrs={"coordinates": "pixel"})
    timeline = Timeline(np.arange(0.5, 5.5, 1 / 30))
    geometry = PanelGeometry("cam", (320, 240), 1.0)
    d = bind_overlay(PositionOverlay(pos, trail_s=2.0, thickness=3), timeline, geometry, GlyphAtlas(10))
    base = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    drawn = 0
    for k in range(len(timeline.times)):
        i, lo = int(d.now[k]), int(d.lo[k])
        if i < 0 or i - lo < 1 or not (d.fin[lo : i + 1][:-1] & d.fin[lo : i + 1][1:]).any():
            continue
        got, want = base.copy(), base.copy()
        d._trail(got, lo, i, float(d.times[k]))
        reference_trail(d, want, lo, i, float(d.times[k]))
        assert np.array_equal(got, want), k
        drawn += int(not np.array_equal(got, base))
    assert drawn > 100  # the trail was drawn, not skipped
