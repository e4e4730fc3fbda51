"""Every script in examples/ runs and makes its own data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
@pytest.mark.slow
def test_example_runs(script, tmp_path):
    args = [sys.executable, str(script), str(tmp_path / "out")]
    if script.stem == "demo_session":
        args += ["--duration", "3"]
    if script.stem == "html_player":
        args += ["--report"]  # the session report (the plain page is test_browser's)
    r = subprocess.run(args, capture_output=True, text=True, timeout=300, env={**__import__("os").environ, "MPLBACKEND": "Agg"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip()
