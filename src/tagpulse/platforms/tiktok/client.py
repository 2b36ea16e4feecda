"""HTTP client for TikTok's web endpoints (and the sandbox, which speaks the same shapes).

The client sends one request with a desktop browser's headers and classifies the answer; it
never retries. Retrying, backoff and session rotation belong to the collector. TikTok answers
most failures with HTTP 200 and a ``statusCode`` in the body: the captcha wall (10000, or a
verify page) is raised here as :class:`VerifyRequired`; the other codes (account not found,
private...) come back as the answer, to be archived and turned into records by the parser.

The real web API also wants signed query strings (``X-Bogus``, ``msToken``) that only a browser
computes; this client does not sign. Against the real platform, pass the cookies of a browser
session; the sandbox needs none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import httpx
import orjson

from tagpulse.errors import (
    InputError,
    LoginRequired,
    NotFound,
    PlatformError,
    RateLimited,
    TransportError,
)
from tagpulse.platforms import http as platform_http
from tagpulse.platforms.tiktok.exceptions import VERIFY_CODES, VerifyRequired, error_for_status

__all__ = ["WEB_BASE_URL", "WEB_PARAMS", "TikTokClient", "classify"]

#: Where the real web app answers; the sandbox passes its own base URL.
WEB_BASE_URL = "https://www.tiktok.com"
_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
#: The query parameters the web app sends with every API call (aid 1988 is the web app).
WEB_PARAMS: Mapping[str, str] = {
    "aid": "1988",
    "app_name": "tiktok_web",
    "device_platform": "web_pc",
    "app_language": "en",
    "browser_language": "en-US",
    "browser_platform": "Linux x86_64",
    "cookie_enabled": "true",
}
_HANDLE = re.compile(r"^[A-Za-z0-9_.]{1,24}$")
_MAX_COUNT = 35
_VERIFY_MARKERS = (b"captcha", b"verify-bar", b"security check", b"verifyconfig")


def _status_code(body: bytes) -> tuple[int | None, str]:
    """TikTok's ``statusCode`` and ``statusMsg`` from a JSON body, if it is one."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, body[:120].decode("utf-8", "replace").strip()
    if not isinstance(doc, dict):
        return None, ""
    code = doc.get("statusCode", doc.get("status_code"))
    message = doc.get("statusMsg") or doc.get("status_msg") or doc.get("message") or ""
    if isinstance(code, str) and code.strip().isdecimal():
        code = int(code)
    return (code if isinstance(code, int) and not isinstance(code, bool) else None), str(message)


def _is_verify_page(body: bytes) -> bool:
    head = body[:20000].lower()
    return head.lstrip()[:1] == b"<" and any(marker in head for marker in _VERIFY_MARKERS)


def classify(
    status: int, body: bytes, headers: Mapping[str, str], url: str
) -> PlatformError | None:
    """The error an answer means, or None when it is an answer to archive and parse."""
    location = {key.lower(): value for key, value in headers.items()}.get("location") or ""
    code, message = _status_code(body)
    if code is not None and code in VERIFY_CODES:
        return error_for_status(code, message or None, url=url, status=status)
    if _is_verify_page(body):
        return VerifyRequired(
            f"HTTP {status}: a captcha (verify) page instead of data; back off and use another "
            "session or address",
            url=url,
            status=status,
        )
    if status == 200:
        if not body.strip():
            # TikTok's answer to unsigned or throttled requests: 200 with nothing in it.
            return RateLimited(
                "200 with an empty body: TikTok refused the request (unsigned, or too many); "
                "back off, or use a browser session's cookies",
                url=url,
                status=200,
            )
        return None
    if status == 429:
        return RateLimited(
            f"429 Too Many Requests: {message or 'rate limited'}", url=url, status=429
        )
    if status in (301, 302, 303, 307, 308):
        lowered = location.lower()
        if "verify" in lowered or "captcha" in lowered:
            return VerifyRequired(
                f"redirected to a verify page ({location})", url=url, status=status
            )
        if "/login" in lowered:
            return LoginRequired(f"redirected to {location}", url=url, status=status)
        return PlatformError(f"unexpected redirect to {location}", url=url, status=status)
    if status in (401, 403):
        return LoginRequired(
            f"{status}: {message or 'forbidden'}; log in again or pass a browser session",
            url=url,
            status=status,
        )
    if status == 404:
        return NotFound(f"404: {message or 'not found'}", url=url, status=404)
    if status >= 500:
        return TransportError(f"HTTP {status}: {message or 'server error'}", url=url, status=status)
    return PlatformError(f"HTTP {status}: {message or 'unexpected answer'}", url=url, status=status)


