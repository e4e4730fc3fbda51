"""The ``nwbview`` command line: thin wrappers over the Python API.

Every command calls one API function. Exit codes:

- 0: done;
- 1: the user's input cannot be used: a bad file or stream (:class:`~nwbview.errors.NWBViewError`),
  a file the system will not let us read or write (``OSError``), or a bad command line (an unknown
  option, a value of the wrong type or not among the choices). One readable message on stderr,
  no traceback;
- 2: a bug in nwbview (a short report; ``NWBVIEW_DEBUG=1`` shows the traceback);
- 130: interrupted (Ctrl-C).

Warnings print as ``warning: ...`` and do not change the exit code.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from pathlib import Path

import click

from nwbview.errors import NWBViewError, NWBViewWarning, plain_numbers


def _show_warning(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, NWBViewWarning):
        click.echo(f"warning: {plain_numbers(str(message))}", err=True)
    else:
        click.echo(f"warning ({category.__name__}): {message}", err=True)


def _os_message(exc: OSError) -> str:
    """One line for an error of the system (permissions, a full disk, a missing folder)."""
    what = exc.strerror or str(exc)
    names = [n for n in (exc.filename, exc.filename2) if n]
    where = f" {' -> '.join(map(str, names))}" if names else ""
    return (
        f"cannot use{where}: {what}. Check that the path exists and that you may read it "
        "(and write to its folder, for outputs), then run the command again."
    )


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
        except OSError as exc:  # the system refused: not a bug in nwbview
            click.echo(f"error: {_os_message(exc)}", err=True)
            sys.exit(1)
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


class _Group(click.Group):
    """Usage errors (unknown option, bad value) exit 1 like every other error of the user's."""

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            exc.exit_code = 1
            raise

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            exc.exit_code = 1
            raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nwbview")
def main():
    """nwbview: look at, export and analyse NWB behavior + ephys sessions."""


_NAME_RULE = "matched as the Python API matches it: a name, an NWB path, or a name ignoring case and separators; `nwbview info FILE` lists them"


def renamed_option(old: str, new: str, *, flag: bool = False):
    """A hidden option of nwbview 0.1 that 0.2 renamed: it still parses, and is an error naming ``new``."""

    def refuse(ctx, param, value):
        from nwbview.errors import renamed_message

        if value not in (None, False):
            raise click.BadOptionUsage(old, renamed_message(old, new, python=False), ctx=ctx)

    return click.option(old, is_flag=flag, default=False if flag else None, hidden=True, expose_value=False, callback=refuse,
                        is_eager=True)


def pose_name_option(fn):
    """--pose NAME: which PoseEstimation (or track) to use."""
    return click.option("--pose", "pose", default=None, metavar="NAME", help=f"The pose to use: a PoseEstimation or a track (individual) name, {_NAME_RULE} [default: the only one, or the tracks of one recording as individuals].")(fn)


def position_name_option(fn):
    """--position NAME: which position stream (or which one-column series as x,y) to use."""
    return click.option("--position", "position", default=None, metavar="NAME", help=f"The position to use: a Position container or SpatialSeries, {_NAME_RULE}; one-column series as x,y columns: 'Position/x,y'.")(fn)


def lfp_name_option(fn):
    """--lfp NAME: which ElectricalSeries to use."""
    return click.option("--lfp", "lfp", default=None, metavar="NAME", help=f"The LFP (ElectricalSeries) to use, {_NAME_RULE}.")(fn)


def min_confidence_option(fn):
    """--min-confidence: the one confidence rule."""
    from nwbview.kinematics import DEFAULT_MIN_CONFIDENCE

    return click.option("--min-confidence", type=float, default=None, metavar="C",
                        help=f"Pose samples whose confidence is below C are gaps (not used, not drawn); NaN confidence is kept [default: {DEFAULT_MIN_CONFIDENCE}].")(fn)


def video_file_option(fn):
    """--video PATH: the video file of a pose-only file."""
    return click.option("--video", default=None, type=click.Path(dir_okay=False), help="The video file of a pose-only file (sleap-io, DeepLabCut), when it is not beside FILE under the name in original_videos.")(fn)


