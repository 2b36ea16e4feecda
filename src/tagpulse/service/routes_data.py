"""Data routes of a workspace: hashtag timelines, snapshots, posts and profiles."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from tagpulse.analysis.timeline import parse_duration, parse_since, timeline_series
from tagpulse.lake.query import LakeQuery
from tagpulse.service.deps import WorkspaceAccess, require, store_of
from tagpulse.service.visibility import Visible, decode_cursor, encode_cursor, tag_filter

__all__ = ["AnswerCache", "lake_of", "router", "visible_of", "when"]

log = logging.getLogger(__name__)
router = APIRouter(prefix="/workspaces/{workspace}", tags=["data"])
Read = Annotated[WorkspaceAccess, Depends(require("read"))]
TagsQuery = Annotated[list[str], Query(alias="tag", max_length=50)]
_MAX_LIMIT = 1000


def lake_of(request: Request) -> LakeQuery:
    query: LakeQuery = request.app.state.lake
    return query


_WATCHED_TTL_S = 2.0


def visible_of(request: Request, access: WorkspaceAccess) -> Visible:
    """The workspace's watchlist as a :class:`Visible`, remembered for two seconds (and
    forgotten at once when this server changes a watchlist)."""
    cache: dict[str, tuple[float, Visible]] = request.app.state.watched
    hit = cache.get(access.workspace)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    visible = Visible(frozenset(store_of(request).watched(access.workspace)))
    cache[access.workspace] = (time.monotonic() + _WATCHED_TTL_S, visible)
    return visible


def when(text: str | None, field: str) -> datetime | None:
    return parse_since(text, datetime.now(UTC), field=field) if text else None


class AnswerCache:
    """Recent answers by key: a dashboard full of clients asking for the same timeline costs
    one lake query per key every ``ttl_s`` seconds, not one per request. New snapshots arrive
    every few minutes, so a few seconds of staleness is invisible.

    Stale-while-revalidate: an answer older than ``ttl_s`` is still served while one refresh
    runs beside it (up to ``max_stale_s``), so no request waits for the lake after the first.
    """

    def __init__(
        self, ttl_s: float = 5.0, max_entries: int = 512, max_stale_s: float = 60.0
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.max_stale_s = max(max_stale_s, ttl_s)
        self._entries: dict[Any, tuple[float, bytes, str]] = {}
        self._refreshing: set[Any] = set()
        self._computing: dict[Any, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _fresh(self, key: Any, limit: float) -> tuple[bytes, str] | None:
        hit = self._entries.get(key)
        if hit is None or time.monotonic() - hit[0] > limit:
            return None
        return hit[1], hit[2]

    def put(self, key: Any, body: bytes) -> tuple[bytes, str]:
        etag = 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if len(self._entries) >= self.max_entries and key not in self._entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), body, etag)
        return body, etag

    async def answer(self, key: Any, compute: Callable[[], bytes]) -> tuple[bytes, str]:
        """The cached answer for ``key``; computed (once, however many ask) when missing or
        too stale, refreshed in the background when merely stale."""
        fresh = self._fresh(key, self.ttl_s)
        if fresh is not None:
            return fresh
        stale = self._fresh(key, self.max_stale_s)
        if stale is not None and self.ttl_s > 0:
            if key not in self._refreshing:
                self._refreshing.add(key)
                task = asyncio.get_running_loop().create_task(self._refresh(key, compute))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return stale
        lock = self._computing.setdefault(key, asyncio.Lock())
        async with lock:
            again = self._fresh(key, self.ttl_s)
            if again is not None:
                return again
            return self.put(key, await run_in_threadpool(compute))

    async def _refresh(self, key: Any, compute: Callable[[], bytes]) -> None:
        try:
            self.put(key, await run_in_threadpool(compute))
        except Exception:  # the stale answer stays; the next request past it retries
            log.exception("refreshing a cached answer failed")
        finally:
            self._refreshing.discard(key)


def _json(
    request: Request,
    doc: Any = None,
    *,
    cached: tuple[bytes, str] | None = None,
    max_age: int = 30,
) -> Response:
    """JSON with an ETag; answers 304 when the client already has this body."""
    if cached is None:
        body = orjson.dumps(doc)
        cached = body, 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    body, etag = cached
    headers = {"ETag": etag, "Cache-Control": f"private, max-age={max_age}"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/timelines")
async def timelines(
    request: Request,
    access: Read,
    tags: TagsQuery = [],  # noqa: B006 — FastAPI copies query defaults
    interval: str = "1h",
    since: str | None = None,
    until: str | None = None,
    platform: str | None = None,
) -> Response:
    """Max post count per tag and interval (the Kibana chart), for watched tags."""
    interval_s = parse_duration(interval, field="interval")
    if interval_s < 60:
        raise HTTPException(400, "interval must be one minute or more")
    picked = visible_of(request, access).pick_tags(tags, platform)
    cache: AnswerCache = request.app.state.answers
    key = ("timelines", tuple((p, tuple(ts)) for p, ts in picked.items()), interval_s, since, until)
    hit = await cache.answer(
        key, functools.partial(_timeline_body, request, picked, interval_s, since, until)
    )
    return _json(request, cached=hit)


def _timeline_body(
    request: Request, picked: dict[str, list[str]], interval_s: int, since: str | None,
    until: str | None,
) -> bytes:  # fmt: skip
    start, end = when(since, "since"), when(until, "until")
    series: dict[str, list[list[Any]]] = {}
    several = len(picked) > 1
    for plat, plat_tags in picked.items():
        found = timeline_series(
            lake_of(request), plat_tags, interval_s=interval_s, since=start, until=end,
            platform=plat,
        )  # fmt: skip
        for label, points in found.items():
            shown = f"{plat}:{label}" if several else label
            series[shown] = [[at.isoformat(), count] for at, count in points]
    return orjson.dumps({"interval_s": interval_s, "series": series})


@router.get("/snapshots")
def snapshots(
    request: Request,
    access: Read,
    tags: TagsQuery = [],  # noqa: B006
    platform: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: Annotated[int, Query(ge=1, le=_MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Hashtag snapshots (oldest first), ``limit`` a page; ``next_cursor`` fetches the next."""
    picked = visible_of(request, access).pick_tags(tags, platform)
    tags_sql, params = tag_filter(picked)
    where = [tags_sql]
    for text, op, field in ((since, ">=", "since"), (until, "<", "until")):
        moment = when(text, field)
        if moment is not None:
            where.append(f"collected_at {op} ?")
            params.append(moment)
    if cursor:
        at, last_id = decode_cursor(cursor)[:2]
        where.append("(collected_at, snapshot_id) > (?::TIMESTAMPTZ, ?)")
        params += [at, last_id]
    rows = lake_of(request).rows(
        "SELECT snapshot_id, platform, tag, post_count, collected_at, slot_at, account "
        f"FROM hashtag_snapshots WHERE {' AND '.join(where)} "
        f"ORDER BY collected_at, snapshot_id LIMIT {limit + 1}",
        params,
    )
    page, more = rows[:limit], len(rows) > limit
    for row in page:
        row["collected_at"] = row["collected_at"].isoformat()
        row["slot_at"] = row["slot_at"].isoformat() if row["slot_at"] else None
    last = page[-1] if page else None
    return {
        "items": page,
        "next_cursor": encode_cursor([last["collected_at"], last["snapshot_id"]])
        if more and last
        else None,
    }


