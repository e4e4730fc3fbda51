"""ndx-video-calibration: planar pixel -> world calibration of a 2-D video, stored in NWB.

Importing this package loads the ``ndx-video-calibration`` namespace into pynwb and registers
:class:`VideoCalibration`.
"""

import os
from importlib.resources import files

from pynwb import load_namespaces

# Installed (wheel): the spec is shipped inside the package, at ndx_video_calibration/spec/.
__location_of_this_file = files(__name__)
__spec_path = __location_of_this_file / "spec" / "ndx-video-calibration.namespace.yaml"

# Editable install / source checkout: the spec lives at <extension root>/spec/.
if not os.path.exists(__spec_path):
    __spec_path = __location_of_this_file.parent.parent.parent / "spec" / "ndx-video-calibration.namespace.yaml"

load_namespaces(str(__spec_path))

from .video_calibration import (  # noqa: E402  (the namespace must be loaded first)
    DEFAULT_PIXEL_CONVENTION,
    LANDMARK_COLUMNS,
    TRANSFORM_TYPES,
    VideoCalibration,
    apply_transform,
    frame_corners,
    positive_inverse,
    validate_transform,
)

__version__ = "0.1.1"

__all__ = [
    "DEFAULT_PIXEL_CONVENTION",
    "LANDMARK_COLUMNS",
    "TRANSFORM_TYPES",
    "VideoCalibration",
    "validate_transform",
    "apply_transform",
    "frame_corners",
    "positive_inverse",
]

del load_namespaces, files, os
