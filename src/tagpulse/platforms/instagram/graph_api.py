"""HTTP client for the official Instagram Graph API (business/creator accounts), and the sandbox.

What it reads: hashtag search -> a hashtag's ``top_media`` / ``recent_media`` (last 24 h), and
business discovery (a public business/creator account's counts and media). Records come from
:mod:`.parse_graph`; the client sends one request and classifies the answer, never retrying:
backoff and token rotation belong to the collector.

Limits it honours before sending anything:

* 30 unique hashtags per Instagram account in any 7 days: every hashtag request goes through a
  :class:`~.graph_quota.HashtagQuota` (when given); a 31st hashtag raises
  :class:`~.exceptions.HashtagQuotaExceeded` with the time the oldest slot frees. Hashtag ids
  are cached (:class:`~.graph_quota.HashtagIdCache`): a tag is searched once in its life.
* Usage headers (``X-App-Usage``, ``X-Business-Use-Case-Usage``, percentages of the app's and
  the account's budgets) are kept in :attr:`GraphClient.usage`; at 100 % or more the client
  refuses further requests with :class:`~.exceptions.GraphRateLimited` until the announced
  ``estimated_time_to_regain_access`` (else ``usage_wait_s``, the rolling window) has passed.

The access token travels as the ``access_token`` query parameter, as the API documents, and is
kept out of every :class:`GraphResponse`, error message and ``repr``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

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
from tagpulse.platforms.instagram.exceptions import GraphRateLimited, HashtagQuotaExceeded
from tagpulse.platforms.instagram.graph_quota import HashtagIdCache, HashtagQuota, normalise_tag
from tagpulse.platforms.instagram.parse_graph import parse_hashtag_search

__all__ = [
    "GRAPH_BASE_URL",
    "HASHTAG_MEDIA_FIELDS",
    "MAX_PAGE_SIZE",
    "PROFILE_FIELDS",
    "PROFILE_MEDIA_FIELDS",
    "GraphClient",
    "GraphResponse",
    "GraphUsage",
    "HashtagMediaEdge",
    "business_discovery_fields",
    "classify",
]

#: Where the real API answers; the sandbox passes ``<sandbox>/graph/v21.0``.
GRAPH_BASE_URL = "https://graph.facebook.com/v21.0"
HASHTAG_MEDIA_FIELDS = (
    "id,caption,media_type,comments_count,like_count,permalink,timestamp,media_url,"
    "children{media_url}"
)
PROFILE_FIELDS = (
    "followers_count,follows_count,media_count,name,biography,website,profile_picture_url,"
    "username,id"
)
PROFILE_MEDIA_FIELDS = (
    "id,caption,media_type,like_count,comments_count,timestamp,permalink,media_url"
)
MAX_PAGE_SIZE = 50
"""The Graph API pages hashtag media 50 at a time at most."""

HashtagMediaEdge = Literal["top_media", "recent_media"]

# Application (4), user (17), page (32), API-specific (613) and business use case
# (80001-80014; 80002 is Instagram's) rate limits.
_RATE_CODES = frozenset({4, 17, 32, 613})
_BUC_CODES = range(80001, 80015)
_TOKEN_CODES = frozenset({102, 190})
_HASHTAG_LIMIT = (24, 2207024)
_NOT_FOUND_SUBCODES = frozenset({33, 2207013})
_HANDLE = re.compile(r"^[A-Za-z0-9._]{1,30}$", re.ASCII)
_CURSOR = re.compile(r"^[A-Za-z0-9_\-=.%]{1,512}$", re.ASCII)
_PERMISSION_WORDS = ("permission", "requires", "app secret", "access token")


def _percent(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _header_json(headers: Mapping[str, str], name: str) -> Any:
    for key, value in headers.items():
        if key.lower() == name:
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                return None
    return None


@dataclass(slots=True, frozen=True)
class GraphUsage:
    """The budget headers of one answer, as percentages of each budget used.

    ``app`` is ``X-App-Usage`` (``call_count``, ``total_cputime``, ``total_time``);
    ``business`` is ``X-Business-Use-Case-Usage``: per business (Instagram account) id, its
    entries with those three and ``estimated_time_to_regain_access`` (minutes)."""

    app: Mapping[str, float] = field(default_factory=dict)
    business: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> GraphUsage:
        app: dict[str, float] = {}
        raw_app = _header_json(headers, "x-app-usage")
        if isinstance(raw_app, dict):
            for key in ("call_count", "total_cputime", "total_time"):
                value = _percent(raw_app.get(key))
                if value is not None:
                    app[key] = value
        business: dict[str, tuple[Mapping[str, Any], ...]] = {}
        raw_business = _header_json(headers, "x-business-use-case-usage")
        if isinstance(raw_business, dict):
            for owner, entries in raw_business.items():
                if isinstance(entries, list):
                    business[str(owner)] = tuple(e for e in entries if isinstance(e, dict))
        return cls(app=app, business=business)

    @property
    def present(self) -> bool:
        return bool(self.app or self.business)

    @property
    def percent(self) -> float | None:
        """The fullest budget's percentage (``None`` when no header said anything)."""
        values = list(self.app.values())
        for entries in self.business.values():
            for entry in entries:
                for key in ("call_count", "total_cputime", "total_time"):
                    value = _percent(entry.get(key))
                    if value is not None:
                        values.append(value)
        return max(values) if values else None

    @property
    def exhausted(self) -> bool:
        percent = self.percent
        return percent is not None and percent >= 100.0

    @property
    def regain_after_s(self) -> float | None:
        """``estimated_time_to_regain_access`` (minutes in the header) in seconds, if any > 0."""
        minutes = [
            _percent(entry.get("estimated_time_to_regain_access"))
            for entries in self.business.values()
            for entry in entries
        ]
        waits = [m * 60.0 for m in minutes if m is not None and m > 0]
        return max(waits) if waits else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "app": dict(self.app),
            "business": {key: [dict(e) for e in value] for key, value in self.business.items()},
        }


