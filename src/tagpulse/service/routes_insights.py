"""Insights and exports of a workspace (over its watched tags only)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import orjson
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from tagpulse.analysis.insights_timeline import tag_timelines
from tagpulse.analysis.share import share_by_platform
from tagpulse.analysis.spikes import find_spikes
from tagpulse.analysis.timeline import parse_duration
from tagpulse.lake.export import csv_batch
from tagpulse.service.deps import WorkspaceAccess, require
from tagpulse.service.routes_data import lake_of, visible_of, when
from tagpulse.service.visibility import tag_filter

__all__ = ["router"]

router = APIRouter(prefix="/workspaces/{workspace}", tags=["insights"])
Read = Annotated[WorkspaceAccess, Depends(require("read"))]
TagsQuery = Annotated[list[str], Query(alias="tag", max_length=50)]


@router.get("/insights/timeline")
def insight_timeline(
    request: Request,
    access: Read,
    tags: TagsQuery = [],  # noqa: B006
    interval: str = "6h",
    since: str | None = None,
    until: str | None = None,
    platform: str | None = None,
) -> dict[str, Any]:
    """Per tag: growth rate (posts/day) per interval and its change points."""
    interval_s = parse_duration(interval, field="interval")
    out = []
    for plat, plat_tags in visible_of(request, access).pick_tags(tags, platform).items():
        for t in tag_timelines(
            lake_of(request), plat_tags, interval_s=interval_s, since=when(since, "since"),
            until=when(until, "until"), platform=plat,
        ):  # fmt: skip
            out.append({
                "platform": plat, "tag": t.label,
                "rates": [[at.isoformat(), r] for at, r in t.rates],
                "change_points": [
                    {"at": c.at.isoformat(), "rate_before": c.rate_before,
                     "rate_after": c.rate_after}
                    for c in t.change_points
                ],
            })  # fmt: skip
    return {"interval_s": interval_s, "tags": out}


@router.get("/insights/share")
def insight_share(
    request: Request,
    access: Read,
    tags: TagsQuery = [],  # noqa: B006
    interval: str = "1d",
    since: str | None = None,
    until: str | None = None,
    platform: str | None = None,
) -> dict[str, Any]:
    """Share of voice among the asked (default: all watched) tags, per platform."""
    picked = visible_of(request, access).pick_tags(tags, platform)
    interval_s = parse_duration(interval, field="interval")
    platforms = []
    for plat, plat_tags in picked.items():
        if len(plat_tags) < 2:
            continue
        for name, result in share_by_platform(
            lake_of(request), plat_tags, interval_s=interval_s, since=when(since, "since"),
            until=when(until, "until"), platform=plat,
        ):  # fmt: skip
            platforms.append({
                "platform": name,
                "tags": [
                    {"tag": t.tag, "posts": t.posts, "posts_share": t.posts_share,
                     "engagement": t.engagement, "engagement_share": t.engagement_share}
                    for t in result.tags
                ],
                "over_time": [[at.isoformat(), s] for at, s in result.over_time],
                "engagement_over_time": [
                    [at.isoformat(), s] for at, s in result.engagement_over_time
                ],
            })  # fmt: skip
    return {"platforms": platforms}


@router.get("/insights/spikes")
def insight_spikes(
    request: Request,
    access: Read,
    tags: TagsQuery = [],  # noqa: B006
    interval: str = "6h",
    since: str | None = None,
    platform: str | None = None,
    top: Annotated[int, Query(ge=1, le=500)] = 20,
) -> dict[str, Any]:
    """Posts far above their author's usual (among posts the workspace sees) and tag count
    anomalies."""
    visible = visible_of(request, access)
    picked = visible.pick_tags(tags, platform)
    where, params = visible.post_filter(platform)
    seen = {(r["platform"], r["post_id"]) for r in lake_of(request).rows(
        f"SELECT DISTINCT platform, post_id FROM posts WHERE {where}", params
    )}  # fmt: skip
    posts: list[dict[str, Any]] = []
    anomalies: list[dict[str, Any]] = []
    for plat, plat_tags in picked.items():
        result = find_spikes(
            lake_of(request), plat_tags, interval_s=parse_duration(interval, field="interval"),
            since=when(since, "since"), platform=plat,
        )  # fmt: skip
        posts += [
            {"platform": p.platform, "post_id": p.post_id, "owner": p.owner, "likes": p.likes,
             "likes_z": p.likes_z, "comments_z": p.comments_z, "url": p.url}
            for p in result.posts if (p.platform, p.post_id) in seen
        ]  # fmt: skip
        anomalies += [
            {"platform": plat, "tag": a.tag, "at": a.at.isoformat(), "rate_per_day": a.rate_per_day,
             "z": a.z}
            for a in result.tags
        ]  # fmt: skip
    posts.sort(key=lambda p: -max(p["likes_z"] or 0.0, p["comments_z"] or 0.0))
    return {"posts": posts[:top], "tags": anomalies}


_EXPORTS = {
    "hashtag_snapshots": "SELECT * EXCLUDE (top_posts) FROM hashtag_snapshots WHERE {where} "
    "ORDER BY collected_at",
    "posts": "SELECT * FROM posts WHERE {where} ORDER BY collected_at",
}
_MEDIA = {"csv": "text/csv", "jsonl": "application/x-ndjson",
          "parquet": "application/vnd.apache.parquet"}  # fmt: skip


@router.get("/exports/{table}")
def export(
    request: Request,
    access: Read,
    table: str,
    format: Literal["csv", "jsonl", "parquet"] = "csv",
    since: str | None = None,
) -> StreamingResponse:
    """Stream a table's rows the workspace may see (hashtag_snapshots or posts)."""
    if table not in _EXPORTS:
        raise HTTPException(404, f"no exportable table {table!r}: use {', '.join(_EXPORTS)}")
    visible = visible_of(request, access)
    if table == "posts":
        where, params = visible.post_filter()
    else:
        where, params = tag_filter(visible.tags)
    moment = when(since, "since")
    if moment is not None:
        where += " AND collected_at >= ?"
        params.append(moment)
    result = lake_of(request).arrow(_EXPORTS[table].format(where=where), params)
    name = f"{access.workspace}-{table}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(_chunks(result, format), media_type=_MEDIA[format], headers=headers)


def _chunks(table: pa.Table, fmt: str) -> Iterator[bytes]:
    if fmt == "parquet":
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        yield sink.getvalue()
        return
    for i, batch in enumerate(table.to_batches(max_chunksize=5000)):
        if fmt == "csv":
            sink = io.BytesIO()
            pa_csv.write_csv(
                pa.Table.from_batches([csv_batch(batch)]), sink,
                pa_csv.WriteOptions(include_header=i == 0),
            )  # fmt: skip
            yield sink.getvalue()
        else:
            yield b"".join(orjson.dumps(row, default=str) + b"\n" for row in batch.to_pylist())
