"""The sandbox platform: a real HTTP server on loopback that speaks the real endpoints' shapes.

Data endpoints (``/api/v1/tags/web_info/`` and ``/explore/tags/<tag>/?__a=1``) want a
``sessionid`` cookie of a known account and the ``X-IG-App-ID`` header. Each answered request
takes a token from its account's bucket and from its client IP's bucket, at simulated time. A
throttled account cools down; requests sent while cooling are violations, and enough violations
get the account banned (``checkpoint_required`` from then on). Injected failures (random, seeded,
or scripted per account) never cost budget. ``/__sandbox/…`` exposes the ground truth and stats.

The account endpoints (profiles, a user's posts, media info, comments, follow lists), the media
files and the social world's ground truth live in :mod:`routes_user`; :meth:`dispatch` hands
their paths over first, and they answer through the same :meth:`data` path (sessions, budgets,
faults) as the hashtag endpoints. X's API v2 (:mod:`routes_x`) and TikTok's web API
(:mod:`routes_tiktok`) identify callers differently (bearer tokens; anonymous IPs): their
budgets and faults pass :mod:`platform_gate`, and ``script_faults`` takes an X app's alias or
``"tiktok"`` too.
"""

from __future__ import annotations

import contextlib
import html
import logging
import math
import random
import re
import socket
import struct
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple, cast
from urllib.parse import parse_qs, quote, urlsplit

import orjson

from tagpulse.platforms.sandbox.clock import Clock
from tagpulse.platforms.sandbox.payloads import (
    APP_ID,
    FAULT_KINDS,
    MALFORMED_BODY,
    NOT_FOUND_BODY,
    RATE_LIMIT_BODY,
    USERAGENT_MISMATCH_BODY,
    WAIT_401_BODY,
    FaultConfig,
    checkpoint_body,
    fault_kind,
    legacy_hashtag_payload,
    web_info_payload,
)
from tagpulse.platforms.sandbox.platform_gate import platform_gate
from tagpulse.platforms.sandbox.replies import Reply as _Reply
from tagpulse.platforms.sandbox.replies import json_reply as _json
from tagpulse.platforms.sandbox.routes_graph import route_graph
from tagpulse.platforms.sandbox.routes_tiktok import route_tiktok
from tagpulse.platforms.sandbox.routes_user import route_user
from tagpulse.platforms.sandbox.routes_x import route_x
from tagpulse.platforms.sandbox.world import AccountSpec, Limits, TokenBucket, World

__all__ = [
    "FAULT_KINDS",
    "FaultConfig",
    "Limits",
    "RequestRecord",
    "SandboxServer",
    "TokenBucket",
    "serve_forever",
]

_log = logging.getLogger(__name__)
_EXPLORE = re.compile(r"^/explore/tags/([^/]+)/?$")
_LOGIN_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Login • Instagram'
    '</title></head><body><form id="loginForm" method="post" action="/accounts/login/ajax/">'
    '<input name="username"><input name="password" type="password">'
    '<button type="submit">Log in</button></form></body></html>'
)


class RequestRecord(NamedTuple):
    """One request to a data endpoint; ``sim_time`` is the time the count was computed at."""

    sim_time: float
    account: str | None
    path: str
    status: int  # 0: the connection was reset, no status sent
    cooling: bool  # the account was cooling down when this arrived
    ip: str
    outcome: str  # ok, not_found, throttled, violation, banned, login, app_id, fault:<kind>
    tag: str | None = None
    media_count: int | None = None  # the true count served (hidden or not); None if no data

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


@dataclass(slots=True)
class _AccountState:
    spec: AccountSpec
    bucket: TokenBucket
    cooling_until: float = -math.inf
    violations: int = 0
    banned: bool = False
    requests: int = 0
    served_ok: int = 0
    not_found: int = 0
    throttled: int = 0
    faults: int = 0
    script: deque[str] = field(default_factory=deque)


