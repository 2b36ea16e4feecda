"""A watched account's personalised feed (``discover.feed``) over the API.

Which accounts a workspace may ask a feed for: the accounts on its watchlist (``@handle``
entries), on the platform where it watches them; any other handle is a 404, as an unwatched
profile is. The feed itself draws on the whole lake's graph and posts of that platform (it is
the watched account's view of its network, which is what the workspace follows it for).

The graph is kept by the app's :class:`~tagpulse.discover.graph_store.GraphStore`: built once,
then only the lake's new edge files are read; identical requests within a few seconds are
answered from the :class:`~tagpulse.service.routes_data.AnswerCache`.

``source`` picks where posts come from, as ``tagpulse feed --source`` does: ``blend`` (the
default), ``network`` (``discover.feed.build_feed``, the study's ranking with its fuller
reasons), ``fof``, ``interests``, ``als`` or ``popular`` (``discover.blend.build_source_feed``,
``weights`` and ``seed`` as ``--weights``/``--seed``). Those read the lake's posts and likes
through the app's :class:`~tagpulse.discover.feeddata_store.FeedDataStore`, kept per lake state
and built on the same cached graph.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from tagpulse.discover.blend import build_source_feed, parse_weights
from tagpulse.discover.feed import build_feed
from tagpulse.discover.feeddata_store import FeedDataStore
from tagpulse.discover.graph_store import GraphStore
from tagpulse.errors import InputError
from tagpulse.service.deps import WorkspaceAccess, require
from tagpulse.service.routes_data import AnswerCache, lake_of, visible_of, when

__all__ = ["router"]

router = APIRouter(prefix="/workspaces/{workspace}", tags=["discover"])
Read = Annotated[WorkspaceAccess, Depends(require("read"))]
#: Fields of an item shown only with ``explain=true``: the score and its factors.
_EXPLAIN = ("score", "ppr", "weight", "age_seconds")
FeedSource = Literal["blend", "network", "fof", "interests", "als", "popular"]


@router.get("/feed/{handle}")
async def feed(
    request: Request,
    access: Read,
    handle: str,
    n: Annotated[int, Query(ge=1, le=100)] = 10,
    explain: bool = False,
    at: str | None = None,
    platform: str | None = None,
    source: FeedSource = "blend",
    weights: Annotated[str | None, Query(max_length=200)] = None,
    seed: int = 0,
) -> Response:
    """The ``n`` best recent posts for a watched account from one source or the blend, each
    with its source and why it is there (and, with ``explain``, its score and the score's
    factors)."""
    name = handle.removeprefix("@").lower()
    blend_weights = parse_weights(weights)  # refused (400, field "weights") before any work
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
    mix = (tuple(sorted(blend_weights.items())), seed) if source == "blend" else None
    key = ("feed", watched[0], name, n, explain, at, source, mix)
    compute = functools.partial(
        _feed_body, request, watched[0], name, n, explain, at, source, blend_weights, seed
    )
    body, etag = await cache.answer(key, compute)
    headers = {"ETag": etag, "Cache-Control": "private, max-age=30"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _feed_body(
    request: Request,
    platform: str,
    name: str,
    n: int,
    explain: bool,
    at: str | None,
    source: str,
    weights: dict[str, float],
    seed: int,
) -> bytes:
    graphs: GraphStore = request.app.state.graphs
    loaded = graphs.load(platform)
    moment = when(at, "at")
    extra: dict[str, Any] = {}
    if source == "network":
        result = build_feed(
            lake_of(request), "@" + name, n=n, at=moment, platform=platform, graph=loaded.graph
        )
    else:
        store: FeedDataStore = request.app.state.feed_data
        kept = store.load(platform, moment)
        if kept.data is None:
            raise InputError("the lake has no posts: collect or import some first", field="handle")
        result = build_source_feed(
            lake_of(request), "@" + name, n=n, at=moment, platform=platform, source=source,
            weights=weights, seed=seed, data=kept.data,
        )  # fmt: skip
        extra["feed_data"] = {"loaded_from": kept.how}
        if source == "blend":
            extra["weights"] = weights
            extra["seed"] = seed
    doc: dict[str, Any] = result.to_json()
    for item in doc["items"]:
        item["reason"] = "; ".join(item["why"])
    if not explain:
        doc["items"] = [
            {k: v for k, v in item.items() if k not in _EXPLAIN} for item in doc["items"]
        ]
    doc["platform"] = platform
    doc["source"] = source
    doc["graph"] = {
        "accounts": loaded.graph.n,
        "ties": int(loaded.graph.weights.nnz),
        "loaded_from": loaded.how,
        "edge_files_read": loaded.files_read,
    }
    doc.update(extra)
    return orjson.dumps(doc)
