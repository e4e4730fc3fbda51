"""The export's worker processes: each renders and encodes a contiguous run of chunks.

A :class:`WorkerPool` starts fresh interpreters as ``python -P -m nwbview.render.workers -``
(nothing of the caller's ``__main__`` is re-run, and ``import nwbview`` is light: only what
rendering needs is imported) as soon as an export begins, so their start overlaps the parent's
own set-up; each then waits for the path of its job on its stdin. They import the same nwbview
source as the parent: the parent's ``sys.path`` is passed on as ``PYTHONPATH`` (``-P``: the
worker's current folder is not put in front of it), and a worker that finds another nwbview
refuses to run. Before its job, the first worker may be asked to draw the column's static
background (a line ``draw PATH``, the pickle of :attr:`~nwbview.render.column.Column.background_spec`;
it answers ``drawn PATH`` once ``PATH.npy`` holds the image, :meth:`WorkerPool.draw`): it does so
while the parent loads the overlays' data, and matplotlib's figure code is imported there, not
in the parent. A job is a pickle of ``(plan, chunk_ids, bounds, tmpdir, crf, preset)`` (the
plan cut to the worker's frames, :meth:`~nwbview.render.plan.ExportPlan.part`); a worker writes
``frames N``, ``chunk C`` and, on failure, ``error`` followed by a JSON object, one a line on
its stdout. The parent renders the first run of chunks itself and remuxes the chunks in order
as they are finished (:class:`~nwbview.render.encoding.Muxer`).

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
from typing import Any, Callable

from nwbview.errors import NWBViewError, NWBViewWarning
from nwbview.render.encoding import render_segment, segments
from nwbview.render.export_errors import ExportError
from nwbview.render.plan import ExportPlan

__all__ = ["WorkerPool", "run_workers", "worker_command", "worker_env", "main"]

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


class WorkerPool:
    """Worker processes started ahead of the work: ``python -P -m nwbview.render.workers -``.

    Each imports what rendering needs and waits for the path of its job on its stdin, so its
    interpreter start overlaps the parent's own work (opening the file, building the plan).
    :meth:`run` hands out the jobs; :meth:`close` stops the workers (one given no job exits).

    Examples
    --------
    >>> with WorkerPool(1) as pool:  # doctest: +SKIP
    ...     pool.run(plan, bounds, segments(len(bounds), 2), tmp, 23, "veryfast", bar, take)
    """

    def __init__(self, n: int, *, draws: bool = False):
        import subprocess
        import tempfile
        import threading

        self.events: queue_mod.Queue = queue_mod.Queue()
        self.procs: list = []
        self.logs: list[str] = []
        self.drawings: list[str] = []  # spec files sent to be drawn (removed by close)
        env = worker_env()
        try:
            for w in range(n):
                fd, log = tempfile.mkstemp(prefix="nwbview-worker-", suffix=".log")
                self.logs.append(log)
                with os.fdopen(fd, "wb") as err:
                    cmd = worker_command("-") + (["draw"] if draws and w == 0 else [])
                    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env, text=True)
                self.procs.append(proc)
                threading.Thread(target=self._pump, args=(proc, w), daemon=True).start()
        except BaseException:
            self.close()
            raise

    def draw(self, spec: dict) -> Any:
        """Have the first worker draw a column background (:func:`~nwbview.render.column.draw_background`)
        while this process goes on; returns an object whose ``result()`` is the image.

        Drawn here when there is no worker left to ask.

        Examples
        --------
        >>> with WorkerPool(1, draws=True) as pool:  # doctest: +SKIP
        ...     img = pool.draw(spec).result()
        """
        import pickle
        import tempfile

        from nwbview.render.column import draw_background

        proc = self.procs[0] if self.procs else None
        if proc is None or proc.poll() is not None or proc.stdin is None or proc.stdin.closed:
            return draw_background(spec)
        fd, path = tempfile.mkstemp(prefix="nwbview-draw-", suffix=".pkl")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(spec, f, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            proc.stdin.write(f"draw {path}\n")
            proc.stdin.flush()
        except OSError:
            os.unlink(path)
            return draw_background(spec)
        self.drawings.append(path)
        return _Drawing(self, path, spec)

    def _pump(self, proc, w: int) -> None:
        try:
            for line in proc.stdout:
                kind, _, rest = line.strip().partition(" ")
                self.events.put((w, kind, rest))
        finally:
            proc.stdout.close()
            self.events.put((w, "exit", ""))

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers: those without a job are told so (end of their stdin), the rest killed."""
        for p in self.procs:
            if p.poll() is None and p.stdin is not None and not p.stdin.closed:
                try:
                    p.stdin.close()  # a worker waiting for a job exits
                except OSError:
                    pass
        _stop(self.procs, grace=1.0)
        for f in self.logs + self.drawings + [d + ".npy" for d in self.drawings]:
            try:
                os.unlink(f)
            except OSError:
                pass
        self.procs, self.logs, self.drawings = [], [], []

    def run(self, plan: ExportPlan, bounds: list[tuple[int, int]], segs: list[list[int]], tmpdir: str, crf: int, preset: str, bar,
            take: Callable[[int], None]) -> None:
        """Render ``segs[0]`` here and ``segs[1:]`` in the workers; ``take(c)`` each chunk in order as it is done.

        Needs ``len(segs) - 1`` workers; extra ones are left without a job. A worker's error is
        raised here as an :class:`~nwbview.render.ExportError`; on any failure every worker is stopped.
        """
        import pickle

        if len(segs) - 1 > len(self.procs):
            raise ValueError(f"{len(segs)} segments need {len(segs) - 1} workers; the pool has {len(self.procs)}.")
        try:
            for w, seg in enumerate(segs[1:]):
                job = os.path.join(tmpdir, f"job_{w}.pkl")
                with open(job, "wb") as f:  # only what this worker's frames show
                    pickle.dump((plan.part(bounds[seg[0]][0], bounds[seg[-1]][1]), seg, bounds, tmpdir, crf, preset), f,
                                protocol=pickle.HIGHEST_PROTOCOL)
                self.procs[w].stdin.write(job + "\n")
                self.procs[w].stdin.close()
            used = self.procs[: len(segs) - 1]
            for p in self.procs[len(segs) - 1 :]:
                p.stdin.close()
            state = {"done": set(), "next": 0, "exited": 0}

            def handle(w: int, kind: str, rest: str) -> None:
                if kind == "frames":
                    bar.update(int(rest))
                elif kind == "chunk":
                    state["done"].add(int(rest))
                elif kind == "error":
                    raise _worker_error(rest)
                elif kind == "exit" and w < len(used):
                    state["exited"] += 1
                    code = used[w].wait()
                    if code != 0:
                        log = Path(self.logs[w]).read_text(errors="replace")[-2000:]
                        raise ExportError(f"An export worker stopped unexpectedly (exit code {code}). Its last output:\n{log}\nTry workers=1.")

            def drain(block: bool) -> None:
                while True:
                    try:
                        handle(*self.events.get(block=block))
                    except queue_mod.Empty:
                        return
                    block = False

            # this process renders the first run of chunks while the workers render theirs
            for c in render_segment(plan, segs[0], bounds, tmpdir, crf, preset, tick=bar.update):
                state["done"].add(c)
                drain(False)
                while state["next"] in state["done"]:
                    take(state["next"])
                    state["next"] += 1
            while state["next"] < len(bounds):
                while state["next"] in state["done"]:
                    take(state["next"])
                    state["next"] += 1
                if state["next"] >= len(bounds):
                    break
                if state["exited"] == len(used):
                    raise ExportError(f"The export workers finished but chunks {state['next']}.. of {len(bounds)} are missing.")
                drain(True)
        except BaseException:
            _stop(self.procs)
            raise
        for p in used:
            p.wait()


