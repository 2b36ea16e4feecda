"""X API v2 shapes of the sandbox: the registered apps, tweet and user objects, error bodies.

The shapes follow the recorded answers in ``tests/fixtures/twarc2`` (``brexit.jsonl`` for
``tweets/search/recent`` with ``includes.users``, ``counts.jsonl`` for ``tweets/counts/recent``,
``users.jsonl`` for user objects and the partial errors beside them) and X's documented problem
bodies (``{"title", "detail", "type", "status"}``). Objects are built whole and then cut down to
the fields the request asked for (``tweet.fields``, ``user.fields``), as the API does. No I/O.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "BAD_REQUEST_TYPE",
    "CLIENT_FORBIDDEN_BODY",
    "NOT_FOUND_BODY",
    "SERVICE_UNAVAILABLE_BODY",
    "TOO_MANY_REQUESTS_BODY",
    "UNAUTHORIZED_BODY",
    "XTokenSpec",
    "default_x_tokens",
    "invalid_request",
    "pick_fields",
    "tco_url",
    "user_not_found",
    "x_time",
]


@dataclass(frozen=True, slots=True)
class XTokenSpec:
    """An X app the sandbox accepts: its bearer token, and the alias logs and faults name."""

    alias: str
    token: str


def default_x_tokens(n: int = 3) -> list[XTokenSpec]:
    """``x01`` … with bearer tokens ``sandbox-x-token-1`` …"""
    return [XTokenSpec(f"x{i:02d}", f"sandbox-x-token-{i}") for i in range(1, n + 1)]


UNAUTHORIZED_BODY: dict[str, Any] = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
TOO_MANY_REQUESTS_BODY: dict[str, Any] = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}
SERVICE_UNAVAILABLE_BODY: dict[str, Any] = {
    "title": "Service Unavailable",
    "detail": "Service Unavailable",
    "type": "about:blank",
    "status": 503,
}
NOT_FOUND_BODY: dict[str, Any] = {
    "title": "Not Found Error",
    "detail": "Sorry, that page does not exist.",
    "type": "about:blank",
    "status": 404,
}
CLIENT_FORBIDDEN_BODY: dict[str, Any] = {
    "client_id": "sandbox",
    "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys "
    "and tokens from a Twitter developer App that is attached to a Project. You can create a "
    "project via the developer portal.",
    "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
    "title": "Client Forbidden",
    "required_enrollment": "Appropriate Level of API Access",
    "reason": "client-not-enrolled",
    "type": "https://api.twitter.com/2/problems/client-forbidden",
}
BAD_REQUEST_TYPE = "https://api.twitter.com/2/problems/invalid-request"


def invalid_request(parameter: str, values: Iterable[str], message: str) -> dict[str, Any]:
    """The 400 body of a request with a parameter X does not accept."""
    return {
        "errors": [{"parameters": {parameter: list(values)}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": BAD_REQUEST_TYPE,
    }


def user_not_found(username: str, parameter: str = "usernames") -> dict[str, Any]:
    """One partial error of ``users/by``: a handle nobody has (now)."""
    return {
        "value": username,
        "detail": f"Could not find user with {parameter}: [{username}].",
        "title": "Not Found Error",
        "resource_type": "user",
        "parameter": parameter,
        "resource_id": username,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


def x_time(seconds: float) -> str:
    """``2026-11-01T02:00:00.000Z``: X's timestamps, to the millisecond."""
    millis = math.floor(seconds * 1000 + 0.5)
    moment = datetime.fromtimestamp(millis // 1000, tz=UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis % 1000:03d}Z"


def tco_url(target: str) -> str:
    """The shortened ``https://t.co/…`` link X shows in place of ``target``."""
    digest = hashlib.blake2b(target.encode(), digest_size=8).hexdigest()
    return f"https://t.co/{digest[:10]}"


def pick_fields(
    obj: Mapping[str, Any], requested: str | None, always: tuple[str, ...]
) -> dict[str, Any]:
    """``obj`` cut down to ``always`` plus the comma-separated ``requested`` fields."""
    wanted = set(always) | {f.strip() for f in (requested or "").split(",") if f.strip()}
    return {key: value for key, value in obj.items() if key in wanted}
