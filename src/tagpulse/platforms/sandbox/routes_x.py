"""The sandbox's X API v2 (what :class:`tagpulse.platforms.x.client.XClient` talks to).

Endpoints (``Authorization: Bearer <token>`` of a registered app; budgets and faults:
:mod:`platform_gate`; the world behind them: :mod:`x_world`):

* ``GET /2/tweets/counts/recent?query=%23tag[&granularity=minute|hour|day][&start_time=]
  [&end_time=]`` -> ``{"data": [{"end", "start", "tweet_count"}...], "meta":
  {"total_tweet_count"}}``, oldest bucket first, over ``[start_time, end_time)``: by default
  the 7 days before the request (whole seconds), the first and last buckets cut there, as X
  does. ``start_time`` may not be older than 7 days, ``end_time`` must be 10 s in the past.
* ``GET /2/tweets/search/recent?query=%23tag[&max_results=10..100][&next_token=]
  [&start_time=][&end_time=]`` -> the tweets that the counts count, newest first: ``data``,
  ``includes.users`` (with ``expansions=author_id`` and/or ``entities.mentions.username``),
  ``meta`` (``newest_id``, ``oldest_id``, ``result_count``, ``next_token`` while more are
  left; a token resumes below its page's oldest id, whatever was tweeted since).
* ``GET /2/users/by?usernames=a,b`` -> ``data`` for the users found and ``errors`` (``Not Found
  Error``, ``resource_type`` user) for the others; ``GET /2/users/by/username/<u>`` likewise
  for one. Public metrics equal the social world's truth.

Only the fields asked for come back (``tweet.fields``, ``user.fields``; ``id``, ``text``,
``edit_history_tweet_ids``, ``name``, ``username`` always). A query must be one ``#tag`` (or
one word, taken as that tag); other X operators are refused with X's 400 ``Invalid Request``.

Failures: no or unknown token -> 401 ``Unauthorized``; over the window -> 429 ``Too Many
Requests`` with ``x-rate-limit-remaining: 0``. Injected faults: ``429`` -> that 429, ``401`` ->
that 401, ``login`` -> 403 ``Client Forbidden`` (``client-not-enrolled``), ``checkpoint`` -> 503
``Service Unavailable``, ``reset``, ``truncated`` (half the body) and ``malformed`` (``{error}``).

Ground truth (no token): ``/__sandbox/truth/x_counts?tag=&t=[&granularity=&start=&end=]``
(:func:`x_counts_truth`), ``/__sandbox/truth/x_user?username=&t=`` (:func:`x_user_truth`);
``/__sandbox/platforms``: the X and TikTok budgets (:meth:`PlatformGate.stats`). Every request
lands in the server's request log as ``x:<outcome>`` (with the tag and total for counts).
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tagpulse.platforms.sandbox.payloads import MALFORMED_BODY
from tagpulse.platforms.sandbox.payloads_x import (
    CLIENT_FORBIDDEN_BODY,
    NOT_FOUND_BODY,
    SERVICE_UNAVAILABLE_BODY,
    TOO_MANY_REQUESTS_BODY,
    UNAUTHORIZED_BODY,
    invalid_request,
    pick_fields,
    user_not_found,
    x_time,
)
from tagpulse.platforms.sandbox.platform_gate import Admission, platform_gate
from tagpulse.platforms.sandbox.replies import Reply, json_reply
from tagpulse.platforms.sandbox.social_graph import SocialAccount
from tagpulse.platforms.sandbox.x_world import (
    GRANULARITY_S,
    RECENT_S,
    XView,
    x_counts_truth,
    x_user_truth,
    x_view,
)

if TYPE_CHECKING:
    from tagpulse.platforms.sandbox.server import SandboxServer

__all__ = ["route_x"]

_ENDPOINTS = {
    "/2/tweets/counts/recent": "tweets/counts/recent",
    "/2/tweets/search/recent": "tweets/search/recent",
    "/2/users/by": "users/by",
}
_USER_BY_USERNAME = re.compile(r"^/2/users/by/username/([^/]+)/?$")
_TERM = re.compile(r"^\(?\s*#?(\w+)\s*\)?$")
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_END_LAG_S = 10
_TWEET_ALWAYS = ("id", "text", "edit_history_tweet_ids")
_USER_ALWAYS = ("id", "name", "username")
# (tag or None, a number for the log) beside the body.
_Content = Callable[[float], tuple[Reply, str | None, int | None]]


class _Invalid(ValueError):
    def __init__(self, parameter: str, values: Iterable[str], message: str) -> None:
        super().__init__(message)
        self.body = invalid_request(parameter, values, message)


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _time_param(query: dict[str, list[str]], name: str) -> int | None:
    raw = _one(query, name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _Invalid(
            name,
            [raw],
            f"Invalid '{name}':'{raw}'. '{name}' must be a valid RFC 3339 date "
            "(YYYY-MM-DDTHH:mm:ssZ)",
        )
    return math.floor(moment.timestamp())


def _window(query: dict[str, list[str]], now: float) -> tuple[int, int]:
    """``[start, end)`` of a recent request, in whole epoch seconds."""
    latest = math.floor(now)
    earliest = latest - int(RECENT_S)
    end = _time_param(query, "end_time")
    if end is None:
        end = latest
    elif end > latest - _END_LAG_S:
        raw = _one(query, "end_time") or ""
        raise _Invalid(
            "end_time",
            [raw],
            f"Invalid 'end_time':'{raw}'. 'end_time' must be a minimum of {_END_LAG_S} seconds "
            "prior to the request time.",
        )
    start = _time_param(query, "start_time")
    if start is None:
        start = earliest
    elif start < earliest:
        raw = _one(query, "start_time") or ""
        raise _Invalid(
            "start_time",
            [raw],
            f"Invalid 'start_time':'{raw}'. 'start_time' must be on or after {x_time(earliest)}",
        )
    if start >= end:
        raise _Invalid("start_time", [x_time(start)], "'start_time' must be before 'end_time'")
    return start, end


def _query_tag(query: dict[str, list[str]]) -> str:
    raw = (_one(query, "query") or "").strip()
    if not raw:
        raise _Invalid("query", [], "The `query` query parameter can not be empty")
    match = _TERM.match(raw)
    if match is None:
        raise _Invalid(
            "query",
            [raw],
            f"The sandbox understands one #hashtag (or word) per query, not [{raw}]",
        )
    return match.group(1).lower()


def _encode_token(tag: str, oldest_id: int) -> str:
    return base64.b32encode(f"{tag}:{oldest_id}".encode()).decode().rstrip("=").lower()


def _decode_token(token: str, tag: str) -> int:
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        name, _, ident = base64.b32decode(padded).decode().rpartition(":")
        if name != tag:
            raise ValueError(name)
        return int(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _Invalid(
            "next_token", [token], f"The `next_token` query parameter value [{token}] is invalid"
        ) from None


class _XRoutes:
    def __init__(self, app: SandboxServer) -> None:
        self.app = app
        self.view: XView = x_view(app.world)
        self.base = app.base_url

    def _user(self, account: SocialAccount, now: float, fields: str | None) -> dict[str, Any]:
        return pick_fields(self.view.user(account, now, self.base), fields, _USER_ALWAYS)

    def counts(self, query: dict[str, list[str]], now: float) -> tuple[Reply, str, int]:
        tag = _query_tag(query)
        granularity = _one(query, "granularity") or "hour"
        if granularity not in GRANULARITY_S:
            raise _Invalid(
                "granularity",
                [granularity],
                f"The `granularity` query parameter value [{granularity}] is not one of "
                "[minute,hour,day]",
            )
        start, end = _window(query, now)
        buckets = self.view.buckets(tag, start, end, granularity)
        data = [{"end": x_time(e), "start": x_time(s), "tweet_count": n} for s, e, n in buckets]
        total = sum(n for _, _, n in buckets)
        return json_reply(200, {"data": data, "meta": {"total_tweet_count": total}}), tag, total

    def search(self, query: dict[str, list[str]], now: float) -> tuple[Reply, str, int]:
        tag = _query_tag(query)
        raw_max = _one(query, "max_results") or "10"
        if not raw_max.isdecimal() or not 10 <= int(raw_max) <= 100:
            raise _Invalid(
                "max_results",
                [raw_max],
                f"The `max_results` query parameter value [{raw_max}] is not between 10 and 100",
            )
        start, end = _window(query, now)
        token = _one(query, "next_token") or _one(query, "pagination_token")
        before = _decode_token(token, tag) if token else None
        tweets, more = self.view.tweets(tag, start * 1000, end * 1000, now, int(raw_max), before)
        fields = _one(query, "tweet.fields")
        data = [pick_fields(self.view.tweet_object(t), fields, _TWEET_ALWAYS) for t in tweets]
        expansions = {e.strip() for e in (_one(query, "expansions") or "").split(",")}
        users: dict[int, SocialAccount] = {}
        for tweet in tweets:
            if "author_id" in expansions:
                users.setdefault(tweet.author.idx, tweet.author)
            if "entities.mentions.username" in expansions:
                for *_, other in tweet.mentions:
                    users.setdefault(other.idx, other)
        doc: dict[str, Any] = {}
        if data:
            doc["data"] = data
        user_fields = _one(query, "user.fields")
        if users:
            doc["includes"] = {"users": [self._user(u, now, user_fields) for u in users.values()]}
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta = {"newest_id": data[0]["id"], "oldest_id": data[-1]["id"], **meta}
        if more:
            meta["next_token"] = _encode_token(tag, tweets[-1].id)
        doc["meta"] = meta
        return json_reply(200, doc), tag, len(data)

    def users_by(self, query: dict[str, list[str]], now: float) -> tuple[Reply, None, int]:
        raw = _one(query, "usernames") or ""
        names = [name.strip() for name in raw.split(",")] if raw else []
        if not names:
            raise _Invalid("usernames", [], "The `usernames` query parameter can not be empty")
        bad = [name for name in names if not _USERNAME.match(name)]
        if bad:
            raise _Invalid(
                "usernames",
                bad,
                f"The `usernames` query parameter value [{bad[0]}] does not match "
                "^[A-Za-z0-9_]{1,15}$",
            )
        if len(names) > 100:
            raise _Invalid("usernames", names[100:101], "at most 100 usernames per request")
        fields = _one(query, "user.fields")
        data, errors = [], []
        for name in dict.fromkeys(names):
            account = self.view.resolve(name, now)
            if account is None:
                errors.append(user_not_found(name))
            else:
                data.append(self._user(account, now, fields))
        doc: dict[str, Any] = {}
        if data:
            doc["data"] = data
        if errors:
            doc["errors"] = errors
        return json_reply(200, doc), None, len(data)

    def user_by_username(
        self, name: str, query: dict[str, list[str]], now: float
    ) -> tuple[Reply, None, int]:
        if not _USERNAME.match(name):
            raise _Invalid(
                "username",
                [name],
                f"The `username` query parameter value [{name}] does not match "
                "^[A-Za-z0-9_]{1,15}$",
            )
        account = self.view.resolve(name, now)
        if account is None:
            return json_reply(200, {"errors": [user_not_found(name, "username")]}), None, 0
        user = self._user(account, now, _one(query, "user.fields"))
        return json_reply(200, {"data": user}), None, 1


def _truth(app: SandboxServer, path: str, query: dict[str, list[str]]) -> Reply | None:
    if path == "/__sandbox/platforms":
        return json_reply(200, platform_gate(app).stats(app.clock.time()))
    what = path.removeprefix("/__sandbox/truth/")
    if what not in ("x_counts", "x_user"):
        return None
    try:
        t = float(_one(query, "t") or _one(query, "at") or app.clock.time())
        if what == "x_user":
            answer = x_user_truth(app.world, _one(query, "username") or "", t)
        else:
            start, end = _one(query, "start"), _one(query, "end")
            answer = x_counts_truth(
                app.world,
                _one(query, "tag") or "",
                t,
                _one(query, "granularity") or "hour",
                float(start) if start else None,
                float(end) if end else None,
            )
    except ValueError as exc:
        return json_reply(400, {"message": str(exc), "status": "fail"})
    if answer is None:
        return json_reply(404, {"message": "no such X user at that time", "status": "fail"})
    return json_reply(200, answer)


def _fault_reply(fault: str, content: _Content, now: float) -> Reply:
    if fault == "429":
        return json_reply(429, TOO_MANY_REQUESTS_BODY)
    if fault == "401":
        return json_reply(401, UNAUTHORIZED_BODY)
    if fault == "login":
        return json_reply(403, CLIENT_FORBIDDEN_BODY)
    if fault == "checkpoint":
        return json_reply(503, SERVICE_UNAVAILABLE_BODY)
    if fault == "reset":
        return Reply(0, reset=True)
    if fault == "malformed":
        return Reply(200, MALFORMED_BODY)
    reply = content(now)[0]  # truncated: the answer cut in half
    return Reply(reply.status, reply.body[: len(reply.body) // 2])


def _answer(
    admission: Admission, content: _Content, now: float
) -> tuple[Reply, str, str | None, int | None]:
    """The reply, the outcome to log, and the tag and number the answer was about."""
    outcome = admission.outcome
    if outcome == "unauthorized":
        return json_reply(401, UNAUTHORIZED_BODY), outcome, None, None
    if outcome == "throttled":
        return json_reply(429, TOO_MANY_REQUESTS_BODY), outcome, None, None
    if admission.fault is not None:
        return _fault_reply(admission.fault, content, now), outcome, None, None
    try:
        reply, tag, count = content(now)
    except _Invalid as exc:
        return json_reply(400, exc.body), "bad_request", None, None
    except ValueError as exc:  # a time outside the world's span
        body = invalid_request("start_time", [], str(exc))
        return json_reply(400, body), "bad_request", None, None
    return reply, outcome, tag, count


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def route_x(
    app: SandboxServer,
    handler: BaseHTTPRequestHandler,
    path: str,
    query: dict[str, list[str]],
) -> Reply | None:
    """The answer to an X API v2 or X truth request; ``None`` for other paths."""
    if path.startswith("/__sandbox/"):
        return _truth(app, path, query)
    endpoint = _ENDPOINTS.get(path.rstrip("/"))
    match = _USER_BY_USERNAME.match(path)
    if endpoint is None and match is None:
        return json_reply(404, NOT_FOUND_BODY) if path.startswith("/2/") else None
    routes = _XRoutes(app)
    content: _Content
    if match is not None:
        endpoint = "users/by/username"
        content = functools.partial(routes.user_by_username, unquote(match.group(1)), query)
    else:
        assert endpoint is not None
        methods = {
            "tweets/counts/recent": routes.counts,
            "tweets/search/recent": routes.search,
            "users/by": routes.users_by,
        }
        content = functools.partial(methods[endpoint], query)
    now = app.clock.time()
    token = _bearer(handler.headers.get("Authorization"))
    admission = platform_gate(app).admit_x(token, endpoint, now)
    reply, outcome, tag, count = _answer(admission, content, now)
    reply.headers.update(admission.headers)
    reply.headers["X-Sandbox-Time"] = repr(now)
    status = 0 if reply.reset else reply.status
    ip = str(handler.client_address[0])
    app._record(now, admission.alias, handler.path, status, ip, f"x:{outcome}", tag, count)
    return reply