class _Drawing:
    """A background being drawn by the pool's first worker: ``result()`` waits for it (once)."""

    def __init__(self, pool: WorkerPool, path: str, spec: dict):
        self.pool, self.path, self.spec = pool, path, spec
        self.image = None

    def result(self):
        import numpy as np

        if self.image is not None:
            return self.image
        other = []  # events of other kinds are put back for :meth:`WorkerPool.run`
        try:
            while self.image is None:
                w, kind, rest = self.pool.events.get()
                if w == 0 and kind == "drawn" and rest == self.path:
                    self.image = np.load(self.path + ".npy")
                elif w == 0 and kind == "error":
                    raise _worker_error(rest)
                elif w == 0 and kind == "exit":  # the worker is gone: draw it here
                    from nwbview.render.column import draw_background

                    other.append((w, kind, rest))
                    self.image = draw_background(self.spec)
                else:
                    other.append((w, kind, rest))
        finally:
            for ev in other:
                self.pool.events.put(ev)
            for f in (self.path, self.path + ".npy"):
                try:
                    os.unlink(f)
                except OSError:
                    pass
        return self.image


def _worker_error(rest: str) -> ExportError:
    import json

    info = json.loads(rest)
    if info.get("user"):
        return ExportError(info["message"])
    return ExportError(f"An export worker failed: {info['type']}: {info['message']}\n{info.get('traceback', '')}")