@dataclass(slots=True)
class _IpState:
    bucket: TokenBucket
    requests: int = 0
    served_ok: int = 0
    throttled: int = 0


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    app: SandboxServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; the sandbox must stay silent (clients that
        # hang up mid-answer are routine here), so it goes to the debug log instead.
        _log.debug("sandbox: error while answering %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tagpulse-sandbox/0.1"
    sys_version = ""
    timeout = 60  # idle keep-alive connections end on their own
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def setup(self) -> None:
        super().setup()
        self._app().track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._app().track(self.connection, add=False)

    def _app(self) -> SandboxServer:
        return cast(_HTTPServer, self.server).app

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the sandbox never prints; see :meth:`SandboxServer.request_log`."""

    def do_GET(self) -> None:
        self._reply(self._app().dispatch(self))

    def do_HEAD(self) -> None:
        self._reply(_Reply(405, orjson.dumps({"message": "method not allowed", "status": "fail"})))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._reply(_Reply(405, orjson.dumps({"message": "method not allowed", "status": "fail"})))

    def _reply(self, reply: _Reply) -> None:
        if reply.reset:
            # SO_LINGER 0: closing sends RST, so the client sees a reset, not a clean close.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)


class SandboxServer:
    """The sandbox platform on ``host:port`` (port 0: any free port), backed by ``world``."""

    def __init__(
        self,
        world: World,
        clock: Clock,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.world = world
        self.clock = clock
        self.faults = faults or FaultConfig()
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._rng = random.Random(self.faults.seed)
        self._fault_weights = self.faults.weighted_kinds()
        self.started_at = clock.time()
        self._accounts = {
            spec.alias: _AccountState(
                spec, TokenBucket(spec.capacity, spec.refill_per_hour, self.started_at)
            )
            for spec in world.accounts
        }
        self._ips: dict[str, _IpState] = {}
        self._log: deque[RequestRecord] = deque(maxlen=self.limits.log_limit)
        self._connections: set[socket.socket] = set()
        self._thread: threading.Thread | None = None
        self._serving = threading.Event()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.app = self

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        """Serve in a background daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.serve_forever,
                name=f"sandbox-{self.port}",
                daemon=True,
            )
            self._thread.start()
            self._serving.wait(timeout=5)
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` is called from another thread."""
        self._serving.set()
        try:
            self._httpd.serve_forever(poll_interval=0.05)
        finally:
            self._serving.clear()

    def stop(self) -> None:
        """Stop serving, drop open connections and free the port."""
        if self._serving.is_set():
            self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    # -- test controls ---------------------------------------------------------------------

    def script_faults(self, account_alias: str, faults: Sequence[str]) -> None:
        """Make the account's next data requests fail in this order (see FAULT_KINDS)."""
        kinds = [fault_kind(kind) for kind in faults]
        if platform_gate(self).script_faults(account_alias, kinds):
            return  # an X app's alias, or "tiktok"
        with self._lock:
            state = self._accounts.get(account_alias)
            if state is None:
                raise KeyError(f"unknown account {account_alias!r}; known: {list(self._accounts)}")
            state.script.extend(kinds)

    def request_log(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return self._stats_locked(self.clock.time())

    def _stats_locked(self, now: float) -> dict[str, Any]:
        elapsed_h = max(0.0, now - self.started_at) / 3600.0
        accounts: dict[str, dict[str, Any]] = {}
        for alias, state in self._accounts.items():
            accounts[alias] = {
                "requests": state.requests,
                "served_ok": state.served_ok,
                "not_found": state.not_found,
                "throttled": state.throttled,
                "violations": state.violations,
                "faults": state.faults,
                "banned": state.banned,
                "cooling": now < state.cooling_until,
                "cooling_until": state.cooling_until if state.cooling_until > -math.inf else None,
                "tokens": state.bucket.available(now),
                "allowed_budget_so_far": state.spec.capacity
                + state.spec.refill_per_hour * elapsed_h,
            }
        ip_allowed = self.limits.ip_capacity + self.limits.ip_refill_per_hour * elapsed_h
        ips = {
            ip: {
                "requests": state.requests,
                "served_ok": state.served_ok,
                "throttled": state.throttled,
                "tokens": state.bucket.available(now),
                "allowed_budget_so_far": ip_allowed,
            }
            for ip, state in self._ips.items()
        }
        account_allowed = sum(a["allowed_budget_so_far"] for a in accounts.values())
        totals: dict[str, Any] = {
            key: sum(a[key] for a in accounts.values())
            for key in ("requests", "served_ok", "not_found", "throttled", "violations", "faults")
        }
        totals["banned"] = sum(1 for a in accounts.values() if a["banned"])
        totals["allowed_budget_so_far"] = account_allowed
        totals["ip_allowed_budget_so_far"] = ip_allowed * len(ips)
        totals["effective_allowed_budget_so_far"] = (
            min(account_allowed, ip_allowed * len(ips)) if ips else account_allowed
        )
        return {
            "sim_time": now,
            "started_at": self.started_at,
            "elapsed_s": max(0.0, now - self.started_at),
            "accounts": accounts,
            "ips": ips,
            "totals": totals,
        }

    # -- dispatch --------------------------------------------------------------------------

    def dispatch(self, handler: BaseHTTPRequestHandler) -> _Reply:
        url = urlsplit(handler.path)
        query = parse_qs(url.query)
        path = url.path
        reply = route_graph(self, handler, path, query)  # the official Graph API (tokens)
        if reply is not None:
            return reply
        for route in (route_x, route_tiktok):  # X API v2 and TikTok web, with their truth
            reply = route(self, handler, path, query)
            if reply is not None:
                return reply
        reply = route_user(self, handler, path, query)  # accounts, posts, media, social truth
        if reply is not None:
            return reply
        if path.startswith("/__sandbox/"):
            return self._control(path, query)
        if path in ("/accounts/login/", "/accounts/login"):
            return _Reply(200, _LOGIN_PAGE.encode(), "text/html; charset=utf-8")
        if path == "/api/v1/tags/web_info/":
            return self.data(handler, "web_info", (query.get("tag_name") or [""])[0])
        match = _EXPLORE.match(path)
        if match:
            tag = match.group(1)
            if (query.get("__a") or [""])[0] == "1":
                return self.data(handler, "legacy", tag)
            page = f"<!DOCTYPE html><html><head><title>#{html.escape(tag)} • Instagram</title>"
            page += "</head><body></body></html>"
            return _Reply(200, page.encode(), "text/html; charset=utf-8")
        if path == "/":
            return _Reply(200, b"<!DOCTYPE html><html><body>sandbox</body></html>", "text/html")
        return _json(404, NOT_FOUND_BODY)

    def _control(self, path: str, query: dict[str, list[str]]) -> _Reply:
        if path == "/__sandbox/clock":
            to_dict = getattr(self.clock, "to_dict", None)
            payload = to_dict() if callable(to_dict) else {"speed": float(self.clock.speed)}
            return _json(200, payload)
        if path == "/__sandbox/truth":
            tag = (query.get("tag") or [""])[0]
            try:
                at = float((query.get("at") or [""])[0] or self.clock.time())
                count = self.world.true_count(tag, at)
            except KeyError:
                return _json(404, NOT_FOUND_BODY)
            except ValueError as exc:
                return _json(400, {"message": str(exc), "status": "fail"})
            return _json(200, {"tag": tag.lower(), "at": at, "count": count})
        if path == "/__sandbox/stats":
            return _json(200, self.stats())
        if path == "/__sandbox/log":
            since = int((query.get("since") or ["0"])[0] or 0)
            return _json(200, [record.to_dict() for record in self.request_log()[since:]])
        if path == "/__sandbox/tags":
            return _json(
                200,
                [
                    {"name": spec.name, "count_hidden": spec.count_hidden}
                    for spec in self.world.tags.values()
                ],
            )
        return _json(404, NOT_FOUND_BODY)

    def _session(self, handler: BaseHTTPRequestHandler) -> AccountSpec | None:
        raw = handler.headers.get("Cookie")
        if not raw:
            return None
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(raw)
        except CookieError:
            return None
        morsel = cookie.get("sessionid")
        return None if morsel is None else self.world.account_by_session(morsel.value)

    def _record(
        self,
        now: float,
        alias: str | None,
        path: str,
        status: int,
        ip: str,
        outcome: str,
        tag: str | None = None,
        count: int | None = None,
    ) -> None:
        record = RequestRecord(now, alias, path, status, False, ip, outcome, tag, count)
        with self._lock:
            self._log.append(record)

    def _draw_fault(self) -> str | None:
        if not any(p > 0 for _, p in self._fault_weights):
            return None
        u = self._rng.random()
        for kind, p in self._fault_weights:
            if u < p:
                return kind
            u -= p
        return None

    def data(
        self,
        handler: BaseHTTPRequestHandler,
        kind: str,
        tag: str,
        content: Callable[[float], _Reply] | None = None,
    ) -> _Reply:
        """Answer a data request through sessions, budgets and faults; ``content`` builds the
        answer at the request's simulated time (default: the hashtag named ``tag``)."""
        now = self.clock.time()
        time_header = {"X-Sandbox-Time": repr(now)}
        ip = str(handler.client_address[0])
        account = self._session(handler)
        if account is None:
            self._record(now, None, handler.path, 302, ip, "login")
            location = f"/accounts/login/?next={quote(handler.path, safe='')}"
            return _Reply(302, b"", "text/html; charset=utf-8", {"Location": location})
        if handler.headers.get("X-IG-App-ID") != APP_ID:
            self._record(now, account.alias, handler.path, 400, ip, "app_id")
            return _json(400, USERAGENT_MISMATCH_BODY, time_header)
        with self._lock:
            state = self._accounts[account.alias]
            ip_state = self._ips.get(ip)
            if ip_state is None:
                limits = self.limits
                bucket = TokenBucket(limits.ip_capacity, limits.ip_refill_per_hour, now)
                ip_state = self._ips[ip] = _IpState(bucket)
            state.requests += 1
            ip_state.requests += 1
            cooling = now < state.cooling_until
            fault: str | None = None
            if state.banned:
                outcome = "banned"
            else:
                fault = state.script.popleft() if state.script else self._draw_fault()
                if fault is not None:
                    state.faults += 1
                    outcome = f"fault:{fault}"
                elif cooling:
                    state.violations += 1
                    if state.violations >= self.limits.ban_after_violations:
                        state.banned = True
                    outcome = "violation"
                elif state.bucket.available(now) < 1 or ip_state.bucket.available(now) < 1:
                    state.throttled += 1
                    ip_state.throttled += 1
                    state.cooling_until = now + self.limits.cooldown_s
                    outcome = "throttled"
                else:
                    state.bucket.take(now)
                    ip_state.bucket.take(now)
                    outcome = "ok"
        reply, count, tag_name = self._answer(account, kind, tag, now, outcome, fault, content)
        if reply.status == 404 and outcome == "ok":
            outcome = "not_found"
        with self._lock:
            if outcome == "ok":
                state.served_ok += 1
                ip_state.served_ok += 1
            elif outcome == "not_found":
                state.not_found += 1
            status = 0 if reply.reset else reply.status
            self._log.append(
                RequestRecord(
                    now, account.alias, handler.path, status, cooling, ip, outcome, tag_name, count
                )
            )
        reply.headers.update(time_header)
        return reply

    def _answer(
        self,
        account: AccountSpec,
        kind: str,
        tag: str,
        now: float,
        outcome: str,
        fault: str | None,
        content: Callable[[float], _Reply] | None = None,
    ) -> tuple[_Reply, int | None, str | None]:
        if outcome == "banned":
            return _json(400, checkpoint_body(account.pk, "sandbox", lock=True)), None, None
        if outcome in ("violation", "throttled") or fault == "429":
            return _json(429, RATE_LIMIT_BODY), None, None
        if fault == "401":
            return _json(401, WAIT_401_BODY), None, None
        if fault == "login":
            return _Reply(302, b"", "text/html", {"Location": "/accounts/login/"}), None, None
        if fault == "checkpoint":
            return _json(400, checkpoint_body(account.pk, "injected", lock=False)), None, None
        if fault == "reset":
            return _Reply(0, reset=True), None, None
        if fault == "malformed":
            return _Reply(200, MALFORMED_BODY), None, None
        count: int | None = None
        name: str | None = None
        if content is not None:
            reply = content(now)
        else:
            reply, count, name = self._tag_answer(kind, tag, now)
        if fault == "truncated":
            # A body cut in half, announced with its cut length: the client gets invalid JSON.
            reply = _Reply(200, reply.body[: len(reply.body) // 2])
            count = None
        return reply, count, name

    def _tag_answer(self, kind: str, tag: str, now: float) -> tuple[_Reply, int | None, str | None]:
        try:
            spec = self.world.tag(tag)
        except KeyError:
            reply = _json(404, NOT_FOUND_BODY)
            count: int | None = None
            name: str | None = None
        else:
            name = spec.name
            count = self.world.true_count(name, now)
            shown = None if spec.count_hidden else count
            tag_id = self.world.hashtag_id(name)
            top = self.world.top_posts(name, now)
            recent = self.world.recent_posts(name, now)
            if kind == "web_info":
                payload = web_info_payload(tag_id, name, shown, top, recent)
            else:
                payload = legacy_hashtag_payload(tag_id, name, shown, recent, top)
            reply = _json(200, payload)
        return reply, count, name


def serve_forever(
    world: World,
    clock: Clock,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: FaultConfig | None = None,
    limits: Limits | None = None,
    on_ready: Callable[[SandboxServer], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve until ``stop`` is set or Ctrl-C, then return. Prints nothing: ``on_ready`` gets the
    started server (e.g. to print ``server.base_url``) before serving begins."""
    server = SandboxServer(world, clock, host=host, port=port, faults=faults, limits=limits)
    try:
        if on_ready is not None:
            on_ready(server)
        if stop is None:
            server.serve_forever()
        else:
            server.start()
            stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
