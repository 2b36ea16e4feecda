"""Sign-in, the workspace's watchlist and members, health and metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from tagpulse.errors import AuthError
from tagpulse.service.auth_store import Principal
from tagpulse.service.deps import (
    SESSION_COOKIE,
    PrincipalCache,
    WorkspaceAccess,
    current_principal,
    require,
    store_of,
)

__all__ = ["router"]

router = APIRouter()
Read = Annotated[WorkspaceAccess, Depends(require("read"))]
Write = Annotated[WorkspaceAccess, Depends(require("write"))]
Admin = Annotated[WorkspaceAccess, Depends(require("admin"))]
Me = Annotated[Principal, Depends(current_principal)]


class Login(BaseModel):
    user: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class NewEntry(BaseModel):
    entry: str = Field(min_length=1, max_length=200, description="A watchlist line: nike, "
                       "tiktok:#nike, @handle or a post link")  # fmt: skip
    interval_s: float = Field(default=900.0, description="Collection interval in seconds")


def _me(principal: Principal) -> dict[str, Any]:
    return {"user": principal.user, "roles": principal.roles, "csrf": principal.csrf}


@router.get("/health", tags=["service"])
async def health(request: Request) -> dict[str, Any]:
    """Liveness and whether the lake has data (no sign-in needed)."""
    return {"status": "ok", "lake": request.app.state.lake.has_data("hashtag_snapshots")}


@router.get("/metrics", tags=["service"], response_class=PlainTextResponse)
def metrics(request: Request, _: Me) -> str:
    """Request counts and latency per route and status (Prometheus text format)."""
    text: str = request.app.state.metrics.render()
    return text


@router.post("/auth/login", tags=["auth"])
def login(request: Request, body: Login, response: Response) -> dict[str, Any]:
    """Start a dashboard session: an httpOnly cookie, and the CSRF token to send back."""
    try:
        session, principal = store_of(request).login(body.user, body.password)
    except AuthError as exc:
        raise HTTPException(401, str(exc)) from None
    response.set_cookie(
        SESSION_COOKIE, session, httponly=True, samesite="strict",
        secure=request.app.state.secure_cookies, max_age=12 * 3600, path="/",
    )  # fmt: skip
    return _me(principal)


@router.post("/auth/logout", tags=["auth"], status_code=204)
def logout(request: Request, _: Me, response: Response) -> None:
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        store_of(request).logout(session)
        request.app.state.principals.drop(PrincipalCache.key_of(session, "session"))
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", tags=["auth"])
def me(principal: Me) -> dict[str, Any]:
    return _me(principal)


@router.get("/workspaces/{workspace}/watchlist", tags=["watchlists"])
def watchlist(request: Request, access: Read) -> dict[str, Any]:
    items = store_of(request).items(access.workspace)
    return {
        "items": [
            {"platform": i.platform, "entry": i.tag, "kind": i.kind, "interval_s": i.interval_s,
             "added_by": i.added_by, "added_at": i.added_at}
            for i in items
        ]
    }  # fmt: skip


@router.post("/workspaces/{workspace}/watchlist", tags=["watchlists"], status_code=201)
def add_entry(request: Request, access: Write, body: NewEntry) -> dict[str, Any]:
    store = store_of(request)
    item = store.add(
        access.workspace, body.entry, interval_s=body.interval_s, user=access.principal.user
    )
    request.app.state.on_watchlist_change()
    return {"platform": item.platform, "entry": item.tag, "kind": item.kind,
            "interval_s": item.interval_s}  # fmt: skip


@router.delete(
    "/workspaces/{workspace}/watchlist/{platform}/{entry:path}", tags=["watchlists"],
    status_code=204,
)  # fmt: skip
def remove_entry(request: Request, access: Write, platform: str, entry: str) -> None:
    if not store_of(request).remove(access.workspace, platform, entry):
        raise HTTPException(404, f"{platform}:{entry} is not on this workspace's watchlist")
    request.app.state.on_watchlist_change()


@router.get("/workspaces/{workspace}/members", tags=["workspaces"])
def members(request: Request, access: Admin) -> dict[str, Any]:
    """The workspace's users and roles (admins only)."""
    users = store_of(request).users()
    return {
        "members": [
            {"user": u.name, "role": u.roles[access.workspace], "disabled": u.disabled}
            for u in users
            if access.workspace in u.roles
        ]
    }