_POST_COLUMNS = (
    "platform, post_id, arg_max(shortcode, collected_at) AS shortcode, "
    "arg_max(url, collected_at) AS url, arg_max(owner_id, collected_at) AS owner_id, "
    "arg_max(owner_handle, collected_at) AS owner_handle, "
    "coalesce(min(taken_at), min(collected_at)) AS taken_at, "
    "arg_max(caption, collected_at) AS caption, arg_max(hashtags, collected_at) AS hashtags, "
    "arg_max(media_type, collected_at) AS media_type, arg_max(likes, collected_at) AS likes, "
    "arg_max(comments, collected_at) AS comments, arg_max(views, collected_at) AS views, "
    "max(collected_at) AS last_seen, count(*) AS observations"
)


@router.get("/posts")
def posts(
    request: Request,
    access: Read,
    tags: TagsQuery = [],  # noqa: B006
    handle: str | None = None,
    platform: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: Annotated[int, Query(ge=1, le=_MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Posts the workspace may see, newest first, each at its latest observation."""
    visible = visible_of(request, access)
    where_sql, params = visible.post_filter(platform)
    where = [where_sql]
    if tags:
        picked = visible.pick_tags(tags, platform)
        where.append("list_has_any(hashtags, ?)")
        params.append(sorted({t for ts in picked.values() for t in ts}))
    if handle:
        where.append("owner_handle = ?")
        params.append(handle.lstrip("@").lower())
    having, having_params = [], []
    for text, op, field in ((since, ">=", "since"), (until, "<", "until")):
        moment = when(text, field)
        if moment is not None:
            having.append(f"coalesce(min(taken_at), min(collected_at)) {op} ?")
            having_params.append(moment)
    if cursor:
        at, last_key = decode_cursor(cursor)[:2]
        having.append(
            "(coalesce(min(taken_at), min(collected_at)), platform || ':' || post_id) "
            "< (?::TIMESTAMPTZ, ?)"
        )
        having_params += [at, last_key]
    sql = (
        f"SELECT {_POST_COLUMNS} FROM posts WHERE {' AND '.join(where)} "
        "GROUP BY platform, post_id "
        + (f"HAVING {' AND '.join(having)} " if having else "")
        + f"ORDER BY taken_at DESC, platform || ':' || post_id DESC LIMIT {limit + 1}"
    )
    rows = lake_of(request).rows(sql, params + having_params)
    page, more = rows[:limit], len(rows) > limit
    for row in page:
        for key in ("taken_at", "last_seen"):
            row[key] = row[key].isoformat() if row[key] else None
    last = page[-1] if page else None
    return {
        "items": page,
        "next_cursor": encode_cursor([last["taken_at"], f"{last['platform']}:{last['post_id']}"])
        if more and last
        else None,
    }


@router.get("/profiles/{handle}")
def profile(
    request: Request, access: Read, handle: str, platform: str = "instagram"
) -> dict[str, Any]:
    """A watched account's latest profile and its follower history."""
    name = handle.lstrip("@").lower()
    if name not in visible_of(request, access).handles.get(platform, []):
        raise HTTPException(404, f"@{name} is not on this workspace's watchlist")
    rows = lake_of(request).rows(
        "SELECT * EXCLUDE (extra) FROM profiles WHERE platform = ? AND handle = ? "
        "ORDER BY collected_at",
        [platform, name],
    )
    if not rows:
        raise HTTPException(404, f"no profile of @{name} collected yet")
    latest = rows[-1]
    return {
        "profile": {
            k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in latest.items()
        },
        "followers": [[r["collected_at"].isoformat(), r.get("followers")] for r in rows],
    }
