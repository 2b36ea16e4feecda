"""Raw archive, Parquet tables, compaction, the catalog and DuckDB queries on real files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
import zstandard

from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.raw import RawArchive, content_hash, read_raw_file
from tagpulse.lake.tables import HASHTAG_SNAPSHOTS, LakeWriter
from tagpulse.records import Event, HashtagSnapshot, PostRef, RawEnvelope

T0 = datetime(2026, 11, 1, 22, 0, tzinfo=UTC)


def snap(tag: str, minutes: int, count: int | None, platform: str = "instagram") -> HashtagSnapshot:
    ref = PostRef("1", "abc", "9", "someone", T0, 5, 1, "image", "hi #x 😀", None)
    return HashtagSnapshot(platform, tag, count, [ref], ["y"], T0 + timedelta(minutes=minutes),
                           "acct", "sha256:x")  # fmt: skip


def test_write_partitions_by_platform_and_date(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path)
    snaps = [snap("a", m, 100 + m) for m in range(0, 240, 30)]  # 22:00 .. 01:30 next day
    paths = writer.append_snapshots(snaps)
    assert sorted(p.parent.name for p in paths) == ["date=2026-11-01", "date=2026-11-02"]
    assert all(p.parent.parent.name == "platform=instagram" for p in paths)
    assert not list(tmp_path.rglob(".*.tmp"))
    table = pq.read_table(paths[0])
    assert "platform" not in table.column_names  # lives in the path
    rows = LakeQuery(tmp_path).rows(
        "SELECT tag, post_count, platform, date, top_posts FROM hashtag_snapshots "
        "ORDER BY collected_at"
    )
    assert [r["post_count"] for r in rows] == [100 + m for m in range(0, 240, 30)]
    assert rows[0]["platform"] == "instagram" and str(rows[0]["date"]) == "2026-11-01"
    assert rows[0]["top_posts"][0]["caption"] == "hi #x 😀"


def test_duplicates_hidden_then_compacted(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path)
    snaps = [snap("a", m, m) for m in range(0, 120, 30)]
    writer.append_snapshots(snaps)
    writer.append_snapshots(snaps[:2])  # a slot collected twice (crash before acknowledge)
    query = LakeQuery(tmp_path)
    assert len(query.rows("SELECT * FROM hashtag_snapshots")) == 4
    assert len(query.rows("SELECT * FROM hashtag_snapshots_all")) == 6
    result = writer.compact()
    assert (result.rows_before, result.rows_after) == (6, 4)
    assert result.files_after < result.files_before
    assert len(query.rows("SELECT * FROM hashtag_snapshots_all")) == 4


def test_compact_before_date_leaves_today_alone(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path)
    for m in range(0, 240, 30):
        writer.append_snapshots([snap("a", m, m)])
    result = writer.compact(before_date="2026-11-02")
    base = tmp_path / "tables" / HASHTAG_SNAPSHOTS / "platform=instagram"
    assert len(list((base / "date=2026-11-01").glob("*.parquet"))) == 1
    assert len(list((base / "date=2026-11-02").glob("*.parquet"))) == 4
    assert result.partitions == 1


def test_empty_lake_queries(tmp_path: Path) -> None:
    query = LakeQuery(tmp_path)
    assert query.timeline(["a"], interval_s=3600) == []
    assert query.tag_summary() == []
    assert query.rows("SELECT count(*) AS n FROM hashtag_snapshots") == [{"n": 0}]


def test_timeline_is_max_per_bucket_and_skips_missing_counts(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path)
    writer.append_snapshots(
        [snap("a", 0, 10), snap("a", 20, 30), snap("a", 70, 20), snap("a", 50, None),
         snap("b", 0, 5), snap("a", 65, 40, platform="tiktok")]
    )  # fmt: skip
    points = LakeQuery(tmp_path).timeline(["a"], interval_s=3600, platform="instagram")
    assert [(p.bucket.hour, p.post_count) for p in points] == [(22, 30), (23, 20)]
    since = LakeQuery(tmp_path).timeline(
        ["a", "b"], interval_s=3600, since=T0 + timedelta(minutes=30)
    )
    assert {(p.tag, p.platform, p.post_count) for p in since} == {
        ("a", "instagram", 20),
        ("a", "tiktok", 40),
    }


def test_tag_summary(tmp_path: Path) -> None:
    LakeWriter(tmp_path).append_snapshots(
        [snap("a", 0, 100), snap("a", 720, 160), snap("a", 740, None)]
    )
    (row,) = LakeQuery(tmp_path).tag_summary()
    assert row["first_count"] == 100 and row["last_count"] == 160
    assert row["snapshots"] == 3 and row["counted"] == 2
    assert row["growth_per_day"] == pytest.approx(120.0)


def test_raw_archive_round_trip(tmp_path: Path) -> None:
    bodies = [b'{"a": 1}', "é😀".encode(), b"\xff\xfe binary"]
    envs = [
        RawEnvelope("instagram", "tags/web_info", "http://x/", {"tag_name": "a"}, 200, "acct",
                    T0, body, content_hash(body))
        for body in bodies
    ]  # fmt: skip
    written = RawArchive(tmp_path).write(envs)
    assert set(written) == {e.content_hash for e in envs}
    (path,) = set(written.values())
    assert path.name.endswith(".ndjson.zst") and "date=2026-11-01" in str(path)
    back = list(read_raw_file(path))
    assert [b["body"] for b in back] == bodies
    assert back[0]["params"] == {"tag_name": "a"} and back[0]["account"] == "acct"


def test_catalog_concurrent_connections(tmp_path: Path) -> None:
    a = Catalog(tmp_path / "c.sqlite")
    b = Catalog(tmp_path / "c.sqlite")
    a.ensure_schedule("instagram", "x", 1800)
    a.acknowledge([("instagram", "x", 1800.0, 1850.0, 7, 3600.0)])
    (row,) = b.schedules()
    assert (row.last_slot, row.last_count, row.next_due) == (1800.0, 7, 3600.0)
    b.add_events([Event(T0, "warning", "payload_warning", "m", "instagram", "x")])
    assert a.warning_counts() == {("instagram", "x"): 1}
    mode = a.query("PRAGMA journal_mode")[0][0]
    assert mode == "wal"


def test_unsorted_rows_split_into_the_right_days(tmp_path: Path) -> None:
    snaps = [snap("a", m, m) for m in (200, 0, 150, 30, 119, 121)]
    paths = LakeWriter(tmp_path).append_snapshots(snaps)
    by_day = {p.parent.name: pq.read_table(p)["post_count"].to_pylist() for p in paths}
    assert by_day == {"date=2026-11-01": [0, 30, 119], "date=2026-11-02": [200, 150, 121]}


def test_raw_archive_inline_json_bodies_come_back_exactly(tmp_path: Path) -> None:
    tricky = b'{"t": "\\",\\"body_encoding\\":\\"json\\",\\"body\\":", "e": "\xc3\xa9"}  '
    bodies = [b'{"a": [1, {"b": null}]}', tricky, b'{"pretty":\n 1}', b"[1,2]"]
    envs = [
        RawEnvelope("x", "import:twarc2", 'http://x/?q="a"', {}, 200, None, T0, body,
                    content_hash(body), body_is_json=True)
        for body in bodies
    ]  # fmt: skip
    written = RawArchive(tmp_path).write(envs)
    (path,) = set(written.values())
    back = list(read_raw_file(path))
    assert [b["body"] for b in back] == bodies
    assert [b["body_encoding"] for b in back] == ["json", "json", "utf-8", "json"]
    assert back[1]["url"] == 'http://x/?q="a"'
    # Every archive line is still JSON for other readers, with the body as a JSON value.
    lines = zstandard.ZstdDecompressor().decompress(path.read_bytes(), 1 << 20).splitlines()
    assert orjson.loads(lines[0])["body"] == {"a": [1, {"b": None}]}
    assert orjson.loads(lines[1])["body"]["e"] == "é"
