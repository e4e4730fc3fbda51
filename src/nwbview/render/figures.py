"""Still figures with matplotlib: heatmaps (PNG, SVG or PDF by file extension).

Figures are made without pyplot (``matplotlib.figure.Figure``): nothing here selects a
backend or leaves a figure open in pyplot's registry, so a script, a notebook or a long batch
can draw as many as it likes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nwbview.io.atomic import save_output

__all__ = ["plot_heatmap", "save_figure"]

FIGURE_SUFFIXES = {".png", ".svg", ".pdf", ".jpg", ".jpeg"}


def save_figure(fig: Any, path: str | Path) -> Path:
    """Save a figure; the format follows the extension (.png, .svg, .pdf).

    Written to a temporary name first, then renamed, so a failed save leaves no partial file.

    Examples
    --------
    >>> save_figure(plot_heatmap(occupancy(session.position())), "occupancy.svg")  # doctest: +SKIP
    PosixPath('occupancy.svg')
    """
    return save_output(path, "the figure", lambda tmp: fig.savefig(tmp, dpi=150, bbox_inches="tight"), FIGURE_SUFFIXES)


def plot_heatmap(result: Any, path: str | Path | None = None, *, title: str | None = None, cmap: str | None = None, ax: Any = None):
    """Draw a heatmap (occupancy, signal map or movement heatmap) with labelled axes and a colour bar.

    World maps are drawn with y up (``origin="lower"``), pixel maps and
    head-centred crops with y down, as they appear in the video. Axes are in
    cm where calibrated.

    Parameters
    ----------
    result
        A DataArray from :mod:`nwbview.heatmap` or a ``MovementHeatmap``.
    path
        Save there (format by extension) when given.

    Returns
    -------
    matplotlib.figure.Figure
        A figure outside pyplot (``ax``'s figure when given): nothing to close, it goes when
        it is no longer used.

    Examples
    --------
    >>> fig = plot_heatmap(occupancy(session.position()), "occupancy.png")  # doctest: +SKIP
    """
    from matplotlib.figure import Figure

    movement = hasattr(result, "heatmap") and hasattr(result, "radius")
    da = result.heatmap if movement else result
    if ax is None:
        fig = Figure(figsize=(6.4, 5.2))
        ax = fig.subplots()
    else:
        fig = ax.figure
    kind = da.attrs.get("kind", "")
    values = np.asarray(da.values, float)
    if movement:
        use_cm = "x_cm" in da.coords
        xs = da["x_cm"].values if use_cm else da["x"].values
        ys = da["y_cm"].values if use_cm else da["y"].values
        half = (abs(xs[1] - xs[0]) / 2) if xs.size > 1 else 0.5
        # row 0 is the top of the crop: y_cm decreases down the rows (y up), pixel offsets increase
        extent = [xs[0] - half, xs[-1] + half, ys[-1] - half, ys[0] + half] if use_cm else [xs[0] - half, xs[-1] + half, ys[-1] + half, ys[0] - half]
        im = ax.imshow(values, cmap=cmap or "magma", extent=extent, origin="upper", vmin=0, vmax=1, interpolation="nearest")
        unit = "cm" if use_cm else "px"
        ego = "egocentric" in str(da.attrs.get("coordinates", ""))
        ax.set_xlabel(f"{'right of the head' if ego else 'x from the head'} ({unit})")
        ax.set_ylabel(f"{'ahead of the head' if ego else 'y from the head'} ({unit})")
        inv = "inverted " if da.attrs.get("polarity") == "dark" else ""
        label = f"mean {inv}intensity, normalised (gamma {da.attrs.get('gamma', '')})"
        ax.plot(0, 0, marker="+", color="cyan", markersize=10, mew=1.5)
        title = title or f"Movement heatmap ({result.frames_used} frames)"
    else:
        xe, ye = np.asarray(da.attrs["x_edges"]), np.asarray(da.attrs["y_edges"])
        pixel = da.attrs.get("coordinates") == "pixel"
        extent = [xe[0], xe[-1], ye[-1], ye[0]] if pixel else [xe[0], xe[-1], ye[0], ye[-1]]
        im = ax.imshow(values, cmap=cmap or ("viridis" if kind == "occupancy" else "inferno"), extent=extent,
                       origin="upper" if pixel else "lower", interpolation="nearest")
        unit = da.attrs.get("space_unit", "")
        ax.set_xlabel(f"x ({unit})")
        ax.set_ylabel(f"y ({unit})")
        ax.set_aspect("equal")
        if kind == "occupancy":
            label = "time spent (s)"
            title = title or f"Occupancy ({da.attrs.get('time_used_s', 0):.0f} s, {da.attrs.get('bin_size')} {unit} bins)"
        else:
            name = str(da.name or "signal").removesuffix("_by_position")
            label = f"mean {name} ({da.attrs.get('units', '')})"
            title = title or f"{name} by position ({da.attrs.get('bin_size')} {unit} bins)"
    fig.colorbar(im, ax=ax, label=label, shrink=0.85)
    ax.set_title(title)
    if path is not None:
        save_figure(fig, path)
    return fig
