"""The sandbox's Instagram Graph API (official API for business/creator accounts).

Served under ``/graph/v<major>.<minor>/`` (the client's base URL is ``<sandbox>/graph/v21.0``),
from the social world and the hashtag world, at the server clock's time:

* ``GET /ig_hashtag_search?user_id=&q=`` -> ``{"data": [{"id"}]}``: any well-formed hashtag has
  an id (the hashtag world's tags keep :meth:`World.hashtag_id`'s); ids are static.
* ``GET /<hashtag id>/top_media`` and ``/recent_media`` (``user_id``, ``fields``, ``limit`` up
  to 50, ``after``) -> ``{"data", "paging": {"cursors": {"after"}, "next"}}``: the public posts
  of the social world whose caption carries the tag; recent: the last 24 h, newest first;
  top: the last 7 days' 50 most liked (likes as of the request). ``next`` only when more.
* ``GET /<ig user id>?fields=business_discovery.username(<h>){...,media.after(c).limit(n){...}}``
  -> ``{"business_discovery": {...}, "id"}``: a public business account of the social world,
  its counts equal to the ground truth at that time, its media newest first.
* ``GET /<hashtag id>?fields=id,name`` -> the hashtag node.

Only requested fields are returned; unknown ones are refused (``(#100)``), as are ``username``
and ``owner`` on hashtag media. Access: ``access_token`` (query) or ``Authorization: Bearer``;
any ``sandbox-token-<n>`` is valid (acting for IG user :func:`sandbox_ig_user_id`), others are
registered with :meth:`GraphSandbox.register_token` (optionally expiring). ``user_id`` and the
business discovery node must be the token's own IG user.

Limits, with the real error bodies: per IG user, 30 unique hashtags per 7 days (search and
media reads alike; a repeat is free) -> code 24 / subcode 2207024; per app, a call budget per
rolling hour, reported in ``X-App-Usage`` on every answer -> ``(#4) Application request limit
reached`` (HTTP 400) once used up. Expired or unknown tokens -> code 190; an unknown or
non-business username -> code 110 / subcode 2207013; scripted faults
(:meth:`GraphSandbox.script_errors`) answer the documented user/page/API/business-use-case
limits and service errors. Every request lands in the server's request log (token-free path)
and in :attr:`GraphSandbox.log`.
"""

from __future__ import annotations

import re
import threading
import weakref
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlencode

import orjson

from tagpulse.platforms.sandbox.graph_pages import (
    GRAPH_FAULTS,
    SECRET_PARAMS,
    BadGraphRequest,
    HashtagPageSpec,
    check_fields,
    hashtag_page,
    media_page,
    page_limit,
    parse_fields,
)
from tagpulse.platforms.sandbox.payloads import hashtag_id as make_hashtag_id
from tagpulse.platforms.sandbox.payloads_graph import (
    HASHTAG_MEDIA_FIELDS_ALLOWED,
    PROFILE_FIELDS_ALLOWED,
    Field,
    app_usage_header,
    graph_error,
    graph_profile,
    graph_time,
)
from tagpulse.platforms.sandbox.replies import Reply, json_reply
from tagpulse.platforms.sandbox.world import DAY, HOUR, WEEK

if TYPE_CHECKING:
    from tagpulse.platforms.sandbox.server import SandboxServer

__all__ = [
    "GraphLimits",
    "GraphRecord",
    "GraphSandbox",
    "GraphToken",
    "graph_sandbox",
    "route_graph",
    "sandbox_ig_user_id",
    "sandbox_token",
]

_PREFIX = re.compile(r"^/graph/(v\d+\.\d+)(/.*)?$")
_EDGE = re.compile(r"^/(\d{1,25})/(top_media|recent_media)/?$")
_NODE = re.compile(r"^/(\d{1,25})/?$")
_SANDBOX_TOKEN = re.compile(r"^sandbox-token-(\d{1,9})$")
_TAG = re.compile(r"^\w{1,100}$")
_BUC_REGAIN_MINUTES = 12


def sandbox_token(n: int) -> str:
    """A valid sandbox access token (the ``n``-th app user's)."""
    return f"sandbox-token-{n}"


