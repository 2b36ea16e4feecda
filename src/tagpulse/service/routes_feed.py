"""A watched account's personalised feed (``discover.feed``) over the API.

Which accounts a workspace may ask a feed for: the accounts on its watchlist (``@handle``
entries), on the platform where it watches them; any other handle is a 404, as an unwatched
profile is. The feed itself draws on the whole lake's graph and posts of that platform (it is
the watched account's view of its network, which is what the workspace follows it for).

The graph is kept by the app's :class:`~tagpulse.discover.graph_store.GraphStore`: built once,
then only the lake's new edge files are read; identical requests within a few seconds are
answered from the :class:`~tagpulse.service.routes_data.AnswerCache`.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from tagpulse.discover.feed import build_feed
from tagpulse.discover.graph_store import GraphStore
from tagpulse.service.deps import WorkspaceAccess, require
from tagpulse.service.routes_data import AnswerCache, lake_of, visible_of, when

__all__ = ["router"]

router = APIRouter(prefix="/workspaces/{workspace}", tags=["discover"])
Read = Annotated[WorkspaceAccess, Depends(require("read"))]
#: Fields of an item shown only with ``explain=true``: the score and its factors.
_EXPLAIN = ("score", "ppr", "weight", "age_seconds")


@router.get("/feed/{handle}")
async def feed(
    request: Request,
    access: Read,
    handle: str,
    n: Annotated[int, Query(ge=1, le=100)] = 10,
    explain: bool = False,
    at: str | None = None,
    platform: str | None = None,
) -> Response:
    """The ``n`` best recent posts for a watched account, each with why it is there (and,
    with ``explain``, its score and the score's factors)."""
    name = handle.removeprefix("@").lower()
    watched = [
        p
        for p, handles in visible_of(request, access).handles.items()
        if name in handles and platform in (None, p)
    ]
    if not watched:
        raise HTTPException(404, f"@{name} is not on this workspace's watchlist")
    if len(watched) > 1:
        raise HTTPException(
            400, f"@{name} is watched on {', '.join(watched)}: name one with ?platform="
        )
    cache: AnswerCache = request.app.state.answers
    key = ("feed", watched[0], name, n, explain, at)
    body, etag = await cache.answer(
        key, functools.partial(_feed_body, request, watched[0], name, n, explain, at)
    )
    headers = {"ETag": etag, "Cache-Control": "private, max-age=30"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _feed_body(
    request: Request, platform: str, name: str, n: int, explain: bool, at: str | None
) -> bytes:
    graphs: GraphStore = request.app.state.graphs
    loaded = graphs.load(platform)
    result = build_feed(
        lake_of(request), "@" + name, n=n, at=when(at, "at"), platform=platform,
        graph=loaded.graph,
    )  # fmt: skip
    doc: dict[str, Any] = result.to_json()
    if not explain:
        doc["items"] = [
            {k: v for k, v in item.items() if k not in _EXPLAIN} for item in doc["items"]
        ]
    doc["platform"] = platform
    doc["graph"] = {
        "accounts": loaded.graph.n,
        "ties": int(loaded.graph.weights.nnz),
        "loaded_from": loaded.how,
        "edge_files_read": loaded.files_read,
    }
    return orjson.dumps(doc)
