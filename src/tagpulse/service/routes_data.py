"""Data routes of a workspace: hashtag timelines, snapshots, posts and profiles."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from tagpulse.analysis.timeline import parse_duration, parse_since, timeline_series
from tagpulse.lake.query import LakeQuery
from tagpulse.service.deps import WorkspaceAccess, require, store_of
from tagpulse.service.visibility import Visible, decode_cursor, encode_cursor

__all__ = ["AnswerCache", "lake_of", "router", "visible_of", "when"]

router = APIRouter(prefix="/workspaces/{workspace}", tags=["data"])
Read = Annotated[WorkspaceAccess, Depends(require("read"))]
TagsQuery = Annotated[list[str], Query(alias="tag", max_length=50)]
_MAX_LIMIT = 1000


def lake_of(request: Request) -> LakeQuery:
    query: LakeQuery = request.app.state.lake
    return query


def visible_of(request: Request, access: WorkspaceAccess) -> Visible:
    return Visible(frozenset(store_of(request).watched(access.workspace)))


def when(text: str | None, field: str) -> datetime | None:
    return parse_since(text, datetime.now(UTC), field=field) if text else None


class AnswerCache:
    """Recent answers by key for ``ttl_s`` seconds: a dashboard full of clients asking for the
    same timeline costs one lake query per key and TTL, not one per request. New snapshots
    arrive every few minutes, so a few seconds of staleness is invisible."""

    def __init__(self, ttl_s: float = 5.0, max_entries: int = 512) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[Any, tuple[float, bytes, str]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> tuple[bytes, str] | None:
        with self._lock:
            hit = self._entries.get(key)
        if hit is None or time.monotonic() - hit[0] > self.ttl_s:
            return None
        return hit[1], hit[2]

    def put(self, key: Any, body: bytes) -> tuple[bytes, str]:
        etag = 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (time.monotonic(), body, etag)
        return body, etag


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
def timelines(
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
    hit = cache.get(key)
    if hit is not None:
        return _json(request, cached=hit)
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
    doc = {"interval_s": interval_s, "series": series}
    return _json(request, cached=cache.put(key, orjson.dumps(doc)))


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
    where: list[str] = []
    params: list[Any] = []
    alternatives = []
    for plat, plat_tags in picked.items():
        alternatives.append("(platform = ? AND list_contains(?, tag))")
        params += [plat, plat_tags]
    where.append("(" + (" OR ".join(alternatives) or "FALSE") + ")")
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
