"""Every docstring example of src/ runs (those that need a session file say ``# doctest: +SKIP``)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules() -> list[str]:
    out = []
    for p in sorted((SRC / "nwbview").rglob("*.py")):
        parts = list(p.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append(".".join(parts))
    return out


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name):
    if name.startswith("nwbview.render.napari"):
        pytest.importorskip("napari", reason="the napari extra is not installed")
    if name == "nwbview.render.browser.notebook":
        pytest.importorskip("anywidget", reason="the notebook extra is not installed")
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} fail (see the output above)"
