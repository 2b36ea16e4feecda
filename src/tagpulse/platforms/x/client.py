"""HTTP client for the X (Twitter) API v2 (and the sandbox, which speaks the same shapes).

The client sends one request with an app bearer token and classifies the answer; it never
retries. Retrying, backoff and token rotation belong to the collector. The token travels only in
the ``Authorization`` header: it is never logged, never part of a URL, params or an error.

X counts requests per endpoint and per 15-minute window and says where a caller stands in every
answer's ``x-rate-limit-*`` headers; the client keeps the latest :class:`RateBudget` of each
endpoint (:meth:`XClient.budget`, :meth:`XClient.remaining`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx
import orjson

from tagpulse.errors import (
    ConfigError,
    InputError,
    LoginRequired,
    NotFound,
    PlatformError,
    TransportError,
)
from tagpulse.platforms import http as platform_http
from tagpulse.platforms.x.exceptions import XRateLimited

__all__ = [
    "API_BASE_URL",
    "EXPANSIONS",
    "MEDIA_FIELDS",
    "PLACE_FIELDS",
    "TWEET_FIELDS",
    "USER_FIELDS",
    "Granularity",
    "RateBudget",
    "Response",
    "XClient",
    "classify",
]

#: Where the real API answers; the sandbox passes its own base URL.
API_BASE_URL = "https://api.x.com"

TWEET_FIELDS = (
    "attachments,author_id,conversation_id,created_at,entities,geo,id,in_reply_to_user_id,lang,"
    "possibly_sensitive,public_metrics,referenced_tweets,reply_settings,source,text,withheld"
)
EXPANSIONS = (
    "author_id,referenced_tweets.id,referenced_tweets.id.author_id,entities.mentions.username,"
    "in_reply_to_user_id,attachments.media_keys,attachments.poll_ids,geo.place_id"
)
USER_FIELDS = (
    "created_at,description,entities,id,location,name,pinned_tweet_id,profile_image_url,"
    "protected,public_metrics,url,username,verified,withheld"
)
MEDIA_FIELDS = (
    "duration_ms,height,media_key,preview_image_url,public_metrics,type,url,variants,width"
)
PLACE_FIELDS = "country,country_code,full_name,geo,id,name,place_type"

Granularity = Literal["minute", "hour", "day"]
_USERNAME = re.compile(r"^\w{1,15}$", re.ASCII)


@dataclass(slots=True, frozen=True)
class RateBudget:
    """Where an endpoint's rate window stands, from an answer's ``x-rate-limit-*`` headers."""

    limit: int | None
    remaining: int | None
    reset_at: datetime | None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateBudget:
        lower = {key.lower(): value for key, value in headers.items()}
        reset = _header_int(lower, "x-rate-limit-reset")
        reset_at = None
        if reset is not None:
            try:
                reset_at = datetime.fromtimestamp(reset, tz=UTC)
            except (OverflowError, OSError, ValueError):
                reset_at = None
        return cls(
            limit=_header_int(lower, "x-rate-limit-limit"),
            remaining=_header_int(lower, "x-rate-limit-remaining"),
            reset_at=reset_at,
        )


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


@dataclass(slots=True, frozen=True)
class Response:
    """What the platform answered (status 200 only; errors are raised).

    ``params`` are the query parameters as sent (never the token); ``body`` the raw bytes the
    collector archives.
    """

    endpoint: str
    url: str
    params: dict[str, str]
    status: int
    body: bytes
    headers: Mapping[str, str]
    rate_limit: RateBudget


def _message(body: bytes) -> str:
    """The problem an error body states: ``title: detail`` and the first error's message."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:120].decode("utf-8", "replace").strip()
    if not isinstance(doc, dict):
        return ""
    parts = [str(doc[key]) for key in ("title", "detail") if doc.get(key)]
    errors = doc.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0].get("message") or errors[0].get("detail")
        if first and str(first) not in parts:
            parts.append(str(first))
    return ": ".join(parts)


def classify(
    status: int, body: bytes, headers: Mapping[str, str], url: str
) -> PlatformError | None:
    """The error an answer means, or None when it is a usable 200."""
    if status == 200:
        return None
    message = _message(body)
    if status == 429:
        budget = RateBudget.from_headers(headers)
        until = ""
        if budget.reset_at is not None:
            until = f"; the window reopens at {budget.reset_at:%Y-%m-%dT%H:%M:%SZ}"
        return XRateLimited(
            f"429 Too Many Requests: {message or 'rate limited'}{until}",
            reset_at=budget.reset_at,
            limit=budget.limit,
            remaining=budget.remaining,
            url=url,
            status=429,
        )
    if status in (401, 403):
        return LoginRequired(
            f"{status}: {message or 'not authorised'}; check the bearer token and the app's "
            "access level",
            url=url,
            status=status,
        )
    if status == 404:
        return NotFound(f"404: {message or 'not found'}", url=url, status=404)
    if status >= 500:
        return TransportError(f"HTTP {status}: {message or 'server error'}", url=url, status=status)
    return PlatformError(f"HTTP {status}: {message or 'unexpected answer'}", url=url, status=status)