def sandbox_ig_user_id(n: int) -> str:
    """The Instagram business account ``sandbox-token-<n>`` acts for."""
    return f"17841499{n:09d}"


@dataclass(frozen=True, slots=True)
class GraphLimits:
    """The Graph sandbox's budgets (simulated seconds)."""

    app_calls_per_hour: int = 4800
    hashtag_limit: int = 30
    hashtag_window_s: float = WEEK
    recent_window_s: float = DAY
    top_window_s: float = WEEK
    top_total: int = 50
    page_size: int = 25


@dataclass(frozen=True, slots=True)
class GraphToken:
    token: str
    ig_user_id: str
    alias: str
    expires_at: float | None = None


class GraphRecord(NamedTuple):
    """One Graph request as the sandbox saw it (``tag`` for hashtag requests)."""

    sim_time: float
    alias: str | None
    ig_user_id: str | None
    endpoint: str
    tag: str | None
    status: int
    outcome: str  # ok, not_found, bad_request, hashtag_limit, throttled, token_*, fault:<kind>


@dataclass(slots=True)
class _Answer:
    reply: Reply
    endpoint: str
    outcome: str = "ok"
    tag: str | None = None


def _error(status: int, body: dict[str, Any], endpoint: str, outcome: str) -> _Answer:
    return _Answer(json_reply(status, body), endpoint, outcome)


def _arg(query: dict[str, list[str]], name: str) -> str:
    return (query.get(name) or [""])[0]


