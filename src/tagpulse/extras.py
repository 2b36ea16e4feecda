"""Optional parts (extras) imported on first use, with a message naming the extra to install."""

from __future__ import annotations

import importlib
from typing import Any

from tagpulse.errors import MissingExtra

__all__ = ["require"]


def require(module: str, extra: str) -> Any:
    """Import ``module``, or say which extra installs it (never a bare ImportError)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(extra, module) from exc
