"""Who is asking and what they may do: the API's authentication and authorisation.

A request is authenticated by an API key (``Authorization: Bearer tp_…`` or ``X-API-Key``) or by
the dashboard's session cookie. State-changing requests on a session must carry the session's
CSRF token in ``X-CSRF-Token`` (a key is not a cookie, so it needs none). Every workspace route
names its workspace in the path and one of three permissions:

========== ======================= =============================================
permission roles                   examples
========== ======================= =============================================
read       viewer, analyst, admin  timelines, posts, insights, exports
write      analyst, admin          watchlists, campaigns
admin      admin                   members
========== ======================= =============================================

A read-scoped key never writes, whatever its user's role. A principal with no role in the
workspace gets 404 (not 403), so workspace names do not leak.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request

from tagpulse.service.auth_store import Principal, Role
from tagpulse.service.watchlists import WatchlistStore

__all__ = [
    "SESSION_COOKIE",
    "Permission",
    "PrincipalCache",
    "WorkspaceAccess",
    "allowed",
    "current_principal",
    "require",
    "store_of",
]

SESSION_COOKIE = "tagpulse_session"
Permission = Literal["read", "write", "admin"]
_GRANTS: dict[Role, frozenset[Permission]] = {
    "viewer": frozenset({"read"}),
    "analyst": frozenset({"read", "write"}),
    "admin": frozenset({"read", "write", "admin"}),
}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def allowed(role: Role | None, key_scope: str | None, permission: Permission) -> bool:
    """May ``role`` (through a key of ``key_scope``, or a session when None) do ``permission``?"""
    if role is None or permission not in _GRANTS[role]:
        return False
    return not (key_scope == "read" and permission != "read")


@dataclass(slots=True, frozen=True)
class WorkspaceAccess:
    principal: Principal
    workspace: str
    role: Role


def store_of(request: Request) -> WatchlistStore:
    store: WatchlistStore = request.app.state.store
    return store


def _api_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("x-api-key")


class PrincipalCache:
    """Who a key or session is, remembered for ``ttl_s`` seconds: a dashboard or a script
    asking many times a second costs one catalog lookup per second or two. A revoked key or a
    disabled user is refused at most ``ttl_s`` later (at once for a logout here)."""

    def __init__(self, ttl_s: float = 2.0) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, Principal]] = {}

    @staticmethod
    def key_of(secret: str, kind: str) -> str:
        return kind + ":" + hashlib.sha256(secret.encode()).hexdigest()

    def get(self, key: str) -> Principal | None:
        hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: str, principal: Principal) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl_s, principal)

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)


async def current_principal(request: Request) -> Principal:
    """The request's principal, or 401; checks CSRF on state-changing session requests."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    store = store_of(request)
    cache: PrincipalCache = request.app.state.principals
    key = _api_key(request)
    principal: Principal | None = None
    if key:
        slot = PrincipalCache.key_of(key, "key")
        principal = cache.get(slot) or store.authenticate_key(key)
        if principal is None:
            raise HTTPException(401, "invalid, revoked or disabled API key")
        cache.put(slot, principal)
    else:
        session = request.cookies.get(SESSION_COOKIE)
        slot = PrincipalCache.key_of(session or "", "session")
        principal = (cache.get(slot) or store.session(session)) if session else None
        if principal is None:
            raise HTTPException(401, "not signed in: log in or send an API key")
        cache.put(slot, principal)
        if request.method not in _SAFE_METHODS:
            sent = request.headers.get("x-csrf-token", "")
            if not principal.csrf or not hmac.compare_digest(sent, principal.csrf):
                raise HTTPException(403, "missing or wrong X-CSRF-Token header")
    request.state.principal = principal
    return principal


def require(permission: Permission) -> Callable[..., Awaitable[WorkspaceAccess]]:
    """A dependency: the caller has ``permission`` in the path's ``{workspace}``."""

    async def dependency(
        workspace: str, principal: Annotated[Principal, Depends(current_principal)]
    ) -> WorkspaceAccess:
        role = principal.role_in(workspace)
        if role is None:
            raise HTTPException(404, f"no workspace {workspace!r}")
        if not allowed(role, principal.key_scope, permission):
            raise HTTPException(403, f"{permission} access to this workspace is not allowed")
        return WorkspaceAccess(principal, workspace, role)

    return dependency
