"""The ``nwbview`` command line: thin wrappers over the Python API.

Every command calls one API function. Errors a user can cause
(:class:`~nwbview.errors.NWBViewError`) print one readable message on stderr
and exit with code 1, without a traceback; warnings print as ``warning: ...``.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from pathlib import Path

import click

from nwbview.errors import NWBViewError, NWBViewWarning


def _show_warning(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, NWBViewWarning):
        click.echo(f"warning: {message}", err=True)
    else:
        click.echo(f"warning ({category.__name__}): {message}", err=True)


def _run(fn):
    """Run a command body: NWBViewError -> message + exit 1; bugs -> short report + exit 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        warnings.showwarning = _show_warning
        try:
            return fn(*args, **kwargs)
        except NWBViewError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug: short report, traceback on request
            if os.environ.get("NWBVIEW_DEBUG"):
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in nwbview. Run again with NWBVIEW_DEBUG=1 to see the traceback, "
                "and report it with that output.",
                err=True,
            )
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nwbview")
def main():
    """nwbview: look at, export and analyse NWB behavior + ephys sessions."""


@main.command()
@click.argument("file")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@_run
def info(file, as_json):
    """List the streams of an NWB FILE: videos, positions, pose, LFP, ...

    Each with its NWB path, shape, unit, sampling, time range and the problems
    found.
    """
    import nwbview

    with nwbview.open(file) as s:
        inv = s.inventory()
        click.echo(inv.to_json() if as_json else str(inv))


@main.command()
@click.option("--out", "out", default="demo-output", show_default=True, type=click.Path(file_okay=False), help="Folder for the demo session.")
@click.option("--duration", default=60.0, show_default=True, help="Length of the session in seconds.")
@click.option("--seed", default=0, show_default=True, help="Random seed (the same seed gives the same session).")
@_run
def demo(out, duration, seed):
    """Make the built-in demo session: a mouse in a 100 x 80 cm open field.

    Writes demo_session.nwb, its video, the arena landmarks (CSV) and the
    ground truth (JSON) into OUT.
    """
    from nwbview.demo import make_demo_session

    Path(out).mkdir(parents=True, exist_ok=True)
    d = make_demo_session(out, duration=duration, seed=seed)
    click.echo(f"demo session: {d.nwb_path}")
    click.echo(f"  video:      {d.video_path}")
    click.echo(f"  landmarks:  {d.landmarks_csv}")
    click.echo(f"  truth:      {d.truth_json}")


def write_options(fn):
    """--write, --mode, --overwrite, --out, --module: the options of every command that produces results."""
    fn = click.option("--module", default="behavior", show_default=True, help="Processing module for the results.")(fn)
    fn = click.option("--out", "write_out", default=None, type=click.Path(dir_okay=False), help="With --mode new: the new file.")(fn)
    fn = click.option("--overwrite", is_flag=True, help="Replace results nwbview wrote before.")(fn)
    fn = click.option(
        "--mode",
        type=click.Choice(["replace", "new", "append"]),
        default="replace",
        show_default=True,
        help="replace: new file renamed over the original; new: a derived file (--out); append: in place.",
    )(fn)
    fn = click.option("--write", is_flag=True, help="Write the results into the NWB file.")(fn)
    return fn


def _write(file, results, *, mode, overwrite, write_out, module):
    from nwbview.io.write import write_results

    target = write_results(file, results, module=module, mode=mode, overwrite=overwrite, out=write_out)
    names = ", ".join(f"processing/{module}/{r.name}" for r in results)
    click.echo(f"wrote {names} into {target} (mode {mode})")