def _utc_param(value: datetime | str, name: str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise InputError("give an aware datetime (UTC)", field=name)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class XClient:
    """One app (bearer token) on the API v2, optionally through a proxy or source address."""

    def __init__(
        self,
        base_url: str = API_BASE_URL,
        *,
        bearer_token: str,
        proxy: str | None = None,
        source_address: str | None = None,
        timeout: float = 20.0,
    ) -> None:
        if not bearer_token.strip():
            raise ConfigError("the X client needs a bearer token (it is empty)")
        self.base_url = base_url.rstrip("/")
        self._budgets: dict[str, RateBudget] = {}
        transport = platform_http.transport(proxy=proxy, source_address=source_address)
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            headers={
                "Authorization": f"Bearer {bearer_token.strip()}",
                "Accept": "application/json",
                "User-Agent": "tagpulse",
            },
            timeout=timeout,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"XClient({self.base_url!r}, bearer_token=***)"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> XClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def budget(self, endpoint: str) -> RateBudget | None:
        """The rate window of ``endpoint`` as of its latest answer (None before the first)."""
        return self._budgets.get(endpoint)

    def remaining(self, endpoint: str) -> int | None:
        """Requests left in ``endpoint``'s window (``x-rate-limit-remaining``), if known."""
        budget = self._budgets.get(endpoint)
        return budget.remaining if budget else None

    def get(self, endpoint: str, path: str, params: dict[str, str]) -> Response:
        """GET ``path``; return the 200 answer or raise the error it means."""
        url = f"{self.base_url}{path}"
        answer, body = platform_http.get(self._http, path, params, url=url)
        headers = dict(answer.headers)
        budget = RateBudget.from_headers(headers)
        if budget.remaining is not None or budget.reset_at is not None:
            self._budgets[endpoint] = budget
        error = classify(answer.status_code, body, headers, url)
        if error is not None:
            error.body = body
            raise error
        return Response(
            endpoint=endpoint,
            url=url,
            params=params,
            status=answer.status_code,
            body=body,
            headers=headers,
            rate_limit=budget,
        )

    def recent_counts(
        self,
        query: str,
        granularity: Granularity = "hour",
        start_time: datetime | str | None = None,
        *,
        next_token: str | None = None,
    ) -> Response:
        """``tweets/counts/recent``: how many tweets matched ``query`` per bucket (7 days)."""
        if granularity not in ("minute", "hour", "day"):
            raise InputError(
                f"granularity {granularity!r}: use minute, hour or day", field="granularity"
            )
        params = {"query": query, "granularity": granularity}
        if start_time is not None:
            params["start_time"] = _utc_param(start_time, "start_time")
        if next_token:
            params["next_token"] = next_token
        return self.get("tweets/counts/recent", "/2/tweets/counts/recent", params)

    def recent_search(
        self, query: str, max_results: int = 100, next_token: str | None = None
    ) -> Response:
        """``tweets/search/recent``: one page of tweets matching ``query``, with expansions."""
        if not 10 <= max_results <= 100:
            raise InputError(f"max_results {max_results}: X accepts 10 to 100", field="max_results")
        params = {
            "query": query,
            "max_results": str(max_results),
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
            "media.fields": MEDIA_FIELDS,
            "place.fields": PLACE_FIELDS,
        }
        if next_token:
            params["next_token"] = next_token
        return self.get("tweets/search/recent", "/2/tweets/search/recent", params)

    def users_by(self, usernames: Iterable[str]) -> Response:
        """``users/by``: up to 100 accounts by handle (``@`` optional), with their metrics."""
        handles = [name.strip().lstrip("@") for name in usernames]
        bad = [name for name in handles if not _USERNAME.match(name)]
        if bad or not 1 <= len(handles) <= 100:
            reason = f"not X handles: {bad[:5]}" if bad else f"{len(handles)} handles"
            raise InputError(f"{reason} (give 1 to 100 handles)", field="usernames")
        params = {
            "usernames": ",".join(handles),
            "user.fields": USER_FIELDS,
            "expansions": "pinned_tweet_id",
            "tweet.fields": TWEET_FIELDS,
        }
        return self.get("users/by", "/2/users/by", params)