@dataclass(slots=True, frozen=True)
class GraphResponse:
    """What the platform answered (status 200 only; errors are raised). ``params`` are the query
    parameters as sent, without the access token and its proof; ``context`` what the request was
    about that the answer does not repeat (``tag`` and ``edge`` for hashtag media, ``handle``
    for business discovery), which a re-parse of the archived body needs."""

    endpoint: str
    url: str
    params: dict[str, str]
    status: int
    body: bytes
    headers: Mapping[str, str]
    usage: GraphUsage
    context: Mapping[str, str] = field(default_factory=dict)


def _error_object(body: bytes) -> dict[str, Any]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {"message": body[:120].decode("utf-8", "replace").strip()}
    error = doc.get("error") if isinstance(doc, dict) else None
    return error if isinstance(error, dict) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def classify(
    status: int, body: bytes, headers: Mapping[str, str], url: str, *, endpoint: str = ""
) -> PlatformError | None:
    """The error a Graph API answer means, or ``None`` when it is a usable 200.

    ``endpoint`` matters for code 100: on business discovery it means the username is not a
    business/creator account (:class:`NotFound`), elsewhere a bad request."""
    if status == 200:
        return None
    error = _error_object(body)
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    message = str(error.get("message") or "").strip()
    detail = str(error.get("error_user_msg") or "").strip()
    said = message + (f" ({detail})" if detail and detail != message else "")
    tag = f"code {code}" + (f"/{subcode}" if subcode is not None else "")
    usage = GraphUsage.from_headers(headers)
    if (code, subcode) == _HASHTAG_LIMIT or (code == 24 and "hashtag" in said.lower()):
        return HashtagQuotaExceeded(
            f"HTTP {status} ({tag}): the Graph API refused a new hashtag, this Instagram "
            f"account's 30 unique hashtags per 7 days are used up: {said}. Hashtags queried in "
            "the last 7 days stay readable; a new one must wait until an older one is 7 days "
            "old (at most 7 days)",
            server_side=True,
            url=url,
            status=status,
        )
    if (
        code in _RATE_CODES
        or (code is not None and code in _BUC_CODES)
        or status == 429
        or message.startswith("(#4)")
    ):
        wait = usage.regain_after_s
        until = f"; access returns in about {wait / 60:.0f} min" if wait else ""
        return GraphRateLimited(
            f"HTTP {status} ({tag}): rate limited: {said or 'request limit reached'}{until}",
            retry_after_s=wait,
            usage=usage.to_dict(),
            code=code,
            subcode=subcode,
            url=url,
            status=status,
        )
    if code in _TOKEN_CODES or status == 401:
        return LoginRequired(
            f"HTTP {status} ({tag}): the access token was refused: {said or 'invalid token'}; "
            "get a new long-lived token for this Instagram business account",
            url=url,
            status=status,
        )
    on_discovery = endpoint.endswith("business_discovery")
    if (
        subcode in _NOT_FOUND_SUBCODES
        or code in (110, 803)
        or status == 404
        or (
            code == 100
            and on_discovery
            and not any(word in said.lower() for word in _PERMISSION_WORDS)
        )
    ):
        return NotFound(f"HTTP {status} ({tag}): not found: {said}", url=url, status=status)
    if status >= 500 or code in (1, 2) or error.get("is_transient") is True:
        return TransportError(
            f"HTTP {status} ({tag}): temporary failure: {said or 'server error'}",
            url=url,
            status=status,
        )
    return PlatformError(
        f"HTTP {status} ({tag}): {said or 'unexpected answer'}", url=url, status=status
    )


