"""Shared test setup: fixtures live in tests/fixtures/*.py, loaded as plugins."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.fixtures.sessions", "tests.fixtures.demo", "tests.fixtures.http", "tests.fixtures.converters", "tests.fixtures.browser"]

os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_addoption(parser):
    parser.addoption("--network", action="store_true", help="run tests marked 'network'")


def pytest_collection_modifyitems(config, items):
    skip_net = pytest.mark.skip(reason="needs --network")
    no_display = not os.environ.get("DISPLAY")
    skip_napari = pytest.mark.skip(reason="napari tests need a display: run under xvfb-run")
    for item in items:
        if "network" in item.keywords and not config.getoption("--network"):
            item.add_marker(skip_net)
        if "napari" in item.keywords and no_display:
            item.add_marker(skip_napari)
