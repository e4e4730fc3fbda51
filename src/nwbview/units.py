"""Unit names: one spelling per unit, so ``cm`` and ``centimeters`` are the same world unit.

NWB files say units in many spellings (``cm``, ``centimeters``, ``centimetre``, ``px``,
``pixel``...). nwbview writes the spelled-out plural forms NWB Inspector asks of a
``SpatialSeries`` (``centimeters``, ``meters``, ``millimeters``, ``micrometers``, ``pixels``,
``radians``, ``degrees``) and reads every spelling as the same unit. Compare units with
:func:`same_unit`, never with ``==``.

This module imports nothing from the rest of nwbview (every layer may use it).
"""

from __future__ import annotations

__all__ = ["normalize_unit", "same_unit", "is_pixel_unit", "cm_per_unit", "NWB_SPATIAL_UNITS", "PIXEL_UNITS"]

#: the spatial units NWB Inspector accepts for a SpatialSeries (its ``check_spatial_series_unit``)
NWB_SPATIAL_UNITS = ("centimeters", "degrees", "meters", "micrometers", "millimeters", "n.a.", "pixels", "radians")

_ALIASES = {
    "micrometers": ("um", "µm", "μm", "micron", "microns", "micrometer", "micrometre", "micrometres"),
    "millimeters": ("mm", "millimeter", "millimetre", "millimetres"),
    "centimeters": ("cm", "centimeter", "centimetre", "centimetres"),
    "meters": ("m", "meter", "metre", "metres"),
    "inches": ("in", "inch"),
    "feet": ("ft", "foot"),
    "pixels": ("px", "pixel", "pix"),
    "radians": ("rad", "radian"),
    "degrees": ("deg", "degree", "°"),
}
_CANONICAL = {alias: name for name, aliases in _ALIASES.items() for alias in (name, *aliases)}
#: spellings (lower case) of pixels: a series in them is in pixel coordinates of the video, not in world units
PIXEL_UNITS = frozenset(alias for alias, name in _CANONICAL.items() if name == "pixels")
#: centimetres in one unit (canonical names)
_CM = {"micrometers": 1e-4, "millimeters": 0.1, "centimeters": 1.0, "meters": 100.0, "inches": 2.54, "feet": 30.48}


def normalize_unit(unit: str | None) -> str:
    """The one spelling of a unit: ``"cm"`` -> ``"centimeters"``, ``"px"`` -> ``"pixels"``.

    Known length and angle units (any case, singular or plural, British spelling, symbol)
    become the spelled-out plural NWB Inspector wants. A rate (``"cm/s"``, ``"cm/s^2"``) has its
    length normalised. Anything else is returned stripped, as given.

    Examples
    --------
    >>> normalize_unit("cm"), normalize_unit("Centimetre"), normalize_unit("px")
    ('centimeters', 'centimeters', 'pixels')
    >>> normalize_unit("cm/s^2"), normalize_unit("volts")
    ('centimeters/s^2', 'volts')
    """
    text = str(unit or "").strip()
    known = _CANONICAL.get(text.lower()) or _CANONICAL.get(text)
    if known:
        return known
    head, sep, tail = text.partition("/")
    if sep and head.strip():
        base = _CANONICAL.get(head.strip().lower())
        if base:
            return f"{base}/{tail.strip()}"
    return text


def same_unit(a: str | None, b: str | None) -> bool:
    """Whether two unit names mean the same unit (``"cm"`` and ``"centimeters"`` do).

    Examples
    --------
    >>> same_unit("cm", "centimeters"), same_unit("m", "meters"), same_unit("cm", "mm")
    (True, True, False)
    """
    return normalize_unit(a).lower() == normalize_unit(b).lower()


def is_pixel_unit(unit: str | None) -> bool:
    """Whether a unit is pixels (``px``, ``pixel``, ``pixels``).

    Examples
    --------
    >>> is_pixel_unit("px"), is_pixel_unit("centimeters")
    (True, False)
    """
    return normalize_unit(unit) == "pixels"


def cm_per_unit(unit: str | None) -> float | None:
    """Centimetres in one ``unit`` of length, or None for a unit that is not a known length.

    Examples
    --------
    >>> cm_per_unit("m"), cm_per_unit("centimeters"), cm_per_unit("pixels")
    (100.0, 1.0, None)
    """
    return _CM.get(normalize_unit(unit))