@main.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Several sessions: print the table as CSV.")
@click.option("--table", "force_table", is_flag=True, help="Show the table of sessions even for one file.")
@click.option("--has", default=None, metavar="KINDS", help="Only sessions holding all of these, e.g. video,pose (video, pose, position, head_direction, lfp, timeseries, intervals, calibration, results).")
@click.option("--min-duration-s", "min_duration_s", type=float, default=None, metavar="SECONDS", help="Only sessions at least this long.")
@renamed_option("--min-duration", "--min-duration-s")
@click.option("--row", type=int, default=None, metavar="N", help="Show session N of the table in detail (with --paths: print its path or URL).")
@click.option("--paths", is_flag=True, help="Print the paths/URLs of the sessions shown, one a line (for nwbview view / export, or a list file for batch).")
@click.option("--workers", type=int, default=4, show_default=True, help="Sessions read at the same time (one connection each).")
@click.option("--no-cache", is_flag=True, help="Read every session again (the cache of rows is in NWBVIEW_SCAN_CACHE, default ~/.cache/nwbview/scan).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@video_file_option
@_run
def info(sources, as_json, as_csv, force_table, has, min_duration_s, row, paths, workers, no_cache, quiet, video):
    """List the streams of an NWB file, or what each of many sessions holds.

    One FILE (or URL, or dandi:// asset): each stream with its NWB path, shape,
    unit, sampling, time range and the problems found.

    Several SOURCES, a glob, a folder, a list file or a dandiset
    (dandi://ID[/GLOB]): one row per session (ids, duration, video, pose,
    position, head direction, LFP, calibration, results, problems), read in
    parallel (remote sessions: metadata only) and cached. Rows are numbered;
    --row N shows one in detail, --paths prints their paths/URLs.
    """
    import nwbview
    from nwbview import scanning as scan_mod

    table_only = as_csv or force_table or has or min_duration_s is not None or row is not None or paths
    if len(sources) == 1 and not table_only and scan_mod.looks_like_one_session(sources[0]):
        with nwbview.open(sources[0], video=video) as s:
            inv = s.inventory()
            click.echo(inv.to_json() if as_json else str(inv))  # the table, or JSON for machines
        return
    if video is not None:
        raise NWBViewError("--video names the video of one pose-only session; it cannot be used with several sessions. Give one FILE.")
    if row is not None:
        found = scan_mod.split_sources(list(sources))
        if not 1 <= row <= len(found):
            raise NWBViewError(f"--row {row} is not a session: the sources hold {len(found)} (rows 1 to {len(found)}).")
        if paths:
            click.echo(found[row - 1])
            return
        with nwbview.open(found[row - 1]) as s:
            inv = s.inventory()
            click.echo(inv.to_json() if as_json else str(inv))
        return
    table = scan_mod.scan(list(sources), has=has, min_duration_s=min_duration_s, workers=workers,
                          cache=not no_cache, progress=not quiet)
    if paths:
        for src in table["source"]:
            click.echo(src)
    elif as_json:
        import json

        click.echo(json.dumps(scan_mod.to_records(table), indent=1, default=str))
    elif as_csv:
        click.echo(table.assign(problems=table["problems"].str.replace("\n", " | ", regex=False)).to_csv(index=False), nl=False)
    else:
        click.echo(scan_mod.format_table(table))


@main.command()
@click.option("--output-dir", "output_dir", default="demo-output", show_default=True, type=click.Path(file_okay=False), help="Folder for the demo session.")
@renamed_option("--out", "--output-dir")
@click.option("--duration", default=60.0, show_default=True, help="Length of the session in seconds.")
@click.option("--seed", default=0, show_default=True, help="Random seed (the same seed gives the same session).")
@_run
def demo(output_dir, duration, seed):
    """Make the built-in demo session: a mouse in a 100 x 80 cm open field.

    Writes demo_session.nwb, its video, the arena landmarks (CSV) and the
    ground truth (JSON) into OUTPUT_DIR.
    """
    from nwbview.demo import make_demo_session

    Path(output_dir).mkdir(parents=True, exist_ok=True)
    d = make_demo_session(output_dir, duration=duration, seed=seed)
    click.echo(f"demo session: {d.nwb_path}")
    click.echo(f"  video:      {d.video_path}")
    click.echo(f"  landmarks:  {d.landmarks_csv}")
    click.echo(f"  truth:      {d.truth_json}")


def write_options(fn):
    """--write, --mode, --overwrite, --new-file, --module: the options of every command that produces results."""
    fn = click.option("--module", default="behavior", show_default=True, help="Processing module for the results.")(fn)
    fn = click.option("--new-file", "new_file", default=None, type=click.Path(dir_okay=False), help="With --mode new: the new file.")(fn)
    fn = renamed_option("--out", "--new-file")(fn)
    fn = click.option("--overwrite", is_flag=True, help="Replace results nwbview wrote before.")(fn)
    fn = click.option(
        "--mode",
        type=click.Choice(["replace", "new", "append"]),
        default="replace",
        show_default=True,
        help="replace: new file renamed over the original; new: a derived file (--new-file); append: in place.",
    )(fn)
    fn = click.option("--write", is_flag=True, help="Write the results into the NWB file.")(fn)
    return fn


@main.command()
@click.argument("file")
@click.option("--tracking", type=click.Choice(["position", "pose"]), default=None, help="Compute from tracked position or from a pose keypoint [default: position, or pose when FILE has no position].")
@click.option("--keypoint", default=None, help="With --tracking pose: the keypoint (default: snout/nose/head).")
@click.option("--smooth-s", "smooth_s", type=float, default=None, metavar="SECONDS", help="Rolling-median smoothing window in seconds.")
@renamed_option("--source", "--tracking")
@renamed_option("--smooth", "--smooth-s")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None, help="Save time, speed, acceleration to a CSV file (a column per individual).")
@pose_name_option
@position_name_option
@min_confidence_option
@video_file_option
@write_options
@_run
def kinematics(file, tracking, keypoint, smooth_s, csv_path, pose, position, min_confidence, video, write, mode, overwrite, new_file, module):
    """Speed, acceleration and head direction of the animal(s) in FILE.

    Prints a summary; --csv saves the values; --write stores them in the file.
    From a pose, every individual gets its own speed and head direction.
    """
    from nwbview.jobs import kinematics_job

    r = kinematics_job(file, tracking=tracking, keypoint=keypoint, smooth_s=smooth_s, csv=csv_path, video=video, pose=pose, position=position,
                       min_confidence=min_confidence, write=write, mode=mode, overwrite=overwrite, new_file=new_file, module=module)
    click.echo(r.summary)


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
@click.option("--new-file", "new_file", default=None, type=click.Path(dir_okay=False), help="With --mode new: the new file.")
@renamed_option("--out", "--new-file")
@_run
def calibrate(file, video, landmarks, transform_type, scale_bar, cm_per_px, unit, dry_run, mode, overwrite, new_file):
    """Fit a pixel -> world calibration of a video in FILE and store it in the file.

    From landmarks (2+ points: similarity, 3+: affine, 4+: projective), a scale
    bar, or a known cm per pixel. Prints the fit (type, scale, residuals), then
    writes a VideoCalibration into processing/behavior (unless --dry-run).
    """
    from nwbview.jobs import calibrate_job

    r = calibrate_job(file, video=video, landmarks=landmarks, transform_type=transform_type, scale_bar=scale_bar or None,
                      cm_per_px=cm_per_px, unit=unit, write=not dry_run, mode=mode, overwrite=overwrite, new_file=new_file)
    click.echo(r.summary)


