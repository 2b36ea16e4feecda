"""Instagram-specific errors (leaves of the tree in :mod:`tagpulse.errors`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tagpulse.errors import PayloadError, RateLimited

__all__ = ["GraphRateLimited", "HashtagQuotaExceeded", "UnknownShape"]


class UnknownShape(PayloadError):
    """A JSON answer in none of the shapes the Instagram parser knows."""


class GraphRateLimited(RateLimited):
    """The Graph API's rate limits: an error code 4/17/32/613/80001-80014, or a usage header at
    100 % or more. ``retry_after_s`` is how long to wait (the header's
    ``estimated_time_to_regain_access``, else the client's rolling-window default); ``usage``
    the decoded ``X-App-Usage`` / ``X-Business-Use-Case-Usage`` values; ``code`` and
    ``subcode`` the error's, when an error body said so."""

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        usage: dict[str, Any] | None = None,
        code: int | None = None,
        subcode: int | None = None,
        url: str | None = None,
        status: int | None = None,
        body: bytes | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status, body=body)
        self.retry_after_s = retry_after_s
        self.usage = usage or {}
        self.code = code
        self.subcode = subcode


class HashtagQuotaExceeded(RateLimited):
    """An Instagram account has queried 30 unique hashtags in the last 7 days (the Graph API's
    documented limit). ``frees_at`` is when the oldest of them leaves the window and a new
    hashtag may be queried (``None`` when only the server's error said so); ``server_side``
    whether the platform refused (error code 24, subcode 2207024) rather than the client's
    own quota, which refuses before sending anything."""

    def __init__(
        self,
        message: str,
        *,
        ig_user_id: str | None = None,
        hashtag: str | None = None,
        frees_at: datetime | None = None,
        used: int | None = None,
        limit: int = 30,
        server_side: bool = False,
        url: str | None = None,
        status: int | None = None,
        body: bytes | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status, body=body)
        self.ig_user_id = ig_user_id
        self.hashtag = hashtag
        self.frees_at = frees_at
        self.used = used
        self.limit = limit
        self.server_side = server_side