@dataclass(slots=True)
class GraphSandbox:
    """The Graph API's state on one sandbox server: tokens, hashtag windows, the app budget."""

    app: SandboxServer
    limits: GraphLimits = field(default_factory=GraphLimits)
    tokens: dict[str, GraphToken] = field(default_factory=dict)
    log: list[GraphRecord] = field(default_factory=list)
    _searched: dict[str, dict[str, float]] = field(default_factory=dict)
    _tags_by_id: dict[str, str] = field(default_factory=dict)
    _calls: deque[float] = field(default_factory=deque)
    _script: deque[str] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- controls ----------------------------------------------------------------------------

    def register_token(
        self,
        token: str,
        *,
        ig_user_id: str | None = None,
        alias: str | None = None,
        expires_at: float | None = None,
    ) -> GraphToken:
        """Make ``token`` valid (until ``expires_at``, simulated epoch seconds, if given)."""
        n = len(self.tokens) + 1
        entry = GraphToken(
            token,
            ig_user_id or sandbox_ig_user_id(900_000 + n),
            alias or f"graph-{n}",
            expires_at,
        )
        with self._lock:
            self.tokens[token] = entry
        return entry

    def script_errors(self, kinds: Sequence[str]) -> None:
        """The next Graph requests (after the token check) fail in this order: ``user_limit``
        (17), ``page_limit`` (32), ``api_limit`` (613), ``buc_limit`` (80002, with
        ``X-Business-Use-Case-Usage`` at 100 %), ``service`` (2, HTTP 500)."""
        unknown = [kind for kind in kinds if kind not in GRAPH_FAULTS]
        if unknown:
            raise KeyError(f"unknown Graph faults {unknown}; known: {sorted(GRAPH_FAULTS)}")
        with self._lock:
            self._script.extend(kinds)

    def hashtags_in_window(self, ig_user_id: str, t: float | None = None) -> list[str]:
        """The hashtags ``ig_user_id`` queried in the 7 days before ``t``, oldest first."""
        now = self.app.clock.time() if t is None else t
        with self._lock:
            window = self._searched.get(ig_user_id, {})
            live = [
                (at, tag) for tag, at in window.items() if at > now - self.limits.hashtag_window_s
            ]
        return [tag for _, tag in sorted(live)]

    def app_calls(self, t: float | None = None) -> int:
        """Calls counted against the app budget in the hour before ``t``."""
        now = self.app.clock.time() if t is None else t
        with self._lock:
            return sum(1 for at in self._calls if at > now - HOUR)

    def records(self) -> list[GraphRecord]:
        with self._lock:
            return list(self.log)

    def hashtag_id(self, tag: str) -> str:
        """A hashtag's static id (the rule of :meth:`World.hashtag_id`, for every tag)."""
        return make_hashtag_id(zlib.crc32(f"{self.app.world.seed}:{tag}".encode()) * 7919)

    # -- requests ----------------------------------------------------------------------------

    def _token(self, raw: str) -> GraphToken | None:
        with self._lock:
            known = self.tokens.get(raw)
        if known is not None:
            return known
        match = _SANDBOX_TOKEN.match(raw)
        if match is None:
            return None
        n = int(match.group(1))
        return GraphToken(raw, sandbox_ig_user_id(n), f"graph-token-{n}")

    def handle(
        self,
        handler: BaseHTTPRequestHandler,
        version: str,
        rest: str,
        query: dict[str, list[str]],
    ) -> Reply:
        now = self.app.clock.time()
        raw = _arg(query, "access_token")
        authorization = handler.headers.get("Authorization") or ""
        if not raw and authorization.split(" ", 1)[0].lower() in ("bearer", "oauth"):
            raw = authorization.split(" ", 1)[-1].strip()
        token = self._token(raw) if raw else None
        endpoint = rest.strip("/").split("/")[-1] or "root"
        answer: _Answer
        if not raw:
            body = graph_error("An access token is required to request this resource.", 104)
            answer = _error(400, body, endpoint, "token_missing")
        elif token is None:
            body = graph_error("Invalid OAuth access token - Cannot parse access token", 190)
            answer = _error(400, body, endpoint, "token_invalid")
        elif token.expires_at is not None and now >= token.expires_at:
            expired = graph_time(token.expires_at)
            message = f"Error validating access token: Session has expired on {expired}."
            answer = _error(400, graph_error(message, 190, subcode=463), endpoint, "token_expired")
        else:
            answer = self._budgeted(token, version, rest, query, now, endpoint)
        if answer.reply.status != 200 and answer.outcome.startswith("token_"):
            answer.reply.headers["WWW-Authenticate"] = (
                'OAuth "Facebook Platform" "invalid_token" "' + answer.outcome + '"'
            )
        self._log(handler, token, query, rest, version, answer, now)
        return answer.reply

    def _budgeted(
        self,
        token: GraphToken,
        version: str,
        rest: str,
        query: dict[str, list[str]],
        now: float,
        endpoint: str,
    ) -> _Answer:
        limit = self.limits.app_calls_per_hour
        with self._lock:
            while self._calls and self._calls[0] <= now - HOUR:
                self._calls.popleft()
            if len(self._calls) >= limit:
                answer = _error(
                    400,
                    graph_error("(#4) Application request limit reached", 4, transient=True),
                    endpoint,
                    "throttled",
                )
                answer.reply.headers["X-App-Usage"] = app_usage_header(len(self._calls), limit)
                return answer
            self._calls.append(now)
            calls = len(self._calls)
            fault = self._script.popleft() if self._script else None
        if fault is not None:
            status, body = GRAPH_FAULTS[fault]
            answer = _error(status, body, endpoint, f"fault:{fault}")
            if fault == "buc_limit":
                usage = {
                    token.ig_user_id: [
                        {
                            "type": "instagram",
                            "call_count": 100,
                            "total_cputime": 12,
                            "total_time": 40,
                            "estimated_time_to_regain_access": _BUC_REGAIN_MINUTES,
                        }
                    ]
                }
                answer.reply.headers["X-Business-Use-Case-Usage"] = orjson.dumps(usage).decode()
        else:
            try:
                answer = self._route(token, version, rest, query, now, endpoint)
            except BadGraphRequest as exc:
                answer = _error(400, graph_error(str(exc), 100), endpoint, "bad_request")
            except ValueError as exc:  # a time outside the world's span
                answer = _error(400, graph_error(f"(#100) {exc}", 100), endpoint, "bad_request")
        answer.reply.headers["X-App-Usage"] = app_usage_header(calls, limit)
        return answer

    def _log(
        self,
        handler: BaseHTTPRequestHandler,
        token: GraphToken | None,
        query: dict[str, list[str]],
        rest: str,
        version: str,
        answer: _Answer,
        now: float,
    ) -> None:
        visible = [(k, v) for k, values in query.items() if k not in SECRET_PARAMS for v in values]
        path = f"/graph/{version}{rest}" + (f"?{urlencode(visible)}" if visible else "")
        alias = token.alias if token is not None else None
        status = answer.reply.status
        with self._lock:
            self.log.append(
                GraphRecord(
                    now,
                    alias,
                    token.ig_user_id if token is not None else None,
                    answer.endpoint,
                    answer.tag,
                    status,
                    answer.outcome,
                )
            )
        ip = str(handler.client_address[0])
        self.app._record(now, alias, path, status, ip, f"graph:{answer.outcome}")

    def _route(
        self,
        token: GraphToken,
        version: str,
        rest: str,
        query: dict[str, list[str]],
        now: float,
        endpoint: str,
    ) -> _Answer:
        if rest.rstrip("/") == "/ig_hashtag_search":
            return self._search(token, query, now)
        match = _EDGE.match(rest)
        if match:
            return self._edge(token, version, match.group(1), match.group(2), query, now)
        match = _NODE.match(rest)
        if match:
            return self._node(token, match.group(1), query, now)
        body = graph_error(f"Unknown path components: {rest[:80]}", 2500)
        return _error(400, body, endpoint, "bad_request")

    def _user_id(self, token: GraphToken, query: dict[str, list[str]]) -> None:
        user_id = _arg(query, "user_id")
        if not user_id:
            raise BadGraphRequest("(#100) The parameter user_id is required")
        if user_id != token.ig_user_id:
            raise BadGraphRequest(
                f"(#100) user_id {user_id[:30]} is not the Instagram account of this access token"
            )

    def _take_hashtag(self, token: GraphToken, tag: str, now: float) -> bool:
        """Count a query of ``tag`` against the user's 7-day window; False when refused."""
        with self._lock:
            window = self._searched.setdefault(token.ig_user_id, {})
            since = now - self.limits.hashtag_window_s
            first = window.get(tag)
            if first is not None and first > since:
                return True
            live = sum(1 for at in window.values() if at > since)
            if live >= self.limits.hashtag_limit:
                return False
            window[tag] = now
            return True

    def _hashtag_refused(self, endpoint: str, tag: str) -> _Answer:
        body = graph_error(
            "Invalid parameter",
            24,
            subcode=2207024,
            title="Hashtag limit reached",
            user_msg=(
                f"This account has queried the maximum of {self.limits.hashtag_limit} unique "
                "hashtags in the last 7 days."
            ),
            trace=tag,
        )
        answer = _error(400, body, endpoint, "hashtag_limit")
        answer.tag = tag
        return answer

    def _search(self, token: GraphToken, query: dict[str, list[str]], now: float) -> _Answer:
        self._user_id(token, query)
        tag = _arg(query, "q").strip().lstrip("#").lower()
        if not _TAG.match(tag):
            raise BadGraphRequest(f"(#100) q {tag[:40]!r} is not a hashtag")
        if not self._take_hashtag(token, tag, now):
            return self._hashtag_refused("ig_hashtag_search", tag)
        hashtag_id = self.hashtag_id(tag)
        with self._lock:
            self._tags_by_id[hashtag_id] = tag
        answer = _Answer(json_reply(200, {"data": [{"id": hashtag_id}]}), "ig_hashtag_search")
        answer.tag = tag
        return answer

    def _tag_of(self, hashtag_id: str) -> str | None:
        with self._lock:
            tag = self._tags_by_id.get(hashtag_id)
        if tag is None:
            for name in self.app.world.tags:
                if self.hashtag_id(name) == hashtag_id:
                    return name
        return tag

    def _missing(self, object_id: str, endpoint: str) -> _Answer:
        body = graph_error(
            f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation.",
            100,
            subcode=33,
        )
        return _error(400, body, endpoint, "not_found")

    def _edge(
        self,
        token: GraphToken,
        version: str,
        hashtag_id: str,
        edge: str,
        query: dict[str, list[str]],
        now: float,
    ) -> _Answer:
        self._user_id(token, query)
        tag = self._tag_of(hashtag_id)
        if tag is None:
            return self._missing(hashtag_id, edge)
        spec = HashtagPageSpec(
            tag=tag,
            hashtag_id=hashtag_id,
            edge=edge,
            fields=parse_fields(_arg(query, "fields") or "id"),
            limit=page_limit(_arg(query, "limit"), self.limits.page_size),
            after=_arg(query, "after") or None,
            recent_window_s=self.limits.recent_window_s,
            top_window_s=self.limits.top_window_s,
            top_total=self.limits.top_total,
        )
        check_fields(spec.fields, HASHTAG_MEDIA_FIELDS_ALLOWED, "IGMedia (hashtag media)")
        if not self._take_hashtag(token, tag, now):
            return self._hashtag_refused(edge, tag)
        base = self.app.base_url
        url = f"{base}/graph/{version}/{hashtag_id}/{edge}"
        body = hashtag_page(self.app.world.social, spec, now, base, url, query)
        answer = _Answer(json_reply(200, body), edge)
        answer.tag = tag
        return answer

    def _node(
        self, token: GraphToken, node_id: str, query: dict[str, list[str]], now: float
    ) -> _Answer:
        fields = parse_fields(_arg(query, "fields") or "id")
        discovery = next((f for f in fields if f.name == "business_discovery"), None)
        if node_id == token.ig_user_id:
            if discovery is None:
                return _Answer(json_reply(200, {"id": node_id}), "user")
            return self._discovery(token, discovery, now)
        tag = self._tag_of(node_id)
        if tag is None or discovery is not None:
            return self._missing(node_id, "node")
        node: dict[str, Any] = {"id": node_id}
        if any(f.name == "name" for f in fields):
            node["name"] = tag
        answer = _Answer(json_reply(200, node), "hashtag")
        answer.tag = tag
        return answer

    def _discovery(self, token: GraphToken, request: Field, now: float) -> _Answer:
        username = (request.modifier("username") or "").strip().lstrip("@")
        if not username:
            raise BadGraphRequest("(#100) business_discovery needs .username(<username>)")
        fields = request.children or (Field("id"),)
        check_fields(fields, PROFILE_FIELDS_ALLOWED, "IGUser (business discovery)")
        world = self.app.world.social
        account, state = world.resolve(username, now)
        if account is None or state != "active" or account.is_private or not account.is_business:
            body = graph_error(
                "Invalid user id",
                110,
                subcode=2207013,
                title="Cannot find User",
                user_msg=f"The user with username: {username[:40]} cannot be found.",
            )
            return _error(400, body, "business_discovery", "not_found")
        wanted = next((f for f in fields if f.name == "media"), None)
        media = None
        if wanted is not None:
            media = media_page(
                world, account, wanted, self.limits.page_size, now, self.app.base_url
            )
        found = graph_profile(world, account, now, self.app.base_url, fields, media)
        return _Answer(
            json_reply(200, {"business_discovery": found, "id": token.ig_user_id}),
            "business_discovery",
        )


_STATES: weakref.WeakKeyDictionary[SandboxServer, GraphSandbox] = weakref.WeakKeyDictionary()
_STATES_LOCK = threading.Lock()


def graph_sandbox(app: SandboxServer, limits: GraphLimits | None = None) -> GraphSandbox:
    """The Graph API state of ``app`` (made on first use); ``limits`` replace its budgets."""
    with _STATES_LOCK:
        state = _STATES.get(app)
        if state is None:
            # A proxy: the state must not keep its server (the key) alive.
            state = _STATES[app] = GraphSandbox(weakref.proxy(app), limits or GraphLimits())
        elif limits is not None:
            state.limits = limits
        return state


def route_graph(
    app: SandboxServer,
    handler: BaseHTTPRequestHandler,
    path: str,
    query: dict[str, list[str]],
) -> Reply | None:
    """The answer to a ``/graph/v<x>.<y>/...`` request; ``None`` for other paths."""
    match = _PREFIX.match(path)
    if match is None:
        return None
    return graph_sandbox(app).handle(handler, match.group(1), match.group(2) or "/", query)
