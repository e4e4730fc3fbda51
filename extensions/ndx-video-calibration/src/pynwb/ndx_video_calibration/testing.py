"""Mock factories for tests: a small external-file ImageSeries and a VideoCalibration of it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pynwb import NWBFile
from pynwb.device import Device
from pynwb.image import ImageSeries

from .video_calibration import VideoCalibration

__all__ = ["mock_ImageSeries", "mock_VideoCalibration"]

#: 0.25 cm per pixel, world origin at the bottom-left corner of a 640 x 480 frame, world y up
DEFAULT_TRANSFORM = np.array([[0.25, 0.0, 0.0], [0.0, -0.25, 120.0], [0.0, 0.0, 1.0]])
DEFAULT_LANDMARK_PIXELS = np.array([[40.0, 40.0], [600.0, 40.0], [600.0, 440.0], [40.0, 440.0]])


def mock_ImageSeries(
    name: str = "video",
    frame_dimension: Sequence[int] = (640, 480),
    rate: float = 30.0,
    num_samples: int = 300,
    device: Device | None = None,
    nwbfile: NWBFile | None = None,
) -> ImageSeries:
    """An ImageSeries pointing to an external video file (not read), added to ``nwbfile.acquisition``.

    (pynwb's ``pynwb.testing.mock`` has no ImageSeries factory.)
    """
    series = ImageSeries(
        name=name,
        description="mock behavioral video",
        unit="n.a.",
        external_file=[f"{name}.mp4"],
        format="external",
        starting_frame=[0],
        rate=rate,
        num_samples=num_samples,
        dimension=[int(v) for v in frame_dimension],
        device=device,
    )
    if nwbfile is not None:
        nwbfile.add_acquisition(series)
    return series


def mock_VideoCalibration(
    *,
    name: str = "VideoCalibration",
    image_series: ImageSeries | None = None,
    transform: np.ndarray | Sequence[Sequence[float]] | None = None,
    transform_type: str = "similarity",
    frame_dimension: Sequence[int] = (640, 480),
    with_landmarks: bool = True,
    device: Device | None = None,
    method: str | None = None,
    unit: str = "centimeters",
    reference_frame: str = "origin at the bottom-left corner of the arena; x right, y up",
    description: str = "mock calibration: 0.25 cm/px, 4 corner landmarks",
    nwbfile: NWBFile | None = None,
) -> VideoCalibration:
    """A valid :class:`VideoCalibration`; with ``nwbfile`` it goes into ``processing/behavior``.

    Without ``image_series`` a mock one is made (and added to ``nwbfile`` when given). With
    ``with_landmarks`` the four landmarks are exact images of four pixel points under ``transform``
    (``residual_rms`` 0).

    Examples
    --------
    >>> from pynwb.testing.mock.file import mock_NWBFile
    >>> nwbfile = mock_NWBFile()
    >>> cal = mock_VideoCalibration(nwbfile=nwbfile)
    >>> nwbfile.processing["behavior"]["VideoCalibration"] is cal
    True
    """
    if image_series is None:
        image_series = mock_ImageSeries(frame_dimension=frame_dimension, nwbfile=nwbfile)
    matrix = DEFAULT_TRANSFORM if transform is None else np.asarray(transform, dtype=np.float64)
    landmarks = None
    residual_rms = None
    if with_landmarks:
        pix = DEFAULT_LANDMARK_PIXELS * np.asarray(frame_dimension, dtype=float) / [640.0, 480.0]
        h = pix @ matrix[:, :2].T + matrix[:, 2]
        world = h[:, :2] / h[:, 2:3]
        landmarks = {
            "label": ["top-left", "top-right", "bottom-right", "bottom-left"],
            "pixel_x": pix[:, 0],
            "pixel_y": pix[:, 1],
            "world_x": world[:, 0],
            "world_y": world[:, 1],
        }
        residual_rms = 0.0
    cal = VideoCalibration(
        name=name,
        transform=matrix,
        transform_type=transform_type,
        frame_dimension=list(frame_dimension),
        image_series=image_series,
        reference_frame=reference_frame,
        method=method or ("landmarks" if with_landmarks else "cm_per_px"),
        description=description,
        unit=unit,
        residual_rms=residual_rms,
        landmarks=landmarks,
        device=device,
    )
    if nwbfile is not None:
        module = nwbfile.processing.get("behavior")
        if module is None:
            module = nwbfile.create_processing_module("behavior", "behavioral data and its calibration")
        module.add(cal)
    return cal
