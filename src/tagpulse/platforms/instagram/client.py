"""HTTP client for Instagram's web endpoints (and the sandbox, which speaks the same shapes).

The client sends one request and classifies the answer; it never retries. Retrying, backoff and
account rotation belong to the collector, which knows about every account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

import httpx
import orjson

from tagpulse.errors import (
    CheckpointRequired,
    LoginRequired,
    NotFound,
    PlatformError,
    RateLimited,
)
from tagpulse.platforms import http as platform_http

__all__ = [
    "QUERY_HASHES",
    "WEB_APP_ID",
    "HashtagEndpoint",
    "InstagramClient",
    "Response",
    "classify",
]

#: The web app id the Instagram web client sends with every API call.
WEB_APP_ID = "936619743392459"
_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)

HashtagEndpoint = Literal["web_info", "legacy"]

#: The web app's graphql query hashes (as public clients use them).
QUERY_HASHES: dict[str, str] = {
    "followers": "c76146de99bb02f6415203be841dd25a",
    "following": "d04b0a864b4b54837c0d870b0e77e076",
    "comments": "33ba35852cb50da46f5b5e889df7d159",
}


@dataclass(slots=True, frozen=True)
class Response:
    """What the platform answered (status 200 only; errors are raised)."""

    endpoint: str
    url: str
    params: dict[str, str]
    status: int
    body: bytes
    headers: Mapping[str, str]


def _message(body: bytes) -> tuple[str, dict[str, object]]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:120].decode("utf-8", "replace"), {}
    if isinstance(doc, dict):
        return str(doc.get("message") or ""), doc
    return "", {}


def classify(status: int, body: bytes, location: str | None, url: str) -> PlatformError | None:
    """The error an answer means, or None when it is a usable 200."""
    if status == 200:
        return None
    message, doc = _message(body)
    if status == 429:
        return RateLimited(
            f"429 Too Many Requests: {message or 'rate limited'}", url=url, status=429
        )
    if status in (301, 302, 303, 307, 308):
        if location and ("/accounts/login" in location or "/challenge" in location):
            kind = CheckpointRequired if "/challenge" in location else LoginRequired
            return kind(f"redirected to {location}", url=url, status=status)
        return PlatformError(f"unexpected redirect to {location}", url=url, status=status)
    if message == "checkpoint_required" or doc.get("checkpoint_url"):
        return CheckpointRequired("checkpoint_required", url=url, status=status)
    if status == 401:
        if "wait a few minutes" in message.lower():
            return RateLimited(f"401: {message}", url=url, status=401)
        return LoginRequired(f"401: {message or 'login required'}", url=url, status=401)
    if status == 404:
        return NotFound(f"404: {message or 'not found'}", url=url, status=404)
    if doc.get("require_login"):
        return LoginRequired(f"{status}: {message}", url=url, status=status)
    return PlatformError(f"HTTP {status}: {message or 'unexpected answer'}", url=url, status=status)


class InstagramClient:
    """One logged-in (or anonymous) web session, optionally through a proxy or source address."""

    def __init__(
        self,
        base_url: str,
        *,
        session_id: str | None = None,
        proxy: str | None = None,
        source_address: str | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        transport = platform_http.transport(proxy=proxy, source_address=source_address)
        cookies = {"sessionid": session_id} if session_id else None
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            headers={
                "X-IG-App-ID": WEB_APP_ID,
                "User-Agent": _USER_AGENT,
                "Accept": "application/json",
                "X-Requested-With": "XMLHttpRequest",
            },
            cookies=cookies,
            timeout=timeout,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> InstagramClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, endpoint: str, path: str, params: dict[str, str]) -> Response:
        """GET ``path``; return the 200 answer or raise the error it means."""
        url = f"{self.base_url}{path}"
        answer, body = platform_http.get(self._http, path, params, url=url)
        error = classify(answer.status_code, body, answer.headers.get("location"), url)
        if error is not None:
            error.body = body
            raise error
        return Response(
            endpoint=endpoint,
            url=url,
            params=params,
            status=answer.status_code,
            body=body,
            headers=dict(answer.headers),
        )

    def hashtag(self, tag: str, endpoint: HashtagEndpoint = "web_info") -> Response:
        """The hashtag's page data: post count and top posts."""
        if endpoint == "web_info":
            return self.get("tags/web_info", "/api/v1/tags/web_info/", {"tag_name": tag})
        return self.get("explore/tags", f"/explore/tags/{quote(tag)}/", {"__a": "1"})

    def profile(self, handle: str) -> Response:
        """A profile with its newest posts (``web_profile_info``)."""
        return self.get(
            "users/web_profile_info", "/api/v1/users/web_profile_info/", {"username": handle}
        )

    def graphql(self, endpoint: str, query_hash: str, variables: dict[str, object]) -> Response:
        """A web graphql query by its hash (followers, following, comments)."""
        return self.get(
            endpoint,
            "/graphql/query/",
            {"query_hash": query_hash, "variables": orjson.dumps(variables).decode()},
        )

    def follow_list(
        self,
        kind: Literal["followers", "following"],
        user_id: str,
        after: str | None = None,
        first: int = 24,
    ) -> Response:
        """A page of who follows ``user_id`` (or whom it follows); needs a logged-in session."""
        variables: dict[str, object] = {"id": user_id, "first": first}
        if after:
            variables["after"] = after
        return self.graphql(f"graphql/{kind}", QUERY_HASHES[kind], variables)

    def comments(self, shortcode: str, after: str | None = None, first: int = 24) -> Response:
        """A page of a post's comments, newest page first."""
        variables: dict[str, object] = {"shortcode": shortcode, "first": first}
        if after:
            variables["after"] = after
        return self.graphql("graphql/comments", QUERY_HASHES["comments"], variables)

    def media_info(self, media_id: str) -> Response:
        """One post, as its page shows it (``api/v1/media/<id>/info/``)."""
        return self.get("media/info", f"/api/v1/media/{quote(media_id)}/info/", {})

    def likers(self, media_id: str) -> Response:
        """The most recent accounts that liked a post (``api/v1/media/<id>/likers/``)."""
        return self.get("media/likers", f"/api/v1/media/{quote(media_id)}/likers/", {})

    def user_feed(self, user_id: str, max_id: str | None = None, count: int = 12) -> Response:
        """A page of a user's posts, newest first; ``max_id`` is the previous page's cursor."""
        params = {"count": str(count)}
        if max_id:
            params["max_id"] = max_id
        return self.get("feed/user", f"/api/v1/feed/user/{quote(user_id)}/", params)