def run_workers(plan: ExportPlan, bounds: list[tuple[int, int]], workers: int, tmpdir: str, crf: int, preset: str, bar, take: Callable[[int], None]) -> None:
    """Render the chunks ``bounds`` in ``workers`` processes (this one and ``workers - 1`` workers);
    ``take(c)`` each chunk in order as it is done.

    ``bar`` is a progress bar (``update(n)``). A worker's error is raised here as an
    :class:`~nwbview.render.ExportError`; on any failure every worker is stopped.

    Examples
    --------
    >>> run_workers(plan, export_bounds(len(plan)), 2, tmp, 23, "veryfast", bar, take)  # doctest: +SKIP
    """
    segs = segments(len(bounds), workers)
    with WorkerPool(len(segs) - 1) as pool:
        pool.run(plan, bounds, segs, tmpdir, crf, preset, bar, take)


def _stop(procs, grace: float = 0.0) -> None:
    import time

    end = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(timeout=max(0.0, end - time.monotonic()))
        except Exception:  # noqa: BLE001 - still running: killed below
            pass
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        try:
            p.wait(timeout=5)
        except Exception:  # noqa: BLE001
            pass


def main(job_file: str, draws: bool = False) -> None:  # pragma: no cover - runs in a child
    """Entry point of a worker process: render a contiguous run of chunks, report on stdout.

    Examples
    --------
    >>> main("job_0.pkl")  # doctest: +SKIP
    """
    import json
    import pickle

    import numpy as np

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
        if job_file == "-":  # started ahead of the work: get ready, then wait for the job's path
            import av  # noqa: F401

            import nwbview.io.video  # noqa: F401
            from nwbview.render.column import draw_background

            if draws:  # the parent will ask for the column's background: matplotlib is imported while it sets up
                import matplotlib.backends.backend_agg  # noqa: F401
                import matplotlib.figure  # noqa: F401
            while True:  # "draw PATH" lines (a background spec to draw), then the job's path
                job_file = sys.stdin.readline().strip()
                if not job_file.startswith("draw "):
                    break
                spec_file = job_file[len("draw ") :]
                with open(spec_file, "rb") as f:
                    spec = pickle.load(f)
                np.save(spec_file + ".npy", draw_background(spec))
                say(f"drawn {spec_file}")
            if not job_file:
                return
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
    main(sys.argv[1], draws="draw" in sys.argv[2:])
