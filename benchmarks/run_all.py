"""Run every benchmark (benchmarks/bench_*.py) and print their figures.

Usage: ``python benchmarks/run_all.py [--quick] [NAME ...]`` (names like ``session``, ``video``).
Record the figures in BENCHMARKS.md with the machine and the date.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    args = sys.argv[1:]
    quick = "--quick" in args
    names = [a for a in args if not a.startswith("-")]
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    print(f"# {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    failed = 0
    for script in scripts:
        print(f"\n## {script.stem}", flush=True)
        cmd = [sys.executable, str(script)]
        if quick and "--quick" in script.read_text():
            cmd.append("--quick")
        r = subprocess.run(cmd, env={**os.environ, "MPLBACKEND": "Agg"})
        failed += r.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