@main.command()
@click.argument("file")
@click.option("--kind", type=click.Choice(["occupancy", "signal", "movement"]), default="occupancy", show_default=True)
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default=None, help="Figure file (.png, .svg, .pdf). Default: <file>_<kind>.png next to FILE.")
@click.option("--bin-size", type=float, default=None, help="Spatial bin (default 2.5 cm, or 10 px uncalibrated).")
@click.option("--min-speed", type=float, default=None, help="Use only samples/frames at or above this speed.")
@click.option("--sigma", type=float, default=None, help="Gaussian smoothing sigma, in the map's unit (world units; px for movement).")
@renamed_option("--smooth", "--sigma")
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
@min_confidence_option
@click.option("--open", "open_fig", is_flag=True, help="Open the figure when done.")
@click.option("--video", default=None, help="--kind movement: the video, an ImageSeries name or a video file (" + "the video file of a pose-only file)")
@pose_name_option
@position_name_option
@lfp_name_option
@write_options
@_run
def heatmap(file, kind, output, bin_size, min_speed, sigma, signal, band, lfp_channel, head, tail, intervals, egocentric,
            gamma, buffer_mult, padding, min_confidence, open_fig, video, pose, position, lfp, write, mode, overwrite, new_file, module):
    """Occupancy, signal-by-position or head-centred movement heatmap of FILE.

    Saves a figure (-o) and, with --write, stores the map in the file.
    """
    from nwbview.jobs import heatmap_job

    r = heatmap_job(file, kind=kind, output=output, bin_size=bin_size, min_speed=min_speed, sigma=sigma, signal=signal,
                    band=tuple(band), lfp_channel=lfp_channel, head=head, tail=tail, intervals=intervals, egocentric=egocentric,
                    gamma=gamma, buffer_mult=buffer_mult, padding=padding, min_confidence=min_confidence, video=video, pose=pose, position=position,
                    lfp=lfp, progress=True,
                    write=write, mode=mode, overwrite=overwrite, new_file=new_file, module=module)
    click.echo(r.summary)
    out = r.outputs[0]
    if open_fig:
        click.launch(str(out))


