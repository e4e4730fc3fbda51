"""Headless Chromium for tests, benchmarks and screenshots of the browser front-end.

The system's Chromium and chromedriver (Debian: ``apt-get install chromium chromium-driver``;
``make sysdeps`` as root), driven with selenium; nothing is downloaded. ``NWBVIEW_CHROMIUM`` and
``NWBVIEW_CHROMEDRIVER`` name other binaries.

Examples
--------
>>> from nwbview.testing.browser import find_chromium
>>> browser, driver, why_not = find_chromium()
>>> isinstance(why_not, str)
True
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import time
from typing import Any

import numpy as np

__all__ = ["FRAME_PIXELS", "find_chromium", "open_chromium", "wait_for", "image_from_data_url", "image_from_png"]

CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DRIVERS = ("chromedriver", "/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver")

#: a script returning the pixels of the frame the page shows (the player's <video>, or the
#: widget's canvas) as a PNG data URL
FRAME_PIXELS = """
const el = document.querySelector('.nv-frame');
const c = document.createElement('canvas');
c.width = el.videoWidth || el.width; c.height = el.videoHeight || el.height;
c.getContext('2d').drawImage(el, 0, 0);
return c.toDataURL('image/png');
"""


def _which(env: str, names: tuple[str, ...]) -> str | None:
    if os.environ.get(env):
        return shutil.which(os.environ[env])
    return next((shutil.which(n) for n in names if shutil.which(n)), None)


def find_chromium() -> tuple[str | None, str | None, str]:
    """``(chromium, chromedriver, why not)``: the system's binaries, and the reason they cannot be used ("" when they can).

    Examples
    --------
    >>> find_chromium()  # doctest: +SKIP
    ('/usr/bin/chromium', '/usr/bin/chromedriver', '')
    """
    try:
        import selenium  # noqa: F401
    except ImportError:
        return None, None, "selenium is not installed (pip install -e '.[browser]')"
    browser, driver = _which("NWBVIEW_CHROMIUM", CHROMIUM), _which("NWBVIEW_CHROMEDRIVER", DRIVERS)
    if browser is None or driver is None:
        return browser, driver, ("no Chromium and chromedriver on this machine (Debian: apt-get install chromium chromium-driver, "
                                 "or `make sysdeps` as root)")
    return browser, driver, ""


def open_chromium(window: tuple[int, int] = (1400, 1000), *, log: bool = False) -> Any:
    """A headless Chromium (a selenium WebDriver) at ``window`` CSS pixels, device scale 1.

    ``log`` keeps the console's messages (``driver.get_log("browser")``).

    Raises
    ------
    RuntimeError
        No usable Chromium (the message says why).

    Examples
    --------
    >>> d = open_chromium()  # doctest: +SKIP
    >>> d.quit()  # doctest: +SKIP
    """
    browser, driver, why = find_chromium()
    if why:
        raise RuntimeError(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio",
                "--autoplay-policy=no-user-gesture-required", f"--window-size={window[0]},{window[1]}", "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    if log:
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(driver), options=opts)
    d.set_script_timeout(60)
    return d


def wait_for(driver: Any, script: str, *args: Any, timeout: float = 20.0) -> Any:
    """Run ``script`` (with ``args``) until it returns something true, and return that.

    Raises
    ------
    AssertionError
        Not by ``timeout`` seconds (the message says what was awaited).

    Examples
    --------
    >>> wait_for(d, "return window.nwbview && window.nwbview.k >= 0")  # doctest: +SKIP
    True
    """
    end = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script, *args)
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for: {script}")
        time.sleep(0.01)


def image_from_png(data: bytes) -> np.ndarray:
    """PNG bytes (a screenshot) as an RGB array."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def image_from_data_url(url: str) -> np.ndarray:
    """A ``data:image/png;base64,...`` URL (:data:`FRAME_PIXELS`) as an RGB array."""
    return image_from_png(base64.b64decode(url.split(",", 1)[1]))
