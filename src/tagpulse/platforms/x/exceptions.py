"""X-specific errors (leaves of the tree in :mod:`tagpulse.errors`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tagpulse.errors import PayloadError, RateLimited

__all__ = ["ApiError", "UnknownShape", "XPayloadError", "XRateLimited"]


class XPayloadError(PayloadError):
    """An X answer (or a twarc2 line) the parser cannot turn into records.

    ``reason`` says what was wrong, without the URL; ``line`` is the line number in a JSONL file
    when the caller knows it.
    """

    def __init__(
        self,
        reason: str,
        *,
        url: str | None = None,
        status: int | None = None,
        body: bytes | None = None,
        line: int | None = None,
    ) -> None:
        self.reason = reason
        self.line = line
        message = f"line {line}: {reason}" if line is not None else reason
        super().__init__(message, url=url, status=status, body=body)


class UnknownShape(XPayloadError):
    """A body that is not JSON, or JSON in none of the shapes the X parser knows."""


class ApiError(XPayloadError):
    """An API v2 error body: ``{"errors": [...], "title", "detail"}`` and no data.

    ``errors`` keeps the API's error objects as sent; ``title`` and ``detail`` are the top-level
    problem fields (or those of the first error when the body has none).
    """

    def __init__(
        self,
        reason: str,
        *,
        title: str | None = None,
        detail: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        url: str | None = None,
        status: int | None = None,
        body: bytes | None = None,
    ) -> None:
        super().__init__(reason, url=url, status=status, body=body)
        self.title = title
        self.detail = detail
        self.errors = [dict(error) for error in errors]


class XRateLimited(RateLimited):
    """429 from X, with the budget headers: ``reset_at`` is when the window reopens (UTC)."""

    def __init__(
        self,
        message: str,
        *,
        reset_at: datetime | None = None,
        limit: int | None = None,
        remaining: int | None = None,
        url: str | None = None,
        status: int | None = None,
        body: bytes | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status, body=body)
        self.reset_at = reset_at
        self.limit = limit
        self.remaining = remaining
