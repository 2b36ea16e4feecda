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

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request

from tagpulse.service.auth_store import Principal, Role
from tagpulse.service.watchlists import WatchlistStore

__all__ = [
    "SESSION_COOKIE",
    "Permission",
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


def current_principal(request: Request) -> Principal:
    """The request's principal, or 401; checks CSRF on state-changing session requests."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    store = store_of(request)
    key = _api_key(request)
    principal: Principal | None = None
    if key:
        principal = store.authenticate_key(key)
        if principal is None:
            raise HTTPException(401, "invalid, revoked or disabled API key")
    else:
        session = request.cookies.get(SESSION_COOKIE)
        principal = store.session(session) if session else None
        if principal is None:
            raise HTTPException(401, "not signed in: log in or send an API key")
        if request.method not in _SAFE_METHODS:
            sent = request.headers.get("x-csrf-token", "")
            if not principal.csrf or not hmac.compare_digest(sent, principal.csrf):
                raise HTTPException(403, "missing or wrong X-CSRF-Token header")
    request.state.principal = principal
    return principal


def require(permission: Permission) -> Callable[..., WorkspaceAccess]:
    """A dependency: the caller has ``permission`` in the path's ``{workspace}``."""

    def dependency(
        workspace: str, principal: Annotated[Principal, Depends(current_principal)]
    ) -> WorkspaceAccess:
        role = principal.role_in(workspace)
        if role is None:
            raise HTTPException(404, f"no workspace {workspace!r}")
        if not allowed(role, principal.key_scope, permission):
            raise HTTPException(403, f"{permission} access to this workspace is not allowed")
        return WorkspaceAccess(principal, workspace, role)

    return dependency
