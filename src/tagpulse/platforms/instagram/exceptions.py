"""Instagram-specific errors (leaves of the tree in :mod:`tagpulse.errors`)."""

from __future__ import annotations

from tagpulse.errors import PayloadError

__all__ = ["UnknownShape"]


class UnknownShape(PayloadError):
    """A JSON answer in none of the shapes the Instagram parser knows."""