@main.command()
@click.argument("file")
@click.option("--source", type=click.Choice(["position", "pose"]), default="position", show_default=True, help="Compute from tracked position or from a pose keypoint.")
@click.option("--keypoint", default=None, help="With --source pose: the keypoint (default: snout/nose/head).")
@click.option("--smooth", "smooth_s", type=float, default=None, help="Rolling-median smoothing window in seconds.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None, help="Save time, speed, acceleration to a CSV file.")
@write_options
@_run
def kinematics(file, source, keypoint, smooth_s, csv_path, write, mode, overwrite, write_out, module):
    """Speed, acceleration and head direction of the animal in FILE.

    Prints a summary; --csv saves the values; --write stores them in the file.
    """
    import numpy as np

    import nwbview
    from nwbview.results import kinematics_results

    with nwbview.open(file) as s:
        results = kinematics_results(s, source=source, keypoint=keypoint, smooth_s=smooth_s)
    speed = results[0]
    v = np.asarray(speed.data)
    t = np.asarray(speed.timestamps)
    finite = v[np.isfinite(v)]
    click.echo(
        f"speed ({speed.unit}) from {source}: {v.size} samples, {t[0]:.3f}..{t[-1]:.3f} s, "
        f"median {np.median(finite):.3g}, 95th percentile {np.percentile(finite, 95):.3g}, "
        f"max {finite.max():.3g}; {v.size - finite.size} samples NaN (tracking gaps)"
    )
    click.echo("results: " + ", ".join(f"{r.name} ({type(r).__name__})" for r in results))
    if csv_path:
        import pandas as pd

        acc = np.asarray(results[1].data)
        pd.DataFrame({"time_s": t, f"speed_{speed.unit}": v, f"acceleration_{results[1].unit}": acc}).to_csv(csv_path, index=False)
        click.echo(f"saved {csv_path}")
    if write:
        _write(file, results, mode=mode, overwrite=overwrite, write_out=write_out, module=module)


@main.command()
@click.argument("file")
@click.option("--video", default=None, help="The video (ImageSeries name or path) to calibrate; default: the only one.")
@click.option("--landmarks", type=click.Path(exists=True, dir_okay=False), default=None, help="CSV with label,pixel_x,pixel_y,world_x,world_y.")
@click.option("--type", "transform_type", type=click.Choice(["auto", "similarity", "affine", "projective"]), default="auto", show_default=True, help="With --landmarks: the transform to fit.")
@click.option("--scale-bar", nargs=5, type=float, default=None, metavar="X1 Y1 X2 Y2 LENGTH", help="Two pixel points and their real distance.")
@click.option("--cm-per-px", type=float, default=None, help="A known scale.")
@click.option("--unit", default="cm", show_default=True, help="World unit of the landmarks / length.")
@click.option("--dry-run", is_flag=True, help="Print the fit; write nothing.")
@click.option("--mode", type=click.Choice(["replace", "new", "append"]), default="replace", show_default=True, help="How to write (see `nwbview kinematics --help`).")
@click.option("--overwrite", is_flag=True, help="Replace a calibration written before.")
@click.option("--out", "write_out", default=None, type=click.Path(dir_okay=False), help="With --mode new: the new file.")
@_run
def calibrate(file, video, landmarks, transform_type, scale_bar, cm_per_px, unit, dry_run, mode, overwrite, write_out):
    """Fit a pixel -> world calibration of a video in FILE and store it in the file.

    From landmarks (2+ points: similarity, 3+: affine, 4+: projective), a scale
    bar, or a known cm per pixel. Prints the fit (type, scale, residuals), then
    writes a VideoCalibration into processing/behavior (unless --dry-run).
    """
    import nwbview
    from nwbview.results import calibration_result

    with nwbview.open(file) as s:
        cal = s.fit_calibration(
            video, landmarks=landmarks, transform_type=transform_type,
            scale_bar=list(scale_bar) if scale_bar else None, cm_per_px=cm_per_px, unit=unit,
        )
        video_path = s._pick("video", video).path
    click.echo(cal.summary())
    if dry_run:
        return
    result = calibration_result(cal, video_path, landmarks=str(landmarks) if landmarks else None)
    _write(file, [result], mode=mode, overwrite=overwrite, write_out=write_out, module="behavior")


@main.command()
@click.argument("file")
@click.option("--kind", type=click.Choice(["occupancy", "signal", "movement"]), default="occupancy", show_default=True)
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default=None, help="Figure file (.png, .svg, .pdf). Default: <file>_<kind>.png next to FILE.")
@click.option("--bin-size", type=float, default=None, help="Spatial bin (default 2.5 cm, or 10 px uncalibrated).")
@click.option("--min-speed", type=float, default=None, help="Use only samples/frames at or above this speed.")
@click.option("--smooth", type=float, default=None, help="Gaussian smoothing sigma (world units; px for movement).")
@click.option("--signal", default="speed", show_default=True, help="--kind signal: speed, lfp-power, or a TimeSeries name.")
@click.option("--band", nargs=2, type=float, default=(6.0, 10.0), show_default=True, help="--signal lfp-power: band in Hz.")
@click.option("--lfp-channel", type=int, default=0, show_default=True)
@click.option("--head", default=None, help="--kind movement: head keypoint (default snout/nose/head).")
@click.option("--tail", default=None, help="--kind movement: tail keypoint (default tail base).")
@click.option("--intervals", default=None, help="--kind movement: a TimeIntervals table name (e.g. running_bouts).")
@click.option("--egocentric", is_flag=True, help="--kind movement: rotate crops so the head points up.")
@click.option("--gamma", type=float, default=0.5, show_default=True)
@click.option("--buffer-mult", type=float, default=2.0, show_default=True)
@click.option("--padding", type=int, default=0, show_default=True, help="Extra crop pixels.")
@click.option("--min-confidence", type=float, default=0.5, show_default=True)
@click.option("--open", "open_fig", is_flag=True, help="Open the figure when done.")
@write_options
@_run
def heatmap(file, kind, output, bin_size, min_speed, smooth, signal, band, lfp_channel, head, tail, intervals, egocentric,
            gamma, buffer_mult, padding, min_confidence, open_fig, write, mode, overwrite, write_out, module):
    """Occupancy, signal-by-position or head-centred movement heatmap of FILE.

    Saves a figure (-o) and, with --write, stores the map in the file.
    """
    import nwbview
    from nwbview.heatmap import compute_heatmap
    from nwbview.render.figures import plot_heatmap
    from nwbview.results import heatmap_result

    opts = {}
    if kind == "movement":
        from nwbview.kinematics import HEAD_NAMES, TAIL_NAMES

        opts = dict(head=head or HEAD_NAMES, tail=tail or TAIL_NAMES, intervals=intervals, egocentric=egocentric,
                    gamma=gamma, buffer_mult=buffer_mult, crop_padding=padding, min_confidence=min_confidence, progress=True)
    with nwbview.open(file) as s:
        res = compute_heatmap(s, kind, bin_size=bin_size, min_speed=min_speed, smooth=smooth, signal=signal,
                              band=tuple(band), lfp_channel=lfp_channel, **opts)
    out = Path(output) if output else Path(file).with_name(f"{Path(file).stem}_{kind}.png")
    plot_heatmap(res, out)
    da = res.heatmap if kind == "movement" else res
    if kind == "movement":
        click.echo(f"movement heatmap: radius {res.radius} px, {res.frames_used} frames used; skipped: "
                   + (", ".join(f"{k} {v}" for k, v in res.frames_skipped.items() if v) or "none"))
    else:
        click.echo(f"{kind} map: {da.sizes['x']} x {da.sizes['y']} bins of {da.attrs['bin_size']} {da.attrs.get('space_unit', '')}")
    click.echo(f"saved {out}")
    if write:
        params = {k: v for k, v in dict(bin_size=bin_size, min_speed=min_speed, smooth=smooth, signal=signal if kind == "signal" else None, **{k: v for k, v in opts.items() if k != "progress"}).items() if v is not None}
        _write(file, [heatmap_result(da, **params)], mode=mode, overwrite=overwrite, write_out=write_out, module=module)
    if open_fig:
        click.launch(str(out))


if __name__ == "__main__":  # pragma: no cover
    main()