def business_discovery_fields(
    handle: str,
    *,
    media_limit: int = 25,
    after: str | None = None,
    profile_fields: str = PROFILE_FIELDS,
    media_fields: str = PROFILE_MEDIA_FIELDS,
) -> str:
    """The ``fields`` value of a business discovery request (``media_limit`` 0: no media)."""
    username = handle.strip().lstrip("@")
    if not _HANDLE.match(username):
        raise InputError(f"{handle!r} is not an Instagram username", field="handle")
    if not 0 <= media_limit <= MAX_PAGE_SIZE:
        raise InputError(f"media_limit {media_limit}: use 0 to {MAX_PAGE_SIZE}", field="limit")
    if after is not None and not _CURSOR.match(after):
        raise InputError(f"cursor {after[:40]!r} is not a Graph API cursor", field="after")
    inner = profile_fields
    if media_limit:
        media = "media" + (f".after({after})" if after else "") + f".limit({media_limit})"
        inner += f",{media}{{{media_fields}}}"
    return f"business_discovery.username({username}){{{inner}}}"


def _utc(seconds: float) -> str:
    return f"{datetime.fromtimestamp(seconds, tz=UTC):%Y-%m-%d %H:%M:%S} UTC"


class GraphClient:
    """One access token acting for one Instagram business/creator account (``ig_user_id``).

    ``quota`` (shared by every client of the same account) enforces the hashtag limit before
    sending; ``hashtag_ids`` caches hashtag ids; ``app_secret`` adds ``appsecret_proof``;
    ``now`` is the clock (the sandbox's in simulations); ``usage_wait_s`` is how long to hold
    off after a usage header at 100 % that gives no estimate (the API's window is an hour).
    """

    def __init__(
        self,
        base_url: str = GRAPH_BASE_URL,
        *,
        access_token: str,
        ig_user_id: str,
        quota: HashtagQuota | None = None,
        hashtag_ids: HashtagIdCache | None = None,
        app_secret: str | None = None,
        now: Callable[[], float] = time.time,
        usage_wait_s: float = 3600.0,
        proxy: str | None = None,
        source_address: str | None = None,
        timeout: float = 20.0,
    ) -> None:
        if not access_token.strip():
            raise ConfigError("the Graph API client needs an access token (it is empty)")
        if not ig_user_id.strip().isdigit():
            raise ConfigError(
                f"ig_user_id {ig_user_id!r}: give the numeric id of the Instagram business "
                "account the token acts for"
            )
        self.base_url = base_url.rstrip("/")
        self.ig_user_id = ig_user_id.strip()
        self.quota = quota
        self.hashtag_ids = hashtag_ids if hashtag_ids is not None else HashtagIdCache()
        self.usage: GraphUsage | None = None
        self.usage_wait_s = usage_wait_s
        self.blocked_until: float | None = None
        self._now = now
        self._token = access_token.strip()
        self._secrets = {self._token}
        self._proof: str | None = None
        if app_secret:
            self._proof = hmac.new(
                app_secret.encode(), self._token.encode(), hashlib.sha256
            ).hexdigest()
            self._secrets.add(self._proof)
        transport = platform_http.transport(proxy=proxy, source_address=source_address)
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "tagpulse"},
            timeout=timeout,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"GraphClient({self.base_url!r}, ig_user_id={self.ig_user_id!r}, access_token=***)"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _refuse_while_blocked(self, url: str) -> None:
        if self.blocked_until is None:
            return
        now = self._now()
        if now >= self.blocked_until:
            self.blocked_until = None
            return
        wait = self.blocked_until - now
        percent = self.usage.percent if self.usage is not None else None
        used = f" at {percent:.0f} %" if percent is not None else ""
        raise GraphRateLimited(
            f"the Graph API budget of this app/account is used up{used}: not sending; wait "
            f"{wait:.0f} s (until {_utc(self.blocked_until)})",
            retry_after_s=wait,
            usage=self.usage.to_dict() if self.usage is not None else None,
            url=url,
        )

    def get(
        self,
        endpoint: str,
        path: str,
        params: Mapping[str, str],
        context: Mapping[str, str] | None = None,
    ) -> GraphResponse:
        """GET ``path`` with the token; return the 200 answer or raise the error it means."""
        url = f"{self.base_url}{path}"
        self._refuse_while_blocked(url)
        sent = dict(params)
        query = {**sent, "access_token": self._token}
        if self._proof is not None:
            query["appsecret_proof"] = self._proof
        # Scrubbed and not chained: the httpx exception carries the request, whose URL holds
        # the token.
        answer, body = platform_http.get(self._http, path, query, url=url, scrub=self._scrub)
        headers = dict(answer.headers)
        usage = GraphUsage.from_headers(headers)
        now = self._now()
        if usage.present:
            self.usage = usage
            if usage.exhausted:
                self.blocked_until = now + (usage.regain_after_s or self.usage_wait_s)
        error = classify(answer.status_code, body, headers, url, endpoint=endpoint)
        if error is not None:
            error.body = body
            if isinstance(error, GraphRateLimited):
                wait = error.retry_after_s or self.usage_wait_s
                error.retry_after_s = wait
                self.blocked_until = max(self.blocked_until or 0.0, now + wait)
            elif isinstance(error, HashtagQuotaExceeded):
                # The platform counts hashtags this client never saw (other apps, other
                # processes on the account): when they free is not known here.
                error.ig_user_id = self.ig_user_id
            raise error
        return GraphResponse(
            endpoint=endpoint,
            url=url,
            params=sent,
            status=answer.status_code,
            body=body,
            headers=headers,
            usage=usage,
            context=dict(context or {}),
        )

    # -- hashtags ----------------------------------------------------------------------------

    def _take_quota(self, tag: str) -> None:
        if self.quota is not None:
            self.quota.acquire(self.ig_user_id, tag)

    def hashtag_search(self, tag: str) -> GraphResponse:
        """``ig_hashtag_search``: the id of ``tag`` (counts against the hashtag quota)."""
        name = normalise_tag(tag)
        self._take_quota(name)
        return self.get(
            "graph/ig_hashtag_search",
            "/ig_hashtag_search",
            {"user_id": self.ig_user_id, "q": name},
            {"tag": name},
        )

    def hashtag_id(self, tag: str) -> str:
        """The Graph id of ``tag``: from the cache, else searched (and then cached)."""
        name = normalise_tag(tag)
        cached = self.hashtag_ids.get(name)
        if cached is not None:
            return cached
        answer = self.hashtag_search(name)
        hashtag_id = parse_hashtag_search(answer.body)
        if hashtag_id is None:
            raise NotFound(f"#{name}: the Graph API knows no hashtag by this name", url=answer.url)
        self.hashtag_ids.put(name, hashtag_id)
        return hashtag_id

    def hashtag_media(
        self,
        tag: str,
        edge: HashtagMediaEdge = "top_media",
        *,
        after: str | None = None,
        limit: int | None = None,
        fields: str = HASHTAG_MEDIA_FIELDS,
    ) -> GraphResponse:
        """A page of ``tag``'s ``top_media`` (most popular) or ``recent_media`` (last 24 h);
        ``after`` is the previous page's cursor (``ParsedRecords.next_cursor``)."""
        if edge not in ("top_media", "recent_media"):
            raise InputError(f"edge {edge!r}: use top_media or recent_media", field="edge")
        if limit is not None and not 1 <= limit <= MAX_PAGE_SIZE:
            raise InputError(f"limit {limit}: use 1 to {MAX_PAGE_SIZE}", field="limit")
        if after is not None and not _CURSOR.match(after):
            raise InputError(f"cursor {after[:40]!r} is not a Graph API cursor", field="after")
        name = normalise_tag(tag)
        # The quota first: a refused hashtag costs no request, not even its id lookup.
        self._take_quota(name)
        hashtag_id = self.hashtag_id(name)
        params = {"user_id": self.ig_user_id, "fields": fields}
        if limit is not None:
            params["limit"] = str(limit)
        if after:
            params["after"] = after
        context = {"tag": name, "edge": edge.removesuffix("_media")}
        return self.get(f"graph/{edge}", f"/{hashtag_id}/{edge}", params, context)

    def top_media(
        self, tag: str, *, after: str | None = None, limit: int | None = None
    ) -> GraphResponse:
        return self.hashtag_media(tag, "top_media", after=after, limit=limit)

    def recent_media(
        self, tag: str, *, after: str | None = None, limit: int | None = None
    ) -> GraphResponse:
        return self.hashtag_media(tag, "recent_media", after=after, limit=limit)

    # -- accounts ----------------------------------------------------------------------------

    def business_discovery(
        self,
        handle: str,
        *,
        media_limit: int = 25,
        after: str | None = None,
        profile_fields: str = PROFILE_FIELDS,
        media_fields: str = PROFILE_MEDIA_FIELDS,
    ) -> GraphResponse:
        """A public business/creator account by username: its counts and a page of its media
        (``after``: the previous page's cursor). Raises :class:`NotFound` when the username is
        no business/creator account."""
        value = business_discovery_fields(
            handle,
            media_limit=media_limit,
            after=after,
            profile_fields=profile_fields,
            media_fields=media_fields,
        )
        handle = handle.strip().lstrip("@")
        return self.get(
            "graph/business_discovery", f"/{self.ig_user_id}", {"fields": value}, {"handle": handle}
        )
