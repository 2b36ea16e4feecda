"""The API: FastAPI under ``/api/v1`` (OpenAPI at ``/docs``), reading the lake while the
collector writes it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tagpulse.config import Settings
from tagpulse.discover.feeddata_store import FeedDataStore
from tagpulse.discover.graph_store import GraphStore
from tagpulse.lake.query import LakeQuery
from tagpulse.service import (
    routes_campaigns,
    routes_data,
    routes_feed,
    routes_insights,
    routes_manage,
    routes_posts,
)
from tagpulse.service.deps import PrincipalCache
from tagpulse.service.guards import BodyLimit, RateLimiter, error_body, install_error_handlers
from tagpulse.service.watchlists import WatchlistStore

__all__ = ["ServiceOptions", "create_app"]

API = "/api/v1"
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@dataclass(slots=True, frozen=True)
class ServiceOptions:
    #: Requests a minute per caller, on average, and at once.
    rate_per_minute: float = 600.0
    burst: float = 120.0
    max_body_bytes: int = 64 * 1024
    #: Session cookies only over HTTPS (browsers also accept them on http://localhost).
    secure_cookies: bool = True
    #: Where the union of the workspaces' watchlists is written for the collector.
    watchlist_file: Path | None = None
    #: Seconds a timeline answer is reused for identical requests.
    cache_ttl_s: float = 5.0


@dataclass(slots=True)
class Metrics:
    """Request counts and total latency per (method, route, status)."""

    counts: dict[tuple[str, str, int], int] = field(default_factory=dict)
    seconds: dict[tuple[str, str, int], float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        key = (method, route, status)
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            self.seconds[key] = self.seconds.get(key, 0.0) + elapsed

    def render(self) -> str:
        lines = [
            "# TYPE tagpulse_requests_total counter",
            "# TYPE tagpulse_request_seconds_total counter",
        ]
        with self.lock:
            for (method, route, status), n in sorted(self.counts.items()):
                labels = f'method="{method}",route="{route}",status="{status}"'
                lines.append(f"tagpulse_requests_total{{{labels}}} {n}")
                lines.append(
                    f"tagpulse_request_seconds_total{{{labels}}} "
                    f"{self.seconds[(method, route, status)]:.6f}"
                )
        return "\n".join(lines) + "\n"


_SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
_PAGE_HEADERS = [
    (b"content-security-policy", _CSP.encode()),
    (b"x-frame-options", b"DENY"),
]


class Guard:
    """ASGI middleware (no per-request Request/Response objects: it sits on every request):
    the rate limit (429 with Retry-After), security headers, and the metrics."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, metrics: Metrics) -> None:
        self.app = app
        self.limiter = limiter
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k: v for k, v in scope.get("headers") or []}
        client = scope.get("client")
        wait = self.limiter.check(
            RateLimiter.caller_of(
                headers.get(b"authorization") or headers.get(b"x-api-key"),
                headers.get(b"cookie"),
                client[0] if client else None,
            )
        )
        extra = _SECURITY_HEADERS + ([] if scope["path"].startswith(API) else _PAGE_HEADERS)
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k not in present
                ]
            await send(message)

        try:
            if wait > 0:
                refused = JSONResponse(
                    error_body(429, "too many requests: slow down"),
                    status_code=429,
                    headers={"Retry-After": str(max(1, round(wait + 0.5)))},
                )
                await refused(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            route = scope.get("route")
            self.metrics.observe(
                scope["method"], getattr(route, "path", "unmatched"), status,
                time.perf_counter() - started,
            )  # fmt: skip


def create_app(settings: Settings, options: ServiceOptions | None = None) -> FastAPI:
    """The API over ``settings.home``. Refuses a default secret outside the sandbox/demo."""
    options = options or ServiceOptions()
    settings.require_secret()
    app = FastAPI(
        title="tagpulse",
        version="1",
        description="Hashtag and account tracking over an open data lake.",
        docs_url="/docs",
        openapi_url=f"{API}/openapi.json",
    )
    app.state.store = WatchlistStore(settings.catalog_path)
    app.state.lake = LakeQuery(settings.lake)
    app.state.media_dir = settings.media_dir
    app.state.metrics = Metrics()
    app.state.answers = routes_data.AnswerCache(options.cache_ttl_s)
    app.state.graphs = GraphStore(app.state.lake, settings.home / "cache" / "discover")
    app.state.feed_data = FeedDataStore(app.state.graphs)
    app.state.secure_cookies = options.secure_cookies
    app.state.principals = PrincipalCache()
    app.state.watched = {}
    limiter = RateLimiter(options.rate_per_minute, options.burst)

    def on_watchlist_change() -> None:
        app.state.watched.clear()
        if options.watchlist_file is not None:
            app.state.store.write_tags_file(options.watchlist_file)

    app.state.on_watchlist_change = on_watchlist_change
    install_error_handlers(app)

    app.add_middleware(Guard, limiter=limiter, metrics=app.state.metrics)
    app.add_middleware(BodyLimit, max_bytes=options.max_body_bytes)
    for router in (
        routes_manage.router,
        routes_data.router,
        routes_insights.router,
        routes_campaigns.router,
        routes_posts.router,
        routes_feed.router,
    ):
        app.include_router(router, prefix=API)
    # The dashboard: static files shipped in the package, drawn from the API's JSON.
    static = resources.files("tagpulse.service") / "static"
    app.mount("/", StaticFiles(directory=str(static), html=True), name="dashboard")
    return app
