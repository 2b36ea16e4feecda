"""Entity tables (profiles, posts, comments, edges, tag counts): write, read, de-duplicate."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from tagpulse.errors import InputError
from tagpulse.lake.export import export_table
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.schemas import ENTITY_TABLES, _check_specs
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import Comment, Edge, ParsedRecords, Post, Profile, TagCount

T0 = datetime(2026, 11, 1, 23, 30, tzinfo=UTC)


def sample(raw_id: str = "sha256:aa", at: datetime = T0) -> ParsedRecords:
    return ParsedRecords(
        profiles=[
            Profile("instagram", "1", "nike", at, raw_id, followers=10, is_private=False),
            Profile("instagram", None, "gone", at, raw_id, state="not_found"),
        ],
        posts=[
            Post(
                "instagram",
                "p1",
                at,
                raw_id,
                owner_id="1",
                hashtags=["nike", "run"],
                likes=5,
                media_type="image",
                extra={"k": [1, 2]},
            ),
            Post("x", "t1", at + timedelta(hours=1), raw_id, hashtags=["run"], likes=None),
        ],
        comments=[Comment("instagram", "c1", "p1", at, raw_id, text="héllo 🎉")],
        edges=[Edge("instagram", "2", "1", "follows", at, raw_id, src_handle="fan")],
        tag_counts=[
            TagCount("x", "dogs", at, at + timedelta(hours=1), 3961, at, raw_id),
        ],
    )


def test_schemas_cover_every_record_field() -> None:
    _check_specs()
    for spec in ENTITY_TABLES.values():
        assert {f.name for f in fields(spec.record)} - {"platform"} <= set(spec.schema.names)


def test_records_round_trip_and_split_by_platform_and_day(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path)
    paths = writer.append_records(sample())
    rels = {str(p.relative_to(tmp_path / "tables").parent) for p in paths}
    assert "posts/platform=instagram/date=2026-11-01" in rels
    assert "posts/platform=x/date=2026-11-02" in rels  # 00:30 next day
    q = LakeQuery(tmp_path)
    posts = q.rows("SELECT * FROM posts ORDER BY post_id")
    assert [p["post_id"] for p in posts] == ["p1", "t1"]
    assert posts[0]["hashtags"] == ["nike", "run"]
    assert orjson.loads(posts[0]["extra"]) == {"k": [1, 2]}
    assert posts[1]["likes"] is None and posts[1]["platform"] == "x"
    profiles = q.rows("SELECT handle, state, followers FROM profiles ORDER BY handle")
    assert profiles == [
        {"handle": "gone", "state": "not_found", "followers": None},
        {"handle": "nike", "state": "ok", "followers": 10},
    ]
    assert q.rows("SELECT text FROM comments")[0]["text"] == "héllo 🎉"
    assert q.rows("SELECT count FROM tag_counts")[0]["count"] == 3961
    assert q.rows("SELECT src, dst, kind FROM edges") == [
        {"src": "2", "dst": "1", "kind": "follows"}
    ]


def test_same_raw_twice_is_one_row_other_raw_is_history(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path)
    writer.append_records(sample())
    writer.append_records(sample())  # a re-import of the same answer
    writer.append_records(sample("sha256:bb", T0 + timedelta(days=1)))  # a later observation
    q = LakeQuery(tmp_path)
    assert q.rows("SELECT count(*) AS n FROM posts_all")[0]["n"] == 6
    assert q.rows("SELECT count(*) AS n FROM posts")[0]["n"] == 4
    assert q.rows("SELECT count(*) AS n FROM posts WHERE post_id = 'p1'")[0]["n"] == 2
    result = writer.compact("posts")
    assert result.rows_after == result.rows_before - 2
    assert q.rows("SELECT count(*) AS n FROM posts_all")[0]["n"] == 4


def test_export_posts_by_tag_and_generic_es_bulk(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path / "lake")
    writer.append_records(sample())
    q = LakeQuery(tmp_path / "lake")
    out = tmp_path / "posts.jsonl"
    result = export_table(q, "posts", "jsonl", out, tags=["#Nike"])
    assert result.rows == 1
    assert orjson.loads(out.read_bytes())["post_id"] == "p1"
    bulk = tmp_path / "edges.ndjson"
    result = export_table(q, "edges", "es-bulk", bulk)
    lines = [orjson.loads(line) for line in bulk.read_bytes().splitlines()]
    assert lines[0]["index"]["_index"] == "tagpulse-edges"
    assert lines[0]["index"]["_id"].startswith("instagram:follows:2:1:")
    assert lines[1]["src_handle"] == "fan" and lines[1]["seen_at"] == "2026-11-01T23:30:00Z"
    assert result.extra_files == []
    with pytest.raises(InputError, match="no tags"):
        export_table(q, "profiles", "csv", tmp_path / "p.csv", tags=["nike"])
    counts = tmp_path / "counts.csv"
    assert export_table(q, "tag_counts", "csv", counts, since=T0).rows == 1
    assert export_table(q, "tag_counts", "csv", counts, since=T0 + timedelta(minutes=1)).rows == 0


def test_empty_lake_has_every_view(tmp_path: Path) -> None:
    q = LakeQuery(tmp_path)
    for table in ENTITY_TABLES:
        assert q.rows(f"SELECT count(*) AS n FROM {table}") == [{"n": 0}]
