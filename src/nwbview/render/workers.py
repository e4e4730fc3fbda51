"""The export's worker processes: each renders and encodes a contiguous run of chunks.

:func:`run_workers` starts ``workers`` fresh interpreters as ``python -P -m
nwbview.render.workers JOB`` (nothing of the caller's ``__main__`` is re-run, and ``import
nwbview`` is light: only what rendering needs is imported). They import the same nwbview source
as the parent: the parent's ``sys.path`` is passed on as ``PYTHONPATH`` (``-P``: the worker's
current folder is not put in front of it), and a worker that finds another nwbview refuses to
run. ``JOB`` is a pickle of ``(plan, chunk_ids, bounds, tmpdir, crf, preset)``; a worker writes
``frames N``, ``chunk C`` and, on failure, ``error`` followed by a JSON object, one a line on
its stdout. The parent remuxes the chunks in order as they are finished
(:class:`~nwbview.render.encoding.Muxer`).

Examples
--------
>>> from nwbview.render.workers import worker_command
>>> worker_command("job_0.pkl")[1:]
['-P', '-m', 'nwbview.render.workers', 'job_0.pkl']
"""

from __future__ import annotations

import os
import queue as queue_mod
import sys
import traceback
import warnings
from pathlib import Path
from typing import Callable

from nwbview.errors import NWBViewError, NWBViewWarning
from nwbview.render.encoding import render_segment, segments
from nwbview.render.export_errors import ExportError
from nwbview.render.plan import ExportPlan

__all__ = ["run_workers", "worker_command", "worker_env", "main"]

#: the nwbview package folder of the parent: a worker importing another one refuses to run
PACKAGE_ENV = "NWBVIEW_WORKER_PACKAGE"


def _package_dir() -> str:
    return str(Path(__file__).resolve().parents[1])


def worker_command(job_file: str) -> list[str]:
    """The command line of a worker that renders the job in ``job_file``.

    Examples
    --------
    >>> worker_command("job_0.pkl")[-1]
    'job_0.pkl'
    """
    return [sys.executable, "-P", "-m", "nwbview.render.workers", job_file]


def worker_env() -> dict[str, str]:
    """The environment of a worker: this one, with this interpreter's ``sys.path`` as ``PYTHONPATH``.

    The folder holding this nwbview comes first, then the rest of ``sys.path`` in order: the
    worker imports this nwbview and the other packages from where the parent does (a source
    tree, an installed package, a test's ``pythonpath``), whatever its current folder holds.

    Examples
    --------
    >>> import sys
    >>> [p for p in sys.path if p][0] in worker_env()["PYTHONPATH"]
    True
    """
    env = dict(os.environ)
    cwd = os.getcwd()
    paths = [str(Path(_package_dir()).parent)] + [os.path.abspath(p) if p else cwd for p in sys.path]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env[PACKAGE_ENV] = _package_dir()
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_workers(plan: ExportPlan, bounds: list[tuple[int, int]], workers: int, tmpdir: str, crf: int, preset: str, bar, take: Callable[[int], None]) -> None:
    """Render the chunks ``bounds`` in ``workers`` processes; ``take(c)`` each chunk in order as it is done.

    ``bar`` is a progress bar (``update(n)``). A worker's error is raised here as an
    :class:`~nwbview.render.ExportError`; on any failure every worker is stopped.

    Examples
    --------
    >>> run_workers(plan, chunk_bounds(len(plan), CHUNK_FRAMES), 2, tmp, 23, "veryfast", bar, take)  # doctest: +SKIP
    """
    import json
    import pickle
    import subprocess
    import threading

    segs = segments(len(bounds), workers)
    events: queue_mod.Queue = queue_mod.Queue()
    env = worker_env()
    procs = []

    def pump(proc, w):
        try:
            for line in proc.stdout:
                kind, _, rest = line.strip().partition(" ")
                events.put((w, kind, rest))
        finally:
            proc.stdout.close()
            events.put((w, "exit", ""))

    try:
        for w, seg in enumerate(segs):
            job = os.path.join(tmpdir, f"job_{w}.pkl")
            mine = plan
            if plan.column is not None:  # only the signal samples this worker's frames show
                from dataclasses import replace

                mine = replace(plan, column=plan.column.restrict(bounds[seg[0]][0], bounds[seg[-1]][1]))
            with open(job, "wb") as f:
                pickle.dump((mine, seg, bounds, tmpdir, crf, preset), f, protocol=pickle.HIGHEST_PROTOCOL)
            err = open(os.path.join(tmpdir, f"worker_{w}.log"), "wb")
            proc = subprocess.Popen(
                worker_command(job), stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env, text=True,
            )  # fmt: skip
            err.close()
            procs.append(proc)
            threading.Thread(target=pump, args=(proc, w), daemon=True).start()
    except BaseException:
        _stop(procs)
        raise
    done: set[int] = set()
    next_c = 0
    exited = 0
    try:
        while next_c < len(bounds):
            w, kind, rest = events.get()
            if kind == "frames":
                bar.update(int(rest))
            elif kind == "chunk":
                done.add(int(rest))
                while next_c in done:
                    take(next_c)
                    done.discard(next_c)
                    next_c += 1
            elif kind == "error":
                info = json.loads(rest)
                if info.get("user"):
                    raise ExportError(info["message"])
                raise ExportError(f"An export worker failed: {info['type']}: {info['message']}\n{info.get('traceback', '')}")
            elif kind == "exit":
                exited += 1
                code = procs[w].wait()
                if code != 0:
                    log = Path(tmpdir, f"worker_{w}.log").read_text(errors="replace")[-2000:]
                    raise ExportError(f"An export worker stopped unexpectedly (exit code {code}). Its last output:\n{log}\nTry workers=1.")
                if exited == len(procs) and next_c < len(bounds):
                    raise ExportError(f"The export workers finished but chunks {next_c}.. of {len(bounds)} are missing.")
    except BaseException:
        _stop(procs)
        raise
    for p in procs:
        p.wait()


def _stop(procs) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        try:
            p.wait(timeout=5)
        except Exception:  # noqa: BLE001
            pass


def main(job_file: str) -> None:  # pragma: no cover - runs in a child
    """Entry point of a worker process: render a contiguous run of chunks, report on stdout.

    Examples
    --------
    >>> main("job_0.pkl")  # doctest: +SKIP
    """
    import json
    import pickle

    out = sys.stdout

    def say(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    try:
        want = os.environ.get(PACKAGE_ENV)
        if want and Path(want).resolve() != Path(_package_dir()):
            raise ExportError(
                f"An export worker imported nwbview from {_package_dir()}, not from {want} as its parent did. "
                "Run the export from an environment where one nwbview is on the path."
            )
        import cv2

        cv2.setNumThreads(1)
        with open(job_file, "rb") as f:
            plan, chunk_ids, bounds, tmpdir, crf, preset = pickle.load(f)
        warnings.simplefilter("ignore", NWBViewWarning)  # the parent already warned
        for c in render_segment(plan, chunk_ids, bounds, tmpdir, crf, preset, tick=lambda n: say(f"frames {n}")):
            say(f"chunk {c}")
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        info = {"type": type(exc).__name__, "message": str(exc), "user": isinstance(exc, NWBViewError)}
        if not info["user"]:
            info["traceback"] = traceback.format_exc()
        say("error " + json.dumps(info))
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover - a worker process
    main(sys.argv[1])
