"""What each core dependency costs: installed size and import time; and how fast ``import nwbview`` is.

Usage: ``python benchmarks/bench_deps.py [--quick]``

- size: the files a distribution installed (its RECORD, bundled shared libraries included), in MB;
  "alone" counts what only it brings (its own requirements that no other core package needs).
- import: ``python -X importtime -c "import MODULE"`` in a fresh interpreter, the module's
  cumulative time, best of N runs (a shared, noisy machine: the best run is the least disturbed).
- ``import nwbview``: the same, and which heavy modules it loads (it must load none of PyAV,
  matplotlib, OpenCV, scipy).
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

CORE = {  # distribution: module imported
    "numpy": "numpy", "scipy": "scipy", "xarray": "xarray", "pynwb": "pynwb", "hdmf": "hdmf", "h5py": "h5py",
    "ndx-pose": "ndx_pose", "ndx-video-calibration": "ndx_video_calibration", "av": "av",
    "matplotlib": "matplotlib", "click": "click", "tqdm": "tqdm", "pandas": "pandas",
    "opencv-python-headless": "cv2",
}
HEAVY = ("av", "matplotlib", "cv2", "scipy", "pandas", "xarray", "pynwb", "h5py")


def dist_size(name: str) -> float:
    """MB of the files the distribution installed."""
    try:
        files = metadata.distribution(name).files or []
    except metadata.PackageNotFoundError:
        return float("nan")
    total = 0
    for f in files:
        p = Path(f.locate())
        if p.is_file():
            total += p.stat().st_size
    return total / 1e6


def requirements(name: str) -> set[str]:
    """The distributions ``name`` needs (transitively, extras and markers aside)."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        n = todo.pop()
        try:
            reqs = metadata.distribution(n).requires or []
        except metadata.PackageNotFoundError:
            continue
        for r in reqs:
            if ";" in r and "extra" in r.split(";", 1)[1]:
                continue
            dep = re.split(r"[\s<>=!~\[;(]", r, maxsplit=1)[0].lower().replace("_", "-")
            if dep and dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def import_time(code: str, runs: int) -> tuple[float, set[str]]:
    """Best cumulative seconds of the top-level import in ``code``, and the modules it loaded."""
    best, loaded = float("inf"), set()
    for _ in range(runs):
        r = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True)
        rows = [line.split("|") for line in r.stderr.splitlines() if line.startswith("import time:") and "|" in line]
        cum = {row[2].strip(): int(row[1]) for row in rows[1:] if len(row) == 3 and row[1].strip().isdigit()}
        target = code.split()[1]
        if target in cum:
            best = min(best, cum[target] / 1e6)
        loaded = {m.split(".")[0] for m in cum}
    return best, loaded


def drawing(frames: int) -> None:
    """The export's per-frame drawing (pose dots, skeleton, a 2 s trail, a heading arrow, a blended
    trace panel) with OpenCV, and the same shapes with Pillow's ImageDraw (no antialiasing)."""
    import time

    import cv2
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    pts = rng.uniform([40, 16], [600, 464], size=(frames, 4, 2))
    trail = np.cumsum(rng.normal(0, 2, (frames + 60, 2)), axis=0) + [320, 240]
    panel = np.full((120, 640, 3), 255, np.uint8)

    def with_cv2(i: int) -> np.ndarray:
        img = base.copy()
        p = np.round(pts[i] * 16).astype(np.int32)
        cv2.polylines(img, [np.round(trail[i:i + 60] * 16).astype(np.int32)], False, (200, 200, 0), 2, cv2.LINE_AA, 4)
        for a, b in ((0, 1), (0, 2), (1, 3), (2, 3)):
            cv2.line(img, tuple(p[a]), tuple(p[b]), (255, 255, 255), 2, cv2.LINE_AA, 4)
        for q in p:
            cv2.circle(img, tuple(q), 5 * 16, (0, 0, 255), -1, cv2.LINE_AA, 4)
        cv2.arrowedLine(img, tuple(p[3]), tuple(p[0]), (0, 255, 0), 2, cv2.LINE_AA, 4, 0.2)
        img[-120:] = cv2.addWeighted(img[-120:], 0.3, panel, 0.7, 0)
        return img

    def with_pil(i: int) -> np.ndarray:
        im = Image.fromarray(base.copy())
        d = ImageDraw.Draw(im)
        d.line([tuple(q) for q in trail[i:i + 60]], fill=(200, 200, 0), width=2)
        p = pts[i]
        for a, b in ((0, 1), (0, 2), (1, 3), (2, 3)):
            d.line([tuple(p[a]), tuple(p[b])], fill=(255, 255, 255), width=2)
        for x, y in p:
            d.ellipse([x - 5, y - 5, x + 5, y + 5], fill=(0, 0, 255))
        d.line([tuple(p[3]), tuple(p[0])], fill=(0, 255, 0), width=2)
        img = np.asarray(im).copy()
        img[-120:] = (img[-120:] * 0.3 + panel * 0.7).astype(np.uint8)
        return img

    for name, fn in (("OpenCV", with_cv2), ("Pillow", with_pil)):
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for i in range(frames):
                fn(i)
            best = min(best, (time.perf_counter() - t0) / frames)
        print(f"drawing one 640x480 export frame with {name}: {best * 1e3:.2f} ms")


def main() -> None:
    runs = 3 if "--quick" in sys.argv else 7
    core_deps = {n: requirements(n) for n in CORE}
    print("| package | version | installed (MB) | with what only it brings (MB) | import (ms) |")
    print("|---|---|---|---|---|")
    for name, module in CORE.items():
        others = set().union(*(core_deps[o] | {o} for o in CORE if o != name))
        only = {d for d in core_deps[name] if d not in others}
        size = dist_size(name)
        alone = size + sum(s for s in (dist_size(d) for d in only) if s == s)  # not installed (nan) aside
        t, _ = import_time(f"import {module}", runs)
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        if size < 0.05:  # an editable install: its files are the source tree
            version += " (editable)"
        print(f"| {name} | {version} | {size:.1f} | {alone:.1f}{' (+' + ', '.join(sorted(only)) + ')' if only else ''} | {t * 1e3:.0f} |")
    everything = set(CORE).union(*core_deps.values())
    total = sum(s for s in (dist_size(d) for d in everything) if s == s)
    print(f"\ncore install: {len(everything)} distributions, {total:.0f} MB")
    drawing(100 if "--quick" in sys.argv else 500)
    t, loaded = import_time("import nwbview", runs)
    print(f"\nimport nwbview: {t * 1e3:.0f} ms (best of {runs}); heavy modules loaded: "
          f"{', '.join(m for m in HEAVY if m in loaded) or 'none'}")
    for what in ("nwbview.render.export", "nwbview.interop"):
        t, loaded = import_time(f"import {what}", runs)
        print(f"import {what}: {t * 1e3:.0f} ms; loads {', '.join(m for m in HEAVY if m in loaded) or 'none'}")


if __name__ == "__main__":
    main()
