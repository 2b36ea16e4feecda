"""Request guards: body size limit, per-caller rate limit, and consistent error bodies.

Every error the API answers has the same body::

    {"error": {"status": 404, "code": "not_found", "message": "…", "field": null}}
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tagpulse.errors import AuthError, InputError, StorageError, TagpulseError

__all__ = ["BodyLimit", "RateLimiter", "error_body", "install_error_handlers"]

_CODES = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


def error_body(status: int, message: str, field: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "status": status,
            "code": _CODES.get(status, "error"),
            "message": message,
            "field": field,
        }
    }


def install_error_handlers(app: FastAPI) -> None:
    def respond(
        status: int, message: str, field: str | None = None, **headers: str
    ) -> JSONResponse:
        return JSONResponse(error_body(status, message, field), status_code=status, headers=headers)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return respond(exc.status_code, str(exc.detail), **(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return respond(422, str(first.get("msg", "invalid request")), where)

    @app.exception_handler(InputError)
    async def bad_input(_: Request, exc: InputError) -> JSONResponse:
        return respond(400, str(exc), getattr(exc, "field", None))

    @app.exception_handler(AuthError)
    async def refused(_: Request, exc: AuthError) -> JSONResponse:
        return respond(401, str(exc))

    @app.exception_handler(StorageError)
    async def storage(_: Request, exc: StorageError) -> JSONResponse:
        return respond(503, "the lake could not answer just now; try again")

    @app.exception_handler(TagpulseError)
    async def other(_: Request, exc: TagpulseError) -> JSONResponse:
        return respond(400, str(exc))


class BodyLimit:
    """ASGI middleware: refuse bodies above ``max_bytes`` with 413, whether or not the client
    declared a Content-Length (a chunked body is counted as it arrives)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._too_large(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        response = JSONResponse(
            error_body(413, f"request body over {self.max_bytes} bytes"), status_code=413
        )
        await send({"type": "http.response.start", "status": 413,
                    "headers": response.raw_headers})  # fmt: skip
        await send({"type": "http.response.body", "body": response.body})


class _TooLarge(Exception):
    pass


class RateLimiter:
    """A token bucket per caller (API key id, session, or client address): ``per_minute``
    requests a minute on average, ``burst`` at once; over it, 429 with Retry-After."""

    def __init__(self, per_minute: float, burst: float) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def caller_of(key: bytes | None, cookie: bytes | None, address: str | None) -> str:
        """Who a request counts against: its API key's id (never the secret; a digest of a
        malformed header), else its session, else its client address."""
        if key:
            parts = key.split()[-1].split(b"_")
            if len(parts) == 3:
                return "key:" + parts[1].decode("ascii", "replace")
            return "key:" + hashlib.sha256(key).hexdigest()[:16]
        if cookie and b"tagpulse_session=" in cookie:
            session = cookie.split(b"tagpulse_session=", 1)[1].split(b";", 1)[0]
            return "session:" + hashlib.sha256(session).hexdigest()[:16]
        return "addr:" + (address or "?")

    def check(self, caller: str, now: float | None = None) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(caller, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[caller] = (tokens - 1.0, now)
                return 0.0
            self._buckets[caller] = (tokens, now)
            return (1.0 - tokens) / self.rate if self.rate > 0 else math.inf
