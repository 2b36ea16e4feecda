"""The sandbox's TikTok web API (what :class:`tagpulse.platforms.tiktok.client.TikTokClient`
talks to).

Endpoints (anonymous; the web app's extra parameters are accepted and ignored; budgets and
faults: :mod:`platform_gate`; the world behind them: :mod:`tiktok_world`; shapes:
:mod:`payloads_tiktok`). TikTok answers with HTTP 200 and a ``statusCode``:

* ``GET /api/challenge/detail/?challengeName=<tag>`` -> ``challengeInfo`` (``challenge``,
  ``stats``, ``statsV2``); ``videoCount`` follows the hashtag world's true count.
* ``GET /api/challenge/item_list/?challengeID=&cursor=&count=`` -> ``itemList``, ``cursor``
  (an offset: ``"30"`` after the first 30), ``hasMore``.
* ``GET /api/user/detail/?uniqueId=<handle>`` (or ``secUid=``) -> ``userInfo.user`` +
  ``stats``/``statsV2``; ``statusCode`` 10202 and an empty ``userInfo`` for a handle nobody
  has; ``privateAccount``/``secret`` for a private account.
* ``GET /api/post/item_list/?secUid=&cursor=&count=`` -> the account's posts, newest first;
  ``cursor`` is the last item's creation in epoch milliseconds, so a page resumes exactly.
  A private or deleted account's list is an empty page.

``count`` is 1 … 35 (default 30). Over the per-IP budget: the captcha wall (HTTP 200,
``statusCode`` 10000). Injected faults: ``429`` -> HTTP 429 with an empty body, ``401`` -> HTTP
200 with an empty body (TikTok's refusal), ``login`` -> 302 to ``/login``, ``checkpoint`` -> the
captcha wall, ``reset``, ``truncated`` (half the body) and ``malformed`` (``{error}``).

Ground truth (no budget): ``/__sandbox/truth/tiktok_tag?tag=&t=`` (:func:`tiktok_tag_truth`),
``/__sandbox/truth/tiktok_user?username=&t=`` (:func:`tiktok_user_truth`). Every request lands
in the server's request log as ``tiktok:<outcome>`` (challenge detail: with the tag and its
true video count).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tagpulse.platforms.sandbox.payloads import MALFORMED_BODY
from tagpulse.platforms.sandbox.payloads_tiktok import (
    captcha_payload,
    challenge_detail_payload,
    item,
    item_list_payload,
    not_found_user_payload,
    post_cursor,
    user_detail_payload,
)
from tagpulse.platforms.sandbox.platform_gate import platform_gate
from tagpulse.platforms.sandbox.replies import Reply, json_reply
from tagpulse.platforms.sandbox.tiktok_world import (
    TikTokView,
    tiktok_tag_truth,
    tiktok_user_truth,
    tiktok_view,
)

if TYPE_CHECKING:
    from tagpulse.platforms.sandbox.server import SandboxServer

__all__ = ["route_tiktok"]

_MAX_COUNT = 35
# The reply, and the tag and number it was about (for the request log).
_Answer = tuple[Reply, str | None, int | None]
_Content = Callable[[float], _Answer]


def _one(query: dict[str, list[str]], name: str) -> str:
    return (query.get(name) or [""])[0].strip()


def _number(query: dict[str, list[str]], name: str, default: int) -> int:
    raw = _one(query, name)
    return int(raw) if raw.isdecimal() and len(raw) < 20 else default


class _TikTokRoutes:
    def __init__(self, app: SandboxServer, query: dict[str, list[str]]) -> None:
        self.app = app
        self.view: TikTokView = tiktok_view(app.world)
        self.base = app.base_url
        self.query = query

    def _count(self) -> int:
        return max(1, min(_MAX_COUNT, _number(self.query, "count", 30)))

    def challenge(self, now: float) -> _Answer:
        tag = _one(self.query, "challengeName").lstrip("#").lower()
        payload = challenge_detail_payload(self.view, tag, now)
        count = self.view.video_count(tag, now) if self.view.knows(tag) else None
        return json_reply(200, payload), tag or None, count

    def challenge_items(self, now: float) -> _Answer:
        tag = self.view.tag_of(_one(self.query, "challengeID"))
        offset, count = _number(self.query, "cursor", 0), self._count()
        posts = self.view.tag_posts(tag, now) if tag else []
        page = posts[offset : offset + count]
        more = offset + count < len(posts)
        items = [item(self.view, post, now, self.base) for post in page]
        cursor = str(offset + len(page))
        return json_reply(200, item_list_payload(items, cursor, more, now)), tag, len(items)

    def user(self, now: float) -> _Answer:
        handle = _one(self.query, "uniqueId").lstrip("@")
        sec_uid = _one(self.query, "secUid")
        if handle:
            account = self.view.resolve(handle, now)
        else:
            account = self.view.by_sec_uid(sec_uid) if sec_uid else None
            if account is not None and account.deleted(now):
                account = None
        if account is None:
            return json_reply(200, not_found_user_payload(now)), None, None
        payload = user_detail_payload(self.view, account, now, self.base)
        return json_reply(200, payload), None, self.view.social.follower_count(account, now)

    def user_items(self, now: float) -> _Answer:
        account = self.view.by_sec_uid(_one(self.query, "secUid"))
        if account is None:
            return json_reply(200, item_list_payload([], "0", False, now)), None, 0
        cursor_ms = _number(self.query, "cursor", 0)
        posts, more = self.view.user_posts(account, now, cursor_ms, self._count())
        items = [item(self.view, post, now, self.base) for post in posts]
        cursor = str(post_cursor(posts[-1])) if posts else "0"
        return json_reply(200, item_list_payload(items, cursor, more, now)), None, len(items)


_ENDPOINTS: dict[str, Callable[[_TikTokRoutes, float], _Answer]] = {
    "/api/challenge/detail": _TikTokRoutes.challenge,
    "/api/challenge/item_list": _TikTokRoutes.challenge_items,
    "/api/user/detail": _TikTokRoutes.user,
    "/api/post/item_list": _TikTokRoutes.user_items,
}


def _truth(app: SandboxServer, path: str, query: dict[str, list[str]]) -> Reply | None:
    what = path.removeprefix("/__sandbox/truth/")
    if what not in ("tiktok_tag", "tiktok_user"):
        return None
    try:
        t = float(_one(query, "t") or _one(query, "at") or app.clock.time())
        answer: dict[str, Any] | None
        if what == "tiktok_tag":
            answer = tiktok_tag_truth(app.world, _one(query, "tag"), t)
        else:
            answer = tiktok_user_truth(app.world, _one(query, "username"), t)
    except ValueError as exc:
        return json_reply(400, {"message": str(exc), "status": "fail"})
    if answer is None:
        return json_reply(404, {"message": "no such TikTok user at that time", "status": "fail"})
    return json_reply(200, answer)


def _fault_reply(fault: str, content: _Content, now: float, path: str) -> Reply:
    if fault == "429":
        return Reply(429, b"", "text/plain; charset=utf-8")
    if fault == "401":
        return Reply(200, b"")
    if fault == "login":
        return Reply(302, b"", "text/html", {"Location": f"/login?redirect_url={quote(path)}"})
    if fault == "checkpoint":
        return json_reply(200, captcha_payload(now))
    if fault == "reset":
        return Reply(0, reset=True)
    if fault == "malformed":
        return Reply(200, MALFORMED_BODY)
    reply = content(now)[0]  # truncated: the answer cut in half
    return Reply(reply.status, reply.body[: len(reply.body) // 2])


def route_tiktok(
    app: SandboxServer,
    handler: BaseHTTPRequestHandler,
    path: str,
    query: dict[str, list[str]],
) -> Reply | None:
    """The answer to a TikTok web or TikTok truth request; ``None`` for other paths."""
    if path.startswith("/__sandbox/"):
        return _truth(app, path, query)
    method = _ENDPOINTS.get(path.rstrip("/"))
    if method is None:
        return None
    content: _Content = functools.partial(method, _TikTokRoutes(app, query))
    now = app.clock.time()
    ip = str(handler.client_address[0])
    admission = platform_gate(app).admit_tiktok(ip, now)
    tag: str | None = None
    count: int | None = None
    if admission.outcome == "captcha":
        reply = json_reply(200, captcha_payload(now))
    elif admission.fault is not None:
        reply = _fault_reply(admission.fault, content, now, handler.path)
    else:
        reply, tag, count = content(now)
    reply.headers["X-Sandbox-Time"] = repr(now)
    status = 0 if reply.reset else reply.status
    app._record(now, None, handler.path, status, ip, f"tiktok:{admission.outcome}", tag, count)
    return reply
