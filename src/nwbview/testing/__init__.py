"""Helpers that build small synthetic data for tests and benchmarks.

Nothing here is needed at run time; the helpers exist so that every module's tests (and users'
own tests) can build realistic inputs in a few lines.

- :mod:`nwbview.testing.video`: write synthetic videos (H.264, MJPEG, variable frame rate,
  multi-file series) whose frames carry their own frame index, and read that index back.
"""

from __future__ import annotations
