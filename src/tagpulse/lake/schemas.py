"""The lake's entity tables: their Arrow schemas, row identities and record conversion.

Every row carries a ``row_id`` that is a function of the record's identity, the raw answer it
came from (``raw_id``) and when it was observed, so re-processing the same raw answer (a
re-import, a reparse, a collector restart) yields the same ids and readers keep one row per id.
Observations of the same entity at other times are other rows, even when the platform answered
byte for byte the same (a profile whose counts did not move): that is the entity's history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from tagpulse.records import Comment, Edge, Post, Profile, TagCount

__all__ = [
    "COMMENTS",
    "EDGES",
    "ENTITY_TABLES",
    "POSTS",
    "PROFILES",
    "TAG_COUNTS",
    "TableSpec",
    "observation_key",
    "records_to_table",
]

PROFILES = "profiles"
POSTS = "posts"
COMMENTS = "comments"
EDGES = "edges"
TAG_COUNTS = "tag_counts"

_TS = pa.timestamp("us", tz="UTC")


def observation_key(raw_id: str | None, at: datetime) -> str:
    """One observation: the answer's content hash and the time it was received (µs)."""
    micros = round(at.timestamp() * 1_000_000)
    return f"{raw_id or ''}@{micros}"


_raw_key = observation_key


@dataclass(frozen=True, slots=True)
class TableSpec:
    """How one record type is stored."""

    name: str
    record: type
    schema: pa.Schema
    #: The column that decides the date partition.
    date_column: str
    row_id: Callable[[Any], str]


def _profile_id(p: Profile) -> str:
    return f"{p.platform}:{p.user_id or '@' + p.handle}:{_raw_key(p.raw_id, p.collected_at)}"


def _post_id(p: Post) -> str:
    return f"{p.platform}:{p.post_id}:{_raw_key(p.raw_id, p.collected_at)}"


def _comment_id(c: Comment) -> str:
    return f"{c.platform}:{c.comment_id}:{_raw_key(c.raw_id, c.collected_at)}"


def _edge_id(e: Edge) -> str:
    post = f":{e.post_id}" if e.post_id else ""
    return f"{e.platform}:{e.kind}:{e.src}:{e.dst}{post}:{_raw_key(e.raw_id, e.seen_at)}"


def _tag_count_id(t: TagCount) -> str:
    return (
        f"{t.platform}:{t.tag}:{int(t.bucket_start.timestamp())}:{int(t.bucket_end.timestamp())}:"
        f"{_raw_key(t.raw_id, t.collected_at)}"
    )


def _schema(*columns: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field("row_id", pa.string()), *(pa.field(n, t) for n, t in columns)])


_STR_LIST = pa.list_(pa.string())

ENTITY_TABLES: dict[str, TableSpec] = {
    PROFILES: TableSpec(
        PROFILES,
        Profile,
        _schema(
            ("user_id", pa.string()),
            ("handle", pa.string()),
            ("collected_at", _TS),
            ("raw_id", pa.string()),
            ("name", pa.string()),
            ("bio", pa.string()),
            ("followers", pa.int64()),
            ("following", pa.int64()),
            ("posts_count", pa.int64()),
            ("is_private", pa.bool_()),
            ("is_verified", pa.bool_()),
            ("is_business", pa.bool_()),
            ("category", pa.string()),
            ("external_url", pa.string()),
            ("profile_pic_url", pa.string()),
            ("state", pa.string()),
            ("extra", pa.string()),
        ),
        "collected_at",
        _profile_id,
    ),
    POSTS: TableSpec(
        POSTS,
        Post,
        _schema(
            ("post_id", pa.string()),
            ("collected_at", _TS),
            ("raw_id", pa.string()),
            ("shortcode", pa.string()),
            ("url", pa.string()),
            ("owner_id", pa.string()),
            ("owner_handle", pa.string()),
            ("taken_at", _TS),
            ("caption", pa.string()),
            ("hashtags", _STR_LIST),
            ("mentions", _STR_LIST),
            ("media_type", pa.string()),
            ("media_urls", _STR_LIST),
            ("likes", pa.int64()),
            ("comments", pa.int64()),
            ("views", pa.int64()),
            ("shares", pa.int64()),
            ("comments_disabled", pa.bool_()),
            ("location", pa.string()),
            ("language", pa.string()),
            ("seen_via", pa.string()),
            ("extra", pa.string()),
        ),
        "collected_at",
        _post_id,
    ),
    COMMENTS: TableSpec(
        COMMENTS,
        Comment,
        _schema(
            ("comment_id", pa.string()),
            ("post_id", pa.string()),
            ("collected_at", _TS),
            ("raw_id", pa.string()),
            ("owner_id", pa.string()),
            ("owner_handle", pa.string()),
            ("text", pa.string()),
            ("created_at", _TS),
            ("likes", pa.int64()),
            ("parent_id", pa.string()),
        ),
        "collected_at",
        _comment_id,
    ),
    EDGES: TableSpec(
        EDGES,
        Edge,
        _schema(
            ("src", pa.string()),
            ("dst", pa.string()),
            ("kind", pa.string()),
            ("seen_at", _TS),
            ("raw_id", pa.string()),
            ("weight", pa.float64()),
            ("src_handle", pa.string()),
            ("dst_handle", pa.string()),
            ("post_id", pa.string()),
        ),
        "seen_at",
        _edge_id,
    ),
    TAG_COUNTS: TableSpec(
        TAG_COUNTS,
        TagCount,
        _schema(
            ("tag", pa.string()),
            ("bucket_start", _TS),
            ("bucket_end", _TS),
            ("count", pa.int64()),
            ("collected_at", _TS),
            ("raw_id", pa.string()),
        ),
        "bucket_start",
        _tag_count_id,
    ),
}


def _check_specs() -> None:
    # The schema and the dataclass must agree; a field added to one and not the other would be
    # silently dropped, which the lake promises never to do.
    for spec in ENTITY_TABLES.values():
        record_fields = {f.name for f in fields(spec.record)} - {"platform"}
        columns = set(spec.schema.names) - {"row_id"}
        if record_fields != columns:
            raise AssertionError(f"{spec.name}: record/schema mismatch {record_fields ^ columns}")


def records_to_table(spec: TableSpec, records: Sequence[Any]) -> pa.Table:
    """Records of one platform as an Arrow table in the spec's schema (no partition columns)."""
    names = spec.schema.names
    columns: dict[str, list[Any]] = {name: [] for name in names}
    row_ids = columns["row_id"]
    value_columns = [(name, columns[name]) for name in names if name != "row_id"]
    for rec in records:
        row_ids.append(spec.row_id(rec))
        for name, column in value_columns:
            value = getattr(rec, name)
            if name == "extra":
                value = orjson.dumps(value).decode() if value else None
            column.append(value)
    return pa.table(columns, schema=spec.schema)
