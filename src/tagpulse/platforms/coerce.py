"""Tolerant field readers shared by the platform parsers (Instagram, TikTok, X).

Each reader takes what a platform sent and returns a typed value or ``None``; the ones that take
``what`` and ``warnings`` also append a warning when the value has the wrong type, so a
malformed field never crashes a parse. Only readers that behave the same for every platform live
here: where a platform reads a field its own way (integer counts, timestamps), its parser keeps
its own reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "as_list",
    "as_mapping",
    "bool_or_none",
    "dig",
    "str_or_none",
    "text_or_none",
]


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one."""
    # dict first: JSON decodes to dicts, and the exact check is much cheaper than the ABC's.
    if isinstance(value, dict):
        return value
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def dig(obj: Any, *keys: str) -> Any:
    """``obj[k1][k2]...`` or ``None`` as soon as a level is not a mapping."""
    for key in keys:
        if not isinstance(obj, (dict, Mapping)):
            return None
        obj = obj.get(key)
    return obj


def str_or_none(value: Any) -> str | None:
    """A string, or an integer id as a string; anything else is ``None``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def text_or_none(value: Any, what: str, warnings: list[str]) -> str | None:
    """A string or ``None``; anything else is ``None`` plus a warning naming ``what``."""
    if value is None or isinstance(value, str):
        return value
    warnings.append(f"{what}: expected a string, got {type(value).__name__}")
    return None


def bool_or_none(value: Any, what: str, warnings: list[str]) -> bool | None:
    """A boolean (``0`` and ``1`` accepted); anything else is ``None`` plus a warning."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    warnings.append(f"{what}: expected a boolean, got {type(value).__name__} {value!r:.40}")
    return None
