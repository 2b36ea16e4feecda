"""The API: FastAPI under ``/api/v1`` (OpenAPI at ``/docs``), reading the lake while the
collector writes it."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from tagpulse.config import Settings
from tagpulse.lake.query import LakeQuery
from tagpulse.service import (
    routes_campaigns,
    routes_data,
    routes_insights,
    routes_manage,
    routes_posts,
)
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
    app.state.lake = LakeQuery(settings.lake_dir)
    app.state.media_dir = settings.media_dir
    app.state.metrics = Metrics()
    app.state.answers = routes_data.AnswerCache(options.cache_ttl_s)
    app.state.secure_cookies = options.secure_cookies
    limiter = RateLimiter(options.rate_per_minute, options.burst)

    def on_watchlist_change() -> None:
        if options.watchlist_file is not None:
            app.state.store.write_tags_file(options.watchlist_file)

    app.state.on_watchlist_change = on_watchlist_change
    install_error_handlers(app)

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        wait = limiter.check(RateLimiter.caller(request))
        if wait > 0:
            response: Response = JSONResponse(
                error_body(429, "too many requests: slow down"),
                status_code=429,
                headers={"Retry-After": str(max(1, round(wait + 0.5)))},
            )
        else:
            response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if not request.url.path.startswith(API):
            response.headers.setdefault("Content-Security-Policy", _CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        app.state.metrics.observe(
            request.method, path, response.status_code, time.perf_counter() - started
        )
        return response

    app.add_middleware(BodyLimit, max_bytes=options.max_body_bytes)
    for router in (
        routes_manage.router,
        routes_data.router,
        routes_insights.router,
        routes_campaigns.router,
        routes_posts.router,
    ):
        app.include_router(router, prefix=API)
    # The dashboard: static files shipped in the package, drawn from the API's JSON.
    static = resources.files("tagpulse.service") / "static"
    app.mount("/", StaticFiles(directory=str(static), html=True), name="dashboard")
    return app