def _count(count: int) -> str:
    if not 1 <= count <= _MAX_COUNT:
        raise InputError(f"count {count}: TikTok pages hold 1 to {_MAX_COUNT}", field="count")
    return str(count)


def _cursor(cursor: int | str) -> str:
    text = str(cursor).strip()
    if not text.isdecimal():
        raise InputError(f"cursor {cursor!r}: give the previous page's cursor", field="cursor")
    return text


class TikTokClient:
    """One web session (anonymous, or a browser's cookies), optionally through a proxy or
    source address. Every method returns the answer as received (``httpx.Response``, body
    read) or raises the error it means."""

    def __init__(
        self,
        base_url: str = WEB_BASE_URL,
        *,
        cookies: Mapping[str, str] | None = None,
        proxy: str | None = None,
        source_address: str | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        transport = platform_http.transport(proxy=proxy, source_address=source_address)
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            headers={
                "User-Agent": _USER_AGENT,
                "Accept": "application/json, text/plain, */*",
                "Accept-Language": "en-US,en;q=0.9",
                "Referer": f"{self.base_url}/",
                "Sec-Fetch-Dest": "empty",
                "Sec-Fetch-Mode": "cors",
                "Sec-Fetch-Site": "same-origin",
            },
            cookies=dict(cookies) if cookies else None,
            timeout=timeout,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"TikTokClient({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TikTokClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, params: Mapping[str, str]) -> httpx.Response:
        """GET ``path`` with the web app's parameters; the answer, or the error it means."""
        url = f"{self.base_url}{path}"
        answer, body = platform_http.get(self._http, path, {**WEB_PARAMS, **params}, url=url)
        error = classify(answer.status_code, body, answer.headers, url)
        if error is not None:
            error.body = body
            raise error
        return answer

    def challenge_detail(self, tag: str) -> httpx.Response:
        """``api/challenge/detail/``: a hashtag's id, post count (videoCount) and views."""
        name = tag.strip().lstrip("#")
        if not name:
            raise InputError("give a hashtag", field="tag")
        return self.get("/api/challenge/detail/", {"challengeName": name})

    def challenge_items(
        self, challenge_id: str, cursor: int | str = 0, count: int = 30
    ) -> httpx.Response:
        """``api/challenge/item_list/``: a page of a hashtag's posts (``challengeInfo``'s id)."""
        if not str(challenge_id).strip().isdecimal():
            raise InputError(f"challenge id {challenge_id!r} is not numeric", field="challenge_id")
        params = {
            "challengeID": str(challenge_id).strip(),
            "cursor": _cursor(cursor),
            "count": _count(count),
        }
        return self.get("/api/challenge/item_list/", params)

    def user_detail(self, handle: str) -> httpx.Response:
        """``api/user/detail/``: an account's profile and counts, by handle (``@`` optional)."""
        name = handle.strip().lstrip("@")
        if not _HANDLE.match(name):
            raise InputError(f"{handle!r} is not a TikTok handle", field="handle")
        return self.get("/api/user/detail/", {"uniqueId": name, "secUid": ""})

    def user_items(self, sec_uid: str, cursor: int | str = 0, count: int = 30) -> httpx.Response:
        """``api/post/item_list/``: a page of an account's posts, newest first (``secUid`` from
        the user detail; ``cursor`` is the previous page's)."""
        if not sec_uid.strip():
            raise InputError("give the account's secUid (from user_detail)", field="sec_uid")
        params = {"secUid": sec_uid.strip(), "cursor": _cursor(cursor), "count": _count(count)}
        return self.get("/api/post/item_list/", params)