# -- annotated video export ---------------------------------------------------------------------


def content_kwargs(p: dict) -> dict:
    """The CLI's stream options -> the API's stream keywords (``pose``, ``show_pose``, ...).

    ``--pose NAME`` draws that pose, ``--pose`` alone the file's own (and so for ``--position`` and
    ``--head-direction``); ``--no-show-pose`` none. Returns the options with ``pose``,
    ``position``, ``head_direction`` as a name or None (the file's own) and the ``show_*``
    switches. A stream named and switched off (``--pose male --no-show-pose``) is refused.

    Examples
    --------
    >>> content_kwargs({"pose": "male", "show_position": False, "head_direction": "", "show_head_direction": False})
    {'pose': 'male', 'show_position': False, 'head_direction': None, 'show_head_direction': True, 'show_pose': True}
    """
    out = dict(p)
    for kind in ("pose", "position", "head_direction", "lfp"):
        if kind not in p:
            continue
        flag = kind.replace("_", "-")
        name = p[kind]
        if name and p.get(f"show_{kind}") is False:
            raise NWBViewError(f"--{flag} {name} and --no-show-{flag} contradict each other; give one.")
        out[kind] = name or None
        if name is not None:  # named, or given alone: shown
            out[f"show_{kind}"] = True
    return out


def stream_options(*, show_head_direction: bool):
    """The options that say what is shown, shared by export, snapshot and view.

    Streams are chosen by name (``--pose NAME``; alone: the file's own) and switched with
    ``--show-KIND/--no-show-KIND``; durations end in ``-s``. 0.1's spellings are hidden and exit 1
    naming the new option.
    """

    def named(kind: str, what: str):
        flag = kind.replace("_", "-")
        return click.option(f"--{flag}", kind, default=None, is_flag=False, flag_value="", metavar="[NAME]",
                            help=f"The {what} to show, {_NAME_RULE} (alone: the file's own, shown).")

    def show(kind: str, what: str, default: bool = True):
        flag = kind.replace("_", "-")
        return click.option(f"--show-{flag}/--no-show-{flag}", f"show_{kind}", default=default, show_default=True, help=f"Show {what}.")

    opts = [
        named("pose", "pose (every individual): a PoseEstimation or track name"),
        named("position", "tracked position (speed is taken from it); one-column series as 'Position/x,y'"),
        named("head_direction", "head-direction series"),
        click.option("--lfp", "lfp", default=None, metavar="NAME", help=f"The LFP (ElectricalSeries) shown in the column, {_NAME_RULE}."),
        click.option("--lfp-channel", type=int, default=None, help="LFP channel to show [default: 0 when the file has LFP]."),
        show("pose", "the pose"),
        show("position", "the tracked position and its trail"),
        show("head_direction", "the head direction", show_head_direction),
        show("speed", "the speed in the column"),
        show("lfp", "the LFP in the column"),
        click.option("--trail-s", "trail_s", type=float, default=2.0, show_default=True, metavar="SECONDS", help="Seconds of fading position trail."),
        click.option("--window-s", "window_s", type=float, default=2.0, show_default=True, metavar="SECONDS", help="Seconds of signal shown in the column."),
        click.option("--min-confidence", type=float, default=None, metavar="C", help="Hide keypoints whose confidence is below C [default: 0.5]."),
        renamed_option("--trail", "--trail-s"),
        renamed_option("--window", "--window-s"),
        renamed_option("--no-pose", "--no-show-pose", flag=True),
        renamed_option("--no-position", "--no-show-position", flag=True),
        renamed_option("--no-head-direction", "--no-show-head-direction", flag=True),
        renamed_option("--no-lfp", "--no-show-lfp", flag=True),
        renamed_option("--speed", "--show-speed", flag=True),
        renamed_option("--no-speed", "--no-show-speed", flag=True),
    ]

    def apply(fn):
        for opt in reversed(opts):
            fn = opt(fn)
        return fn

    return apply


