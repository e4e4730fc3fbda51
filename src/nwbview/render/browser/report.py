"""The session report: the one-file HTML player with, below it, what the file holds.

``nwbview html SESSION --report`` (``export_html(..., report=True)``) adds to the player's page
the session's inventory (the table ``nwbview info`` prints: every stream, its shape, unit,
sampling, time span and the problems found) and the heatmaps nwbview wrote into the file
(``nwbview heatmap --write``), drawn as ``plot_heatmap`` draws them. Still one file: the
figures are inlined PNGs.

Examples
--------
>>> import nwbview
>>> nwbview.export_html("session.nwb", "report.html", start=60, stop=90, report=True)  # doctest: +SKIP
PosixPath('report.html')
"""

from __future__ import annotations

import base64
import html
import io
import logging
from typing import Any

__all__ = ["report_section", "written_heatmaps"]

log = logging.getLogger(__name__)

STYLE = """
.nv-report { max-width: 1100px; margin-top: 28px; }
.nv-report h2 { font-size: 17px; margin: 22px 0 8px; }
.nv-report pre { background: #fff; border: 1px solid #ddd; padding: 10px; overflow-x: auto; font-size: 12px; }
.nv-report figure { display: inline-block; margin: 0 16px 16px 0; vertical-align: top; }
.nv-report figure img { width: 420px; border: 1px solid #ddd; background: #fff; }
.nv-report figcaption { font-size: 12px; color: #555; max-width: 420px; }
"""


def written_heatmaps(session: Any) -> list[tuple[str, Any]]:
    """The heatmaps nwbview wrote into the session's file: ``[(path in the file, DataArray)]``.

    A result that cannot be read back is skipped with a line in the log (the report shows the
    others).

    Examples
    --------
    >>> [path for path, _ in written_heatmaps(s)]  # doctest: +SKIP
    ['processing/behavior/heatmap_occupancy_nwbview']
    """
    from nwbview.heatmap import heatmap_from_images

    found = []
    for info in session.inventory().of_kind("result"):
        obj = info.obj
        if type(obj).__name__ != "Images" or "values" not in getattr(obj, "images", {}):
            continue
        try:
            found.append((info.path, heatmap_from_images(obj)))
        except Exception as exc:  # noqa: BLE001 - one unreadable result does not stop the report
            log.warning("nwbview report: %s could not be read back as a heatmap: %s", info.path, exc)
    return found


def _figure_png(da: Any, title: str) -> bytes:
    from nwbview.render.figures import plot_heatmap

    fig = plot_heatmap(da, title=title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


def report_section(session: Any) -> str:
    """The report's HTML (a ``<section>``) for a session: its inventory and the heatmaps written in its file.

    Examples
    --------
    >>> "<h2>Session</h2>" in report_section(s)  # doctest: +SKIP
    True
    """
    inventory = session.inventory()
    parts = [f"<style>{STYLE}</style>", '<section class="nv-report">', "<h2>Session</h2>",
             f"<pre>{html.escape(str(inventory))}</pre>"]
    maps = written_heatmaps(session)
    parts.append(f"<h2>Heatmaps in the file ({len(maps)})</h2>")
    if not maps:
        parts.append("<p>None written: <code>nwbview heatmap SESSION --write</code> adds them.</p>")
    for path, da in maps:
        name = path.rsplit("/", 1)[-1]
        png = base64.b64encode(_figure_png(da, name)).decode("ascii")
        parts.append(f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{png}">'
                     f"<figcaption>{html.escape(path)}</figcaption></figure>")
    parts.append("</section>")
    return "\n".join(parts)