def _content_options(fn):
    """What the export and the snapshot show: video, overlays, the time-series column."""
    opts = [
        click.option("--video", "videos", multiple=True, help="Video to show: an ImageSeries name, or a video file (the video of a pose-only file, when it is not beside FILE under the name in original_videos); repeat to show several side by side."),
        stream_options(show_head_direction=False),
        click.option("--events", multiple=True, help="TimeIntervals table to mark while an interval is active (repeatable)."),
        click.option("--landmarks", type=click.Path(dir_okay=False), default=None, help="Landmarks CSV (label,pixel_x,pixel_y,world_x,world_y) to calibrate the video."),
        click.option("--size", default=None, help="Output size WIDTHxHEIGHT (default: the video's size plus the column)."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _clip_options(fn):
    """The range and the encoding of a clip: shared by export and html."""
    opts = [
        click.option("--start", type=float, default=None, help="Start time, seconds on the session clock [default: first frame]."),
        click.option("--stop", type=float, default=None, help="Stop time, seconds (exclusive) [default: last frame]."),
        _content_options,
        click.option("--workers", type=int, default=None, help="Parallel render processes [default: CPU count]. The output is identical whatever the number."),
        click.option("--crf", type=int, default=23, show_default=True, help="x264 quality: lower is better (0-51)."),
        click.option("--preset", default="veryfast", show_default=True, help="x264 speed preset (ultrafast ... veryslow)."),
        click.option("--quiet", is_flag=True, help="No progress bar."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


@main.command()
@click.argument("file")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output video (.mp4).")
@_clip_options
@click.option("--fps", type=float, default=None, help="Resample to a constant frame rate (default: the video's own frames and times).")
@_run
def export(file, videos, events, quiet, **options):
    """Export an annotated video of FILE: the behavioral video with pose, position trail and a
    column of speed and LFP, as H.264 MP4.
    """
    import time

    from nwbview.jobs import export_job

    t0 = time.perf_counter()
    r = export_job(file, video=list(videos), events=list(events), progress=not quiet, **content_kwargs(options))
    click.echo(f"{r.summary} in {time.perf_counter() - t0:.1f} s")


@main.command()
@click.argument("file")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output page (.html).")
@click.option("--report", is_flag=True, help="A session report: below the player, the inventory and the heatmaps written in the file.")
@_clip_options
@_run
def html(file, videos, events, quiet, report, **options):
    """Write a one-file HTML player of FILE: the clip (H.264, embedded) with the pose and the
    position trail drawn over it in the browser, and a scrolling column of speed and LFP. It opens
    in any browser with nothing else (no server, no network): play/pause at 0.25x-4x, arrow keys
    step one frame, a click on a trace jumps there. With --report, the page is a session report.
    """
    from nwbview.jobs import html_job

    r = html_job(file, video=list(videos), events=list(events), progress=not quiet, report=report, **content_kwargs(options))
    click.echo(r.summary)


@main.command()
@click.argument("file")
@click.option("--time", "time", type=float, required=True, help="Session time in seconds.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output image (.png, .jpg, ...).")
@_content_options
@_run
def snapshot(file, videos, events, **options):
    """Save one frame of the annotated video of FILE at --time as an image."""
    from nwbview.jobs import snapshot_job

    r = snapshot_job(file, video=list(videos), events=list(events), **content_kwargs(options))
    click.echo(r.summary)


# -- batch --------------------------------------------------------------------------------------


def _batch_job_kwargs(job: str, p: dict) -> dict:
    """The single-session command's parsed options -> the job function's keywords (as each command maps them)."""
    write = dict(write=p["write"], mode=p["mode"], overwrite=p["overwrite"], new_file=p["new_file"]) if "write" in p else {}
    if p.get("video") and job in ("info", "kinematics", "heatmap"):
        raise NWBViewError(
            f"batch {job}: --video names one session's video, not one for every session. Put each session's "
            "video beside its NWB file under the name in original_videos."
        )
    if job == "info":
        return {"json_path": "{stem}_info.json" if p["as_json"] else None}
    if job == "kinematics":
        return dict(tracking=p["tracking"], keypoint=p["keypoint"], smooth_s=p["smooth_s"], csv=p["csv_path"], module=p["module"],
                    pose=p["pose"], position=p["position"], min_confidence=p["min_confidence"], **write)
    if job == "calibrate":
        return dict(video=p["video"], landmarks=p["landmarks"], transform_type=p["transform_type"], scale_bar=p["scale_bar"] or None,
                    cm_per_px=p["cm_per_px"], unit=p["unit"], write=not p["dry_run"], mode=p["mode"], overwrite=p["overwrite"], new_file=p["new_file"])
    if job == "heatmap":
        if p.get("open_fig"):
            raise NWBViewError("--open opens one figure; it is not for batch. Leave it out (the figures are listed in the summary).")
        keys = ("kind", "output", "bin_size", "min_speed", "sigma", "signal", "lfp_channel", "head", "tail", "intervals",
                "egocentric", "gamma", "buffer_mult", "padding", "min_confidence", "module", "pose", "position", "lfp")
        return dict({k: p[k] for k in keys}, band=tuple(p["band"]), **write)
    if job == "export":
        from nwbview.jobs import split_video

        if split_video(p.get("videos"))[0] is not None:
            raise NWBViewError(
                "batch export: --video FILE names one session's video, not one for every session. Put each "
                "session's video beside its NWB file under the name in original_videos (or pass ImageSeries names)."
            )
        rename = {"videos": "video"}
        skip = {"workers", "quiet"}  # batch's own --workers and --quiet; each session renders in one process
        out = {rename.get(k, k): (list(v) if isinstance(v, tuple) and k in ("videos", "events") else v) for k, v in p.items() if k not in skip}
        return content_kwargs(out)
    raise NWBViewError(f"Unknown job {job!r}.")  # pragma: no cover - checked before


def _parse_job_options(job: str, args: list[str]) -> dict:
    """Parse a job's options with the single-session command's own option definitions."""
    import copy

    from nwbview.batching import JOBS, job_function

    job_function(job)  # unknown job, or export not available: a clear error
    cmd = main.commands.get(job)
    if job not in JOBS or cmd is None:  # pragma: no cover - JOBS and the commands agree
        raise NWBViewError(f"Unknown job {job!r}: nwbview batch runs one of {', '.join(JOBS)}.")
    params = []
    for prm in cmd.params:
        if isinstance(prm, click.Argument):
            continue
        prm = copy.copy(prm)
        prm.required = False  # e.g. export's -o: batch gives each session its own default
        params.append(prm)
    parser = click.Command(f"nwbview batch SOURCES {job}", params=params, add_help_option=False)
    try:
        with parser.make_context(parser.name, list(args)) as ctx:
            return _batch_job_kwargs(job, dict(ctx.params))
    except click.UsageError as exc:
        raise NWBViewError(f"batch {job}: {exc.format_message()} (see `nwbview {job} --help` for its options)") from None


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("sources")
@click.argument("job")
@click.argument("job_args", nargs=-1, type=click.UNPROCESSED)
@click.option("--workers", type=int, default=None, help="Local cluster of N worker processes, one thread each [default: CPU count].")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="Use a running dask cluster (tcp://host:8786) instead of a local one.")
@click.option("--force", is_flag=True, help="Redo every session, also those done before (results this batch wrote are replaced).")
@click.option("--summary", type=click.Path(dir_okay=False), default=None, help="Summary table (CSV; Parquet beside it with pyarrow) [default: nwbview-batch-<JOB>.csv].")
@click.option("--landmarks-pattern", default=None, metavar="PATTERN", help="calibrate, export: each session's landmarks file, e.g. \"{stem}_landmarks.csv\", next to the session.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_run
def batch(sources, job, job_args, workers, scheduler, force, summary, landmarks_pattern, quiet):
    """Run JOB on every session of SOURCES, in parallel on dask.distributed.

    SOURCES is a glob of local files (quote it: "sessions/*.nwb"), a text file
    of paths or URLs (one a line, # comments), or a dandiset
    (dandi://ID[@VERSION][/PATH-GLOB]). JOB is info, kinematics, heatmap,
    calibrate or export, with the options of that command (`nwbview JOB --help`);
    options naming files it writes (--csv, -o, --new-file) take patterns like
    "{stem}_speed.csv", resolved next to each session. `info --json` saves
    {stem}_info.json next to each session; `export` writes {stem}_clip.mp4 by
    default, each session rendered by one process.

    A session that fails is reported and the others go on. A second run skips
    the sessions already done with the same options (unless --force). Exits 1
    when a session failed.

    \b
    Examples:
      nwbview batch "sessions/*.nwb" heatmap --kind movement --egocentric --write
      nwbview batch sessions.txt kinematics --csv "{stem}_speed.csv" --workers 4
      nwbview batch "sessions/*.nwb" calibrate --landmarks-pattern "{stem}_landmarks.csv"
    """
    from nwbview.batching import batch

    options = _parse_job_options(job, list(job_args))
    table = batch(sources, job, workers=workers, scheduler=scheduler, force=force, summary=summary, progress=not quiet,
                      landmarks_pattern=landmarks_pattern, **options)
    counts = table["status"].value_counts()
    failed = table[table["status"] == "failed"]
    for _, row in failed.iterrows():
        first = (row["error"].strip().splitlines() or ["?"])
        msg = first[-1] if first[0].startswith("Traceback") else first[0]
        click.echo(f"failed: {row['session']}: {msg}", err=True)
    click.echo(
        f"{job}: {len(table)} sessions: {counts.get('done', 0)} done, {counts.get('skipped', 0)} skipped, "
        f"{counts.get('failed', 0)} failed in {table.attrs.get('seconds', 0):.1f} s; summary: {table.attrs.get('summary')}"
    )
    if len(failed):
        sys.exit(1)



# -- napari viewer --------------------------------------------------------------------------------


@main.command()
@click.argument("file")
@click.option("--video", default=None, help="Video to show: an ImageSeries name, or a video file (the video of a pose-only file); default: the only one.")
@click.option("--start", type=float, default=None, help="First time the slider reaches, seconds on the session clock.")
@click.option("--stop", type=float, default=None, help="Time the slider stops before, seconds.")
@stream_options(show_head_direction=True)
@_run
def view(file, video, start, stop, **content):
    """Open FILE in the napari viewer: the video on a time slider with pose, position trail and
    head direction, a time-series dock (speed, LFP) and a calibration widget.

    Needs the napari extra (pip install 'nwbview[napari]') and a display.
    """
    try:
        import napari

        from nwbview.render.napari import view as open_viewer
    except ImportError as exc:
        raise NWBViewError(f"The viewer needs napari: pip install 'nwbview[napari]' ({exc}).") from None
    from nwbview.jobs import open_session

    session, videos = open_session(file, video)
    with session:
        open_viewer(session, video=videos[0] if videos else None, start=start, stop=stop, show=True, **content_kwargs(content))
        napari.run()


if __name__ == "__main__":  # pragma: no cover
    main()
